"""submit_complaint with in-memory fakes: the use case's rules without any AWS."""

import pytest

from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.errors import IdempotencyKeyReused, ValidationFailed
from chalicelib.domain.model import Contact
from chalicelib.services.admin import RegisterBusiness, RegisterOutlet, register_business, register_outlet
from chalicelib.services.complaints import SellerRef, SubmitComplaint, complaint_for_holder, submit_complaint
from chalicelib.domain.routing import load_rules
from tests.fakes import FakeBusinesses, FakeComplaints, FakeContactVault, FakeOutlets, FixedClock

SECRET = "s" * 32
TEXT = "Продали просроченный кефир, дата на наклейке перебита, срок годности вышел неделю назад."


@pytest.fixture
def world():
    businesses, outlets, complaints, clock = FakeBusinesses(), FakeOutlets(), FakeComplaints(), FixedClock()
    register_business(RegisterBusiness(bin="940140000385", name="ТОО «Таза»", region="71"),
                      businesses=businesses, clock=clock)
    outlet, _ = register_outlet(
        RegisterOutlet(business_bin="940140000385", name="Таза №1", address="Астана", region="71", sector="grocery"),
        businesses=businesses, outlets=outlets, secret=SECRET, clock=clock)
    return {"businesses": businesses, "outlets": outlets, "complaints": complaints, "clock": clock, "outlet": outlet,
            "contacts": FakeContactVault()}


def _submit(world, **kwargs):
    cmd = SubmitComplaint(text=kwargs.pop("text", TEXT), channel="qr", **kwargs)
    return submit_complaint(cmd, outlets=world["outlets"], businesses=world["businesses"],
                            complaints=world["complaints"], contacts=world["contacts"], catalog=load_catalog(),
                            rules=load_deadline_rules(), routing_rules=load_rules(), secret=SECRET,
                            clock=world["clock"])


def test_identified_complaint_is_an_appeal_with_a_legal_term(world):
    result = _submit(world, outlet_code=world["outlet"].code,
                     contact=Contact(name="Айдана", phone="+77011234567"))
    c = result.complaint
    assert result.created and c.kind == "appeal" and c.status == "routed"
    assert c.agency_id == c.routing.agency_id and c.region == "71" and c.sector == "grocery"
    assert c.agency_due_at == load_deadline_rules().agency_due(world["clock"].now())
    assert [e.type for e in c.timeline] == ["submitted", "routed"]
    # the contact is in the vault under the complaint's pseudonymous reference, not on the complaint
    assert c.identified and world["contacts"].get(c.contact_ref) == Contact(name="Айдана", phone="+77011234567")


def test_anonymous_complaint_is_a_signal_without_a_legal_term(world):
    c = _submit(world, outlet_code=world["outlet"].code).complaint
    assert c.kind == "signal" and c.agency_due_at is None and c.contact_ref is None and not world["contacts"].items


def test_consent_without_contact_means_nothing_to_share(world):
    c = _submit(world, outlet_code=world["outlet"].code, share_contact_with_business=True).complaint
    assert c.share_contact_with_business is False


def test_unregistered_business_is_accepted_and_flagged(world):
    c = _submit(world, business=SellerRef(bin="950341000052", name="ТОО «Другой»", region="75")).complaint
    assert c.business_registered is False and c.business_name == "ТОО «Другой»" and c.sector == "other"


def test_retry_returns_the_stored_complaint_and_writes_once_more_at_most(world):
    first = _submit(world, outlet_code=world["outlet"].code, idempotency_key="k")
    world["clock"].advance(seconds=5)
    second = _submit(world, outlet_code=world["outlet"].code, idempotency_key="k")
    assert not second.created and second.complaint == first.complaint
    assert second.tracking_token == first.tracking_token
    assert len(world["complaints"].items) == 1


def test_reused_key_with_other_content_is_refused(world):
    _submit(world, outlet_code=world["outlet"].code, idempotency_key="k")
    with pytest.raises(IdempotencyKeyReused):
        _submit(world, outlet_code=world["outlet"].code, idempotency_key="k", text=TEXT + " Ещё.")


def test_a_reused_key_with_another_contact_never_touches_the_stored_complaints_contact(world):
    # GIVEN a complaint filed with a key and a contact
    first = _submit(world, outlet_code=world["outlet"].code, idempotency_key="k",
                    contact=Contact(name="Айгүл Серікова", phone="+77011234567")).complaint
    # WHEN the same key comes back with another person's contact, or a contact where there was none
    for other in (Contact(name="Mallory X", phone="+77019999999"), None):
        with pytest.raises(IdempotencyKeyReused):
            _submit(world, outlet_code=world["outlet"].code, idempotency_key="k", text=TEXT + " Ещё.", contact=other)
    anonymous = _submit(world, outlet_code=world["outlet"].code, idempotency_key="anon").complaint
    with pytest.raises(IdempotencyKeyReused):
        _submit(world, outlet_code=world["outlet"].code, idempotency_key="anon",
                contact=Contact(name="Mallory X", phone="+77019999999"))
    # THEN the stored contact is the first one, and the refused requests left nothing in the vault
    assert world["contacts"].get(first.contact_ref) == Contact(name="Айгүл Серікова", phone="+77011234567")
    assert anonymous.contact_ref is None and list(world["contacts"].items) == [first.contact_ref]
    # AND an honest retry of the first request finds the same contact under the same reference
    again = _submit(world, outlet_code=world["outlet"].code, idempotency_key="k",
                    contact=Contact(name="Айгүл Серікова", phone="+77011234567"))
    assert not again.created and again.complaint.contact_ref == first.contact_ref


def test_unknown_outlet_is_a_field_error(world):
    from chalicelib.domain.codes import new_outlet_code

    with pytest.raises(ValidationFailed) as info:
        _submit(world, outlet_code=new_outlet_code())
    assert info.value.fields["outlet_code"]["code"] == "unknown_outlet"


def test_the_token_opens_only_its_complaint(world):
    result = _submit(world, outlet_code=world["outlet"].code)
    found = complaint_for_holder(result.complaint.id, result.tracking_token,
                                 complaints=world["complaints"], secret=SECRET)
    assert found.id == result.complaint.id
    from chalicelib.domain.errors import ComplaintNotFound

    with pytest.raises(ComplaintNotFound):
        complaint_for_holder(result.complaint.id, "x" * 25, complaints=world["complaints"], secret=SECRET)


def test_a_submission_without_a_key_gets_a_fresh_random_id_in_one_write(world):
    # GIVEN three submissions without an Idempotency-Key WHEN they are stored
    ids = [_submit(world, outlet_code=world["outlet"].code).complaint.id for _ in range(3)]
    # THEN each has its own id and costs exactly one write (no id derived from a missing key, no collisions)
    assert len(set(ids)) == 3 and world["complaints"].writes == 3
