"""A complaint's lifecycle: the allowed transitions, the commands that cause them, and the events they produce.

Every change of a complaint goes through `transition()`, which returns the new complaint and the events it
produced; the services store the complaint with one optimistic-locked save. The stream reactions (the next
release) hang off the same events, so nothing here needs to change for them.

    routed ──respond──▶ business_responded ──accept──▶ settled
      │  ▲                   │      reject_offer ▲ (back to routed)
      │  └───────────────────┘
      ├──take──▶ in_review ──resolve──▶ resolved
      └──reject (from any open status)──▶ rejected;  reroute (from any open status) ──▶ routed at another agency
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.calendar import DeadlineRules
from chalicelib.domain.errors import Conflict, ValidationFailed, field_error
from chalicelib.domain.model import (
    CONSUMER, DECISIONS, OFFERS, SYSTEM, Actor, BusinessResponse, Complaint, Feedback, Flags, Resolution, Status,
    TimelineEntry,
)

# Reports of crimes are considered even when anonymous; every other anonymous complaint is a signal.
CRIME_AGENCIES = frozenset({"police"})

R, BR, IR = Status.ROUTED, Status.BUSINESS_RESPONDED, Status.IN_REVIEW
# action -> {from status: to status}. Anything not in this table is an invalid transition (409).
TRANSITIONS: dict[str, dict[Status, Status]] = {
    "respond": {R: BR, IR: IR},                      # the seller answers once; under review the status stays
    "accept": {R: Status.SETTLED, BR: Status.SETTLED, IR: Status.SETTLED},
    "reject_offer": {R: R, BR: R, IR: IR},           # the agency carries on
    "take": {R: IR, BR: IR},
    "resolve": {IR: Status.RESOLVED},
    "reject": {R: Status.REJECTED, BR: Status.REJECTED, IR: Status.REJECTED},
    "reroute": {R: R, BR: R, IR: R},                 # the new agency starts from its own queue
    "mark_overdue": {R: R, BR: BR, IR: IR},
}


class InvalidTransition(Conflict):
    code = "invalid_transition"


class FeedbackAlreadyGiven(Conflict):
    code = "feedback_already_given"


def kind_for(*, identified: bool, agency_id: str) -> str:
    """A formal appeal needs a named complainant who can be answered, except for crimes (police)."""
    return "appeal" if identified or agency_id in CRIME_AGENCIES else "signal"


def file_complaint(*, complaint_id: str, now: datetime, rules: DeadlineRules, routing, identified: bool,
                   **facts) -> tuple[Complaint, tuple["Event", ...]]:
    """A new complaint, routed: its kind, its legal terms and its first timeline entries.

    Anonymous complaints are signals (analytics, monitoring), not formal appeals with a legal term, except
    reports of crimes, which the police consider even when anonymous. The seller answers within the
    calendar-day term; the agency decides an appeal within the working-day term. `facts` are the rest of
    the complaint's fields (text, seller, outlet, channel, ...).
    """
    kind = kind_for(identified=identified, agency_id=routing.agency_id)
    complaint = Complaint(
        id=complaint_id, created_at=now, updated_at=now, status=R, kind=kind, identified=identified,
        routing=routing, agency_id=routing.agency_id,
        secondary_agencies=tuple(a for a in routing.secondary if a != routing.agency_id), business_due_at=rules.business_due(now),
        agency_due_at=rules.agency_due(now) if kind == "appeal" else None,
        timeline=(
            TimelineEntry(at=now, type="submitted", actor=str(CONSUMER)),
            TimelineEntry(at=now, type="routed", actor=str(SYSTEM), agency_id=routing.agency_id,
                          note=f"{routing.method} {routing.confidence:.2f}", to_status=R.value),
        ),
        **facts,
    )
    return complaint, (ComplaintSubmitted(complaint_id, now, routing.agency_id),
                       ComplaintRouted(complaint_id, now, routing.agency_id))


# --- commands ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Respond:
    message: str
    offer: str


@dataclass(frozen=True)
class GiveFeedback:
    accepted: bool
    stars: int
    comment: str | None = None


@dataclass(frozen=True)
class TakeInReview:
    pass


@dataclass(frozen=True)
class Resolve:
    decision: str
    result: str


@dataclass(frozen=True)
class Reject:
    reason: str


@dataclass(frozen=True)
class Reroute:
    agency_id: str
    reason: str


@dataclass(frozen=True)
class MarkOverdue:
    as_of: datetime


# --- events (past tense; what the stream reactions will subscribe to) ---------------------------------------
@dataclass(frozen=True)
class Event:
    complaint_id: str
    at: datetime


@dataclass(frozen=True)
class ComplaintSubmitted(Event):
    agency_id: str


@dataclass(frozen=True)
class ComplaintRouted(Event):
    agency_id: str


@dataclass(frozen=True)
class BusinessResponded(Event):
    offer: str


@dataclass(frozen=True)
class ConsumerAccepted(Event):
    stars: int


@dataclass(frozen=True)
class ComplaintSettled(Event):
    pass


@dataclass(frozen=True)
class ConsumerRejected(Event):
    stars: int


@dataclass(frozen=True)
class ComplaintTakenInReview(Event):
    agency_id: str


@dataclass(frozen=True)
class ComplaintResolved(Event):
    decision: str


@dataclass(frozen=True)
class ComplaintRejected(Event):
    pass


@dataclass(frozen=True)
class ComplaintRerouted(Event):
    from_agency: str
    to_agency: str


@dataclass(frozen=True)
class DeadlineMissed(Event):
    party: str  # "business" | "agency"


@dataclass(frozen=True)
class ComplaintChanged(Event):
    """One stored change of a complaint, whatever it was: the state before (None for a new one) and after.
    State-based reactions (ratings, analytics counters) subtract the old state's contribution and add the new."""
    previous: Complaint | None
    current: Complaint


