"""Signed queue cursors: what a client may hand back, and what it may not (unit, and over HTTP with fakes)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from chalicelib.domain.codes import keyed_digest
from chalicelib.domain.errors import InvalidCursor
from chalicelib.services.cursors import CURSOR_TTL, _b64, decode_cursor, encode_cursor

SECRET = "cursor-secret-cursor-secret-0001"
BINDING = "agency:kzpp::|"
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
POSITION = "2026-11-27T09:29:55.123456+00:00#c0123456789abcde"


def _decode(cursor, *, binding=BINDING, secret=SECRET, now=NOW):
    return decode_cursor(cursor, binding=binding, secret=secret, now=now)


def _cursor(position=POSITION, *, binding=BINDING, now=NOW):
    return encode_cursor(position, binding=binding, secret=SECRET, now=now)


def _signed(raw_payload: bytes, binding=BINDING) -> str:
    """A cursor whose signature is right but whose payload is not what the API writes: only someone with
    the secret could make one, so it proves the decoder survives its own bugs, not an attacker."""
    payload = _b64(raw_payload)
    signature = _b64(keyed_digest(SECRET, "queue-cursor", binding + "\x00" + payload)[:18])
    return f"{payload}.{signature}"


def _reason(cursor, **kwargs) -> str:
    with pytest.raises(InvalidCursor) as info:
        _decode(cursor, **kwargs)
    assert info.value.code == "invalid_cursor" and info.value.fields["cursor"]["code"] == "invalid_cursor"
    return info.value.fields["cursor"]["message"]


def test_a_cursor_round_trips_and_is_url_safe_and_short():
    cursor = _cursor()
    assert _decode(cursor) == POSITION
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", cursor) and len(cursor) < 200
    assert POSITION not in cursor  # opaque to the client, though not secret


def test_a_cursor_is_good_for_its_whole_lifetime_and_stale_after():
    cursor = _cursor()
    assert _decode(cursor, now=NOW + CURSOR_TTL) == POSITION
    assert _reason(cursor, now=NOW + CURSOR_TTL + timedelta(seconds=1)) == "stale"
    assert _reason(cursor, now=NOW + CURSOR_TTL + timedelta(days=400)) == "stale"


def test_a_forged_signature_is_refused():
    cursor = _cursor()
    payload, signature = cursor.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _reason(f"{payload}.{flipped}") == "not issued for this queue and filter"
    assert _reason(f"{payload}.") == "not issued for this queue and filter"


def test_another_position_under_a_valid_signature_is_refused():
    # GIVEN a client that rewrites the position to skip ahead, keeping the signature it was given
    _, signature = _cursor().split(".")
    later, _ = _cursor("2027-01-01T00:00:00.000000+00:00#c0123456789abcde").split(".")
    assert _reason(f"{later}.{signature}") == "not issued for this queue and filter"


@pytest.mark.parametrize("other", [
    "agency:ktrm::|",        # another agency
    "agency:kzpp:71:|",      # the same agency, a regional key
    "agency:kzpp::71|",      # the same key, another region filter
    "agency:kzpp::|open",    # another status filter
    "business:940140000385|",
])
def test_a_cursor_given_for_another_queue_or_filter_is_refused(other):
    assert _reason(_cursor(), binding=other) == "not issued for this queue and filter"


def test_a_cursor_signed_with_another_secret_is_refused():
    assert _reason(_cursor(), secret="another-secret-another-secret-01") == "not issued for this queue and filter"


@pytest.mark.parametrize("cursor", [
    "", "abc", "a.b.c", ".", "..", "позиция.подпись", "abc.défg", "abc\x00.def",
])
def test_malformed_and_non_ascii_cursors_are_refused(cursor):
    assert _reason(cursor) in ("malformed", "not issued for this queue and filter")


def test_a_valid_cursor_with_a_non_ascii_character_is_malformed():
    assert _reason(_cursor() + "é") == "malformed"


def test_a_too_long_cursor_is_refused_before_any_work():
    payload, signature = _cursor().split(".")
    assert _reason(payload + "A" * (401 - len(payload) - len(signature) - 1) + "." + signature) == "malformed"


@pytest.mark.parametrize("raw", [
    b"not json", b"[1, 2]", b'"p"', b'{"p": "x"}', b'{"t": 1764236000}', b'{"p": 5, "t": 1764236000}',
    b'{"p": "x", "t": "1764236000"}', b'{"p": "x", "t": 1.5}', b"\xff\xfe",
])
def test_a_signed_but_malformed_payload_is_refused_not_a_crash(raw):
    assert _reason(_signed(raw)) == "malformed"


def test_a_signed_payload_the_api_would_write_is_accepted():
    raw = json.dumps({"p": POSITION, "t": int(NOW.timestamp())}, separators=(",", ":")).encode()
    assert _decode(_signed(raw)) == POSITION


# --- over HTTP, with the in-memory fakes --------------------------------------------------------------------
@pytest.fixture
def http():
    """The app over chalice.test.Client, wired to fakes, with the demo data and a clock the test moves."""
    from chalice.test import Client

    from app import app
    from chalicelib.bootstrap import Container, use_container
    from chalicelib.domain.calendar import load_deadline_rules
    from chalicelib.domain.catalog import load_catalog
    from chalicelib.domain.routing import load_rules
    from chalicelib.services.auth import issue_key
    from chalicelib.settings import get_settings
    from local.seed import seed_demo
    from tests.fakes import (
        FakeBusinesses, FakeComplaints, FakeContactVault, FakeKeys, FakeOutlets, FakeRoutingExamples, FixedClock,
    )

    # The real time: the request models check incident dates and key expiry against it.
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    c = Container(settings=get_settings(), catalog=load_catalog(), rules=load_deadline_rules(),
                  routing_rules=load_rules(), clock=clock, businesses=FakeBusinesses(), outlets=FakeOutlets(),
                  complaints=FakeComplaints(), keys=FakeKeys(), contacts=FakeContactVault(),
                  routing_examples=FakeRoutingExamples())
    use_container(c)
    try:
        demo = seed_demo(c)
        demo["keys"]["kzpp_71"] = issue_key(role="agency", label="kzpp 71", agency_id="kzpp", regions=("71",),
                                            keys=c.keys, clock=clock).key
        with Client(app) as client:
            outlet = next(o["code"] for o in demo["outlets"] if o["sector"] == "grocery" and o["region"] == "71")
            for i in range(3):
                clock.advance(seconds=1)
                body = json.dumps({"outlet_code": outlet, "category": "overcharge", "channel": "qr",
                                   "text": f"Обсчитали на кассе на {1000 + i} тенге, чек не дали."})
                response = client.http.post("/complaints", body=body, headers={"Content-Type": "application/json"})
                assert response.status_code == 201 and response.json_body["agency"]["id"] == "kzpp"
            clock.advance(seconds=30)  # past the settle lag
            yield client, demo, clock
    finally:
        use_container(None)


def _get(client, path, key, lang="en"):
    return client.http.get(path, headers={"Authorization": f"Bearer {key}", "Accept-Language": lang})


def _first_cursor(client, key, query=""):
    response = _get(client, f"/agency/complaints?limit=1{query}", key)
    assert response.status_code == 200 and len(response.json_body["items"]) == 1
    return response.json_body["next_cursor"]


def _assert_invalid_cursor(response):
    assert response.status_code == 400, response.body
    error = response.json_body["error"]
    assert error["code"] == "invalid_cursor" and error["fields"]["cursor"]["code"] == "invalid_cursor"
    return error


def test_over_http_a_valid_cursor_pages_on_without_repeats(http):
    client, demo, _ = http
    key = demo["keys"]["agencies"]["kzpp"]
    cursor = _first_cursor(client, key)
    rest = _get(client, f"/agency/complaints?cursor={cursor}", key).json_body
    first = _get(client, "/agency/complaints", key).json_body["items"]
    assert [x["id"] for x in rest["items"]] == [x["id"] for x in first[1:]] and len(first) == 3


@pytest.mark.parametrize("forged", [
    "abc", "abc.def", "a.b.c", quote("позиция.подпись"), "A" * 500 + ".sig", quote("%00.%ff"),
])
def test_over_http_a_forged_or_malformed_cursor_is_400_invalid_cursor_in_every_language(http, forged):
    client, demo, _ = http
    key = demo["keys"]["agencies"]["kzpp"]
    messages = set()
    for lang in ("kk", "ru", "en"):
        error = _assert_invalid_cursor(_get(client, f"/agency/complaints?cursor={forged}", key, lang))
        messages.add(error["message"])
    assert len(messages) == 3  # each language has its own text


def test_over_http_a_tampered_signature_is_400(http):
    client, demo, _ = http
    key = demo["keys"]["agencies"]["kzpp"]
    payload, signature = _first_cursor(client, key).split(".")
    tampered = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    _assert_invalid_cursor(_get(client, f"/agency/complaints?cursor={tampered}", key))


def test_over_http_a_cursor_replayed_against_another_queue_or_filter_is_400(http):
    client, demo, _ = http
    keys = demo["keys"]
    kzpp = keys["agencies"]["kzpp"]
    cursor = _first_cursor(client, kzpp)
    _assert_invalid_cursor(_get(client, f"/agency/complaints?cursor={cursor}", keys["agencies"]["ktrm"]))
    _assert_invalid_cursor(_get(client, f"/agency/complaints?cursor={cursor}", keys["kzpp_71"]))
    _assert_invalid_cursor(_get(client, f"/agency/complaints?cursor={cursor}&status=open", kzpp))
    _assert_invalid_cursor(_get(client, f"/agency/complaints?cursor={cursor}&region=71", kzpp))
    _assert_invalid_cursor(_get(client, f"/business/complaints?cursor={cursor}", keys["businesses"]["940140000385"]))
    # AND a cursor from a filtered queue does not open the unfiltered one
    filtered = _first_cursor(client, kzpp, "&status=open")
    assert _get(client, f"/agency/complaints?cursor={filtered}&status=open", kzpp).status_code == 200
    _assert_invalid_cursor(_get(client, f"/agency/complaints?cursor={filtered}", kzpp))


def test_over_http_a_stale_cursor_is_400_and_a_fresh_one_is_not(http):
    client, demo, clock = http
    key = demo["keys"]["agencies"]["kzpp"]
    cursor = _first_cursor(client, key)
    clock.advance(seconds=CURSOR_TTL.total_seconds() - 60)
    assert _get(client, f"/agency/complaints?cursor={cursor}", key).status_code == 200
    clock.advance(seconds=120)
    _assert_invalid_cursor(_get(client, f"/agency/complaints?cursor={cursor}", key))
