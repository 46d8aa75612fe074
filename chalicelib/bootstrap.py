"""Wiring: settings -> adapters -> what the services need, built once per process on first use.

Used by every entry point: the HTTP views, the scheduled deadline sweep, the local stack, the admin CLI,
tests, and (next) the stream handlers. Repositories are imported lazily, so importing app.py stays cheap;
tests swap the container for one with fakes through `use_container`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib.domain.calendar import DeadlineRules, load_deadline_rules
from chalicelib.domain.catalog import Catalog, load_catalog
from chalicelib.domain.routing import RuleSet, load_rules
from chalicelib.services.ports import (
    ApiKeyRepository, BusinessRepository, Clock, ComplaintRepository, ContactVault, OutletRepository,
    RoutingExampleRepository,
)
from chalicelib.settings import Settings, get_settings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class Container:
    settings: Settings
    catalog: Catalog
    rules: DeadlineRules
    routing_rules: RuleSet
    clock: Clock
    businesses: BusinessRepository
    outlets: OutletRepository
    complaints: ComplaintRepository
    keys: ApiKeyRepository
    contacts: ContactVault
    routing_examples: RoutingExampleRepository

    def poller(self):
        """What every work-queue read needs: the store, the clock, the cursor secret and the settle lag."""
        from chalicelib.services.cases import Poller

        return Poller(complaints=self.complaints, clock=self.clock, secret=self.settings.secret,
                      settle_seconds=self.settings.queue_settle_seconds)


_container: Container | None = None


def container() -> Container:
    global _container
    if _container is None:
        from chalicelib.adapters.repositories import (
            DynamoApiKeys, DynamoBusinesses, DynamoComplaints, DynamoContactVault, DynamoOutlets,
            DynamoRoutingExamples,
        )

        _container = Container(
            settings=get_settings(), catalog=load_catalog(), rules=load_deadline_rules(),
            routing_rules=load_rules(), clock=SystemClock(), businesses=DynamoBusinesses(),
            outlets=DynamoOutlets(), complaints=DynamoComplaints(), keys=DynamoApiKeys(),
            contacts=DynamoContactVault(), routing_examples=DynamoRoutingExamples(),
        )
    return _container


def use_container(replacement: Container | None) -> None:
    """Replace the wiring (tests with fakes); None goes back to DynamoDB on next use."""
    global _container
    _container = replacement
