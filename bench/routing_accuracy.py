"""Routing accuracy and speed, rules vs classifier vs policy: `python -m bench.routing_accuracy` (make route-eval).

One run, three labelled sets:
  (a) the corpus's held-out split (data/routing/corpus, split as tools/train_router.py does; never trained on);
  (b) the dev set, <repo>/../shared/routing/dev_set.jsonl (QALQAN_DEV_SET names another file; a development
      check, never trained on);
  (c) bench/data/routing_holdout.jsonl (24 texts written after the first rules).
and three routers, all given the text only (no category, no sector):
  rules       the rule-only router (`routing.route_rules`, today's phrase rules);
  classifier  the classifier alone (argmax of `classifier.load_model().predict(normalise(text))`);
  policy      `routing.route(..., model=load_model())`: rules x classifier (x sector prior), triage when unsure.
On (a) the policy is also run with the outlet's sector the text implies ("policy+sector"), as from a sticker,
and with the consumer's category and sector ("policy+category"); on (b) with the dev set's category mapped
onto the catalogue.

Accuracy counts the label or any also_ok ("lenient"); a triage decision counts as what it stores: KZPP.
"Asked" is the share of decisions with needs_category (method "triage" when sent anyway). A text is
CLEAR-CUT when its also_ok is empty and its style has none of near_miss, two_problems, sarcasm; the target is
under 1% of clear-cut texts asked.

Threshold rule for the classifier (printed under the reliability curve): the lowest t in 0.30..0.95 (steps of
0.05) at which the held-out answers with confidence >= t are right at least 97% of the time; coverage is the
share of texts at or above t. The same curve is printed for the policy's confidence (its posterior).

Speed: the median time per text of each router, as a ratio to json.loads of that text's request body (a
POST /complaints body as the form sends it), measured in this run; the classifier's first pass starts with
an empty word cache (cold) and the second is warm. Cold start: a fresh interpreter that has already imported
the routing module imports the classifier, loads the model and predicts once; median of 5, with bytecode
compiled afresh as in Lambda (read-only /var/task, no cached .pyc).
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from chalicelib.domain import routing
from chalicelib.domain import text as text_module
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.classifier import load_model
from chalicelib.domain.text import normalise
from tools.train_router import Example, load_corpus, pick_threshold, reliability, split

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DEV_SET = REPO.parent / "shared/routing/dev_set.jsonl"
HOLDOUT_PATH = REPO / "bench/data/routing_holdout.jsonl"
HARD_STYLES = {"near_miss", "two_problems", "sarcasm", "vague"}
UNCLEAR = "unclear"  # corpus texts that name no actionable problem: right when the router asks (or says unclear)

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


class Item:
    """One labelled text of any of the three sets."""

    def __init__(self, row: dict, category: str | None = None, sector: str | None = None):
        self.id, self.text, self.agency = row["id"], row["text"], row["agency"]
        self.also_ok = tuple(row.get("also_ok") or ())
        self.lang = row.get("lang", "?")
        self.style = tuple(row.get("style") or ())
        self.category, self.sector = category, sector

    def ok(self, agency: str) -> bool:
        return agency == self.agency or agency in self.also_ok

    def right(self, ans: "Answer") -> bool:
        """An unclear text is answered right by asking (the policy) or by saying "unclear" (the classifier);
        any other text by its label or an also_ok agency (a triage decision counts as the KZPP it stores)."""
        if self.agency == UNCLEAR:
            return ans.asked or ans.agency == UNCLEAR
        return self.ok(ans.agency)

    @property
    def clear_cut(self) -> bool:
        return self.agency != UNCLEAR and not self.also_ok and not (HARD_STYLES & set(self.style))


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def corpus_heldout() -> list[Item]:
    _, held = split(load_corpus())
    by_id = {}
    for path in sorted((REPO / "data/routing/corpus").glob("*.jsonl")):
        for line in open(path, encoding="utf-8"):
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                by_id[row["id"]] = row
    return [Item(by_id[ex.id], category=by_id[ex.id].get("category"), sector=by_id[ex.id].get("sector"))
            for ex in held]


def dev_items(path: Path) -> list[Item]:
    return [Item(row, category=DEV_TO_CATALOGUE.get(row.get("category", ""))) for row in _read_jsonl(path)]


# --- routers ---------------------------------------------------------------------------------------

class Answer:
    __slots__ = ("agency", "confidence", "asked", "method", "best")

    def __init__(self, agency: str, confidence: float, asked: bool = False, method: str = "", best: str = ""):
        # best: the agency the evidence pointed to (for a triage decision, its suggestion)
        self.agency, self.confidence, self.asked, self.method, self.best = agency, confidence, asked, method, best or agency


def _rules_router(catalog, rules):
    route_rules = getattr(routing, "route_rules", None) or routing.route

    def run(item: Item, *, category=None, sector=None) -> Answer:
        d = route_rules(text=item.text, category=category, sector=sector, catalog=catalog, rules=rules)
        return Answer(d.agency_id, d.confidence, method=d.method)
    return run


def _classifier_router(model):
    def run(item: Item, *, category=None, sector=None) -> Answer:
        p = model.predict(normalise(item.text))
        return Answer(p.top[0][0], p.top[0][1], method="model")
    return run


def _policy_router(catalog, rules, model):
    """The policy, when routing.route takes a model (the rule-only route otherwise: then None)."""
    if "model" not in inspect.signature(routing.route).parameters:
        return None

    def run(item: Item, *, category=None, sector=None) -> Answer:
        d = routing.route(text=item.text, category=category, sector=sector, catalog=catalog, rules=rules,
                          model=model)
        asked = bool(getattr(d, "needs_category", False)) or d.method == "triage"
        return Answer(d.agency_id, d.confidence, asked=asked, method=d.method,
                      best=getattr(d, "suggested", None) or d.agency_id)
    return run


# --- reporting -------------------------------------------------------------------------------------

def _pct(num: int, den: int) -> str:
    return f"{num}/{den} = {num / den:.3f}" if den else "n/a"


def _acc(pairs) -> tuple[int, int]:
    pairs = list(pairs)
    return sum(item.right(ans) for item, ans in pairs), len(pairs)


def report_router(name: str, items: list[Item], answers: list[Answer], out, *, confusion: bool = True) -> dict:
    pairs = list(zip(items, answers))
    ok, n = _acc(pairs)
    asked = sum(a.asked for a in answers)
    clear = [(i, a) for i, a in pairs if i.clear_cut]
    clear_asked = sum(a.asked for _, a in clear)
    line = f"  {name:16s} {_pct(ok, n):18s}"
    if any(a.asked for a in answers) or name.startswith("policy"):
        line += f"  asked/triage {_pct(asked, n)}  (clear-cut {_pct(clear_asked, len(clear))})"
    print(line, file=out)
    by_lang: dict[str, list] = defaultdict(list)
    by_agency: dict[str, list] = defaultdict(list)
    for item, ans in pairs:
        by_lang[item.lang].append((item, ans))
        by_agency[item.agency].append((item, ans))
    print("      lang:   " + "  ".join(f"{k} {ok_ / n_:.3f} ({n_})" for k, g in sorted(by_lang.items())
                                       for ok_, n_ in [_acc(g)]), file=out)
    print("      agency: " + "  ".join(f"{k} {ok_ / n_:.3f} ({n_})" for k, g in sorted(by_agency.items())
                                       for ok_, n_ in [_acc(g)]), file=out)
    if confusion:
        print_confusion(pairs, out)
    return {"acc": ok / n if n else None, "n": n, "asked": asked / n if n else None,
            "clear_asked": clear_asked / len(clear) if clear else None,
            "lang": {k: _acc(g)[0] / len(g) for k, g in by_lang.items()}}


def print_confusion(pairs, out) -> None:
    """Expected agency (rows) x answer (columns); '.' is zero; a lenient hit under another label counts as
    the label ('ok' column shows lenient hits)."""
    got = Counter()
    labels = sorted({i.agency for i, _ in pairs} | {a.agency for _, a in pairs})
    for item, ans in pairs:
        got[(item.agency, item.agency if item.right(ans) else ans.agency)] += 1
    short = {a: a[:6] for a in labels}
    print("      confusion (rows expected, columns answered; also_ok hits on the diagonal):", file=out)
    print("      " + " " * 11 + "".join(f"{short[a]:>7s}" for a in labels), file=out)
    for exp in labels:
        row = [got[(exp, a)] for a in labels]
        if sum(row):
            print(f"      {exp:11s}" + "".join(f"{(str(c) if c else '.'):>7s}" for c in row), file=out)


def print_curve(title: str, items: list[Item], answers: list[Answer], out) -> dict:
    rows = [(_AsExample(i), a.best, a.confidence) for i, a in zip(items, answers)]
    print(f"  reliability of {title} (confidence bin: accuracy, count):", file=out)
    for b in reliability(rows):
        if b["n"]:
            print(f"    [{b['lo']:.2f}, {b['hi']:.2f}): {b['acc']:.3f}  n={b['n']}", file=out)
    choice = pick_threshold(rows)
    curve = "  ".join(f"{c['t']:.2f}:{'n/a' if c['acc'] is None else format(c['acc'], '.3f')}/{c['coverage']:.0%}"
                      for c in choice["curve"])
    print(f"    t: accuracy of answers >= t / coverage: {curve}", file=out)
    if choice["threshold"] is None:
        print(f"    no threshold reaches {choice['target']} here", file=out)
    else:
        print(f"    threshold: {choice['threshold']:.2f} (accuracy {choice['acc']:.3f} on "
              f"{choice['coverage']:.1%} of texts; the rest would be asked)", file=out)
    return choice


def print_ask_tradeoff(items: list[Item], base: list[Answer], with_category: list[Answer], out) -> None:
    """If the policy asked below t and the consumer then chose the text's category: share asked, accuracy."""
    print("  asking below t (policy+sector), the asked ones then routed with their category "
          "(t: asked share / accuracy; clear-cut asked share):", file=out)
    parts = []
    for t in (0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9):
        asked = [b.confidence < t for b in base]
        right = sum((a or b.asked) if i.agency == UNCLEAR else i.ok(c.agency if a else b.best)
                    for i, b, c, a in zip(items, base, with_category, asked))
        clear = [a for i, a in zip(items, asked) if i.clear_cut]
        parts.append(f"{t:.2f}: {sum(asked) / len(items):.1%} / {right / len(items):.3f}; "
                     f"{sum(clear) / max(1, len(clear)):.1%}")
    for k in range(0, len(parts), 4):
        print("    " + "   ".join(parts[k:k + 4]), file=out)


