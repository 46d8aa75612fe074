"""One contract for the Telegram bot's memory: the same tests against the in-memory fake (tests/fakes.py) and
DynamoTelegramStore on moto, so the fake the unit tests trust cannot drift from the table."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.errors import ConcurrentUpdate

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        from tests.fakes import FakeTelegramStore

        yield FakeTelegramStore()
        return
    from moto import mock_aws

    with mock_aws():
        from chalicelib.adapters.repositories import DynamoTelegramStore
        from chalicelib.adapters.tables import TelegramTable

        TelegramTable.create_table(wait=True)
        yield DynamoTelegramStore()


def test_an_update_is_claimed_once_then_done_for_ever(store):
    assert store.claim_update(7, now=NOW, lease_seconds=60) == "claimed"
    assert store.claim_update(7, now=NOW, lease_seconds=60) == "busy"
    store.complete_update(7, now=NOW)
    assert store.claim_update(7, now=NOW + timedelta(hours=1), lease_seconds=60) == "done"
    assert store.claim_update(8, now=NOW, lease_seconds=60) == "claimed"


def test_a_released_claim_or_one_whose_lease_ran_out_can_be_claimed_again(store):
    assert store.claim_update(9, now=NOW, lease_seconds=60) == "claimed"
    store.release_update(9)
    assert store.claim_update(9, now=NOW, lease_seconds=60) == "claimed"
    assert store.claim_update(9, now=NOW + timedelta(seconds=30), lease_seconds=60) == "busy"
    assert store.claim_update(9, now=NOW + timedelta(seconds=61), lease_seconds=60) == "claimed"
    store.complete_update(9, now=NOW)
    store.release_update(9)  # a release after completion changes nothing
    assert store.claim_update(9, now=NOW + timedelta(days=1), lease_seconds=60) == "done"


def test_a_conversation_is_saved_only_over_the_version_it_was_read_at(store):
    assert store.conversation("42") == (None, 0)
    store.save_conversation("42", {"step": "seller", "nonce": "a"}, version=0, now=NOW)
    state, version = store.conversation("42")
    assert state == {"step": "seller", "nonce": "a"} and version == 1
    with pytest.raises(ConcurrentUpdate):
        store.save_conversation("42", {"step": "x"}, version=0, now=NOW)
    store.save_conversation("42", {"step": "text", "nonce": "a"}, version=1, now=NOW)
    with pytest.raises(ConcurrentUpdate):
        store.save_conversation("42", {"step": "y"}, version=1, now=NOW)  # a second writer from version 1
    store.save_conversation("42", None, version=2, now=NOW)  # ended
    assert store.conversation("42") == (None, 3)
    assert store.conversation("43") == (None, 0)


def test_a_complaint_is_linked_to_its_chat_and_language(store):
    assert store.chat_for("C1") is None
    store.link_complaint("C1", "42", "kk", now=NOW)
    store.link_complaint("C1", "42", "kk", now=NOW)  # a replay writes the same
    assert store.chat_for("C1") == ("42", "kk")


def test_the_dynamodb_items_expire_and_live_on_the_vault_side():
    from moto import mock_aws

    with mock_aws():
        from chalicelib.adapters.repositories import DynamoTelegramStore
        from chalicelib.adapters.tables import ContactTable, TelegramTable

        TelegramTable.create_table(wait=True)
        store = DynamoTelegramStore()
        store.claim_update(1, now=NOW, lease_seconds=60)
        store.save_conversation("42", {"step": "seller"}, version=0, now=NOW)
        store.link_complaint("C1", "42", "ru", now=NOW)
        expiries = {item.pk: item.expires_at - NOW for item in TelegramTable.scan()}  # test-only scan
        assert expiries == {"update#1": timedelta(days=2), "chat#42": timedelta(days=1), "complaint#C1": timedelta(days=400)}
        assert getattr(TelegramTable.Meta, "host", None) == getattr(ContactTable.Meta, "host", None)
        assert TelegramTable.Meta.region == ContactTable.Meta.region


def test_the_daily_quota_counts_conversations_once_each_up_to_the_limit(store):
    assert all(store.reserve_complaint("42", "2026-12-02", f"n{i}", limit=3, now=NOW) for i in range(3))
    assert store.reserve_complaint("42", "2026-12-02", "n1", limit=3, now=NOW)  # a retried Send
    assert not store.reserve_complaint("42", "2026-12-02", "n9", limit=3, now=NOW)
    assert store.reserve_complaint("42", "2026-12-03", "n9", limit=3, now=NOW)  # another day
    assert store.reserve_complaint("43", "2026-12-02", "n9", limit=3, now=NOW)  # another chat
