"""Ratings per outlet and per business: the counters behind them, quick ratings, review-bombing holds, reads.

Everything lives in the ratings table, one item per subject ("outlet#<code>", "business#<bin>") plus short-
lived helper items (hour buckets, per-device and per-address guards, idempotency records). A read is one
GetItem and the pure formula (chalicelib/domain/rating.py), whatever the number of complaints.

Complaints count through their STATE, not their events: each stream record adds "what the complaint
contributes now" minus "what it contributed before", once per record (the ledger marker), so the totals are
right whatever order the records arrive in and however often they are redelivered.

Quick ratings (the QR page, no complaint) go through the same exactly-once `apply_once`, keyed by the
request's Idempotency-Key. Devices and addresses are personal data: only keyed digests (HMAC with the
app's secret, the outlet and the local day mixed in) are stored, in guard items that expire after two days.
The optional comment is validated and then dropped: it is stored nowhere (free text next to a device's
digest invites personal data, and nobody moderates it). Only its digest enters the replay fingerprint.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from chalicelib.domain import codes
from chalicelib.domain import rating as formula
from chalicelib.domain.errors import (
    BusinessNotFound, ConcurrentUpdate, IdempotencyKeyReused, LimitReached, OutletNotFound, ValidationFailed,
    field_error,
)
from chalicelib.domain.model import Complaint, Outlet, Status
from chalicelib.services.ports import Increment

TABLE = "ratings"
DEVICE_LIMIT_PER_DAY = 1       # quick ratings from one device on one outlet per local day
ADDRESS_LIMIT_PER_DAY = 3      # ... from one network address (a family or an office may share one)
GUARD_TTL = timedelta(days=2)  # a guard is only needed for its day; two days covers any time zone edge
IDEMPOTENCY_TTL = timedelta(days=30)  # as long as the reactions ledger keeps the request's marker
ATTEMPTS = 5                   # re-decisions when the outlet's review state moves under a request
# How long a flag holds new quick ratings. The burst's own ratings stay held until an admin releases them;
# ratings after this are published again, so a small bought burst cannot freeze an outlet's genuine
# ratings indefinitely while the review waits. A new burst flags (and holds) again.
HOLD = timedelta(hours=24)
DECISIONS = ("publish", "discard")
UTC = timezone.utc
_CLOSED = frozenset({Status.SETTLED, Status.RESOLVED, Status.REJECTED})


def subject(kind: str, ident: str) -> str:
    if kind not in ("outlet", "business"):
        raise ValueError(f"unknown rating subject {kind!r}")
    return f"{kind}#{ident}"


# --- complaints: contribution by state ----------------------------------------------------------------------
def _counts(complaint: Complaint) -> dict[str, int]:
    response, feedback, resolution = complaint.business_response, complaint.feedback, complaint.resolution
    status = Status(complaint.status)
    decided = status is Status.RESOLVED and resolution is not None and resolution.decision is not None
    return {
        "complaints": 1,
        "stars_sum": feedback.stars if feedback else 0,
        "stars_n": 1 if feedback else 0,
        # judged once answered or once the term ran out unanswered; inside its term it is not judged yet
        "answer_due": int(response is not None or complaint.flags.business_overdue),
        "answered_in_time": int(response is not None and response.at <= complaint.business_due_at),
        "closed": int(status in _CLOSED),
        # only the consumer's own acceptance settles: a case closed any other way is not "solved"
        "settled": int(status is Status.SETTLED),
        "decided": int(decided),
        "upheld": int(decided and resolution.decision == "violation_confirmed"),
    }


def complaint_counts(complaint: Complaint) -> dict[str, int]:
    """The counters one complaint in its current state adds to every subject it counts for (the sector
    items of chalicelib/services/transparency.py use the same)."""
    return _counts(complaint)


def _subjects(complaint: Complaint) -> dict[str, dict]:
    """The subjects a complaint counts for, with the descriptive attributes each item carries."""
    business = {"kind": "business"}
    if complaint.business_registered:
        # a BIN a consumer typed may name no registered business: its name is theirs, not a record
        business.update(name=complaint.business_name, registered=1)
    found = {subject("business", complaint.business_bin): business}
    if complaint.outlet_code:
        found[subject("outlet", complaint.outlet_code)] = {
            "kind": "outlet", "name": complaint.outlet_name, "sector": complaint.sector,
            "business_bin": complaint.business_bin}
    return {key: {k: v for k, v in attrs.items() if v is not None} for key, attrs in found.items()}


def contribution(complaint: Complaint | None) -> dict[str, dict[str, int]]:
    """subject -> counters that this complaint, in this state, adds to it (nothing for no complaint)."""
    if complaint is None:
        return {}
    counts = _counts(complaint)
    return {key: dict(counts) for key in _subjects(complaint)}


def rating_increments(previous: Complaint | None, current: Complaint | None) -> list[Increment]:
    """What one stored change of a complaint moves: contribution(current) - contribution(previous), per subject.

    Zero deltas are left out, and a subject whose counters do not move gets no increment at all (an empty
    list when nothing changed, e.g. a rerouting). Because each record's delta is the difference of two
    states, applying every record once gives the latest state's contribution in any order."""
    before, after = contribution(previous), contribution(current)
    described = {**(_subjects(previous) if previous else {}), **(_subjects(current) if current else {})}
    increments = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, {}), after.get(key, {})
        delta = {name: new.get(name, 0) - old.get(name, 0) for name in sorted(set(old) | set(new))}
        delta = {name: amount for name, amount in delta.items() if amount}
        if delta:
            increments.append(Increment(TABLE, (key,), add=delta, set=described.get(key, {})))
    return increments


