"""Build the OpenAPI 3.1 document from the request models and the response shapes.

    python -m tools.openapi            # writes docs/openapi.json
    python -m tools.openapi --check    # fails if docs/openapi.json is stale (the tests run this)

Request bodies come straight from the pydantic models the API validates with, so the document cannot
drift from what the server accepts; tests/unit/test_openapi.py also checks that every Chalice route
is documented and nothing else is.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "openapi.json"

I18N = {"type": "object", "required": ["kk", "ru", "en"],
        "properties": {lang: {"type": "string"} for lang in ("kk", "ru", "en")}}
AGENCY = {"type": "object", "required": ["id", "name"],
          "properties": {"id": {"type": "string", "examples": ["kzpp"]}, "name": {"$ref": "#/components/schemas/I18n"}}}
ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "fields"], "properties": {
        "code": {"type": "string", "examples": ["validation_failed"]},
        "message": {"type": "string"},
        "fields": {"type": "object", "description": "dotted field path -> what is wrong with it",
                   "additionalProperties": {"type": "object", "properties": {
                       "code": {"type": "string"}, "message": {"type": "string"}}}},
    }}},
}
OUTLET_CARD = {"type": "object", "properties": {
    "code": {"type": "string", "examples": ["VVR71X6B"]}, "display_code": {"type": "string", "examples": ["VVR7-1X6B"]},
    "name": {"type": "string"}, "address": {"type": "string"},
    "business": {"type": "object", "properties": {"name": {"type": "string"}}},
    "region": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"$ref": "#/components/schemas/I18n"}}},
    "sector": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"$ref": "#/components/schemas/I18n"}}},
}}
OUTLET_ADMIN = {"allOf": [{"$ref": "#/components/schemas/OutletCard"}, {"type": "object", "properties": {
    "business_bin": {"type": "string"}, "status": {"enum": ["active", "suspended"]}, "kato": {"type": ["string", "null"]},
    "external_ref": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
    "qr_url": {"type": "string", "format": "uri"}}}]}
BUSINESS = {"type": "object", "properties": {
    "bin": {"type": "string"}, "kind": {"enum": ["bin", "iin"]}, "name": {"type": "string"}, "region": {"type": "string"},
    "warnings": {"type": "array", "items": {"type": "string"},
                 "description": "soft structural checks of the BIN/IIN that failed (the checksum passed)"},
    "status": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}}
ROUTING = {"type": "object", "properties": {
    "agency": {"$ref": "#/components/schemas/Agency"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    "method": {"enum": ["category", "rules", "sector", "default"]}, "explanation": {"type": "string"},
    "version": {"type": "string"}}}
CREATED = {"type": "object", "required": ["id", "tracking_token", "status", "agency", "routing", "status_url"], "properties": {
    "id": {"type": "string", "examples": ["EWDX192TKQH2"]}, "tracking_token": {"type": "string"},
    "status": {"type": "string", "examples": ["routed"]}, "kind": {"enum": ["appeal", "signal"]},
    "agency": {"$ref": "#/components/schemas/Agency"},
    "routing": {"type": "object", "properties": {"method": {"type": "string"}, "confidence": {"type": "number"}}},
    "status_url": {"type": "string", "format": "uri"}}}
STATUS = {"type": "object", "properties": {
    "id": {"type": "string"}, "status": {"type": "string"}, "status_label": {"$ref": "#/components/schemas/I18n"},
    "kind": {"enum": ["appeal", "signal"]}, "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}, "agency": {"$ref": "#/components/schemas/Agency"},
    "outlet": {"type": ["object", "null"]}, "business": {"type": "object"}, "category": {"type": ["object", "null"]},
    "routing": {"type": "object"}, "contact_provided": {"type": "boolean"},
    "due_at": {"type": ["string", "null"], "format": "date-time", "description": "same as agency_due_at"},
    "business_due_at": {"type": "string", "format": "date-time", "description": "the seller answers within 10 calendar days"},
    "agency_due_at": {"type": ["string", "null"], "format": "date-time",
                      "description": "15 working days for an appeal; null for an anonymous signal"},
    "flags": {"$ref": "#/components/schemas/Flags"},
    "business_response": {"oneOf": [{"$ref": "#/components/schemas/BusinessResponse"}, {"type": "null"}]},
    "feedback": {"oneOf": [{"$ref": "#/components/schemas/Feedback"}, {"type": "null"}]},
    "can_give_feedback": {"type": "boolean"},
    "result": {"oneOf": [{"$ref": "#/components/schemas/Decision"}, {"type": "null"}]},
    "rejection": {"oneOf": [{"$ref": "#/components/schemas/Rejection"}, {"type": "null"}]},
    "timeline": {"type": "array", "items": {"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"}, "type": {"type": "string"},
        "label": {"$ref": "#/components/schemas/I18n"}, "agency": {"oneOf": [{"$ref": "#/components/schemas/Agency"}, {"type": "null"}]}}}}}}
STATUSES = ["routed", "business_responded", "in_review", "settled", "resolved", "rejected"]
FLAGS = {"type": "object", "properties": {"business_overdue": {"type": "boolean"}, "agency_overdue": {"type": "boolean"}}}
BUSINESS_RESPONSE = {"type": "object", "properties": {
    "message": {"type": "string"}, "offer": {"enum": ["refund", "replacement", "repair", "apology", "other"]},
    "offer_label": {"$ref": "#/components/schemas/I18n"}, "at": {"type": "string", "format": "date-time"}}}
FEEDBACK = {"type": "object", "properties": {
    "accepted": {"type": "boolean"}, "stars": {"type": "integer", "minimum": 1, "maximum": 5},
    "comment": {"type": ["string", "null"]}, "at": {"type": "string", "format": "date-time"}}}
DECISION = {"type": "object", "properties": {
    "decision": {"enum": ["violation_confirmed", "not_confirmed", "settled"]},
    "decision_label": {"$ref": "#/components/schemas/I18n"}, "result": {"type": "string"},
    "at": {"type": "string", "format": "date-time"}}}
REJECTION = {"type": "object", "properties": {"reason": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}
SUMMARY = {"type": "object", "properties": {
    "id": {"type": "string"}, "status": {"enum": STATUSES}, "status_label": {"$ref": "#/components/schemas/I18n"},
    "kind": {"enum": ["appeal", "signal"]}, "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}, "category": {"type": ["object", "null"]},
    "sector": {"type": ["object", "null"]}, "region": {"type": "object"}, "agency": {"$ref": "#/components/schemas/Agency"},
    "business": {"type": "object", "properties": {"name": {"type": "string"}, "bin": {"type": "string"}}},
    "outlet": {"type": ["object", "null"]}, "excerpt": {"type": "string", "description": "the first 160 characters"},
    "business_due_at": {"type": "string", "format": "date-time"},
    "agency_due_at": {"type": ["string", "null"], "format": "date-time"},
    "flags": {"$ref": "#/components/schemas/Flags"}, "overdue": {"type": "boolean"}}}
CASE = {"allOf": [{"$ref": "#/components/schemas/CaseSummary"}, {"type": "object", "properties": {
    "text": {"type": "string"}, "language": {"type": "string"}, "channel": {"type": "string"},
    "incident_at": {"type": ["string", "null"], "format": "date-time"},
    "business_response": {"oneOf": [{"$ref": "#/components/schemas/BusinessResponse"}, {"type": "null"}]},
    "feedback": {"oneOf": [{"$ref": "#/components/schemas/Feedback"}, {"type": "null"}]},
    "decision": {"oneOf": [{"$ref": "#/components/schemas/Decision"}, {"type": "null"}]},
    "rejection": {"oneOf": [{"$ref": "#/components/schemas/Rejection"}, {"type": "null"}]},
    "contact": {"type": ["object", "null"], "description": "the complainant's contact: always for the handling agency, "
                "for the business only when the consumer agreed to share it"},
    "contact_provided": {"type": "boolean"}, "share_contact_with_business": {"type": "boolean"},
    "routing": {"type": "object", "description": "agency view only: method, confidence, explanation, version"},
    "timeline": {"type": "array", "description": "append-only audit: at, type, label, actor, actor_scope, key_id, note, from, to, agency",
                 "items": {"type": "object"}},
    "version": {"type": "integer", "description": "optimistic-lock version"},
    "actions": {"type": "array", "items": {"enum": ["take", "resolve", "reject", "reroute", "respond"]},
                "description": "what this caller may do now"}}}]}
QUEUE = {"type": "object", "properties": {
    "items": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/CaseSummary"}, {
        "type": "object", "properties": {"in_filter": {
            "type": "boolean", "description": "present with ?status=: after a cursor every change is returned, and a "
                                              "case that left the filter comes back with in_filter false"}}}]}},
    "next_cursor": {"type": ["string", "null"], "description": "signed; poll with it to get only what is new or changed since"}}}
STATUS_CHANGE = {"oneOf": [
    {"type": "object", "required": ["status"], "additionalProperties": False,
     "properties": {"status": {"const": "in_review"}}},
    {"type": "object", "required": ["status", "decision", "result"], "additionalProperties": False, "properties": {
        "status": {"const": "resolved"}, "decision": {"enum": ["violation_confirmed", "not_confirmed", "settled"]},
        "result": {"type": "string", "minLength": 2, "maxLength": 5000, "description": "the result, for the consumer"}}},
    {"type": "object", "required": ["status", "reason"], "additionalProperties": False, "properties": {
        "status": {"const": "rejected"}, "reason": {"type": "string", "minLength": 2, "maxLength": 2000}}}]}
ISSUED_KEY = {"type": "object", "properties": {
    "key_id": {"type": "string"}, "key": {"type": "string", "description": "shown once, stored only as a SHA-256"},
    "role": {"enum": ["admin", "analyst", "agency", "business"]}, "agency_id": {"type": ["string", "null"]},
    "regions": {"type": "array", "items": {"type": "string"}}, "bin": {"type": ["string", "null"]},
    "label": {"type": "string"}, "expires_at": {"type": ["string", "null"], "format": "date-time"}}}


def _json(schema_ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _errors(*codes: int) -> dict:
    text = {400: "Malformed request (bad JSON, bad code or cursor)", 401: "Missing or invalid key",
            403: "The key's role may not do this", 404: "Not found", 409: "Conflict",
            413: "Body over 64 KB", 422: "Invalid fields"}
    return {str(code): {"description": text[code], **_json("Error")} for code in codes}


def _op(summary: str, ok: dict, *, errors=(), body: str | None = None, params=(), admin=False, tags=("public",),
        role: str | None = None) -> dict:
    op = {"summary": summary, "tags": list(tags), "responses": {**ok, **_errors(*errors)}}
    if body:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = list(params)
    role = "admin" if admin else role
    if role:
        op["security"] = [{f"{role}Key": []}]
        op["tags"] = [role]
    return op


def _path_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


def _query(name: str, description: str, type_: str = "string") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": type_}, "description": description}


IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200},
               "description": "Retries with the same key return the first result instead of creating another"}
CODE = _path_param("code", "Outlet code, any case, with or without the hyphen; O/0 and I/L/1 are read alike")
BIN = _path_param("bin", "BIN or IIN, 12 digits")
CID = _path_param("complaint_id", "Complaint id")
TOKEN_HEADER = {"name": "X-Tracking-Token", "in": "header", "required": False, "schema": {"type": "string"},
                "description": "Tracking token; preferred over ?token= (kept out of access logs)"}
PNG = {"200": {"description": "Sticker", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}}
PDF = {"200": {"description": "PDF for print", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def build() -> dict:
    from chalicelib.api import schemas

    models = {"ComplaintIn": schemas.ComplaintIn, "PreviewIn": schemas.PreviewIn,
              "BusinessIn": schemas.BusinessIn, "OutletIn": schemas.OutletIn,
              "OutletStatusIn": schemas.OutletStatusIn, "RerouteIn": schemas.RerouteIn,
              "ResponseIn": schemas.ResponseIn, "FeedbackIn": schemas.FeedbackIn, "KeyIn": schemas.KeyIn,
              "DeadlineJobIn": schemas.DeadlineJobIn}
    components = {}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[name] = schema
    components.update({"I18n": I18N, "Agency": AGENCY, "Error": ERROR, "OutletCard": OUTLET_CARD,
                       "OutletAdmin": OUTLET_ADMIN, "Business": BUSINESS, "RoutingPreview": ROUTING,
                       "ComplaintCreated": CREATED, "ComplaintStatus": STATUS, "Flags": FLAGS,
                       "BusinessResponse": BUSINESS_RESPONSE, "Feedback": FEEDBACK, "Decision": DECISION,
                       "Rejection": REJECTION, "CaseSummary": SUMMARY, "Case": CASE, "Queue": QUEUE,
                       "StatusChangeIn": STATUS_CHANGE, "IssuedKey": ISSUED_KEY})
    ok = lambda ref, code="200", desc="OK": {code: {"description": desc, **_json(ref)}}  # noqa: E731
    plain = lambda desc: {"200": {"description": desc, "content": {"application/json": {"schema": {"type": "object"}}}}}  # noqa: E731
    paths = {
        "/health": {"get": _op("Liveness", plain("The API answers"))},
        "/catalog": {"get": _op("Agencies, categories, sectors and regions for the form, in kk/ru/en",
                                plain("The catalogue"))},
        "/outlets/{code}": {"get": _op("An outlet's public card (no personal data)", ok("OutletCard"),
                                       errors=(400, 404), params=[CODE])},
        "/routing/preview": {"post": _op("Where a complaint would go, without storing anything",
                                         ok("RoutingPreview"), errors=(400, 413, 422), body="PreviewIn")},
        "/complaints": {"post": _op("Submit a complaint: validated, routed and stored in one write",
                                    ok("ComplaintCreated", "201", "Created (or replayed for the same Idempotency-Key)"),
                                    errors=(400, 409, 413, 422), body="ComplaintIn", params=[IDEMPOTENCY])},
        "/complaints/{complaint_id}": {"get": _op(
            "Status, agency and timeline for the holder of the tracking token", ok("ComplaintStatus"),
            errors=(404,), params=[CID, _query("token", "Tracking token (or send the X-Tracking-Token header)"),
                                   TOKEN_HEADER])},
        "/complaints/{complaint_id}/feedback": {"post": _op(
            "The consumer accepts or rejects the seller's offer, once, with 1-5 stars (accepted: settled)",
            ok("ComplaintStatus"), errors=(400, 404, 409, 413, 422), body="FeedbackIn",
            params=[CID, _query("token", "Tracking token (or send the X-Tracking-Token header)"), TOKEN_HEADER])},
        "/agency/complaints": {"get": _op(
            "The agency's work queue (its regions only for a regional key), oldest change first; poll with next_cursor",
            ok("Queue"), errors=(400, 401, 403, 422), role="agency",
            params=[_query("status", "open, or one status: " + ", ".join(STATUSES)), _query("region", "KATO oblast code"),
                    _query("cursor", "next_cursor of the previous page or poll"), _query("limit", "1-100", "integer")])},
        "/agency/complaints/{complaint_id}": {"get": _op(
            "The whole case, with the complainant's contact if one was given", ok("Case"), errors=(401, 403, 404),
            params=[CID], role="agency")},
        "/agency/complaints/{complaint_id}/status": {"post": _op(
            "Take in review, resolve with a decision and a result for the consumer, or reject with a reason",
            ok("Case"), errors=(400, 401, 403, 404, 409, 413, 422), body="StatusChangeIn", params=[CID], role="agency")},
        "/agency/complaints/{complaint_id}/reroute": {"post": _op(
            "Send the case to the body that handles it; the correction is kept as a labelled routing example",
            plain("Where the case went: {id, status, agency}"), errors=(400, 401, 403, 404, 409, 413, 422),
            body="RerouteIn", params=[CID], role="agency")},
        "/business/complaints": {"get": _op(
            "Complaints about the caller's outlets or BIN, oldest change first; poll with next_cursor", ok("Queue"),
            errors=(400, 401, 403, 422), role="business",
            params=[_query("status", "open, or one status"), _query("cursor", "next_cursor"), _query("limit", "1-100", "integer")])},
        "/business/complaints/{complaint_id}": {"get": _op(
            "A complaint about the caller; the consumer's contact only with their consent", ok("Case"),
            errors=(401, 403, 404), params=[CID], role="business")},
        "/business/complaints/{complaint_id}/response": {"post": _op(
            "Answer the complaint once, with an offer", ok("Case"), errors=(400, 401, 403, 404, 409, 413, 422),
            body="ResponseIn", params=[CID], role="business")},
        "/admin/keys": {"post": _op("Issue an API key for a role and scope; the key is shown in this response only",
                                    ok("IssuedKey", "201", "Created"), errors=(400, 401, 403, 413, 422), body="KeyIn",
                                    admin=True)},
        "/admin/keys/{key_id}": {"delete": _op("Revoke a key (effective on its next use)", plain("{key_id, revoked}"),
                                               errors=(401, 403, 404), params=[_path_param("key_id", "Key id")],
                                               admin=True)},
        "/admin/jobs/deadlines": {"post": _op(
            "Run the deadline sweep as of a date: flags business_overdue and agency_overdue",
            plain("{as_of, checked, business_overdue, agency_overdue}"), errors=(400, 401, 403, 413, 422),
            body="DeadlineJobIn", admin=True)},
        "/admin/businesses": {"post": _op("Register a business by BIN/IIN (repeatable with the same data)",
                                          {**ok("Business", "201", "Created"), **ok("Business", "200", "Already registered")},
                                          errors=(401, 403, 409, 413, 422), body="BusinessIn", admin=True)},
        "/admin/businesses/{bin}": {"get": _op("A registered business", ok("Business"), errors=(400, 401, 403, 404),
                                               params=[BIN], admin=True)},
        "/admin/businesses/{bin}/outlets": {"get": _op(
            "A business's outlets, a page at a time",
            {"200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "outlets": {"type": "array", "items": {"$ref": "#/components/schemas/OutletAdmin"}},
                "next_cursor": {"type": ["string", "null"]}}}}}}},
            errors=(400, 401, 403), params=[BIN, _query("limit", "1-500", "integer"), _query("cursor", "from next_cursor")],
            admin=True)},
        "/admin/businesses/{bin}/stickers.pdf": {"get": _op(
            "A4 sheets of four stickers for up to 200 outlets; X-Next-Cursor names the next page", PDF,
            errors=(400, 401, 403, 404), params=[BIN, _query("limit", "1-200", "integer"), _query("cursor", "from X-Next-Cursor")],
            admin=True)},
        "/admin/outlets": {"post": _op("Register an outlet and get its sticker code",
                                       {**ok("OutletAdmin", "201", "Created"), **ok("OutletAdmin", "200", "Replayed")},
                                       errors=(401, 403, 404, 409, 413, 422), body="OutletIn", params=[IDEMPOTENCY],
                                       admin=True)},
        "/admin/outlets/{code}": {
            "get": _op("An outlet, with admin fields", ok("OutletAdmin"), errors=(400, 401, 403, 404), params=[CODE],
                       admin=True),
            "patch": _op("Suspend an outlet (its sticker then shows the help page) or reactivate it", ok("OutletAdmin"),
                         errors=(400, 401, 403, 404, 413, 422), body="OutletStatusIn", params=[CODE], admin=True)},
        "/admin/outlets/{code}/sticker.png": {"get": _op("The outlet's sticker, A6 at 300 dpi", PNG,
                                                         errors=(400, 401, 403, 404), params=[CODE], admin=True)},
        "/admin/outlets/{code}/sticker.pdf": {"get": _op("The outlet's sticker as an A6 PDF", PDF,
                                                         errors=(400, 401, 403, 404), params=[CODE], admin=True)},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Qalqan API", "version": "1",
                 "description": "Consumer complaints for Kazakhstan: one window from a QR sticker to the state body. "
                                "Errors always have the shape of the Error schema; their messages follow Accept-Language (kk, ru, "
                                "en). The QR resolver "
                                "(QR_BASE_URL/<code>, a Lambda function URL) is not part of this API: it answers "
                                "302 to the form, or an HTML page for a bad code."},
        "servers": [{"url": "http://127.0.0.1:8000", "description": "make run"}],
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {f"{role}Key": {
                           "type": "http", "scheme": "bearer",
                           "description": f"{role.capitalize()} API key, qk_<id>.<secret> (stored hashed; see POST /admin/keys)"}
                           for role in ("admin", "agency", "business")}},
    }


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("QALQAN_SECRET", "openapi-generation-only-openapi-generation")
    os.environ.setdefault("AWS_REGION", "eu-central-1")
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print("docs/openapi.json is stale: run `python -m tools.openapi`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
