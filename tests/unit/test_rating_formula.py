"""The rating formula r1 (chalicelib/domain/rating.py, docs/ratings.md): known answers worked out by hand from
the documented formula, the smoothing, the minimum count, held ratings, and the direction of every input."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest

from chalicelib.domain import rating as r
from chalicelib.domain.rating import RatingCounters

# 20 complaints, all answered in time, all closed (15 settled by the consumer), 5 decided by the agency
# (2 upheld), 15 with feedback stars summing to 60.
BUSY = RatingCounters(complaints=20, answer_due=20, answered_in_time=20, closed=20, settled=15, decided=5,
                      upheld=2, stars_sum=60, stars_n=15)


def test_the_documented_constants():
    assert (r.FORMULA_VERSION, r.MIN_COUNT, r.PRIOR_STARS, r.PRIOR_STARS_WEIGHT) == ("r1", 10, 3.0, 5)
    assert (r.PRIOR_SHARE, r.PRIOR_SHARE_WEIGHT, r.BURST_MIN_PER_HOUR, r.BURST_FACTOR) == (0.5, 5, 10, 5)
    assert r.WEIGHTS == {"stars": 0.40, "answered_in_time": 0.20, "settled": 0.25, "upheld_violations": 0.15}


def test_no_evidence_scores_the_middle_of_the_scale():
    assert r.raw_score(RatingCounters()) == pytest.approx(2.5)


def test_known_answer_for_a_busy_business():
    # S = ((3*5 + 60)/(5 + 15) - 1)/4 = 0.6875   A = (20 + 2.5)/25 = 0.9   T = (15 + 2.5)/25 = 0.7
    # U = (2 + 2.5)/10 = 0.45                    5 * (0.4*0.6875 + 0.2*0.9 + 0.25*0.7 + 0.15*0.55) = 3.5625
    assert r.raw_score(BUSY) == pytest.approx(3.5625)
    assert r.evaluate(BUSY) == {
        "score": 3.6, "count": 20, "published": True, "reason": None, "min_count": 10, "formula_version": "r1",
        "held": 0,
        "components": {"stars": {"average": 4.0, "count": 15},
                       "answered_in_time": {"share": 1.0, "count": 20},
                       "settled": {"share": 0.75, "count": 20},
                       "upheld_violations": {"share": 0.4, "count": 5}},
    }


def test_ten_five_star_quick_ratings_are_smoothed_not_perfect():
    # S = ((15 + 50)/15 - 1)/4 = 0.8333: 5 * (0.4*0.8333 + 0.3) = 3.1667 -> 3.2
    ten_fives = RatingCounters(stars_sum=50, stars_n=10, quick_n=10)
    assert r.raw_score(ten_fives) == pytest.approx(3.1666667)
    assert r.evaluate(ten_fives)["score"] == 3.2
    assert r.evaluate(ten_fives)["components"]["stars"] == {"average": 5.0, "count": 10}


def test_one_five_star_rating_moves_the_stars_a_sixth_of_the_way():
    # with a prior worth 5 ratings at 3.0, one 5 gives (15 + 5)/6 = 3.33 stars, not 5
    assert r.smoothed_components(RatingCounters(stars_sum=5, stars_n=1))["stars"] == pytest.approx((20 / 6 - 1) / 4)


def test_the_score_rounds_half_up():
    # five 2-star ratings: S = ((15 + 10)/10 - 1)/4 = 0.375 -> 5 * (0.4*0.375 + 0.3) = 2.25 exactly
    two_stars = RatingCounters(stars_sum=10, stars_n=5, quick_n=5)
    assert r.raw_score(two_stars) == pytest.approx(2.25)
    assert r.score(two_stars) == 2.3  # round() would give 2.2


def test_a_perfect_record_approaches_five_and_a_terrible_one_approaches_zero():
    n = 100_000
    perfect = RatingCounters(complaints=n, stars_sum=5 * n, stars_n=n, answer_due=n, answered_in_time=n, closed=n,
                             settled=n, decided=n, upheld=0)
    terrible = RatingCounters(complaints=n, stars_sum=n, stars_n=n, answer_due=n, answered_in_time=0, closed=n,
                              settled=0, decided=n, upheld=n)
    assert r.score(perfect) == 5.0
    assert r.score(terrible) == 0.0


@pytest.mark.parametrize("count, published", [(9, False), (10, True)])
def test_nothing_is_published_below_the_minimum_count(count, published):
    k = RatingCounters(complaints=count - 4, quick_n=4, stars_sum=20, stars_n=4)
    shown = r.evaluate(k)
    assert (shown["published"], shown["count"]) == (published, count)
    if published:
        assert shown["score"] is not None and shown["reason"] is None
        assert shown["components"]["stars"]["average"] == 5.0
    else:
        assert shown["score"] is None and shown["reason"] == "too_few"
        # nor can a single voice be read off the components; their counts stay
        assert shown["components"]["stars"] == {"average": None, "count": 4}


def test_feedback_stars_do_not_count_a_complaint_twice():
    # 6 complaints, all with feedback stars: 6 voices, not 12
    k = RatingCounters(complaints=6, stars_sum=30, stars_n=6)
    assert r.evaluate(k)["count"] == 6
    assert r.evaluate(k)["published"] is False


def test_an_unrated_closed_case_is_not_counted_as_settled():
    # 10 closed complaints, 4 settled with the consumer's acceptance, 6 closed otherwise
    k = RatingCounters(complaints=10, closed=10, settled=4)
    assert r.evaluate(k)["components"]["settled"] == {"share": 0.4, "count": 10}
    assert r.smoothed_components(k)["settled"] == pytest.approx((4 + 2.5) / 15)


def test_held_ratings_are_out_of_the_published_score():
    published = replace(BUSY, stars_sum=BUSY.stars_sum + 45, stars_n=BUSY.stars_n + 9, quick_n=9)
    bombed = replace(published, held_sum=30, held_n=30)  # thirty 1-star ratings held for review
    assert r.evaluate(bombed)["score"] == r.evaluate(published)["score"]
    assert r.evaluate(bombed)["count"] == 29
    assert r.evaluate(bombed)["held"] == 30
    assert r.evaluate(bombed)["components"] == r.evaluate(published)["components"]


def test_held_for_review_only_when_the_held_ones_alone_keep_it_unpublished():
    assert r.evaluate(RatingCounters(complaints=4, held_n=6, held_sum=6))["reason"] == "held_for_review"
    assert r.evaluate(RatingCounters(complaints=4, held_n=5, held_sum=5))["reason"] == "too_few"
    enough = r.evaluate(RatingCounters(complaints=10, held_n=5, held_sum=5))
    assert (enough["published"], enough["reason"], enough["held"]) == (True, None, 5)


def _random_counters(rng: random.Random) -> RatingCounters:
    complaints = rng.randint(0, 60)
    answer_due = rng.randint(0, complaints)
    closed = rng.randint(0, complaints)
    decided = rng.randint(0, closed)
    stars_n = rng.randint(0, 80)
    return RatingCounters(complaints=complaints, stars_n=stars_n, stars_sum=rng.randint(stars_n, 5 * stars_n),
                          quick_n=rng.randint(0, stars_n), answer_due=answer_due,
                          answered_in_time=rng.randint(0, answer_due), closed=closed,
                          settled=rng.randint(0, closed - decided), decided=decided, upheld=rng.randint(0, decided))


def _add(k: RatingCounters, **delta) -> RatingCounters:
    return replace(k, **{name: getattr(k, name) + amount for name, amount in delta.items()})


# Each observation, and the direction it must move the score (strictly: smoothing keeps every term alive).
EFFECTS = {
    "a five-star rating": (dict(stars_sum=5, stars_n=1, quick_n=1), +1),
    "a one-star rating": (dict(stars_sum=1, stars_n=1, quick_n=1), -1),
    "an answer in time": (dict(answer_due=1, answered_in_time=1), +1),
    "a late or missing answer": (dict(answer_due=1), -1),
    "a settlement the consumer accepted": (dict(closed=1, settled=1), +1),
    "a case closed without acceptance": (dict(closed=1), -1),
    "an upheld violation": (dict(closed=1, decided=1, upheld=1), -1),
}


@pytest.mark.parametrize("what", list(EFFECTS))
def test_every_input_moves_the_score_one_way_only(what):
    delta, direction = EFFECTS[what]
    rng = random.Random(what)
    for _ in range(300):
        k = _random_counters(rng)
        change = r.raw_score(_add(k, **delta)) - r.raw_score(k)
        assert change * direction > 0, (what, k)


def test_a_held_rating_moves_nothing_published():
    rng = random.Random(11)
    for _ in range(100):
        k = _random_counters(rng)
        assert r.raw_score(_add(k, held_sum=1, held_n=1)) == r.raw_score(k)


def test_the_score_stays_on_the_scale():
    rng = random.Random(5)
    for _ in range(500):
        value = r.score(_random_counters(rng))
        assert 0.0 <= value <= 5.0 and round(value, 1) == value


@pytest.mark.parametrize("earlier, hours, threshold", [
    (0, 0, 10),          # a new outlet: the floor
    (24, 48, 10),        # half a rating an hour: 5x is 2.5, the floor wins
    (1000, 100, 50),     # ten an hour: fifty in one hour is a burst
    (1001, 100, 51),     # 5 x 10.01 = 50.05, rounded up
    (-3, 10, 10),        # more discarded than counted (a burst discarded this hour): no negative baseline
    (3, 0.2, 15),        # three in the outlet's first 12 minutes: measured over an hour, not as 15 an hour
    (3, -0.5, 15),       # an outlet registered during this hour: no negative or zero history
])
def test_burst_threshold(earlier, hours, threshold):
    assert r.burst_threshold(earlier, hours) == threshold
    assert r.is_burst(threshold, earlier, hours) is True
    assert r.is_burst(threshold - 1, earlier, hours) is False


@pytest.mark.parametrize("stars, ok", [(1, True), (5, True), (0, False), (6, False), (True, False), (4.0, False),
                                       ("5", False)])
def test_valid_stars(stars, ok):
    assert r.valid_stars(stars) is ok