def apply_change(envelope, c, marker: str) -> bool | None:
    """The counter reaction to ComplaintChanged. False when the marker says it was applied before."""
    event = envelope.event
    increments = rating_increments(event.previous, event.current)
    if not increments:
        return None
    return c.counters.apply_once(marker, increments, at=c.clock.now())


# --- reads --------------------------------------------------------------------------------------------------
def view(kind: str, ident: str, item: dict | None) -> dict:
    """The public GET shape for a subject's stored counters."""
    subject(kind, ident)
    return {"subject": kind, ("code" if kind == "outlet" else "bin"): ident,
            **formula.evaluate(formula.RatingCounters.from_item(item))}


def rating_for(subject_kind: str, ident: str, *, c, consistent: bool = False) -> dict:
    """One GetItem, whatever the number of complaints and ratings."""
    return view(subject_kind, ident, c.counters.get(TABLE, (subject(subject_kind, ident),), consistent=consistent))


def public_rating(subject_kind: str, ident: str, *, c) -> dict:
    """The rating of a known outlet or business, else OutletNotFound / BusinessNotFound.

    A stored item proves the subject is known (only complaints and quick ratings about registered outlets,
    and complaints about registered businesses, mark an item so), so the usual read is one GetItem; only
    a subject without one costs a look at its registry. Suspended outlets keep their history: a rating is
    a record of what happened, not an invitation to visit."""
    item = c.counters.get(TABLE, (subject(subject_kind, ident),))
    if subject_kind == "outlet":
        if item is None and c.outlets.get(ident) is None:
            raise OutletNotFound("No outlet has this code.")
    elif not (item or {}).get("registered") and c.businesses.get(ident) is None:
        raise BusinessNotFound("No business with this BIN is registered.")
    return view(subject_kind, ident, item)


# --- quick ratings ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuickRating:
    held: bool            # kept out of the published score until an admin reviews the outlet's burst
    rating: dict          # the outlet's rating (the GET shape) with this one counted
    replayed: bool = False


