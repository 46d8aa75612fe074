"""Kazakhstan identifiers: IIN (individuals, sole proprietors) and BIN (legal entities).

The checksum is a hard check; the structure (date or registration month, entity type) is soft and only
reported, because real registries contain numbers that bend it.
"""
from __future__ import annotations

_W1 = tuple(range(1, 12))
_W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def checksum_ok(number: str) -> bool:
    """True when `number` is 12 digits whose last digit is the IIN/BIN check digit."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return False
    digits = [int(ch) for ch in number]
    check = sum(d * w for d, w in zip(digits, _W1)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, _W2)) % 11
        if check == 10:
            return False
    return check == digits[11]


def kind_of(number: str) -> str:
    """'bin' for a legal entity, 'iin' for a person, judged by digit 5 (BIN entity type 4/5/6 vs IIN day)."""
    return "bin" if number[4] in "456" else "iin"


def structure_warnings(number: str) -> list[str]:
    """Soft structural checks; a non-empty list does not make the number invalid."""
    warnings = []
    if kind_of(number) == "bin":
        if not 1 <= int(number[2:4]) <= 12:
            warnings.append("registration month out of range")
        if number[5] not in "012":
            warnings.append("unknown unit type")
    else:
        if not 1 <= int(number[2:4]) <= 12 or not 1 <= int(number[4:6]) <= 31:
            warnings.append("birth date out of range")
        if number[6] not in "0123456":
            warnings.append("unknown century digit")
    return warnings
