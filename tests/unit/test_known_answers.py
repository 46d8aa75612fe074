"""Known answers: values already out in the world, pinned as literals.

Tracking tokens are derived, never stored: a link sent to a consumer works only while the same secret and
complaint id give the same token. Complaint ids derived from an Idempotency-Key must not change between
deploys, or a client retrying across a deploy files a second complaint. Derived outlet codes must not change,
or re-running a chain's import prints new stickers for outlets that already have them.

The literals were computed once from the code (2026-11) and are written here by hand. If one of these tests
fails, the change breaks links, retries or stickers already issued: do not update the literal, keep the old
derivation (or add a versioned new one alongside it).
"""
import random

import pytest

from chalicelib.domain import codes
from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.routing import load_rules
from chalicelib.services.admin import RegisterBusiness, RegisterOutlet, register_business, register_outlet
from chalicelib.services.complaints import SubmitComplaint, submit_complaint
from tests.fakes import FakeBusinesses, FakeComplaints, FakeContactVault, FakeOutlets, FixedClock
from tools.admin import Row

SECRET = "test-secret-test-secret-test-secret-0001"
OTHER_SECRET = "s" * 32


# ------------------------------------------------------------------------ keyed digests (HMAC-SHA256)

@pytest.mark.parametrize(("secret", "namespace", "value", "hex_digest"), [
    (OTHER_SECRET, "tracking-token", "ABCDEFGHJKMN",
     "a58caf27f2e6dacbc400f2bb5db834416e7a44c6ed58ff8ec84ba62eed27519a"),
    (OTHER_SECRET, "complaint-idempotency", "key-1",
     "76092859f62a64ff5fa70af7ede83b51f46f3a8872b5cf30b58818f9ca27dd70"),
    (SECRET, "tracking-token", "5W62FDHTRVY6",
     "97b28c562d61ae37965cab511d48aacfac1a5f66a58507576f4751b7fe764911"),
    (SECRET, "complaint-idempotency", "key-1",
     "2f0c27b63ac6fc633403b3c730a508bd5453e80e9e7e4115613fb9e3cf284448"),
    (SECRET, "outlet-idempotency", "940140000385:tm-001",
     "52b868df3b7181b6bf7bcc24f9ccc87c117dd5373e3c351ec37a9cbc4f256f50"),
])
def test_keyed_digest(secret, namespace, value, hex_digest):
    assert codes.keyed_digest(secret, namespace, value).hex() == hex_digest


# ------------------------------------------------------------------------ complaint ids from Idempotency-Key

@pytest.mark.parametrize(("secret", "key", "complaint_id"), [
    (SECRET, "key-1", "5W62FDHTRVY6"),
    (SECRET, "3f1c2a9e-5b7d-4e0a-9c1f-2d8e6b4a7c10", "NG31GE2YEMMX"),
    (SECRET, "Қазақ-кілт-№1", "TE6EG7ZER663"),
    (OTHER_SECRET, "key-1", "ER4JGPFP59JF"),
    (OTHER_SECRET, "3f1c2a9e-5b7d-4e0a-9c1f-2d8e6b4a7c10", "Q1CSY2EPY3WY"),
    (OTHER_SECRET, "Қазақ-кілт-№1", "DM782NXAZ0V4"),
])
def test_complaint_id_for_idempotency_key(secret, key, complaint_id):
    assert codes.complaint_id_for_key(secret, key) == complaint_id


# ------------------------------------------------------------------------ tracking tokens

@pytest.mark.parametrize(("secret", "complaint_id", "token"), [
    (SECRET, "5W62FDHTRVY6", "jys8rnhdc6q3f5jwnd8htj5as"),
    (SECRET, "NG31GE2YEMMX", "9rc9a2d69j5e5kw1kk6de9mjv"),
    (SECRET, "TE6EG7ZER663", "mkva35s74b3aeds7b08jfm04k"),
    (SECRET, "ABCDEFGHJKMN", "pj42jwzxxhgasmkcbxtmpt1wm"),
    (SECRET, "EWDX192TKQH2", "x870wwt6vtaf1sjdhwqc1hp2v"),
    (SECRET, "000000000000", "sv1t30988aa0vw8csnqjcpjt6"),
    (SECRET, "ZZZZZZZZZZZZ", "dxbnryh4tzqx847741jcpyy69"),
    (OTHER_SECRET, "ER4JGPFP59JF", "wv4x1975je1d6b1qdq9bak1e2"),
    (OTHER_SECRET, "ABCDEFGHJKMN", "mp6ay9zjwvdcqh00yaxnve1m8"),
    (OTHER_SECRET, "EWDX192TKQH2", "ed2ycq6qms6dn3qpz5fcr4ygw"),
    (OTHER_SECRET, "000000000000", "7frpstq3200qt5gfdf6z251bs"),
    (OTHER_SECRET, "ZZZZZZZZZZZZ", "y6gajgt50z4x3jwam1eff4znx"),
])
def test_tracking_token(secret, complaint_id, token):
    assert codes.tracking_token(secret, complaint_id) == token
    assert codes.token_matches(secret, complaint_id, token)


