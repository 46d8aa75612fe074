"""The complaint lifecycle: every (status x action) pair, the events, the timeline, deadlines and buttons.

The expected table below is written from the API contract (/tmp/qalqan/contract.md, "Transitions"), not
copied from `TRANSITIONS`, so a change to the code's table that the contract does not allow fails here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.complaint import (
    BusinessResponded, ComplaintRejected, ComplaintRerouted, ComplaintResolved, ComplaintSettled,
    ComplaintTakenInReview, ConsumerAccepted, ConsumerRejected, DeadlineMissed, FeedbackAlreadyGiven, GiveFeedback,
    InvalidTransition, MarkOverdue, Reject, Reroute, Resolve, Respond, TakeInReview, allowed_actions, kind_for,
    transition,
)
from chalicelib.domain.errors import ConcurrentUpdate, ValidationFailed
from chalicelib.domain.model import (
    CONSUMER, SYSTEM, Actor, BusinessResponse, Complaint, Feedback, Flags, Resolution, Status, TimelineEntry,
)
from chalicelib.domain.routing import RoutingDecision
from chalicelib.services.cases import sweep_deadlines
from tests.fakes import FakeComplaints, FixedClock

UTC = timezone.utc
RULES = load_deadline_rules()
AGENCIES = frozenset({"kzpp", "ktrm", "kgd", "ksek", "police", "azrk", "arrfr", "transport", "akimat", "mindigital"})
BIN = "940140000385"
# Submitted on a Monday; every action happens a week later, so a deadline counted from the action differs
# from one counted from the submission.
CREATED = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 30, 7, 15, tzinfo=UTC)
AGENCY = Actor("agency", "kzpp", "k0000000000a1")
BUSINESS = Actor("business", BIN, "k0000000000b1")
ALL_STATUSES = tuple(Status)
OPEN = (Status.ROUTED, Status.BUSINESS_RESPONDED, Status.IN_REVIEW)
TERMINAL = (Status.SETTLED, Status.RESOLVED, Status.REJECTED)


def _complaint(status: Status = Status.ROUTED, *, responded: bool = False, agency_id: str = "kzpp",
               identified: bool = True, **changes) -> Complaint:
    """A stored complaint in `status`, with a realistic timeline of what happened before."""
    kind = kind_for(identified=identified, agency_id=agency_id)
    earlier = (
        TimelineEntry(at=CREATED, type="submitted", actor="consumer"),
        TimelineEntry(at=CREATED, type="routed", actor="system", agency_id=agency_id, note="category 1.00",
                      to_status="routed"),
    )
    if responded:
        earlier += (TimelineEntry(at=CREATED + timedelta(hours=1), type="business_responded",
                                  actor=f"business:{BIN}", key_id="k0000000000b0", from_status="routed",
                                  to_status="business_responded", note="refund"),)
    response = (BusinessResponse(message="Вернём деньги", offer="refund", at=CREATED + timedelta(hours=1),
                                 key_id="k0000000000b0") if responded else None)
    base = Complaint(
        id="c" + "7" * 15, created_at=CREATED, updated_at=CREATED + timedelta(hours=1), status=status, kind=kind,
        channel="qr", language="ru", text_language="ru", text="Обсчитали на кассе на 2000 тенге, чек не дали.",
        category="overcharge", sector="grocery", region="71", business_bin=BIN, business_name="ТОО «Таза»",
        business_registered=True, outlet_code="0000000A", outlet_name="Таза №1", outlet_address="Астана",
        contact_ref="ct_ref" if identified else None, identified=identified, share_contact_with_business=False,
        incident_at=None,
        routing=RoutingDecision(agency_id=agency_id, method="category", confidence=1.0, version="r1+c1",
                                explanation="category overcharge", matched=()),
        agency_id=agency_id, business_due_at=RULES.business_due(CREATED),
        agency_due_at=RULES.agency_due(CREATED) if kind == "appeal" else None,
        timeline=earlier, business_response=response, version=3,
    )
    return replace(base, **changes)


# --- the table -----------------------------------------------------------------------------------------------
R, BR, IR = Status.ROUTED, Status.BUSINESS_RESPONDED, Status.IN_REVIEW
EXPECTED: dict[tuple[str, Status], Status] = {
    ("respond", R): BR, ("respond", IR): IR,
    ("accept", R): Status.SETTLED, ("accept", BR): Status.SETTLED, ("accept", IR): Status.SETTLED,
    ("reject_offer", R): R, ("reject_offer", BR): R, ("reject_offer", IR): IR,
    ("take", R): IR, ("take", BR): IR,
    ("resolve", IR): Status.RESOLVED,
    ("reject", R): Status.REJECTED, ("reject", BR): Status.REJECTED, ("reject", IR): Status.REJECTED,
    ("reroute", R): R, ("reroute", BR): R, ("reroute", IR): R,
    ("mark_overdue", R): R, ("mark_overdue", BR): BR, ("mark_overdue", IR): IR,
}
AGENCY_DUE_PASSED = RULES.agency_due(CREATED) + timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Action:
    """One action as the table drives it: the command, who does it, what must already be true, and what
    the resulting timeline entry, events and changed fields must be."""
    command: object
    actor: Actor
    responded: bool                 # the precondition that is not the status (a seller's answer exists)
    entry_type: str
    entry_agency: str | None
    note: str | None
    changed: frozenset[str]         # fields besides status, updated_at and timeline

    def events(self, c: Complaint) -> tuple:
        cmd = self.command
        return {
            Respond: lambda: (BusinessResponded(c.id, NOW, "repair"),),
            TakeInReview: lambda: (ComplaintTakenInReview(c.id, NOW, "kzpp"),),
            Resolve: lambda: (ComplaintResolved(c.id, NOW, "violation_confirmed"),),
            Reject: lambda: (ComplaintRejected(c.id, NOW),),
            Reroute: lambda: (ComplaintRerouted(c.id, NOW, "kzpp", "ktrm"),),
            MarkOverdue: lambda: (DeadlineMissed(c.id, NOW, "agency"),),
            GiveFeedback: lambda: ((ConsumerAccepted(c.id, NOW, 4), ComplaintSettled(c.id, NOW)) if cmd.accepted
                                   else (ConsumerRejected(c.id, NOW, 2),)),
        }[type(cmd)]()


ACTIONS = {
    "respond": Action(Respond(message="  Готовы отремонтировать бесплатно.  ", offer="repair"), BUSINESS, False,
                      "business_responded", None, "repair", frozenset({"business_response"})),
    "accept": Action(GiveFeedback(accepted=True, stars=4, comment="Спасибо"), CONSUMER, True,
                     "offer_accepted", None, "4★", frozenset({"feedback"})),
    "reject_offer": Action(GiveFeedback(accepted=False, stars=2), CONSUMER, True,
                           "offer_rejected", None, "2★", frozenset({"feedback"})),
    "take": Action(TakeInReview(), AGENCY, False, "taken_in_review", "kzpp", None, frozenset()),
    "resolve": Action(Resolve(decision="violation_confirmed", result="Продавец оштрафован."), AGENCY, False,
                      "resolved", "kzpp", "violation_confirmed", frozenset({"resolution"})),
    "reject": Action(Reject(reason="Не относится к защите прав потребителей."), AGENCY, False,
                     "rejected", "kzpp", None, frozenset({"resolution"})),
    # An identified complaint stays an appeal; its new agency's term runs from now.
    "reroute": Action(Reroute(agency_id="ktrm", reason="Это обвес, метрология."), AGENCY, False,
                      "rerouted", "ktrm", "Это обвес, метрология.", frozenset({"agency_id", "agency_due_at"})),
    # The seller has answered, so only the agency's term can be missed here.
    "mark_overdue": Action(MarkOverdue(as_of=AGENCY_DUE_PASSED), SYSTEM, True,
                           "agency_overdue", "kzpp", None, frozenset({"flags"})),
}
PAIRS = [(a, s) for a in ACTIONS for s in ALL_STATUSES]


def _apply(action: Action, complaint: Complaint):
    return transition(complaint, action.command, actor=action.actor, now=NOW, rules=RULES, agencies=AGENCIES)


def _changed(before: Complaint, after: Complaint) -> set[str]:
    return {f.name for f in dataclasses.fields(Complaint) if getattr(before, f.name) != getattr(after, f.name)}


def test_the_table_covers_every_status_and_action_of_the_contract():
    # GIVEN the pairs driven below THEN they are every status times every action (6 x 8), and the expected
    # table names only real pairs, so no pair is silently left out
    assert len(PAIRS) == 48
    assert set(EXPECTED) <= set(PAIRS)
    assert len([p for p in PAIRS if p not in EXPECTED]) == 28


@pytest.mark.parametrize("name,status", [p for p in PAIRS if p in EXPECTED], ids=lambda v: getattr(v, "value", v))
def test_given_an_allowed_pair_when_applied_then_status_events_and_one_appended_entry(name, status):
    action = ACTIONS[name]
    before = _complaint(status, responded=action.responded)
    after, events = _apply(action, before)
    to = EXPECTED[(name, status)]
    # THEN the status and the events are the contract's
    assert after.status is to
    assert events == action.events(before)
    # AND exactly one entry is appended, and every earlier entry is kept as it was
    assert after.timeline[:-1] == before.timeline
    entry = after.timeline[-1]
    assert (entry.at, entry.type, entry.actor, entry.key_id) == (NOW, action.entry_type, str(action.actor),
                                                                 action.actor.key_id)
    assert (entry.from_status, entry.to_status) == (status.value, to.value)
    assert (entry.agency_id, entry.note) == (action.entry_agency, action.note)
    # AND nothing else changed than what the action is about
    expected_changes = {"updated_at", "timeline"} | action.changed | ({"status"} if to is not status else set())
    assert _changed(before, after) == expected_changes
    assert after.updated_at == NOW and after.version == before.version  # the repository bumps the version


@pytest.mark.parametrize("name,status", [p for p in PAIRS if p not in EXPECTED], ids=lambda v: getattr(v, "value", v))
def test_given_a_pair_the_contract_does_not_allow_when_applied_then_invalid_transition(name, status):
    action = ACTIONS[name]
    before = _complaint(status, responded=action.responded)
    with pytest.raises(InvalidTransition) as info:
        _apply(action, before)
    assert info.value.code == "invalid_transition"
    assert next(iter(info.value.fields.values()))["code"] == "invalid_transition"


def test_given_a_response_when_stored_then_it_is_trimmed_and_names_the_key():
    after, _ = _apply(ACTIONS["respond"], _complaint(Status.ROUTED))
    assert after.business_response == BusinessResponse(message="Готовы отремонтировать бесплатно.", offer="repair",
                                                       at=NOW, key_id=BUSINESS.key_id)


def test_given_a_decision_or_a_refusal_then_the_outcome_carries_its_text():
    resolved, _ = _apply(ACTIONS["resolve"], _complaint(Status.IN_REVIEW))
    assert resolved.resolution == Resolution(status=Status.RESOLVED, at=NOW, decision="violation_confirmed",
                                             text="Продавец оштрафован.")
    rejected, _ = _apply(ACTIONS["reject"], _complaint(Status.ROUTED))
    assert rejected.resolution == Resolution(status=Status.REJECTED, at=NOW, decision=None,
                                             text="Не относится к защите прав потребителей.")


# --- feedback -----------------------------------------------------------------------------------------------
def test_given_feedback_given_when_the_consumer_tries_again_then_feedback_already_given():
    # GIVEN the consumer rejected the offer (the case went back to routed)
    once, _ = transition(_complaint(Status.BUSINESS_RESPONDED, responded=True), GiveFeedback(False, 2),
                         actor=CONSUMER, now=NOW)
    assert once.status is Status.ROUTED and once.feedback == Feedback(accepted=False, stars=2, at=NOW)
    # WHEN they now try to accept, or to reject again THEN both are refused, whatever the status allows
    for accepted in (True, False):
        with pytest.raises(FeedbackAlreadyGiven) as info:
            transition(once, GiveFeedback(accepted, 5), actor=CONSUMER, now=NOW + timedelta(minutes=1))
        assert info.value.code == "feedback_already_given"
    assert not once.can_give_feedback


@pytest.mark.parametrize("status", OPEN, ids=str)
@pytest.mark.parametrize("accepted", [True, False])
def test_given_no_answer_from_the_seller_when_feedback_comes_then_invalid_transition(status, accepted):
    complaint = _complaint(status, responded=False)
    assert not complaint.can_give_feedback
    with pytest.raises(InvalidTransition):
        transition(complaint, GiveFeedback(accepted, 5), actor=CONSUMER, now=NOW)


@pytest.mark.parametrize("stars", [-1, 0, 6, 50])
def test_given_stars_outside_one_to_five_then_validation_fails(stars):
    with pytest.raises(ValidationFailed) as info:
        transition(_complaint(Status.BUSINESS_RESPONDED, responded=True), GiveFeedback(True, stars),
                   actor=CONSUMER, now=NOW)
    assert info.value.fields["stars"]["code"] == "invalid_stars"


@pytest.mark.parametrize("stars", [1, 5])
def test_given_stars_at_the_bounds_then_they_are_kept(stars):
    after, events = transition(_complaint(Status.BUSINESS_RESPONDED, responded=True), GiveFeedback(True, stars),
                               actor=CONSUMER, now=NOW)
    assert after.feedback.stars == stars and events[0] == ConsumerAccepted(after.id, NOW, stars)


def test_given_a_reroute_after_the_answer_then_the_consumer_can_still_accept_it_and_settle():
    # GIVEN the seller answered and the agency sent the case on (back to routed, the answer kept)
    moved, _ = _apply(ACTIONS["reroute"], _complaint(Status.BUSINESS_RESPONDED, responded=True))
    assert moved.status is Status.ROUTED and moved.business_response is not None and moved.can_give_feedback
    # WHEN the consumer accepts THEN the case is settled and closed for everybody
    settled, _ = transition(moved, GiveFeedback(True, 5), actor=CONSUMER, now=NOW + timedelta(hours=1))
    assert settled.status is Status.SETTLED and not settled.is_open and not settled.can_give_feedback
    assert allowed_actions(settled, "agency") == [] and allowed_actions(settled, "business") == []


# --- respond ------------------------------------------------------------------------------------------------
def test_given_an_answer_under_review_when_the_seller_answers_again_then_invalid_transition():
    # GIVEN the agency took the case and the seller answered there (the status stays in_review)
    taken, _ = _apply(ACTIONS["take"], _complaint(Status.ROUTED))
    answered, _ = transition(taken, Respond("Вернём деньги", "refund"), actor=BUSINESS, now=NOW)
    assert answered.status is Status.IN_REVIEW and answered.business_response.offer == "refund"
    # WHEN the seller answers a second time THEN it is refused and the first answer stands
    with pytest.raises(InvalidTransition) as info:
        transition(answered, Respond("Нет, не вернём", "other"), actor=BUSINESS, now=NOW + timedelta(hours=1))
    assert "message" in info.value.fields
    assert allowed_actions(answered, "business") == []


@pytest.mark.parametrize("message,offer,field,code", [
    ("Вернём деньги", "discount", "offer", "enum"),
    ("   ", "refund", "message", "missing"),
    ("x" * 5001, "refund", "message", "string_too_long"),
])
def test_given_a_bad_answer_then_validation_names_the_field(message, offer, field, code):
    with pytest.raises(ValidationFailed) as info:
        transition(_complaint(Status.ROUTED), Respond(message, offer), actor=BUSINESS, now=NOW)
    assert info.value.fields[field]["code"] == code


def test_given_a_resolution_with_an_unknown_decision_or_no_result_then_validation_fails():
    with pytest.raises(ValidationFailed) as info:
        transition(_complaint(Status.IN_REVIEW), Resolve("fined", "Оштрафован"), actor=AGENCY, now=NOW)
    assert info.value.fields["decision"]["code"] == "enum"
    with pytest.raises(ValidationFailed) as info:
        transition(_complaint(Status.IN_REVIEW), Resolve("not_confirmed", " "), actor=AGENCY, now=NOW)
    assert info.value.fields["result"]["code"] == "missing"


# --- reroute ------------------------------------------------------------------------------------------------
def test_given_a_reroute_to_the_same_agency_then_invalid_transition():
    with pytest.raises(InvalidTransition) as info:
        transition(_complaint(Status.ROUTED), Reroute("kzpp", "Ошибка"), actor=AGENCY, now=NOW, rules=RULES,
                   agencies=AGENCIES)
    assert info.value.fields["agency_id"]["code"] == "same_agency"


def test_given_a_reroute_to_an_unknown_agency_then_validation_fails():
    with pytest.raises(ValidationFailed) as info:
        transition(_complaint(Status.ROUTED), Reroute("kmfk_old", "Ошибка"), actor=AGENCY, now=NOW, rules=RULES,
                   agencies=AGENCIES)
    assert info.value.fields["agency_id"]["code"] == "unknown_agency"


def test_given_a_reroute_without_a_reason_then_validation_fails():
    with pytest.raises(ValidationFailed) as info:
        transition(_complaint(Status.ROUTED), Reroute("ktrm", "  "), actor=AGENCY, now=NOW, rules=RULES,
                   agencies=AGENCIES)
    assert info.value.fields["reason"]["code"] == "missing"


def test_given_an_overdue_appeal_when_rerouted_then_the_new_agency_gets_a_fresh_term_and_flag():
    # GIVEN an appeal whose first agency and seller both missed their terms
    before = _complaint(Status.IN_REVIEW, flags=Flags(business_overdue=True, agency_overdue=True))
    # WHEN it is rerouted a week after submission
    after, _ = _apply(ACTIONS["reroute"], before)
    # THEN the new agency's term runs from now, its overdue flag is clear, and the seller's flag stays
    assert after.agency_due_at == RULES.agency_due(NOW) != before.agency_due_at
    assert after.flags == Flags(business_overdue=True, agency_overdue=False)
    assert after.kind == "appeal" and after.agency_id == "ktrm" and after.business_due_at == before.business_due_at
    assert after.next_due_at == RULES.agency_due(NOW)  # back in the deadline index


def test_given_an_anonymous_signal_when_rerouted_to_the_police_then_it_becomes_an_appeal_with_a_term():
    before = _complaint(Status.ROUTED, identified=False)
    assert before.kind == "signal" and before.agency_due_at is None
    after, events = transition(before, Reroute("police", "Это мошенничество"), actor=AGENCY, now=NOW, rules=RULES,
                               agencies=AGENCIES)
    assert after.kind == "appeal" and after.agency_due_at == RULES.agency_due(NOW)
    assert events == (ComplaintRerouted(before.id, NOW, "kzpp", "police"),)


def test_given_an_anonymous_police_appeal_when_rerouted_elsewhere_then_it_is_a_signal_without_a_term():
    before = _complaint(Status.ROUTED, identified=False, agency_id="police")
    assert before.kind == "appeal" and before.agency_due_at is not None
    after, _ = transition(before, Reroute("kzpp", "Это не преступление"), actor=Actor("agency", "police", "k1"),
                          now=NOW, rules=RULES, agencies=AGENCIES)
    assert after.kind == "signal" and after.agency_due_at is None


def test_kind_for_names_appeals_and_signals():
    assert kind_for(identified=True, agency_id="kzpp") == "appeal"
    assert kind_for(identified=False, agency_id="kzpp") == "signal"
    assert kind_for(identified=False, agency_id="police") == "appeal"


# --- deadlines ----------------------------------------------------------------------------------------------
def test_given_both_terms_when_swept_over_time_then_each_party_is_flagged_once_and_the_due_date_moves():
    # GIVEN an appeal nobody has acted on: the seller's term ends first
    c = _complaint(Status.ROUTED)
    assert c.business_due_at < c.agency_due_at and c.next_due_at == c.business_due_at
    # WHEN swept exactly at the seller's deadline THEN nothing is overdue yet (due by the end of that second)
    same, events = transition(c, MarkOverdue(c.business_due_at), actor=SYSTEM, now=NOW)
    assert same is c and events == ()
    # WHEN swept after it THEN the seller is flagged, and the agency's term is what is watched next
    after_business = c.business_due_at + timedelta(seconds=1)
    c1, events = transition(c, MarkOverdue(after_business), actor=SYSTEM, now=NOW)
    assert events == (DeadlineMissed(c.id, NOW, "business"),)
    assert c1.flags == Flags(business_overdue=True) and c1.next_due_at == c.agency_due_at
    assert c1.status is Status.ROUTED and c1.timeline[:-1] == c.timeline
    assert (c1.timeline[-1].type, c1.timeline[-1].actor, c1.timeline[-1].from_status,
            c1.timeline[-1].to_status) == ("business_overdue", "system", "routed", "routed")
    # AND a second sweep at the same moment flags nothing and changes nothing
    again, events = transition(c1, MarkOverdue(after_business), actor=SYSTEM, now=NOW + timedelta(hours=1))
    assert again is c1 and events == ()
    # WHEN the agency's term passes too THEN the agency is flagged once, and no deadline is left to watch
    after_agency = c.agency_due_at + timedelta(seconds=1)
    c2, events = transition(c1, MarkOverdue(after_agency), actor=SYSTEM, now=NOW)
    assert events == (DeadlineMissed(c.id, NOW, "agency"),)
    assert c2.flags == Flags(business_overdue=True, agency_overdue=True) and c2.next_due_at is None
    assert c2.timeline[-1].agency_id == "kzpp" and c2.timeline[-1].type == "agency_overdue"
    assert transition(c2, MarkOverdue(after_agency + timedelta(days=30)), actor=SYSTEM, now=NOW) == (c2, ())


def test_given_both_terms_passed_at_once_then_one_sweep_flags_both_in_order():
    c = _complaint(Status.IN_REVIEW)
    after, events = transition(c, MarkOverdue(AGENCY_DUE_PASSED), actor=SYSTEM, now=NOW)
    assert events == (DeadlineMissed(c.id, NOW, "business"), DeadlineMissed(c.id, NOW, "agency"))
    assert [e.type for e in after.timeline[len(c.timeline):]] == ["business_overdue", "agency_overdue"]


def test_given_the_seller_answered_then_its_term_is_never_flagged_and_not_watched():
    c = _complaint(Status.BUSINESS_RESPONDED, responded=True)
    assert c.next_due_at == c.agency_due_at
    after, events = transition(c, MarkOverdue(c.business_due_at + timedelta(days=1)), actor=SYSTEM, now=NOW)
    assert after is c and events == ()
    signal = _complaint(Status.BUSINESS_RESPONDED, responded=True, identified=False)
    assert signal.agency_due_at is None and signal.next_due_at is None  # a signal with an answer: nothing to watch


@pytest.mark.parametrize("status", TERMINAL, ids=str)
def test_given_a_closed_case_then_no_deadline_is_watched_and_it_cannot_be_flagged(status):
    c = _complaint(status)
    assert c.business_due_at and c.agency_due_at and c.next_due_at is None
    with pytest.raises(InvalidTransition):
        transition(c, MarkOverdue(AGENCY_DUE_PASSED), actor=SYSTEM, now=NOW)


def test_given_an_open_signal_then_only_the_sellers_term_is_watched():
    c = _complaint(Status.ROUTED, identified=False)
    assert c.next_due_at == c.business_due_at
    after, events = transition(c, MarkOverdue(AGENCY_DUE_PASSED + timedelta(days=60)), actor=SYSTEM, now=NOW)
    assert [e.party for e in events] == ["business"] and after.next_due_at is None


def _stored(repo: FakeComplaints, complaint: Complaint) -> Complaint:
    return repo.save(replace(complaint, version=0))


def test_given_due_cases_when_the_sweep_runs_twice_then_the_second_flags_nothing():
    # GIVEN an appeal past both terms, a signal past the seller's term, one answered case and one closed case
    repo, clock = FakeComplaints(), FixedClock(NOW)
    _stored(repo, _complaint(Status.ROUTED))
    _stored(repo, _complaint(Status.ROUTED, identified=False, id="c" + "1" * 15))
    _stored(repo, _complaint(Status.BUSINESS_RESPONDED, responded=True, identified=False, id="c" + "2" * 15))
    _stored(repo, _complaint(Status.SETTLED, id="c" + "3" * 15))
    # WHEN the sweep runs THEN each missed term is counted once
    first = sweep_deadlines(AGENCY_DUE_PASSED, complaints=repo, clock=clock)
    assert (first.checked, first.business_overdue, first.agency_overdue) == (2, 2, 1)
    assert repo.get("c" + "7" * 15).flags == Flags(True, True) and repo.get("c" + "7" * 15).version == 2
    assert repo.get("c" + "1" * 15).flags == Flags(True, False)
    # AND a second run finds nothing left to watch and writes nothing
    writes = repo.writes
    second = sweep_deadlines(AGENCY_DUE_PASSED, complaints=repo, clock=clock)
    assert (second.checked, second.business_overdue, second.agency_overdue) == (0, 0, 0)
    assert repo.writes == writes


class _SettledMeanwhile(FakeComplaints):
    """The deadline index still lists a case that the consumer settles while the sweep runs (DynamoDB's
    index is eventually consistent, and the query pages lazily), so the sweep's save loses the race and
    the reloaded case is closed."""

    settle_ids: frozenset = frozenset()

    def due_before(self, moment):
        due = list(super().due_before(moment))
        for complaint in due:
            if complaint.id in self.settle_ids:
                settled, _ = transition(complaint, GiveFeedback(True, 5), actor=CONSUMER, now=NOW)
                self.save(settled)
        yield from due


def test_given_a_case_closed_during_the_sweep_then_the_sweep_skips_it_and_flags_the_others():
    # GIVEN two appeals past the agency's term, both answered by the seller; one is settled while the sweep runs
    closing, other = "c" + "1" * 15, "c" + "2" * 15
    repo = _SettledMeanwhile()
    repo.settle_ids = frozenset({closing})
    _stored(repo, _complaint(Status.BUSINESS_RESPONDED, responded=True, id=closing))
    _stored(repo, _complaint(Status.BUSINESS_RESPONDED, responded=True, id=other))
    # WHEN the sweep runs THEN it does not fail: the closed case is left alone and the other one is flagged
    report = sweep_deadlines(AGENCY_DUE_PASSED, complaints=repo, clock=FixedClock(NOW))
    assert report.agency_overdue == 1
    assert repo.get(closing).status is Status.SETTLED and repo.get(closing).flags == Flags()
    assert repo.get(other).flags == Flags(business_overdue=False, agency_overdue=True)


class _RaceOnce(FakeComplaints):
    """Someone else saves the case between the sweep's read and its write, once."""

    def __init__(self):
        super().__init__()
        self.raced = False

    def save(self, complaint):
        if not self.raced and complaint.version > 0:
            self.raced = True
            stored = self.items[complaint.id]
            super().save(replace(stored, updated_at=stored.updated_at + timedelta(seconds=1)))
        return super().save(complaint)


