"""Open311 GeoReport v2 under /open311/v2/ (services, requests; JSON and XML as the specification requires). One Blueprint with full paths (registered in app.py without a prefix).

The format is part of the path (`services.json`, `requests/<id>.xml`). API Gateway's path parameters are whole
segments, so `services/{code}.json` is routed as `services/{service_file}` and split here; the fixed names
(`services.json`, `requests.xml`) are plain literal routes, the same in Lambda and on the local server.

Errors have the spec's shape, `[{"code": <HTTP status>, "description": "..."}]` (XML: `<errors><error>`), in
the requested format, with the proper 4xx; one entry per invalid field.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs

from chalice import Blueprint, CORSConfig, Response

from chalicelib.api.http import HttpError
from chalicelib.bootstrap import container
from chalicelib.domain.catalog import LANGUAGES
from chalicelib.domain.errors import (
    Conflict, DomainError, Forbidden, LimitReached, NotFound, Unauthorized, ValidationFailed, field_error,
)
from chalicelib.i18n import localise
from chalicelib.i18n import negotiate

open311_api = Blueprint(__name__)
BASE = "/open311/v2"
FORMATS = ("json", "xml")
# Anyone's civic client or dashboard may call it from a browser: public data, no cookies, no credentials.
CORS = CORSConfig(allow_origin="*", allow_headers=["Idempotency-Key", "X-Request-Id"], expose_headers=["X-Request-Id"],
                  max_age=600)
FORM = "application/x-www-form-urlencoded"
# XML element names of list items, by their list's name.
ITEM_NAMES = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
              "errors": "error", "endpoints": "endpoint", "formats": "format"}
MAX_FORM_FIELDS = 60
_STATUS = ((NotFound, 404), (Conflict, 409), (Unauthorized, 401), (Forbidden, 403), (LimitReached, 429))


def _request():
    return open311_api.current_request


def _params() -> dict:
    return dict(_request().query_params or {})


def _lang() -> str:
    """`locale` (kk, ru or en) if given, else the Accept-Language header's best match."""
    wanted = _params().get("locale")
    if wanted is not None:
        if wanted not in LANGUAGES:
            raise ValidationFailed("Some fields are invalid.", fields=field_error("locale", "literal_error",
                                                                                  "one of kk, ru, en"))
        return wanted
    return negotiate(_request().headers.get("accept-language"))


# --- rendering ---------------------------------------------------------------------------------------------
def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _element(parent, name: str, value) -> None:
    from xml.etree import ElementTree as ET

    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _element(node, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _element(node, ITEM_NAMES.get(name, "item"), inner)
    else:
        node.text = _text(value)


def to_xml(root: str, body) -> str:
    """A list becomes `<root><item>...</item></root>` (the spec's names), a dict `<root><key>...</key></root>`."""
    from xml.etree import ElementTree as ET  # only for XML answers: off the cold start of every other route

    node = ET.Element(root)
    if isinstance(body, list):
        for item in body:
            _element(node, ITEM_NAMES[root], item)
    else:
        for key, value in body.items():
            _element(node, key, value)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(node, encoding="unicode")


def render(body, fmt: str, *, root: str, status: int = 200, lang: str | None = None,
           headers: dict | None = None) -> Response:
    extra = {"Content-Language": lang} if lang else {}
    extra.update(headers or {})
    if fmt == "xml":
        return Response(body=to_xml(root, body), status_code=status,
                        headers={"Content-Type": "text/xml; charset=utf-8", **extra})
    return Response(body=json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **extra})


def error_response(exc: DomainError, fmt: str, lang: str) -> Response:
    """The spec's error list: the HTTP status as `code`, one entry per invalid field."""
    if isinstance(exc, HttpError):
        status = exc.status
    elif isinstance(exc, ValidationFailed):
        status = 400  # what Open311 clients expect for a bad request (the JSON API says 422)
    else:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    from chalicelib.services.open311 import spec_fields

    message, fields = localise(exc.code, exc.message, spec_fields(exc.fields or {}), lang)
    errors = [{"code": status, "description": f"{name}: {detail.get('message', '')}"} for name, detail in fields.items()]
    headers = {"Cache-Control": "no-store"}
    if status == 429:
        headers["Retry-After"] = "60"
    return render(errors or [{"code": status, "description": message}], fmt, root="errors", status=status,
                  lang=lang, headers=headers)


def _format_of(filename: str) -> tuple[str, str]:
    """("<name>", "json"|"xml") from a path segment such as "7Q2M4KXA.json"."""
    name, dot, fmt = filename.rpartition(".")
    if not dot or fmt not in FORMATS or not name:
        raise HttpError(404, "not_found", "Use <name>.json or <name>.xml.")
    return name, fmt


def _guarded(fmt_of, view):
    """Run a view; any DomainError becomes the spec's error list in the requested format."""

    def run(**kwargs):
        fmt = "json"
        lang = negotiate(_request().headers.get("accept-language"))
        try:
            fmt = fmt_of(kwargs)
            lang = _lang()
            return view(fmt=fmt, lang=lang, **kwargs)
        except DomainError as exc:
            return error_response(exc, fmt, lang)

    return run


