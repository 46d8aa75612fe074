"""Web Push: the subscriptions' storage on the contact vault's side, and sending (RFC 8291 aes128gcm payload
encryption with http_ece, RFC 8292 VAPID signing with py_vapid, the POST with urllib).

Storage: one item per complaint in the vault's table (`ref` "ps_<digest of the complaint id>"), its `push`
map holding the subscriptions by id. A device subscribing adds one key with a conditional UpdateItem, so two
devices subscribing at once never overwrite each other, and the limit per complaint holds.

Sending: every subscription of the complaint gets the payload in its own language. http_ece and py_vapid are
the building blocks pywebpush itself is made of (the same web-push-libs project); pywebpush 2 added only a
requests/aiohttp transport, ~19 MB of packages the reactions function does not need: the standard library's
urllib posts one small body as well. They (and cryptography) are imported on the first send only and ship in the
reactions function's zip alone (tools/package.py). A 404 or 410 from the push service means the browser dropped
the subscription: it is removed. Logs carry counts and statuses, never an endpoint.
"""
from __future__ import annotations

import base64
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import size

from chalicelib.adapters.tables import ContactTable
from chalicelib.services.ports import DeliveryFailed, Message, PushSubscription, PushSubscriptions
from chalicelib.settings import Settings

log = logging.getLogger("qalqan.webpush")

PUSH_TTL_SECONDS = 24 * 3600   # a status change still matters a day later; the push service keeps it that long


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid(private_key: str):
    """The VAPID signer for a private key given as base64url raw (32 bytes), base64url DER or PEM."""
    from py_vapid import Vapid

    text = private_key.strip()
    if text.startswith("-----BEGIN"):
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(private_key=text)


def application_server_key(private_key: str) -> str:
    """The public half of a VAPID private key as VAPID_PUBLIC_KEY takes it (and GET /push/key serves it, for
    PushManager.subscribe): the uncompressed P-256 point, base64url. Needs cryptography: tools and the sender."""
    return _b64url(_public_point(vapid(private_key)))


# --- storage ------------------------------------------------------------------------------------------------
def _condition_failed(exc) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class VaultPushSubscriptions:
    """PushSubscriptions on the contact vault's table (its own endpoint: it may live in Kazakhstan)."""

    def add(self, ref: str, subscription: PushSubscription, *, limit: int, at: datetime) -> str:
        value = {"endpoint": subscription.endpoint, "p256dh": subscription.p256dh, "auth": subscription.auth,
                 "lang": subscription.lang, "at": at.astimezone(timezone.utc).isoformat(timespec="seconds")}
        item = ContactTable(ref)
        # DynamoDB cannot set a key inside a map that does not exist yet: make the map first (a no-op after).
        item.update(actions=[ContactTable.push.set(ContactTable.push | {}),
                             ContactTable.created_at.set(ContactTable.created_at | at)])
        entry = ContactTable.push[subscription.id]
        try:
            item.update(actions=[entry.set(value)], condition=entry.does_not_exist() & (size(ContactTable.push) < limit))
            return "created"
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
        current = self._stored(ref).get(subscription.id)
        if current is None:
            return "full"
        if all(current.get(k) == value[k] for k in ("endpoint", "p256dh", "auth", "lang")):
            return "exists"
        try:  # the browser renewed its keys, or the person changed language: keep one entry, up to date
            item.update(actions=[entry.set(value)], condition=entry.exists())
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
            return self.add(ref, subscription, limit=limit, at=at)  # removed in between: add it afresh
        return "updated"

    def remove(self, ref: str, subscription_id: str) -> bool:
        entry = ContactTable.push[subscription_id]
        try:
            ContactTable(ref).update(actions=[entry.remove()], condition=entry.exists())
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def list(self, ref: str) -> list[PushSubscription]:
        return [PushSubscription(id=sid, endpoint=v["endpoint"], p256dh=v["p256dh"], auth=v["auth"],
                                 lang=v.get("lang") or "ru",
                                 at=datetime.fromisoformat(v["at"]) if v.get("at") else None)
                for sid, v in sorted(self._stored(ref).items())]

    @staticmethod
    def _stored(ref: str) -> dict:
        try:
            item = ContactTable.get(ref, consistent_read=True)
        except ContactTable.DoesNotExist:
            return {}
        push = item.push
        return push.as_dict() if push is not None and hasattr(push, "as_dict") else dict(push or {})


# --- sending ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushRequest:
    """One encrypted, signed POST to a subscription's endpoint (what a transport sends)."""
    url: str
    headers: dict
    body: bytes


