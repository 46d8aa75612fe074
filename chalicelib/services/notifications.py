"""What the stream reactions tell agencies, businesses and consumers, and where: message builders and the
registration of an agency's or business's channels.

A builder has the message reactions' signature `fn(envelope, c) -> Message | None`. It only reads (the
channel directory, the contact vault, the catalogue, the settings) and builds; the stream processor claims
the ledger marker, hands the message to `c.notifier.send` and completes the marker, so a redelivered record
sends nothing twice. None means "nothing to send": the channel is not configured, the event is not one
this audience hears about, or the complainant left no contact.

What each audience gets, and why no more (personal-data law No. 94-V: purpose and minimum):
- agencies and businesses: machine-readable facts to triage by and a link into their console, where the
  case itself is read behind an access key. No complaint text, no contact, no names;
- consumers: what happened to their complaint, in their language, with their private tracking link. Never
  the complaint's text (an SMS or an inbox is read on a lock screen and kept by carriers and mail hosts).
"""
from __future__ import annotations

import json
import secrets
import socket
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable
from urllib.parse import urlsplit

from chalicelib.domain import codes
from chalicelib.domain import complaint as ev
from chalicelib.domain.catalog import LANGUAGES
from chalicelib.domain.errors import ValidationFailed, field_error
from chalicelib.i18n import LABELS
from chalicelib.i18n import notifications as texts
from chalicelib.services.ports import Channels, ChannelDirectory, Clock, Message
from chalicelib.services.webhooks import validate_webhook_url

# The event names in message bodies, SNS attributes and the X-Qalqan-Event header.
EVENT_NAMES = {
    ev.ComplaintSubmitted: "complaint.submitted",
    ev.ComplaintRouted: "complaint.routed",
    ev.ComplaintRerouted: "complaint.rerouted",
}
# Consumer template by event: every status change the consumer can act on or wait for.
CONSUMER_TEMPLATES = {
    ev.ComplaintSubmitted: "submitted",
    ev.ComplaintRerouted: "rerouted",
    ev.BusinessResponded: "business_responded",
    ev.ComplaintSettled: "settled",
    ev.ConsumerRejected: "offer_rejected",
    ev.ComplaintTakenInReview: "taken_in_review",
    ev.ComplaintResolved: "resolved",
    ev.ComplaintRejected: "rejected",
}
# A consumer whose language is somehow none of ours reads Russian more often than English in Kazakhstan.
FALLBACK_LANGUAGE = "ru"


def agency_owner(agency_id: str) -> str:
    return f"agency#{agency_id}"


def business_owner(bin: str) -> str:
    return f"business#{bin}"


# --- agencies -----------------------------------------------------------------------------------------------
def _agency_target(envelope) -> str | None:
    """The agency a routing event hands the case to (a reroute's new agency), or None for other events."""
    event = envelope.event
    if isinstance(event, ev.ComplaintRerouted):
        return event.to_agency
    if isinstance(event, ev.ComplaintRouted):
        return event.agency_id
    return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def agency_body(envelope, c, agency_id: str) -> dict:
    """The facts an agency is told about a case that reached it.

    That is all an agency needs in a message: enough to filter and triage (which agency, region, category,
    sector, formal appeal or signal, the legal due date) and the link that opens the case in the agency
    console. The complaint's text, the complainant's contact and every name are read there, behind the
    agency's access key and its region scope, with every read on record. A message, by contrast, is copied
    into SNS subscriptions, mailboxes and webhook receivers' logs that we neither control nor can recall,
    and may leave Kazakhstan: personal data has no business in it.
    """
    complaint = envelope.complaint
    return {
        "event": EVENT_NAMES[type(envelope.event)],
        "at": _iso(envelope.event.at),
        "complaint_id": complaint.id,
        "agency": agency_id,
        "region": complaint.region,
        "category": complaint.category,
        "sector": complaint.sector,
        "kind": complaint.kind,
        "status": complaint.status.value,
        "agency_due_at": _iso(complaint.agency_due_at),
        "link": f"{c.settings.web_base_url}agency.html#id={complaint.id}",
    }


