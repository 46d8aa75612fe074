"""The sender (http_ece + py_vapid, posted with urllib) against the local fake push service, in process: what arrives is decrypted with the
device's private key, a wrong VAPID key or a tampered body is refused as a real push service would, a dropped
subscription answers 410 and is forgotten; and which endpoints the server will ever post to."""
import base64
import json
from dataclasses import replace

import pytest

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
SECRET = "s" * 40


def keys() -> tuple[str, str]:
    from tools.admin import new_vapid_keys

    return new_vapid_keys()


def settings(**more):
    private, public = keys()
    env = {"QALQAN_SECRET": SECRET, "AWS_REGION": "eu-central-1", "VAPID_PRIVATE_KEY": private,
           "VAPID_PUBLIC_KEY": public, "VAPID_SUBJECT": "mailto:ops@qalqan.kz",
           "PUSH_ENDPOINT_PREFIXES": f"{BASE}/_local/push/", **more}
    return load_settings(env)


class ToFakeService:
    """A transport that hands each POST to the fake push service, as the local server does."""

    def __init__(self, service):
        self.service = service

    def __call__(self, request):
        status, _ = self.service.deliver(request.url.rsplit("/", 1)[-1], dict(request.headers), request.body)
        return status


def message() -> Message:
    texts = {lang: {"title": f"Qalqan {lang}", "body": f"{COMPLAINT} in review ({lang})"} for lang in ("kk", "ru", "en")}
    body = {"complaint_id": COMPLAINT, "status": "in_review", "template": "taken_in_review",
            "path": f"track.html#id={COMPLAINT}&token=t", "url": f"{BASE}/track.html#id={COMPLAINT}&token=t",
            "topic": f"complaint-{COMPLAINT}", "texts": texts}
    return Message(channel="webpush", audience="consumer", to=push_ref(SECRET, COMPLAINT), complaint_id=COMPLAINT,
                   template="consumer.taken_in_review", language="kk+ru+en", body=json.dumps(body))


@pytest.fixture
def world():
    outbox = Outbox()
    service = FakePushService(outbox)
    store = FakePushSubscriptions()
    transport = ToFakeService(service)
    s = settings()

    def device(lang="ru"):
        sub = service.subscribe(BASE)
        store.add(push_ref(SECRET, COMPLAINT), PushSubscription(id=subscription_id(sub["endpoint"]), endpoint=sub["endpoint"],
                                                        p256dh=sub["keys"]["p256dh"], auth=sub["keys"]["auth"],
                                                        lang=lang), limit=5, at=None)
        return sub

    return s, service, store, outbox, device, lambda st=s: WebPushSender(st, store, transport=transport)


def test_each_device_gets_its_language_decrypted_by_the_fake_service(world):
    s, service, store, outbox, device, sender = world
    device("kk"), device("en")
    sender().send(message())
    lines = outbox.items(COMPLAINT)
    assert sorted(line["payload"]["lang"] for line in lines) == ["en", "kk"]
    assert all(line["channel"] == "webpush" and line["topic"] == f"complaint-{COMPLAINT}" for line in lines)
    assert {line["payload"]["body"] for line in lines} == {f"{COMPLAINT} in review (kk)", f"{COMPLAINT} in review (en)"}


class Capture:
    """Keeps the request a sender made, and answers 201 without delivering it."""

    def __init__(self):
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        return 201


def test_only_a_push_signed_with_the_key_in_its_header_is_accepted(world):
    from chalicelib.adapters.webpush import application_server_key

    s, service, store, outbox, device, sender = world
    sub_id = device()["endpoint"].rsplit("/", 1)[-1]
    capture = Capture()
    WebPushSender(s, store, transport=capture).send(message())
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
    assert [sub.endpoint for sub in store.list(push_ref(SECRET, COMPLAINT))] == [kept["endpoint"]]
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


def test_a_public_key_goes_with_a_private_one_and_must_be_a_point():
    from chalicelib.settings import ConfigurationError

    private, public = keys()
    with pytest.raises(ConfigurationError, match="VAPID_PUBLIC_KEY"):
        settings(VAPID_PUBLIC_KEY="")  # a private key alone: GET /push/key would have nothing to serve
    with pytest.raises(ConfigurationError, match="VAPID_PUBLIC_KEY"):
        settings(VAPID_PRIVATE_KEY="", VAPID_PUBLIC_KEY=public)
    spoiled = bytearray(base64.urlsafe_b64decode(public + "="))
    spoiled[-1] ^= 1
    with pytest.raises(ConfigurationError, match="P-256"):
        settings(VAPID_PUBLIC_KEY=base64.urlsafe_b64encode(bytes(spoiled)).rstrip(b"=").decode())
    assert settings(VAPID_PRIVATE_KEY=private, VAPID_PUBLIC_KEY=public).vapid_public_key == public


