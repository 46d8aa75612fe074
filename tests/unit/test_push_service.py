"""The sender (pywebpush) against the local fake push service, in process: what arrives is decrypted with the
device's private key, a wrong VAPID key or a tampered body is refused as a real push service would, a dropped
subscription answers 410 and is forgotten; and which endpoints the server will ever post to."""
import base64
import json
from dataclasses import replace

import pytest
import requests

from chalicelib.adapters.webpush import WebPushSender
from chalicelib.services.ports import DeliveryFailed, Message
from chalicelib.services.push import endpoint_allowed, push_ref, subscription_id
from chalicelib.settings import load_settings
from local.outbox import Outbox
from local.push import FakePushService, decrypt, new_keys, verify_vapid
from tests.fakes import FakePushSubscriptions
from chalicelib.services.ports import PushSubscription

BASE = "http://127.0.0.1:8765"
COMPLAINT = "T95RQ06DZJ7N"


def key() -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    raw = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def settings(**more):
    env = {"QALQAN_SECRET": "s" * 40, "AWS_REGION": "eu-central-1", "VAPID_PRIVATE_KEY": key(),
           "VAPID_SUBJECT": "mailto:ops@qalqan.kz", "PUSH_ENDPOINT_PREFIXES": f"{BASE}/_local/push/", **more}
    return load_settings(env)


class ToFakeService(requests.adapters.BaseAdapter):
    """A requests transport that hands each POST to the fake push service, as the local server does."""

    def __init__(self, service):
        super().__init__()
        self.service = service

    def send(self, request, **kwargs):
        status, _ = self.service.deliver(request.url.rsplit("/", 1)[-1], dict(request.headers), request.body)
        response = requests.Response()
        response.status_code, response.url, response.request, response._content = status, request.url, request, b""
        return response

    def close(self):
        pass


def message() -> Message:
    texts = {lang: {"title": f"Qalqan {lang}", "body": f"{COMPLAINT} in review ({lang})"} for lang in ("kk", "ru", "en")}
    body = {"complaint_id": COMPLAINT, "status": "in_review", "template": "taken_in_review",
            "path": f"track.html#id={COMPLAINT}&token=t", "url": f"{BASE}/track.html#id={COMPLAINT}&token=t",
            "topic": f"complaint-{COMPLAINT}", "texts": texts}
    return Message(channel="webpush", audience="consumer", to=push_ref(COMPLAINT), complaint_id=COMPLAINT,
                   template="consumer.taken_in_review", language="kk+ru+en", body=json.dumps(body))


@pytest.fixture
def world():
    outbox = Outbox()
    service = FakePushService(outbox)
    store = FakePushSubscriptions()
    session = requests.Session()
    session.mount("http://", ToFakeService(service))
    s = settings()

    def device(lang="ru"):
        sub = service.subscribe(BASE)
        store.add(push_ref(COMPLAINT), PushSubscription(id=subscription_id(sub["endpoint"]), endpoint=sub["endpoint"],
                                                        p256dh=sub["keys"]["p256dh"], auth=sub["keys"]["auth"],
                                                        lang=lang), limit=5, at=None)
        return sub

    return s, service, store, outbox, device, lambda st=s: WebPushSender(st, store, session=session)


def test_each_device_gets_its_language_decrypted_by_the_fake_service(world):
    s, service, store, outbox, device, sender = world
    device("kk"), device("en")
    sender().send(message())
    lines = outbox.items(COMPLAINT)
    assert sorted(line["payload"]["lang"] for line in lines) == ["en", "kk"]
    assert all(line["channel"] == "webpush" and line["topic"] == f"complaint-{COMPLAINT}" for line in lines)
    assert {line["payload"]["body"] for line in lines} == {f"{COMPLAINT} in review (kk)", f"{COMPLAINT} in review (en)"}


class Capture(requests.adapters.BaseAdapter):
    """Keeps the request a sender made, and answers 201 without delivering it."""

    def __init__(self):
        super().__init__()
        self.requests = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        response = requests.Response()
        response.status_code, response.url, response.request, response._content = 201, request.url, request, b""
        return response

    def close(self):
        pass