def test_given_a_lost_race_when_sweeping_then_the_case_is_reloaded_and_flagged():
    repo = _RaceOnce()
    _stored(repo, _complaint(Status.ROUTED))
    report = sweep_deadlines(AGENCY_DUE_PASSED, complaints=repo, clock=FixedClock(NOW))
    assert repo.raced and (report.business_overdue, report.agency_overdue) == (1, 1)
    assert repo.get("c" + "7" * 15).flags == Flags(True, True) and repo.get("c" + "7" * 15).version == 3


# --- concurrent updates ----------------------------------------------------------------------------------
def test_given_two_people_act_on_the_same_version_then_one_wins_and_the_other_gets_concurrent_update():
    from chalicelib.services.cases import act

    # GIVEN the agency and the seller both loaded version 1 of a routed case
    repo, clock = FakeComplaints(), FixedClock(NOW)
    loaded = _stored(repo, _complaint(Status.ROUTED))
    # WHEN the agency takes it first THEN its change is stored
    taken, _ = act(loaded, TakeInReview(), actor=AGENCY, complaints=repo, clock=clock)
    assert taken.version == 2 and taken.status is Status.IN_REVIEW
    # AND the seller's answer, made on the version it read, is refused instead of overwriting the agency's
    with pytest.raises(ConcurrentUpdate) as info:
        act(loaded, Respond("Вернём деньги.", "refund"), actor=BUSINESS, complaints=repo, clock=clock)
    assert info.value.code == "concurrent_update"
    assert repo.get(loaded.id) == taken and repo.get(loaded.id).business_response is None


