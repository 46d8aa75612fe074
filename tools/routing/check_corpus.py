"""Check a routing corpus file: JSON, ids, agency/category/sector ids, language and style values; print the mix.

    python -m tools.routing.check_corpus data/routing/corpus/a_kzpp.jsonl
"""
import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
cats = {c["id"]: c for c in json.load(open(ROOT / "chalicelib/data/categories.json"))["categories"]}
ags = {a["id"] for a in json.load(open(ROOT / "chalicelib/data/agencies.json"))["agencies"]}
# "unclear": a text that names no problem any body could act on ("всё плохо"); the router should ask.
UNCLEAR = "unclear"
secs = {s["id"] for s in json.load(open(ROOT / "chalicelib/data/sectors.json"))["sectors"]}
LANGS = {"ru", "kk", "kk_ru", "kk_latin", "mixed", "en"}
STYLES = {"plain", "formal", "colloquial", "typos", "short", "sarcasm", "two_problems", "near_miss", "long", "vague"}
KK_ONLY = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
ids, problems = set(), []
lang, style, agency, category = (collections.Counter() for _ in range(4))
texts = set()
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if not line.strip():
        continue
    try:
        r = json.loads(line)
    except ValueError as e:
        problems.append(f"line {n}: not JSON ({e})"); continue
    for k in ("id", "text", "agency", "also_ok", "category", "sector", "secondary", "lang", "style"):
        if k not in r: problems.append(f"line {n}: missing {k}")
    if r.get("id") in ids: problems.append(f"line {n}: duplicate id {r.get('id')}")
    ids.add(r.get("id"))
    t = (r.get("text") or "").strip()
    if not t: problems.append(f"line {n}: empty text")
    if t.lower() in texts: problems.append(f"line {n}: duplicate text")
    texts.add(t.lower())
    if r.get("agency") not in ags | {UNCLEAR}: problems.append(f"line {n}: unknown agency {r.get('agency')}")
    if r.get("agency") == UNCLEAR and (r.get("category") != "other" or r.get("also_ok") or r.get("secondary")):
        problems.append(f"line {n}: an unclear text has category 'other' and no also_ok/secondary")
    for a in (r.get("also_ok") or []) + (r.get("secondary") or []):
        if a not in ags: problems.append(f"line {n}: unknown agency {a} in also_ok/secondary")
    if r.get("category") not in cats: problems.append(f"line {n}: unknown category {r.get('category')}")
    if r.get("sector") is not None and r.get("sector") not in secs: problems.append(f"line {n}: unknown sector {r.get('sector')}")
    if r.get("lang") not in LANGS: problems.append(f"line {n}: lang {r.get('lang')}")
    if r.get("lang") == "kk_ru" and KK_ONLY & set(t): problems.append(f"line {n}: kk_ru text has Kazakh-only letters")
    if r.get("lang") == "kk" and not (KK_ONLY & set(t)) and len(t) > 25: problems.append(f"line {n}: kk text without any Kazakh letter (kk_ru?)")
    st = r.get("style") or []
    if not isinstance(st, list) or not st or set(st) - STYLES: problems.append(f"line {n}: style {st}")
    if "two_problems" in st and not r.get("secondary"): problems.append(f"line {n}: two_problems without secondary")
    lang[r.get("lang")] += 1; agency[r.get("agency")] += 1; category[r.get("category")] += 1
    for s in st: style[s] += 1
total = sum(lang.values())
print(f"{total} texts; problems: {len(problems)}")
for p in problems[:30]: print("  ", p)
print("lang:", {k: f"{v} ({v/total:.0%})" for k, v in lang.most_common()})
print("style:", {k: f"{v} ({v/total:.0%})" for k, v in style.most_common()})
print("agency:", dict(agency.most_common()))
print("category:", dict(category.most_common()))
sys.exit(1 if problems else 0)
