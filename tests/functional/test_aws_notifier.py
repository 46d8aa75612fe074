"""AwsNotifier (chalicelib/adapters/messaging.py): SNS topic, SMS and SES on moto, webhooks on local servers.

- Topic: an SQS queue subscribed with a filter policy on `agency` receives its agency's messages only,
  with the attributes as String values.
- SMS: published to the number with the sender id and the Transactional type.
- SES: sent from the verified sender; an unverified or missing sender is a permanent failure.
- AWS failures: throttling and 5xx are transient (after botocore's few retries), a 4xx is permanent.
- Webhooks: a real loopback address is refused by design, so the delivery tests inject the two collaborators
  the notifier takes (`resolve`: the name answers with a public address; `connect`: the socket for that
  checked address is opened to a local plain-HTTP server). The address rules themselves stay in force,
  which the rebinding test proves. The production connection is tested separately against a local TLS
  server: it connects to the pinned address, with SNI, Host and certificate checks on the host name.
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.messaging import AwsNotifier, pinned_https
from chalicelib.services.ports import DeliveryFailed, Message
from chalicelib.services.webhooks import WebhookTarget, verify
from chalicelib.settings import load_settings

REGION = "eu-central-1"
ACCOUNT = "123456789012"
SENDER = "no-reply@qalqan.kz"
PUBLIC = "93.184.216.34"
HOOK = "https://hooks.kzpp.gov.kz/qalqan"
SECRET = "whsec-test-secret-000000000000000000000000"
NOW = 1764489600


def settings(**env):
    base = {"QALQAN_SECRET": "x" * 32, "AWS_REGION": REGION, "SMS_SENDER_ID": "Qalqan"}
    return load_settings({**base, **env})


def message(**overrides) -> Message:
    fields = dict(channel="sns", audience="agency", to="", complaint_id="7K3M9QX2ABCD", template="agency.complaint.routed",
                  language="", body=json.dumps({"event": "complaint.routed", "complaint_id": "7K3M9QX2ABCD"}),
                  attributes={"audience": "agency", "agency": "kzpp", "region": "71", "category": "overcharge",
                              "event": "complaint.routed"},
                  idempotency_key="7K3M9QX2ABCD#1#ComplaintRouted")
    fields.update(overrides)
    return Message(**fields)


# ------------------------------------------------------------------------------------------------- AWS
@pytest.fixture
def aws_only():
    with mock_aws():
        yield


def subscribed_queue(sns, sqs, topic_arn, name, policy):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                  Attributes={"FilterPolicy": json.dumps(policy), "RawMessageDelivery": "false"})
    return url


def drain(sqs, url):
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def test_topic_messages_reach_only_the_subscriptions_whose_filter_matches(aws_only):
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="qalqan-test-notifications")["TopicArn"]
    kzpp = subscribed_queue(sns, sqs, topic, "kzpp", {"audience": ["agency"], "agency": ["kzpp"]})
    ktrm_astana = subscribed_queue(sns, sqs, topic, "ktrm-astana", {"agency": ["ktrm"], "region": ["71"]})
    businesses = subscribed_queue(sns, sqs, topic, "taza", {"audience": ["business"], "business": ["940140000385"]})
    notifier = AwsNotifier(settings(NOTIFICATIONS_TOPIC_ARN=topic))

    notifier.send(message(to=topic))
    notifier.send(message(to=topic, attributes={"audience": "agency", "agency": "ktrm", "region": "75",
                                                "category": "short_weight", "event": "complaint.routed"}))
    notifier.send(message(to=topic, attributes={"audience": "agency", "agency": "ktrm", "region": "71",
                                                "category": "", "event": "complaint.rerouted"}))

    to_kzpp = drain(sqs, kzpp)
    assert len(to_kzpp) == 1
    attributes = to_kzpp[0]["MessageAttributes"]
    assert {k: (v["Type"], v["Value"]) for k, v in attributes.items()} == {
        "audience": ("String", "agency"), "agency": ("String", "kzpp"), "region": ("String", "71"),
        "category": ("String", "overcharge"), "event": ("String", "complaint.routed"),
        "delivery": ("String", "7K3M9QX2ABCD#1#ComplaintRouted"),
    }
    assert json.loads(to_kzpp[0]["Message"])["complaint_id"] == "7K3M9QX2ABCD"
    to_ktrm = drain(sqs, ktrm_astana)
    assert [m["MessageAttributes"]["event"]["Value"] for m in to_ktrm] == ["complaint.rerouted"]
    assert "category" not in to_ktrm[0]["MessageAttributes"]  # an empty value is left out, not sent blank
    assert drain(sqs, businesses) == []


def test_a_missing_topic_is_a_permanent_failure(aws_only):
    notifier = AwsNotifier(settings())
    with pytest.raises(DeliveryFailed) as failed:
        notifier.send(message(to=f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"))
    assert failed.value.transient is False


def test_an_sms_goes_to_the_number_as_transactional_from_the_sender_id(aws_only):
    from moto.sns.models import sns_backends

    calls = []
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("provide-client-params.sns.Publish",
                                          lambda params, **kw: calls.append(params))
    notifier = AwsNotifier(settings(SMS_SENDER_ID="QalqanKZ"))
    notifier.send(message(channel="sms", audience="consumer", to="+77011234567", template="consumer.submitted",
                          language="ru", body="Qalqan: Жалоба 7K3M9QX2ABCD принята. https://q.kz/t", attributes={}))
    backend = sns_backends[ACCOUNT][REGION]
    assert list(backend.sms_messages.values()) == [("+77011234567", "Qalqan: Жалоба 7K3M9QX2ABCD принята. https://q.kz/t")]
    assert calls[0]["MessageAttributes"] == {
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "QalqanKZ"},
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
    }


def test_an_email_goes_from_the_verified_sender(aws_only):
    from moto.ses.models import ses_backends

    ses = boto3.client("ses", region_name=REGION)
    ses.verify_email_identity(EmailAddress=SENDER)
    notifier = AwsNotifier(settings(EMAIL_SENDER=SENDER))
    notifier.send(message(channel="email", audience="consumer", to="aigerim@mail.kz", template="consumer.resolved",
                          language="kk", subject="Qalqan: шешім", body="Сәлеметсіз бе!\n\nОрган шешім қабылдады."))
    sent = ses_backends[ACCOUNT][REGION].sent_messages
    assert len(sent) == 1
    assert (sent[0].source, sent[0].destinations["ToAddresses"]) == (SENDER, ["aigerim@mail.kz"])
    assert sent[0].subject == "Qalqan: шешім" and "Орган шешім қабылдады." in sent[0].body
    assert ses.get_send_quota()["SentLast24Hours"] == 1


def test_email_from_an_unverified_or_missing_sender_is_a_permanent_failure(aws_only):
    email = message(channel="email", audience="consumer", to="aigerim@mail.kz", subject="s", body="b")
    with pytest.raises(DeliveryFailed) as unverified:
        AwsNotifier(settings(EMAIL_SENDER="nobody@qalqan.kz")).send(email)
    assert unverified.value.transient is False
    with pytest.raises(DeliveryFailed) as unset:
        AwsNotifier(settings()).send(email)
    assert unset.value.transient is False and "EMAIL_SENDER" in str(unset.value)


def _fail_with(status: int, code: str, counter: list):
    """A before-send hook: AWS answers `status` with error `code` (a throttle, an outage, a bad request)."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        def __init__(self, body):
            self.body = body

        def stream(self, **kwargs):
            yield self.body

    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>"
            f"<RequestId>r-1</RequestId></ErrorResponse>").encode()

    def hook(request, **kwargs):
        counter.append(request.url)
        return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, Raw(body))

    return hook