class UrllibTransport:
    """Posts a PushRequest with the standard library and answers the status (0: no answer: network, timeout).

    urllib has one timeout per blocking socket operation: the connect and every read each get TIMEOUT seconds,
    so a push service that hangs costs at most a few of them (5 devices at most per complaint); the processor
    parks what the invocation's time left cannot cover."""

    TIMEOUT = 5.0

    def __init__(self) -> None:
        # Imported here, not with the module: the API function imports this module for the storage only.
        import urllib.request

        class NoRedirects(urllib.request.HTTPRedirectHandler):
            """A 3xx is answered as it is, never followed: the new location was never checked."""

            def redirect_request(self, req, fp, code, msg, headers, newurl):
                return None

        self._opener = urllib.request.build_opener(NoRedirects())

    def __call__(self, request: PushRequest) -> int:
        import http.client
        import urllib.error
        import urllib.request

        if urlsplit(request.url).scheme not in ("https", "http"):  # the opener also knows file:, ftp:, data:
            return 400
        http_request = urllib.request.Request(request.url, data=request.body, headers=request.headers, method="POST")
        try:
            with self._opener.open(http_request, timeout=self.TIMEOUT) as response:
                response.read(4096)
                return response.status
        except urllib.error.HTTPError as answered:  # 3xx (not followed), 4xx, 5xx
            answered.close()
            return answered.code
        except (http.client.InvalidURL, ValueError):  # a URL http.client refuses (control characters): every time
            return 400
        except (urllib.error.URLError, OSError, http.client.HTTPException):  # refused, DNS, TLS, timeout
            return 0


def encrypt(payload: bytes, p256dh: str, auth: str) -> bytes:
    """The RFC 8291 aes128gcm body for one subscription: ECDH with a fresh server key per message."""
    import http_ece
    from cryptography.hazmat.primitives.asymmetric import ec

    return http_ece.encrypt(payload, private_key=ec.generate_private_key(ec.SECP256R1()), dh=_unb64url(p256dh),
                            auth_secret=_unb64url(auth), version="aes128gcm")


def _unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class WebPushSender:
    """Sends a "webpush" Message (built by services.push.status_push) to every subscription of its `to` ref.

    `transport` posts a PushRequest and answers the status (UrllibTransport by default; tests give one that
    answers like a push service, or hands the request to the local fake one)."""

    def __init__(self, settings: Settings, subscriptions: PushSubscriptions, *, transport=None) -> None:
        self._settings = settings
        self._subscriptions = subscriptions
        self._transport = transport
        self._vapid = None
        self._pair_error: str | None = None

    def send(self, message: Message) -> None:
        from chalicelib.services.push import endpoint_allowed, payload_for

        if not self._settings.push_configured:
            raise DeliveryFailed("web push is not configured (VAPID_PRIVATE_KEY / VAPID_PUBLIC_KEY unset)",
                                 transient=False)
        signer = self._signer()
        subscriptions = self._subscriptions.list(message.to)
        content = json.loads(message.body)
        delivered = gone = 0
        transient: list[str] = []
        permanent: list[str] = []
        for sub in subscriptions:
            if not endpoint_allowed(sub.endpoint, self._settings):
                # stored under an older allow-list: never post there, and stop keeping it
                self._subscriptions.remove(message.to, sub.id)
                gone += 1
                continue
            status = self._post(signer, sub, payload_for(content, sub.lang), content)
            if 200 <= status < 300:
                delivered += 1
            elif status in (404, 410):
                self._subscriptions.remove(message.to, sub.id)  # the browser unsubscribed or the push expired
                gone += 1
            elif status == 0 or status >= 500 or status == 429:
                transient.append(str(status or "network"))
            else:
                permanent.append(str(status))
        log.info("web push", extra={"complaint_id": message.complaint_id, "devices": len(subscriptions),
                                    "delivered": delivered, "removed": gone, "failed": transient + permanent})
        # A retry sends to every device again; the Topic header and the notification tag make a repeat
        # replace the earlier one on the device instead of showing twice.
        if transient:
            raise DeliveryFailed(f"push service answered {', '.join(transient)}", transient=True)
        if content.get("final"):
            for sub in subscriptions:  # the complaint is closed: nothing more will ever be pushed
                self._subscriptions.remove(message.to, sub.id)
        if permanent:
            raise DeliveryFailed(f"push service refused: {', '.join(permanent)}", transient=False)

    def _signer(self):
        """The VAPID signer, once its public key is known to be VAPID_PUBLIC_KEY (what GET /push/key gave every
        browser): a push signed with another key is refused by every push service, for every device."""
        if self._pair_error is None and self._vapid is None:
            signer = vapid(self._settings.vapid_private_key)
            if _public_point(signer) != _unb64url(self._settings.vapid_public_key.strip()):
                self._pair_error = ("VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY: no push is sent "
                                    "(python -m tools.admin push-keys --public-of - prints the right one)")
                log.error(self._pair_error)
            else:
                self._vapid = signer
        if self._pair_error is not None:
            raise DeliveryFailed(self._pair_error, transient=False)
        return self._vapid

    def _post(self, signer, sub: PushSubscription, payload: dict, content: dict) -> int:
        if self._transport is None:
            self._transport = UrllibTransport()
        body = encrypt(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), sub.p256dh, sub.auth)
        parts = urlsplit(sub.endpoint)
        # a fresh claims dict per push: `exp` 12 h ahead (push services refuse more than 24 h)
        claims = {"sub": self._settings.vapid_subject, "aud": f"{parts.scheme}://{parts.netloc}",
                  "exp": int(time.time()) + 12 * 3600}
        headers = {**signer.sign(claims), "Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream",
                   "TTL": str(PUSH_TTL_SECONDS), "Urgency": "normal", "Topic": content["topic"]}
        return self._transport(PushRequest(url=sub.endpoint, headers=headers, body=body))


def _public_point(signer) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return signer.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
