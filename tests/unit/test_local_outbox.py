"""The local stack's reaction plumbing on its own, without moto: the recording notifier and its outbox, the
/_local/ routes of the local server, and the stream pump's Lambda-like delivery (retry a failed batch, read
nothing newer meanwhile, redeliver on demand)."""
from __future__ import annotations

import http.client
import json
import threading
from datetime import datetime, timezone

import pytest

from chalicelib.services.ports import DeliveryFailed, Message
from local.outbox import FIELDS, Outbox, RecordingNotifier, install
from local.server import LocalApi, build_server
from local.streams import PumpFailed, StreamPump

AT = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def message(channel="sms", to="+77011234567", complaint_id="C1", audience="consumer", **more) -> Message:
    return Message(channel=channel, audience=audience, to=to, complaint_id=complaint_id,
                   template=more.pop("template", "consumer.submitted"), language=more.pop("language", "kk"),
                   body="Сіздің шағымыңыз тіркелді: https://qalqan.kz/track.html#id=C1&token=secret-token", **more)


class Inner:
    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.sent: list[Message] = []
        self.failures = list(failures or [])

    def send(self, msg: Message) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(msg)


def test_a_sent_message_is_recorded_with_a_masked_recipient_and_no_body():
    inner = Inner()
    notifier = RecordingNotifier(inner, clock=lambda: AT)
    notifier.send(message())
    assert inner.sent == [message()]  # delivered through the real notifier first
    [line] = notifier.outbox.items()
    assert line == {"at": "2026-03-02T09:30:00.000+00:00", "channel": "sms", "audience": "consumer",
                    "to": "+7 7** *** ** 67", "complaint_id": "C1", "template": "consumer.submitted",
                    "language": "kk"}
    assert tuple(line) == FIELDS
    assert "secret-token" not in json.dumps(line) and "1234567" not in json.dumps(line)


@pytest.mark.parametrize("channel, to, shown", [
    ("email", "erlan.b@mail.kz", "e***@mail.kz"),
    ("sns", "arn:aws:sns:eu-central-1:123456789012:qalqan-local-notifications", "qalqan-local-notifications"),
])
def test_every_channel_shows_only_what_masked_allows(channel, to, shown):
    notifier = RecordingNotifier(Inner())
    notifier.send(message(channel=channel, to=to))
    assert notifier.outbox.items()[0]["to"] == shown


def test_a_webhook_is_recorded_but_never_delivered():
    inner = Inner()
    notifier = RecordingNotifier(inner)
    notifier.send(message(channel="webhook", audience="agency", to="https://hooks.agency.gov.kz/qalqan?k=1",
                          template="agency.complaint.routed", signing_secret="s" * 32))
    assert inner.sent == []
    assert [(i["channel"], i["audience"], i["to"]) for i in notifier.outbox.items()] == [
        ("webhook", "agency", "hooks.agency.gov.kz")]


def test_a_failed_send_records_nothing_and_its_retry_appears_once():
    inner = Inner([DeliveryFailed("sns publish: Throttling", transient=True)])
    notifier = RecordingNotifier(inner)
    with pytest.raises(DeliveryFailed):
        notifier.send(message())
    assert notifier.outbox.items() == []
    notifier.send(message())  # what the stream processor does with a transient failure
    assert len(notifier.outbox.items()) == 1


def test_items_are_newest_last_and_filter_by_complaint():
    notifier = RecordingNotifier(Inner())
    for cid, template in [("A", "consumer.submitted"), ("B", "consumer.submitted"), ("A", "consumer.responded")]:
        notifier.send(message(complaint_id=cid, template=template))
    assert [(i["complaint_id"], i["template"]) for i in notifier.outbox.items()] == [
        ("A", "consumer.submitted"), ("B", "consumer.submitted"), ("A", "consumer.responded")]
    assert [i["template"] for i in notifier.outbox.items("A")] == ["consumer.submitted", "consumer.responded"]
    assert notifier.outbox.items("nobody") == []


