"""Which reactions each event sets off: the one place to read it.

A *counter* reaction moves counters in one transaction with its ledger marker (exactly once). A *message*
reaction only builds a message; the processor claims its marker, sends, and completes it, so a redelivered
record does not send twice. Every reaction has its own marker ("<event id>|<reaction>"), so a failing webhook
never holds back the ratings, and a replay redoes only what did not happen.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from chalicelib.domain import complaint as ev
from chalicelib.services import analytics, notifications, open_data, push, ratings, transparency


@dataclass(frozen=True)
class Reaction:
    name: str
    fn: Callable
    mode: str  # "counter" | "message"


RATINGS = Reaction("ratings", ratings.apply_change, "counter")
ANALYTICS = Reaction("analytics", analytics.apply_change, "counter")
ANALYTICS_CASES = Reaction("analytics_cases", analytics.apply_case, "counter")
SECTOR_RATINGS = Reaction("sector_ratings", transparency.apply_change, "counter")
OPEN_DATA = Reaction("open_data", open_data.apply_change, "counter")  # version-guarded, no marker needed
AGENCY_TOPIC = Reaction("agency_topic", notifications.agency_topic, "message")
AGENCY_WEBHOOK = Reaction("agency_webhook", notifications.agency_webhook, "message")
BUSINESS_TOPIC = Reaction("business_topic", notifications.business_topic, "message")
BUSINESS_WEBHOOK = Reaction("business_webhook", notifications.business_webhook, "message")
BUSINESS_EMAIL = Reaction("business_email", notifications.business_email, "message")
CONSUMER = Reaction("consumer", notifications.consumer, "message")
CONSUMER_TELEGRAM = Reaction("consumer_telegram", notifications.consumer_telegram, "message")
CONSUMER_WEBPUSH = Reaction("consumer_webpush", push.status_push, "message")
SECONDARY_TOPIC = Reaction("secondary_agency_topic", notifications.secondary_agency_topic, "message")
SECONDARY_WEBHOOK = Reaction("secondary_agency_webhook", notifications.secondary_agency_webhook, "message")

REGISTRY: dict[type, tuple[Reaction, ...]] = {
    ev.ComplaintChanged: (RATINGS, ANALYTICS, ANALYTICS_CASES, SECTOR_RATINGS, OPEN_DATA),
    ev.ComplaintSubmitted: (BUSINESS_TOPIC, BUSINESS_WEBHOOK, BUSINESS_EMAIL, CONSUMER, SECONDARY_TOPIC,
                            SECONDARY_WEBHOOK),
    ev.ComplaintRouted: (AGENCY_TOPIC, AGENCY_WEBHOOK),
    ev.ComplaintRerouted: (AGENCY_TOPIC, AGENCY_WEBHOOK, CONSUMER, CONSUMER_TELEGRAM, CONSUMER_WEBPUSH),
    ev.BusinessResponded: (CONSUMER, CONSUMER_TELEGRAM, CONSUMER_WEBPUSH),
    ev.ConsumerAccepted: (),
    ev.ComplaintSettled: (CONSUMER, CONSUMER_TELEGRAM, CONSUMER_WEBPUSH),
    ev.ConsumerRejected: (CONSUMER, CONSUMER_TELEGRAM, CONSUMER_WEBPUSH),
    ev.ComplaintTakenInReview: (CONSUMER, CONSUMER_TELEGRAM, CONSUMER_WEBPUSH),
    ev.ComplaintResolved: (CONSUMER, CONSUMER_TELEGRAM, CONSUMER_WEBPUSH),
    ev.ComplaintRejected: (CONSUMER, CONSUMER_TELEGRAM, CONSUMER_WEBPUSH),
    ev.DeadlineMissed: (),  # visible in the consoles and counted by the analytics (via ComplaintChanged)
}


def reactions_for(event) -> tuple[Reaction, ...]:
    return REGISTRY.get(type(event), ())
