"""Web Push, functionally: the public key, subscribing and unsubscribing a device behind the tracking token, the
subscription kept on the contact vault's side only, and the status push sent by the reactions, really encrypted
(decrypted here with the subscription's private key) and really VAPID-signed (verified with the public key).

The push service is played by a transport that records each POST and answers a chosen status.
"""
import base64
import json
from dataclasses import replace

import boto3
import pytest

from local.push import decrypt, new_keys, verify_vapid

H = {"Content-Type": "application/json"}
FCM = "https://fcm.googleapis.com/fcm/send/"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid_keys() -> tuple[str, str]:
    from tools.admin import new_vapid_keys

    return new_vapid_keys()


class PushServiceTransport:
    """Answers every POST like a push service would, with `status`; keeps what was sent (PushRequest)."""

    def __init__(self, status=201):
        self.status = status
        self.sent = []

    def __call__(self, request):
        self.sent.append(request)
        return self.status if isinstance(self.status, int) else self.status(request)


class Device:
    """A browser's subscription: the private half stays here, as it would in the browser."""

    def __init__(self, endpoint):
        self.private, self.p256dh, self.auth = new_keys()
        self.endpoint = endpoint

    def subscription(self):
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh,
                                                                            "auth": b64url(self.auth)}}


@pytest.fixture
def push(aws, demo, client):
    """The app with a VAPID key and a push service transport; a complaint with its token; a stream reader."""
    from chalicelib.adapters.messaging import AwsNotifier
    from chalicelib.adapters.tables import ComplaintTable
    from chalicelib.adapters.webpush import VaultPushSubscriptions, WebPushSender
    from chalicelib.bootstrap import container, use_container
    from local.streams import StreamReader
    from tests.fakes import FakeParkingLot

    base = container()
    private, public = vapid_keys()
    settings = replace(base.settings, vapid_private_key_value=private, vapid_public_key=public,
                       vapid_subject="mailto:ops@qalqan.kz")
    transport = PushServiceTransport()
    sender = WebPushSender(settings, VaultPushSubscriptions(), transport=transport)
    aws_notifier = AwsNotifier(settings)

    class Notifier:  # web push through the transport above, everything else as deployed
        def send(self, message):
            (sender if message.channel == "webpush" else aws_notifier).send(message)

    c = replace(base, settings=settings, notifier=Notifier(), parking=FakeParkingLot())
    use_container(c)
    reader = StreamReader(ComplaintTable.Meta.table_name)
    reader.read()
    outlet = demo["outlets"][0]
    text = "Кассада екі рет ақша алды, чекті бермеді."
    made = json.loads(client.http.post("/complaints", headers=H, body=json.dumps(
        {"outlet_code": outlet["code"], "language": "kk", "text": text})).body)

    class World:
        pass

    w = World()
    w.c, w.client, w.transport, w.reader, w.made, w.text, w.demo = c, client, transport, reader, made, text, demo
    w.token = {"X-Tracking-Token": made["tracking_token"], **H}

    def subscribe(device, lang="kk", token=None, complaint_id=None):
        return client.http.post(f"/complaints/{complaint_id or made['id']}/push-subscriptions",
                                headers=token or w.token, body=json.dumps({"subscription": device.subscription(),
                                                                           "lang": lang}))

    def take_in_review():
        key = demo["keys"]["agencies"][made["agency"]["id"]]
        response = client.http.post(f"/agency/complaints/{made['id']}/status", body=json.dumps({"status": "in_review"}),
                                    headers={"Authorization": f"Bearer {key}", **H})
        assert response.status_code == 200, response.body
        return client.lambda_.invoke("reactions", {"Records": reader.read()}).payload

    w.subscribe, w.take_in_review = subscribe, take_in_review
    return w


def test_the_public_key_is_the_vapid_keys_uncompressed_point(push):
    from py_vapid import Vapid

    body = json.loads(push.client.http.get("/push/key").body)
    point = base64.urlsafe_b64decode(body["public_key"] + "==")
    assert len(point) == 65 and point[0] == 4
    signer = Vapid.from_string(push.c.settings.vapid_private_key)
    x = signer.public_key.public_numbers().x.to_bytes(32, "big")
    assert point[1:33] == x


