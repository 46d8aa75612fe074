"""API keys on the in-memory key table: issuing, revoking, authenticating and role checks.

Messages are pinned word for word because the API returns the English text as it is (i18n.localise), and
the "missing" message is shared on purpose: an unknown, malformed or mistyped key must look alike.
"""
import hashlib
import re
from datetime import timedelta

import pytest

from chalicelib.domain.errors import AlreadyExists, Forbidden, Unauthorized, ValidationFailed
from chalicelib.domain.model import Actor, ApiKey
from chalicelib.services.auth import (ROLES, IssuedKey, Principal, authenticate, hash_key, issue_key,
                                      require_role, revoke_key)
from tests.fakes import FakeKeys, FixedClock

BIN = "940140000385"
MISSING = "Send a valid key as 'Authorization: Bearer <key>'."
KEY_ID = re.compile(r"^qk_([^.]*)\.", re.IGNORECASE)   # the id part of any key shape, for hand-made records
KEY_FORMAT = re.compile(r"^qk_(k[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$")   # token_urlsafe(32) is 43 characters


@pytest.fixture
def keys():
    return FakeKeys()


@pytest.fixture
def clock():
    return FixedClock()


def _issue(keys, clock, role="admin", label="ops", **kwargs):
    return issue_key(role=role, label=label, keys=keys, clock=clock, **kwargs)


def _invalid(keys, clock, **kwargs):
    with pytest.raises(ValidationFailed) as caught:
        _issue(keys, clock, **kwargs)
    error = caught.value
    assert error.code == "validation_failed" and error.message == "Some fields are invalid."
    assert not keys.items   # a refused request stores nothing
    return error.fields


def _unauthorized(header, keys, clock):
    with pytest.raises(Unauthorized) as caught:
        authenticate(header, keys=keys, clock=clock)
    assert caught.value.code == "unauthorized"
    return caught.value.message


def _store(keys, clock, key, **kwargs):
    """A key record made by hand, to reach key shapes issue_key never produces."""
    key_id = KEY_ID.match(key).group(1)
    keys.add(ApiKey(key_id=key_id, key_hash=hash_key(key), role="analyst", label="hand", created_at=clock.now(),
                    **kwargs))



# --- issue_key: validation ---------------------------------------------------------------------------------------

def test_GIVEN_an_unknown_role_WHEN_issuing_THEN_role_field_lists_the_roles(keys, clock):
    assert _invalid(keys, clock, role="root") == {
        "role": {"code": "enum", "message": "one of admin, analyst, agency, business"}}
    assert ROLES == ("admin", "analyst", "agency", "business")


def test_GIVEN_an_agency_key_without_agency_WHEN_issuing_THEN_agency_id_is_missing(keys, clock):
    assert _invalid(keys, clock, role="agency") == {
        "agency_id": {"code": "missing", "message": "an agency key needs agency_id"}}


def test_GIVEN_an_agency_not_in_the_catalogue_WHEN_issuing_THEN_unknown_agency(keys, clock):
    assert _invalid(keys, clock, role="agency", agency_id="nope", known_agencies={"kzpp"}) == {
        "agency_id": {"code": "unknown_agency", "message": "no such agency"}}


def test_GIVEN_a_region_not_in_the_catalogue_WHEN_issuing_THEN_the_region_is_named(keys, clock):
    fields = _invalid(keys, clock, role="agency", agency_id="kzpp", regions=["71", "99"],
                      known_agencies={"kzpp"}, known_regions={"71", "75"})
    assert fields == {"regions": {"code": "unknown_region", "message": "no region 99"}}


@pytest.mark.parametrize("role", ["admin", "analyst", "business"])
@pytest.mark.parametrize("scope", [{"agency_id": "kzpp"}, {"regions": ["71"]}])
def test_GIVEN_a_non_agency_key_with_agency_scope_WHEN_issuing_THEN_extra_forbidden(keys, clock, role, scope):
    extra = {"bin": BIN} if role == "business" else {}
    assert _invalid(keys, clock, role=role, **scope, **extra) == {
        "agency_id": {"code": "extra_forbidden", "message": "only agency keys have an agency and regions"}}


@pytest.mark.parametrize("bin", [None, "", "940140000386", "94014000038"])
def test_GIVEN_a_business_key_without_a_valid_bin_WHEN_issuing_THEN_invalid_bin(keys, clock, bin):
    assert _invalid(keys, clock, role="business", bin=bin) == {
        "bin": {"code": "invalid_bin", "message": "a business key needs a valid BIN/IIN"}}


