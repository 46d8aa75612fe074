"""submit_complaint and its helpers on the in-memory fakes: the edges test_submit_service.py leaves open.

The contact reference, the order of the vault write and the save, the withdrawal of a contact no complaint
points at (a reused key, a random id that collided), the seller for a consumer without a sticker, the replay
of a complaint whose outlet was suspended since, the holder's link, and the routing preview's sector.
"""
from __future__ import annotations

import re

import pytest

from chalicelib.domain import codes
from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.errors import AlreadyExists, ComplaintNotFound, IdempotencyKeyReused, ValidationFailed
from chalicelib.domain.model import Contact
from chalicelib.domain.routing import load_rules
from chalicelib.services.admin import RegisterBusiness, RegisterOutlet, register_business, register_outlet
from chalicelib.services.complaints import (
    SellerRef, SubmitComplaint, complaint_for_holder, contact_ref, preview_routing, resolve_seller, submit_complaint,
)
from chalicelib.services.idempotency import request_fingerprint
from tests.fakes import FakeBusinesses, FakeComplaints, FakeContactVault, FakeOutlets, FixedClock

SECRET = "s" * 32
TEXT = "Продали просроченный кефир, дата на наклейке перебита, срок годности вышел неделю назад."
# A text no routing rule matches, so the preview's answer comes from the sector or the category alone.
PLAIN_TEXT = "Жалоба."
BIN = "940140000385"
OTHER_BIN = "950341000052"
AYDANA = Contact(name="Айдана Серікова", phone="+77011234567")


class RecordingComplaints(FakeComplaints):
    """The fake store, also recording reads and the vault's content at every save."""

    def __init__(self, vault: FakeContactVault) -> None:
        super().__init__()
        self.vault = vault
        self.gets: list[tuple[str, object]] = []
        self.saves: list[tuple[str, str | None, bool]] = []  # (id, contact_ref, was the contact in the vault)

    def get(self, complaint_id, *, consistent=False):
        self.gets.append((complaint_id, consistent))
        return super().get(complaint_id, consistent=consistent)

    def save(self, complaint):
        self.saves.append((complaint.id, complaint.contact_ref, complaint.contact_ref in self.vault.items))
        return super().save(complaint)


class Colliding(RecordingComplaints):
    """A store where the first `times` new ids are already taken (a random id drawn twice)."""

    def __init__(self, vault: FakeContactVault, times: int) -> None:
        super().__init__(vault)
        self.times = times

    def save(self, complaint):
        if complaint.version == 0 and self.times > 0:
            self.times -= 1
            self.saves.append((complaint.id, complaint.contact_ref, complaint.contact_ref in self.vault.items))
            raise AlreadyExists("exists")
        return super().save(complaint)


class Vanishing(RecordingComplaints):
    """A store that says the id is taken, then cannot find it (an item deleted in between)."""

    def save(self, complaint):
        self.saves.append((complaint.id, complaint.contact_ref, complaint.contact_ref in self.vault.items))
        raise AlreadyExists("exists")


@pytest.fixture
def world():
    businesses, outlets, clock, vault = FakeBusinesses(), FakeOutlets(), FixedClock(), FakeContactVault()
    register_business(RegisterBusiness(bin=BIN, name="ТОО «Таза»", region="71"), businesses=businesses, clock=clock)
    outlet, _ = register_outlet(
        RegisterOutlet(business_bin=BIN, name="Таза №1", address="Астана", region="71", sector="grocery"),
        businesses=businesses, outlets=outlets, secret=SECRET, clock=clock)
    bus_station, _ = register_outlet(
        RegisterOutlet(business_bin=BIN, name="Таза Автовокзал", address="Астана", region="71",
                       sector="intercity_transport"),
        businesses=businesses, outlets=outlets, secret=SECRET, clock=clock)
    return {"businesses": businesses, "outlets": outlets, "complaints": RecordingComplaints(vault), "clock": clock,
            "outlet": outlet, "bus_station": bus_station, "contacts": vault}


