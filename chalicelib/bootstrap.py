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
    ApiKeyRepository, BusinessRepository, ChannelDirectory, Clock, ComplaintRepository, ContactVault, CounterStore,
    Notifier, OutletRepository, ParkingLot, ReactionLedger, RoutingExampleRepository,
)
from chalicelib.services.ports import PushSubscriptions
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
    # The stream reactions' ports. Defaults to None only so that tests building a container for the
    # request paths need not pass them; `container()` always wires them.
    counters: CounterStore | None = None
    ledger: ReactionLedger | None = None
    notifier: Notifier | None = None
    channels: ChannelDirectory | None = None
    parking: ParkingLot | None = None
    # Web Push subscriptions, on the contact vault's side (chalicelib/adapters/webpush.py).
    push_subscriptions: PushSubscriptions | None = None
    # The open data (chalicelib/services/open_data.py): its rows and file index, and the bucket (None: no
    # OPEN_DATA_BUCKET, so no export).
    open_data: object | None = None
    objects: object | None = None
    # The Telegram bot (chalicelib/services/telegram.py): the Bot API client (None: the bot is not configured)
    # and its memory on the contact vault's side.
    telegram: object | None = None
    telegram_store: object | None = None
    # The routing classifier (chalicelib/domain/classifier.py), loaded on first use by `routing_model()` so
    # the QR resolver's cold start never reads it; None: the rule-only router.
    router_model: object | None = None  # set by `routing_model()` on first use, or given (tests)
    _model_loaded: bool = False

    def routing_model(self):
        if self.router_model is None and not self._model_loaded:
            self.router_model = _router_model()
            self._model_loaded = True
        return self.router_model

    def poller(self):
        """What every work-queue read needs: the store, the clock, the cursor secret and the settle lag."""
        from chalicelib.services.cases import Poller

        return Poller(complaints=self.complaints, clock=self.clock, secret=self.settings.secret,
                      settle_seconds=self.settings.queue_settle_seconds)


class _Lazy:
    """Builds an adapter on first use. The notifier and the parking lot are used by the stream function and
    the CLI only; building them lazily keeps their imports (ssl, http.client, boto3) off every API cold start."""

    def __init__(self, factory) -> None:
        self._factory = factory
        self._target = None

    def __getattr__(self, name):
        if self._target is None:
            self._target = self._factory()
        return getattr(self._target, name)


_container: Container | None = None


def container() -> Container:
    global _container
    if _container is None:
        from chalicelib.adapters.counters import DynamoCounters, DynamoLedger
        from chalicelib.adapters.repositories import (
            DynamoApiKeys, DynamoBusinesses, DynamoChannels, DynamoComplaints, DynamoContactVault, DynamoOutlets,
            DynamoRoutingExamples,
        )

        settings = get_settings()

        _container = Container(
            settings=settings, catalog=load_catalog(), rules=load_deadline_rules(),
            routing_rules=load_rules(), clock=SystemClock(), businesses=DynamoBusinesses(),
            outlets=DynamoOutlets(), complaints=DynamoComplaints(), keys=DynamoApiKeys(),
            contacts=DynamoContactVault(), routing_examples=DynamoRoutingExamples(),
            counters=DynamoCounters(), ledger=DynamoLedger(), notifier=_Lazy(lambda: _notifier(settings)),
            channels=DynamoChannels(), parking=_Lazy(lambda: _parking(settings)),
            push_subscriptions=_push_subscriptions(),
            open_data=_Lazy(_open_data),
            objects=_Lazy(lambda: _objects(settings)) if settings.open_data_bucket else None,
            telegram=_Lazy(lambda: _telegram(settings)) if settings.telegram_configured else None,
            telegram_store=_Lazy(_telegram_store),
        )
    return _container


def _router_model():
    """The shipped classifier, loaded once per process. If its data file is missing or unreadable (a broken
    package), complaints are still routed, by the rules alone, and the error is logged: a consumer is never
    refused because of the model. tests/unit/test_classifier.py proves the shipped file loads."""
    try:
        from chalicelib.domain.classifier import load_model

        return load_model()
    except Exception as exc:  # noqa: BLE001 - any broken model file: route by the rules, say so in the log
        import logging

        logging.getLogger("qalqan").error("routing model unavailable, routing by rules only",
                                          extra={"error": exc.__class__.__name__})
        return None


def _notifier(settings: Settings):
    from chalicelib.adapters.messaging import AwsNotifier

    return AwsNotifier(settings)


def _open_data():
    from chalicelib.adapters.open_data import DynamoOpenData

    return DynamoOpenData()


def _objects(settings: Settings):
    from chalicelib.adapters.open_data import S3Objects

    return S3Objects(settings.open_data_bucket, settings.aws_region)


def _push_subscriptions():
    from chalicelib.adapters.webpush import VaultPushSubscriptions

    return VaultPushSubscriptions()


def _parking(settings: Settings):
    from chalicelib.adapters.parking import SqsParkingLot

    return SqsParkingLot(settings.parked_queue_url, settings.aws_region)


def _telegram(settings: Settings):
    from chalicelib.adapters.telegram import bot_from_settings

    return bot_from_settings(settings)


def _telegram_store():
    from chalicelib.adapters.repositories import DynamoTelegramStore

    return DynamoTelegramStore()


def use_container(replacement: Container | None) -> None:
    """Replace the wiring (tests with fakes); None goes back to DynamoDB on next use."""
    global _container
    _container = replacement
