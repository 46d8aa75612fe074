"""register_business and register_outlet on the in-memory fakes: what an administrator and the bulk importer rely on.

Error messages are pinned word for word because the API returns the English text as it is (i18n.localise).
"""
from dataclasses import replace

import pytest

from chalicelib.domain import codes
from chalicelib.domain.errors import AlreadyExists, BusinessNotFound, Conflict, IdempotencyKeyReused
from chalicelib.services.admin import RegisterBusiness, RegisterOutlet, register_business, register_outlet
from chalicelib.services.idempotency import request_fingerprint
from tests.fakes import FakeBusinesses, FakeOutlets, FixedClock

SECRET = "s" * 32
BIN = "940140000385"
IIN = "871215500123"


@pytest.fixture
def world():
    businesses, outlets, clock = FakeBusinesses(), FakeOutlets(), FixedClock()
    register_business(RegisterBusiness(bin=BIN, name="ТОО «Таза»", region="71"), businesses=businesses, clock=clock)
    return {"businesses": businesses, "outlets": outlets, "clock": clock}


def _outlet_cmd(**kwargs):
    values = {"business_bin": BIN, "name": "Таза №1", "address": "Астана, Кенесары 1", "region": "71",
              "sector": "grocery"}
    return RegisterOutlet(**{**values, **kwargs})


def _register(world, cmd=None, *, outlets=None, actor=None, **kwargs):
    return register_outlet(cmd or _outlet_cmd(**kwargs), businesses=world["businesses"],
                           outlets=outlets if outlets is not None else world["outlets"], secret=SECRET,
                           clock=world["clock"], actor=actor)


class _CollidingOutlets(FakeOutlets):
    """An outlet table whose first `collisions` writes find the code taken; records every call."""

    def __init__(self, collisions: int) -> None:
        super().__init__()
        self.collisions = collisions
        self.tried = []
        self.reads = []

    def add(self, outlet):
        self.tried.append(outlet.code)
        if len(self.tried) <= self.collisions:
            raise AlreadyExists("exists")
        super().add(outlet)

    def get(self, code, *, consistent=False):
        self.reads.append((code, consistent))
        return super().get(code, consistent=consistent)


# --- register_business -------------------------------------------------------------------------------------------

def test_GIVEN_a_new_bin_WHEN_registered_THEN_business_is_stored_with_kind_time_and_actor():
    businesses, clock = FakeBusinesses(), FixedClock()
    business, created = register_business(RegisterBusiness(bin=IIN, name="ИП Ахметов", region="75"),
                                           businesses=businesses, clock=clock, actor="kadmin0000001")
    assert created is True
    assert businesses.get(IIN) == business
    assert (business.bin, business.kind, business.name, business.region) == (IIN, "iin", "ИП Ахметов", "75")
    assert business.created_at == clock.now() and business.created_by == "kadmin0000001"


def test_GIVEN_the_same_data_again_WHEN_registered_THEN_the_stored_business_is_returned_unchanged(world):
    first = world["businesses"].get(BIN)
    world["clock"].advance(days=1)
    again, created = register_business(RegisterBusiness(bin=BIN, name="ТОО «Таза»", region="71"),
                                       businesses=world["businesses"], clock=world["clock"], actor="kother")
    assert created is False and again is first and again.created_by is None


@pytest.mark.parametrize("name, region", [("ТОО «Таза Плюс»", "71"), ("ТОО «Таза»", "75")])
def test_GIVEN_a_bin_with_other_details_WHEN_registered_THEN_conflict_on_the_bin_field(world, name, region):
    with pytest.raises(Conflict) as caught:
        register_business(RegisterBusiness(bin=BIN, name=name, region=region),
                          businesses=world["businesses"], clock=world["clock"])
    error = caught.value
    assert type(error) is Conflict and error.code == "conflict"
    assert error.message == "A business with this BIN is already registered with other details."
    assert error.fields == {"bin": {"code": "already_registered",
                                    "message": "already registered with another name or region"}}
    assert world["businesses"].get(BIN).name == "ТОО «Таза»"   # the first registration stands


# --- register_outlet ---------------------------------------------------------------------------------------------

def test_GIVEN_an_unknown_business_WHEN_an_outlet_is_registered_THEN_business_not_found_on_business_bin(world):
    with pytest.raises(BusinessNotFound) as caught:
        _register(world, business_bin="050840001233")
    error = caught.value
    assert error.code == "business_not_found"
    assert error.message == "Register the business before its outlets."
    assert error.fields == {"business_bin": {"code": "unknown_business",
                                             "message": "no business with this BIN is registered"}}
    assert not world["outlets"].items