class _AsExample:
    """An Item in the shape tools.train_router's reliability helpers read (.ok)."""

    def __init__(self, item: Item):
        self.ok = item.ok


def list_misses(name: str, items: list[Item], answers: list[Answer], out) -> None:
    misses = [(i, a) for i, a in zip(items, answers) if not i.ok(a.agency)]
    print(f"  misses of {name}: {len(misses)}", file=out)
    for item, ans in misses:
        extra = f" (suggested {ans.best})" if ans.best != ans.agency else ""
        print(f"    {item.id} [{item.lang}] expected {item.agency}"
              f"{' (also ' + '/'.join(item.also_ok) + ')' if item.also_ok else ''} got {ans.agency}{extra}"
              f" {ans.method} {ans.confidence:.2f}: {item.text[:110]}", file=out)


# --- speed -----------------------------------------------------------------------------------------

def _body(item: Item) -> bytes:
    """A POST /complaints body as the form sends it (UTF-8, not ASCII-escaped)."""
    return json.dumps({"outlet_code": "QK7M2P9X", "category": None, "text": item.text, "language": "ru",
                       "channel": "qr", "contact": {"phone": "+77010000000"},
                       "share_contact_with_business": False}, ensure_ascii=False).encode("utf-8")


def _median_us(fn, args) -> float:
    times = []
    for a in args:
        started = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def speed(items: list[Item], routers: dict, model, out) -> dict:
    bodies = [_body(i) for i in items]
    json_us = _median_us(json.loads, bodies)
    norms = [normalise(i.text) for i in items]
    model._words.clear()
    cold = _median_us(model.predict, norms)
    warm = _median_us(model.predict, norms)
    print(f"  json.loads of the request body: median {json_us:.1f} us (bodies of {statistics.median(map(len, bodies)):.0f} "
          f"bytes)", file=out)
    print(f"  classifier.predict (normalised text): median {cold:.1f} us cold word cache = {cold / json_us:.0f}x "
          f"json.loads; warm {warm:.1f} us = {warm / json_us:.0f}x", file=out)
    figures = {"json_us": json_us, "classifier_cold_us": cold, "classifier_warm_us": warm}
    for name, run in routers.items():
        # normalise() memoises its last 2048 texts: cleared so that every router pays for it once.
        text_module._analyse.cache_clear()
        model._words.clear()
        us = _median_us(run, items)
        figures[name] = us
        print(f"  {name} (raw text, normalise included): median {us:.1f} us = {us / json_us:.0f}x json.loads", file=out)
    return figures


