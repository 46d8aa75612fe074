"""Wiring: the adapters the views use, built once per container on first use.

Repositories are imported lazily so that importing app.py stays cheap; tests swap the container for
one with fakes through `use_container`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.calendar import DeadlineRules, load_deadline_rules
from chalicelib.domain.catalog import Catalog, load_catalog
from chalicelib.settings import Settings, get_settings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class Container:
    settings: Settings
    catalog: Catalog
    rules: DeadlineRules
    clock: Any
    businesses: Any
    outlets: Any
    complaints: Any
    keys: Any


_container: Container | None = None


def container() -> Container:
    global _container
    if _container is None:
        from chalicelib.adapters.repositories import DynamoApiKeys, DynamoBusinesses, DynamoComplaints, DynamoOutlets

        _container = Container(
            settings=get_settings(), catalog=load_catalog(), rules=load_deadline_rules(), clock=SystemClock(),
            businesses=DynamoBusinesses(), outlets=DynamoOutlets(), complaints=DynamoComplaints(),
            keys=DynamoApiKeys(),
        )
    return _container


def use_container(replacement: Container | None) -> None:
    """Replace the wiring (tests with fakes); None goes back to DynamoDB on next use."""
    global _container
    _container = replacement
