"""The OpenAPI document stays true: generated from the request models, covering exactly the routes."""
import json

from tools import openapi


def test_committed_document_is_current():
    assert openapi.TARGET.read_text(encoding="utf-8") == openapi.render(), "run: python -m tools.openapi"


def test_every_route_is_documented_and_nothing_else():
    from app import app

    routes = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    documented = {(path, method) for path, ops in json.loads(openapi.render())["paths"].items() for method in ops}
    assert routes == documented


def test_request_schemas_reject_unknown_fields():
    doc = json.loads(openapi.render())
    assert doc["components"]["schemas"]["ComplaintIn"]["additionalProperties"] is False