def test_without_a_vapid_key_push_is_unavailable(aws, client, demo):
    response = client.http.get("/push/key")
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "push_unavailable"


def test_a_device_subscribes_once_and_the_endpoint_stays_in_the_vault(push):
    from chalicelib.adapters.tables import ALL_TABLES, ContactTable

    device = Device(FCM + "dev-one-" + "a" * 40)
    first, again = push.subscribe(device), push.subscribe(device)
    assert (first.status_code, again.status_code) == (201, 200)
    assert json.loads(first.body) == {"subscribed": True}
    from chalicelib.services.push import push_ref

    held = push.c.push_subscriptions.list(push_ref(push.c.settings.secret, push.made["id"]))
    assert [s.endpoint for s in held] == [device.endpoint] and held[0].lang == "kk"
    # no AWS-side table holds the endpoint or the keys; the vault's does
    for table in ALL_TABLES:
        dump = json.dumps(boto3.client("dynamodb").scan(TableName=table.Meta.table_name)["Items"])  # test-only Scan
        assert (device.endpoint in dump) == (table is ContactTable), table.__name__
        assert (device.p256dh in dump) == (table is ContactTable), table.__name__


def test_a_changed_language_updates_the_same_subscription(push):
    device = Device(FCM + "lang-" + "b" * 40)
    assert push.subscribe(device, lang="kk").status_code == 201
    assert push.subscribe(device, lang="ru").status_code == 200
    from chalicelib.services.push import push_ref

    held = push.c.push_subscriptions.list(push_ref(push.c.settings.secret, push.made["id"]))
    assert [(s.endpoint, s.lang) for s in held] == [(device.endpoint, "ru")]


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/fcm/send/plain-http-xxxxxxxx",
    "https://169.254.169.254/latest/meta-data/xxxxxxxx",
    "https://fcm.googleapis.com.evil.example/send/xxxxxxxx",
    "https://evilfcm.googleapis.com.example/xxxxxxxx",
    "https://fcm.googleapis.com:8443/send/xxxxxxxx",
    "https://user@fcm.googleapis.com/send/xxxxxxxx",
])
def test_only_known_push_services_are_accepted(push, endpoint):
    response = push.subscribe(Device(endpoint))
    assert response.status_code == 422
    assert json.loads(response.body)["error"]["fields"]["subscription.endpoint"]["code"] == "push_endpoint_refused"


def _off_curve(p256dh: str) -> str:
    point = bytearray(base64.urlsafe_b64decode(p256dh + "=="))
    point[40] ^= 0x01  # y no longer matches x
    return b64url(bytes(point))


@pytest.mark.parametrize("spoil, field", [
    (lambda d: setattr(d, "p256dh", "A" + d.p256dh[1:]), "subscription.keys.p256dh"),  # not uncompressed
    (lambda d: setattr(d, "p256dh", _off_curve(d.p256dh)), "subscription.keys.p256dh"),
    (lambda d: setattr(d, "auth", b"\x01" * 12), "subscription.keys.auth"),  # 12 bytes, not 16
])
def test_broken_keys_are_refused(push, spoil, field):
    device = Device(FCM + "keys-" + "c" * 40)
    spoil(device)
    response = push.subscribe(device)
    assert response.status_code == 422, response.body
    assert field in json.loads(response.body)["error"]["fields"]


def test_a_wrong_token_cannot_subscribe_or_unsubscribe(push):
    device = Device(FCM + "token-" + "d" * 40)
    wrong = {"X-Tracking-Token": "x" * 25, **H}
    assert push.subscribe(device, token=wrong).status_code == 404
    response = push.client.http.delete(f"/complaints/{push.made['id']}/push-subscriptions", headers=wrong,
                                       body=json.dumps({"subscription": device.subscription()}))
    assert response.status_code == 404


def test_unknown_fields_are_refused(push):
    response = push.client.http.post(f"/complaints/{push.made['id']}/push-subscriptions", headers=push.token,
                                     body=json.dumps({"subscription": Device(FCM + "e" * 40).subscription(),
                                                      "complaint_text": "x"}))
    assert response.status_code == 422