def _json(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def agency_topic(envelope, c) -> Message | None:
    """ComplaintRouted / ComplaintRerouted -> the notifications topic, with attributes subscriptions filter
    on (an agency subscribes with {"audience": ["agency"], "agency": ["kzpp"]}, a regional department adds
    "region")."""
    agency_id = _agency_target(envelope)
    topic = c.settings.notifications_topic_arn
    if agency_id is None or not topic:
        return None
    return _agency_topic_message(envelope, topic, agency_id, agency_body(envelope, c, agency_id))


def _agency_topic_message(envelope, topic: str, agency_id: str, body: dict, *, role: str | None = None,
                          delivery: str | None = None) -> Message:
    complaint = envelope.complaint
    attributes = {"audience": "agency", "agency": agency_id, "region": complaint.region,
                  "category": complaint.category or "none", "event": body["event"]}
    if role:
        attributes["role"] = role
    return Message(
        channel="sns", audience="agency", to=topic, complaint_id=complaint.id, template=f"agency.{body['event']}",
        language="", body=_json(body), subject=f"Qalqan {body['event']} {complaint.id}", attributes=attributes,
        idempotency_key=delivery or envelope.event_id,
    )


def _webhook(envelope, c, owner: str, audience: str, body: dict) -> Message | None:
    channels = c.channels.get(owner)
    if channels is None or not channels.webhook_url or not channels.webhook_secret:
        return None
    return Message(
        channel="webhook", audience=audience, to=channels.webhook_url, complaint_id=envelope.complaint.id,
        template=f"{audience}.{body['event']}", language="", body=_json(body),
        attributes={"event": body["event"]}, idempotency_key=envelope.event_id,
        signing_secret=channels.webhook_secret,
    )


def agency_webhook(envelope, c) -> Message | None:
    """The same body as `agency_topic`, to the agency's own webhook; signed by the notifier at send time
    (X-Qalqan-Signature, see chalicelib/services/webhooks.py)."""
    agency_id = _agency_target(envelope)
    if agency_id is None:
        return None
    return _webhook(envelope, c, agency_owner(agency_id), "agency", agency_body(envelope, c, agency_id))


def _secondary_target(envelope) -> str | None:
    """A new complaint that also concerns a second body (no receipt AND overcharging): that body."""
    complaint = envelope.complaint
    if isinstance(envelope.event, ev.ComplaintSubmitted) and complaint.secondary_agencies:
        return complaint.secondary_agencies[0]
    return None


def _secondary_body(envelope, c, agency_id: str) -> dict:
    body = agency_body(envelope, c, agency_id)
    body.update(event="complaint.secondary", role="secondary", handling_agency=envelope.complaint.agency_id)
    return body


def secondary_agency_topic(envelope, c) -> Message | None:
    """ComplaintSubmitted with a secondary agency -> the topic, for that agency: the case is in its queue
    (read-only there); the handling agency is named so the two can coordinate."""
    agency_id = _secondary_target(envelope)
    topic = c.settings.notifications_topic_arn
    if agency_id is None or not topic:
        return None
    # the business's message comes from the same event: a delivery id of its own, so a subscriber that drops
    # duplicates by it never drops the other
    return _agency_topic_message(envelope, topic, agency_id, _secondary_body(envelope, c, agency_id),
                                 role="secondary", delivery=f"{envelope.event_id}:secondary")


def secondary_agency_webhook(envelope, c) -> Message | None:
    agency_id = _secondary_target(envelope)
    if agency_id is None:
        return None
    message = _webhook(envelope, c, agency_owner(agency_id), "agency", _secondary_body(envelope, c, agency_id))
    return replace(message, idempotency_key=f"{envelope.event_id}:secondary") if message else None


# --- businesses ---------------------------------------------------------------------------------------------
def _for_business(envelope) -> bool:
    """Only a new complaint, and only about a business registered here: an unregistered seller has no
    console to open the case in and no channel anyone could have set up."""
    return isinstance(envelope.event, ev.ComplaintSubmitted) and envelope.complaint.business_registered


def business_body(envelope, c) -> dict:
    """A new complaint about the business's outlet: which outlet, what kind, when the answer is due, and
    the link into the business inbox. Neither the text nor who complained (the consumer's identity reaches
    a seller only with explicit consent, and then only in the inbox)."""
    complaint = envelope.complaint
    return {
        "event": EVENT_NAMES[type(envelope.event)],
        "at": _iso(envelope.event.at),
        "complaint_id": complaint.id,
        "business": complaint.business_bin,
        "outlet_code": complaint.outlet_code,
        "outlet_name": complaint.outlet_name,
        "region": complaint.region,
        "category": complaint.category,
        "sector": complaint.sector,
        "status": complaint.status.value,
        "business_due_at": _iso(complaint.business_due_at),
        "link": f"{c.settings.web_base_url}business.html#id={complaint.id}",
    }


def business_topic(envelope, c) -> Message | None:
    """ComplaintSubmitted -> the notifications topic, audience=business, filterable by BIN and outlet."""
    topic = c.settings.notifications_topic_arn
    if not _for_business(envelope) or not topic:
        return None
    complaint = envelope.complaint
    body = business_body(envelope, c)
    attributes = {"audience": "business", "business": complaint.business_bin, "region": complaint.region,
                  "category": complaint.category or "none", "event": body["event"]}
    if complaint.outlet_code:
        attributes["outlet"] = complaint.outlet_code
    return Message(
        channel="sns", audience="business", to=topic, complaint_id=complaint.id, template="business.complaint.submitted",
        language="", body=_json(body), subject=f"Qalqan {body['event']} {complaint.id}", attributes=attributes,
        idempotency_key=envelope.event_id,
    )


def business_webhook(envelope, c) -> Message | None:
    if not _for_business(envelope):
        return None
    return _webhook(envelope, c, business_owner(envelope.complaint.business_bin), "business", business_body(envelope, c))


def _local_date(c, moment: datetime | None) -> str:
    """A due date as people in Kazakhstan write it (DD.MM.YYYY), in the deadline rules' time zone."""
    if moment is None:
        return "—"
    return moment.astimezone(c.rules.tz).strftime("%d.%m.%Y")


def business_email(envelope, c) -> Message | None:
    """ComplaintSubmitted -> the business's notification email, in kk, ru and en at once."""
    if not _for_business(envelope):
        return None
    channels = c.channels.get(business_owner(envelope.complaint.business_bin))
    if channels is None or not channels.email:
        return None
    complaint = envelope.complaint
    display = codes.display_code(complaint.outlet_code) if complaint.outlet_code else ""
    link = f"{c.settings.web_base_url}business.html#id={complaint.id}"
    category = c.catalog.categories.get(complaint.category) if complaint.category else None
    t = texts.BUSINESS_EMAIL
    parts = []
    for lang in LANGUAGES:
        values = {
            "outlet": f"{complaint.outlet_name or ''} ({display})".strip() if display else "",
            "category": category.name[lang] if category else t["no_category"][lang],
            "due": _local_date(c, complaint.business_due_at),
        }
        intro = (t["outlet"] if complaint.outlet_code else t["seller"])[lang].format(**values)
        parts.append(f"{intro}\n{t['open'][lang]}\n{link}\n\n{t['footer'][lang]}")
    subject = f"{texts.BRAND}: {' / '.join(t['subject'][lang] for lang in LANGUAGES)} {complaint.id}"
    return Message(
        channel="email", audience="business", to=channels.email, complaint_id=complaint.id,
        template="business.complaint.submitted", language="+".join(LANGUAGES),
        body="\n\n— — —\n\n".join(parts), subject=subject, idempotency_key=envelope.event_id,
    )


# --- consumers ----------------------------------------------------------------------------------------------
def _agency_name(c, agency_id: str | None, lang: str) -> str:
    agency = c.catalog.agencies.get(agency_id) if agency_id else None
    return agency.name[lang] if agency is not None else (agency_id or "")


def _label(kind: str, *keys: str | None) -> dict[str, str] | None:
    """The first of `keys` that has a label of `kind` (the event's value, then the complaint's)."""
    table = LABELS[kind]
    return next((dict(table[key]) for key in keys if key and key in table), None)


def consumer_values(envelope, c, lang: str) -> dict[str, str]:
    """The placeholders of a consumer template: the id, the agency now considering it, the seller's offer
    and the agency's decision as labels (their texts stay behind the tracking link)."""
    event, complaint = envelope.event, envelope.complaint
    agency = complaint.agency_id
    if isinstance(event, ev.ComplaintRerouted):
        agency = event.to_agency
    elif isinstance(event, (ev.ComplaintSubmitted, ev.ComplaintTakenInReview)):
        agency = event.agency_id
    offer = _label("offer", getattr(event, "offer", None),
                   complaint.business_response.offer if complaint.business_response else None, "other")
    decision = _label("decision", getattr(event, "decision", None),
                      complaint.resolution.decision if complaint.resolution else None)
    return {"id": complaint.id, "agency": _agency_name(c, agency, lang), "offer": offer[lang],
            "decision": decision[lang] if decision else ""}


def consumer_texts(template: str, lang: str, values: dict[str, str], link: str) -> tuple[str, str, str]:
    """(sms, email subject, email body) of a consumer template."""
    entry = texts.CONSUMER[template]
    text = entry["text"][lang].format(**values)
    sms = f"{texts.BRAND}: {text} {link}"
    subject = f"{texts.BRAND}: {entry['title'][lang].format(**values)}"
    mail = texts.CONSUMER_EMAIL
    body = (f"{mail['greeting'][lang]}\n\n{text}\n\n{mail['link'][lang]}\n{link}\n\n{mail['footer'][lang]}\n\n"
            f"{texts.BRAND}")
    return sms, subject, body


def consumer(envelope, c) -> Message | None:
    """Every status change, to a complainant who gave a phone or an email: email when there is an email
    (longer, free, no segment limit), else SMS. An anonymous complainant (no contact reference, or an
    empty contact) gets nothing: there is no one to tell."""
    template = CONSUMER_TEMPLATES.get(type(envelope.event))
    complaint = envelope.complaint
    if template is None or not complaint.contact_ref:
        return None
    contact = c.contacts.get(complaint.contact_ref)
    if contact is None or not (contact.email or contact.phone):
        return None
    lang = complaint.language if complaint.language in LANGUAGES else FALLBACK_LANGUAGE
    link = c.settings.status_url(complaint.id, codes.tracking_token(c.settings.secret, complaint.id))
    sms, subject, body = consumer_texts(template, lang, consumer_values(envelope, c, lang), link)
    common = {"audience": "consumer", "complaint_id": complaint.id, "template": f"consumer.{template}",
              "language": lang, "idempotency_key": envelope.event_id}
    if contact.email:
        return Message(channel="email", to=contact.email, body=body, subject=subject, **common)
    return Message(channel="sms", to=contact.phone, body=sms, **common)


def consumer_telegram(envelope, c) -> Message | None:
    """Every status change after the submission, to the Telegram chat the complaint was sent from (the bot
    answered the submission itself). The chat is looked up on the contact vault's side; a complaint sent
    another way, or a stage without the bot, gets nothing here."""
    template = CONSUMER_TEMPLATES.get(type(envelope.event))
    store = getattr(c, "telegram_store", None)
    if template is None or template == "submitted" or store is None or c.telegram is None:
        return None
    complaint = envelope.complaint
    if complaint.channel != "telegram":
        return None
    chat = store.chat_for(complaint.id)
    if chat is None:
        return None
    chat_id, lang = chat
    lang = lang if lang in LANGUAGES else FALLBACK_LANGUAGE
    link = c.settings.status_url(complaint.id, codes.tracking_token(c.settings.secret, complaint.id))
    text = texts.CONSUMER[template]["text"][lang].format(**consumer_values(envelope, c, lang))
    return Message(channel="telegram", audience="consumer", to=chat_id, complaint_id=complaint.id,
                   template=f"consumer.{template}", language=lang, body=f"{text}\n{link}",
                   idempotency_key=envelope.event_id)


# --- masking ------------------------------------------------------------------------------------------------
def masked(to: str, channel: str) -> str:
    """A recipient as logs and the local outbox may show it: "+7 7** *** ** 67", "a***@mail.kz", a
    webhook's host only, a topic's name only. Never enough to reach anyone."""
    if not to:
        return ""
    if channel == "sms":
        digits = "".join(ch for ch in to if ch.isdigit())
        if to.startswith("+7") and len(digits) == 11:
            return f"+7 {digits[1]}** *** ** {digits[-2:]}"
        return f"+{'*' * (len(digits) - 2)}{digits[-2:]}" if len(digits) > 6 else "***"
    if channel == "email":
        local, at, domain = to.rpartition("@")
        return f"{local[:1]}***@{domain}" if local and at else "***"
    if channel == "webhook":
        try:
            return urlsplit(to).hostname or "***"
        except ValueError:
            return "***"
    if channel == "sns":
        return to.rsplit(":", 1)[-1]
    if channel == "telegram":  # a chat id: the last two digits tell test chats apart, nothing more
        return f"tg:***{to[-2:]}" if len(to) > 4 else "tg:***"
    return "***"


# --- channel registration -----------------------------------------------------------------------------------
class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()  # "leave as it is", unlike None ("remove")


@dataclass(frozen=True)
class ChannelsChange:
    """The result of a registration: the channels as stored, and the new signing secret when the webhook
    was set or changed (shown to the caller once; never readable again)."""
    channels: Channels
    new_secret: str | None = None


def get_channels(owner: str, *, channels: ChannelDirectory) -> Channels:
    return channels.get(owner) or Channels(owner=owner)


def set_channels(owner: str, *, webhook_url=UNSET, email=UNSET, by: str | None, channels: ChannelDirectory,
                 clock: Clock, resolve: Callable[..., list] = socket.getaddrinfo,
                 new_secret: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> ChannelsChange:
    """Set (a value), remove (None) or keep (UNSET) an owner's webhook URL and email.

    A webhook URL is checked in full (https, no private or metadata address, also after DNS) before it is
    stored. Setting one, even the same one again, issues a new signing secret: that is how a secret is
    rotated, and a secret is never shown twice. Email addresses arrive validated by the API's schema.
    """
    current = get_channels(owner, channels=channels)
    url, secret, issued = current.webhook_url, current.webhook_secret, None
    if webhook_url is None:
        url, secret = None, None
    elif webhook_url is not UNSET:
        if not isinstance(webhook_url, str):
            raise ValidationFailed("Some fields are invalid.",
                                   fields=field_error("webhook_url", "invalid_url", "a URL string or null"))
        validate_webhook_url(webhook_url, resolve)
        url, secret = webhook_url, new_secret()
        issued = secret
    mail = current.email if email is UNSET else email
    stored = Channels(owner=owner, webhook_url=url, webhook_secret=secret, email=mail,
                      updated_at=clock.now(), updated_by=by)
    channels.put(stored)
    return ChannelsChange(channels=stored, new_secret=issued)
