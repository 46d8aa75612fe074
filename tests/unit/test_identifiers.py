import pytest

from chalicelib.domain.identifiers import checksum_ok, kind_of, structure_warnings

PUBLIC_BINS = ["940140000385", "950341000052", "961141000023", "070941024691"]


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
    digits = [int(c) for c in "850315301801"]
    assert sum(d * w for d, w in zip(digits, range(1, 12))) % 11 == 10
    assert checksum_ok("850315301801")
    assert not checksum_ok("850315301800")


@pytest.mark.parametrize("raw", ["", "94014000038", "9401400003855", "94014000038a", "９４０１４００００３８５"])
def test_wrong_shapes_fail(raw):
    assert not checksum_ok(raw)


def test_an_iin_is_a_person():
    assert kind_of("850315300009") == "iin" and structure_warnings("850315300009") == []
