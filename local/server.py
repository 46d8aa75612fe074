"""One HTTP server for the local stack: static web/, the QR resolver at /q/, and the Chalice app."""
from __future__ import annotations

import functools
import gzip
import mimetypes
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice

from app import app, qr_resolver

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json"}


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


class QalqanHandler(ChaliceRequestHandler):
    """Chalice's local request handler, plus the two things API Gateway doesn't serve: /q/ and web/."""

    server_version = "qalqan-local"

    def _generic_handle(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/q" or parts.path.startswith("/q/"):
            return self._resolver(parts)
        if self.command in ("GET", "HEAD") and self._static(parts.path):
            return None
        return super()._generic_handle()

    def _resolver(self, parts) -> None:
        headers, _ = self._parse_payload()
        event = function_url_event(self.command, parts.path, parts.query, headers)
        response = qr_resolver(event, None)
        self._send_http_response(response["statusCode"], dict(response["headers"]), response.get("body") or "")

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
        self._send_http_response(200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, body)
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
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", content_type)
        self._send_headers(headers)
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def log_message(self, format, *args):  # access logs come from the app's middleware
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def build_server(port: int, host: str = "127.0.0.1") -> Server:
    # Chalice keeps current_request on the app object; make it thread-local, as `chalice local` does.
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage="local", app_name="qalqan", lambda_timeout=60, lambda_memory_size=512)
    handler = functools.partial(QalqanHandler, app_object=app, config=config)
    return Server((host, port), handler)