def test_given_a_reroute_that_loses_the_race_then_its_router_example_is_withdrawn():
    from chalicelib.services.auth import Principal
    from chalicelib.services.cases import reroute
    from tests.fakes import FakeRoutingExamples

    repo, examples, clock = _RaceOnce(), FakeRoutingExamples(), FixedClock(NOW)
    complaint = _stored(repo, replace(_complaint(Status.ROUTED), id="C0000000000A"))
    principal = Principal(role="agency", key_id="k0000000000a1", label="kzpp", agency_id="kzpp")
    with pytest.raises(ConcurrentUpdate):
        reroute(principal, complaint.id, Reroute("ktrm", "Весы — метрология."), complaints=repo, examples=examples,
                rules=RULES, agencies=AGENCIES, clock=clock)
    assert repo.raced and repo.get(complaint.id).agency_id == "kzpp"
    assert examples.list_for(complaint.id) == []
    # AND on a second try, with nobody in the way, the case moves and the example is kept
    moved = reroute(principal, complaint.id, Reroute("ktrm", "Весы — метрология."), complaints=repo,
                    examples=examples, rules=RULES, agencies=AGENCIES, clock=clock)
    assert moved.agency_id == "ktrm"
    assert [(e.from_agency, e.to_agency, e.reason, e.key_id) for e in examples.list_for(complaint.id)] == [
        ("kzpp", "ktrm", "Весы — метрология.", "k0000000000a1")]


