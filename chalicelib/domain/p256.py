"""Is a byte string an uncompressed point on the NIST P-256 curve? Integers only, no cryptography package.

Web Push needs this twice on the API's side: a browser's subscription key (`p256dh`, RFC 8291) and the
server's own application server key (VAPID_PUBLIC_KEY, RFC 8292). Both are public data, so checking them needs
no constant-time secret arithmetic: x and y below the field prime and y^2 = x^3 - 3x + b (mod p). P-256 has
cofactor 1, so every point on the curve is in the group the key agreement uses, and the point at infinity has no
uncompressed encoding. The API function therefore ships without cryptography (11.9 MB of native code), which only
the reactions function, the one that encrypts and signs pushes, needs.
"""
from __future__ import annotations

import base64
import binascii

# SEC 2 / FIPS 186-4 domain parameters of secp256r1 (a = -3).
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
POINT_BYTES = 65


def is_uncompressed_point(point: bytes) -> bool:
    if len(point) != POINT_BYTES or point[0] != 4:
        return False
    x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")
    if x >= P or y >= P:
        return False
    return (y * y - (x * x * x - 3 * x + B)) % P == 0


def b64url_decode(value: str, *, max_length: int = 200) -> bytes:
    """Strict base64url (padding optional); ValueError for anything else."""
    if not value or len(value) > max_length or not all(ch.isascii() and (ch.isalnum() or ch in "-_=") for ch in value):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def public_key_point(value: str) -> bytes:
    """The 65 bytes of a base64url uncompressed P-256 point, or ValueError."""
    point = b64url_decode(value)
    if not is_uncompressed_point(point):
        raise ValueError("not an uncompressed P-256 point")
    return point
