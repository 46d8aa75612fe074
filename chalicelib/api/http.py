"""HTTP plumbing shared by every blueprint: JSON bodies, the one error shape, routes, middleware.

Chalice turns any exception raised in a view into its own 500 body before middleware sees it, so
views are registered through `json_route`, which maps domain errors to HTTP here, in one place.
"""
from __future__ import annotations

import functools
import json
import re
import time
import uuid

from urllib.parse import urlparse

from chalice import CORSConfig, Response

from chalicelib.domain.errors import (
    Conflict, DomainError, Forbidden, InvalidCursor, LimitReached, NotFound, Unauthorized, ValidationFailed,
)
from chalicelib.i18n import localise
from chalicelib.i18n import negotiate as language

JSON = "application/json"
_STATUS = (  # most specific first
    (NotFound, 404), (Conflict, 409), (Unauthorized, 401), (Forbidden, 403), (InvalidCursor, 400), (LimitReached, 429),
    (ValidationFailed, 422),
)
# A client's X-Request-Id is echoed and logged only if it is short and plain; anything else is replaced.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class HttpError(DomainError):
    """An error that only exists at the HTTP edge (bad JSON, body too large)."""

    def __init__(self, status: int, code: str, message: str, *, fields: dict | None = None) -> None:
        super().__init__(message, fields=fields)
        self.status = status
        self.code = code


def cors_for_web(*headers: str) -> CORSConfig:
    """CORS for the static pages' origin (WEB_BASE_URL), which may differ from the API's. Chalice always
    allows Content-Type and Authorization; `headers` are the others a room's pages send."""
    from chalicelib.settings import get_settings

    web = urlparse(get_settings().web_base_url)
    return CORSConfig(allow_origin=f"{web.scheme}://{web.netloc}", allow_headers=list(headers),
                      expose_headers=["X-Request-Id"], max_age=600)


def json_response(body, *, status: int = 200, headers: dict | None = None) -> Response:
    """JSON as UTF-8 rather than \\u escapes: Kazakh and Russian text takes half the bytes."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(body=text, status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None, *, lang: str = "en") -> Response:
    """The one error shape; `message` and field messages in `lang` (kk, ru or en)."""
    message, fields = localise(code, message, fields or {}, lang)
    body = {"error": {"code": code, "message": message, "fields": fields}}
    return json_response(body, status=status, headers={"Content-Language": lang, **(headers or {})})


def to_response(exc: DomainError, lang: str = "en") -> Response:
    if isinstance(exc, HttpError):
        status = exc.status
    else:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 422)
    headers = {"WWW-Authenticate": 'Bearer realm="qalqan"'} if status == 401 else None
    return error_response(status, exc.code, exc.message, exc.fields, headers, lang=lang)


def outlet_code_param(raw: str) -> str:
    """A path's outlet code in canonical form, or a 400 that tells a typo from a malformed code."""
    from urllib.parse import unquote

    from chalicelib.domain.codes import parse_outlet_code
    from chalicelib.domain.errors import InvalidOutletCode

    try:
        return parse_outlet_code(unquote(raw))  # a code with Cyrillic look-alikes arrives percent-encoded
    except InvalidOutletCode as exc:
        raise HttpError(400, exc.code, exc.message, fields={"code": exc.fields["outlet_code"]}) from None


def query(request) -> dict:
    return request.query_params or {}


def limit_param(raw: str | None, *, default: int, maximum: int) -> int:
    """`?limit=`: ASCII digits only (str.isdigit would take '²' and then int() fails), 1..maximum."""
    if raw is None:
        return default
    # length first: int() of a 5000-digit string raises (Python's int-from-str digit limit)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(maximum))) or not 1 <= int(raw) <= maximum:
        raise HttpError(400, "invalid_limit", f"limit must be a whole number from 1 to {maximum}.",
                        fields={"limit": {"code": "out_of_range", "message": f"1..{maximum}"}})
    return int(raw)


def principal_for(request, role):
    """The caller's principal, if its key is valid (401) and its role may use the route (403)."""
    from chalicelib.bootstrap import container
    from chalicelib.services.auth import authenticate, require_role

    c = container()
    principal = authenticate(request.headers.get("authorization"), keys=c.keys, clock=c.clock)
    return require_role(principal, role)


def read_json(request, *, max_bytes: int) -> dict:
    """The request body as a JSON object, or a 4xx that says what is wrong with it."""
    raw = request.raw_body or b""
    if len(raw) > max_bytes:
        raise HttpError(413, "payload_too_large", f"The request body is larger than {max_bytes // 1024} KB.")
    if not raw.strip():
        raise HttpError(400, "malformed_json", "The request body is empty; send a JSON object.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "malformed_json", f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise HttpError(400, "malformed_json", "The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise HttpError(400, "malformed_json", "The request body must be a JSON object.")
    return body


def json_route(blueprint, path: str, *, methods=("GET",), cors=None, binary=False, role=None):
    """Register a view whose DomainErrors become the one JSON error shape.

    `role` (a role name or a tuple of them) declares who may call it: the view then gets the caller's
    `principal` as a keyword argument, and a missing or bad key is a 401, another role a 403.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            try:
                if role is not None:
                    kwargs["principal"] = principal_for(blueprint.current_request, role)
                result = view(**kwargs)
            except DomainError as exc:
                return to_response(exc, language(blueprint.current_request.headers.get("accept-language")))
            return result if isinstance(result, Response) else json_response(result)

        options = {"methods": list(methods), "cors": cors}
        if not binary and any(m in ("POST", "PUT", "PATCH") for m in methods):
            # Accept any content type and judge the body ourselves: a 415 from Chalice would not
            # have our error shape, and forms sometimes send text/plain.
            options["content_types"] = [JSON, "text/plain", "application/x-www-form-urlencoded"]
        blueprint.route(path, **options)(wrapped)
        return view

    return decorator


def http_middleware(logger):
    """Request ids, access logs without personal data, and our error shape for Chalice's own errors."""

    def middleware(event, get_response):
        started = time.perf_counter()
        lang = language(event.headers.get("accept-language"))
        offered = event.headers.get("x-request-id") or ""
        request_id = offered if _REQUEST_ID.match(offered) else (event.context.get("requestId") or uuid.uuid4().hex)
        try:
            response = get_response(event)
        except Exception:  # anything a view did not expect: log it, never leak it
            logger.exception("unhandled error", extra={"path": event.context.get("resourcePath")})
            response = error_response(500, "internal_error", "Something went wrong on our side. Please try again.",
                                      lang=lang)
        body = response.body
        if isinstance(body, dict) and "Code" in body and "Message" in body:
            # Chalice's own errors (405, 415, its 500) rewritten into our shape.
            code = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                    415: "unsupported_media_type"}.get(response.status_code, "internal_error")
            response = error_response(response.status_code, code, body["Message"], headers=response.headers, lang=lang)
        response.headers["X-Request-Id"] = request_id
        logger.info("request", extra={
            "method": event.method, "route": event.context.get("resourcePath"),
            "status": response.status_code, "ms": round((time.perf_counter() - started) * 1000, 1),
            "request_id": request_id,
        })
        return response

    return middleware
