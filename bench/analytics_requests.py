"""DynamoDB requests of the analytics console's reads at 1,000 and at 100,000 complaints in the counters.

    python -m bench.analytics_requests [--small 1000] [--large 100000] [--combinations 1000]

The real app (chalice.test.Client) on moto; every botocore `before-call.dynamodb.*` event is one request.
The counters are written as the stream reactions leave them (analytics_increments and district_increments of
each complaint, summed per item) straight into moto's table, so a hundred thousand complaints take seconds.

The complaints are spread over a fixed set of `--combinations` (day × region × category/sector × kind), the
same at both volumes: what a read costs depends on how many counter items the range holds (the distinct
combinations: one item each, and 1 MB pages of them), never on how many complaints those items count. The
second table says how the cost grows when the combinations themselves grow, which is what a busier country
does until every combination is in use.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
from dataclasses import replace
from datetime import datetime, timezone

os.environ.update({
    "QALQAN_SECRET": "bench-secret-bench-secret-bench-secret", "AWS_REGION": "eu-central-1",
    "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POWERTOOLS_TRACE_DISABLED": "true", "LOG_LEVEL": "WARNING",
    "TABLE_PREFIX": "qalqan-bench", "QUEUE_SETTLE_SECONDS": "0",
})
os.environ.pop("AWS_ENDPOINT_URL", None)

PAIRS = (("overcharge", "grocery"), ("price_tag", "grocery"), ("expired_food", "grocery"), ("no_receipt", "taxi"),
         ("warranty", "electronics"), ("medicines", "pharmacy"), ("unsanitary", "food_service"),
         ("order_not_delivered", "online"), ("telecom", "telecom"), ("utilities", "utilities"))
READS = {
    "summary: November by region": "/analytics/summary?from=2026-11-01&to=2026-11-30&group_by=region",
    "summary: November by week, all dimensions": "/analytics/summary?from=2026-11-01&to=2026-11-30"
                                                "&group_by=week,region,agency,category,sector",
    "summary: 15 Oct - 30 Nov by category": "/analytics/summary?from=2026-10-15&to=2026-11-30&group_by=category",
    "hotspots: last 14 days, region x sector": "/analytics/hotspots?from=2026-11-17&to=2026-11-30&level=region",
    "hotspots: last 14 days, outlets": "/analytics/hotspots?from=2026-11-17&to=2026-11-30&level=outlet",
    "areas: November per region": "/analytics/areas?from=2026-11-01&to=2026-11-30",
}


class Counter:
    def __init__(self) -> None:
        self.calls = collections.Counter()

    def __call__(self, event_name, **kwargs):
        self.calls[event_name.rsplit(".", 1)[-1]] += 1

    def take(self) -> dict:
        calls, self.calls = self.calls, collections.Counter()
        return dict(calls)


def _combination(i: int, combinations: int):
    """The i-th of `combinations` (day and month of Sept..Nov, region, category/sector pair, kind)."""
    k = i % combinations
    return 1 + k % 28, 9 + k // 28 % 3, k // 84 % 20, k // 1680 % len(PAIRS), k // 16800 % 2


def write_counters(c, n: int, combinations: int, outlets: list) -> int:
    """n complaints' counters, summed per item as the reactions' transactions would have left them."""
    from chalicelib.domain.complaint import file_complaint
    from chalicelib.domain.routing import RoutingDecision
    from chalicelib.services.analytics import analytics_increments, district_increments
    from local.moto_patches import put_items

    regions = sorted(c.catalog.regions)
    summed: dict[tuple, dict] = {}
    base_cache: dict[tuple, object] = {}
    for i in range(n):
        day, month, region_index, pair, kind = _combination(i, combinations)
        region = regions[region_index]
        category, sector = PAIRS[pair]
        key = (region, category, sector, kind)
        base = base_cache.get(key)
        if base is None:
            outlet = next((o for o in outlets if o.region == region and o.sector == sector), None)
            agency = c.catalog.categories[category].default_agency or "kzpp"
            base, _ = file_complaint(
                complaint_id="bench", now=datetime(2026, 11, 1, 6, tzinfo=timezone.utc), rules=c.rules,
                routing=RoutingDecision(agency_id=agency, method="category", confidence=1.0, version="bench",
                                        explanation="bench", matched=()),
                identified=kind == 0, channel="qr", language="ru", text_language="ru", text="bench",
                category=category, sector=sector, region=region, business_bin="940140000385",
                business_name="bench", business_registered=True, outlet_code=outlet.code if outlet else None,
                outlet_name=None, outlet_address=None, contact_ref=None, share_contact_with_business=False,
                incident_at=None, fingerprint="bench")
            base_cache[key] = (base, outlet)
        base, outlet = base_cache[key]
        at = datetime(2026, month, day, 6, tzinfo=timezone.utc)
        complaint = replace(base, id=f"b{i}", created_at=at, updated_at=at, version=1)
        for inc in analytics_increments(None, complaint) + district_increments(complaint, outlet.kato if outlet else None):
            item = summed.setdefault(inc.key, {"pk": inc.key[0], "sk": inc.key[1], **inc.set})
            for name, amount in inc.add.items():
                item[name] = item.get(name, 0) + amount
    put_items(c.settings.table_name("analytics"))(list(summed.values()))
    return len(summed)


def measure(n: int, combinations: int) -> dict:
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib.adapters.tables import ALL_TABLES, create_tables
        from chalicelib.bootstrap import container
        from local.seed import history_outlets, seed_demo

        create_tables()
        c = container()
        demo = seed_demo(c)
        outlets = history_outlets(c)
        items = write_counters(c, n, combinations, outlets)
        counter = Counter()
        for table in ALL_TABLES:
            table._get_connection().connection.client.meta.events.register(
                "before-call.dynamodb", counter, unique_id=f"bench-{table.__name__}-{id(counter)}")
        from app import app

        headers = {"Authorization": f"Bearer {demo['keys']['analyst']}"}
        result = {"complaints": n, "combinations": combinations, "counter_items": items, "reads": {}}
        with Client(app) as client:
            client.http.get(next(iter(READS.values())), headers=headers)  # warm: the catalogue, the clients
            counter.take()
            for name, path in READS.items():
                response = client.http.get(path, headers=headers)
                assert response.status_code == 200, response.body
                result["reads"][name] = counter.take()
                if name.startswith("summary: November by region"):
                    result["counted"] = json.loads(response.body)["totals"]["count"]
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--combinations", type=int, default=1000)
    args = parser.parse_args()
    small = measure(args.small, args.combinations)
    large = measure(args.large, args.combinations)
    print(f"DynamoDB requests per read (GetItem is the API key), {args.combinations} combinations in the counters")
    print(f"{'read':48} {args.small:>10,} {args.large:>10,}")
    for name in READS:
        a, b = small["reads"][name], large["reads"][name]
        fmt = lambda d: "+".join(f"{v} {k}" for k, v in sorted(d.items()))
        print(f"{name:48} {fmt(a):>24} {fmt(b):>24} {'same' if a == b else 'DIFFERENT'}")
    print(f"counter items: {small['counter_items']} and {large['counter_items']}; "
          f"complaints counted in November: {small.get('counted')} and {large.get('counted')}")
    grown = measure(args.large, args.combinations * 10)
    print(f"\nthe same {args.large:,} complaints over {args.combinations * 10:,} combinations "
          f"({grown['counter_items']} counter items):")
    for name in READS:
        print(f"{name:48} " + "+".join(f"{v} {k}" for k, v in sorted(grown["reads"][name].items())))


if __name__ == "__main__":
    main()