def test_the_outbox_returns_copies_and_keeps_only_the_newest_lines():
    outbox = Outbox(capacity=3)
    for n in range(5):
        outbox.append({"complaint_id": str(n)})
    items = outbox.items()
    assert [i["complaint_id"] for i in items] == ["2", "3", "4"]
    items[0]["complaint_id"] = "changed"
    assert outbox.items()[0]["complaint_id"] == "2"


def test_concurrent_senders_lose_no_line():
    notifier = RecordingNotifier(Inner())
    start = threading.Barrier(8)

    def send_many(worker: int) -> None:
        start.wait()
        for n in range(250):
            notifier.send(message(complaint_id=f"{worker}-{n}"))

    threads = [threading.Thread(target=send_many, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i["complaint_id"] for i in notifier.outbox.items()]
    assert len(ids) == len(set(ids)) == 2000


def test_install_wraps_the_containers_notifier_once():
    class C:
        notifier = Inner()

    c = C()
    original = c.notifier
    recorder = install(c)
    assert c.notifier is recorder and recorder.inner is original
    assert install(c) is recorder and recorder.inner is original  # not wrapped twice: each line once
    c.notifier.send(message())
    assert original.sent == [message()] and len(recorder.outbox) == 1


# --- the /_local/ routes -------------------------------------------------------------------------------------
class FakePump:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[str] = []

    def status(self):
        return {"records": 3, "pending": 0}

    def sync(self):
        self.calls.append("sync")
        if self.fail:
            raise PumpFailed("RecordsNotParked")
        return 2

    def redeliver(self):
        self.calls.append("redeliver")
        return {"records": 3, "reactions": 0, "skipped": 9, "parked": 0}


@pytest.fixture
def local_server():
    servers = []

    def start(local_api):
        server = build_server(0, access_log=None, local_api=local_api)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def call(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, resp.headers, raw
    finally:
        conn.close()


def test_outbox_route_lists_and_filters(local_server):
    notifier = RecordingNotifier(Inner())
    notifier.send(message(complaint_id="A"))
    notifier.send(message(complaint_id="B", channel="email", to="a.b@mail.kz"))
    port = local_server(LocalApi(outbox=notifier.outbox))
    status, headers, raw = call(port, "GET", "/_local/outbox")
    assert status == 200 and headers["Content-Type"] == "application/json" and headers["Cache-Control"] == "no-store"
    assert [i["complaint_id"] for i in json.loads(raw)["items"]] == ["A", "B"]
    status, _, raw = call(port, "GET", "/_local/outbox?complaint_id=B")
    assert json.loads(raw)["items"] == notifier.outbox.items("B")


def test_stream_routes_call_the_pump_and_report_a_failed_batch(local_server):
    pump = FakePump()
    port = local_server(LocalApi(outbox=Outbox(), pump=pump))
    assert json.loads(call(port, "POST", "/_local/streams/sync")[2]) == {"records": 2}
    assert json.loads(call(port, "POST", "/_local/streams/redeliver", b"{}")[2])["skipped"] == 9
    assert json.loads(call(port, "GET", "/_local/streams")[2]) == {"records": 3, "pending": 0}
    assert pump.calls == ["sync", "redeliver"]
    pump.fail = True
    status, headers, raw = call(port, "POST", "/_local/streams/sync")
    assert status == 503 and headers["Retry-After"] == "1"
    assert json.loads(raw)["error"]["code"] == "stream_batch_failed"


def test_wrong_method_and_unknown_local_paths(local_server):
    port = local_server(LocalApi(outbox=Outbox(), pump=FakePump()))
    status, headers, raw = call(port, "POST", "/_local/outbox")
    assert status == 405 and headers["Allow"] == "GET" and json.loads(raw)["error"]["code"] == "method_not_allowed"
    assert call(port, "GET", "/_local/streams/redeliver")[0] == 405  # a GET must never replay anything
    assert call(port, "GET", "/_local/secrets")[0] == 404


def test_without_the_local_api_the_paths_are_the_apps_and_the_app_has_none(local_server):
    from app import app

    assert not [path for path in app.routes if path.startswith("/_local")]  # nothing to deploy
    port = local_server(None)
    status, _, raw = call(port, "GET", "/_local/outbox")
    assert status in (403, 404) and b"items" not in raw


# --- the stream pump -----------------------------------------------------------------------------------------
class Reader:
    """Hands out the records appended to `stream`, in order, like StreamReader.read."""

    def __init__(self) -> None:
        self.stream: list[dict] = []
        self.position = 0

    def read(self, limit: int = 1000) -> list[dict]:
        out = self.stream[self.position:self.position + limit]
        self.position += len(out)
        return out


class Handler:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.fail = 0
        self.contexts = []

    def __call__(self, event, context):
        self.contexts.append(context)
        if self.fail:
            self.fail -= 1
            raise RuntimeError("could not park")
        ids = [r["id"] for r in event["Records"]]
        self.batches.append(ids)
        return {"records": len(ids), "reactions": 2 * len(ids), "skipped": 0, "parked": 0}


def records(*ids):
    return [{"id": i} for i in ids]


def test_the_pump_delivers_in_batches_with_a_lambda_context():
    reader, handler = Reader(), Handler()
    reader.stream += records(*"abcde")
    pump = StreamPump(reader, handler, batch_size=2, report=lambda line: None)
    assert pump.sync() == 5
    assert handler.batches == [["a", "b"], ["c", "d"], ["e"]]
    assert handler.contexts[0].function_name == "reactions" and handler.contexts[0].get_remaining_time_in_millis() > 0
    assert pump.sync() == 0
    assert pump.status() | {"last_error": None} == {
        "records": 5, "batches": 3, "failed_batches": 0, "reactions": 10, "skipped": 0, "parked": 0,
        "redelivered": 0, "last_error": None, "pending": 0, "seen": 5}


def test_a_failed_batch_is_retried_before_anything_newer():
    reader, handler = Reader(), Handler()
    reader.stream += records("a", "b")
    pump = StreamPump(reader, handler, batch_size=10, report=lambda line: None)
    handler.fail = 1
    with pytest.raises(PumpFailed):
        pump.sync()
    reader.stream += records("c")  # written while the batch waits for its retry
    assert pump.status()["pending"] == 2 and pump.status()["last_error"] == "RuntimeError"
    assert pump.sync() == 3
    assert handler.batches == [["a", "b"], ["c"]]  # the same batch again, then the newer record


def test_redeliver_catches_up_then_replays_everything_seen():
    reader, handler = Reader(), Handler()
    reader.stream += records("a", "b", "c")
    pump = StreamPump(reader, handler, batch_size=2, report=lambda line: None)
    pump.sync()
    reader.stream += records("d")
    result = pump.redeliver()
    assert handler.batches == [["a", "b"], ["c"], ["d"], ["a", "b"], ["c", "d"]]
    assert result == {"records": 4, "reactions": 8, "skipped": 0, "parked": 0}
    assert pump.status()["redelivered"] == 4


def test_the_running_pump_retries_with_growing_pauses_and_stops_on_request():
    reader, handler = Reader(), Handler()
    reader.stream += records("a")
    handler.fail = 2
    lines: list[str] = []
    delivered = threading.Event()

    def report(line: str) -> None:
        lines.append(line)
        if "went through" in line:
            delivered.set()

    pump = StreamPump(reader, handler, interval=0.01, retry_delays=(0.01, 0.02), report=report)
    stop = threading.Event()
    thread = threading.Thread(target=pump.run, args=(stop,))
    thread.start()
    try:
        assert delivered.wait(5)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert handler.batches == [["a"]]
    assert lines == ["stream pump: the reactions handler raised RuntimeError; retrying the batch in 0.01s",
                     "stream pump: the reactions handler raised RuntimeError; retrying the batch in 0.02s",
                     "stream pump: the batch went through after 2 failed attempt(s)"]