def test_only_a_push_signed_with_the_key_in_its_header_is_accepted(world):
    from chalicelib.adapters.webpush import application_server_key

    s, service, store, outbox, device, sender = world
    sub_id = device()["endpoint"].rsplit("/", 1)[-1]
    capture, session = Capture(), requests.Session()
    session.mount("http://", capture)
    WebPushSender(s, store, session=session).send(message())
    [request] = capture.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    token = headers["authorization"].split("t=", 1)[1].split(",", 1)[0]
    # the same signed token presented with another server's public key: the signature does not verify
    forged = {**headers, "authorization": f"vapid t={token}, k={application_server_key(settings().vapid_private_key)}"}
    assert service.deliver(sub_id, forged, request.body)[0] == 403
    # a token whose claims were edited (another audience) no longer matches its signature either
    head, claims, signature = token.split(".")
    edited = json.loads(base64.urlsafe_b64decode(claims + "=="))
    edited["aud"] = "https://fcm.googleapis.com"
    claims2 = base64.urlsafe_b64encode(json.dumps(edited).encode()).rstrip(b"=").decode()
    k = headers["authorization"].split("k=", 1)[1]
    assert service.deliver(sub_id, {**headers, "authorization": f"vapid t={head}.{claims2}.{signature}, k={k}"},
                           request.body)[0] == 403
    assert outbox.items(COMPLAINT) == []
    # the genuine request passes, and decrypts
    assert service.deliver(sub_id, headers, request.body)[0] == 201
    assert outbox.items(COMPLAINT)[0]["payload"]["complaint_id"] == COMPLAINT


def test_decryption_is_authenticated_and_needs_the_devices_key():
    import http_ece

    private, p256dh, auth = new_keys()
    body = http_ece.encrypt(b'{"complaint_id": "T95RQ06DZJ7N"}', private_key=new_keys()[0],
                            dh=base64.urlsafe_b64decode(p256dh + "=="), auth_secret=auth, version="aes128gcm")
    assert json.loads(decrypt(body, private, auth)) == {"complaint_id": COMPLAINT}
    with pytest.raises(Exception):
        decrypt(body[:-1] + bytes([body[-1] ^ 1]), private, auth)  # one bit changed
    with pytest.raises(Exception):
        decrypt(body, new_keys()[0], auth)  # another device's key


def test_a_dropped_subscription_answers_410_and_is_forgotten(world):
    s, service, store, outbox, device, sender = world
    gone, kept = device(), device()
    assert service.drop(gone["endpoint"].rsplit("/", 1)[-1])
    sender().send(message())
    assert [sub.endpoint for sub in store.list(push_ref(COMPLAINT))] == [kept["endpoint"]]
    assert len(outbox.items(COMPLAINT)) == 1


def test_without_a_vapid_key_nothing_is_sent(world):
    s, service, store, outbox, device, sender = world
    device()
    with pytest.raises(DeliveryFailed) as failed:
        sender(replace(s, vapid_private_key_value="")).send(message())
    assert not failed.value.transient and outbox.items() == []


@pytest.mark.parametrize("endpoint, allowed", [
    ("https://fcm.googleapis.com/fcm/send/abc", True),
    ("https://updates.push.services.mozilla.com/wpush/v2/abc", True),
    ("https://web.push.apple.com/QGx-abc", True),
    ("https://wns2-par02p.notify.windows.com/w/?token=abc", True),
    ("https://fcm.googleapis.com:443/fcm/send/abc", True),
    ("http://fcm.googleapis.com/fcm/send/abc", False),
    ("https://fcm.googleapis.com.attacker.kz/abc", False),
    ("https://notfcm.googleapis.com.attacker.kz/abc", False),
    ("https://10.0.0.1/abc", False),
    ("https://localhost/abc", False),
    ("https://fcm.googleapis.com:8443/abc", False),
    ("https://a:b@fcm.googleapis.com/abc", False),
    (f"{BASE}/_local/push/abc", True),           # the local stack's prefix, and only that
    ("http://127.0.0.1:8765/elsewhere", False),
    ("https://[::1", False),
])
def test_the_server_posts_only_to_known_push_services(endpoint, allowed):
    assert endpoint_allowed(endpoint, settings()) is allowed


def test_no_local_prefix_unless_the_setting_names_it():
    assert endpoint_allowed(f"{BASE}/_local/push/abc", settings(PUSH_ENDPOINT_PREFIXES="")) is False


def test_a_vapid_key_needs_a_contact():
    from chalicelib.settings import ConfigurationError

    with pytest.raises(ConfigurationError):
        settings(VAPID_SUBJECT="", WEB_BASE_URL="http://127.0.0.1:8000/")
    assert settings(VAPID_SUBJECT="", WEB_BASE_URL="https://qalqan.kz/").vapid_subject == "https://qalqan.kz"
