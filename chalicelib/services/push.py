"""Web Push for the installable app: a device follows a complaint it holds the tracking token of, and every
status change reaches it as a notification.

- A subscription (the browser's endpoint and keys) is personal data: it reaches one person's device. It is
  kept on the contact vault's side, under a reference derived from the complaint id, never on the AWS tables.
- Only the tracking token's holder may subscribe or unsubscribe a device (the same check as the tracking view).
- The server posts only to the https endpoints of the known browser push services (or, in the local stack, to
  its fake push service): a subscription is a URL a stranger hands us, and it must not make us call anything else.
- The payload says what happened (the id, the status, a one-line text in the subscriber's language) and where to
  read it (the private tracking path). Never the complaint's text. It is encrypted for the device (RFC 8291).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.domain import codes
from chalicelib.domain import complaint as ev
from chalicelib.domain.catalog import LANGUAGES
from chalicelib.domain.errors import Conflict, LimitReached, ValidationFailed, field_error
from chalicelib.domain.p256 import b64url_decode, public_key_point
from chalicelib.i18n import notifications as texts
from chalicelib.services.ports import Message, PushSubscription

MAX_SUBSCRIPTIONS = 5  # devices per complaint: a phone, a tablet, a laptop... not a mailing list
# The push services of the browsers that support Web Push (Chrome/Edge/Opera/Samsung via FCM, Firefox, Safari
# on macOS and iOS, and Edge's WNS). A host is accepted if it is one of these or a subdomain of one.
PUSH_SERVICE_HOSTS = ("fcm.googleapis.com", "android.googleapis.com", "updates.push.services.mozilla.com",
                      "push.services.mozilla.com", "push.apple.com", "notify.windows.com")
ENDPOINT_MAX = 2000


class PushUnavailable(Exception):
    """No VAPID key is configured: the API answers 404 push_unavailable."""


class TooManySubscriptions(LimitReached):
    code = "too_many_subscriptions"


class ComplaintClosed(Conflict):
    code = "complaint_closed"


@dataclass(frozen=True)
class Subscribe:
    endpoint: str
    p256dh: str
    auth: str
    lang: str | None = None


def push_ref(secret: str, complaint_id: str) -> str:
    """The vault reference of a complaint's subscriptions, keyed with the stage secret: complaint ids are public
    (Open311 lists them), so an unkeyed digest of one would let whoever reads the vault tell which complaint a
    device follows. Stable for a secret; after a rotation the previous secret's reference is still read
    (`refs`), as tracking tokens under the previous secret still open the tracking view."""
    return "ps_" + codes.keyed_digest(secret, "push-subscriptions", complaint_id).hex()[:32]


def refs(settings, complaint_id: str) -> list[str]:
    """The complaint's reference under the current secret, then under the previous one (a rotation)."""
    return [push_ref(secret, complaint_id) for secret in (settings.secret, *settings.previous_secrets)]


def subscription_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()[:24]


def endpoint_allowed(endpoint: str, settings) -> bool:
    """https on a known push service's host (default port), or a prefix the settings allow (local stack)."""
    if any(endpoint.startswith(prefix) for prefix in settings.push_endpoint_prefixes):
        return True
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https" or port not in (None, 443) or parts.username or parts.password:
        return False
    return any(host == known or host.endswith("." + known) for known in PUSH_SERVICE_HOSTS)


def check_keys(p256dh: str, auth: str) -> None:
    """The subscription's keys as RFC 8291 needs them: a P-256 point (65 bytes, uncompressed) on the curve,
    and a 16-byte authentication secret. A bad key would only fail later, at every send. The curve check is
    integer arithmetic on public data (chalicelib/domain/p256.py): the API function ships without cryptography."""
    try:
        public_key_point(p256dh)
    except ValueError:
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            "subscription.keys.p256dh", "invalid_push_key", "the browser's P-256 key (65 bytes, base64url)")) from None
    try:
        secret = b64url_decode(auth)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            "subscription.keys.auth", "invalid_push_key", "the browser's 16-byte auth secret (base64url)"))


def _holder(complaint_id: str, token: str | None, *, complaints, secret: str, previous_secrets: tuple[str, ...]):
    from chalicelib.services.complaints import complaint_for_holder

    return complaint_for_holder(complaint_id, token, complaints=complaints, secret=secret,
                                previous_secrets=previous_secrets)


