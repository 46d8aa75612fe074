"""One HTTP server for the local stack: static web/, the QR resolver at /q/, and the Chalice app.

Besides routing, it stands in for what CloudFront and API Gateway do in front of the real thing:
gzip, the security headers of a response-headers policy, and an access log. It is built for a
browser and a few dozen concurrent test clients on 127.0.0.1, not for the internet.

`/_local/` is the local stack's own window into what AWS would do out of sight (`LocalApi`): the outbox
of sent notifications and the stream pump. It exists only here, never in app.py, so it cannot be deployed.
"""
from __future__ import annotations

import functools
import gzip
import json
import mimetypes
import queue
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml", "application/manifest+json")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json",
          ".webmanifest": "application/manifest+json", ".png": "image/png"}

# The pages load only their own scripts and stylesheets and call the API on the same origin; the
# favicon is an empty data: URL (so browsers don't request /favicon.ico). Nothing may frame them.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The consumer app's service worker (web/sw.js) takes its policy from its own response: it fetches the pages,
# their files and the catalogue to keep them for offline use, and names its notifications' icon; nothing else.
WORKER_CSP = "default-src 'none'; connect-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
WORKER_PATHS = {"sw.js"}
# The resolver's help page is one self-contained document: an inline stylesheet, no script at all.
RESOLVER_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                "form-action 'self'; frame-ancestors 'none'")
# JSON, images, PDFs: if one is ever opened as a document, it may load and run nothing.
RESOURCE_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # tracking links carry a token in the fragment; send no URL anywhere
    "Cross-Origin-Opener-Policy": "same-origin",
}
_LOGGED_PATH_MAX = 200


def function_url_event(method: str, path: str, query: str, headers: dict) -> dict:
    """A Lambda function-URL event (payload v2.0), as AWS would send for QR_BASE_URL/<code>."""
    raw_path = path[len("/q"):] or "/"
    now = time.time()
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": headers.get("User-Agent", "")},
            "requestId": f"local-{now}", "timeEpoch": int(now * 1000), "domainName": "127.0.0.1",
        },
        "isBase64Encoded": False,
    }


def _printable(text: str, limit: int) -> str:
    """Visible ASCII only: a request line is attacker-typed, and a raw ESC or newline would forge log lines."""
    out = []
    for char in text:
        if "!" <= char <= "~":
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8" if ord(char) > 0xFF else "latin-1"))
    safe = "".join(out)
    return safe if len(safe) <= limit else safe[:limit] + "..."


def loggable_path(target: str) -> str:
    """The request target without its query string or fragment: tracking tokens may arrive as ?token=."""
    return _printable(target.split("?", 1)[0].split("#", 1)[0], _LOGGED_PATH_MAX)


def access_log_line(method: str, target: str, status: int, length: int, millis: float) -> str:
    """`HH:MM:SS METHOD /path STATUS BYTES B MS ms`: no query, no header, no body, no client address."""
    return (f"{time.strftime('%H:%M:%S')} {_printable(method or '-', 16)} {loggable_path(target) or '-'} "
            f"{status} {length} B {millis:.1f} ms")


class AccessLog:
    """Writes access-log lines from a thread of its own, so a stdout that nobody reads (a test that
    stopped reading the pipe after `ready`) can never hold a response: once the queue is full, lines
    are counted and dropped, and the count is printed when writing works again."""

    def __init__(self, stream: TextIO, capacity: int = 10_000) -> None:
        self._stream = stream
        self._queue: queue.Queue[str | None] = queue.Queue(capacity)
        self._dropped = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def record(self, line: str) -> None:
        try:
            self._queue.put_nowait(line)
        except queue.Full:
            with self._lock:
                self._dropped += 1

    def _run(self) -> None:
        while True:
            line = self._queue.get()
            try:
                if line is None:
                    return
                with self._lock:
                    dropped, self._dropped = self._dropped, 0
                if dropped:
                    self._stream.write(f"({dropped} access-log lines dropped: the output was not being read)\n")
                self._stream.write(line + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # a closed or broken stdout loses the log, never a response
                pass
            finally:
                self._queue.task_done()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every recorded line is written; False if that took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self, timeout: float = 2.0) -> None:
        self.drain(timeout)
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)


