"""The rating of an outlet or a business, formula version "r1" (docs/ratings.md says the same for readers).

Inputs are counters kept per subject ("outlet#<code>", "business#<bin>") by the stream reaction and by quick
ratings (chalicelib/services/ratings.py); computing a rating is one read and this pure function.

    stars      S = ((PRIOR_STARS * PRIOR_STARS_WEIGHT + stars_sum) / (PRIOR_STARS_WEIGHT + stars_n) - 1) / 4
    answered   A = (answered_in_time + PRIOR_SHARE * PRIOR_SHARE_WEIGHT) / (answer_due + PRIOR_SHARE_WEIGHT)
    settled    T = (settled          + PRIOR_SHARE * PRIOR_SHARE_WEIGHT) / (closed     + PRIOR_SHARE_WEIGHT)
    upheld     U = (upheld           + PRIOR_SHARE * PRIOR_SHARE_WEIGHT) / (decided    + PRIOR_SHARE_WEIGHT)
    score      = 5 * (0.40 * S + 0.20 * A + 0.25 * T + 0.15 * (1 - U)), rounded half up to 1 decimal

- Every component is smoothed towards the middle of its range (a Bayesian prior: 3 stars, a share of 0.5,
  each worth 5 observations), so a subject with no evidence scores 2.5 and one 5-star rating cannot make a
  shop "perfect". Each observation moves the score one way only (tests/unit/test_rating_formula.py).
- `settled` counts only complaints the consumer accepted (status settled); a case closed without the
  consumer's acceptance (resolved by the agency, rejected) is in the denominator, never in the numerator.
  Unrated cases are not counted as solved: that is the flaw of consumidor.gov.br's solution index.
- `answer_due` holds complaints the business answered or let run past its term; a complaint still inside
  its term is not judged yet. `decided` holds complaints the agency resolved with a decision; `upheld` those
  whose decision confirmed a violation (a penalty).
- `count` = complaints + quick ratings: every voice once. A complaint's feedback stars are that same
  consumer on that same case, so they feed the stars average but do not count a second time.
- Nothing is published below MIN_COUNT. Quick ratings held for review (a suspected review-bombing burst)
  are kept apart (`held_*`) and excluded from everything published until an admin releases them; when
  only the held ones would lift a subject to MIN_COUNT the reason is "held_for_review".

Review-bombing: a burst is this hour's quick ratings on one outlet reaching
max(BURST_MIN_PER_HOUR, BURST_FACTOR x the outlet's own average quick ratings per hour before this hour).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

FORMULA_VERSION = "r1"
MIN_COUNT = 10                 # like Reclame Aqui's 10 rated complaints: below it, noise, not a reputation
PRIOR_STARS = 3.0              # the middle of 1..5
PRIOR_STARS_WEIGHT = 5         # the prior counts as five ratings
PRIOR_SHARE = 0.5              # the middle of 0..1
PRIOR_SHARE_WEIGHT = 5         # ... and as five complaints
WEIGHTS = {"stars": 0.40, "answered_in_time": 0.20, "settled": 0.25, "upheld_violations": 0.15}
SCALE = 5

BURST_MIN_PER_HOUR = 10        # a floor: a new or quiet outlet is flagged at 10 quick ratings in one hour
BURST_FACTOR = 5               # "far above its baseline": five times its own average hourly rate


@dataclass(frozen=True)
class RatingCounters:
    """What the ratings table holds for one subject (missing attributes are zero)."""
    complaints: int = 0
    stars_sum: int = 0           # feedback stars and published quick ratings
    stars_n: int = 0
    quick_n: int = 0             # published quick ratings (also in stars_*)
    answer_due: int = 0
    answered_in_time: int = 0
    closed: int = 0
    settled: int = 0
    decided: int = 0
    upheld: int = 0
    held_sum: int = 0            # quick ratings held for review: in no published figure
    held_n: int = 0

    @classmethod
    def from_item(cls, item: Mapping | None) -> "RatingCounters":
        item = item or {}
        return cls(**{f.name: int(item.get(f.name) or 0) for f in fields(cls)})

    @property
    def count(self) -> int:
        return self.complaints + self.quick_n


def _round(value: float, places: str) -> float:
    # Half up on decimal text, after dropping float noise at the 9th place: round(2.25, 1) gives 2.2
    # (banker's rounding), and 2.2499999999999996 from a sum of weights is 2.25 in any honest reading.
    return float(Decimal(f"{value:.9f}").quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _smoothed(hits: int, n: int) -> float:
    return (hits + PRIOR_SHARE * PRIOR_SHARE_WEIGHT) / (n + PRIOR_SHARE_WEIGHT)


def smoothed_components(k: RatingCounters) -> dict[str, float]:
    """Each component on 0..1 after smoothing (upheld_violations as the share NOT upheld: higher is better)."""
    stars = (PRIOR_STARS * PRIOR_STARS_WEIGHT + k.stars_sum) / (PRIOR_STARS_WEIGHT + k.stars_n)
    return {
        "stars": (stars - 1) / 4,
        "answered_in_time": _smoothed(k.answered_in_time, k.answer_due),
        "settled": _smoothed(k.settled, k.closed),
        "upheld_violations": 1 - _smoothed(k.upheld, k.decided),
    }


def raw_score(k: RatingCounters) -> float:
    """The unrounded score on 0..5 (tests compare it to see each observation's direction)."""
    parts = smoothed_components(k)
    value = SCALE * sum(WEIGHTS[name] * parts[name] for name in WEIGHTS)
    return min(SCALE, max(0.0, value))


def score(k: RatingCounters) -> float:
    return _round(raw_score(k), "0.1")


def _share(hits: int, n: int) -> float | None:
    return _round(hits / n, "0.01") if n else None


def evaluate(k: RatingCounters) -> dict:
    """The rating as the API shows it, without the subject's identity (the caller adds it).

    Below MIN_COUNT the score and the observed averages are withheld (counts stay), so a single angry or
    friendly voice cannot be read off the components either.
    """
    published = k.count >= MIN_COUNT
    reason = None
    if not published:
        reason = "held_for_review" if k.count + k.held_n >= MIN_COUNT else "too_few"

    def shown(value):
        return value if published else None

    return {
        "score": score(k) if published else None,
        "count": k.count,
        "published": published,
        "reason": reason,
        "min_count": MIN_COUNT,
        "formula_version": FORMULA_VERSION,
        "held": k.held_n,
        "components": {
            "stars": {"average": shown(_round(k.stars_sum / k.stars_n, "0.1") if k.stars_n else None),
                      "count": k.stars_n},
            "answered_in_time": {"share": shown(_share(k.answered_in_time, k.answer_due)), "count": k.answer_due},
            "settled": {"share": shown(_share(k.settled, k.closed)), "count": k.closed},
            "upheld_violations": {"share": shown(_share(k.upheld, k.decided)), "count": k.decided},
        },
    }


def burst_threshold(earlier_ratings: int, earlier_hours: float) -> int:
    """How many quick ratings in one hour make a burst for an outlet with this history: at least
    BURST_MIN_PER_HOUR, or BURST_FACTOR times its own average per hour (history shorter than an hour
    counts as one hour, so a brand-new outlet's first ratings are not their own baseline)."""
    average = max(0, earlier_ratings) / max(1.0, earlier_hours)
    return max(BURST_MIN_PER_HOUR, math.ceil(BURST_FACTOR * average))


def is_burst(this_hour: int, earlier_ratings: int, earlier_hours: float) -> bool:
    """True when `this_hour` quick ratings (this one included) reach the outlet's burst threshold."""
    return this_hour >= burst_threshold(earlier_ratings, earlier_hours)


def valid_stars(stars) -> bool:
    return isinstance(stars, int) and not isinstance(stars, bool) and 1 <= stars <= 5


__all__ = [
    "FORMULA_VERSION", "MIN_COUNT", "PRIOR_STARS", "PRIOR_STARS_WEIGHT", "PRIOR_SHARE", "PRIOR_SHARE_WEIGHT",
    "WEIGHTS", "BURST_MIN_PER_HOUR", "BURST_FACTOR", "RatingCounters", "smoothed_components", "raw_score",
    "score", "evaluate", "burst_threshold", "is_burst", "valid_stars",
]
