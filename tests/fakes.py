"""In-memory implementations of the ports, held to the same contract as DynamoDB (tests/functional/test_repository_contract.py)."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate
from chalicelib.domain.model import change_key


class FixedClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs) -> None:
        self.current += timedelta(**kwargs)


class FakeBusinesses:
    def __init__(self) -> None:
        self.items = {}

    def get(self, bin):
        return self.items.get(bin)

    def add(self, business):
        if business.bin in self.items:
            raise AlreadyExists("exists")
        self.items[business.bin] = business


class FakeOutlets:
    def __init__(self) -> None:
        self.items = {}

    def get(self, code, *, consistent=False):
        return self.items.get(code)

    def add(self, outlet):
        if outlet.code in self.items:
            raise AlreadyExists("exists")
        self.items[outlet.code] = outlet

    def set_status(self, code, status, *, by=None):
        if code not in self.items:
            return None
        self.items[code] = replace(self.items[code], status=status, status_by=by)
        return self.items[code]

    def list_by_business(self, bin, *, limit=100, cursor=None):
        codes = sorted(code for code, o in self.items.items() if o.business_bin == bin)
        if cursor:
            if cursor not in self.items:
                raise ValueError("bad cursor")
            codes = [c for c in codes if c > cursor]
        page = codes[:limit]
        next_cursor = page[-1] if len(codes) > limit else None
        return [self.items[c] for c in page], next_cursor


class FakeComplaints:
    def __init__(self) -> None:
        self.items = {}
        self.writes = 0
        self._lock = threading.Lock()

    def get(self, complaint_id, *, consistent=False):
        return self.items.get(complaint_id)

    def save(self, complaint):
        with self._lock:
            self.writes += 1
            stored = self.items.get(complaint.id)
            if complaint.version == 0 and stored is not None:
                raise AlreadyExists("exists")
            if complaint.version != 0 and (stored is None or stored.version != complaint.version):
                raise ConcurrentUpdate("changed")
            saved = replace(complaint, version=complaint.version + 1)
            self.items[complaint.id] = saved
            return saved

    def _partition(self, queue, complaint):
        second = complaint.secondary_agencies[0] if complaint.secondary_agencies else None
        return {"agency": complaint.agency_id, "agency_region": f"{complaint.agency_id}#{complaint.region}",
                "business": complaint.business_bin, "secondary": second,
                "secondary_region": f"{second}#{complaint.region}" if second else None}[queue]

    def changes(self, queue, partition, *, after, until, limit, statuses=None):
        rows = sorted((c for c in self.items.values() if self._partition(queue, c) == partition
                       and (after is None or change_key(c) > after) and change_key(c) <= until
                       and (not statuses or c.status.value in statuses)), key=change_key)
        return rows[:limit]

    def due_before(self, moment):
        due = sorted((c for c in self.items.values() if c.next_due_at is not None and c.next_due_at < moment),
                     key=lambda c: c.next_due_at)
        yield from due

    def requested_between(self, start, end, *, limit, categories=None, statuses=None):
        rows = sorted((c for c in self.items.values() if start <= c.created_at <= end
                       and (not categories or c.category in categories)
                       and (not statuses or c.status.value in statuses)),
                      key=lambda c: (c.created_at, c.id), reverse=True)
        return rows[:limit]


class FakeContactVault:
    def __init__(self) -> None:
        self.items = {}

    def put(self, ref, contact, *, at):
        self.items[ref] = contact

    def get(self, ref):
        return self.items.get(ref)

    def delete(self, ref):
        self.items.pop(ref, None)


class FakeKeys:
    def __init__(self) -> None:
        self.items = {}

    def get(self, key_id):
        return self.items.get(key_id)

    def add(self, key):
        if key.key_id in self.items:
            raise AlreadyExists("exists")
        self.items[key.key_id] = key

    def revoke(self, key_id, *, at, by=None):
        if key_id not in self.items:
            return False
        key = self.items[key_id]
        self.items[key_id] = replace(key, revoked_at=key.revoked_at or at, revoked_by=key.revoked_by or by)
        return True


class FakeRoutingExamples:
    def __init__(self) -> None:
        self.items = {}

    def add(self, example):
        self.items[(example.complaint_id, example.at)] = example

    def remove(self, complaint_id, at):
        self.items.pop((complaint_id, at), None)

    def list_for(self, complaint_id):
        return sorted((e for (cid, _), e in self.items.items() if cid == complaint_id), key=lambda e: e.at)


_LOOK_ALIKES = str.maketrans({"A": "А", "B": "В", "E": "Е", "K": "К", "M": "М", "H": "Н", "P": "Р", "C": "С",
                              "T": "Т", "X": "Х", "Y": "Ү"})


def cyrillic_spelling(demo) -> tuple[str, str]:
    """A demo outlet's code and the same code typed with Cyrillic look-alike letters."""
    for outlet in demo["outlets"]:
        spelled = outlet["code"].translate(_LOOK_ALIKES)
        if spelled != outlet["code"]:
            return outlet["code"], spelled
    raise AssertionError("no demo code has a letter with a Cyrillic look-alike")