def test_a_public_key_of_another_pair_sends_nothing_and_says_why(world, caplog):
    import logging

    s, service, store, outbox, device, sender = world
    device()
    mismatched = replace(s, vapid_public_key=keys()[1])
    one = sender(mismatched)
    caplog.set_level(logging.ERROR, logger="qalqan.webpush")
    for _ in range(2):
        with pytest.raises(DeliveryFailed) as failed:
            one.send(message())
        assert failed.value.transient is False and "VAPID_PUBLIC_KEY" in str(failed.value)
    assert outbox.items() == []  # no device was posted to: each would be refused with a 403
    assert [r.getMessage() for r in caplog.records].count(str(failed.value)) == 1  # said once, on first use
    sender(s).send(message())  # the matching pair sends
    assert len(outbox.items(COMPLAINT)) == 1


@pytest.fixture
def push_http_server():
    """A real HTTP server on 127.0.0.1 answering each POST with the status its path names (/201, /410, /302,
    /slow); it keeps what arrived."""
    import http.server
    import threading
    import time

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            what = self.path.strip("/")
            if what == "slow":
                time.sleep(1.5)
                what = "201"
            self.send_response(int(what))
            if what == "302":
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/201")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_the_urllib_transport_answers_the_status_and_never_follows_a_redirect(push_http_server, monkeypatch):
    from chalicelib.adapters.webpush import PushRequest, UrllibTransport

    base, seen = push_http_server
    transport = UrllibTransport()
    headers = {"TTL": "60", "Content-Encoding": "aes128gcm", "Authorization": "vapid t=x, k=y"}
    assert transport(PushRequest(f"{base}/201", headers, b"\x01\x02")) == 201
    assert transport(PushRequest(f"{base}/410", headers, b"\x01")) == 410
    assert transport(PushRequest(f"{base}/503", headers, b"\x01")) == 503
    assert transport(PushRequest(f"{base}/302", headers, b"\x01")) == 302
    assert [path for path, _, _ in seen] == ["/201", "/410", "/503", "/302"]  # the Location was not visited
    assert seen[0][2] == b"\x01\x02" and seen[0][1]["content-encoding"] == "aes128gcm" and seen[0][1]["ttl"] == "60"
    monkeypatch.setattr(UrllibTransport, "TIMEOUT", 0.3)
    assert UrllibTransport()(PushRequest(f"{base}/slow", headers, b"\x01")) == 0  # a hung service: transient
    with __import__("socket").socket() as probe:  # a port nobody listens on: refused, transient
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert transport(PushRequest(f"http://127.0.0.1:{closed}/x", headers, b"\x01")) == 0
    assert transport(PushRequest("file:///etc/passwd", headers, b"\x01")) == 400  # never another scheme
    assert transport(PushRequest(f"{base}/201\r\nX-Injected: 1", headers, b"\x01")) == 400
    assert len(seen) == 5


def test_a_redirecting_push_service_is_a_refusal_not_a_hop(push_http_server):
    from chalicelib.adapters.webpush import UrllibTransport

    base = push_http_server[0]

    private, public = keys()
    s = settings(VAPID_PRIVATE_KEY=private, VAPID_PUBLIC_KEY=public, PUSH_ENDPOINT_PREFIXES=f"{base}/")
    store = FakePushSubscriptions()
    sub_keys = new_keys()
    store.add(push_ref(SECRET, COMPLAINT), PushSubscription(id="r", endpoint=f"{base}/302", p256dh=sub_keys[1],
                                                    auth=base64.urlsafe_b64encode(sub_keys[2]).decode(), lang="ru"),
              limit=5, at=None)
    with pytest.raises(DeliveryFailed) as failed:
        WebPushSender(s, store, transport=UrllibTransport()).send(message())
    assert failed.value.transient is False and "302" in str(failed.value)
    assert [path for path, _, _ in push_http_server[1]] == ["/302"]


def test_the_vault_reference_is_keyed_with_the_stage_secret():
    """Complaint ids are public (Open311 lists them): whoever reads the vault must not be able to tell which
    complaint a device follows by hashing the ids."""
    import hashlib

    from chalicelib.services.push import refs

    ref = push_ref(SECRET, COMPLAINT)
    assert ref == push_ref(SECRET, COMPLAINT) != push_ref(SECRET, "C" + "7" * 11)
    assert ref != push_ref("t" * 40, COMPLAINT)
    assert ref[3:] != hashlib.sha256(f"qalqan-push\x00{COMPLAINT}".encode()).hexdigest()[:32]
    assert COMPLAINT not in ref
    # after a rotation the devices subscribed under the previous secret are still found
    rotated = settings(QALQAN_SECRET="t" * 40, QALQAN_PREVIOUS_SECRET=SECRET)
    assert refs(rotated, COMPLAINT) == [push_ref("t" * 40, COMPLAINT), ref]
