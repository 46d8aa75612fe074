"""DynamoDB repositories: translate between domain entities and pynamodb items. No Scan anywhere."""
from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.expressions.condition import size

from chalicelib.adapters.tables import (
    ApiKeyTable, BusinessResponseMap, BusinessTable, ChannelTable, ComplaintTable, ContactTable, FeedbackMap, OutletTable,
    ResolutionMap, RoutingExampleTable, TelegramTable, TimelineMap,
)
from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate
from chalicelib.domain.model import (
    ApiKey, Business, BusinessResponse, Complaint, Contact, Feedback, Flags, Outlet, Resolution, RoutingExample,
    Status, TimelineEntry, change_key,
)
from chalicelib.domain.routing import RoutingDecision
from chalicelib.services.ports import Channels


def _conditional_put(item, condition) -> None:
    try:
        item.save(condition=condition)
    except PutError as exc:
        if _condition_failed(exc):
            raise AlreadyExists("already exists") from exc
        raise


class DynamoBusinesses:
    def get(self, bin: str) -> Business | None:
        try:
            item = BusinessTable.get(bin)
        except BusinessTable.DoesNotExist:
            return None
        return Business(bin=item.bin, kind=item.kind, name=item.name, region=item.region,
                        created_at=item.created_at, status=item.status, created_by=item.created_by)

    def add(self, business: Business) -> None:
        item = BusinessTable(business.bin, kind=business.kind, name=business.name, region=business.region,
                             status=business.status, created_at=business.created_at, created_by=business.created_by)
        _conditional_put(item, BusinessTable.bin.does_not_exist())


def _outlet(item: OutletTable) -> Outlet:
    return Outlet(
        code=item.code, business_bin=item.business_bin, business_name=item.business_name, name=item.name,
        address=item.address, region=item.region, sector=item.sector, created_at=item.created_at,
        status=item.status, kato=item.kato, external_ref=item.external_ref, fingerprint=item.fingerprint,
        created_by=item.created_by, status_by=item.status_by,
    )


