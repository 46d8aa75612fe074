"""The packaged QR resolver (chalicelib.api.resolver.handler, the Handler tools/package.py deploys) answers
exactly as app.qr_resolver does, on moto, with one GetItem on the outlets table and nothing else."""
import pytest

from local.server import function_url_event


@pytest.fixture
def entry(monkeypatch, services):
    from chalicelib.api import resolver

    # A reader made under an earlier test's mock must not carry over: each test gets a fresh one.
    monkeypatch.setattr(resolver, "_reader", None)
    return resolver


def _event(path, query="", headers=None):
    return function_url_event("GET", f"/q{path}", query, headers or {"User-Agent": "t"})


def _both(entry, event):
    from app import qr_resolver

    return entry.handler(event, None), qr_resolver(event, None)


def test_every_kind_of_request_gets_the_same_answer_from_both_entry_points(entry, demo):
    from chalicelib.domain.codes import new_outlet_code

    code = demo["outlets"][0]["code"]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    cases = [
        _event(f"/{code}"),                                                    # a sticker: 302 to the form
        _event(f"/{code.lower()[:4]}-{code.lower()[4:]}"),                     # as typed, with a dash
        _event("/", f"code={code}"),                                           # the retype form
        _event(f"/{typo}", headers={"Accept-Language": "kk-KZ,kk;q=0.9"}),     # a typo: 400 help page
        _event(f"/{new_outlet_code()}", headers={"Accept-Language": "ru"}),    # well formed, unknown: 404
        _event("/"),                                                           # no code at all: 200 entry page
    ]
    statuses = []
    for event in cases:
        packaged, chalice = _both(entry, event)
        assert packaged == chalice
        statuses.append(packaged["statusCode"])
    assert statuses == [302, 302, 302, 400, 404, 200]
    assert _both(entry, cases[0])[0]["headers"]["Location"] == f"http://127.0.0.1:8000/?o={code}&ch=qr"


def test_a_suspended_outlet_is_unknown_to_both(entry, demo, services):
    code = demo["outlets"][1]["code"]
    services.outlets.set_status(code, "suspended")
    packaged, chalice = _both(entry, _event(f"/{code}"))
    assert packaged == chalice and packaged["statusCode"] == 404
    services.outlets.set_status(code, "active")
    assert entry.handler(_event(f"/{code}"), None)["statusCode"] == 302


def test_the_reader_agrees_with_the_repository_and_reads_the_table_pynamodb_maps(entry, demo, services):
    from chalicelib.adapters.outlet_status import ACTIVE, OutletStatusReader
    from chalicelib.adapters.tables import OutletTable

    assert OutletTable.Meta.table_name == services.settings.table_name("outlets")
    assert OutletTable._hash_keyname == "code"
    assert OutletTable.get_attributes()["status"].default == ACTIVE

    reader = OutletStatusReader(OutletTable.Meta.table_name, services.settings.aws_region)
    code = demo["outlets"][2]["code"]
    services.outlets.set_status(code, "suspended")
    for outlet in demo["outlets"]:
        stored = services.outlets.get(outlet["code"])
        assert reader.get(outlet["code"]) == (stored.code, stored.active)
    assert reader.get(code).active is False
    assert reader.get("ZZZZZZZZ") is None


def test_the_packaged_resolver_makes_one_get_item_on_the_outlets_table(entry, demo, services):
    calls = []
    code = demo["outlets"][0]["code"]
    entry.handler(_event(f"/{code}"), None)  # makes the reader and its client
    client = entry._outlet_reader()._dynamodb()
    client.meta.events.register(
        "before-parameter-build.dynamodb", lambda model, params, **_: calls.append((model.name, params["TableName"])))
    assert entry.handler(_event(f"/{code}"), None)["statusCode"] == 302
    assert calls == [("GetItem", services.settings.table_name("outlets"))]


def test_storage_trouble_still_sends_the_person_to_the_form(entry, demo, caplog):
    class Broken:
        def get(self, code):
            raise ConnectionError("DynamoDB unreachable")

    entry._reader = Broken()
    code = demo["outlets"][0]["code"]
    response = entry.handler(_event(f"/{code}"), None)
    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == f"http://127.0.0.1:8000/?o={code}&ch=qr"
    assert "outlet lookup failed in the resolver" in caplog.text


def test_the_packaged_resolver_imports_no_app_and_no_heavy_module():
    # In a fresh interpreter: what a cold start of this entry loads, up to its first answer.
    import json
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import sys, json\n"
        "from chalicelib.api import resolver\n"
        "resolver.handler({'rawPath': '/', 'headers': {}}, None)\n"
        "print(json.dumps(sorted(m for m in ('app', 'chalice', 'aws_lambda_powertools', 'pynamodb', 'pydantic',"
        " 'PIL', 'qrcode', 'phonenumbers', 'chalicelib.bootstrap', 'chalicelib.domain.model') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
