"""The local stack's HTTP server (local/server.py) on its own: a real socket on 127.0.0.1, the current app,
no moto (only routes that touch no table). Security headers, one-write responses, the listen backlog, and
an access log that never records a query string, a key or a body."""
from __future__ import annotations

import gzip
import http.client
import re
import socket
import statistics
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from local.server import PAGE_CSP, RESOLVER_CSP, RESOURCE_CSP, AccessLog, build_server, loggable_path

WEB = Path(__file__).resolve().parents[2] / "web"
SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
            "cross-origin-opener-policy": "same-origin"}
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (?P<method>\S+) (?P<path>\S+) (?P<status>\d{3}) (?P<bytes>\d+) B "
                      r"(?P<ms>\d+\.\d) ms$")


class Lines:
    """A stream that keeps what the access log writes."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass

    def lines(self) -> list[str]:
        return self.text.splitlines()


@pytest.fixture
def served():
    log = Lines()
    server = build_server(0, access_log=log)
    # a short poll interval: shutdown() waits for it, and 0.5 s per test adds up
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.log = log
    server.port = server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


def logged(server, count: int) -> list[str]:
    """The access log once `count` requests have been logged (a line is recorded just after its response
    left, so a client can be faster than the log)."""
    deadline = time.monotonic() + 5
    while len(server.log.lines()) < count and time.monotonic() < deadline:
        server.access_log.drain(1)
        time.sleep(0.01)
    time.sleep(0.05)  # room for a spurious extra line to show up
    assert server.access_log.drain(5)
    return server.log.lines()


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send bytes exactly as given (no client library to tidy them up) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def get(port: int, path: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path, status, csp", [
    ("/", 200, PAGE_CSP),
    ("/track.html", 200, PAGE_CSP),
    ("/app.css", 200, RESOURCE_CSP),
    ("/health", 200, RESOURCE_CSP),
    ("/q/", 200, RESOLVER_CSP),  # the resolver's "type the code" page
    ("/no-such-route", (403, 404), RESOURCE_CSP),  # API Gateway's own answer for an unknown path
], ids=["form", "tracking", "stylesheet", "api", "resolver", "unknown-route"])
def test_every_response_carries_the_security_headers_once(served, path, status, csp):
    resp, _ = get(served.port, path)
    assert resp.status in (status if isinstance(status, tuple) else (status,))
    assert resp.headers.get_all("Content-Security-Policy") == [csp]
    for name, value in SECURITY.items():
        assert resp.headers.get_all(name) == [value], name


def test_http_servers_own_error_pages_carry_them_too(served):
    # WHEN the method is one no route knows, http.server answers before any route runs
    raw = raw_exchange(served.port, b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 501")
    assert "content-security-policy: default-src 'none'" in head
    assert "x-content-type-options: nosniff" in head and "cross-origin-opener-policy: same-origin" in head


def test_page_policy_forbids_foreign_and_inline_code_and_framing():
    directives = dict(d.strip().split(" ", 1) for d in PAGE_CSP.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in PAGE_CSP and "unsafe" not in RESOURCE_CSP
    assert "script-src" not in RESOLVER_CSP  # falls back to default-src 'none': the help page runs no script


class _InlineFinder(HTMLParser):
    """What PAGE_CSP would block in a page: inline scripts and styles, handlers, foreign resources."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                self.blocked.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.blocked.append("<style>")
        if tag == "script":
            self._in_script = "src" not in attrs
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            if re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", value, re.I) and not (
                    value.startswith("data:") and tag == "link") and tag != "a":
                self.blocked.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.blocked.append("inline <script>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


@pytest.mark.parametrize("page", sorted(p.name for p in WEB.glob("*.html")))
def test_pages_load_nothing_the_page_policy_would_block(page):
    finder = _InlineFinder()
    finder.feed((WEB / page).read_text(encoding="utf-8"))
    assert finder.blocked == []


def test_headers_and_body_leave_without_a_nagle_delay(served):
    # A keep-alive client used to wait ~40 ms per response: the body went in a second small write and
    # Nagle's algorithm held it until the client's delayed ACK. Linux's minimum delayed ACK is 40 ms.
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    timings = []
    for _ in range(25):
        started = time.perf_counter()
        conn.request("GET", "/app.css")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read()
        timings.append((time.perf_counter() - started) * 1000)
    conn.close()
    assert statistics.median(timings) < 20, timings


def test_a_burst_of_fifty_connections_is_accepted_without_syn_retries(served):
    # With the old backlog of 5 the kernel dropped most of a simultaneous burst, and clients came back
    # after the 1 s SYN retransmit. All 50 connect at the same instant here, before any is served.
    barrier = threading.Barrier(50)
    results: list[tuple[float, int | str]] = []
    lock = threading.Lock()

    def client():
        barrier.wait()
        started = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
                connected = time.perf_counter() - started
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                reply = b""
                while chunk := s.recv(65536):
                    reply += chunk
            outcome: int | str = int(reply.split(b" ", 2)[1])
        except OSError as exc:
            connected, outcome = time.perf_counter() - started, type(exc).__name__
        with lock:
            results.append((connected, outcome))

    threads = [threading.Thread(target=client) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [outcome for _, outcome in results] == [200] * 50
    assert max(connected for connected, _ in results) < 0.9  # no SYN was dropped and retransmitted
    assert len(logged(served, 50)) == 50


def test_one_access_log_line_per_request_without_query_keys_or_bodies(served):
    secrets = ("TOKENtoken123", "qk_admin_SECRETKEY", "BODYSECRET", "Айгерим")
    get(served.port, "/track.html?token=TOKENtoken123&id=X")
    get(served.port, "/health?limit=2", headers={"Authorization": "Bearer qk_admin_SECRETKEY",
                                                 "X-Tracking-Token": "TOKENtoken123"})
    # (a body sent to a route that takes none: refused before anything would touch a table)
    get(served.port, "/health", method="POST", headers={"Content-Type": "application/json"},
        body='{"text": "BODYSECRET", "contact": {"name": "Айгерим"}}'.encode())
    raw_exchange(served.port, b"GET /q/?code=TOKENtoken123#frag HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    lines = logged(served, 4)
    matches = [LOG_LINE.match(line) for line in lines]
    assert all(matches), lines
    # a line is written once its response has left, so the next request may overtake it: compare as a set
    parsed = {(m["method"], m["path"]): m for m in matches}
    assert len(lines) == 4 and set(parsed) == {
        ("GET", "/track.html"), ("GET", "/health"), ("POST", "/health"), ("GET", "/q/")}
    assert parsed["GET", "/track.html"]["status"] == parsed["GET", "/health"]["status"] == "200"
    assert parsed["POST", "/health"]["status"] == "405"
    assert parsed["GET", "/q/"]["status"] in ("400", "404")  # not a sticker code
    assert int(parsed["GET", "/health"]["bytes"]) > 0
    joined = "\n".join(lines)
    for secret in secrets:
        assert secret not in joined
    assert "?" not in joined and "#" not in joined and "Bearer" not in joined


def test_logged_sizes_are_bytes_on_the_wire_and_head_sends_none(served):
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.request("HEAD", "/index.html", headers={"Accept-Encoding": "gzip"})
    head = conn.getresponse()
    assert head.read() == b""
    # on the same keep-alive connection: had HEAD sent a body, this response would be unreadable
    conn.request("GET", "/index.html", headers={"Accept-Encoding": "gzip"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 200 and resp.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (WEB / "index.html").read_bytes()
    assert head.headers["Content-Length"] == resp.headers["Content-Length"] == str(len(body))
    sizes = {m["method"]: m["bytes"] for m in (LOG_LINE.match(line) for line in logged(served, 2))}
    assert sizes == {"HEAD": "0", "GET": str(len(body))}


def test_control_characters_in_the_request_line_cannot_forge_log_lines(served):
    raw_exchange(served.port, b"GET /a\x1b[2J\x08\x7f\x00FAKE\xd0\x90 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    (line,) = logged(served, 1)
    assert LOG_LINE.match(line)
    assert not re.search(r"[\x00-\x1f\x7f-\xff]", line)
    assert " /a%1B[2J%08%7F%00FAKE%D0%90 " in line


def test_loggable_path_keeps_the_path_only():
    assert loggable_path("/complaints/7K3M9QX2?token=abc") == "/complaints/7K3M9QX2"
    assert loggable_path("/track.html#id=1&token=abc") == "/track.html"
    assert loggable_path("/a b\n") == "/a%20b%0A"
    assert loggable_path("/" + "x" * 500) == "/" + "x" * 199 + "..."


def test_an_unread_output_never_holds_a_response():
    # GIVEN an output that blocks on every write (a pipe nobody reads) and room for 3 queued lines
    release = threading.Event()

    class Stuck(Lines):
        def write(self, s):
            release.wait(10)
            super().write(s)

    stream = Stuck()
    log = AccessLog(stream, capacity=3)
    # WHEN many more lines are recorded than fit
    started = time.perf_counter()
    for i in range(20):
        log.record(f"line {i}")
    # THEN recording never waited, the overflow was counted, and it is reported once output flows again
    assert time.perf_counter() - started < 0.5
    release.set()
    assert log.drain(5)
    log.record("line after")
    assert log.drain(5)
    log.close()
    written = stream.lines()
    assert "line 0" in written and written[-1] == "line after"
    dropped = [line for line in written if "access-log lines dropped" in line]
    assert len(dropped) == 1
    kept = [line for line in written if line.startswith("line ") and line != "line after"]
    assert int(re.search(r"\((\d+) ", dropped[0]).group(1)) + len(kept) == 20
