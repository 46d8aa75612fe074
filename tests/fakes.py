"""In-memory implementations of the ports, held to the same contract as DynamoDB (tests/functional/test_repository_contract.py)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from chalicelib.domain.errors import AlreadyExists


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

    def set_status(self, code, status):
        if code not in self.items:
            return None
        self.items[code] = replace(self.items[code], status=status)
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

    def get(self, complaint_id, *, consistent=False):
        return self.items.get(complaint_id)

    def add(self, complaint):
        self.writes += 1
        if complaint.id in self.items:
            raise AlreadyExists("exists")
        self.items[complaint.id] = replace(complaint)


class FakeKeys:
    def __init__(self) -> None:
        self.items = {}

    def find(self, key_hash):
        return self.items.get(key_hash)

    def add(self, key_hash, *, role, scope, label, created_at):
        if key_hash in self.items:
            raise AlreadyExists("exists")
        self.items[key_hash] = {"role": role, "scope": scope, "label": label, "revoked": False}


_LOOK_ALIKES = str.maketrans({"A": "А", "B": "В", "E": "Е", "K": "К", "M": "М", "H": "Н", "P": "Р", "C": "С",
                              "T": "Т", "X": "Х", "Y": "Ү"})


def cyrillic_spelling(demo) -> tuple[str, str]:
    """A demo outlet's code and the same code typed with Cyrillic look-alike letters."""
    for outlet in demo["outlets"]:
        spelled = outlet["code"].translate(_LOOK_ALIKES)
        if spelled != outlet["code"]:
            return outlet["code"], spelled
    raise AssertionError("no demo code has a letter with a Cyrillic look-alike")