class LocalApi:
    """The `/_local/` routes: the outbox (local/outbox.py) and the stream pump (local/streams.py).

    - GET  /_local/outbox[?complaint_id=]   {"items": [...]}, newest last
    - GET  /_local/streams                  the pump's counts (records, batches, failures, pending)
    - POST /_local/streams/sync             process every record written so far, then answer
    - POST /_local/streams/redeliver        catch up, then hand every record seen so far to the reactions
                                            handler again (a forced at-least-once redelivery)
    Bound to 127.0.0.1 like the rest; the POSTs change nothing a second delivery would not.
    """

    def __init__(self, outbox=None, pump=None) -> None:
        self.outbox = outbox
        self.pump = pump

    def handle(self, method: str, path: str, query: str) -> tuple[int, dict, dict]:
        """(status, extra headers, JSON body)."""
        routes = {
            "/_local/outbox": ("GET", self._outbox),
            "/_local/streams": ("GET", self._streams),
            "/_local/streams/sync": ("POST", self._sync),
            "/_local/streams/redeliver": ("POST", self._redeliver),
        }
        route = routes.get(path.rstrip("/") or path)
        if route is None:
            return 404, {}, _local_error("not_found", "No such local route.")
        allowed, view = route
        if method != allowed and not (allowed == "GET" and method == "HEAD"):
            return 405, {"Allow": allowed}, _local_error("method_not_allowed", f"Use {allowed}.")
        params = {name: values[-1] for name, values in parse_qs(query).items()}
        return view(params)

    def _outbox(self, params: dict) -> tuple[int, dict, dict]:
        if self.outbox is None:
            return 404, {}, _local_error("not_found", "This server has no outbox.")
        return 200, {}, {"items": self.outbox.items(params.get("complaint_id") or None)}

    def _pump(self):
        if self.pump is None:
            return None, (404, {}, _local_error("not_found", "This server has no stream pump."))
        return self.pump, None

    def _streams(self, params: dict) -> tuple[int, dict, dict]:
        pump, missing = self._pump()
        return missing or (200, {}, pump.status())

    def _sync(self, params: dict) -> tuple[int, dict, dict]:
        pump, missing = self._pump()
        if missing:
            return missing
        return self._guarded(lambda: {"records": pump.sync()})

    def _redeliver(self, params: dict) -> tuple[int, dict, dict]:
        pump, missing = self._pump()
        if missing:
            return missing
        return self._guarded(pump.redeliver)

    @staticmethod
    def _guarded(action) -> tuple[int, dict, dict]:
        from local.streams import PumpFailed

        try:
            return 200, {}, action()
        except PumpFailed as failed:  # Lambda would retry the batch; so does the pump: say so and let it
            return 503, {"Retry-After": "1"}, _local_error(
                "stream_batch_failed", f"The reactions handler raised {failed}; the pump retries the batch.")


def _local_error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "fields": None}}