_COLD_SNIPPET = """
import time
import chalicelib.domain.routing
from chalicelib.domain.text import normalise
norm = normalise("Кассир чек бермеді, сказала касса сломалась, обсчитали на 500 тенге")
started = time.perf_counter()
from chalicelib.domain.classifier import load_model
imported = time.perf_counter()
model = load_model()
loaded = time.perf_counter()
model.predict(norm)
done = time.perf_counter()
print((imported - started) * 1e3, (loaded - imported) * 1e3, (done - loaded) * 1e3)
"""


def cold_start(out, runs: int = 5) -> dict:
    results = []
    with tempfile.TemporaryDirectory() as cache:
        for _ in range(runs):
            for old in Path(cache).iterdir():
                subprocess.run(["rm", "-rf", str(old)], check=True)
            env = {**os.environ, "PYTHONPYCACHEPREFIX": cache, "PYTHONDONTWRITEBYTECODE": "1"}
            proc = subprocess.run([sys.executable, "-c", _COLD_SNIPPET], cwd=REPO, env=env, capture_output=True,
                                  text=True, check=True)
            results.append([float(v) for v in proc.stdout.split()])
    imp, load, first = (statistics.median(col) for col in zip(*results))
    size = sum(p.stat().st_size for p in (REPO / "chalicelib/data").glob("router_model*"))
    print(f"  cold start added by the classifier (fresh interpreter, routing already imported, median of {runs}): "
          f"import {imp:.1f} ms + load {load:.1f} ms + first prediction {first:.2f} ms = {imp + load + first:.1f} ms; "
          f"model file {size / 1024:.0f} KiB", file=out)
    return {"import_ms": imp, "load_ms": load, "first_ms": first, "total_ms": imp + load + first, "bytes": size}


