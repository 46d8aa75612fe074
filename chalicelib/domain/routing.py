"""Which state body handles a complaint: the first-version router (pure Python, deterministic).

Order of evidence:
1. A known category (other than "other") chosen by the consumer: the category x sector table decides
   (method "category"). The text rules are still evaluated; if they point strongly at a different agency
   the table's agency is kept (the consumer chose the category) but the confidence drops and the
   explanation says so.
2. No category, "other" or an unknown one: the phrase rules in `chalicelib/data/routing_rules.json`
   decide (method "rules"); confidence comes from the margin between the best and the second-best agency.
3. No rule matched: the outlet sector's default agency when it is not kzpp (method "sector"),
   otherwise kzpp with a low confidence (method "default").

Rules are data: each has an id, an agency, a weight, regex patterns written against
`text.normalise(text)` and optionally `requires` patterns that must also match somewhere in the text.
An agency's score is the sum of the weights of its rules that fired; a rule that matches more than once
counts 1.5 times its weight.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from chalicelib.domain.catalog import Catalog
from chalicelib.domain.text import normalise

__all__ = ["RoutingDecision", "RuleSet", "Rule", "load_rules", "route", "score_text", "RULES_PATH"]

RULES_PATH = Path(__file__).resolve().parent.parent / "data" / "routing_rules.json"

DEFAULT_AGENCY = "kzpp"
OTHER_CATEGORY = "other"

CONF_CATEGORY = 0.9           # the consumer chose a category; the table answers
CONF_CATEGORY_AGREES = 0.95   # ... and the text rules point to the same agency
CONF_CATEGORY_CONFLICT = 0.6  # ... but the text rules point strongly elsewhere
CONF_SECTOR = 0.5
CONF_DEFAULT = 0.2
CONFLICT_MIN_SCORE = 4.0      # a "strong" text signal: at least one full-weight rule
REPEAT_FACTOR = 1.5           # a rule matching more than once
_MAX_SNIPPETS = 5
_SNIPPET_CHARS = 32

# Letters that normalise() never produces: a pattern containing one can never match.
_UNFOLDED = re.compile(r"[A-ZА-ЯЁәғқңөұүһіё]")


@dataclass(frozen=True)
class RoutingDecision:
    agency_id: str
    method: str        # "category" | "rules" | "sector" | "default"
    confidence: float  # 0.0..1.0, rounded to 2 decimals
    version: str       # routing-rules version + catalogue version
    explanation: str   # short English audit text
    matched: tuple[str, ...]  # ids of the rules that fired

    def to_dict(self) -> dict:
        return {
            "agency": self.agency_id,
            "method": self.method,
            "confidence": self.confidence,
            "version": self.version,
            "explanation": self.explanation,
            "matched": list(self.matched),
        }


@dataclass(frozen=True)
class Rule:
    id: str
    agency: str
    weight: float
    lang: tuple[str, ...]
    pattern: re.Pattern
    requires: tuple[re.Pattern, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]

    @property
    def agencies(self) -> frozenset[str]:
        return frozenset(r.agency for r in self.rules)


@dataclass(frozen=True)
class _Hit:
    rule: Rule
    snippets: tuple[str, ...]

    @property
    def score(self) -> float:
        return self.rule.weight * (REPEAT_FACTOR if len(self.snippets) > 1 else 1.0)


def _compile(rule_id: str, patterns: list[str]) -> re.Pattern:
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ValueError(f"routing rule {rule_id!r} needs non-empty string patterns")
    for p in patterns:
        if _UNFOLDED.search(re.sub(r"\\.", "", p)):
            raise ValueError(f"routing rule {rule_id!r}: pattern {p!r} is not in the normalised alphabet")
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error as exc:
        raise ValueError(f"routing rule {rule_id!r}: bad pattern: {exc}") from exc


def parse_rules(doc: Mapping) -> RuleSet:
    """Validate and compile a routing-rules document (the JSON in chalicelib/data)."""
    version = str(doc.get("version") or "")
    if not version:
        raise ValueError("routing rules have no version")
    seen: set[str] = set()
    rules = []
    for raw in doc.get("rules", []):
        rule_id = raw["id"]
        if rule_id in seen:
            raise ValueError(f"duplicate routing rule id {rule_id!r}")
        seen.add(rule_id)
        weight = float(raw["weight"])
        if weight <= 0:
            raise ValueError(f"routing rule {rule_id!r} needs a positive weight")
        rules.append(Rule(
            id=rule_id, agency=raw["agency"], weight=weight, lang=tuple(raw.get("lang", ())),
            pattern=_compile(rule_id, raw["patterns"]),
            requires=tuple(_compile(rule_id, [p]) for p in raw.get("requires", ())),
        ))
    return RuleSet(version=version, rules=tuple(rules))


@lru_cache(maxsize=1)
def load_rules() -> RuleSet:
    """The routing rules shipped with the code, compiled once per process."""
    with open(RULES_PATH, encoding="utf-8") as fh:
        return parse_rules(json.load(fh))


def _hits(text: str, rules: RuleSet) -> list[_Hit]:
    norm = normalise(text)
    hits = []
    if not norm:
        return hits
    for rule in rules.rules:
        snippets = tuple(m.group(0).strip() for m in rule.pattern.finditer(norm) if m.group(0).strip())
        if snippets and all(req.search(norm) for req in rule.requires):
            hits.append(_Hit(rule, snippets))
    return hits


def _scores(hits: list[_Hit]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for hit in hits:
        scores[hit.rule.agency] = scores.get(hit.rule.agency, 0.0) + hit.score
    return scores


def _ranked(scores: Mapping[str, float], hits: list[_Hit]) -> list[tuple[str, float]]:
    """Agencies by score; ties go to the one with the heavier single rule, then to a specialised body over kzpp."""
    heaviest = {}
    for hit in hits:
        heaviest[hit.rule.agency] = max(heaviest.get(hit.rule.agency, 0.0), hit.rule.weight)
    return sorted(scores.items(), key=lambda kv: (-kv[1], -heaviest[kv[0]], kv[0] == DEFAULT_AGENCY, kv[0]))


def score_text(text: str, rules: RuleSet | None = None) -> list[tuple[str, float]]:
    """Agencies and their rule scores for a text, best first (for benches and debugging)."""
    hits = _hits(text, rules or load_rules())
    return _ranked(_scores(hits), hits)


def _describe(hits: list[_Hit], agency: str | None = None) -> str:
    chosen = [h for h in hits if agency is None or h.rule.agency == agency]
    chosen.sort(key=lambda h: (-h.score, h.rule.id))
    parts = []
    for hit in chosen[:_MAX_SNIPPETS]:
        distinct = list(dict.fromkeys(s[:_SNIPPET_CHARS] for s in hit.snippets))[:2]
        count = f" x{len(hit.snippets)}" if len(hit.snippets) > 1 else ""
        parts.append(" / ".join(f"'{s}'" for s in distinct) + f" ({hit.rule.agency}){count}")
    if len(chosen) > _MAX_SNIPPETS:
        parts.append(f"+{len(chosen) - _MAX_SNIPPETS} more")
    return ", ".join(parts)


def _rules_confidence(best: float, second: float) -> float:
    """From the margin between the best and the second agency, and from how much evidence there is."""
    margin = (best - second) / best if best > 0 else 0.0
    strength = min(1.0, best / 8.0)
    return min(0.95, max(0.35, 0.3 + 0.35 * margin + 0.3 * strength))


def route(*, text: str, category: str | None = None, sector: str | None = None, catalog: Catalog,
          rules: RuleSet) -> RoutingDecision:
    """Decide which agency handles a complaint with the given rule set; every decision says how and why."""
    version = f"rules:{rules.version};catalog:{catalog.version}"
    hits = [h for h in _hits(text or "", rules) if h.rule.agency in catalog.agencies]
    ranked = _ranked(_scores(hits), hits)
    matched = tuple(h.rule.id for h in sorted(hits, key=lambda h: (-h.score, h.rule.id)))

    def decision(agency: str, method: str, confidence: float, explanation: str) -> RoutingDecision:
        return RoutingDecision(agency_id=agency, method=method, confidence=round(confidence, 2),
                               version=version, explanation=explanation, matched=matched)

    cat = catalog.categories.get(category) if category and category != OTHER_CATEGORY else None
    table_agency = cat.agency_for(sector) if cat else None
    if cat and table_agency:
        override = bool(sector) and sector in cat.sector_agency
        explanation = f"category '{cat.id}' -> {table_agency}"
        if override:
            explanation += f" (sector '{sector}' override)"
        scores = dict(ranked)
        if ranked:
            top_agency, top_score = ranked[0]
            if top_agency == table_agency:
                return decision(table_agency, "category", CONF_CATEGORY_AGREES,
                                f"{explanation}; text agrees: {_describe(hits, table_agency)}")
            if top_score >= CONFLICT_MIN_SCORE and scores.get(table_agency, 0.0) <= top_score / 2:
                return decision(table_agency, "category", CONF_CATEGORY_CONFLICT,
                                f"{explanation}; kept the consumer's category although the text points to "
                                f"{top_agency}: {_describe(hits, top_agency)}")
        return decision(table_agency, "category", CONF_CATEGORY, explanation)

    if ranked:
        best_agency, best = ranked[0]
        second_agency, second = ranked[1] if len(ranked) > 1 else (None, 0.0)
        explanation = f"rules: {_describe(hits)}; {best_agency} {best:g}"
        if second_agency:
            explanation += f" vs {second_agency} {second:g}"
        return decision(best_agency, "rules", _rules_confidence(best, second), explanation)

    sector_obj = catalog.sectors.get(sector) if sector else None
    if sector_obj and sector_obj.default_agency != DEFAULT_AGENCY and sector_obj.default_agency in catalog.agencies:
        return decision(sector_obj.default_agency, "sector", CONF_SECTOR,
                        f"no rule matched; sector '{sector_obj.id}' default -> {sector_obj.default_agency}")
    return decision(DEFAULT_AGENCY, "default", CONF_DEFAULT, f"no rule matched; default -> {DEFAULT_AGENCY}")