@pytest.mark.parametrize("role, extra", [("admin", {}), ("analyst", {}), ("agency", {"agency_id": "kzpp"})])
def test_GIVEN_a_non_business_key_with_a_bin_WHEN_issuing_THEN_extra_forbidden(keys, clock, role, extra):
    assert _invalid(keys, clock, role=role, bin=BIN, **extra) == {
        "bin": {"code": "extra_forbidden", "message": "only business keys have a BIN"}}


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=-1)])
def test_GIVEN_an_expiry_now_or_past_WHEN_issuing_THEN_in_past(keys, clock, delta):
    assert _invalid(keys, clock, expires_at=clock.now() + delta) == {
        "expires_at": {"code": "in_past", "message": "must be in the future"}}


def test_GIVEN_an_expiry_a_microsecond_ahead_WHEN_issuing_THEN_the_key_is_issued(keys, clock):
    expires = clock.now() + timedelta(microseconds=1)
    assert _issue(keys, clock, expires_at=expires).expires_at == expires


# --- issue_key: what is issued and stored ------------------------------------------------------------------------

def test_GIVEN_an_admin_key_WHEN_issued_THEN_only_its_hash_is_stored_under_its_id(keys, clock):
    issued = _issue(keys, clock, created_by="kcreator00001")
    match = KEY_FORMAT.match(issued.key)
    assert match, issued.key
    assert match.group(1) == issued.key_id and list(keys.items) == [issued.key_id]
    record = keys.get(issued.key_id)
    assert record.key_hash == hashlib.sha256(issued.key.encode()).hexdigest() == hash_key(issued.key)
    assert issued.key not in repr(record)
    assert (record.role, record.label, record.created_at, record.created_by) == (
        "admin", "ops", clock.now(), "kcreator00001")
    assert (record.agency_id, record.regions, record.bin, record.expires_at, record.revoked_at) == (
        None, (), None, None, None)


def test_GIVEN_an_agency_key_WHEN_issued_THEN_regions_are_sorted_without_repeats(keys, clock):
    issued = _issue(keys, clock, role="agency", agency_id="kzpp", regions=["75", "71", "75"],
                    known_agencies={"kzpp"}, known_regions={"71", "75"})
    assert issued == IssuedKey(key_id=issued.key_id, key=issued.key, role="agency", label="ops", agency_id="kzpp",
                               regions=("71", "75"), bin=None, expires_at=None)
    record = keys.get(issued.key_id)
    assert (record.agency_id, record.regions) == ("kzpp", ("71", "75"))


def test_GIVEN_no_catalogues_WHEN_an_agency_key_is_issued_THEN_any_agency_and_region_pass(keys, clock):
    issued = _issue(keys, clock, role="agency", agency_id="new-agency", regions=["99"])
    assert (issued.agency_id, issued.regions) == ("new-agency", ("99",))


def test_GIVEN_a_business_key_WHEN_issued_THEN_its_bin_is_stored(keys, clock):
    issued = _issue(keys, clock, role="business", bin=BIN)
    assert issued.bin == BIN and keys.get(issued.key_id).bin == BIN


def test_GIVEN_two_issues_WHEN_compared_THEN_ids_and_keys_differ(keys, clock):
    first, second = _issue(keys, clock), _issue(keys, clock)
    assert first.key_id != second.key_id and first.key != second.key and len(keys.items) == 2


@pytest.mark.parametrize("label, stored", [("  night shift  ", "night shift"), ("", "analyst"), (None, "analyst"),
                                           ("   ", "analyst"), ("x" * 250, "x" * 200), (" " + "y" * 201, "y" * 200)])
def test_GIVEN_a_label_WHEN_issuing_THEN_it_is_trimmed_cut_to_200_or_defaults_to_the_role(keys, clock, label, stored):
    issued = _issue(keys, clock, role="analyst", label=label)
    assert issued.label == stored and keys.get(issued.key_id).label == stored


class _CollidingKeys(FakeKeys):
    """A key table whose first `collisions` writes find the id taken."""

    def __init__(self, collisions: int) -> None:
        super().__init__()
        self.collisions = collisions
        self.tried = []

    def add(self, key):
        self.tried.append(key.key_id)
        if len(self.tried) <= self.collisions:
            raise AlreadyExists("exists")
        super().add(key)


