"""The local stack's fake Web Push service: what FCM, Mozilla's autopush or Apple's push service do for a
browser, on 127.0.0.1, so the whole push path runs without the internet.

- `POST /_local/push/subscriptions` plays the browser's `PushManager.subscribe()`: it makes a P-256 key pair and
  an auth secret, keeps the private half, and answers the subscription JSON a page would send to
  POST /complaints/{id}/push-subscriptions (`endpoint` on this server, `keys.p256dh`, `keys.auth`).
- `POST /_local/push/<id>` is that endpoint, as a push service: it checks the VAPID signature (RFC 8292) against
  the key in the request, the audience and the expiry, decrypts the aes128gcm body (RFC 8291) with the private
  key, and records the decrypted payload in the outbox as `"channel": "webpush"`. A bad signature is a 403, an
  undecryptable body a 400, as the real services answer.
- `DELETE /_local/push/subscriptions/<id>` plays the browser dropping the subscription: from then on its
  endpoint answers 410 Gone, and the sender must forget it.

Local only (local/server.py routes it; app.py knows nothing of it).
"""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

SUBSCRIPTIONS_PATH = "/_local/push/subscriptions"
ENDPOINT_PATH = "/_local/push/"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_keys():
    """A browser's subscription keys: (private key, p256dh as base64url, auth secret bytes)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return private, b64url(point), secrets.token_bytes(16)


def decrypt(body: bytes, private_key, auth_secret: bytes) -> bytes:
    """RFC 8291 (aes128gcm): what only the subscribing browser can do."""
    import http_ece

    return http_ece.decrypt(body, private_key=private_key, auth_secret=auth_secret, version="aes128gcm")


class VapidRefused(ValueError):
    pass


def verify_vapid(authorization: str, endpoint: str, *, now: float | None = None) -> dict:
    """The claims of a valid `vapid t=<JWT>, k=<public key>` header for `endpoint`, or VapidRefused."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    scheme, _, params = (authorization or "").partition(" ")
    if scheme.lower() != "vapid":
        raise VapidRefused("not a vapid Authorization header")
    fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
    try:
        header_b64, claims_b64, signature_b64 = fields["t"].split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        header, claims = json.loads(unb64url(header_b64)), json.loads(unb64url(claims_b64))
        signature = unb64url(signature_b64)
    except (KeyError, ValueError) as exc:
        raise VapidRefused(f"malformed vapid header: {exc.__class__.__name__}") from None
    if header.get("alg") != "ES256" or len(signature) != 64:
        raise VapidRefused("not an ES256 token")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidRefused("bad signature") from None
    parts = urlsplit(endpoint)
    now = time.time() if now is None else now
    if claims.get("aud") != f"{parts.scheme}://{parts.netloc}":
        raise VapidRefused("wrong audience")
    if not isinstance(claims.get("exp"), int) or not now < claims["exp"] <= now + 24 * 3600:
        raise VapidRefused("expired, or valid for more than 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        raise VapidRefused("no sub contact")
    return {**claims, "k": fields["k"]}


class FakePushService:
    """Subscriptions made here, and what was pushed to them, decrypted, in the outbox."""

    def __init__(self, outbox=None) -> None:
        self.outbox = outbox
        self._subs: dict[str, dict] = {}
        self._lock = threading.Lock()

    def subscribe(self, base_url: str) -> dict:
        private, p256dh, auth = new_keys()
        sub_id = secrets.token_urlsafe(18)
        endpoint = f"{base_url.rstrip('/')}{ENDPOINT_PATH}{sub_id}"
        with self._lock:
            self._subs[sub_id] = {"private": private, "auth": auth, "endpoint": endpoint, "gone": False}
        return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": p256dh, "auth": b64url(auth)}}

    def drop(self, sub_id: str) -> bool:
        with self._lock:
            sub = self._subs.get(sub_id)
            if sub is None:
                return False
            sub["gone"] = True
            return True

    def deliver(self, sub_id: str, headers: dict, body: bytes) -> tuple[int, dict]:
        """(status, JSON body) as a push service answers a POST to the subscription's endpoint."""
        with self._lock:
            sub = self._subs.get(sub_id)
        if sub is None:
            return 404, {"error": "no such subscription"}
        if sub["gone"]:
            return 410, {"error": "the subscription has expired or was unsubscribed"}
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            claims = verify_vapid(lowered.get("authorization", ""), sub["endpoint"])
        except VapidRefused as refused:
            return 403, {"error": str(refused)}
        if lowered.get("content-encoding") != "aes128gcm" or "ttl" not in lowered:
            return 400, {"error": "aes128gcm content and a TTL header are required"}
        try:
            payload = json.loads(decrypt(body, sub["private"], sub["auth"]))
        except Exception as exc:  # noqa: BLE001 - any failure to decrypt is the sender's error, as in the real service
            return 400, {"error": f"cannot decrypt: {exc.__class__.__name__}"}
        if self.outbox is not None:
            self.outbox.append({
                "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "channel": "webpush", "audience": "consumer", "to": f"push/{sub_id[:6]}…",
                "complaint_id": payload.get("complaint_id"), "template": f"consumer.{payload.get('template')}",
                "language": payload.get("lang"), "payload": payload,
                "urgency": lowered.get("urgency"), "topic": lowered.get("topic"), "ttl": lowered.get("ttl"),
                "vapid_key": claims["k"],
            })
        return 201, {}