# ------------------------------------------------------------------------ derived outlet codes

@pytest.mark.parametrize(("secret", "key", "code"), [
    (SECRET, "940140000385:tm-001", "GBDRYQ4J"),   # first candidate's check value is 33: the second is used
    (SECRET, "940140000385:tm-003", "3VN4EMS5"),   # first candidate used
    (SECRET, "940140000385:tm-011", "RED21XGV"),   # first candidate's check value is exactly 32
    (SECRET, "940140000385:tm-012", "813KRBJQ"),   # check values 36, 34: the third candidate is used
    (SECRET, "950341000052:42", "858RN4RG"),
    (OTHER_SECRET, "940140000385:tm-001", "JCVNANHD"),
    (OTHER_SECRET, "950341000052:42", "9WGVJ5HY"),
])
def test_outlet_code_from_idempotency_key(secret, key, code):
    assert codes.outlet_code_from_digest(codes.keyed_digest(secret, "outlet-idempotency", key)) == code
    assert codes.parse_outlet_code(code) == code


def test_outlet_codes_from_a_seeded_generator():
    # new_outlet_code takes its randomness as a parameter; a seeded one makes the drawing itself a known answer
    rng = random.Random(2026)
    assert [codes.new_outlet_code(randbits=rng.getrandbits) for _ in range(5)] == [
        "8F7X90SK", "Y0A9QTT6", "P1GDM1VM", "ZE2HZWGV", "WD4CT44K"]


@pytest.mark.parametrize(("data", "key", "code"), [
    ({"business_bin": "940140000385", "external_ref": "tm-001"},
     "940140000385:a564e926620e852b7ba20f6580617e1e", "GBHTJQ9C"),
    ({"business_bin": "940140000385", "external_ref": "", "outlet_name": "Таза №1", "address": "Астана, Кенесары 40"},
     "940140000385:ab4e43d123013cf490e0ba491a9ad2ff", "3FMQ8GCT"),
])
def test_a_csv_row_keeps_its_sticker_code_across_imports(data, key, code):
    # the importer's Idempotency-Key for a row, then the code the admin service derives from it
    assert Row(line=2, data=data).outlet_key() == key
    businesses, outlets = FakeBusinesses(), FakeOutlets()
    register_business(RegisterBusiness(bin="940140000385", name="ТОО «Таза»", region="71"),
                      businesses=businesses, clock=FixedClock())
    outlet, created = register_outlet(
        RegisterOutlet(business_bin="940140000385", name="Таза №1", address="Астана", region="71", sector="grocery",
                       idempotency_key=key),
        businesses=businesses, outlets=outlets, secret=SECRET, clock=FixedClock())
    assert created and outlet.code == code


def test_a_submission_with_an_idempotency_key_gets_the_pinned_id_and_token():
    # through the use case, so a change in what the service feeds the derivation is caught too
    businesses, outlets, complaints, clock = FakeBusinesses(), FakeOutlets(), FakeComplaints(), FixedClock()
    register_business(RegisterBusiness(bin="940140000385", name="ТОО «Таза»", region="71"),
                      businesses=businesses, clock=clock)
    outlet, _ = register_outlet(
        RegisterOutlet(business_bin="940140000385", name="Таза №1", address="Астана", region="71", sector="grocery"),
        businesses=businesses, outlets=outlets, secret=SECRET, clock=clock)
    result = submit_complaint(
        SubmitComplaint(text="Продали просроченный кефир, срок годности вышел неделю назад.", channel="qr",
                        outlet_code=outlet.code, idempotency_key="key-1"),
        outlets=outlets, businesses=businesses, complaints=complaints, contacts=FakeContactVault(),
        catalog=load_catalog(), rules=load_deadline_rules(), routing_rules=load_rules(), secret=SECRET, clock=clock)
    assert (result.complaint.id, result.tracking_token) == ("5W62FDHTRVY6", "jys8rnhdc6q3f5jwnd8htj5as")


def test_contact_vault_reference():
    """The vault key of a stored contact: changing the derivation would orphan every stored contact."""
    from chalicelib.services.complaints import contact_ref

    assert contact_ref("known-answer-secret-known-answer-secret", "EWDX192TKQH2", "ab" * 32) == \
        "ct_baf5ed3919273b6b1610665ed5fdaa1a"
    assert contact_ref("known-answer-secret-known-answer-secret", "EWDX192TKQH2", "cd" * 32) != \
        "ct_baf5ed3919273b6b1610665ed5fdaa1a"  # another request under the same id: another item