def _cmd(world=None, **kwargs) -> SubmitComplaint:
    if "business" not in kwargs and "outlet_code" not in kwargs:
        kwargs["outlet_code"] = world["outlet"].code
    return SubmitComplaint(text=kwargs.pop("text", TEXT), channel="qr", **kwargs)


def _submit(world, cmd: SubmitComplaint, complaints=None):
    return submit_complaint(cmd, outlets=world["outlets"], businesses=world["businesses"],
                            complaints=complaints or world["complaints"], contacts=world["contacts"],
                            catalog=load_catalog(), rules=load_deadline_rules(), routing_rules=load_rules(),
                            secret=SECRET, clock=world["clock"])


# --- the contact reference and the vault -------------------------------------------------------------------
def test_given_a_contact_then_its_reference_is_derived_from_the_id_and_the_request(world):
    cmd = _cmd(world, contact=AYDANA)
    c = _submit(world, cmd).complaint
    assert c.contact_ref == contact_ref(SECRET, c.id, request_fingerprint(cmd))
    assert re.fullmatch(r"ct_[0-9a-f]{32}", c.contact_ref)
    # each input moves the reference: another request, another complaint, another secret
    refs = {c.contact_ref, contact_ref(SECRET, c.id, "0" * 64), contact_ref(SECRET, codes.new_complaint_id(),
            request_fingerprint(cmd)), contact_ref("t" * 32, c.id, request_fingerprint(cmd))}
    assert len(refs) == 4


def test_given_a_contact_then_it_is_in_the_vault_before_the_complaint_is_saved(world):
    c = _submit(world, _cmd(world, contact=AYDANA)).complaint
    assert world["complaints"].saves == [(c.id, c.contact_ref, True)]
    assert world["contacts"].items == {c.contact_ref: AYDANA}
    # AND sharing it with the seller is opt-in
    assert c.identified and c.share_contact_with_business is False


def test_given_no_language_then_the_texts_language_is_the_consumers_and_a_given_one_wins(world):
    detected = _submit(world, _cmd(world)).complaint
    chosen = _submit(world, _cmd(world, language="kk")).complaint
    assert (detected.language, detected.text_language) == ("ru", "ru")
    assert (chosen.language, chosen.text_language) == ("kk", "ru")


def test_given_an_empty_contact_then_nothing_goes_to_the_vault(world):
    c = _submit(world, _cmd(world, contact=Contact(), share_contact_with_business=True)).complaint
    assert c.contact_ref is None and world["contacts"].items == {} and not c.share_contact_with_business


def test_given_a_random_id_that_collides_then_another_is_drawn_and_the_first_contact_withdrawn(world):
    # GIVEN a store where the first id drawn is already taken
    store = Colliding(world["contacts"], times=1)
    cmd = _cmd(world, contact=AYDANA)
    # WHEN a complaint without a key is submitted
    result = _submit(world, cmd, complaints=store)
    # THEN it is stored under a second id, with a contact reference derived from that id
    (first_id, first_ref, first_in_vault), (second_id, second_ref, second_in_vault) = store.saves
    assert first_in_vault and second_in_vault and first_id != second_id and first_ref != second_ref
    c = result.complaint
    assert result.created is True and c.id == second_id and c.contact_ref == second_ref
    assert c.contact_ref == contact_ref(SECRET, c.id, request_fingerprint(cmd))
    assert result.tracking_token == codes.tracking_token(SECRET, c.id)
    # AND the vault holds only the stored complaint's contact: the first one pointed at nothing
    assert world["contacts"].items == {c.contact_ref: AYDANA}
    assert store.gets == []  # a random collision is not a retry: no replay lookup


def test_given_ids_that_keep_colliding_then_it_gives_up_after_three_draws_leaving_the_vault_empty(world):
    store = Colliding(world["contacts"], times=10)
    with pytest.raises(RuntimeError, match="could not allocate a complaint id"):
        _submit(world, _cmd(world, contact=AYDANA), complaints=store)
    assert len(store.saves) == 3 and len({i for i, _, _ in store.saves}) == 3
    assert world["contacts"].items == {} and store.items == {}


