"""request_fingerprint and same_request: how a retry is told from a different request under one key.

The API shows the English message and the field code as they are (chalicelib/i18n.localise keeps English
text), so both are pinned here, not just the exception class.
"""
from dataclasses import dataclass

import pytest

from chalicelib.domain.errors import Conflict, IdempotencyKeyReused
from chalicelib.domain.model import fingerprint
from chalicelib.services.idempotency import request_fingerprint, same_request


@dataclass(frozen=True)
class _Command:
    name: str
    region: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class _Stored:
    fingerprint: str
    name: str = "stored"


def _reused(existing, digest, what):
    with pytest.raises(IdempotencyKeyReused) as caught:
        same_request(existing, digest, what=what)
    return caught.value


def test_GIVEN_two_commands_differing_only_in_key_WHEN_fingerprinted_THEN_digests_are_equal():
    assert request_fingerprint(_Command("Таза", "71", "k-1")) == request_fingerprint(_Command("Таза", "71", "k-2"))
    assert request_fingerprint(_Command("Таза", "71", "k-1")) == request_fingerprint(_Command("Таза", "71"))


def test_GIVEN_commands_differing_in_any_other_field_WHEN_fingerprinted_THEN_digests_differ():
    base = request_fingerprint(_Command("Таза", "71", "k"))
    assert request_fingerprint(_Command("Таза №2", "71", "k")) != base
    assert request_fingerprint(_Command("Таза", "75", "k")) != base


def test_GIVEN_a_command_WHEN_fingerprinted_THEN_it_is_the_model_fingerprint_of_its_fields_without_the_key():
    # pins the exact payload: every field but idempotency_key, nothing added or renamed
    assert request_fingerprint(_Command("Таза", "71", "k")) == fingerprint({"name": "Таза", "region": "71"})


def test_GIVEN_a_command_without_a_key_field_WHEN_fingerprinted_THEN_all_its_fields_count():
    @dataclass(frozen=True)
    class NoKey:
        name: str

    assert request_fingerprint(NoKey("a")) == fingerprint({"name": "a"})


def test_GIVEN_the_stored_twin_WHEN_same_request_THEN_it_is_returned_as_is():
    stored = _Stored(fingerprint="abc")
    assert same_request(stored, "abc", what="outlet") is stored


def test_GIVEN_nothing_stored_WHEN_same_request_THEN_the_key_is_reported_reused():
    error = _reused(None, "abc", "complaint")
    assert error.code == "idempotency_key_reused"
    assert isinstance(error, Conflict)


def test_GIVEN_another_fingerprint_stored_WHEN_same_request_THEN_error_names_the_header_field_and_the_thing():
    error = _reused(_Stored(fingerprint="abc"), "abd", "outlet")
    assert error.code == "idempotency_key_reused"
    assert error.message == "This Idempotency-Key was already used for a different outlet."
    assert str(error) == error.message
    assert error.fields == {"Idempotency-Key": {"code": "reused",
                                                 "message": "already used with a different request"}}


def test_GIVEN_another_thing_WHEN_same_request_fails_THEN_message_names_that_thing():
    assert _reused(None, "x", "complaint").message == "This Idempotency-Key was already used for a different complaint."