@pytest.mark.parametrize("status, code, transient", [
    (400, "Throttling", True), (429, "TooManyRequestsException", True), (500, "InternalError", True),
    (503, "ServiceUnavailable", True), (400, "InvalidParameter", False), (403, "AuthorizationError", False),
])
def test_aws_errors_are_classified_for_the_processor(aws_only, status, code, transient):
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="t")["TopicArn"]
    attempts: list = []
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-send.sns.Publish", _fail_with(status, code, attempts))
    notifier = AwsNotifier(settings())
    with pytest.raises(DeliveryFailed) as failed:
        notifier.send(message(to=topic))
    assert failed.value.transient is transient
    # botocore retries what is retryable once, then the processor takes over with its own backoff
    assert len(attempts) == (2 if transient else 1)
    assert code in str(failed.value) and "7K3M9QX2ABCD" not in str(failed.value)


def test_boto3_is_not_imported_before_the_first_send():
    import subprocess
    import sys

    code = ("import sys; from chalicelib.adapters.messaging import AwsNotifier; "
            "from chalicelib.settings import load_settings; "
            "AwsNotifier(load_settings({'QALQAN_SECRET': 'x'*32, 'AWS_REGION': 'eu-central-1'})); "
            "print('boto3' in sys.modules, 'botocore' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------------------------------------- webhooks
class Receiver:
    """A local plain-HTTP webhook receiver that records requests and answers `status` (after `delay`)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 204
        self.delay = 0.0
        self.location = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": self.rfile.read(length)})
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class LocalConnector:
    """The notifier's `connect` collaborator for tests: records the checked address it was given and opens
    the socket to the local receiver instead (the Host header still names the webhook's host)."""

    def __init__(self, port: int):
        self.port = port
        self.calls: list[tuple[str, str]] = []

    def __call__(self, target: WebhookTarget, address: str, timeout: float) -> http.client.HTTPConnection:
        self.calls.append((target.host, address))
        port = self.port

        class ToReceiver(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.create_connection(("127.0.0.1", port), self.timeout)

        return ToReceiver(target.host, target.port, timeout=timeout)


class Dns:
    def __init__(self, *answers):
        self.answers = list(answers)  # one answer per lookup; the last one repeats
        self.lookups = 0

    def __call__(self, host, port, *args, **kwargs):
        answer = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]


def hook_message(**overrides):
    return message(**{"channel": "webhook", "to": HOOK, "signing_secret": SECRET,
                      "attributes": {"event": "complaint.routed"}, **overrides})


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def notifier_for(receiver, dns=None, **kwargs):
    connector = LocalConnector(receiver.port)
    notifier = AwsNotifier(settings(), resolve=dns or Dns([PUBLIC]), connect=connector, clock=lambda: NOW, **kwargs)
    return notifier, connector


def test_a_webhook_is_posted_signed_to_the_checked_address(receiver):
    notifier, connector = notifier_for(receiver)
    sent = hook_message()
    notifier.send(sent)
    assert connector.calls == [("hooks.kzpp.gov.kz", PUBLIC)]
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["path"] == "/qalqan" and request["body"] == sent.body.encode()
    assert headers["host"].split(":")[0] == "hooks.kzpp.gov.kz"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["x-qalqan-event"] == "complaint.routed"
    assert headers["x-qalqan-delivery"] == "7K3M9QX2ABCD#1#ComplaintRouted"
    assert headers["x-qalqan-signature"].startswith(f"t={NOW},v1=")
    assert verify(SECRET, request["body"], headers["x-qalqan-signature"], now=NOW)
    assert not verify("another-secret", request["body"], headers["x-qalqan-signature"], now=NOW)


def test_a_name_that_now_resolves_inward_is_refused_at_delivery(receiver):
    # registered while it pointed at a public address; today the same name points into the VPC (rebinding)
    for inward in (["10.0.0.5"], ["169.254.169.254"], [PUBLIC, "127.0.0.1"]):
        notifier, connector = notifier_for(receiver, dns=Dns(inward))
        with pytest.raises(DeliveryFailed) as refused:
            notifier.send(hook_message())
        assert refused.value.transient is False
        assert connector.calls == []
    assert receiver.requests == []


def test_the_name_is_resolved_once_per_delivery_and_that_answer_is_used(receiver):
    # a rebinding resolver: public on the check, private on any second lookup; only one lookup happens
    dns = Dns([PUBLIC], ["10.0.0.5"])
    notifier, connector = notifier_for(receiver, dns=dns)
    notifier.send(hook_message())
    assert dns.lookups == 1 and connector.calls == [("hooks.kzpp.gov.kz", PUBLIC)]


def test_a_redirect_is_never_followed(receiver):
    receiver.status, receiver.location = 302, "https://169.254.169.254/latest/meta-data/"
    notifier, connector = notifier_for(receiver)
    with pytest.raises(DeliveryFailed) as failed:
        notifier.send(hook_message())
    assert failed.value.transient is False and "redirect" in str(failed.value)
    assert len(receiver.requests) == 1 and len(connector.calls) == 1


@pytest.mark.parametrize("status, transient", [(500, True), (502, True), (503, True), (429, True), (408, True),
                                               (400, False), (401, False), (404, False), (410, False)])
def test_answers_are_classified(receiver, status, transient):
    receiver.status = status
    notifier, _ = notifier_for(receiver)
    with pytest.raises(DeliveryFailed) as failed:
        notifier.send(hook_message())
    assert failed.value.transient is transient and str(status) in str(failed.value)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_delivered(receiver, status):
    receiver.status = status
    notifier, _ = notifier_for(receiver)
    notifier.send(hook_message())
    assert len(receiver.requests) == 1


def test_a_slow_receiver_is_a_transient_timeout(receiver):
    receiver.delay = 1.0
    notifier, _ = notifier_for(receiver, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as failed:
        notifier.send(hook_message())
    assert failed.value.transient is True and time.monotonic() - started < 0.9


def test_the_next_checked_address_is_tried_when_one_refuses_connections(receiver):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()

    class FirstDead(LocalConnector):
        def __call__(self, target, address, timeout):
            connection = super().__call__(target, address, timeout)
            if address == PUBLIC:
                connection.connect = lambda: (_ for _ in ()).throw(ConnectionRefusedError(111, "refused"))
            return connection

    connector = FirstDead(receiver.port)
    notifier = AwsNotifier(settings(), resolve=Dns([PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]),
                           connect=connector, clock=lambda: NOW)
    notifier.send(hook_message())
    assert [a for _, a in connector.calls] == [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]
    assert len(receiver.requests) == 1
    # and when every address refuses, the failure is transient
    everything_dead = AwsNotifier(settings(), resolve=Dns([PUBLIC]), connect=LocalConnector(dead_port),
                                  clock=lambda: NOW)
    with pytest.raises(DeliveryFailed) as failed:
        everything_dead.send(hook_message())
    assert failed.value.transient is True


def test_a_webhook_without_a_secret_or_with_a_bad_url_is_permanent(receiver):
    notifier, connector = notifier_for(receiver)
    for bad in (hook_message(signing_secret=""), hook_message(to="http://hooks.kzpp.gov.kz/q"),
                hook_message(to="https://10.0.0.1/q")):
        with pytest.raises(DeliveryFailed) as failed:
            notifier.send(bad)
        assert failed.value.transient is False
    assert connector.calls == [] and receiver.requests == []


def test_an_unresolvable_name_is_transient():
    def nxdomain(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    notifier = AwsNotifier(settings(), resolve=nxdomain, connect=LocalConnector(1), clock=lambda: NOW)
    with pytest.raises(DeliveryFailed) as failed:
        notifier.send(hook_message())
    assert failed.value.transient is True


def test_an_unknown_channel_is_permanent():
    with pytest.raises(DeliveryFailed) as failed:
        AwsNotifier(settings()).send(message(channel="fax"))
    assert failed.value.transient is False


def _logged(caplog) -> list:
    return [r for r in caplog.records if r.name == "qalqan.messaging"]


def test_logs_name_the_masked_recipient_never_the_body_or_the_secret(receiver, caplog):
    notifier, _ = notifier_for(receiver)
    sent = hook_message()
    with caplog.at_level("INFO", logger="qalqan.messaging"):
        notifier.send(sent)
        receiver.status = 500
        with pytest.raises(DeliveryFailed):
            notifier.send(sent)
    records = _logged(caplog)
    assert [r.getMessage() for r in records] == ["notification sent", "notification failed"]
    assert records[0].to == "hooks.kzpp.gov.kz" and records[1].transient is True
    for record in records:
        for value in record.__dict__.values():
            assert sent.body not in str(value) and SECRET not in str(value) and HOOK not in str(value)


def test_an_sms_log_shows_a_masked_number(aws_only, caplog):
    with caplog.at_level("INFO", logger="qalqan.messaging"):
        AwsNotifier(settings()).send(message(channel="sms", audience="consumer", to="+77011234567",
                                             body="Qalqan: Жалоба принята", attributes={}))
    (record,) = _logged(caplog)
    assert record.to == "+7 7** *** ** 67"
    assert not any("+77011234567" in str(v) or "Жалоба" in str(v) for v in record.__dict__.values())


# ------------------------------------------------------------------------------- the production connection
def _certificate(host: str, tmp_path):
    """A self-signed certificate for `host` (key and cert files) to stand in for the receiver's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{host}.crt", tmp_path / f"{host}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path):
    """A local HTTPS server with a certificate for hooks.kzpp.gov.kz; records the SNI and the Host header."""
    cert_file, key_file = _certificate("hooks.kzpp.gov.kz", tmp_path)
    seen: dict = {"sni": [], "host": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["host"].append(self.headers.get("Host"))
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert_file, seen, tmp_path
    finally:
        server.shutdown()
        server.server_close()


def _trusting(cert_file, monkeypatch):
    """Make the default context trust the test certificate (as a real CA-signed one would be)."""
    original = ssl.create_default_context

    def create_default_context(*args, **kwargs):
        context = original(*args, **kwargs)
        context.load_verify_locations(cert_file)
        return context

    monkeypatch.setattr(ssl, "create_default_context", create_default_context)


def test_the_pinned_connection_speaks_tls_to_the_address_with_the_host_name(tls_receiver, monkeypatch):
    port, cert_file, seen, _ = tls_receiver
    _trusting(cert_file, monkeypatch)
    target = WebhookTarget(url=f"https://hooks.kzpp.gov.kz:{port}/q", host="hooks.kzpp.gov.kz", port=port,
                           path="/q", addresses=("127.0.0.1",))
    connection = pinned_https(target, "127.0.0.1", 5.0)
    try:
        connection.request("POST", "/q", body=b"{}", headers={"Content-Type": "application/json"})
        assert connection.getresponse().status == 204
    finally:
        connection.close()
    assert seen["sni"] == ["hooks.kzpp.gov.kz"]
    assert seen["host"][0].split(":")[0] == "hooks.kzpp.gov.kz"


def test_a_certificate_for_another_name_is_a_permanent_failure(tls_receiver, monkeypatch):
    # The webhook is other.kzpp.gov.kz; the server at its checked address presents a trusted certificate,
    # but for hooks.kzpp.gov.kz. Connecting to a pinned address must not loosen the name check.
    port, cert_file, seen, _ = tls_receiver
    _trusting(cert_file, monkeypatch)

    def pinned_to_receiver(target, address, timeout):
        local = WebhookTarget(target.url, target.host, port, target.path, target.addresses)
        return pinned_https(local, "127.0.0.1", timeout)

    notifier = AwsNotifier(settings(), resolve=Dns([PUBLIC]), connect=pinned_to_receiver, clock=lambda: NOW)
    with pytest.raises(DeliveryFailed) as failed:
        notifier.send(hook_message(to="https://other.kzpp.gov.kz/q"))
    assert failed.value.transient is False and "certificate" in str(failed.value)
    assert seen["sni"] == ["other.kzpp.gov.kz"] and seen["host"] == []  # refused before any request was sent