def test_at_most_five_devices_follow_one_complaint(push):
    for n in range(5):
        assert push.subscribe(Device(FCM + f"many-{n}-" + "f" * 40)).status_code == 201
    response = push.subscribe(Device(FCM + "sixth-" + "f" * 40))
    assert response.status_code == 429
    assert json.loads(response.body)["error"]["code"] == "too_many_subscriptions"


def test_unsubscribing_removes_it_and_a_repeat_is_the_same(push):
    device = Device(FCM + "bye-" + "g" * 40)
    push.subscribe(device)
    path = f"/complaints/{push.made['id']}/push-subscriptions"
    body = json.dumps({"subscription": device.subscription()})
    assert push.client.http.delete(path, headers=push.token, body=body).status_code == 204
    assert push.client.http.delete(path, headers=push.token, body=body).status_code == 204
    assert push.subscribe(device).status_code == 201  # gone, so new again


def test_a_status_change_is_pushed_encrypted_and_signed_to_each_device(push):
    kk, en = Device(FCM + "kk-" + "h" * 40), Device("https://updates.push.services.mozilla.com/wpush/v2/" + "i" * 40)
    push.subscribe(kk, lang="kk")
    push.subscribe(en, lang="en")
    report = push.take_in_review()
    assert report["parked"] == 0
    sent = {r.url: r for r in push.transport.sent}
    assert set(sent) == {kk.endpoint, en.endpoint}
    for device, lang in ((kk, "kk"), (en, "en")):
        request = sent[device.endpoint]
        assert request.headers["Content-Encoding"] == "aes128gcm"
        assert push.made["tracking_token"].encode() not in request.body  # ciphertext, not the payload
        payload = json.loads(decrypt(request.body, device.private, device.auth))
        assert payload["complaint_id"] == push.made["id"] and payload["status"] == "in_review"
        assert payload["lang"] == lang and payload["template"] == "taken_in_review"
        assert payload["path"] == f"track.html#id={push.made['id']}&token={push.made['tracking_token']}"
        assert push.made["id"] in payload["body"]
        assert push.text not in json.dumps(payload, ensure_ascii=False)  # never the complaint's text
        claims = verify_vapid(request.headers["Authorization"], device.endpoint)
        assert claims["sub"] == "mailto:ops@qalqan.kz"
        assert claims["k"] == json.loads(push.client.http.get("/push/key").body)["public_key"]
        assert request.headers["Topic"] == f"complaint-{push.made['id']}" and int(request.headers["TTL"]) > 0
    # Kazakh text for the Kazakh device, English for the English one
    assert "шағым" in json.loads(decrypt(sent[kk.endpoint].body, kk.private, kk.auth))["body"]
    assert "omplaint" in json.loads(decrypt(sent[en.endpoint].body, en.private, en.auth))["body"]


def test_a_redelivered_record_pushes_once(push):
    push.subscribe(Device(FCM + "once-" + "j" * 40))
    key = push.demo["keys"]["agencies"][push.made["agency"]["id"]]
    push.client.http.post(f"/agency/complaints/{push.made['id']}/status", body=json.dumps({"status": "in_review"}),
                          headers={"Authorization": f"Bearer {key}", **H})
    records = push.reader.read()
    push.client.lambda_.invoke("reactions", {"Records": records})
    push.client.lambda_.invoke("reactions", {"Records": records})
    assert len(push.transport.sent) == 1


def test_a_gone_subscription_is_removed_and_the_others_still_get_it(push):
    from chalicelib.services.push import push_ref

    gone, live = Device(FCM + "gone-" + "k" * 40), Device(FCM + "live-" + "k" * 40)
    push.subscribe(gone)
    push.subscribe(live)
    push.transport.status = lambda request: 410 if request.url == gone.endpoint else 201
    report = push.take_in_review()
    assert report["parked"] == 0
    held = push.c.push_subscriptions.list(push_ref(push.c.settings.secret, push.made["id"]))
    assert [s.endpoint for s in held] == [live.endpoint]


