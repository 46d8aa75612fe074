"""The routing rules' anchors: `python -m tools.routing_anchors [--write]`.

For each rule of chalicelib/data/routing_rules.json, a few literal strings of which every match of the rule's
patterns contains at least one. A text that holds none of them cannot match the rule, so the router
(chalicelib/domain/routing.py) compiles a rule's regular expression only when the text holds one of its
anchors: a cold POST /complaints compiled all 45 rules (~25 ms of CPU) to use the few a text can touch.

The anchors are derived from the parsed patterns (re's own parser), never written by hand, and only where the
derivation is certain: a pattern the analysis cannot bound (an optional-only alternative, a flag, a character
class where a letter is needed) leaves its rule without anchors, and such a rule is always compiled. The file
records a digest of the patterns it was made from; the router ignores anchors whose digest does not match the
rules it loaded (compiling every rule, as before), and tests/unit/test_routing_anchors.py fails until the file
is regenerated. Writes chalicelib/data/routing_anchors.json with --write; without it, checks that file is current.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from re import _constants as C
from re import _parser

from chalicelib.domain.routing import ANCHORS_PATH, RULES_PATH, patterns_digest, rule_source

_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    """The most selective of several sets any of which bounds the match: the longest shortest anchor, then
    the fewest anchors."""
    if not candidates:
        return None
    return max(candidates, key=lambda s: (min(len(a) for a in s), -len(s)))


def _sequence(items) -> frozenset[str] | None:
    """Anchors of a sequence: every part of it is in the match, so any one mandatory part's anchors do."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def close_run():
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        if op is C.AT:  # \b, ^, $: zero-width, the literals around it are adjacent in the match
            continue
        close_run()
        part = _node(op, av)
        if part is not None:
            candidates.append(part)
    close_run()
    return _best(candidates)


def _node(op, av) -> frozenset[str] | None:
    if op is C.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:  # (?i:...) and the like would change what a literal matches
            return None
        return _sequence(sub)
    if op is C.BRANCH:
        _, alternatives = av
        union: set[str] = set()
        for alternative in alternatives:
            part = _sequence(alternative)
            if part is None:  # one alternative can match without any anchor: the whole can
                return None
            union |= part
        return frozenset(union)
    if op in _REPEATS:
        low, _high, item = av
        return _sequence(item) if low >= 1 else None
    return None  # a class, \w, a back-reference, a look-around: bounds nothing we can name


def anchors_for(patterns: list[str]) -> list[str] | None:
    """Strings of which every match of the rule's expression holds one, or None if that cannot be said."""
    found = _sequence(_parser.parse(rule_source(patterns)))
    if found is None or not all(found):
        return None
    # A longer anchor that contains a shorter one adds nothing to the test "holds at least one".
    kept = sorted(a for a in found if not any(b != a and b in a for b in found))
    return kept


def build(doc: dict) -> dict:
    return {
        "digest": patterns_digest(doc),
        "rules": {raw["id"]: anchors_for(raw["patterns"]) for raw in doc.get("rules", [])},
    }


def render(doc: dict) -> str:
    return json.dumps(build(doc), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {ANCHORS_PATH.name}")
    args = parser.parse_args(argv)
    text = render(json.loads(Path(RULES_PATH).read_text(encoding="utf-8")))
    if args.write:
        Path(ANCHORS_PATH).write_text(text, encoding="utf-8")
        rules = json.loads(text)["rules"]
        print(f"wrote {ANCHORS_PATH}: {sum(v is not None for v in rules.values())} of {len(rules)} rules anchored")
        return 0
    current = Path(ANCHORS_PATH).exists() and Path(ANCHORS_PATH).read_text(encoding="utf-8") == text
    print(f"{ANCHORS_PATH.name} is {'current' if current else 'stale: run python -m tools.routing_anchors --write'}")
    return 0 if current else 1


if __name__ == "__main__":
    sys.exit(main())
