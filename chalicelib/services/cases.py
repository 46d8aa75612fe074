"""Working a case: the agencies' and businesses' queues and actions, the consumer's feedback, deadlines.

Every action loads the complaint within the caller's scope, applies one domain transition and stores
the result with one optimistic-locked save; a lost race is a ConcurrentUpdate (409), never an overwrite.
Objects outside the caller's scope are reported exactly like missing ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from chalicelib.domain import codes
from chalicelib.domain.calendar import DeadlineRules
from chalicelib.domain.complaint import GiveFeedback, MarkOverdue, Reroute, transition
from chalicelib.domain.errors import ComplaintNotFound, ConcurrentUpdate, Forbidden, ValidationFailed, field_error
from chalicelib.domain.model import (
    CONSUMER, OPEN_STATUSES, SYSTEM, UTC, Actor, Complaint, Contact, RoutingExample, Status, change_key,
)
from chalicelib.services.auth import Principal
from chalicelib.services.complaints import complaint_for_holder
from chalicelib.services.cursors import decode_cursor, encode_cursor
from chalicelib.services.ports import (
    Clock, ComplaintRepository, ContactVault, RoutingExampleRepository,
)

OPEN = "open"
STATUS_FILTERS = {OPEN: frozenset(s.value for s in OPEN_STATUSES),
                  **{s.value: frozenset({s.value}) for s in Status}}


@dataclass(frozen=True)
class QueuePage:
    items: list[Complaint]
    next_cursor: str | None
    statuses: frozenset[str] | None = None  # the status filter asked for, if any

    def in_filter(self, complaint: Complaint) -> bool:
        """Whether an item matches the filter. A poll with a cursor returns every change, so a case that
        left the filter (settled, moved on) is reported too, and the client drops it from its list."""
        return self.statuses is None or complaint.status.value in self.statuses


@dataclass(frozen=True)
class Poller:
    """What every queue read needs: the store, the clock, the cursor secret, and the settle lag."""
    complaints: ComplaintRepository
    clock: Clock
    secret: str
    settle_seconds: float

    def poll(self, partitions: list[tuple[str, str]], *, binding: str, status: str | None, cursor: str | None,
             limit: int) -> QueuePage:
        """One page of the merged partitions, in change order, strictly after the cursor.

        Only changes older than the settle lag are read, so a write that took its timestamp before a
        poll but committed after it still lands after the cursor: no gaps. Each item appears at its last
        change only, and the cursor moves past what was returned: no repeats. A status filter selects the
        first page; after a cursor every change is returned (see QueuePage.in_filter), or a case leaving
        the filter would never be reported.
        """
        if status is not None and status not in STATUS_FILTERS:
            raise ValidationFailed("Some fields are invalid.",
                                   fields=field_error("status", "enum", "one of " + ", ".join(STATUS_FILTERS)))
        now = self.clock.now()
        binding = f"{binding}|{status or ''}"
        after = decode_cursor(cursor, binding=binding, secret=self.secret, now=now) if cursor else None
        horizon = (now - timedelta(seconds=self.settle_seconds)).astimezone(UTC).isoformat(timespec="microseconds")
        until = horizon + "#~"  # '~' sorts after every id character
        statuses = STATUS_FILTERS[status] if status else None
        found: list[Complaint] = []
        for queue, partition in partitions:
            found += self.complaints.changes(queue, partition, after=after, until=until, limit=limit,
                                             statuses=statuses if after is None else None)
        found.sort(key=_position)
        page = found[:limit]
        position = _position(page[-1]) if page else after
        next_cursor = encode_cursor(position, binding=binding, secret=self.secret, now=now) if position else None
        return QueuePage(page, next_cursor, statuses)


_position = change_key


def _not_found() -> ComplaintNotFound:
    return ComplaintNotFound("No complaint with this id is in your queue.")


def _load(complaint_id: str, complaints: ComplaintRepository, *, consistent: bool) -> Complaint | None:
    return complaints.get(complaint_id, consistent=consistent) if codes.is_complaint_id(complaint_id) else None


# --- agencies ---------------------------------------------------------------------------------------------
def agency_queue(principal: Principal, *, poller: Poller, status: str | None, region: str | None,
                 cursor: str | None, limit: int, known_regions) -> QueuePage:
    """The caller's agency queue (its regions only, for a regional key)."""
    if region is not None:
        if region not in known_regions:
            raise ValidationFailed("Some fields are invalid.", fields=field_error("region", "unknown_region", "no such region"))
        if not principal.sees_region(region):
            raise Forbidden("This key may not read that region's queue.")
        partitions = [("agency_region", f"{principal.agency_id}#{region}"),
                      ("secondary_region", f"{principal.agency_id}#{region}")]
    elif principal.regions:
        partitions = [(queue, f"{principal.agency_id}#{r}") for r in sorted(principal.regions)
                      for queue in ("agency_region", "secondary_region")]
    else:
        # the cases it handles, and those that also concern it (a second body, read-only)
        partitions = [("agency", principal.agency_id), ("secondary", principal.agency_id)]
    binding = f"agency:{principal.agency_id}:{','.join(sorted(principal.regions))}:{region or ''}"
    return poller.poll(partitions, binding=binding, status=status, cursor=cursor, limit=limit)