@pytest.mark.parametrize("collisions", [1, 2])
def test_GIVEN_a_taken_key_id_WHEN_issuing_THEN_a_new_id_is_drawn(clock, collisions):
    keys = _CollidingKeys(collisions)
    issued = _issue(keys, clock)
    assert len(keys.tried) == collisions + 1 and keys.tried[-1] == issued.key_id
    assert list(keys.items) == [issued.key_id] and KEY_FORMAT.match(issued.key).group(1) == issued.key_id
    assert keys.get(issued.key_id).key_hash == hash_key(issued.key)


def test_GIVEN_every_key_id_taken_WHEN_issuing_THEN_it_gives_up_after_three_tries(clock):
    keys = _CollidingKeys(10 ** 6)
    with pytest.raises(RuntimeError, match=r"^could not allocate a key id$"):
        _issue(keys, clock)
    assert len(keys.tried) == 3 and not keys.items


# --- revoke_key ---------------------------------------------------------------------------------------------------

def test_GIVEN_a_key_WHEN_revoked_THEN_time_and_revoker_are_recorded(keys, clock):
    issued = _issue(keys, clock)
    clock.advance(minutes=5)
    assert revoke_key(issued.key_id, keys=keys, clock=clock, by="kadmin0000001") is True
    record = keys.get(issued.key_id)
    assert (record.revoked_at, record.revoked_by) == (clock.now(), "kadmin0000001")


def test_GIVEN_no_such_key_WHEN_revoked_THEN_false(keys, clock):
    assert revoke_key("k000000000000", keys=keys, clock=clock) is False


# --- authenticate -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header_of", [
    lambda k: "Bearer " + k, lambda k: "bearer " + k, lambda k: "BEARER " + k,
    lambda k: "  Bearer " + k + "  ", lambda k: "Bearer    " + k, lambda k: "\tBearer " + k + "\n",
])
def test_GIVEN_a_bearer_header_in_any_case_or_spacing_WHEN_authenticating_THEN_the_principal(keys, clock, header_of):
    issued = _issue(keys, clock, role="agency", label="ДЗПП Астана", agency_id="kzpp", regions=["71", "75"])
    principal = authenticate(header_of(issued.key), keys=keys, clock=clock)
    assert principal == Principal(role="agency", key_id=issued.key_id, label="ДЗПП Астана", agency_id="kzpp",
                                  regions=frozenset({"71", "75"}), bin=None)


def test_GIVEN_a_business_key_WHEN_authenticating_THEN_the_principal_carries_its_bin(keys, clock):
    issued = _issue(keys, clock, role="business", bin=BIN, label="Таза")
    principal = authenticate(f"Bearer {issued.key}", keys=keys, clock=clock)
    assert (principal.role, principal.bin, principal.agency_id, principal.label) == ("business", BIN, None, "Таза")
    assert principal.actor == Actor("business", BIN, issued.key_id)


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer ", "qk_k0123456789ab.secretsecretsecret12"])
def test_GIVEN_no_usable_header_WHEN_authenticating_THEN_the_generic_message(keys, clock, header):
    assert _unauthorized(header, keys, clock) == MISSING


@pytest.mark.parametrize("scheme", ["Basic", "Token", "Bearer:", "Bearerx"])
def test_GIVEN_a_valid_key_under_another_scheme_WHEN_authenticating_THEN_the_generic_message(keys, clock, scheme):
    issued = _issue(keys, clock)
    assert _unauthorized(f"{scheme} {issued.key}", keys, clock) == MISSING


def test_GIVEN_a_right_id_with_a_wrong_secret_WHEN_authenticating_THEN_the_generic_message(keys, clock):
    issued = _issue(keys, clock)
    prefix, secret = issued.key.split(".")
    other = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert _unauthorized(f"Bearer {prefix}.{other}", keys, clock) == MISSING


def test_GIVEN_a_well_formed_unknown_key_WHEN_authenticating_THEN_the_generic_message(keys, clock):
    _issue(keys, clock)
    assert _unauthorized("Bearer qk_k0123456789ab." + "a" * 43, keys, clock) == MISSING


@pytest.mark.parametrize("secret_len, accepted", [(19, False), (20, True), (100, True), (101, False)])
def test_GIVEN_a_secret_part_length_WHEN_authenticating_THEN_only_20_to_100_characters_pass(keys, clock, secret_len,
                                                                                             accepted):
    key = "qk_k0123456789ab." + "a" * secret_len
    _store(keys, clock, key)
    if accepted:
        assert authenticate(f"Bearer {key}", keys=keys, clock=clock).key_id == "k0123456789ab"
    else:
        assert _unauthorized(f"Bearer {key}", keys, clock) == MISSING


