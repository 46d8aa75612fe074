"""Outlet codes, complaint ids and tracking tokens."""
import random

import pytest

from chalicelib.domain import codes
from chalicelib.domain.errors import InvalidOutletCode


def test_new_codes_parse_back_and_use_the_plain_alphabet():
    for _ in range(2000):
        code = codes.new_outlet_code()
        assert len(code) == 8 and set(code) <= set(codes.ALPHABET)
        assert codes.parse_outlet_code(code) == code


def test_every_single_symbol_typo_is_caught():
    rng = random.Random(7)
    for _ in range(200):
        code = codes.new_outlet_code()
        for pos in range(8):
            for ch in codes.ALPHABET:
                if ch == code[pos]:
                    continue
                typo = code[:pos] + ch + code[pos + 1:]
                with pytest.raises(InvalidOutletCode):
                    codes.parse_outlet_code(typo)
        assert rng  # deterministic loop count


def test_every_swap_of_neighbours_is_caught():
    for _ in range(500):
        code = codes.new_outlet_code()
        for pos in range(7):
            if code[pos] == code[pos + 1]:
                continue
            swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
            with pytest.raises(InvalidOutletCode):
                codes.parse_outlet_code(swapped)


def test_what_people_type_is_normalised():
    code = codes.new_outlet_code()
    typed = f" {code[:4].lower()}-{code[4:].lower()} ".replace("0", "o").replace("1", "I")
    assert codes.parse_outlet_code(typed) == code
    assert codes.display_code(code) == f"{code[:4]}-{code[4:]}"


@pytest.mark.parametrize("raw", ["", "ABC", "ABCDEFGHJ", "ABCD-EFG!", "UUUUUUUU", None, 12345678])
def test_malformed_codes_are_rejected_as_format_errors(raw):
    with pytest.raises(InvalidOutletCode) as info:
        codes.parse_outlet_code(raw)
    assert info.value.fields["outlet_code"]["code"] == "invalid_format"


def test_ids_from_the_same_idempotency_key_are_equal_and_secret_bound():
    a = codes.complaint_id_for_key("s" * 32, "key-1")
    assert a == codes.complaint_id_for_key("s" * 32, "key-1")
    assert a != codes.complaint_id_for_key("s" * 32, "key-2")
    assert a != codes.complaint_id_for_key("t" * 32, "key-1")
    assert codes.is_complaint_id(a)


def test_tracking_tokens_verify_only_for_their_complaint():
    secret = "s" * 32
    token = codes.tracking_token(secret, "ABCDEFGHJKMN")
    assert len(token) == 25
    assert codes.token_matches(secret, "ABCDEFGHJKMN", token)
    assert codes.token_matches(secret, "ABCDEFGHJKMN", token.upper())
    assert not codes.token_matches(secret, "ABCDEFGHJKMP", token)
    assert not codes.token_matches(secret, "ABCDEFGHJKMN", None)
    assert not codes.token_matches("t" * 32, "ABCDEFGHJKMN", token)


def test_derived_outlet_codes_are_valid_and_stable():
    digest = codes.keyed_digest("s" * 32, "outlet-idempotency", "940140000385:tm-001")
    code = codes.outlet_code_from_digest(digest)
    assert codes.parse_outlet_code(code) == code == codes.outlet_code_from_digest(digest)


def test_codes_typed_on_a_cyrillic_keyboard_or_full_width_are_read():
    code = "VVR71X6B"
    assert codes.parse_outlet_code("VVR71Х6В") == code  # Cyrillic Х and В
    assert codes.parse_outlet_code("vvr7-1х6в") == code  # lower-case Cyrillic
    assert codes.parse_outlet_code("ＶＶＲ７１Ｘ６Ｂ") == code  # full-width
    assert codes.parse_outlet_code("Ү8N1-NQ6Z") == "Y8N1NQ6Z"  # Kazakh Ү looks exactly like Y
