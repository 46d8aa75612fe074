"""The channel registration API (chalicelib/api/channels.py) over HTTP on moto: who may read and change which
channels, the one-time signing secret, the webhook URL rules at registration, and that what is stored is what
the notification builders then use.

DNS is answered by a table (`channels.RESOLVE`), so hosts resolve without a network.
"""
from __future__ import annotations

import json
import socket

import pytest
from chalicelib.api import channels as channels_module
from chalicelib.domain.identifiers import checksum_ok

PUBLIC = "93.184.216.34"
DNS = {"hooks.kzpp.gov.kz": [PUBLIC], "hooks.ktrm.gov.kz": [PUBLIC], "shop.example.kz": [PUBLIC],
       "inside.example.com": ["10.20.30.40"]}


def resolver(host, port, *args, **kwargs):
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in DNS[host]]


@pytest.fixture
def http(client, demo, monkeypatch):
    monkeypatch.setattr(channels_module, "RESOLVE", resolver)
    return Http(client)


class Http:
    def __init__(self, client):
        self.client = client

    def get(self, path, key=None):
        return self._answer(self.client.http.get(path, headers=self._headers(key)))

    def put(self, path, body, key=None, **headers):
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self._answer(self.client.http.put(path, body=raw, headers={**self._headers(key), **headers}))

    @staticmethod
    def _headers(key):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    @staticmethod
    def _answer(response):
        return response.status_code, json.loads(response.body or b"null")


def agency_key(demo, agency="kzpp"):
    return demo["keys"]["agencies"][agency]


def business_key(demo, bin="940140000385"):
    return demo["keys"]["businesses"][bin]


def test_an_agency_starts_with_no_channels(http, demo):
    status, body = http.get("/agency/channels", agency_key(demo))
    assert status == 200
    assert body == {"owner": "agency#kzpp", "webhook_url": None, "webhook_secret_set": False, "updated_at": None}


def test_setting_a_webhook_returns_its_secret_once(http, demo, services):
    key = agency_key(demo)
    status, body = http.put("/agency/channels", {"webhook_url": "https://hooks.kzpp.gov.kz/qalqan"}, key)
    assert status == 200, body
    secret = body["webhook_secret"]
    assert len(secret) >= 43 and body["webhook_url"] == "https://hooks.kzpp.gov.kz/qalqan"
    assert body["webhook_secret_set"] is True and body["updated_at"]
    # GET never shows it; the store keeps it for signing
    status, shown = http.get("/agency/channels", key)
    assert status == 200 and "webhook_secret" not in shown and shown["webhook_secret_set"] is True
    assert secret not in json.dumps(shown)
    stored = services.channels.get("agency#kzpp")
    assert stored.webhook_secret == secret and stored.updated_by  # the key id that changed it
    # the same URL again rotates the secret
    _, again = http.put("/agency/channels", {"webhook_url": "https://hooks.kzpp.gov.kz/qalqan"}, key)
    assert again["webhook_secret"] != secret
    assert services.channels.get("agency#kzpp").webhook_secret == again["webhook_secret"]


def test_the_registered_webhook_is_what_the_builder_signs_with(http, demo, services):
    from datetime import datetime, timezone

    from chalicelib.domain.complaint import ComplaintRouted
    from chalicelib.services.notifications import agency_webhook
    from chalicelib.streams.processor import Envelope
    from tests.unit.test_notifications import new_complaint

    _, body = http.put("/agency/channels", {"webhook_url": "https://hooks.ktrm.gov.kz/in"}, agency_key(demo, "ktrm"))
    complaint = new_complaint(agency="ktrm")
    event = ComplaintRouted(complaint.id, datetime(2026, 11, 30, tzinfo=timezone.utc), "ktrm")
    message = agency_webhook(Envelope(f"{complaint.id}#1#ComplaintRouted", event, complaint, None), services)
    assert message.to == "https://hooks.ktrm.gov.kz/in" and message.signing_secret == body["webhook_secret"]


@pytest.mark.parametrize("url, code", [
    ("http://hooks.kzpp.gov.kz/q", "https_required"),
    ("https://inside.example.com/q", "not_public"),
    ("https://169.254.169.254/latest/meta-data/", "metadata_address"),
    ("https://10.0.0.1/q", "ip_literal"),
    ("https://unknown.example.com/q", "unresolvable"),
    ("https://user:pw@hooks.kzpp.gov.kz/q", "userinfo_not_allowed"),
])
def test_a_refused_webhook_is_a_422_naming_the_field_and_stores_nothing(http, demo, services, url, code):
    status, body = http.put("/agency/channels", {"webhook_url": url}, agency_key(demo))
    assert status == 422, body
    assert body["error"]["code"] == "validation_failed"
    assert body["error"]["fields"]["webhook_url"]["code"] == code
    assert services.channels.get("agency#kzpp") is None