@pytest.mark.parametrize("key", [
    "qk_k0123456789AB." + "a" * 30,          # upper-case hex in the id
    "qk_k0123456789a." + "a" * 30,           # 11 hex digits
    "qk_k0123456789abc." + "a" * 30,         # 13 hex digits
    "qk_x0123456789ab." + "a" * 30,          # not a k-id
    "QK_k0123456789ab." + "a" * 30,          # prefix is case-sensitive
    "qk_k0123456789ab." + "a" * 29 + "=",    # not URL-safe base64
    "qk_k0123456789ab." + "a" * 29 + ".",
])
def test_GIVEN_a_stored_key_of_the_wrong_shape_WHEN_authenticating_THEN_it_is_refused(keys, clock, key):
    _store(keys, clock, key)
    assert _unauthorized(f"Bearer {key}", keys, clock) == MISSING


def test_GIVEN_key_with_trailing_text_WHEN_authenticating_THEN_it_is_refused(keys, clock):
    issued = _issue(keys, clock)
    assert _unauthorized(f"Bearer {issued.key} extra", keys, clock) == MISSING


def test_GIVEN_a_revoked_key_WHEN_authenticating_THEN_it_says_revoked(keys, clock):
    issued = _issue(keys, clock)
    revoke_key(issued.key_id, keys=keys, clock=clock)
    assert _unauthorized(f"Bearer {issued.key}", keys, clock) == "This key has been revoked."


def test_GIVEN_a_revoked_key_with_a_wrong_secret_WHEN_authenticating_THEN_nothing_about_it_is_revealed(keys, clock):
    issued = _issue(keys, clock)
    revoke_key(issued.key_id, keys=keys, clock=clock)
    prefix, _ = issued.key.split(".")
    assert _unauthorized(f"Bearer {prefix}." + "Z" * 43, keys, clock) == MISSING


def test_GIVEN_a_key_expiring_exactly_now_WHEN_authenticating_THEN_it_has_expired(keys, clock):
    issued = _issue(keys, clock, expires_at=clock.now() + timedelta(hours=1))
    clock.advance(hours=1)
    assert _unauthorized(f"Bearer {issued.key}", keys, clock) == "This key has expired."


def test_GIVEN_a_key_a_microsecond_before_expiry_WHEN_authenticating_THEN_it_works(keys, clock):
    issued = _issue(keys, clock, expires_at=clock.now() + timedelta(hours=1))
    clock.advance(hours=1, microseconds=-1)
    assert authenticate(f"Bearer {issued.key}", keys=keys, clock=clock).key_id == issued.key_id


def test_GIVEN_a_revoked_and_expired_key_WHEN_authenticating_THEN_revocation_is_reported(keys, clock):
    issued = _issue(keys, clock, expires_at=clock.now() + timedelta(hours=1))
    revoke_key(issued.key_id, keys=keys, clock=clock)
    clock.advance(hours=2)
    assert _unauthorized(f"Bearer {issued.key}", keys, clock) == "This key has been revoked."


# --- Principal and require_role -----------------------------------------------------------------------------------

def test_GIVEN_principals_WHEN_asked_for_actor_and_regions_THEN_scope_is_agency_or_bin():
    agency = Principal(role="agency", key_id="k1", label="a", agency_id="kzpp", regions=frozenset({"71"}))
    admin = Principal(role="admin", key_id="k2", label="b")
    assert agency.actor == Actor("agency", "kzpp", "k1") and admin.actor == Actor("admin", None, "k2")
    assert agency.sees_region("71") and not agency.sees_region("75")
    assert admin.sees_region("75")   # no regions: every region


@pytest.mark.parametrize("roles", ["analyst", ("admin", "analyst"), ["admin", "analyst"], {"analyst"}])
def test_GIVEN_an_allowed_role_WHEN_required_THEN_the_principal_is_returned(roles):
    principal = Principal(role="analyst", key_id="k1", label="x")
    assert require_role(principal, roles) is principal


@pytest.mark.parametrize("roles", ["admin", ("admin", "agency"), ["admin"], "analyst_admin"])
def test_GIVEN_another_role_WHEN_required_THEN_forbidden(roles):
    with pytest.raises(Forbidden) as caught:
        require_role(Principal(role="analyst", key_id="k1", label="x"), roles)
    assert caught.value.code == "forbidden"
    assert caught.value.message == "This key may not use this part of the API."
