"""The routing rules compile on first use, gated by anchors (tools/routing_anchors.py): same decisions as
compiling every rule up front, for every labelled text we have."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.domain.routing import ANCHORS_PATH, RULES_PATH, load_rules, parse_rules, score_text
from chalicelib.domain.text import normalise
from tools import routing_anchors

REPO = Path(__file__).resolve().parents[2]


def _texts() -> list[str]:
    files = sorted((REPO / "data" / "routing" / "corpus").glob("*.jsonl")) + [
        REPO / "bench" / "data" / "routing_holdout.jsonl"]
    texts = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    assert len(texts) > 500
    return texts


@pytest.fixture(scope="module")
def doc():
    return json.loads(RULES_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def eager(doc):
    return parse_rules(doc)


def test_the_anchors_file_is_current():
    assert ANCHORS_PATH.read_text(encoding="utf-8") == routing_anchors.render(
        json.loads(RULES_PATH.read_text(encoding="utf-8"))), "run: python -m tools.routing_anchors --write"


def test_the_shipped_rules_compile_in_full_and_are_loaded_lazily(doc, eager):
    assert all("pattern" in vars(rule) for rule in eager.rules)  # validated at parse time
    lazy = parse_rules(doc, json.loads(ANCHORS_PATH.read_text(encoding="utf-8")))
    assert [r.id for r in lazy.rules] == [r.id for r in eager.rules]
    assert all(rule.anchors for rule in lazy.rules)
    assert not any("pattern" in vars(rule) for rule in lazy.rules)


def test_no_labelled_text_matches_a_rule_whose_anchors_it_lacks(eager):
    lazy = load_rules()
    by_id = {rule.id: rule for rule in lazy.rules}
    for text in _texts():
        norm = normalise(text)
        for rule in eager.rules:
            if rule.pattern.search(norm):
                assert by_id[rule.id].may_match(norm), (rule.id, text)


def test_scores_are_identical_with_and_without_anchors(eager):
    lazy = load_rules()
    for text in _texts():
        assert score_text(text, lazy) == score_text(text, eager), text


def test_a_text_compiles_only_the_rules_it_may_match(doc):
    rules = parse_rules(doc, json.loads(ANCHORS_PATH.read_text(encoding="utf-8")))
    text = "На кассе пробили сметану два раза, чек показали только после скандала."
    scores = dict(score_text(text, rules))
    assert scores.get("kzpp", 0) > 0
    norm = normalise(text)
    compiled = {rule.id for rule in rules.rules if "pattern" in vars(rule)}
    assert compiled == {rule.id for rule in rules.rules if rule.may_match(norm)}
    assert "kzpp.overcharge" in compiled
    assert len(compiled) < len(rules.rules) / 2


def test_anchors_made_from_other_patterns_are_ignored(doc, eager):
    stale = {"digest": "0" * 64, "rules": {rule.id: ["никогда не встретится"] for rule in eager.rules}}
    rules = parse_rules(doc, stale)
    assert all(rule.anchors is None for rule in rules.rules)
    assert all("pattern" in vars(rule) for rule in rules.rules)
    text = "Продали просроченный кефир, срок годности истёк неделю назад."
    assert score_text(text, rules) == score_text(text, eager) != []


@pytest.mark.parametrize(("patterns", "anchors"), [
    ([r"\bобсчит\w*"], ["обсчит"]),
    ([r"\b(?:дважды|два раза) пробил\w*"], [" пробил"]),           # the longest mandatory literal wins
    ([r"\bчек\w*", r"\bчеки\b"], ["чек"]),                          # "чеки" holds "чек": it adds nothing
    ([r"\bчек\w*", r"\bfiscal receipt\b"], ["fiscal receipt", "чек"]),  # one per alternative
    ([r"(?:касс|кассир)\w* не"], ["касс"]),                          # a longer anchor holding a shorter adds nothing
    ([r"(?:просроч)+"], ["просроч"]),                                # repeated at least once: mandatory
    ([r"\bчек(?: \w+){0,3}"], ["чек"]),
    ([r"(?: \w+){0,3}"], None),                                       # may match without any literal
    ([r"\w+ый"], ["ый"]),
    ([r"[аб]\w*"], None),                                             # a class: no literal to name
    ([r"(?:чек|)\w+"], None),                                         # an empty alternative
    ([r"чек", r"\w+"], None),                                         # one unbounded pattern unbounds the rule
    ([r"(?i:чек)"], None),                                            # a flag changes what a literal matches
])
def test_anchor_analysis(patterns, anchors):
    assert routing_anchors.anchors_for(patterns) == anchors


def test_every_match_of_every_rule_holds_an_anchor(eager):
    """Stronger than the corpus check: each match itself (not just its text) holds an anchor."""
    lazy = {rule.id: rule for rule in load_rules().rules}
    for text in _texts():
        norm = normalise(text)
        for rule in eager.rules:
            for match in rule.pattern.finditer(norm):
                if match.group(0):
                    assert lazy[rule.id].may_match(match.group(0)), (rule.id, match.group(0))