# timeline entry type -> how to rebuild the event that `transition` produced with it
def _from_entry(entry: TimelineEntry, complaint: Complaint, agency_before: str) -> tuple[Event, ...]:
    cid, at, kind = complaint.id, entry.at, entry.type
    if kind == "submitted":
        routed = next((e.agency_id for e in complaint.timeline if e.type == "routed"), complaint.agency_id)
        return (ComplaintSubmitted(cid, at, routed or complaint.agency_id),)
    if kind == "routed":
        return (ComplaintRouted(cid, at, entry.agency_id or complaint.agency_id),)
    if kind == "business_responded":
        return (BusinessResponded(cid, at, entry.note or ""),)
    if kind in ("offer_accepted", "offer_rejected"):
        stars = complaint.feedback.stars if complaint.feedback else 0
        if kind == "offer_accepted":
            return ConsumerAccepted(cid, at, stars), ComplaintSettled(cid, at)
        return (ConsumerRejected(cid, at, stars),)
    if kind == "taken_in_review":
        return (ComplaintTakenInReview(cid, at, entry.agency_id or agency_before),)
    if kind == "resolved":
        return (ComplaintResolved(cid, at, entry.note or ""),)
    if kind == "rejected":
        return (ComplaintRejected(cid, at),)
    if kind == "rerouted":
        return (ComplaintRerouted(cid, at, agency_before, entry.agency_id or complaint.agency_id),)
    if kind in ("business_overdue", "agency_overdue"):
        return (DeadlineMissed(cid, at, kind.split("_")[0]),)
    return ()


def events_between(previous: Complaint | None, current: Complaint) -> list[tuple[str, Event]]:
    """The events of one stored change, rebuilt from the append-only timeline, each with a stable id.

    The same events `transition` (or `file_complaint`) returned when the change was made, so a stream
    consumer reacts to exactly what happened, and a redelivered record yields the same ids. The id of an
    event is "<complaint id>#<timeline position>#<event type>"; the state change itself is "<id>#v<version>".
    """
    start = len(previous.timeline) if previous is not None else 0
    agency = previous.agency_id if previous is not None else current.agency_id
    found: list[tuple[str, Event]] = []
    for index in range(start, len(current.timeline)):
        entry = current.timeline[index]
        for event in _from_entry(entry, current, agency):
            found.append((f"{current.id}#{index}#{type(event).__name__}", event))
        if entry.type == "rerouted" and entry.agency_id:
            agency = entry.agency_id
    found.append((f"{current.id}#v{current.version}", ComplaintChanged(current.id, current.updated_at, previous, current)))
    return found