# --- buttons ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status,responded,agency,business", [
    (Status.ROUTED, False, ["take", "reject", "reroute"], ["respond"]),
    (Status.ROUTED, True, ["take", "reject", "reroute"], []),
    (Status.BUSINESS_RESPONDED, True, ["take", "reject", "reroute"], []),
    (Status.IN_REVIEW, False, ["resolve", "reject", "reroute"], ["respond"]),
    (Status.IN_REVIEW, True, ["resolve", "reject", "reroute"], []),
    (Status.SETTLED, True, [], []),
    (Status.RESOLVED, False, [], []),
    (Status.REJECTED, False, [], []),
], ids=lambda v: getattr(v, "value", None))
def test_allowed_actions_per_role_match_what_the_transition_accepts(status, responded, agency, business):
    c = _complaint(status, responded=responded)
    assert allowed_actions(c, "agency") == agency
    assert allowed_actions(c, "business") == business
    for role in ("admin", "analyst", "consumer"):
        assert allowed_actions(c, role) == []
    # AND every button shown works, and every agency action not shown is refused
    commands = {"take": ACTIONS["take"], "resolve": ACTIONS["resolve"], "reject": ACTIONS["reject"],
                "reroute": ACTIONS["reroute"]}
    for name, action in commands.items():
        if name in agency:
            _apply(action, c)
        else:
            with pytest.raises(InvalidTransition):
                _apply(action, c)
    if business:
        _apply(ACTIONS["respond"], c)
    else:
        with pytest.raises(InvalidTransition):
            _apply(ACTIONS["respond"], c)


