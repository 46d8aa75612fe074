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


def count_items(model) -> int:
    """Test-only: how many items a table holds (a Scan is fine here, never in a request path)."""
    return sum(1 for _ in model.scan())