def case_for_agency(principal: Principal, complaint_id: str, *, complaints: ComplaintRepository,
                    consistent: bool = False, handling: bool = False) -> Complaint:
    """The case, if the caller's agency handles it, or (for reading, unless `handling`) if the complaint also
    concerns it as a secondary body; within the caller's regions either way."""
    complaint = _load(complaint_id, complaints, consistent=consistent)
    if complaint is None or not principal.sees_region(complaint.region):
        raise _not_found()
    if complaint.agency_id == principal.agency_id:
        return complaint
    if principal.agency_id in complaint.secondary_agencies:
        if handling:
            raise Forbidden("This complaint is handled by another agency; yours is informed as a second body.")
        return complaint
    raise _not_found()


def contact_for(complaint: Complaint, *, contacts: ContactVault, for_business: bool = False) -> Contact | None:
    """The complainant's contact for an entitled reader: the handling agency always, the business only
    with the consumer's consent."""
    if complaint.contact_ref is None or (for_business and not complaint.share_contact_with_business):
        return None
    return contacts.get(complaint.contact_ref)


def act(complaint: Complaint, command, *, actor: Actor, complaints: ComplaintRepository, clock: Clock,
        rules: DeadlineRules | None = None, agencies=frozenset()):
    """Apply one command and store the result; returns (stored complaint, events)."""
    updated, events = transition(complaint, command, actor=actor, now=clock.now(), rules=rules, agencies=agencies)
    if not events:
        return complaint, events
    return complaints.save(updated), events


def agency_action(principal: Principal, complaint_id: str, command, *, complaints: ComplaintRepository,
                  clock: Clock) -> Complaint:
    complaint = case_for_agency(principal, complaint_id, complaints=complaints, consistent=True, handling=True)
    stored, _ = act(complaint, command, actor=principal.actor, complaints=complaints, clock=clock)
    return stored


def reroute(principal: Principal, complaint_id: str, command: Reroute, *, complaints: ComplaintRepository,
            examples: RoutingExampleRepository, rules: DeadlineRules, agencies, clock: Clock) -> Complaint:
    """Send the case to the body that handles it; the correction is kept as a labelled router example."""
    complaint = case_for_agency(principal, complaint_id, complaints=complaints, consistent=True, handling=True)
    now = clock.now()
    updated, _ = transition(complaint, command, actor=principal.actor, now=now, rules=rules, agencies=agencies)
    # The example goes first, keyed by the case and the moment: if the save then loses a race, nothing
    # moved and the example is withdrawn; a crash in between leaves an example whose case timeline has no
    # matching reroute, which the training export skips.
    example = RoutingExample(
        complaint_id=complaint.id, at=now, text=complaint.text, category=complaint.category,
        sector=complaint.sector, from_agency=complaint.agency_id, to_agency=command.agency_id,
        reason=command.reason.strip(), routing_method=complaint.routing.method,
        routing_version=complaint.routing.version, key_id=principal.key_id)
    examples.add(example)
    try:
        return complaints.save(updated)
    except ConcurrentUpdate:
        examples.remove(complaint.id, now)
        raise