class QalqanHandler(ChaliceRequestHandler):
    """Chalice's local request handler, plus the two things API Gateway doesn't serve: /q/ and web/."""

    server_version = "qalqan-local"
    # Headers and body leave in one write (see end_headers), and without Nagle's algorithm: otherwise a
    # keep-alive client waits ~40 ms per response for a delayed ACK.
    disable_nagle_algorithm = True

    def handle_one_request(self) -> None:
        self._started = time.perf_counter()
        self._status: int | None = None
        self._length = 0
        self._pending_body = b""
        self._content_type = ""
        self._header_names: set[str] = set()
        try:
            super().handle_one_request()
        finally:
            access_log = getattr(self.server, "access_log", None)
            if self._status is not None and access_log is not None:
                length = 0 if self.command == "HEAD" else self._length
                access_log.record(access_log_line(self.command, getattr(self, "path", ""), self._status, length,
                                                  (time.perf_counter() - self._started) * 1000))

    def parse_request(self) -> bool:
        # The clock starts when a request line has arrived, not while a keep-alive connection sat idle.
        self._started = time.perf_counter()
        return super().parse_request()

    def log_request(self, code="-", size="-") -> None:
        """Called by send_response on every path (app, static, resolver, http.server's own errors)."""
        self._status = int(code)

    def log_message(self, format, *args):
        # http.server's own messages quote the whole request line, query string and all.
        pass

    def send_header(self, keyword: str, value: str) -> None:
        name = keyword.lower()
        self._header_names.add(name)
        if name == "content-length":
            self._length = int(value)
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        """Add the security headers the response lacks, then send headers and body as one segment."""
        for name, value in self._security_headers().items():
            if name.lower() not in self._header_names:
                self.send_header(name, value)
        body, self._pending_body = self._pending_body, b""
        if self.request_version != "HTTP/0.9":
            self._headers_buffer.append(b"\r\n" + body)
            self.flush_headers()
        elif body:  # HTTP/0.9 has no headers at all
            self.wfile.write(body)

    def _security_headers(self) -> dict[str, str]:
        path = urlsplit(getattr(self, "path", "") or "").path
        is_html = self._content_type.startswith("text/html")
        if path == "/q" or path.startswith("/q/"):
            csp = RESOLVER_CSP if is_html else RESOURCE_CSP
        else:
            csp = PAGE_CSP if is_html else RESOURCE_CSP
        return {"Content-Security-Policy": csp, **SECURITY_HEADERS}

    def _generic_handle(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/q" or parts.path.startswith("/q/"):
            return self._resolver(parts)
        push_service = getattr(self.server, "push_service", None)
        if push_service is not None and parts.path.startswith("/_local/push/"):
            return self._push(push_service, parts)
        local_api = getattr(self.server, "local_api", None)
        if local_api is not None and (parts.path == "/_local" or parts.path.startswith("/_local/")):
            return self._local(local_api, parts)
        if self.command in ("GET", "HEAD") and self._static(parts.path):
            return None
        return super()._generic_handle()

    def _push(self, push_service, parts) -> None:
        """The fake Web Push service (local/push.py): subscribe, drop a subscription, receive a push."""
        from local.push import ENDPOINT_PATH, SUBSCRIPTIONS_PATH

        headers, body = self._parse_payload()
        path, method = parts.path, self.command
        if path == SUBSCRIPTIONS_PATH and method == "POST":
            status, out = 201, push_service.subscribe(f"http://127.0.0.1:{self.server.server_address[1]}")
        elif path.startswith(SUBSCRIPTIONS_PATH + "/") and method == "DELETE":
            found = push_service.drop(path[len(SUBSCRIPTIONS_PATH) + 1:])
            status, out = (204, None) if found else (404, _local_error("not_found", "No such subscription."))
        elif not path.startswith(SUBSCRIPTIONS_PATH) and method == "POST":
            status, out = push_service.deliver(path[len(ENDPOINT_PATH):], headers, body or b"")
        else:
            status, out = 405, _local_error("method_not_allowed", "POST a subscription or a push; DELETE a subscription.")
        self._send_http_response(status, {"Content-Type": "application/json", "Cache-Control": "no-store"},
                                 "" if out is None else json.dumps(out, ensure_ascii=False))

    def _resolver(self, parts) -> None:
        headers, _ = self._parse_payload()
        event = function_url_event(self.command, parts.path, parts.query, headers)
        from app import qr_resolver

        response = qr_resolver(event, None)
        self._send_http_response(response["statusCode"], dict(response["headers"]), response.get("body") or "")

    def _local(self, local_api: LocalApi, parts) -> None:
        self._parse_payload()  # read (and drop) any request body, so a keep-alive connection stays in step
        status, headers, body = local_api.handle(self.command, parts.path, parts.query)
        self._send_http_response(status, {"Content-Type": "application/json", "Cache-Control": "no-store",
                                          **headers}, json.dumps(body, ensure_ascii=False))

    def _static(self, path: str) -> bool:
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        try:
            target = (WEB_DIR / relative).resolve()
            if WEB_DIR not in target.parents or not target.is_file():
                return False
            body = target.read_bytes()
        except (OSError, ValueError):  # NUL bytes, names too long: not a file we serve
            return False
        content_type = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        headers = {"Content-Type": content_type, "Cache-Control": "no-cache"}
        if relative in WORKER_PATHS:  # else a script gets RESOURCE_CSP, whose connect-src 'none' would stop the worker
            headers["Content-Security-Policy"] = WORKER_CSP
        self._send_http_response(200, headers, body)
        return True

    def _send_http_response_with_body(self, code, headers, body) -> None:
        """Like Chalice's, plus what CloudFront and API Gateway do in front of the real thing:
        gzip for clients that accept it, and no body for HEAD."""
        if not isinstance(body, bytes):
            body = body.encode("utf-8")
        content_type = headers.pop("Content-Type", None) or headers.pop("content-type", "application/json")
        if (len(body) > 1024 and content_type.startswith(_COMPRESSIBLE)
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        self._content_type = content_type
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", content_type)
        self._pending_body = b"" if self.command == "HEAD" else body
        self._send_headers(headers)  # ends with end_headers(), which sends the body too

    def _send_http_response_no_body(self, code, headers) -> None:
        self._content_type = ""
        super()._send_http_response_no_body(code, headers)

    def send_error(self, code, message=None, explain=None) -> None:
        self._content_type = ""  # http.server's own error page needs nothing: it gets the strictest policy
        super().send_error(code, message, explain)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a burst of 20+ browser or test connections overflowed it and
    # the dropped SYNs came back after 1-3 s retransmits.
    request_queue_size = 128
    access_log: AccessLog | None = None
    local_api: LocalApi | None = None  # the /_local/ routes; None: those paths go to the app like any other

    def server_close(self) -> None:
        super().server_close()
        if self.access_log is not None:
            self.access_log.close()


_STDOUT = object()


def build_server(port: int, host: str = "127.0.0.1", access_log: TextIO | None | object = _STDOUT,
                 local_api: LocalApi | None = None) -> Server:
    """The server, bound but not yet serving. `access_log`: where the per-request lines go (stdout by
    default, None for none); `local_api`: the /_local/ routes (the outbox, the stream pump)."""
    from app import app  # the app reads its settings at import: callers set the environment first

    # Chalice keeps current_request on the app object; make it thread-local, as `chalice local` does.
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage="local", app_name="qalqan", lambda_timeout=60, lambda_memory_size=512)
    handler = functools.partial(QalqanHandler, app_object=app, config=config)
    server = Server((host, port), handler)
    server.local_api = local_api
    stream = sys.stdout if access_log is _STDOUT else access_log
    if stream is not None:
        server.access_log = AccessLog(stream)
    return server
