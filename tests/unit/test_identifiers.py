"""IIN/BIN: the check digit (hard) and the structure (soft warnings)."""
import random

import pytest

from chalicelib.domain.identifiers import checksum_ok, kind_of, structure_warnings

PUBLIC_BINS = ["940140000385", "950341000052", "961141000023", "070941024691"]

# The two weight rows of the IIN/BIN check digit, written out from the published algorithm.
W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def weighted(prefix: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(prefix, weights)) % 11


def with_check_digit(prefix: str) -> str:
    """An 11-digit prefix completed with its check digit; only for prefixes that have one."""
    check = weighted(prefix, W1)
    if check == 10:
        check = weighted(prefix, W2)
    assert check != 10, f"{prefix} has no valid check digit"
    return prefix + str(check)


@pytest.mark.parametrize("number", PUBLIC_BINS)
def test_public_bins_pass_and_are_legal_entities(number):
    assert checksum_ok(number) and kind_of(number) == "bin" and structure_warnings(number) == []


@pytest.mark.parametrize("number", PUBLIC_BINS)
def test_a_wrong_check_digit_fails(number):
    for digit in "0123456789":
        if digit != number[11]:
            assert not checksum_ok(number[:11] + digit)


def test_second_weights_are_used_when_the_first_sum_gives_ten():
    # 850315301801's first weighted sum mod 11 is 10, so its check digit comes from the second weights
    assert weighted("85031530180", W1) == 10 and weighted("85031530180", W2) == 1
    assert checksum_ok("850315301801")
    for digit in "023456789":
        assert not checksum_ok("85031530180" + digit)


@pytest.mark.parametrize("prefix", ["85031530260", "85031530341", "94014000096", "94014000177"])
def test_a_number_whose_both_sums_give_ten_has_no_valid_check_digit(prefix):
    # Such numbers are never issued: the registry skips them, so every twelfth digit is wrong.
    assert weighted(prefix, W1) == 10 and weighted(prefix, W2) == 10
    for digit in "0123456789":
        assert not checksum_ok(prefix + digit)


def test_the_check_digit_agrees_with_the_published_algorithm_on_random_numbers():
    rng = random.Random(5)
    checked = 0
    while checked < 3000:
        prefix = "".join(rng.choice("0123456789") for _ in range(11))
        first, second = weighted(prefix, W1), weighted(prefix, W2)
        expected = first if first != 10 else (second if second != 10 else None)
        for digit in range(10):
            assert checksum_ok(prefix + str(digit)) is (digit == expected), prefix + str(digit)
        checked += 1


@pytest.mark.parametrize("raw", ["", "94014000038", "9401400003855", "94014000038a", "９４０１４００００３８５",
                                 " 40140000385", "94014000038 ", "-94014000385", "+94014000385", "٩٤٠١٤٠٠٠٠٣٨٥"])
def test_wrong_shapes_fail(raw):
    assert not checksum_ok(raw)


# ------------------------------------------------------------------------ kind: digit 5 tells BIN from IIN

@pytest.mark.parametrize(("digit", "kind"), [
    ("0", "iin"), ("1", "iin"), ("2", "iin"), ("3", "iin"),   # an IIN's day of birth starts with 0-3
    ("4", "bin"), ("5", "bin"), ("6", "bin"),                 # resident, non-resident, sole-proprietor joint venture
    ("7", "iin"), ("8", "iin"), ("9", "iin"),
])
def test_kind_is_read_from_the_fifth_digit(digit, kind):
    assert kind_of("9401" + digit + "0000385") == kind


def test_an_iin_is_a_person():
    assert kind_of("850315300009") == "iin" and structure_warnings("850315300009") == []


# ------------------------------------------------------------------------ BIN structure: YYMM, type, unit type

@pytest.mark.parametrize(("month", "warnings"), [
    ("00", ["registration month out of range"]),
    ("01", []),
    ("10", []),
    ("12", []),
    ("13", ["registration month out of range"]),
    ("20", ["registration month out of range"]),
])
def test_bin_registration_month(month, warnings):
    number = with_check_digit("94" + month + "4000038")
    assert kind_of(number) == "bin" and structure_warnings(number) == warnings


@pytest.mark.parametrize(("unit", "warnings"), [
    ("0", []),  # head office
    ("1", []),  # branch
    ("2", []),  # representative office
    ("3", ["unknown unit type"]),
    ("9", ["unknown unit type"]),
])
def test_bin_unit_type(unit, warnings):
    # digit 7 is deliberately out of the unit-type range, so only digit 6 decides
    number = with_check_digit("94014" + unit + "9000385"[:5])
    assert number[5] == unit and number[6] == "9"
    assert structure_warnings(number) == warnings


def test_bin_with_both_structure_problems_reports_both():
    assert structure_warnings(with_check_digit("94134700003")) == [
        "registration month out of range", "unknown unit type"]


# ------------------------------------------------------------------------ IIN structure: YYMMDD, century digit

@pytest.mark.parametrize(("mmdd", "warnings"), [
    ("0101", []),
    ("1210", []),
    ("1031", []),
    ("0220", []),
    ("0030", ["birth date out of range"]),  # month 0
    ("1315", ["birth date out of range"]),  # month 13
    ("0300", ["birth date out of range"]),  # day 0
    ("0332", ["birth date out of range"]),  # day 32
    ("1300", ["birth date out of range"]),  # both: still one warning
])
def test_iin_birth_date(mmdd, warnings):
    number = with_check_digit("85" + mmdd + "30000")
    assert kind_of(number) == "iin" and structure_warnings(number) == warnings


@pytest.mark.parametrize(("century", "warnings"), [
    ("0", []),  # foreign citizens
    ("1", []), ("2", []), ("3", []), ("4", []), ("5", []), ("6", []),  # 19th-21st century, male/female
    ("7", ["unknown century digit"]),
    ("9", ["unknown century digit"]),
])
def test_iin_century_digit(century, warnings):
    # the digit after it is 9, so only digit 7 decides
    number = with_check_digit("850315" + century + "9000")
    assert number[6] == century and number[7] == "9"
    assert structure_warnings(number) == warnings


def test_iin_with_both_structure_problems_reports_both():
    assert structure_warnings(with_check_digit("85133280000")) == ["birth date out of range", "unknown century digit"]
