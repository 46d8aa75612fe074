"""Rating and analytics reads cost the same number of DynamoDB requests at 10 and at 10,000 complaints.

    python -m bench.rating_reads [--sizes 10,10000] [--repeat 5]

For each size, a fresh moto: 10 complaints about ONE outlet go through the real API and their stream records
through the real reactions (`process_records`): settled with stars, or rejected and decided by the agency.
The rest are copies of those 10 (new ids, spread over the last 28 days) whose counter moves, computed by the
same functions the reactions use (`rating_increments`, `analytics_increments`), are summed per item and
written with `apply_once`: the stored counters are what one reaction per complaint would have left, in a few
transactions instead of 40,000 stream records. Then each read runs `--repeat` times through the app and its
requests are counted with botocore `before-call` events.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import json
from datetime import timedelta

from bench import stream_reactions as sr  # sets the bench environment before anything imports the app

REAL = 10  # complaints through the real API and reactions; the rest are copies of these


def shifted(complaint, *, new_id: str, days: int):
    """The same complaint, filed `days` earlier under another id: every timestamp moves together, so
    answer times and deadlines stay what they were."""
    delta = timedelta(days=days)

    def move(value):
        return None if value is None else value - delta

    def moved(obj, *names):
        return None if obj is None else dataclasses.replace(obj, **{n: move(getattr(obj, n)) for n in names})

    return dataclasses.replace(
        complaint, id=new_id, created_at=move(complaint.created_at), updated_at=move(complaint.updated_at),
        business_due_at=move(complaint.business_due_at), agency_due_at=move(complaint.agency_due_at),
        incident_at=move(complaint.incident_at), timeline=tuple(moved(e, "at") for e in complaint.timeline),
        business_response=moved(complaint.business_response, "at"), feedback=moved(complaint.feedback, "at"),
        resolution=moved(complaint.resolution, "at"))


def add_copies(c, templates: list, copies: int) -> int:
    """Counters for `copies` more complaints, summed per item and written with apply_once. Transactions used."""
    from chalicelib.services.analytics import analytics_increments
    from chalicelib.services.ports import Increment
    from chalicelib.services.ratings import rating_increments

    adds: dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)
    sets: dict[tuple, dict] = {}
    for n in range(copies):
        copy = shifted(templates[n % len(templates)], new_id=f"BENCH{n:07d}", days=n % 28)
        for inc in rating_increments(None, copy) + analytics_increments(None, copy):
            adds[(inc.table, inc.key)].update(inc.add)
            sets[(inc.table, inc.key)] = dict(inc.set)
    increments = [Increment(table, key, add=dict(adds[(table, key)]), set=sets[(table, key)])
                  for table, key in sorted(adds)]
    chunks = [increments[i:i + 99] for i in range(0, len(increments), 99)]
    for i, chunk in enumerate(chunks):
        assert c.counters.apply_once(f"bench-copies|{i}", chunk, at=c.clock.now())
    return len(chunks)


def measure(size: int, repeat: int) -> dict:
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib.adapters.tables import create_tables
        from chalicelib.bootstrap import container, use_container

        create_tables()
        sr.provision_messaging()
        use_container(None)
        from local.seed import seed_demo

        c = container()
        demo = seed_demo(c)
        outlet = demo["outlets"][0]
        from app import app

        with Client(app) as client:
            ids = sr.make_complaints(client, demo, min(size, REAL), outlets=[outlet])
            sr.deliver(sr.read_stream(c.settings.table_name("complaints")), c)
            if size > REAL:
                add_copies(c, [c.complaints.get(i) for i in ids], size - REAL)

            from chalicelib.services.analytics import local_day

            today = local_day(c.clock.now())  # the analytics count by Kazakhstan's day, not UTC's
            analyst = {"Authorization": f"Bearer {demo['keys']['analyst']}"}
            month = f"from={today - timedelta(days=27)}&to={today}"
            reads = {
                "GET /ratings/outlets/{code}": (f"/ratings/outlets/{outlet['code']}", {}),
                "GET /ratings/businesses/{bin}": (f"/ratings/businesses/{outlet['business_bin']}", {}),
                "GET /outlets/{code} (card with rating)": (f"/outlets/{outlet['code']}", {}),
                "GET /analytics/summary (28 days, by region,category)": (
                    f"/analytics/summary?{month}&group_by=region,category", analyst),
                "GET /analytics/summary (28 days, by day, one sector)": (
                    f"/analytics/summary?{month}&group_by=day&sector={outlet['sector']}", analyst),
                "GET /analytics/summary (a year, by month)": (
                    f"/analytics/summary?from={today - timedelta(days=364)}&to={today}&group_by=month", analyst),
            }
            counts = collections.Counter()

            def count(event_name, **kwargs):
                counts[event_name.rsplit(".", 1)[-1]] += 1

            from chalicelib.adapters.tables import ALL_TABLES

            for table in ALL_TABLES:
                table._get_connection().connection.client.meta.events.register(
                    "before-call.dynamodb", count, unique_id=f"reads-{table.__name__}")
            results = {}
            for name, (path, headers) in reads.items():
                body = None
                counts.clear()
                for _ in range(repeat):
                    response = client.http.get(path, headers=headers)
                    assert response.status_code == 200, (name, response.status_code, response.body[:300])
                    body = json.loads(response.body)
                results[name] = ({op: n / repeat for op, n in counts.items()}, body)
            for table in ALL_TABLES:
                table._get_connection().connection.client.meta.events.unregister(
                    "before-call.dynamodb", unique_id=f"reads-{table.__name__}")
        return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,10000", help="complaints about one outlet (default 10,10000)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    measured = {size: measure(size, args.repeat) for size in sizes}
    print(f"DynamoDB requests per read (mean of {args.repeat}), one outlet with {' vs '.join(map(str, sizes))} "
          "complaints; moto in-process")
    names = list(measured[sizes[0]])
    for name in names:
        cells = []
        for size in sizes:
            ops, body = measured[size][name]
            total = sum(ops.values())
            what = (f"rating count {body['count']}" if "count" in body else
                    f"rating count {body['rating']['count']}" if "rating" in body else
                    f"{body['totals']['count']} complaints in {len(body['groups'])} groups")
            cells.append(f"{total:g} ({', '.join(f'{op} {n:g}' for op, n in sorted(ops.items()))}; {what})")
        same = len({sum(measured[s][name][0].values()) for s in sizes}) == 1
        print(f"  {name}\n    " + "\n    ".join(f"{size:>6}: {cell}" for size, cell in zip(sizes, cells))
              + f"\n    {'same number of requests' if same else 'DIFFERENT number of requests'}")
    print("The GetItem of an analytics read is the caller's API key; its Queries depend on the date range (months "
          "touched), never on the number of complaints.")


if __name__ == "__main__":
    main()
