"""pynamodb table models. Table names and region come from Settings at import time (pynamodb reads Meta then).

The endpoint is not set here: botocore reads AWS_ENDPOINT_URL, which the local stack and tests point
at moto; in AWS it is unset.
"""
from __future__ import annotations

import threading

import botocore.loaders
import botocore.session
import pynamodb.connection.base
from pynamodb.attributes import (
    BooleanAttribute, JSONAttribute, ListAttribute, MapAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute, VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import get_settings

_settings = get_settings()

# pynamodb gives every table its own botocore session, and each new session parses botocore's data files (the
# endpoints, the DynamoDB model) again: on a cold start, a request touching a second table paid ~90 ms of CPU for
# it, more than its first table's client (bench/cold_start_packaged.py). One loader per process shares what was
# parsed, as one boto3 session does for its clients; clients stay pynamodb's own, one per table.
_DATA_LOADER = botocore.loaders.create_loader()


def _session_sharing_data() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _DATA_LOADER)
    return session


pynamodb.connection.base.get_session = _session_sharing_data

# A botocore session is not thread-safe, so pynamodb keeps one per table and thread; but making one registers
# botocore's ~200 built-in event handlers, each checked with inspect (~6 ms of CPU), and a cold request touching
# two tables made two. The tables of one thread that use the same credentials share one: a session only makes
# clients, and each client still gets its own copy of the event handlers (per-table hooks stay per table).
_SESSIONS = threading.local()


def _session_per_thread_and_credentials(connection) -> botocore.session.Session:
    if getattr(connection._local, "session", None) is None:
        credentials = (connection._aws_access_key_id, connection._aws_secret_access_key,
                       connection._aws_session_token)
        sessions = _SESSIONS.__dict__.setdefault("by_credentials", {})
        session = sessions.get(credentials)
        if session is None:
            session = _session_sharing_data()
            if credentials[0] and credentials[1]:  # as pynamodb does: explicit keys (the vault's), else the chain
                session.set_credentials(*credentials)
            sessions[credentials] = session
        connection._local.session = session
    return connection._local.session


pynamodb.connection.base.Connection.session = property(_session_per_thread_and_credentials)


def _meta(short: str, **extra):
    attrs = {
        "table_name": _settings.table_name(short),
        "region": _settings.aws_region,
        "billing_mode": "PAY_PER_REQUEST",
        **extra,
    }
    return type("Meta", (), attrs)


def _index_meta(name: str):
    return type("Meta", (), {"index_name": name, "projection": AllProjection()})


class BusinessTable(Model):
    Meta = _meta("businesses")
    bin = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    region = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)


class OutletsByBusiness(GlobalSecondaryIndex):
    """Outlets of a business (admin listing, chain sticker sheets)."""
    Meta = _index_meta("by_business")
    business_bin = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute(range_key=True)


class OutletTable(Model):
    Meta = _meta("outlets")
    code = UnicodeAttribute(hash_key=True)
    business_bin = UnicodeAttribute()
    business_name = UnicodeAttribute()
    name = UnicodeAttribute()
    address = UnicodeAttribute()
    region = UnicodeAttribute()
    kato = UnicodeAttribute(null=True)
    sector = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    external_ref = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    status_by = UnicodeAttribute(null=True)
    by_business = OutletsByBusiness()


class TimelineMap(MapAttribute):
    at = UTCDateTimeAttribute()
    type = UnicodeAttribute()
    actor = UnicodeAttribute()
    agency_id = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    key_id = UnicodeAttribute(null=True)
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute(null=True)


class BusinessResponseMap(MapAttribute):
    message = UnicodeAttribute()
    offer = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    key_id = UnicodeAttribute(null=True)


class FeedbackMap(MapAttribute):
    accepted = BooleanAttribute()
    stars = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()