def address_network(source_ip: str) -> str:
    """What counts as "one address" for the limit: an IPv4 address, or an IPv6 /64 (one home or phone line
    gets a whole /64 and can rotate through it at will)."""
    import ipaddress

    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return source_ip.strip()
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _digest(secret: str, namespace: str, *parts: str) -> str:
    return codes.keyed_digest(secret, namespace, "\x00".join(parts)).hex()[:40]


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _hour(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _merge(*parts: dict) -> dict:
    total: dict = {}
    for part in parts:
        for name, amount in part.items():
            total[name] = total.get(name, 0) + amount
    return {name: amount for name, amount in total.items() if amount}


def _applied(item: dict | None, add: dict) -> dict:
    """An item as it is after `add` (what the transaction did), to answer without reading it again."""
    after = dict(item or {})
    for name, amount in add.items():
        after[name] = (after.get(name) or 0) + amount
    return after


def _outlet_attrs(outlet: Outlet) -> dict:
    return {"kind": "outlet", "name": outlet.name, "sector": outlet.sector, "business_bin": outlet.business_bin}


def _business_attrs(outlet: Outlet) -> dict:
    return {"kind": "business", "name": outlet.business_name, "registered": 1}


@dataclass(frozen=True)
class _Plan:
    held: bool
    increments: list[Increment]
    outlet_add: dict


def _plan(outlet: Outlet, stars: int, now: datetime, item: dict, bucket: dict, guards, idempotency) -> _Plan:
    """One quick rating's transaction, decided on the outlet's review state as read (`item`, `bucket`).

    The outlet's `review_version` must still be what was read (it moves on every flag and release), so a
    decision is never applied to a state it was not made for; a flagging also needs this hour's bucket
    unchanged, because it moves the hour's published ratings into the held ones."""
    hour = _hour(now)
    flagged_at = item.get("flagged_at")
    flagged = bool(item.get("flagged")) and bool(flagged_at) and \
        now - datetime.fromisoformat(str(flagged_at)).replace(tzinfo=UTC) < HOLD
    version = int(item.get("review_version") or 0)
    hour_n = int(bucket.get("n") or 0)
    earlier = int(item.get("quick_total") or 0) - int(item.get("quick_discarded") or 0) - hour_n
    hour_start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    earlier_hours = (hour_start - outlet.created_at).total_seconds() / 3600
    # An admin who released this hour's burst has seen it: the same hour does not flag again.
    burst = (not flagged and item.get("released_hour") != hour
             and formula.is_burst(hour_n + 1, earlier, earlier_hours))
    held = flagged or burst
    mine = {"held_sum": stars, "held_n": 1} if held else {"stars_sum": stars, "stars_n": 1, "quick_n": 1}
    outlet_add, business_add = _merge(mine, {"quick_total": 1}), dict(mine)
    outlet_set = _outlet_attrs(outlet)
    bucket_add = {"n": 1} if held else {"n": 1, "pub_n": 1, "pub_sum": stars}
    bucket_below = {}
    if burst:
        pub_n, pub_sum = int(bucket.get("pub_n") or 0), int(bucket.get("pub_sum") or 0)
        move = {"stars_sum": -pub_sum, "stars_n": -pub_n, "quick_n": -pub_n, "held_sum": pub_sum, "held_n": pub_n}
        outlet_add = _merge(outlet_add, move, {"review_version": 1})
        business_add = _merge(business_add, move)
        # No rating may land in this hour between our look and the move (it would stay published). The
        # bucket's own pub_* are left as they are: this hour cannot flag again (the outlet stays flagged
        # until a release, and a release marks its hour as seen).
        bucket_below = {"n": hour_n + 1}
        outlet_set = {**outlet_set, "flagged": 1, "flagged_at": _iso(now)}
    expires = _epoch(now + GUARD_TTL)
    increments = [
        Increment(TABLE, (subject("outlet", outlet.code),), add=outlet_add, set=outlet_set,
                  below={"review_version": version + 1}),
        Increment(TABLE, (subject("business", outlet.business_bin),), add=business_add,
                  set=_business_attrs(outlet)),
        Increment(TABLE, (f"burst#{outlet.code}#{hour}",), add=bucket_add, set={"expires_at": expires},
                  below=bucket_below),
    ]
    increments += [Increment(TABLE, (key,), add={"n": 1}, set={"expires_at": expires}, below={"n": limit})
                   for key, limit in guards]
    if idempotency is not None:
        key, digest = idempotency
        increments.append(Increment(TABLE, (key,), set={
            "held": int(held), "fingerprint": digest, "expires_at": _epoch(now + IDEMPOTENCY_TTL)}))
    return _Plan(held=held, increments=increments, outlet_add=outlet_add)


def _replay(key: str, digest: str, code: str, c) -> QuickRating | None:
    stored = c.counters.get(TABLE, (key,), consistent=True)
    if stored is None:
        return None
    if stored.get("fingerprint") != digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different rating.",
            fields=field_error("Idempotency-Key", "reused", "already used with a different request"))
    return QuickRating(held=bool(stored.get("held")), rating=rating_for("outlet", code, c=c, consistent=True),
                       replayed=True)


def _limit_hit(guards, c) -> bool:
    return any(int((c.counters.get(TABLE, (key,), consistent=True) or {}).get("n") or 0) >= limit
               for key, limit in guards)