def _target(complaint: Complaint, action: str) -> Status:
    allowed = TRANSITIONS[action]
    if complaint.status not in allowed:
        raise InvalidTransition(f"'{action}' is not possible while the complaint is {complaint.status.value}.",
                                fields=field_error("status", "invalid_transition", f"{complaint.status.value} -> {action}"))
    return allowed[complaint.status]


def _entry(at: datetime, type_: str, actor: Actor, complaint: Complaint, to: Status, *, note: str | None = None,
           agency_id: str | None = None) -> TimelineEntry:
    return TimelineEntry(at=at, type=type_, actor=str(actor), key_id=actor.key_id, agency_id=agency_id, note=note,
                         from_status=complaint.status.value, to_status=to.value)


def _need_text(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise ValidationFailed("Some fields are invalid.",
                               fields=field_error(field, "missing" if not value else "string_too_long",
                                                  f"1..{limit} characters"))
    return value


def transition(complaint: Complaint, command, *, actor: Actor, now: datetime,
               rules: DeadlineRules | None = None, agencies=frozenset()) -> tuple[Complaint, tuple[Event, ...]]:
    """Apply one command: the new complaint (timeline appended, never rewritten) and the events it produced.

    `rules` is needed by Reroute (the new body's term starts when it receives the case); `agencies` is the
    set of known agency ids, for Reroute.
    """
    c = complaint
    cid = c.id
    if isinstance(command, Respond):
        to = _target(c, "respond")
        if c.business_response is not None:
            raise InvalidTransition("The seller has already answered this complaint.",
                                    fields=field_error("message", "invalid_transition", "already answered"))
        if command.offer not in OFFERS:
            raise ValidationFailed("Some fields are invalid.", fields=field_error("offer", "enum", "unknown offer"))
        response = BusinessResponse(message=_need_text(command.message, "message", 5000), offer=command.offer,
                                    at=now, key_id=actor.key_id)
        entry = _entry(now, "business_responded", actor, c, to, note=command.offer)
        return _next(c, to, now, entry, business_response=response), (BusinessResponded(cid, now, command.offer),)

    if isinstance(command, GiveFeedback):
        if c.feedback is not None:
            raise FeedbackAlreadyGiven("Feedback on this complaint has already been given.",
                                       fields=field_error("accepted", "feedback_already_given", "already given"))
        if c.business_response is None:
            raise InvalidTransition("There is no answer from the seller to accept or reject yet.",
                                    fields=field_error("accepted", "invalid_transition", "no answer yet"))
        if not 1 <= command.stars <= 5:
            raise ValidationFailed("Some fields are invalid.", fields=field_error("stars", "invalid_stars", "1..5"))
        to = _target(c, "accept" if command.accepted else "reject_offer")
        feedback = Feedback(accepted=command.accepted, stars=command.stars, comment=command.comment, at=now)
        if command.accepted:
            entry = _entry(now, "offer_accepted", actor, c, to, note=f"{command.stars}★")
            return (_next(c, to, now, entry, feedback=feedback),
                    (ConsumerAccepted(cid, now, command.stars), ComplaintSettled(cid, now)))
        entry = _entry(now, "offer_rejected", actor, c, to, note=f"{command.stars}★")
        return _next(c, to, now, entry, feedback=feedback), (ConsumerRejected(cid, now, command.stars),)

    if isinstance(command, TakeInReview):
        to = _target(c, "take")
        entry = _entry(now, "taken_in_review", actor, c, to, agency_id=c.agency_id)
        return _next(c, to, now, entry), (ComplaintTakenInReview(cid, now, c.agency_id),)

    if isinstance(command, Resolve):
        to = _target(c, "resolve")
        if command.decision not in DECISIONS:
            raise ValidationFailed("Some fields are invalid.", fields=field_error("decision", "enum", "unknown decision"))
        resolution = Resolution(status=to, at=now, decision=command.decision,
                                text=_need_text(command.result, "result", 5000))
        entry = _entry(now, "resolved", actor, c, to, note=command.decision, agency_id=c.agency_id)
        return _next(c, to, now, entry, resolution=resolution), (ComplaintResolved(cid, now, command.decision),)

    if isinstance(command, Reject):
        to = _target(c, "reject")
        resolution = Resolution(status=to, at=now, text=_need_text(command.reason, "reason", 2000))
        entry = _entry(now, "rejected", actor, c, to, agency_id=c.agency_id)
        return _next(c, to, now, entry, resolution=resolution), (ComplaintRejected(cid, now),)

    if isinstance(command, Reroute):
        to = _target(c, "reroute")
        if command.agency_id not in agencies:
            raise ValidationFailed("Some fields are invalid.",
                                   fields=field_error("agency_id", "unknown_agency", "no such agency"))
        if command.agency_id == c.agency_id:
            raise InvalidTransition("The complaint is already with this agency.",
                                    fields=field_error("agency_id", "same_agency", "already with this agency"))
        if rules is None:
            raise TypeError("Reroute needs the deadline rules")
        reason = _need_text(command.reason, "reason", 2000)
        kind = kind_for(identified=c.identified, agency_id=command.agency_id)
        entry = _entry(now, "rerouted", actor, c, to, note=reason, agency_id=command.agency_id)
        # The receiving body's term runs from when it gets the case; its overdue flag starts afresh.
        return (_next(c, to, now, entry, agency_id=command.agency_id, kind=kind,
                      secondary_agencies=tuple(a for a in c.secondary_agencies if a != command.agency_id),
                      agency_due_at=rules.agency_due(now) if kind == "appeal" else None,
                      flags=replace(c.flags, agency_overdue=False)),
                (ComplaintRerouted(cid, now, c.agency_id, command.agency_id),))

    if isinstance(command, MarkOverdue):
        to = _target(c, "mark_overdue")
        flags, events, entries = c.flags, [], []
        if c.business_response is None and not flags.business_overdue and command.as_of > c.business_due_at:
            flags = replace(flags, business_overdue=True)
            entries.append(_entry(now, "business_overdue", actor, c, to))
            events.append(DeadlineMissed(cid, now, "business"))
        if c.agency_due_at is not None and not flags.agency_overdue and command.as_of > c.agency_due_at:
            flags = replace(flags, agency_overdue=True)
            entries.append(_entry(now, "agency_overdue", actor, c, to, agency_id=c.agency_id))
            events.append(DeadlineMissed(cid, now, "agency"))
        if not entries:
            return c, ()
        return replace(c, flags=flags, updated_at=now, timeline=c.timeline + tuple(entries)), tuple(events)

    raise TypeError(f"unknown command {command!r}")


def _next(c: Complaint, to: Status, now: datetime, entry: TimelineEntry, **changes) -> Complaint:
    return replace(c, status=to, updated_at=now, timeline=c.timeline + (entry,), **changes)


def allowed_actions(complaint: Complaint, role: str) -> list[str]:
    """What a role may do with the complaint now (for consoles: which buttons to show)."""
    if role == "agency":
        return [a for a in ("take", "resolve", "reject", "reroute") if complaint.status in TRANSITIONS[a]]
    if role == "business":
        return ["respond"] if complaint.status in TRANSITIONS["respond"] and complaint.business_response is None else []
    return []


__all__ = [
    "TRANSITIONS", "CRIME_AGENCIES", "InvalidTransition", "FeedbackAlreadyGiven", "kind_for", "file_complaint",
    "transition",
    "allowed_actions", "Respond", "GiveFeedback", "TakeInReview", "Resolve", "Reject", "Reroute", "MarkOverdue",
    "Event", "ComplaintSubmitted", "ComplaintChanged", "events_between", "ComplaintRouted", "BusinessResponded", "ConsumerAccepted", "ComplaintSettled", "ConsumerRejected",
    "ComplaintTakenInReview", "ComplaintResolved", "ComplaintRejected", "ComplaintRerouted", "DeadlineMissed",
    "Flags",
]
