"""Web Push: the subscriptions' storage on the contact vault's side, and sending through pywebpush (RFC 8291
aes128gcm payload encryption, RFC 8292 VAPID).

Storage: one item per complaint in the vault's table (`ref` "ps_<digest of the complaint id>"), its `push`
map holding the subscriptions by id. A device subscribing adds one key with a conditional UpdateItem, so two
devices subscribing at once never overwrite each other, and the limit per complaint holds.

Sending: every subscription of the complaint gets the payload in its own language. pywebpush (with
cryptography, http_ece, requests and aiohttp) is imported on the first send only: the API's cold start never
pays for it. A 404 or 410 from the push service means the browser dropped the subscription: it is removed.
Logs carry counts and statuses, never an endpoint.
"""
from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timezone

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import size

from chalicelib.adapters.tables import ContactTable
from chalicelib.services.ports import DeliveryFailed, Message, PushSubscription, PushSubscriptions
from chalicelib.settings import Settings

log = logging.getLogger("qalqan.webpush")

PUSH_TTL_SECONDS = 24 * 3600   # a status change still matters a day later; the push service keeps it that long
CONNECT_TIMEOUT, READ_TIMEOUT = 3.05, 5.0


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
    """The public key browsers pass to PushManager.subscribe: the uncompressed P-256 point, base64url."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = vapid(private_key).public_key
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return _b64url(key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


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
def _no_redirects_session():
    """A requests session that never follows a redirect: the new location was never checked."""
    import requests

    # A push endpoint's path is the device's token (personal data): urllib3's connection logs quote it at
    # DEBUG and its retry warnings at WARNING, so they stay off in the process that sends.
    logging.getLogger("urllib3").setLevel(logging.ERROR)

    class NoRedirects(requests.Session):
        def request(self, method, url, **kwargs):
            kwargs["allow_redirects"] = False
            return super().request(method, url, **kwargs)

    return NoRedirects()


class WebPushSender:
    """Sends a "webpush" Message (built by services.push.status_push) to every subscription of its `to` ref.

    `session` is a requests.Session (tests give one that answers like a push service, or capture the bytes)."""

    def __init__(self, settings: Settings, subscriptions: PushSubscriptions, *, session=None) -> None:
        self._settings = settings
        self._subscriptions = subscriptions
        self._session = session
        self._vapid = None

    def send(self, message: Message) -> None:
        from chalicelib.services.push import endpoint_allowed, payload_for

        if not self._settings.push_configured:
            raise DeliveryFailed("web push is not configured (VAPID_PRIVATE_KEY is unset)", transient=False)
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
            status = self._post(sub, payload_for(content, sub.lang), content)
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
        if self._vapid is None:
            self._vapid = vapid(self._settings.vapid_private_key)
        return self._vapid

    def _post(self, sub: PushSubscription, payload: dict, content: dict) -> int:
        import requests
        from pywebpush import WebPushException, webpush

        if self._session is None:
            self._session = _no_redirects_session()
        try:
            response = webpush(
                {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
                data=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                vapid_private_key=self._signer(),
                vapid_claims={"sub": self._settings.vapid_subject},  # a fresh dict: pywebpush writes `aud` into it
                content_encoding="aes128gcm", ttl=PUSH_TTL_SECONDS, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                headers={"Urgency": "normal", "Topic": content["topic"]}, requests_session=self._session,
            )
        except WebPushException as exc:
            return exc.response.status_code if exc.response is not None else 0
        except (requests.ConnectionError, requests.Timeout):
            return 0
        return response.status_code