class FakeCounters:
    """CounterStore in memory: the same all-or-nothing `apply_once`, markers and `below` limits."""

    def __init__(self) -> None:
        self.tables = {"ratings": {}, "analytics": {}}
        self.markers = set()
        self._lock = threading.Lock()

    def apply_once(self, marker, increments, *, at):
        from chalicelib.domain.errors import LimitReached

        with self._lock:
            if marker in self.markers:
                return False
            for inc in increments:
                item = self.tables[inc.table].get(tuple(inc.key), {})
                if any(field in item and item[field] >= bound for field, bound in inc.below.items()):
                    raise LimitReached("limit")
            for inc in increments:
                item = self.tables[inc.table].setdefault(tuple(inc.key), {})
                for field, amount in inc.add.items():
                    item[field] = item.get(field, 0) + amount
                item.update(inc.set)
            self.markers.add(marker)
            return True

    def get(self, table, key, *, consistent=False):
        item = self.tables[table].get(tuple(key))
        if item is None:
            return None
        names = ("subject",) if table == "ratings" else ("pk", "sk")
        return {**dict(zip(names, key)), **item}

    def get_many(self, table, keys):
        if len(set(map(tuple, keys))) > 100:
            raise ValueError("one BatchGetItem reads at most 100 keys")
        return {tuple(k): self.get(table, k) for k in keys if self.get(table, k) is not None}

    def query(self, table, partition, *, start=None, end=None, limit=None, reverse=False):
        found = 0
        for key in sorted((k for k in self.tables[table] if k[0] == partition), reverse=reverse):
            sort = key[1] if len(key) > 1 else ""
            if (start is None or sort >= start) and (end is None or sort <= end):
                if limit is not None and found >= limit:
                    return
                found += 1
                yield self.get(table, key)


class FakeLedger:
    def __init__(self) -> None:
        self.items = {}

    def claim(self, marker, *, now, lease_seconds):
        state = self.items.get(marker)
        if state is not None:
            if state[0] == "done":
                return "done"
            if state[1] >= now:
                return "busy"
        self.items[marker] = ("claimed", now + timedelta(seconds=lease_seconds))
        return "claimed"

    def complete(self, marker, *, now):
        self.items[marker] = ("done", now)

    def release(self, marker):
        if self.items.get(marker, ("",))[0] == "claimed":
            del self.items[marker]


class FakeNotifier:
    """Records every message; `fail` makes the next sends raise (a transient outage or a poison message)."""

    def __init__(self) -> None:
        self.sent = []
        self.fail = 0
        self.error = RuntimeError("send failed")

    def send(self, message):
        if self.fail:
            self.fail -= 1
            raise self.error
        self.sent.append(message)


class FakeChannels:
    def __init__(self) -> None:
        self.items = {}

    def get(self, owner):
        return self.items.get(owner)

    def put(self, channels):
        self.items[channels.owner] = channels