# --- main ------------------------------------------------------------------------------------------

def evaluate_set(title: str, items: list[Item], routers: dict, out, *, extra: dict | None = None,
                 misses: bool = False, curves: bool = False) -> dict:
    print(f"\n== {title}: {len(items)} texts, text only (label or also_ok) ==", file=out)
    results, answers = {}, {}
    for name, run in routers.items():
        answers[name] = [run(i) for i in items]
        results[name] = report_router(name, items, answers[name], out)
    for name, (run, kwargs_of) in (extra or {}).items():
        ans = [run(i, **kwargs_of(i)) for i in items]
        answers[name] = ans
        results[name] = report_router(name, items, ans, out, confusion=False)
    if curves:
        results["classifier_threshold"] = print_curve("the classifier", items, answers["classifier"], out)
        if "policy" in answers:
            results["policy_threshold"] = print_curve("the policy (posterior, before triage)", items,
                                                      answers["policy"], out)
        if "policy+sector" in answers and "policy+category" in answers:
            print_ask_tradeoff(items, answers["policy+sector"], answers["policy+category"], out)
    if misses:
        list_misses("policy" if "policy" in answers else "classifier", items,
                    answers.get("policy") or answers["classifier"], out)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_accuracy", description=__doc__.split("\n")[0])
    parser.add_argument("--misses", action="store_true", help="list the policy's misses on each set")
    parser.add_argument("--no-speed", action="store_true", help="accuracy only")
    args = parser.parse_args(argv)
    out = sys.stdout
    catalog, rules, model = load_catalog(), routing.load_rules(), load_model()
    routers = {"rules": _rules_router(catalog, rules), "classifier": _classifier_router(model)}
    policy = _policy_router(catalog, rules, model)
    if policy:
        routers["policy"] = policy
    print(f"routing accuracy: rules {rules.version}, model {model.version} ({model.n_features} features, "
          f"trained {model.meta.get('at', '?')}), catalogue {catalog.version}; "
          f"policy {'routing.route(model=...)' if policy else 'not available (route takes no model)'}")

    held = corpus_heldout()
    extra = {}
    if policy:
        extra = {"policy+sector": (policy, lambda i: {"sector": i.sector}),
                 "policy+category": (policy, lambda i: {"sector": i.sector, "category": i.category})}
    evaluate_set("(a) corpus held-out split", held, routers, out, extra=extra, misses=args.misses, curves=True)

    dev_path = Path(os.environ.get("QALQAN_DEV_SET") or DEFAULT_DEV_SET)
    if dev_path.exists():
        dev = dev_items(dev_path)
        dev_extra = {"policy+category": (policy, lambda i: {"category": i.category})} if policy else {}
        evaluate_set(f"(b) dev set {dev_path}", dev, routers, out, extra=dev_extra, misses=args.misses)
    else:
        print(f"\n== (b) dev set not found at {dev_path} (QALQAN_DEV_SET names it) ==", file=out)
    evaluate_set(f"(c) {HOLDOUT_PATH.relative_to(REPO)}", [Item(r) for r in _read_jsonl(HOLDOUT_PATH)], routers,
                 out, misses=args.misses)

    if not args.no_speed:
        print("\n== speed (corpus held-out texts) ==", file=out)
        speed(held, {name: routers[name] for name in ("rules", "policy") if name in routers}, model, out)
        cold_start(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