def test_null_removes_and_a_left_out_field_stays(http, demo):
    key = business_key(demo)
    _, first = http.put("/business/channels", {"webhook_url": "https://shop.example.kz/h", "email": "Claims@Taza.KZ"}, key)
    assert first["email"] == "Claims@taza.kz"  # normalised: the domain in lower case
    status, kept = http.put("/business/channels", {"email": "ops@taza.kz"}, key)
    assert status == 200 and "webhook_secret" not in kept  # no new secret: the webhook was not touched
    assert kept["webhook_url"] == "https://shop.example.kz/h" and kept["webhook_secret_set"] is True
    _, removed = http.put("/business/channels", {"webhook_url": None}, key)
    assert removed["webhook_url"] is None and removed["webhook_secret_set"] is False
    assert removed["email"] == "ops@taza.kz"
    _, cleared = http.put("/business/channels", {"email": ""}, key)
    assert cleared["email"] is None
    status, shown = http.get("/business/channels", key)
    assert status == 200 and shown["owner"] == "business#940140000385" and shown["email"] is None


@pytest.mark.parametrize("path, body, field, code", [
    ("/agency/channels", {"email": "ops@kzpp.gov.kz"}, "email", "extra_forbidden"),    # agencies: webhook only
    ("/agency/channels", {"webhook_url": 42}, "webhook_url", "string_type"),
    ("/agency/channels", {"webhook_url": "https://x.kz/" + "a" * 2000}, "webhook_url", "string_too_long"),
    ("/business/channels", {"email": "not-an-email"}, "email", "invalid_email"),
    ("/business/channels", {"secret": "mine"}, "secret", "extra_forbidden"),
])
def test_bodies_are_checked_field_by_field(http, demo, path, body, field, code):
    key = agency_key(demo) if path.startswith("/agency") else business_key(demo)
    status, answer = http.put(path, body, key)
    assert status == 422, answer
    assert answer["error"]["fields"][field]["code"] == code


def test_a_body_that_is_not_json_is_a_400(http, demo):
    status, body = http.put("/agency/channels", "{not json", agency_key(demo))
    assert status == 400 and body["error"]["code"] == "malformed_json"


def test_a_regional_key_may_read_but_not_change_the_agencys_channels(http, services, demo):
    from chalicelib.services.auth import issue_key

    regional = issue_key(role="agency", label="kzpp astana", keys=services.keys, clock=services.clock,
                         agency_id="kzpp", regions=("71",)).key
    assert http.get("/agency/channels", regional)[0] == 200
    status, body = http.put("/agency/channels", {"webhook_url": "https://hooks.kzpp.gov.kz/q"}, regional)
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert services.channels.get("agency#kzpp") is None


@pytest.mark.parametrize("path, role", [
    ("/agency/channels", "business"), ("/business/channels", "agency"), ("/admin/channels/agency:kzpp", "agency"),
    ("/admin/channels/agency:kzpp", "business"),
])
def test_other_roles_are_refused(http, demo, path, role):
    key = agency_key(demo) if role == "agency" else business_key(demo)
    status, body = http.put(path, {"webhook_url": None}, key)
    assert status == 403, body


@pytest.mark.parametrize("method, path", [("get", "/agency/channels"), ("put", "/business/channels"),
                                          ("put", "/admin/channels/agency:kzpp")])
def test_no_key_is_a_401(http, method, path):
    status, body = http.get(path) if method == "get" else http.put(path, {})
    assert status == 401 and body["error"]["code"] == "unauthorized"


def test_each_business_sees_only_its_own_channels(http, demo):
    http.put("/business/channels", {"email": "claims@taza.kz"}, business_key(demo, "940140000385"))
    _, other = http.get("/business/channels", business_key(demo, "950341000052"))
    assert other == {"owner": "business#950341000052", "webhook_url": None, "webhook_secret_set": False,
                     "updated_at": None, "email": None}


def test_an_admin_sets_any_owners_channels(http, demo, services):
    admin = demo["keys"]["admin"]
    status, body = http.put("/admin/channels/agency:ktrm", {"webhook_url": "https://hooks.ktrm.gov.kz/in"}, admin)
    assert status == 200 and body["owner"] == "agency#ktrm" and body["webhook_secret"]
    assert "email" not in body
    status, body = http.put("/admin/channels/business%23950341000052", {"email": "a@electron.kz"}, admin)
    assert status == 200 and body["owner"] == "business#950341000052" and body["email"] == "a@electron.kz"
    assert services.channels.get("business#950341000052").email == "a@electron.kz"
    status, body = http.put("/admin/channels/agency:ktrm", {"email": "x@ktrm.kz"}, admin)
    assert status == 422 and body["error"]["fields"]["email"]["code"] == "extra_forbidden"


def _unregistered_bin() -> str:
    return next(f"12345678901{d}" for d in range(10) if checksum_ok(f"12345678901{d}"))


@pytest.mark.parametrize("owner, status, code", [
    ("agency:nosuch", 404, "not_found"),
    ("business:123456789012", 400, "invalid_owner"),
    (f"business:{_unregistered_bin()}", 404, "business_not_found"),
    ("kzpp", 400, "invalid_owner"),
    ("shop:940140000385", 400, "invalid_owner"),
])
def test_an_admin_names_an_owner_that_exists(http, demo, owner, status, code):
    got, body = http.put(f"/admin/channels/{owner}", {"webhook_url": None}, demo["keys"]["admin"])
    assert (got, body["error"]["code"]) == (status, code)
