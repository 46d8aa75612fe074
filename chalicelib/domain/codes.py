"""Identifiers: outlet codes with a check character, complaint ids, ids derived from idempotency keys.

Outlet codes are 7 random Crockford base32 symbols plus a check symbol. The check symbol is the
code's value mod 37 (Crockford's check), and codes are drawn only where that value is below 32, so
the check symbol stays in the plain 32-symbol alphabet (no * ~ $ = U on a sticker). Because 37 is
prime and bigger than any symbol difference, every single-symbol typo and every swap of two
neighbouring symbols is caught.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from chalicelib.domain.errors import InvalidOutletCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Crockford decoding: O reads as 0, I and L as 1; separators people type are dropped. Codes are
# often typed on a Cyrillic layout, so Cyrillic look-alikes read as the Latin letters they resemble.
_TYPO_MAP = str.maketrans({
    "O": "0", "I": "1", "L": "1",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "0", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "Ү": "Y", "Ұ": "Y", "З": "3", "І": "1", "Ӏ": "1",
})
_SEPARATORS = str.maketrans("", "", " -_.\u2010\u2011\u2012\u2013\u2014")
OUTLET_BODY_LEN = 7
OUTLET_CODE_LEN = OUTLET_BODY_LEN + 1
COMPLAINT_ID_LEN = 12


def _value(symbols: str) -> int:
    value = 0
    for ch in symbols:
        value = value * 32 + _VALUE[ch]
    return value


def _check_value(body: str) -> int:
    return _value(body) % 37


def _encode(number: int, length: int) -> str:
    out = []
    for _ in range(length):
        number, rem = divmod(number, 32)
        out.append(ALPHABET[rem])
    return "".join(reversed(out))


def new_outlet_code(randbits=secrets.randbits) -> str:
    """A fresh random outlet code whose check symbol is in the 32-symbol alphabet."""
    while True:
        body = _encode(randbits(5 * OUTLET_BODY_LEN), OUTLET_BODY_LEN)
        check = _check_value(body)
        if check < 32:
            return body + ALPHABET[check]


def outlet_code_from_digest(digest: bytes) -> str:
    """A deterministic outlet code from a digest (for idempotent creation); same rules as new codes."""
    counter = 0
    while True:
        block = hashlib.sha256(digest + counter.to_bytes(2, "big")).digest()
        body = _encode(int.from_bytes(block[:8], "big") >> (64 - 5 * OUTLET_BODY_LEN), OUTLET_BODY_LEN)
        check = _check_value(body)
        if check < 32:
            return body + ALPHABET[check]
        counter += 1


def parse_outlet_code(raw: object) -> str:
    """Normalise what a person typed or scanned into the canonical code, or raise InvalidOutletCode."""
    if not isinstance(raw, str):
        raise InvalidOutletCode("The outlet code must be a string.", reason="format", fields=_field("format"))
    # NFKC folds full-width and other compatibility forms (Ｖ, ７) onto plain letters and digits.
    code = unicodedata.normalize("NFKC", raw).strip().upper().translate(_SEPARATORS).translate(_TYPO_MAP)
    if len(code) != OUTLET_CODE_LEN or any(ch not in _VALUE for ch in code):
        raise InvalidOutletCode(
            "An outlet code has 8 letters and digits, like 7K3M-9QX2.", reason="format", fields=_field("format")
        )
    check = _check_value(code[:-1])
    if check >= 32 or ALPHABET[check] != code[-1]:
        raise InvalidOutletCode(
            "This outlet code has a typo: check the code on the sticker.", reason="checksum",
            fields=_field("checksum")
        )
    return code


def _field(reason: str) -> dict:
    messages = {"format": "not an outlet code", "checksum": "check character does not match"}
    return {"outlet_code": {"code": f"invalid_{reason}", "message": messages[reason]}}


def display_code(code: str) -> str:
    """The sticker form of a code: XXXX-XXXX."""
    return f"{code[:4]}-{code[4:]}"


def new_complaint_id() -> str:
    return _encode(secrets.randbits(5 * COMPLAINT_ID_LEN), COMPLAINT_ID_LEN)


def keyed_digest(secret: str, namespace: str, value: str) -> bytes:
    return hmac.new(secret.encode(), f"{namespace}\x00{value}".encode(), hashlib.sha256).digest()


def complaint_id_for_key(secret: str, idempotency_key: str) -> str:
    """The complaint id a given Idempotency-Key maps to: a retry computes the same id."""
    digest = keyed_digest(secret, "complaint-idempotency", idempotency_key)
    return _encode(int.from_bytes(digest[:8], "big") >> (64 - 5 * COMPLAINT_ID_LEN), COMPLAINT_ID_LEN)


def tracking_token(secret: str, complaint_id: str) -> str:
    """The private tracking token for a complaint. Derived, so it is never stored and a retry returns the same one."""
    digest = keyed_digest(secret, "tracking-token", complaint_id)
    return _encode(int.from_bytes(digest[:16], "big") >> 3, 25).lower()


def token_matches(secret: str, complaint_id: str, token: object, previous: tuple[str, ...] = ()) -> bool:
    """Whether `token` is the complaint's tracking token under the current secret, or under one of the
    `previous` secrets: after a rotation, links already sent keep working."""
    if not isinstance(token, str) or not token.isascii():  # compare_digest refuses non-ASCII str
        return False
    given = token.strip().lower()
    # every secret is tried (no early exit), so the time taken says nothing about which one matched
    matches = [hmac.compare_digest(tracking_token(s, complaint_id), given) for s in (secret, *previous)]
    return any(matches)


def is_complaint_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == COMPLAINT_ID_LEN and all(ch in _VALUE for ch in value)