def _encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str | None, key_names: set[str]) -> dict | None:
    """A cursor back into the exact key shape DynamoDB gave out; anything else is a ValueError."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError("bad cursor") from exc
    if not isinstance(key, dict) or set(key) != key_names or not all(
            isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values()):
        raise ValueError("bad cursor")
    return key


class DynamoOutlets:
    def get(self, code: str, *, consistent: bool = False) -> Outlet | None:
        try:
            return _outlet(OutletTable.get(code, consistent_read=consistent))
        except OutletTable.DoesNotExist:
            return None

    def add(self, outlet: Outlet) -> None:
        item = OutletTable(
            outlet.code, business_bin=outlet.business_bin, business_name=outlet.business_name, name=outlet.name,
            address=outlet.address, region=outlet.region, kato=outlet.kato, sector=outlet.sector,
            status=outlet.status, external_ref=outlet.external_ref, fingerprint=outlet.fingerprint,
            created_at=outlet.created_at, created_by=outlet.created_by, status_by=outlet.status_by,
        )
        _conditional_put(item, OutletTable.code.does_not_exist())

    def set_status(self, code: str, status: str, *, by: str | None = None) -> Outlet | None:
        item = OutletTable(code)
        try:
            by_action = OutletTable.status_by.set(by) if by else OutletTable.status_by.remove()
            item.update(actions=[OutletTable.status.set(status), by_action], condition=OutletTable.code.exists())
        except UpdateError as exc:
            if _condition_failed(exc):
                return None
            raise
        return _outlet(item)

    def list_by_business(self, bin: str, *, limit: int = 100, cursor: str | None = None):
        start = _decode_cursor(cursor, {"code", "business_bin"})
        result = OutletTable.by_business.query(bin, limit=limit, last_evaluated_key=start)
        items = [_outlet(item) for item in result]
        return items, _encode_cursor(result.last_evaluated_key)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


def _condition_failed(exc) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


_QUEUE_INDEX = {
    "agency": ComplaintTable.agency_queue,
    "agency_region": ComplaintTable.agency_region_queue,
    "business": ComplaintTable.business_queue,
    "secondary": ComplaintTable.secondary_queue,
    "secondary_region": ComplaintTable.secondary_region_queue,
}


class DynamoComplaints:
    def get(self, complaint_id: str, *, consistent: bool = False) -> Complaint | None:
        try:
            item = ComplaintTable.get(complaint_id, consistent_read=consistent)
        except ComplaintTable.DoesNotExist:
            return None
        return self._to_domain(item)

    def save(self, complaint: Complaint) -> Complaint:
        item = self._to_item(complaint)
        # pynamodb's VersionAttribute adds the condition: attribute_not_exists(version) for version None,
        # version = N otherwise, and stores N + 1.
        if complaint.version:
            item.version = complaint.version
        try:
            item.save()
        except PutError as exc:
            if not _condition_failed(exc):
                raise
            if complaint.version == 0:
                raise AlreadyExists("already exists") from exc
            raise ConcurrentUpdate("This complaint was changed by someone else in the meantime; reload it and "
                                   "try again.") from exc
        return replace(complaint, version=item.version)

    def changes(self, queue, partition, *, after, until, limit, statuses=None):
        index = _QUEUE_INDEX[queue]
        if after and after + "\x00" > until:
            # A cursor past the horizon (another instance's clock ran ahead): nothing to read yet, and
            # DynamoDB refuses a BETWEEN whose lower bound is above the upper one.
            return []
        if after:
            condition = ComplaintTable.change_key.between(after + "\x00", until)  # strictly after `after`
        else:
            condition = ComplaintTable.change_key <= until
        kwargs = {}
        if statuses:
            kwargs["filter_condition"] = ComplaintTable.status.is_in(*sorted(statuses))
        found = []
        # page_size bounds each request; with a status filter a page may hold fewer matches, so go on
        # until `limit` matches or the range is exhausted.
        for item in index.query(partition, condition, page_size=max(limit, 25), **kwargs):
            found.append(self._to_domain(item))
            if len(found) >= limit:
                break
        return found

    def due_before(self, moment: datetime):
        # Deadlines are stored to the second. Strictly before a moment with a fraction of a second means
        # at or before its whole second; strictly before a whole second means before it.
        moment = moment.astimezone(timezone.utc)
        whole = moment.isoformat(timespec="seconds")
        condition = (ComplaintTable.next_due_at <= whole) if moment.microsecond else (ComplaintTable.next_due_at < whole)
        for item in ComplaintTable.open_by_due.query("open", condition):
            yield self._to_domain(item)

    def requested_between(self, start, end, *, limit, categories=None, statuses=None):
        """A public, unauthenticated list: a filter is applied after the read, so a rare category over a busy
        range would otherwise page through every complaint of the range. The work is bounded by Queries
        (REQUESTED_QUERIES_PER_MONTH per month spanned, at most REQUESTED_QUERIES_MAX), spent newest first:
        the answer is then the newest matches found, possibly fewer than exist (docs/open311.md)."""
        months = _months_back(start, end)
        budget = min(REQUESTED_QUERIES_MAX, REQUESTED_QUERIES_PER_MONTH * len(months))
        kwargs = {}
        if categories:
            kwargs["filter_condition"] = ComplaintTable.category.is_in(*sorted(categories))
        if statuses:
            by_status = ComplaintTable.status.is_in(*sorted(statuses))
            kwargs["filter_condition"] = (kwargs["filter_condition"] & by_status) if categories else by_status
        # Unfiltered, every item read is returned: `limit` items is one page. Filtered, a page reads more.
        page_size = max(limit, REQUESTED_FILTERED_PAGE if kwargs else 25)
        found = []
        for month in months:
            condition = ComplaintTable.created_at.between(start, end)
            pages = ComplaintTable.requested_by_month.query(month, condition, scan_index_forward=False,
                                                            page_size=page_size, **kwargs).page_iter
            for page in pages:  # one Query each
                budget -= 1
                for raw in page.get("Items", ()):
                    found.append(self._to_domain(ComplaintTable.from_raw_data(raw)))
                    if len(found) >= limit:
                        return found
                if budget <= 0:
                    return found
        return found

    @staticmethod
    def _to_item(c: Complaint) -> ComplaintTable:
        response = feedback = resolution = None
        if c.business_response:
            r = c.business_response
            response = BusinessResponseMap(message=r.message, offer=r.offer, at=r.at, key_id=r.key_id)
        if c.feedback:
            f = c.feedback
            feedback = FeedbackMap(accepted=f.accepted, stars=f.stars, comment=f.comment, at=f.at)
        if c.resolution:
            r = c.resolution
            resolution = ResolutionMap(status=r.status.value, at=r.at, decision=r.decision, text=r.text)
        next_due = c.next_due_at
        return ComplaintTable(
            c.id, created_at=c.created_at, updated_at=c.updated_at, status=c.status.value, kind=c.kind,
            channel=c.channel, language=c.language, text_language=c.text_language, text=c.text,
            category=c.category, sector=c.sector, region=c.region, business_bin=c.business_bin,
            business_name=c.business_name, business_registered=c.business_registered, outlet_code=c.outlet_code,
            outlet_name=c.outlet_name, outlet_address=c.outlet_address, contact_ref=c.contact_ref,
            identified=c.identified, share_contact_with_business=c.share_contact_with_business,
            publish_consent=c.publish_consent,
            incident_at=c.incident_at, routing=c.routing.to_dict(), agency_id=c.agency_id,
            agency_region=f"{c.agency_id}#{c.region}", change_key=change_key(c),
            business_due_at=c.business_due_at, agency_due_at=_iso(c.agency_due_at),
            open_bucket="open" if next_due else None, next_due_at=_iso(next_due),
            business_response=response, feedback=feedback, resolution=resolution,
            business_overdue=c.flags.business_overdue, agency_overdue=c.flags.agency_overdue,
            timeline=[TimelineMap(at=e.at, type=e.type, actor=e.actor, agency_id=e.agency_id, note=e.note,
                                  key_id=e.key_id, from_status=e.from_status, to_status=e.to_status)
                      for e in c.timeline],
            fingerprint=c.fingerprint,
            secondary_agencies=list(c.secondary_agencies) or None,
            secondary_agency=c.secondary_agencies[0] if c.secondary_agencies else None,
            secondary_agency_region=f"{c.secondary_agencies[0]}#{c.region}" if c.secondary_agencies else None,
            created_month=c.created_at.astimezone(timezone.utc).strftime("%Y-%m"),
        )

    @staticmethod
    def _to_domain(item: ComplaintTable) -> Complaint:
        routing = RoutingDecision.from_dict(item.routing)
        response = feedback = resolution = None
        if item.business_response is not None:
            b = item.business_response
            response = BusinessResponse(message=b.message, offer=b.offer, at=b.at, key_id=b.key_id)
        if item.feedback is not None:
            f = item.feedback
            feedback = Feedback(accepted=f.accepted, stars=int(f.stars), comment=f.comment, at=f.at)
        if item.resolution is not None:
            x = item.resolution
            resolution = Resolution(status=Status(x.status), at=x.at, decision=x.decision, text=x.text)
        return Complaint(
            id=item.id, created_at=item.created_at, updated_at=item.updated_at, status=Status(item.status),
            kind=item.kind, channel=item.channel, language=item.language, text_language=item.text_language,
            text=item.text, category=item.category, sector=item.sector, region=item.region,
            business_bin=item.business_bin, business_name=item.business_name,
            business_registered=item.business_registered, outlet_code=item.outlet_code,
            outlet_name=item.outlet_name, outlet_address=item.outlet_address, contact_ref=item.contact_ref,
            identified=item.identified, share_contact_with_business=item.share_contact_with_business,
            publish_consent=bool(item.publish_consent),
            incident_at=item.incident_at, routing=routing, agency_id=item.agency_id,
            business_due_at=item.business_due_at,
            agency_due_at=datetime.fromisoformat(item.agency_due_at) if item.agency_due_at else None,
            timeline=tuple(
                TimelineEntry(at=e.at, type=e.type, actor=e.actor, agency_id=e.agency_id, note=e.note,
                              key_id=e.key_id, from_status=e.from_status, to_status=e.to_status)
                for e in item.timeline
            ),
            fingerprint=item.fingerprint, business_response=response, feedback=feedback, resolution=resolution,
            flags=Flags(business_overdue=bool(item.business_overdue), agency_overdue=bool(item.agency_overdue)),
            version=item.version or 0,
            secondary_agencies=tuple(item.secondary_agencies or ()),
        )


# The public Open311 list's bound on work per request (requested_between).
REQUESTED_QUERIES_PER_MONTH, REQUESTED_QUERIES_MAX = 2, 8
REQUESTED_FILTERED_PAGE = 200


def _months_back(start: datetime, end: datetime) -> list[str]:
    """The UTC months ("YYYY-MM") from `end`'s back to `start`'s, newest first."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    year, month, months = end.year, end.month, []
    while (year, month) >= (start.year, start.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


class DynamoContactVault:
    def put(self, ref: str, contact: Contact, *, at: datetime) -> None:
        ContactTable(ref, name=contact.name, phone=contact.phone, email=contact.email, created_at=at).save()

    def get(self, ref: str) -> Contact | None:
        try:
            item = ContactTable.get(ref)
        except ContactTable.DoesNotExist:
            return None
        return Contact(name=item.name, phone=item.phone, email=item.email)

    def delete(self, ref: str) -> None:
        ContactTable(ref).delete()


class DynamoApiKeys:
    def get(self, key_id: str) -> ApiKey | None:
        try:
            # strongly consistent: a key revoked a moment ago must not work on the next request
            item = ApiKeyTable.get(key_id, consistent_read=True)
        except ApiKeyTable.DoesNotExist:
            return None
        return ApiKey(key_id=item.key_id, key_hash=item.key_hash, role=item.role, label=item.label,
                      created_at=item.created_at, agency_id=item.agency_id, regions=tuple(item.regions or ()),
                      bin=item.bin, expires_at=item.expires_at, revoked_at=item.revoked_at,
                      created_by=item.created_by, revoked_by=item.revoked_by)

    def add(self, key: ApiKey) -> None:
        item = ApiKeyTable(key.key_id, key_hash=key.key_hash, role=key.role, label=key.label,
                           created_at=key.created_at, agency_id=key.agency_id, regions=list(key.regions),
                           bin=key.bin, expires_at=key.expires_at, revoked_at=key.revoked_at,
                           created_by=key.created_by)
        _conditional_put(item, ApiKeyTable.key_id.does_not_exist())

    def revoke(self, key_id: str, *, at: datetime, by: str | None = None) -> bool:
        try:
            # if_not_exists: revoking twice keeps the first revocation's time and author (the audit trail)
            actions = [ApiKeyTable.revoked_at.set(ApiKeyTable.revoked_at | at)]
            if by:
                actions.append(ApiKeyTable.revoked_by.set(ApiKeyTable.revoked_by | by))
            ApiKeyTable(key_id).update(actions=actions, condition=ApiKeyTable.key_id.exists())
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True


class DynamoRoutingExamples:
    def add(self, example: RoutingExample) -> None:
        RoutingExampleTable(example.complaint_id, example.at, text=example.text, category=example.category,
                            sector=example.sector, from_agency=example.from_agency, to_agency=example.to_agency,
                            reason=example.reason, routing_method=example.routing_method,
                            routing_version=example.routing_version, key_id=example.key_id).save()

    def remove(self, complaint_id: str, at: datetime) -> None:
        RoutingExampleTable(complaint_id, at).delete()

    def list_for(self, complaint_id: str) -> list[RoutingExample]:
        return [RoutingExample(complaint_id=i.complaint_id, at=i.at, text=i.text, category=i.category,
                               sector=i.sector, from_agency=i.from_agency, to_agency=i.to_agency, reason=i.reason,
                               routing_method=i.routing_method, routing_version=i.routing_version, key_id=i.key_id)
                for i in RoutingExampleTable.query(complaint_id)]


class DynamoChannels:
    def get(self, owner: str) -> Channels | None:
        try:
            item = ChannelTable.get(owner)
        except ChannelTable.DoesNotExist:
            return None
        return Channels(owner=item.owner, webhook_url=item.webhook_url, webhook_secret=item.webhook_secret,
                        email=item.email, updated_at=item.updated_at, updated_by=item.updated_by)

    def put(self, channels: Channels) -> None:
        ChannelTable(channels.owner, webhook_url=channels.webhook_url, webhook_secret=channels.webhook_secret,
                     email=channels.email, updated_at=channels.updated_at, updated_by=channels.updated_by).save()


class DynamoTelegramStore:
    """The Telegram bot's memory (chalicelib/services/telegram.py TelegramStore) in TelegramTable, on the
    contact vault's endpoint. DynamoDB's TTL deletes expired items within days, not at once: reads treat an
    item past its `expires_at` as gone. The bot's service module (its TTLs) is imported on first use: the QR
    resolver imports this module on its cold start and never touches the bot."""

    def claim_update(self, update_id: int, *, now: datetime, lease_seconds: float) -> str:
        from chalicelib.services.telegram import UPDATE_TTL

        item = TelegramTable(f"update#{update_id}", status="claimed",
                             lease_until=now + timedelta(seconds=lease_seconds), expires_at=now + UPDATE_TTL)
        try:
            # new, or a claim whose worker died before completing (its lease ran out)
            item.save(condition=TelegramTable.pk.does_not_exist()
                      | ((TelegramTable.status == "claimed") & (TelegramTable.lease_until < now)))
        except PutError as exc:
            if not _condition_failed(exc):
                raise
            try:
                seen = TelegramTable.get(f"update#{update_id}", consistent_read=True)
            except TelegramTable.DoesNotExist:
                return "busy"  # released between our write and this read: Telegram's retry will come
            return "done" if seen.status == "done" else "busy"
        return "claimed"

    def complete_update(self, update_id: int, *, now: datetime) -> None:
        TelegramTable(f"update#{update_id}").update(actions=[TelegramTable.status.set("done"),
                                                             TelegramTable.lease_until.remove()])

    def release_update(self, update_id: int) -> None:
        try:
            TelegramTable(f"update#{update_id}").delete(condition=TelegramTable.status == "claimed")
        except DeleteError as exc:
            if not _condition_failed(exc):
                raise

    def conversation(self, chat_id: str) -> tuple[dict | None, int]:
        try:
            item = TelegramTable.get(f"chat#{chat_id}", consistent_read=True)
        except TelegramTable.DoesNotExist:
            return None, 0
        version = int(item.version or 0)
        expired = item.expires_at is not None and item.expires_at <= datetime.now(timezone.utc)
        return (None if expired or not item.state else item.state), version

    def save_conversation(self, chat_id: str, state: dict | None, *, version: int, now: datetime) -> None:
        from chalicelib.services.telegram import CONVERSATION_TTL

        # An ended conversation keeps its item (state removed, version moved on) until the TTL: a late
        # duplicate of an older update can then never resurrect it.
        condition = (TelegramTable.pk.does_not_exist() if version == 0 else TelegramTable.version == version)
        item = TelegramTable(f"chat#{chat_id}", state=state, version=version + 1, expires_at=now + CONVERSATION_TTL)
        try:
            item.save(condition=condition)
        except PutError as exc:
            if _condition_failed(exc):
                raise ConcurrentUpdate("the conversation changed meanwhile") from exc
            raise

    def reserve_complaint(self, chat_id: str, day: str, nonce: str, *, limit: int, now: datetime) -> bool:
        from chalicelib.services.telegram import UPDATE_TTL

        # One conditional ADD: a new nonce only while the day's set is below the limit; a nonce already in the
        # set (a retried Send) is always let through and changes nothing.
        item = TelegramTable(f"quota#{chat_id}#{day}")
        try:
            item.update(actions=[TelegramTable.sent.add({nonce}), TelegramTable.expires_at.set(now + UPDATE_TTL)],
                        condition=TelegramTable.sent.does_not_exist() | (TelegramTable.sent.contains(nonce))
                        | (size(TelegramTable.sent) < limit))
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def link_complaint(self, complaint_id: str, chat_id: str, lang: str, *, now: datetime) -> None:
        from chalicelib.services.telegram import CHAT_LINK_TTL

        TelegramTable(f"complaint#{complaint_id}", chat_id=chat_id, lang=lang, expires_at=now + CHAT_LINK_TTL).save()

    def chat_for(self, complaint_id: str) -> tuple[str, str] | None:
        try:
            item = TelegramTable.get(f"complaint#{complaint_id}")
        except TelegramTable.DoesNotExist:
            return None
        return (item.chat_id, item.lang or "ru") if item.chat_id else None