def test_a_push_service_outage_is_retried_then_parked_and_a_refusal_parked_at_once(push):
    from chalicelib.adapters.webpush import VaultPushSubscriptions, WebPushSender
    from chalicelib.services.ports import DeliveryFailed
    from chalicelib.services.push import push_ref, status_push

    push.subscribe(Device(FCM + "outage-" + "m" * 40))
    push.transport.status = 503
    report = push.take_in_review()
    assert report["parked"] == 1 and len(push.transport.sent) == 4  # the processor's attempts, then parked
    # a 400 (a payload the service refuses) is permanent: one attempt
    transport = PushServiceTransport(400)
    sender = WebPushSender(push.c.settings, VaultPushSubscriptions(), transport=transport)
    complaint = push.c.complaints.get(push.made["id"])
    from chalicelib.domain import complaint as ev
    from chalicelib.streams.processor import Envelope

    event = ev.ComplaintTakenInReview(complaint_id=complaint.id, at=complaint.updated_at, agency_id=complaint.agency_id)
    message = status_push(Envelope("e1", event, complaint, None), push.c)
    with pytest.raises(DeliveryFailed) as failed:
        sender.send(message)
    assert failed.value.transient is False and len(transport.sent) == 1
    # a refusal does not drop the device
    assert push.c.push_subscriptions.list(push_ref(push.c.settings.secret, push.made["id"]))


def test_no_subscriber_no_message(push):
    from chalicelib.domain import complaint as ev
    from chalicelib.services.push import status_push
    from chalicelib.streams.processor import Envelope

    complaint = push.c.complaints.get(push.made["id"])
    event = ev.ComplaintTakenInReview(complaint_id=complaint.id, at=complaint.updated_at, agency_id=complaint.agency_id)
    assert status_push(Envelope("e2", event, complaint, None), push.c) is None


def _close(push):
    key = push.demo["keys"]["agencies"][push.made["agency"]["id"]]
    auth = {"Authorization": f"Bearer {key}", **H}
    path = f"/agency/complaints/{push.made['id']}/status"
    assert push.client.http.post(path, body=json.dumps({"status": "in_review"}), headers=auth).status_code == 200
    assert push.client.http.post(path, headers=auth, body=json.dumps(
        {"status": "rejected", "reason": "Не относится к компетенции органа."})).status_code == 200
    return push.client.lambda_.invoke("reactions", {"Records": push.reader.read()}).payload


def test_the_closing_push_is_the_last_and_the_devices_are_forgotten(push):
    from chalicelib.services.push import push_ref

    device = Device(FCM + "closing-" + "n" * 40)
    push.subscribe(device)
    assert _close(push)["parked"] == 0
    statuses = [json.loads(decrypt(r.body, device.private, device.auth))["status"] for r in push.transport.sent]
    assert statuses == ["in_review", "rejected"]
    # nothing kept for no purpose
    assert push.c.push_subscriptions.list(push_ref(push.c.settings.secret, push.made["id"])) == []


def test_a_closed_complaint_cannot_be_followed(push):
    _close(push)
    response = push.subscribe(Device(FCM + "late-" + "p" * 40))
    assert response.status_code == 409
    assert json.loads(response.body)["error"]["code"] == "complaint_closed"
    ru = push.client.http.post(f"/complaints/{push.made['id']}/push-subscriptions",
                               headers={**push.token, "Accept-Language": "ru"},
                               body=json.dumps({"subscription": Device(FCM + "late2-" + "p" * 40).subscription()}))
    assert "закрыта" in json.loads(ru.body)["error"]["message"]


def test_no_log_line_carries_an_endpoint_or_a_key(push, caplog):
    import logging

    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="qalqan")
    device = Device(FCM + "logged-" + "q" * 40)
    push.subscribe(device)
    push.take_in_review()
    push.client.http.delete(f"/complaints/{push.made['id']}/push-subscriptions", headers=push.token,
                            body=json.dumps({"subscription": device.subscription()}))
    records = [(r.name, r.getMessage(), {k: v for k, v in vars(r).items() if k not in ("msg", "args")})
               for r in caplog.records]
    assert any(extra.get("delivered") == 1 for _, _, extra in records)  # the sender's line is there
    dump = repr(records)
    for secret in ("logged-" + "q" * 40, device.p256dh, b64url(device.auth), push.made["tracking_token"]):
        assert secret not in dump