def test_GIVEN_a_registered_business_WHEN_an_outlet_is_registered_THEN_every_field_is_stored(world):
    outlet, created = _register(world, kato="711210000", external_ref="store-17", actor="kadmin0000001")
    assert created is True and world["outlets"].get(outlet.code) == outlet
    assert codes.parse_outlet_code(outlet.code) == outlet.code
    assert (outlet.business_bin, outlet.business_name) == (BIN, "ТОО «Таза»")
    assert (outlet.name, outlet.address, outlet.region, outlet.sector) == (
        "Таза №1", "Астана, Кенесары 1", "71", "grocery")
    assert (outlet.kato, outlet.external_ref, outlet.created_by) == ("711210000", "store-17", "kadmin0000001")
    assert outlet.created_at == world["clock"].now() and outlet.status == "active"
    # the stored fingerprint is what a retry is compared with
    assert outlet.fingerprint == request_fingerprint(
        _outlet_cmd(kato="711210000", external_ref="store-17", idempotency_key="any"))


def test_GIVEN_no_idempotency_key_WHEN_the_same_outlet_is_registered_twice_THEN_two_stickers_are_made(world):
    first, _ = _register(world)
    second, created = _register(world)
    assert created is True and first.code != second.code
    assert len(world["outlets"].items) == 2


def test_GIVEN_no_idempotency_key_WHEN_registered_THEN_the_code_is_a_fresh_random_one(world, monkeypatch):
    monkeypatch.setattr(codes, "new_outlet_code", lambda: "FRESHCODE")
    outlet, _ = _register(world)
    assert outlet.code == "FRESHCODE"


def test_GIVEN_an_idempotency_key_WHEN_registered_THEN_the_code_is_derived_from_the_key(world):
    outlet, created = _register(world, idempotency_key="940140000385:17")
    expected = codes.outlet_code_from_digest(codes.keyed_digest(SECRET, "outlet-idempotency", "940140000385:17"))
    assert created is True and outlet.code == expected


def test_GIVEN_a_rerun_import_WHEN_the_same_key_and_data_come_again_THEN_the_same_outlet_is_returned(world):
    first, _ = _register(world, idempotency_key="940140000385:17", external_ref="17")
    world["clock"].advance(hours=1)
    again, created = _register(world, idempotency_key="940140000385:17", external_ref="17")
    assert created is False and again == first and len(world["outlets"].items) == 1


def test_GIVEN_a_used_key_WHEN_other_data_comes_under_it_THEN_the_key_is_reported_reused_for_an_outlet(world):
    _register(world, idempotency_key="940140000385:17")
    with pytest.raises(IdempotencyKeyReused) as caught:
        _register(world, idempotency_key="940140000385:17", address="Алматы, Абая 2")
    assert caught.value.message == "This Idempotency-Key was already used for a different outlet."
    assert caught.value.fields["Idempotency-Key"]["code"] == "reused"


def test_GIVEN_a_keyed_collision_WHEN_registering_THEN_the_twin_is_read_strongly_consistently(world):
    outlets = _CollidingOutlets(collisions=0)
    first, _ = _register(world, outlets=outlets, idempotency_key="k-1")
    outlets.reads.clear()
    again, created = _register(world, outlets=outlets, idempotency_key="k-1")
    # the first write may be milliseconds old: an eventually consistent read could miss it
    assert created is False and again == first
    assert outlets.reads == [(first.code, True)]


def test_GIVEN_a_random_code_already_taken_WHEN_registering_THEN_a_new_code_is_drawn_and_stored(world, monkeypatch):
    drawn = iter(["TAKENCODE", "SECONDCODE"])
    monkeypatch.setattr(codes, "new_outlet_code", lambda: next(drawn))
    outlets = _CollidingOutlets(collisions=1)
    outlet, created = _register(world, outlets=outlets)
    assert created is True and outlet.code == "SECONDCODE"
    assert outlets.tried == ["TAKENCODE", "SECONDCODE"] and set(outlets.items) == {"SECONDCODE"}


def test_GIVEN_four_collisions_WHEN_registering_THEN_the_fifth_code_is_used(world):
    outlets = _CollidingOutlets(collisions=4)
    outlet, created = _register(world, outlets=outlets)
    assert created is True and len(outlets.tried) == 5 and len(set(outlets.tried)) == 5
    assert outlets.tried[-1] == outlet.code and all(code is not None for code in outlets.tried)


def test_GIVEN_every_code_taken_WHEN_registering_THEN_it_gives_up_after_five_tries(world):
    outlets = _CollidingOutlets(collisions=10 ** 6)
    with pytest.raises(RuntimeError, match=r"^could not allocate an outlet code$"):
        _register(world, outlets=outlets)
    assert len(outlets.tried) == 5 and not outlets.items


def test_GIVEN_a_renamed_business_WHEN_an_outlet_is_registered_THEN_its_name_comes_from_the_stored_business(world):
    # the outlet card shows the registered name, not anything the importer sends
    world["businesses"].items[BIN] = replace(world["businesses"].get(BIN), name="ТОО «Таза Нова»")
    outlet, _ = _register(world)
    assert outlet.business_name == "ТОО «Таза Нова»"