class FakeParkingLot:
    def __init__(self) -> None:
        self.items = {}
        self.batches = {}   # (shard id, start sequence) -> records, for on-failure destination messages
        self._next = 0

    def park(self, payload):
        self._next += 1
        self.items[f"r{self._next}"] = payload

    def receive(self, *, limit=10):
        return list(self.items.items())[:limit]

    def delete(self, receipt):
        self.items.pop(receipt, None)

    def failed_batch(self, info):
        return list(self.batches.get((info["shardId"], info["startSequenceNumber"]), []))


class FakeTelegramStore:
    """The Telegram bot's memory in a dict (services.telegram.TelegramStore), same rules as DynamoTelegramStore."""

    def __init__(self) -> None:
        self.updates: dict[int, tuple[str, datetime | None]] = {}
        self.chats: dict[str, tuple[dict | None, int]] = {}
        self.links: dict[str, tuple[str, str]] = {}
        self.quotas: dict[tuple[str, str], set[str]] = {}
        self._lock = threading.Lock()

    def claim_update(self, update_id, *, now, lease_seconds):
        with self._lock:
            seen = self.updates.get(update_id)
            if seen is None or (seen[0] == "claimed" and seen[1] < now):
                self.updates[update_id] = ("claimed", now + timedelta(seconds=lease_seconds))
                return "claimed"
            return "done" if seen[0] == "done" else "busy"

    def complete_update(self, update_id, *, now):
        self.updates[update_id] = ("done", None)

    def release_update(self, update_id):
        if self.updates.get(update_id, ("",))[0] == "claimed":
            del self.updates[update_id]

    def conversation(self, chat_id):
        return self.chats.get(chat_id, (None, 0))

    def save_conversation(self, chat_id, state, *, version, now):
        with self._lock:
            if self.chats.get(chat_id, (None, 0))[1] != version:
                raise ConcurrentUpdate("changed")
            self.chats[chat_id] = (state, version + 1)

    def reserve_complaint(self, chat_id, day, nonce, *, limit, now):
        with self._lock:
            sent = self.quotas.setdefault((chat_id, day), set())
            if nonce not in sent and len(sent) >= limit:
                return False
            sent.add(nonce)
            return True

    def link_complaint(self, complaint_id, chat_id, lang, *, now):
        self.links[complaint_id] = (chat_id, lang)

    def chat_for(self, complaint_id):
        return self.links.get(complaint_id)


class FakeBotApi:
    """Records what the bot would send: ("message", chat_id, text, markup) and ("answer", callback_id, text)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple] = []
        self.fail = fail

    def send_message(self, chat_id, text, *, reply_markup=None):
        from chalicelib.services.telegram import BotApiError

        if self.fail:
            raise BotApiError("Bot API sendMessage: HTTP 502", transient=True)
        self.sent.append(("message", chat_id, text, reply_markup))

    def answer_callback_query(self, callback_id, *, text=None):
        self.sent.append(("answer", callback_id, text))

    def messages(self, chat_id=None):
        return [s for s in self.sent if s[0] == "message" and (chat_id is None or s[1] == chat_id)]


class FakePushSubscriptions:
    """PushSubscriptions in memory, with the same outcomes as the vault adapter (created/updated/exists/full)."""

    def __init__(self) -> None:
        self.items = {}

    def add(self, ref, subscription, *, limit, at):
        from dataclasses import replace as _replace

        held = self.items.setdefault(ref, {})
        stored = _replace(subscription, at=at)
        current = held.get(subscription.id)
        if current is None:
            if len(held) >= limit:
                return "full"
            held[subscription.id] = stored
            return "created"
        same = all(getattr(current, k) == getattr(subscription, k) for k in ("endpoint", "p256dh", "auth", "lang"))
        if same:
            return "exists"
        held[subscription.id] = stored
        return "updated"

    def remove(self, ref, subscription_id):
        return self.items.get(ref, {}).pop(subscription_id, None) is not None

    def list(self, ref):
        return [self.items[ref][k] for k in sorted(self.items.get(ref, {}))]