def route(path: str, *, methods=("GET",), fmt: str | None = None, file_param: str | None = None):
    """Register `view(fmt=, lang=, ...)` at `path` for one fixed format, or with the format taken from the
    `file_param` segment (the view then gets its name without the suffix)."""

    def decorator(view):
        if fmt is not None:
            fmt_of = lambda kwargs: fmt  # noqa: E731
        else:
            def fmt_of(kwargs):
                name, found = _format_of(kwargs[file_param])
                kwargs[file_param] = name
                return found
        handler = _guarded(fmt_of, view)
        handler.__name__ = f"open311_{view.__name__}_{fmt or 'file'}"
        options = {"methods": list(methods), "cors": CORS}
        if "POST" in methods:
            options["content_types"] = [FORM, "application/json", "text/plain"]
        open311_api.route(path, **options)(handler)
        return view

    return decorator


# --- services ----------------------------------------------------------------------------------------------
def service_list(fmt: str, lang: str):
    from chalicelib.services.open311 import check_jurisdiction, services

    check_jurisdiction(_params().get("jurisdiction_id"))
    return render(services(container().catalog, lang), fmt, root="services", lang=lang,
                  headers={"Cache-Control": "public, max-age=300"})


def service_definition(fmt: str, lang: str, service_file: str):
    from chalicelib.services.open311 import check_jurisdiction
    from chalicelib.services.open311 import service_definition as definition

    check_jurisdiction(_params().get("jurisdiction_id"))
    return render(definition(container().catalog, service_file, lang), fmt, root="service_definition", lang=lang,
                  headers={"Cache-Control": "public, max-age=300"})


# --- requests ----------------------------------------------------------------------------------------------
def _body(request, max_bytes: int) -> dict:
    """The POST body as a dict: form-encoded (what the spec says) or a JSON object."""
    raw = request.raw_body or b""
    if len(raw) > max_bytes:
        raise HttpError(413, "payload_too_large", f"The request body is larger than {max_bytes // 1024} KB.")
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "malformed_body", "The request body is not UTF-8.") from None
    if content_type == "application/json":
        from chalicelib.api.http import read_json

        return read_json(request, max_bytes=max_bytes)
    try:
        return parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FORM_FIELDS,
                        errors="strict")
    except ValueError:
        raise HttpError(400, "malformed_body", "The request body is not a valid form (name=value&...).") from None


def post_request(fmt: str, lang: str):
    from chalicelib.api import schemas
    from chalicelib.services.complaints import submit_complaint
    from chalicelib.services.open311 import created, spec_fields, submission

    c = container()
    request = _request()
    body = _body(request, c.settings.max_body_bytes)
    params = _params()
    params.pop("locale", None)
    for name in ("jurisdiction_id", "api_key"):  # some clients put these two in the query string
        if name in params and name not in body:
            body[name] = params.pop(name)
    if params:
        raise ValidationFailed("Some fields are invalid.", fields={
            name: {"code": "extra_forbidden", "message": "send it in the body"} for name in sorted(params)})
    api_key = body.get("api_key")
    api_key = api_key[0] if isinstance(api_key, list) and api_key else api_key
    sub = submission(body, api_key=api_key if isinstance(api_key, str) else None, secret=c.settings.secret)
    key = schemas.idempotency_key(request.headers.get("idempotency-key")) or sub.derived_key
    try:
        command = schemas.submit_command(sub.complaint_body, key=key)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields=spec_fields(exc.fields)) from None
    result = submit_complaint(command, outlets=c.outlets, businesses=c.businesses, complaints=c.complaints,
                              contacts=c.contacts, catalog=c.catalog, rules=c.rules, routing_rules=c.routing_rules,
                              secret=c.settings.secret, clock=c.clock, model=c.routing_model())
    complaint = result.complaint
    answer = created(complaint, c.catalog, lang, token=result.tracking_token,
                     status_url=c.settings.status_url(complaint.id, result.tracking_token), rules_tz=c.rules.tz)
    headers = {"Location": f"{BASE}/requests/{complaint.id}.{fmt}", "Cache-Control": "no-store"}
    if not result.created:
        headers["Idempotent-Replayed"] = "true"
    return render([answer], fmt, root="service_requests", status=201, lang=lang, headers=headers)


def get_requests(fmt: str, lang: str):
    from chalicelib.services.open311 import list_requests, request_query

    c = container()
    query = request_query(_params(), c.catalog)
    rows = list_requests(query, complaints=c.complaints, catalog=c.catalog, lang=lang, now=c.clock.now())
    return render(rows, fmt, root="service_requests", lang=lang, headers={"Cache-Control": "public, max-age=30"})


def get_request(fmt: str, lang: str, request_file: str):
    from chalicelib.services.open311 import check_jurisdiction, one_request

    c = container()
    check_jurisdiction(_params().get("jurisdiction_id"))
    row = one_request(request_file, complaints=c.complaints, catalog=c.catalog, lang=lang)
    # The spec answers a single request as a list of one.
    return render([row], fmt, root="service_requests", lang=lang, headers={"Cache-Control": "public, max-age=30"})


for _fmt in FORMATS:
    route(f"{BASE}/services.{_fmt}", fmt=_fmt)(service_list)
    route(f"{BASE}/requests.{_fmt}", fmt=_fmt)(get_requests)
    route(f"{BASE}/requests.{_fmt}", fmt=_fmt, methods=("POST",))(post_request)
route(f"{BASE}/services/{{service_file}}", file_param="service_file")(service_definition)
route(f"{BASE}/requests/{{request_file}}", file_param="request_file")(get_request)