# --- businesses -------------------------------------------------------------------------------------------
def business_queue(principal: Principal, *, poller: Poller, status: str | None, cursor: str | None,
                   limit: int) -> QueuePage:
    return poller.poll([("business", principal.bin)], binding=f"business:{principal.bin}", status=status,
                       cursor=cursor, limit=limit)


def case_for_business(principal: Principal, complaint_id: str, *, complaints: ComplaintRepository,
                      consistent: bool = False) -> Complaint:
    complaint = _load(complaint_id, complaints, consistent=consistent)
    if complaint is None or complaint.business_bin != principal.bin:
        raise _not_found()
    return complaint


def business_action(principal: Principal, complaint_id: str, command, *, complaints: ComplaintRepository,
                    clock: Clock) -> Complaint:
    complaint = case_for_business(principal, complaint_id, complaints=complaints, consistent=True)
    stored, _ = act(complaint, command, actor=principal.actor, complaints=complaints, clock=clock)
    return stored


# --- the consumer -----------------------------------------------------------------------------------------
def give_feedback(complaint_id: str, token: str | None, command: GiveFeedback, *, complaints: ComplaintRepository,
                  secret: str, clock: Clock, previous_secrets: tuple[str, ...] = ()) -> Complaint:
    """The consumer accepts or rejects the seller's offer, once, with 1-5 stars."""
    complaint = complaint_for_holder(complaint_id, token, complaints=complaints, secret=secret, consistent=True,
                                     previous_secrets=previous_secrets)
    stored, _ = act(complaint, command, actor=CONSUMER, complaints=complaints, clock=clock)
    return stored


# --- deadlines --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepReport:
    as_of: datetime
    checked: int
    business_overdue: int
    agency_overdue: int


def sweep_deadlines(as_of: datetime, *, complaints: ComplaintRepository, clock: Clock,
                    actor: Actor = SYSTEM) -> SweepReport:
    """Flag every open case whose business answer or agency decision is overdue at `as_of`.

    Reads only the sparse deadline index (no Scan). Idempotent: a flagged deadline leaves the index, and a
    second run flags nothing new. A case changed concurrently is reloaded and tried again. `actor` is the
    system for the schedule, or the admin key that ran it on demand.
    """
    seen: set[str] = set()
    business = agency = 0
    for complaint in complaints.due_before(as_of):
        if complaint.id in seen:
            continue
        seen.add(complaint.id)
        for _ in range(3):
            if complaint is None or not complaint.is_open:
                break  # closed (or gone) since the index was read: nothing is overdue any more
            try:
                _, events = act(complaint, MarkOverdue(as_of), actor=actor, complaints=complaints, clock=clock)
            except ConcurrentUpdate:
                complaint = complaints.get(complaint.id, consistent=True)
                continue
            business += sum(1 for e in events if getattr(e, "party", None) == "business")
            agency += sum(1 for e in events if getattr(e, "party", None) == "agency")
            break
    return SweepReport(as_of=as_of, checked=len(seen), business_overdue=business, agency_overdue=agency)


def start_of_local_day(day, rules: DeadlineRules) -> datetime:
    """Midnight at the start of `day` in Kazakhstan time: a deadline due "by the end of day D" is overdue
    from D+1, so a sweep "as of D+1" flags it and a sweep "as of D" does not."""
    return datetime.combine(day, time(0, 0), tzinfo=rules.tz).astimezone(UTC)