class ResolutionMap(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    decision = UnicodeAttribute(null=True)
    text = UnicodeAttribute()


class AgencyQueue(GlobalSecondaryIndex):
    """An agency's complaints by their last change; `change_key` (ISO time with microseconds + id) is the
    polling position: a poll from a position returns what is new or changed since."""
    Meta = _index_meta("agency_queue")
    agency_id = UnicodeAttribute(hash_key=True)
    change_key = UnicodeAttribute(range_key=True)


class AgencyRegionQueue(GlobalSecondaryIndex):
    """A regional department's queue: key `<agency>#<region>`."""
    Meta = _index_meta("agency_region_queue")
    agency_region = UnicodeAttribute(hash_key=True)
    change_key = UnicodeAttribute(range_key=True)


class BusinessQueue(GlobalSecondaryIndex):
    """A business's complaints by their last change."""
    Meta = _index_meta("business_queue")
    business_bin = UnicodeAttribute(hash_key=True)
    change_key = UnicodeAttribute(range_key=True)


class SecondaryQueue(GlobalSecondaryIndex):
    """Sparse: complaints that also concern a second body, in that body's queue (read-only there)."""
    Meta = _index_meta("secondary_queue")
    secondary_agency = UnicodeAttribute(hash_key=True)
    change_key = UnicodeAttribute(range_key=True)


class SecondaryRegionQueue(GlobalSecondaryIndex):
    """The same for a regional department: key `<agency>#<region>`."""
    Meta = _index_meta("secondary_region_queue")
    secondary_agency_region = UnicodeAttribute(hash_key=True)
    change_key = UnicodeAttribute(range_key=True)


class OpenByDue(GlobalSecondaryIndex):
    """Sparse: only open complaints with a deadline still to watch carry `open_bucket`, so the deadline
    sweeper reads just those, earliest deadline first."""
    Meta = _index_meta("open_by_due")
    open_bucket = UnicodeAttribute(hash_key=True)
    next_due_at = UnicodeAttribute(range_key=True)


class RequestedByMonth(GlobalSecondaryIndex):
    """Every complaint by when it was filed, one partition per UTC month: the public Open311 list
    (GET /open311/v2/requests.json) reads a date range with one Query per month it spans, never a Scan."""
    Meta = _index_meta("requested_by_month")
    created_month = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ComplaintTable(Model):
    """Complaints. No direct identifier of a complainant is stored here: only `contact_ref` into the vault."""
    Meta = _meta("complaints", stream_view_type="NEW_AND_OLD_IMAGES")
    id = UnicodeAttribute(hash_key=True)
    version = VersionAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute()
    language = UnicodeAttribute()
    text_language = UnicodeAttribute()
    text = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    sector = UnicodeAttribute()
    region = UnicodeAttribute()
    business_bin = UnicodeAttribute()
    business_name = UnicodeAttribute()
    business_registered = BooleanAttribute()
    outlet_code = UnicodeAttribute(null=True)
    outlet_name = UnicodeAttribute(null=True)
    outlet_address = UnicodeAttribute(null=True)
    contact_ref = UnicodeAttribute(null=True)
    identified = BooleanAttribute(default=False)
    share_contact_with_business = BooleanAttribute(default=False)
    publish_consent = BooleanAttribute(default=False)  # the text may go, scrubbed, into the open data
    incident_at = UTCDateTimeAttribute(null=True)
    routing = JSONAttribute()
    agency_id = UnicodeAttribute()
    agency_region = UnicodeAttribute()
    change_key = UnicodeAttribute()
    business_due_at = UTCDateTimeAttribute()
    # ISO strings rather than datetimes: they are index range keys and must sort as text.
    agency_due_at = UnicodeAttribute(null=True)
    open_bucket = UnicodeAttribute(null=True)
    next_due_at = UnicodeAttribute(null=True)
    business_response = BusinessResponseMap(null=True)
    feedback = FeedbackMap(null=True)
    resolution = ResolutionMap(null=True)
    business_overdue = BooleanAttribute(default=False)
    agency_overdue = BooleanAttribute(default=False)
    timeline = ListAttribute(of=TimelineMap, default=list)
    fingerprint = UnicodeAttribute(default="")
    secondary_agencies = ListAttribute(of=UnicodeAttribute, null=True)
    # index keys of the first secondary agency (one is what the policy gives; the list allows more later)
    secondary_agency = UnicodeAttribute(null=True)
    secondary_agency_region = UnicodeAttribute(null=True)
    agency_queue = AgencyQueue()
    agency_region_queue = AgencyRegionQueue()
    business_queue = BusinessQueue()
    open_by_due = OpenByDue()
    secondary_queue = SecondaryQueue()
    secondary_region_queue = SecondaryRegionQueue()
    created_month = UnicodeAttribute(null=True)  # "YYYY-MM" of created_at (UTC): requested_by_month's key
    requested_by_month = RequestedByMonth()


class ApiKeyTable(Model):
    """Credentials by key id. Only the SHA-256 of a key is stored; the key itself is shown once."""
    Meta = _meta("api-keys")
    key_id = UnicodeAttribute(hash_key=True)
    key_hash = UnicodeAttribute()
    role = UnicodeAttribute()                      # admin | analyst | agency | business
    agency_id = UnicodeAttribute(null=True)
    regions = ListAttribute(of=UnicodeAttribute, default=list)  # empty: every region
    bin = UnicodeAttribute(null=True)
    label = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)       # the key id that issued it (None: the CLI)
    expires_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)       # the key id that revoked it (None: the CLI)


def _vault_meta(short: str = "contacts"):
    """The contact vault has its own endpoint and region setting: it can move to a store in Kazakhstan."""
    attrs = {
        "table_name": _settings.table_name(short),
        "region": _settings.contact_vault_region or _settings.aws_region,
        "billing_mode": "PAY_PER_REQUEST",
    }
    if _settings.contact_vault_endpoint:
        attrs["host"] = _settings.contact_vault_endpoint
    # Its own key pair when the store is not in this account (read from SSM once per container, and only then).
    attrs.update(_settings.contact_vault_credentials)
    return type("Meta", (), attrs)


