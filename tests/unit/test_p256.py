"""The API's integer-only P-256 point check agrees with cryptography's (which only the reactions function ships)."""
import base64
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chalicelib.domain.p256 import P, is_uncompressed_point, public_key_point


def cryptography_accepts(point: bytes) -> bool:
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


def test_every_generated_public_key_is_a_point():
    for _ in range(50):
        point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint)
        assert is_uncompressed_point(point)
        assert public_key_point(base64.urlsafe_b64encode(point).rstrip(b"=").decode()) == point


def test_random_and_spoiled_points_are_refused_as_cryptography_refuses_them():
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint)
    candidates = [b"\x04" + secrets.token_bytes(64) for _ in range(50)]
    for i in (1, 20, 40, 64):
        spoiled = bytearray(point)
        spoiled[i] ^= 1
        candidates.append(bytes(spoiled))
    # x and y at or above the field prime: reduced mod p they might satisfy the equation, but are no encoding
    x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")
    if y + P < 2 ** 256:
        candidates.append(b"\x04" + point[1:33] + (y + P).to_bytes(32, "big"))
    if x + P < 2 ** 256:
        candidates.append(b"\x04" + (x + P).to_bytes(32, "big") + point[33:])
    for candidate in candidates:
        assert is_uncompressed_point(candidate) is cryptography_accepts(candidate) is False


@pytest.mark.parametrize("value", ["", "A" * 201, "not base64!", "ÄÖ" * 40, "AgAB",
                                   base64.urlsafe_b64encode(b"\x02" + bytes(32)).decode(),
                                   base64.urlsafe_b64encode(bytes(65)).decode()])
def test_what_is_not_an_uncompressed_point_is_a_value_error(value):
    with pytest.raises(ValueError):
        public_key_point(value)