# --- filing ---------------------------------------------------------------------------------------------
FACTS = dict(channel="qr", language="ru", text_language="ru", text="Продали просроченный кефир", category=None,
             sector="grocery", region="71", business_bin="940140000385", business_name="ТОО «Таза»",
             business_registered=True, outlet_code=None, outlet_name=None, outlet_address=None, contact_ref=None,
             share_contact_with_business=False, incident_at=None, fingerprint="f")


def _routing(agency: str) -> RoutingDecision:
    return RoutingDecision(agency_id=agency, method="rules", confidence=0.8, version="v", explanation="e", matched=())


@pytest.mark.parametrize("identified,agency,kind", [
    (True, "kzpp", "appeal"), (False, "kzpp", "signal"), (False, "police", "appeal"), (True, "police", "appeal"),
])
def test_given_a_new_complaint_when_filed_then_its_kind_terms_timeline_and_event_follow_the_rules(identified, agency, kind):
    from chalicelib.domain.complaint import ComplaintRouted, ComplaintSubmitted, file_complaint

    complaint, events = file_complaint(complaint_id="c1", now=NOW, rules=RULES, routing=_routing(agency),
                                       identified=identified, **FACTS)
    assert (complaint.status, complaint.kind, complaint.agency_id, complaint.version) == (Status.ROUTED, kind, agency, 0)
    assert complaint.business_due_at == RULES.business_due(NOW)
    assert complaint.agency_due_at == (RULES.agency_due(NOW) if kind == "appeal" else None)
    assert [(e.type, e.actor, e.to_status) for e in complaint.timeline] == [
        ("submitted", "consumer", None), ("routed", "system", "routed")]
    assert complaint.timeline[1].agency_id == agency and complaint.timeline[1].note == "rules 0.80"
    assert events == (ComplaintSubmitted("c1", NOW, agency), ComplaintRouted("c1", NOW, agency))