class ContactTable(Model):
    """The contact vault: a complainant's direct identifiers under a pseudonymous reference."""
    Meta = _vault_meta()
    ref = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    # Web Push subscriptions of one complaint (item ref "ps_..."): {subscription id: {endpoint, p256dh, auth,
    # lang, at}}. A push endpoint reaches one person's device, so it is kept here, never on the AWS side.
    push = MapAttribute(null=True)


class RoutingExampleTable(Model):
    """Corrections made by agencies (reroutes): labelled examples for training and checking the router."""
    Meta = _meta("routing-examples")
    complaint_id = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)
    text = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    sector = UnicodeAttribute()
    from_agency = UnicodeAttribute()
    to_agency = UnicodeAttribute()
    reason = UnicodeAttribute()
    routing_method = UnicodeAttribute()
    routing_version = UnicodeAttribute()
    key_id = UnicodeAttribute(null=True)


class ReactionTable(Model):
    """The reactions ledger: one item per (event, reaction) done or in progress, so a redelivered stream
    record never reacts twice. Counter updates write their item in the same transaction as the counters."""
    Meta = _meta("reactions")
    key = UnicodeAttribute(hash_key=True)          # "<event id>|<reaction>"
    state = UnicodeAttribute()                     # "claimed" (a send in progress) | "done"
    at = UTCDateTimeAttribute()
    lease_until = UTCDateTimeAttribute(null=True)  # a claim older than this may be taken over
    expires_at = TTLAttribute(null=True)           # kept well past the stream's 24 h and the parking queue's 14 days


class RatingTable(Model):
    """Rating counters per subject ("outlet#<code>", "business#<bin>") and the quick-rating guards
    (hour buckets, per-device and per-address limits, with a TTL). Counter attributes are added by
    `adapters.counters` with ADD, so only the key is declared here."""
    Meta = _meta("ratings")
    subject = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute(null=True)


class AnalyticsTable(Model):
    """Analytics counters: `pk` is a grain and period ("d#<YYYY-MM>" days of a month, ...), `sk` the day or
    month then the dimensions. No personal data: only codes and numbers."""
    Meta = _meta("analytics")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ChannelTable(Model):
    """Where an agency or a business wants its notifications: a webhook (with its signing secret) and,
    for a business, an email address. `owner` is "agency#<id>" or "business#<bin>"."""
    Meta = _meta("channels")
    owner = UnicodeAttribute(hash_key=True)
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute(null=True)


class TelegramTable(Model):
    """The Telegram bot's memory, on the contact vault's side (a chat id reaches a person), three kinds of item
    by `pk`: "chat#<chat id>" a conversation in progress (`state`, optimistic `version`, gone with the TTL a
    day after its last message); "update#<update_id>" an update being or already handled (Telegram re-sends
    on a timeout; kept two days); "complaint#<id>" the chat a complaint's status changes go to; "quota#<chat
    id>#<day>" the conversations that sent a complaint that day (`sent`), against the daily limit."""
    Meta = _vault_meta("telegram")
    pk = UnicodeAttribute(hash_key=True)
    state = JSONAttribute(null=True)
    chat_id = UnicodeAttribute(null=True)
    lang = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)             # an update's: "claimed" | "done"
    lease_until = UTCDateTimeAttribute(null=True)    # an update's claim older than this may be taken over
    version = NumberAttribute(null=True)             # a conversation's, checked by hand on every save
    sent = UnicodeSetAttribute(null=True)            # a quota's conversation nonces
    expires_at = TTLAttribute(null=True)


class OpenDataTable(Model):
    """The open data's day-partitioned store: `pk` "day#<YYYY-MM-DD>" (a complaint's submission day, Kazakhstan
    time) holds one anonymised row per complaint under `sk` = its id, kept current by a stream reaction, so a
    day's export is one Query; `pk` "files" lists the exported files. Rows hold codes, numbers and, only with
    the consumer's consent, the scrubbed text (chalicelib/domain/scrubber.py): no contact, no BIN/IIN."""
    Meta = _meta("open-data")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    version = NumberAttribute(null=True)   # the complaint's version the row was made from: never go back
    data = JSONAttribute()


ALL_TABLES = (BusinessTable, OutletTable, ComplaintTable, ApiKeyTable, ContactTable, RoutingExampleTable,
              ReactionTable, RatingTable, AnalyticsTable, ChannelTable, TelegramTable, OpenDataTable)
# Tables whose items are counters keyed by strings (adapters.counters writes them with raw expressions).
COUNTER_TABLES = {"ratings": RatingTable, "analytics": AnalyticsTable}


def create_tables(wait: bool = True) -> None:
    """Create every table that does not exist yet (local stack, tests). In AWS, infra/ creates them."""
    for table in ALL_TABLES:
        if not table.exists():
            table.create_table(wait=wait)
