"""Routing accuracy on the labelled dev set: `python -m bench.routing_accuracy [path]`.

Routes every text with no category (text only, the hard case) and prints strict accuracy (== agency) and
lenient accuracy (agency or one of also_ok), per language, a per-agency confusion summary and every miss.
A second line routes with the dev set's category mapped onto our catalogue where the mapping is obvious.
The dev-set path defaults to <repo>/../shared/routing/dev_set.jsonl; QALQAN_DEV_SET overrides it.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.routing import load_rules, route

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared/routing/dev_set.jsonl"

# Dev-set categories -> catalogue categories, where the mapping is obvious.
DEV_TO_CATALOGUE = {
    "overcharge_at_checkout": "overcharge",
    "price_tag_mismatch": "price_tag",
    "warranty_repair_refusal": "warranty",
    "return_refusal_14_days": "return_refusal",
    "no_fiscal_receipt": "no_receipt",
    "no_fiscal_receipt_taxi": "no_receipt",
    "card_payment_refused_no_receipt": "card_refused",
    "alcohol_without_excise_stamp": "excise_marking",
    "short_weight_scales": "short_weight",
    "fuel_dispenser_short_fill": "short_weight",
    "unsafe_product_no_conformity_mark": "unsafe_product",
    "expired_food_relabeled": "expired_food",
    "spoiled_food_relabeled": "expired_food",
    "expired_food_refund_refused": "expired_food",
    "unsanitary_food_outlet": "unsanitary",
    "food_poisoning": "food_poisoning",
    "alcohol_tobacco_sale_to_minors": "sale_to_minors",
    "tobacco_vape_sale_to_minors": "sale_to_minors",
    "online_prepayment_fraud": "fraud",
    "assault_by_staff": "violence_threats",
    "imposed_insurance_with_loan": "financial_services",
    "mfo_collection_harassment": "financial_services",
    "insurance_claim_delay": "financial_services",
    "double_card_charge": "financial_services",
    "price_collusion": "price_collusion",
    "socially_significant_food_price": "social_food_price",
    "unauthorized_street_trade": "street_trade",
    "intercity_bus_violation": "passenger_transport",
    "illegal_passenger_carrier": "passenger_transport",
    "telecom_service_quality": "telecom",
    "service_damage_dry_cleaning": "poor_service",
    "prepaid_order_not_delivered": "order_not_delivered",
}


def _pct(num: int, den: int) -> str:
    return f"{num}/{den} = {100.0 * num / den:.1f}%" if den else "n/a"


def _load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(items: list[dict], *, with_category: bool = False) -> list[dict]:
    """Route each item; returns one result row per item."""
    catalog, rules = load_catalog(), load_rules()
    rows = []
    for item in items:
        category = DEV_TO_CATALOGUE.get(item.get("category", "")) if with_category else None
        decision = route(text=item["text"], category=category, catalog=catalog, rules=rules)
        ok = {item["agency"], *item.get("also_ok", [])}
        rows.append({
            "id": item["id"], "lang": item.get("lang", "?"), "expected": item["agency"], "also_ok": item.get("also_ok", []),
            "got": decision.agency_id, "method": decision.method, "confidence": decision.confidence,
            "explanation": decision.explanation, "category": category,
            "strict": decision.agency_id == item["agency"], "lenient": decision.agency_id in ok,
        })
    return rows


def report(rows: list[dict], out=sys.stdout) -> None:
    n = len(rows)
    strict = sum(r["strict"] for r in rows)
    lenient = sum(r["lenient"] for r in rows)
    print(f"text only: strict {_pct(strict, n)}  lenient {_pct(lenient, n)}", file=out)
    by_lang: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_lang[r["lang"]].append(r)
    for lang in sorted(by_lang):
        group = by_lang[lang]
        print(f"  {lang:6s} strict {_pct(sum(r['strict'] for r in group), len(group)):18s}"
              f"  lenient {_pct(sum(r['lenient'] for r in group), len(group))}", file=out)

    print("per agency (expected -> got, lenient hits / items):", file=out)
    confusion: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        confusion[r["expected"]][r["got"]] += 1
    for agency in sorted(confusion):
        group = [r for r in rows if r["expected"] == agency]
        got = ", ".join(f"{a}:{c}" for a, c in sorted(confusion[agency].items(), key=lambda kv: (-kv[1], kv[0])))
        print(f"  {agency:11s} {sum(r['lenient'] for r in group)}/{len(group)}   got {got}", file=out)

    misses = [r for r in rows if not r["strict"]]
    print(f"misses (strict; '+' = accepted by also_ok): {len(misses)}", file=out)
    for r in misses:
        mark = "+" if r["lenient"] else "-"
        print(f"  {mark} {r['id']} [{r['lang']}] expected {r['expected']}"
              f"{' (also ' + '/'.join(r['also_ok']) + ')' if r['also_ok'] else ''} got {r['got']}"
              f" ({r['method']} {r['confidence']}): {r['explanation']}", file=out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else Path(os.environ.get("QALQAN_DEV_SET") or DEFAULT_PATH)
    if not path.exists():
        print(f"dev set not found: {path}", file=sys.stderr)
        return 0
    items = _load(path)
    print(f"routing accuracy on {path} ({len(items)} items), rules {load_rules().version}, "
          f"catalogue {load_catalog().version}")
    started = time.perf_counter()
    rows = evaluate(items)
    elapsed_ms = (time.perf_counter() - started) * 1000
    report(rows)

    with_cat = evaluate(items, with_category=True)
    mapped = sum(1 for r in with_cat if r["category"])
    print(f"with category ({mapped}/{len(items)} mapped to the catalogue): "
          f"strict {_pct(sum(r['strict'] for r in with_cat), len(with_cat))}  "
          f"lenient {_pct(sum(r['lenient'] for r in with_cat), len(with_cat))}")
    for r in with_cat:
        if not r["lenient"]:
            print(f"  - {r['id']} category {r['category']} expected {r['expected']} got {r['got']}: {r['explanation']}")
    print(f"speed: {elapsed_ms / max(1, len(items)):.2f} ms per text-only decision (first pass, includes rule compilation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