def subscribe(complaint_id: str, token: str | None, cmd: Subscribe, *, complaints, subscriptions, settings,
              clock) -> bool:
    """Store the device's subscription; True if it is new, False if it was already there (then kept up to
    date). The tracking token is checked first: a wrong one is the tracking view's 404."""
    if not settings.push_configured:
        raise PushUnavailable()
    complaint = _holder(complaint_id, token, complaints=complaints, secret=settings.secret,
                        previous_secrets=settings.previous_secrets)
    if not complaint.is_open:
        # nothing will change any more: a subscription would be personal data kept for no purpose
        raise ComplaintClosed("This complaint is closed; its status will not change again.")
    if not endpoint_allowed(cmd.endpoint, settings):
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            "subscription.endpoint", "push_endpoint_refused", "not the https address of a known push service"))
    check_keys(cmd.p256dh, cmd.auth)
    lang = cmd.lang or (complaint.language if complaint.language in LANGUAGES else texts_fallback())
    sub = PushSubscription(id=subscription_id(cmd.endpoint), endpoint=cmd.endpoint, p256dh=cmd.p256dh,
                           auth=cmd.auth, lang=lang)
    outcome = subscriptions.add(push_ref(settings.secret, complaint.id), sub, limit=MAX_SUBSCRIPTIONS, at=clock.now())
    if outcome == "full":
        raise TooManySubscriptions(f"At most {MAX_SUBSCRIPTIONS} devices may follow one complaint.")
    return outcome == "created"


def unsubscribe(complaint_id: str, token: str | None, endpoint: str, *, complaints, subscriptions, settings) -> None:
    """Forget the device's subscription (no error if it was not there: a retried DELETE is the same)."""
    complaint = _holder(complaint_id, token, complaints=complaints, secret=settings.secret,
                        previous_secrets=settings.previous_secrets)
    for ref in refs(settings, complaint.id):
        subscriptions.remove(ref, subscription_id(endpoint))


def texts_fallback() -> str:
    from chalicelib.services.notifications import FALLBACK_LANGUAGE

    return FALLBACK_LANGUAGE


# --- the reaction -------------------------------------------------------------------------------------------
def status_push(envelope, c) -> Message | None:
    """A status change -> one "webpush" message to the devices that follow the complaint. None when push is
    not configured, the event is not a status change the consumer hears about, or no device follows it.
    (A new complaint is left out: nobody can have subscribed to it before it existed.)"""
    from chalicelib.services.notifications import CONSUMER_TEMPLATES, consumer_values

    template = CONSUMER_TEMPLATES.get(type(envelope.event))
    store = getattr(c, "push_subscriptions", None)
    if template is None or isinstance(envelope.event, ev.ComplaintSubmitted) or store is None \
            or not c.settings.push_configured:
        return None
    complaint = envelope.complaint
    ref = next((ref for ref in refs(c.settings, complaint.id) if store.list(ref)), None)
    if ref is None:
        return None
    token = codes.tracking_token(c.settings.secret, complaint.id)
    entry = texts.CONSUMER[template]
    localised = {}
    for lang in LANGUAGES:
        values = consumer_values(envelope, c, lang)
        localised[lang] = {"title": f"{texts.BRAND}: {entry['title'][lang].format(**values)}",
                           "body": entry["text"][lang].format(**values)}
    content = {
        "complaint_id": complaint.id, "status": complaint.status.value, "template": template,
        "path": f"track.html#id={complaint.id}&token={token}",
        "url": c.settings.status_url(complaint.id, token),
        # A newer status replaces an older one the device has not received yet (RFC 8030 Topic, <= 32 chars).
        "topic": f"complaint-{complaint.id}"[:32],
        # a closed complaint changes no more: once told, its devices are forgotten (purpose and minimum)
        "final": not complaint.is_open,
        "texts": localised,
    }
    return Message(channel="webpush", audience="consumer", to=ref, complaint_id=complaint.id,
                   template=f"consumer.{template}", language="+".join(LANGUAGES),
                   body=json.dumps(content, ensure_ascii=False), idempotency_key=envelope.event_id)


def payload_for(content: dict, lang: str) -> dict:
    """What one device receives (and its service worker shows), in that device's language."""
    lang = lang if lang in content["texts"] else texts_fallback()
    return {"type": "qalqan.complaint.status", "complaint_id": content["complaint_id"], "status": content["status"],
            "template": content["template"], "lang": lang, "title": content["texts"][lang]["title"],
            "body": content["texts"][lang]["body"], "path": content["path"], "url": content["url"],
            "tag": f"complaint-{content['complaint_id']}"}