def test_given_a_taken_key_whose_complaint_is_gone_then_the_contact_is_withdrawn_and_the_key_refused(world):
    store = Vanishing(world["contacts"])
    cmd = _cmd(world, contact=AYDANA, idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        _submit(world, cmd, complaints=store)
    expected_id = codes.complaint_id_for_key(SECRET, "k-1")
    assert store.saves[0][0] == expected_id and len(store.saves) == 1
    assert store.gets == [(expected_id, True)] and world["contacts"].items == {}


def test_given_an_honest_retry_then_the_contact_stays_and_the_stored_complaint_is_replayed(world):
    cmd = _cmd(world, contact=AYDANA, idempotency_key="k-2")
    first = _submit(world, cmd)
    again = _submit(world, cmd)
    assert again.created is False and again.complaint == first.complaint
    assert again.tracking_token == first.tracking_token
    assert world["contacts"].items == {first.complaint.contact_ref: AYDANA}
    assert world["complaints"].gets == [(first.complaint.id, True)]


# --- the seller -------------------------------------------------------------------------------------------------
def test_given_a_registered_business_named_without_a_sticker_then_its_registered_name_is_used(world):
    cmd = _cmd(business=SellerRef(bin=BIN, name="какой-то магазин", region="75", sector="pharmacy"))
    seller = resolve_seller(cmd, outlets=world["outlets"], businesses=world["businesses"])
    assert (seller.business_bin, seller.business_name, seller.business_registered) == (BIN, "ТОО «Таза»", True)
    assert (seller.region, seller.sector, seller.outlet) == ("75", "pharmacy", None)
    c = _submit(world, cmd).complaint
    assert (c.business_name, c.business_registered, c.sector, c.region, c.outlet_code) == (
        "ТОО «Таза»", True, "pharmacy", "75", None)


def test_given_an_unregistered_business_without_a_sector_then_the_given_name_and_other_are_used(world):
    seller = resolve_seller(_cmd(business=SellerRef(bin=OTHER_BIN, name="ИП Ромашка", region="02")),
                            outlets=world["outlets"], businesses=world["businesses"])
    assert (seller.business_bin, seller.business_name, seller.business_registered, seller.region, seller.sector) == (
        OTHER_BIN, "ИП Ромашка", False, "02", "other")


def test_given_an_outlet_code_then_the_seller_is_the_outlets_business(world):
    outlet = world["bus_station"]
    seller = resolve_seller(_cmd(outlet_code=outlet.code), outlets=world["outlets"], businesses=world["businesses"])
    assert (seller.business_bin, seller.business_name, seller.business_registered, seller.region, seller.sector,
            seller.outlet) == (BIN, "ТОО «Таза»", True, "71", "intercity_transport", outlet)


def test_given_a_suspended_outlet_then_a_new_complaint_is_refused_on_the_outlet_code(world):
    world["outlets"].set_status(world["outlet"].code, "suspended")
    with pytest.raises(ValidationFailed) as info:
        _submit(world, _cmd(world))
    assert info.value.fields == {"outlet_code": {"code": "unknown_outlet",
                                                 "message": "no active outlet has this code"}}
    assert world["complaints"].gets == []  # without a key there is nothing to replay


def test_given_a_retry_after_the_outlet_was_suspended_then_the_stored_complaint_is_replayed(world):
    # GIVEN a complaint filed with a key, then the outlet suspended
    cmd = _cmd(world, idempotency_key="k-3", contact=AYDANA)
    first = _submit(world, cmd)
    world["outlets"].set_status(world["outlet"].code, "suspended")
    # WHEN the client retries THEN it gets its complaint and link back, after a consistent read
    again = _submit(world, cmd)
    assert again.created is False and again.complaint == first.complaint
    assert again.tracking_token == first.tracking_token
    assert world["complaints"].gets == [(first.complaint.id, True)]
    # AND a different request under that key is still a reuse, and a fresh key is refused on the outlet
    with pytest.raises(IdempotencyKeyReused):
        _submit(world, _cmd(world, idempotency_key="k-3", text=TEXT + " Ещё."))
    with pytest.raises(ValidationFailed):
        _submit(world, _cmd(world, idempotency_key="k-4"))
    assert len(world["complaints"].items) == 1


# --- the holder's link ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad_id", ["", "abc", "c" + "7" * 15, "0" * 13, None])
def test_given_a_malformed_id_then_the_link_finds_nothing_without_a_read(world, bad_id):
    with pytest.raises(ComplaintNotFound) as info:
        complaint_for_holder(bad_id, "x" * 25, complaints=world["complaints"], secret=SECRET)
    assert info.value.message == "No complaint matches this link."
    assert world["complaints"].gets == []


def test_given_a_wrong_or_missing_token_then_the_link_finds_nothing_without_a_read(world):
    c = _submit(world, _cmd(world)).complaint
    for token in (None, "", "x" * 25, codes.tracking_token("t" * 32, c.id)):
        with pytest.raises(ComplaintNotFound) as info:
            complaint_for_holder(c.id, token, complaints=world["complaints"], secret=SECRET)
        assert info.value.message == "No complaint matches this link."
    assert world["complaints"].gets == []


def test_given_a_valid_token_for_an_id_never_stored_then_it_is_the_same_not_found(world):
    missing = codes.new_complaint_id()
    with pytest.raises(ComplaintNotFound) as info:
        complaint_for_holder(missing, codes.tracking_token(SECRET, missing), complaints=world["complaints"],
                             secret=SECRET)
    assert info.value.message == "No complaint matches this link."
    assert world["complaints"].gets == [(missing, False)]


def test_given_the_right_token_then_the_read_is_eventual_unless_asked_otherwise(world):
    result = _submit(world, _cmd(world))
    c = result.complaint
    assert complaint_for_holder(c.id, result.tracking_token, complaints=world["complaints"], secret=SECRET) == c
    assert complaint_for_holder(c.id, result.tracking_token, complaints=world["complaints"], secret=SECRET,
                                consistent=True) == c
    assert world["complaints"].gets == [(c.id, False), (c.id, True)]


# --- the routing preview -------------------------------------------------------------------------------------------
def _preview(world, **kwargs):
    return preview_routing(text=kwargs.pop("text", PLAIN_TEXT), category=kwargs.pop("category", None),
                           outlets=world["outlets"], catalog=load_catalog(), routing_rules=load_rules(), **kwargs)


def test_given_an_outlet_code_then_the_preview_routes_by_the_outlets_sector(world):
    decision = _preview(world, outlet_code=world["bus_station"].code, sector="grocery")
    assert (decision.agency_id, decision.method) == ("transport", "sector")


def test_given_no_outlet_then_the_preview_uses_the_given_sector_or_the_default(world):
    assert (_preview(world, outlet_code=None, sector="intercity_transport").agency_id) == "transport"
    fallback = _preview(world, outlet_code=None)
    assert (fallback.agency_id, fallback.method) == ("kzpp", "default")


def test_given_a_category_then_the_preview_routes_by_it_as_a_submission_would(world):
    decision = _preview(world, outlet_code=world["outlet"].code, category="overcharge")
    assert (decision.agency_id, decision.method) == ("kzpp", "category")
    c = _submit(world, _cmd(world, text=PLAIN_TEXT, category="overcharge")).complaint
    assert c.routing == decision


def test_given_an_unknown_outlet_then_the_preview_is_an_outlet_code_field_error(world):
    with pytest.raises(ValidationFailed) as info:
        _preview(world, outlet_code=codes.new_outlet_code())
    assert info.value.fields["outlet_code"]["code"] == "unknown_outlet"