def submit_quick_rating(code: str, stars: int, comment: str | None, device_id: str | None, source_ip: str | None,
                        idempotency_key: str | None, *, c) -> QuickRating:
    """Count a quick rating (1-5 stars) of an active outlet, on the outlet and its business, exactly once.

    At most DEVICE_LIMIT_PER_DAY per device and ADDRESS_LIMIT_PER_DAY per address on one outlet per local
    day (LimitReached); the guards' check and add are part of the same transaction as the rating. The same
    Idempotency-Key answers the same again (held or not, and the rating as it is now) without counting twice;
    with another body it is IdempotencyKeyReused. During a review-bombing hold the rating is `held`."""
    if not formula.valid_stars(stars):
        raise ValidationFailed("Some fields are invalid.", fields=field_error("stars", "invalid_stars", "1..5"))
    outlet = c.outlets.get(code)
    if outlet is None or not outlet.active:
        raise OutletNotFound("No active outlet has this code.")
    secret, now = c.settings.secret, c.clock.now()
    # the comment is not kept; its digest only tells a replay from a different request under the same key
    digest = _digest(secret, "quick-fingerprint", code, str(stars), comment or "", device_id or "")
    idempotency = None
    if idempotency_key:
        request = _digest(secret, "quick-idempotency", code, idempotency_key)
        idempotency = (f"idem#{request}", digest)
        marker = f"quick#{request}"
        replay = _replay(idempotency[0], digest, code, c)
        if replay is not None:
            return replay
    else:
        marker = f"quick#{uuid.uuid4().hex}"
    day = now.astimezone(c.rules.tz).date().isoformat()  # the consumer's day, in Kazakhstan's time
    guards = []
    if device_id:
        guards.append((f"guard#{_digest(secret, 'quick-device', code, day, device_id)}", DEVICE_LIMIT_PER_DAY))
    if source_ip:
        network = address_network(source_ip)
        guards.append((f"guard#{_digest(secret, 'quick-address', code, day, network)}", ADDRESS_LIMIT_PER_DAY))
    key = (subject("outlet", code),)
    for _ in range(ATTEMPTS):
        item = c.counters.get(TABLE, key, consistent=True) or {}
        bucket = c.counters.get(TABLE, (f"burst#{code}#{_hour(now)}",), consistent=True) or {}
        plan = _plan(outlet, stars, now, item, bucket, guards, idempotency)
        try:
            applied = c.counters.apply_once(marker, plan.increments, at=now)
        except LimitReached:
            if _limit_hit(guards, c):
                raise LimitReached("Too many ratings of this outlet from one device or address today.") from None
            continue  # the outlet was flagged or released meanwhile: decide again on its new state
        except ConcurrentUpdate:
            continue  # another transaction on the same items at the same moment (a crowd at one outlet)
        if not applied:  # the same key's first request landed between our look and our write
            replay = _replay(idempotency[0], digest, code, c) if idempotency else None
            if replay is not None:
                return replay
            raise ConcurrentUpdate("This rating was already recorded.")
        return QuickRating(held=plan.held, rating=view("outlet", code, _applied(item, plan.outlet_add)))
    raise ConcurrentUpdate("The outlet's ratings changed too often to add this one; please try again.")


def release_held(code: str, decision: str, *, c, by: str | None) -> dict:
    """An admin's review of an outlet's held quick ratings: "publish" moves them into the published counters
    (outlet and business), "discard" drops them; either way the flag is cleared. Exactly once: the release is
    keyed by the outlet's review version, and the held counts must still be what was read."""
    if decision not in DECISIONS:
        raise ValidationFailed("Some fields are invalid.",
                               fields=field_error("decision", "enum", "publish or discard"))
    outlet = c.outlets.get(code)
    if outlet is None:
        raise OutletNotFound("No outlet has this code.")
    key = (subject("outlet", code),)
    for _ in range(ATTEMPTS):
        now = c.clock.now()
        item = c.counters.get(TABLE, key, consistent=True) or {}
        held_n, held_sum = int(item.get("held_n") or 0), int(item.get("held_sum") or 0)
        version = int(item.get("review_version") or 0)
        if not item.get("flagged") and held_n == 0:
            return {"code": code, "decision": decision, "released": 0, "rating": view("outlet", code, item)}
        move = {"held_n": -held_n, "held_sum": -held_sum}
        if decision == "publish":
            move.update(stars_n=held_n, stars_sum=held_sum, quick_n=held_n)
        outlet_add = _merge(move, {"review_version": 1},
                            {"quick_discarded": held_n} if decision == "discard" else {})
        increments = [
            Increment(TABLE, key, add=outlet_add, below={"review_version": version + 1, "held_n": held_n + 1},
                      set={"flagged": 0, "released_hour": _hour(now), "released_at": _iso(now),
                           "released_by": by or "", "release_decision": decision}),
        ]
        if held_n:
            increments.append(Increment(TABLE, (subject("business", outlet.business_bin),), add=_merge(move)))
        try:
            applied = c.counters.apply_once(f"release#{code}#{version}", increments, at=now)
        except (LimitReached, ConcurrentUpdate):
            continue  # a held rating arrived, or another release landed, or a transaction collided: look again
        if not applied:
            continue  # this very state was released by someone else: the next look sees the result
        return {"code": code, "decision": decision, "released": held_n,
                "rating": view("outlet", code, _applied(item, outlet_add))}
    raise ConcurrentUpdate("The outlet's ratings changed too often to release them; please try again.")


__all__ = [
    "TABLE", "DEVICE_LIMIT_PER_DAY", "ADDRESS_LIMIT_PER_DAY", "GUARD_TTL", "DECISIONS", "subject", "contribution",
    "rating_increments", "apply_change", "view", "rating_for", "public_rating", "QuickRating",
    "submit_quick_rating", "release_held",
]
