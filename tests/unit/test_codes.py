"""Outlet codes, complaint ids and tracking tokens."""
import random
import string

import pytest

from chalicelib.domain import codes
from chalicelib.domain.errors import InvalidOutletCode

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def crockford_check(body: str) -> int:
    """Crockford's check value, written out here independently of the code under test: the value mod 37."""
    value = 0
    for ch in body:
        value = value * 32 + CROCKFORD.index(ch)
    return value % 37


def valid_code_containing(ch: str) -> str:
    """A valid code whose first symbol is `ch` (the rest chosen so the check symbol is a plain one)."""
    for filler in range(32 ** 2):
        body = ch + "0000" + CROCKFORD[filler // 32] + CROCKFORD[filler % 32]
        check = crockford_check(body)
        if check < 32:
            return body + CROCKFORD[check]
    raise AssertionError("unreachable: most bodies have a plain check symbol")


def seeded_codes(n: int, seed: int) -> list[str]:
    """`n` codes drawn from a seeded generator, so a failure names the same codes on every run."""
    rng = random.Random(seed)
    return [codes.new_outlet_code(randbits=rng.getrandbits) for _ in range(n)]


def test_the_alphabet_is_crockford_base32():
    assert codes.ALPHABET == CROCKFORD and len(set(codes.ALPHABET)) == 32


def test_new_codes_parse_back_and_use_the_plain_alphabet():
    drawn = [codes.new_outlet_code() for _ in range(2000)]
    for code in drawn:
        assert len(code) == 8 and set(code) <= set(codes.ALPHABET)
        assert code[-1] == CROCKFORD[crockford_check(code[:-1])]
        assert codes.parse_outlet_code(code) == code
    # 35 random bits per code: a repeat among 2000 draws has odds of about 1 in 15,000, many mean it is broken
    assert len(set(drawn)) >= 1998


def test_a_drawn_body_whose_check_is_not_a_plain_symbol_is_drawn_again():
    # "0002QMX" has check value 32 and "0017NDB" 36: neither has a symbol among the 32, so both are skipped
    draws = iter([codes._value("0002QMX"), codes._value("0017NDB"), codes._value("7K3M9QX")])
    asked = []

    def randbits(n):
        asked.append(n)
        return next(draws)

    assert crockford_check("0002QMX") == 32 and crockford_check("0017NDB") == 36
    assert codes.new_outlet_code(randbits=randbits) == "7K3M9QX" + CROCKFORD[crockford_check("7K3M9QX")]
    assert asked == [35, 35, 35]  # 7 symbols of 5 bits each


def test_every_single_symbol_typo_is_caught():
    for code in seeded_codes(200, seed=7):
        for pos in range(8):
            for ch in codes.ALPHABET:
                if ch == code[pos]:
                    continue
                typo = code[:pos] + ch + code[pos + 1:]
                with pytest.raises(InvalidOutletCode) as info:
                    codes.parse_outlet_code(typo)
                assert info.value.reason == "checksum"


def test_every_swap_of_neighbours_is_caught():
    for code in seeded_codes(500, seed=11):
        for pos in range(7):
            if code[pos] == code[pos + 1]:
                continue
            swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
            with pytest.raises(InvalidOutletCode):
                codes.parse_outlet_code(swapped)


@pytest.mark.parametrize(("body", "value"), [("0002QMX", 32), ("0017NDB", 36)])
def test_a_body_whose_check_value_has_no_plain_symbol_is_never_a_code(body, value):
    # Such bodies are never issued, so no eighth symbol makes them valid (and none may crash the parser).
    assert crockford_check(body) == value
    for ch in codes.ALPHABET:
        with pytest.raises(InvalidOutletCode) as info:
            codes.parse_outlet_code(body + ch)
        assert info.value.reason == "checksum"


def test_what_people_type_is_normalised():
    code = "70ZW1QWH"
    assert codes.parse_outlet_code(code) == code
    assert codes.parse_outlet_code(" 70zw-1qwh ") == code
    assert codes.parse_outlet_code("7OZW-IQWH") == code  # O for 0, I for 1
    assert codes.parse_outlet_code("7ozw lqwh") == code  # l for 1
    assert codes.parse_outlet_code("\t7_0.Z W‐1‑Q‒W–H—\n") == code  # every separator people type
    assert codes.display_code(code) == "70ZW-1QWH"


# Look-alikes people type, as the letter they mean. Written out here so a change to the table is a decision.
LOOK_ALIKES = {
    "O": "0", "I": "1", "L": "1",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "0", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "Ү": "Y", "Ұ": "Y", "З": "3", "І": "1", "Ӏ": "1",
}


@pytest.mark.parametrize(("typed", "meant"), sorted(LOOK_ALIKES.items()))
def test_each_look_alike_reads_as_the_symbol_it_resembles(typed, meant):
    code = valid_code_containing(meant)
    assert codes.parse_outlet_code(typed + code[1:]) == code
    assert codes.parse_outlet_code(typed.lower() + code[1:].lower()) == code


def test_codes_typed_on_a_cyrillic_keyboard_or_full_width_are_read():
    code = "VVR71X6B"
    assert codes.parse_outlet_code("VVR71Х6В") == code  # Cyrillic Х and В
    assert codes.parse_outlet_code("vvr7-1х6в") == code  # lower-case Cyrillic
    assert codes.parse_outlet_code("ＶＶＲ７１Ｘ６Ｂ") == code  # full-width
    assert codes.parse_outlet_code("Ү8N1-NQ6Z") == "Y8N1NQ6Z"  # Kazakh Ү looks exactly like Y


FORMAT_MESSAGE = "An outlet code has 8 letters and digits, like 7K3M-9QX2."


@pytest.mark.parametrize(("raw", "message"), [
    ("", FORMAT_MESSAGE),
    ("ABC", FORMAT_MESSAGE),
    ("70ZW1QW", FORMAT_MESSAGE),         # one symbol short
    ("70ZW1QWHZ", FORMAT_MESSAGE),       # one symbol too many
    ("ABCD-EFG!", FORMAT_MESSAGE),
    ("UUUUUUUU", FORMAT_MESSAGE),        # U is not a Crockford symbol
    (None, "The outlet code must be a string."),
    (12345678, "The outlet code must be a string."),
])
def test_malformed_codes_are_rejected_as_format_errors(raw, message):
    with pytest.raises(InvalidOutletCode) as info:
        codes.parse_outlet_code(raw)
    assert info.value.reason == "format" and str(info.value) == message
    assert info.value.fields == {"outlet_code": {"code": "invalid_format", "message": "not an outlet code"}}


def test_a_typo_is_a_checksum_error_with_its_own_message():
    with pytest.raises(InvalidOutletCode) as info:
        codes.parse_outlet_code("70ZW1QW5")
    assert info.value.reason == "checksum"
    assert str(info.value) == "This outlet code has a typo: check the code on the sticker."
    assert info.value.fields == {
        "outlet_code": {"code": "invalid_checksum", "message": "check character does not match"}}


def test_random_complaint_ids_are_twelve_symbols_and_distinct():
    ids = [codes.new_complaint_id() for _ in range(2000)]
    assert all(codes.is_complaint_id(i) for i in ids)
    assert len(set(ids)) == 2000


@pytest.mark.parametrize(("value", "ok"), [
    ("EWDX192TKQH2", True),
    ("000000000000", True),
    ("EWDX192TKQH", False),     # 11 symbols
    ("EWDX192TKQH2Z", False),   # 13 symbols
    ("ABC", False),             # valid symbols, wrong length
    ("ewdx192tkqh2", False),    # ids are canonical upper case
    ("EWDX192TKQHU", False),    # U is not a symbol
    ("", False),
    (None, False),
    (123456789012, False),
])
def test_is_complaint_id_accepts_only_twelve_canonical_symbols(value, ok):
    assert codes.is_complaint_id(value) is ok


def test_ids_from_the_same_idempotency_key_are_equal_and_secret_bound():
    a = codes.complaint_id_for_key("s" * 32, "key-1")
    assert a == codes.complaint_id_for_key("s" * 32, "key-1")
    assert a != codes.complaint_id_for_key("s" * 32, "key-2")
    assert a != codes.complaint_id_for_key("t" * 32, "key-1")
    assert codes.is_complaint_id(a)


def test_keyed_digests_are_separated_by_namespace_and_secret():
    digest = codes.keyed_digest("s" * 32, "tracking-token", "ABCDEFGHJKMN")
    assert len(digest) == 32
    assert digest != codes.keyed_digest("s" * 32, "complaint-idempotency", "ABCDEFGHJKMN")
    assert digest != codes.keyed_digest("t" * 32, "tracking-token", "ABCDEFGHJKMN")
    # the separator keeps ("a", "b\0c") and ("a\0b", "c") apart
    assert codes.keyed_digest("s" * 32, "a", "b\x00c") == codes.keyed_digest("s" * 32, "a\x00b", "c")
    assert codes.keyed_digest("s" * 32, "ab", "c") != codes.keyed_digest("s" * 32, "a", "bc")


def test_tracking_tokens_verify_only_for_their_complaint():
    secret = "s" * 32
    token = codes.tracking_token(secret, "ABCDEFGHJKMN")
    assert len(token) == 25 and set(token) <= set(CROCKFORD.lower())
    assert codes.token_matches(secret, "ABCDEFGHJKMN", token)
    assert codes.token_matches(secret, "ABCDEFGHJKMN", token.upper())
    assert codes.token_matches(secret, "ABCDEFGHJKMN", f"  {token}\n")  # pasted with whitespace
    assert not codes.token_matches(secret, "ABCDEFGHJKMP", token)
    assert not codes.token_matches(secret, "ABCDEFGHJKMN", token[:-1])
    assert not codes.token_matches(secret, "ABCDEFGHJKMN", None)
    assert not codes.token_matches(secret, "ABCDEFGHJKMN", 42)
    assert not codes.token_matches("t" * 32, "ABCDEFGHJKMN", token)


def test_derived_outlet_codes_are_valid_and_stable():
    digest = codes.keyed_digest("s" * 32, "outlet-idempotency", "940140000385:tm-001")
    code = codes.outlet_code_from_digest(digest)
    assert codes.parse_outlet_code(code) == code == codes.outlet_code_from_digest(digest)


def test_derived_outlet_codes_spread_over_the_whole_code_space():
    # 300 derived codes: every symbol appears in every body position, so no bits are lost on the way
    derived = [codes.outlet_code_from_digest(bytes([i % 256, i // 256]) * 16) for i in range(300)]
    assert len(set(derived)) == 300
    for pos in range(7):
        assert {code[pos] for code in derived} == set(CROCKFORD), pos
    assert all(set(code) <= set(string.digits + string.ascii_uppercase) for code in derived)
