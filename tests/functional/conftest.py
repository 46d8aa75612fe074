import collections
import json

import pytest
from chalice.test import Client
from moto import mock_aws


@pytest.fixture
def aws():
    """An empty in-memory AWS with Qalqan's tables, and the app wired to it."""
    from chalicelib.bootstrap import use_container

    with mock_aws():
        from chalicelib.adapters.tables import create_tables

        create_tables()
        use_container(None)
        yield
        use_container(None)


@pytest.fixture
def services(aws):
    from chalicelib.bootstrap import container

    return container()


@pytest.fixture
def client(aws):
    from app import app

    with Client(app) as c:
        yield c


@pytest.fixture
def demo(services):
    """The demo businesses and outlets, seeded through the same use cases as the admin API."""
    from local.seed import seed_demo

    return seed_demo(services)


@pytest.fixture
def admin_headers(demo):
    return {"Authorization": f"Bearer {demo['keys']['admin']}", "Content-Type": "application/json"}


class Api:
    """Small helpers over chalice.test.Client: JSON in, JSON out."""

    def __init__(self, client):
        self.client = client

    def get(self, path, headers=None):
        return self.client.http.get(path, headers=headers or {})

    def post(self, path, body, headers=None):
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.client.http.post(path, body=raw, headers={"Content-Type": "application/json", **(headers or {})})


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def dynamodb_calls(services, demo):
    """DynamoDB operations by name (GetItem, Query, ...), counted through botocore events: one per request."""
    from chalicelib.adapters.tables import ALL_TABLES

    calls = collections.Counter()

    def count(event_name, **kwargs):
        calls[event_name.rsplit(".", 1)[-1]] += 1

    for table in ALL_TABLES:
        table._get_connection().connection.client.meta.events.register(
            "before-call.dynamodb", count, unique_id=f"count-{table.__name__}")
    yield calls
    for table in ALL_TABLES:
        table._get_connection().connection.client.meta.events.unregister(
            "before-call.dynamodb", unique_id=f"count-{table.__name__}")


def count_items(model) -> int:
    """Test-only: how many items a table holds (a Scan is fine here, never in a request path)."""
    return sum(1 for _ in model.scan())
