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
    "method": {"enum": ["category", "rules", "model", "rules+model", "sector", "triage", "default"],
               "description": "which source won; triage: unsure, the coordinating body (kzpp) reroutes"},
    "explanation": {"type": "string", "description": "the evidence in words: model version and top features, rules, "
                                                     "sector prior, posterior"},
    "version": {"type": "string"},
    "needs_category": {"type": "boolean", "description": "unsure: ask the consumer for one of `candidates` before sending"},
    "candidates": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"$ref": "#/components/schemas/I18n"}}},
        "description": "the likeliest categories, best first (empty unless needs_category)"},
    "suggested": {"oneOf": [{"$ref": "#/components/schemas/Agency"}, {"type": "null"}],
                  "description": "triage: the body the evidence pointed to"},
    "secondary_agencies": {"type": "array", "items": {"$ref": "#/components/schemas/Agency"},
                           "description": "other bodies the complaint plainly also concerns; they see it read-only and are informed"}}}
CREATED = {"type": "object", "required": ["id", "tracking_token", "status", "agency", "routing", "status_url"], "properties": {
    "id": {"type": "string", "examples": ["EWDX192TKQH2"]}, "tracking_token": {"type": "string"},
    "status": {"type": "string", "examples": ["routed"]}, "kind": {"enum": ["appeal", "signal"]},
    "agency": {"$ref": "#/components/schemas/Agency"},
    "secondary_agencies": {"type": "array", "items": {"$ref": "#/components/schemas/Agency"},
                           "description": "other bodies the complaint plainly also concerns; they see it read-only and are informed"},
    "routing": {"type": "object", "properties": {"method": {"type": "string"}, "confidence": {"type": "number"}}},
    "status_url": {"type": "string", "format": "uri"},
    "publish_consent": {"type": "boolean", "description": "the text may be published, scrubbed, in the open data"}}}
STATUS = {"type": "object", "properties": {
    "id": {"type": "string"}, "status": {"type": "string"}, "status_label": {"$ref": "#/components/schemas/I18n"},
    "kind": {"enum": ["appeal", "signal"]}, "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}, "agency": {"$ref": "#/components/schemas/Agency"},
    "secondary_agencies": {"type": "array", "items": {"$ref": "#/components/schemas/Agency"},
                           "description": "other bodies the complaint plainly also concerns; they see it read-only and are informed"},
    "outlet": {"type": ["object", "null"]}, "business": {"type": "object"}, "category": {"type": ["object", "null"]},
    "routing": {"type": "object"}, "contact_provided": {"type": "boolean"},
    "publish_consent": {"type": "boolean", "description": "the text may be published, scrubbed, in the open data"},
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
    "secondary_agencies": {"type": "array", "items": {"$ref": "#/components/schemas/Agency"},
                           "description": "other bodies the complaint plainly also concerns; they see it read-only and are informed"},
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
    "routing": {"type": "object", "description": "agency view only: method, confidence, explanation, version, "
                "model_version, suggested (triage)"},
    "role": {"enum": ["handling", "secondary"], "description": "agency view only: the handling body, or a second body "
             "informed read-only (no contact, no actions)"},
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
OUTLET_PUBLIC = {"allOf": [{"$ref": "#/components/schemas/OutletCard"}, {"type": "object", "properties": {
    "rating": {"$ref": "#/components/schemas/OutletRating"},
    "telegram_url": {"type": "string", "format": "uri",
                     "description": "https://t.me/<bot>?start=<code>: the same complaint in the Telegram bot "
                                    "(present only where the bot is configured, docs/telegram.md)"}}}]}


def _component(value_name: str, value_note: str) -> dict:
    return {"type": "object", "required": [value_name, "count"], "properties": {
        value_name: {"type": ["number", "null"], "description": value_note + "; null below min_count or with nothing observed"},
        "count": {"type": "integer", "minimum": 0, "description": "observations behind it (shown even when unpublished)"}}}


def transparency_schemas() -> dict:
    """The public record pages and the open-data listing (docs/open-data.md)."""
    from chalicelib.services import open_data

    share = {"type": "object", "required": ["share", "count"], "properties": {
        "share": {"type": ["number", "null"], "description": "0-1, two decimals; null below min_count or with none"},
        "count": {"type": "integer", "minimum": 0}}}
    record = {"type": "object", "required": ["complaints", "answered_in_time", "settled"], "properties": {
        "complaints": {"type": "integer", "minimum": 0}, "answered_in_time": share, "settled": share}}
    rating = {"allOf": [{"$ref": "#/components/schemas/RatingFigures"}, {"type": "object", "properties": {
        "reason_text": {"oneOf": [{"$ref": "#/components/schemas/I18n"}, {"type": "null"}],
                        "description": "why the rating is not published, in kk/ru/en (\"fewer than 10 ratings\")"}}}]}
    sector = {"type": "object", "properties": {
        "sector": {"type": "object"}, "published": {"type": "boolean"}, **record["properties"]},
        "description": "the whole sector's shares (published from min_count complaints)"}
    outlet = {"type": "object", "properties": {
        "code": {"type": "string"}, "display_code": {"type": "string"}, "name": {"type": "string"},
        "address": {"type": "string"}, "active": {"type": "boolean"},
        "business": {"type": "object", "properties": {"name": {"type": "string"}, "bin": {
            "type": "string", "description": "a legal entity's BIN only; absent for a sole proprietor (an IIN)"}}},
        "region": {"type": "object"}, "sector": {"type": "object"}}}
    return {
        "PublicRating": rating, "PublicRecord": record, "SectorAverage": sector,
        "PublicOutletPage": {"type": "object", "required": ["outlet", "rating", "record", "sector_average"],
                             "properties": {"outlet": outlet, "rating": {"$ref": "#/components/schemas/PublicRating"},
                                            "record": {"$ref": "#/components/schemas/PublicRecord"},
                                            "sector_average": {"$ref": "#/components/schemas/SectorAverage"}}},
        "PublicBusinessPage": {"type": "object", "required": ["business", "rating", "record", "outlets",
                                                              "next_cursor", "sector_averages"], "properties": {
            "business": {"type": "object", "properties": {"bin": {"type": "string"}, "name": {"type": "string"},
                                                          "kind": {"enum": ["bin", "iin"]}}},
            "rating": {"$ref": "#/components/schemas/PublicRating"},
            "record": {"$ref": "#/components/schemas/PublicRecord"},
            "outlets": {"type": "array", "items": {"type": "object", "properties": {
                "outlet": outlet, "rating": {"$ref": "#/components/schemas/PublicRating"},
                "record": {"$ref": "#/components/schemas/PublicRecord"}}}},
            "next_cursor": {"type": ["string", "null"]},
            "sector_averages": {"type": "array", "items": {"$ref": "#/components/schemas/SectorAverage"}}}},
        "OpenDataListing": {"type": "object", "required": ["available", "licence", "schema", "files", "next_cursor"],
                            "properties": {
            "available": {"type": "boolean", "description": "false where no bucket is configured"},
            "licence": {"type": "object", "examples": [open_data.LICENCE]},
            "schema": {"type": "object", "properties": {"version": {"const": open_data.SCHEMA_VERSION},
                                                        "columns": {"type": "array", "items": {"type": "string"}}}},
            "files": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string", "examples": ["complaints-2026-11-30.csv"]},
                "path": {"type": "string"}, "day": {"type": "string", "format": "date"},
                "format": {"enum": list(open_data.FORMATS)}, "rows": {"type": "integer"},
                "with_text": {"type": "integer"}, "bytes": {"type": "integer"}, "sha256": {"type": "string"},
                "exported_at": {"type": "string", "format": "date-time"}, "schema": {"type": "string"}}}},
            "next_cursor": {"type": ["string", "null"], "description": "the last name of this page: pass as ?cursor="}}},
    }


def rating_schemas() -> dict:
    """The public rating (docs/ratings.md): the figures, then the subject's identity."""
    from chalicelib.domain import rating

    figures = {"type": "object", "required": ["subject", "score", "count", "published", "reason", "min_count",
                                              "formula_version", "held", "components"], "properties": {
        "subject": {"enum": ["outlet", "business"]},
        "score": {"type": ["number", "null"], "minimum": 0, "maximum": rating.SCALE,
                  "description": "0-5, one decimal (smoothed, docs/ratings.md); null when not published"},
        "count": {"type": "integer", "minimum": 0, "description": "complaints + published quick ratings"},
        "published": {"type": "boolean", "description": "count reached min_count"},
        "reason": {"enum": [None, "too_few", "held_for_review"],
                   "description": "why it is not published; held_for_review when only held quick ratings would reach min_count"},
        "min_count": {"type": "integer", "examples": [rating.MIN_COUNT]},
        "formula_version": {"type": "string", "examples": [rating.FORMULA_VERSION]},
        "held": {"type": "integer", "minimum": 0,
                 "description": "quick ratings held for review after a burst: in no published figure until an admin releases them"},
        "components": {"type": "object", "required": list(rating.WEIGHTS), "properties": {
            "stars": _component("average", "plain average of the stars (1-5), count = ratings"),
            "answered_in_time": _component("share", "share of due answers the business gave in time"),
            "settled": _component("share", "share of closed complaints the consumer accepted as settled"),
            "upheld_violations": _component("share", "share of agency decisions that confirmed a violation"),
        }}}}
    return {
        "RatingFigures": figures,
        "OutletRating": {"allOf": [{"$ref": "#/components/schemas/RatingFigures"}, {
            "type": "object", "required": ["code"], "properties": {"subject": {"const": "outlet"},
                                                                    "code": {"type": "string", "examples": ["VVR71X6B"]}}}]},
        "BusinessRating": {"allOf": [{"$ref": "#/components/schemas/RatingFigures"}, {
            "type": "object", "required": ["bin"], "properties": {"subject": {"const": "business"},
                                                                   "bin": {"type": "string", "examples": ["940140000385"]}}}]},
        "QuickRatingAccepted": {"type": "object", "required": ["accepted", "held", "rating"], "properties": {
            "accepted": {"const": True},
            "held": {"type": "boolean", "description": "the outlet is under review for a burst: this rating waits for an admin"},
            "rating": {"$ref": "#/components/schemas/OutletRating"}}},
        "RatingRelease": {"type": "object", "required": ["code", "decision", "released", "rating"], "properties": {
            "code": {"type": "string"}, "decision": {"enum": ["publish", "discard"]},
            "released": {"type": "integer", "minimum": 0, "description": "held ratings published or discarded; 0 when none were held"},
            "rating": {"$ref": "#/components/schemas/OutletRating"}}},
    }


CHANNELS = {"type": "object", "required": ["owner", "webhook_url", "webhook_secret_set", "updated_at"], "properties": {
    "owner": {"type": "string", "examples": ["agency#kzpp", "business#940140000385"]},
    "webhook_url": {"type": ["string", "null"], "format": "uri"},
    "webhook_secret_set": {"type": "boolean"},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "webhook_secret": {"type": "string", "description": "only in the answer that set the webhook URL: the new signing "
                                                        "secret, shown once and never again"}}}
BUSINESS_CHANNELS = {"allOf": [{"$ref": "#/components/schemas/Channels"}, {
    "type": "object", "required": ["email"], "properties": {"email": {"type": ["string", "null"], "format": "email"}}}]}


def analytics_schemas() -> dict:
    from chalicelib.services import analytics

    counters = {"type": "object", "required": list(analytics.PUBLIC), "properties": {
        name: ({"type": ["number", "null"], "description": "average hours from submission; null with nothing to average"}
               if name.endswith("_hours_avg") else {"type": "integer"}) for name in analytics.PUBLIC}}
    group = {"allOf": [{"$ref": "#/components/schemas/AnalyticsCounters"}, {
        "type": "object", "description": "the group_by keys (catalogue codes; day YYYY-MM-DD, week 2026-W48, month YYYY-MM), "
                                         "then the counters",
        "properties": {name: {"type": "string"} for name in analytics.GROUPS}}]}
    summary = {"type": "object", "required": ["from", "to", "group_by", "filters", "groups", "totals"], "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "group_by": {"type": "array", "items": {"enum": list(analytics.GROUPS)}},
        "filters": {"type": "object", "description": "the filters applied: name -> values",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "groups": {"type": "array", "items": {"$ref": "#/components/schemas/AnalyticsGroup"},
                   "description": "sorted by their keys; without group_by one group equal to the totals"},
        "totals": {"$ref": "#/components/schemas/AnalyticsCounters"}}}
    number = {"type": "number"}
    item = {"type": "object", "required": ["rank", "sector", "current", "baseline", "baseline_windows", "peer_expected",
                                           "sector_current", "trend", "peer", "score"], "properties": {
        "rank": {"type": "integer", "minimum": 1}, "sector": {"type": "string"},
        "outlet": {"type": "string", "description": "level=outlet: the outlet code"},
        "region": {"type": "string", "description": "level=region or outlet: KATO oblast code"},
        "category": {"type": "string", "description": "level=category"},
        "current": {"type": "integer"}, "baseline": number,
        "baseline_windows": {"type": "array", "items": {"type": "integer"},
                             "minItems": analytics.BASELINE_WINDOWS, "maxItems": analytics.BASELINE_WINDOWS,
                             "description": "counts of the windows before, oldest first"},
        "peer_expected": number, "sector_current": {"type": "integer"},
        "peers": {"type": "integer", "description": "level=outlet: outlets of the sector in the counters"},
        "region_current": {"type": "integer"}, "category_current": {"type": "integer"},
        "national_current": {"type": "integer"},
        "trend": number, "peer": number, "score": {"type": "number", "description": "trend x peer (formula h1)"}}}
    hotspots = {"type": "object", "required": ["from", "to", "level", "formula", "baseline", "current_total", "zones",
                                               "items"], "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "level": {"enum": list(analytics.LEVELS)}, "formula": {"const": analytics.HOTSPOT_FORMULA},
        "baseline": {"type": "object", "properties": {
            "windows": {"type": "integer"}, "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"}}},
        "current_total": {"type": "integer"}, "zones": {"type": "integer", "description": "zones with complaints in the window"},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/HotspotItem"}}}}
    rate = {"type": ["number", "null"]}
    area = {"type": "object", "required": ["code", "count", "population", "per_10k", "outlets", "per_outlet"],
            "properties": {
                "code": {"type": "string", "description": "KATO region code, or a district's first four digits"},
                "name": {"type": "object", "description": "level=district: the district's name in kk, ru, en"},
                "count": {"type": "integer"}, "population": {"type": ["integer", "null"]},
                "per_10k": rate, "outlets": {"type": "integer", "description": "registered outlets"},
                "per_outlet": {**rate, "description": "null where no outlet is registered"}}}
    areas = {"type": "object", "required": ["from", "to", "level", "filters", "rows", "total", "population"],
             "properties": {
                 "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                 "level": {"enum": list(analytics.AREA_LEVELS)}, "region": {"type": "string"},
                 "filters": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                 "rows": {"type": "array", "items": area}, "total": {"type": "integer"},
                 "unassigned": {"type": "integer", "description": "level=district: the region's complaints whose "
                                                                 "outlet has no district code"},
                 "population": {"type": "object", "properties": {
                     "version": {"type": "string"}, "as_of": {"type": "string"}, "source": {"type": "string"}}}}}
    case = {"type": "object", "required": ["ref", "day", "region", "sector", "category", "agency", "kind", "status",
                                           "outcome", "overdue"], "properties": {
        "ref": {"type": "string", "description": "keyed digest of the complaint id: not the id"},
        "day": {"type": "string", "format": "date"}, "region": {"type": "string"}, "sector": {"type": "string"},
        "category": {"type": "string"}, "agency": {"type": "string"}, "kind": {"enum": list(analytics.KINDS)},
        "outlet": {"type": "string"}, "status": {"type": "string"}, "outcome": {"enum": list(analytics.OUTCOMES)},
        "business_answer_hours": number, "agency_decision_hours": number,
        "overdue": {"type": "array", "items": {"enum": ["business_overdue", "agency_overdue"]}},
        "text": {"type": "string", "description": "only with the consumer's publication consent, scrubbed of "
                                                  "personal data"}}}
    cases = {"type": "object", "required": ["from", "to", "level", "zone", "cases", "more"], "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "level": {"enum": list(analytics.LEVELS)}, "zone": {"type": "object"},
        "cases": {"type": "array", "items": case, "description": "newest first"}, "more": {"type": "boolean"}}}
    return {"AnalyticsCounters": counters, "AnalyticsGroup": group, "AnalyticsSummary": summary,
            "HotspotItem": item, "Hotspots": hotspots, "AnalyticsAreas": areas, "AnalyticsCases": cases}


def analytics_params() -> tuple[list, list, int]:
    """(summary's query parameters, hotspots', the hotspots' largest limit) from the API's own lists."""
    from chalicelib.api.analytics import HOTSPOTS_MAX
    from chalicelib.services import analytics

    def day(name, note):
        return {"name": name, "in": "query", "required": True, "schema": {"type": "string", "format": "date"},
                "description": note}

    window = [day("from", "first day, YYYY-MM-DD, Kazakhstan time"),
              day("to", f"last day, included; at most {analytics.MAX_DAYS} days counting both")]
    listed = {"type": "string"}
    summary = window + [
        {"name": "group_by", "in": "query", "required": False, "schema": listed,
         "description": "comma-separated, any of " + ", ".join(analytics.GROUPS)},
        *({"name": name, "in": "query", "required": False, "schema": listed,
           "description": f"one or more {name} values, comma-separated" + (
               " (none: complaints without one)" if name == "category" else "")} for name in analytics.FILTERS)]
    hotspots = window + [
        {"name": "level", "in": "query", "required": True, "schema": {"enum": list(analytics.LEVELS)},
         "description": "outlet, or region / category within a sector"},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": HOTSPOTS_MAX, "default": 20}, "description": "items"}]
    return summary, hotspots, HOTSPOTS_MAX


def _json(schema_ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _errors(*codes) -> dict:
    """Error responses, all of the Error shape; a code may come as (code, what it means on this route)."""
    text = {400: "Malformed request (bad JSON, bad code or cursor)", 401: "Missing or invalid key",
            403: "The key's role may not do this", 404: "Not found", 409: "Conflict",
            413: "Body over 64 KB", 422: "Invalid fields", 429: "Limit reached (limit_reached)"}
    pairs = [entry if isinstance(entry, tuple) else (entry, text[entry]) for entry in codes]
    return {str(code): {"description": note, **_json("Error")} for code, note in pairs}


def _op(summary: str, ok: dict, *, errors=(), body: str | dict | None = None, params=(), admin=False,
        tags=("public",), role: str | tuple | None = None, tag: str | None = None) -> dict:
    """`role`: the role, or a tuple of roles any of which may call (OpenAPI reads a list of security
    requirements as alternatives); `tag` overrides the role's tag. `body`: a schema name or a schema."""
    op = {"summary": summary, "tags": list(tags), "responses": {**ok, **_errors(*errors)}}
    if body:
        schema = body if isinstance(body, dict) else {"$ref": f"#/components/schemas/{body}"}
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if params:
        op["parameters"] = list(params)
    role = "admin" if admin else role
    if role:
        roles = (role,) if isinstance(role, str) else tuple(role)
        op["security"] = [{f"{name}Key": []} for name in roles]
        op["tags"] = [roles[0]]
    if tag:
        op["tags"] = [tag]
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
CACHED = {"Cache-Control": {"schema": {"type": "string"}, "description": "public, max-age=60"}}
PNG = {"200": {"description": "Sticker", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}}
PDF = {"200": {"description": "PDF for print", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def open311_push_schemas() -> dict:
    """Open311 GeoReport v2 (docs/open311.md) and Web Push (docs/push.md)."""
    from chalicelib.api import push_schemas as push

    text, nullable = {"type": "string"}, {"type": ["string", "null"]}
    request = {"type": "object", "properties": {
        "service_request_id": text, "status": {"enum": ["open", "closed"]},
        "status_notes": {"type": "string", "description": "the status label in the asked language"},
        "service_name": nullable, "service_code": nullable,
        "description": {"type": "null", "description": "never the complaint's text"},
        "agency_responsible": text, "service_notice": {"type": "null"},
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": {"type": "string", "format": "date-time"},
        "expected_datetime": {"type": ["string", "null"], "format": "date-time",
                              "description": "the next deadline still running (open requests)"},
        "address": nullable, "address_id": {"type": ["string", "null"], "description": "the outlet's code"},
        "zipcode": {"type": "null"}, "lat": {"type": "null"}, "long": {"type": "null"}, "media_url": {"type": "null"}}}
    attribute = {"type": "object", "properties": {
        "variable": {"type": "boolean"}, "code": text, "datatype": {"enum": ["string", "singlevaluelist"]},
        "required": {"type": "boolean"}, "datatype_description": nullable, "order": {"type": "integer"},
        "description": text, "values": {"type": "array", "items": {"type": "object", "properties": {
            "key": text, "name": text}}}}}
    form = {"type": "object", "required": ["service_code", "description"], "properties": {
        "jurisdiction_id": {"const": "kz"}, "api_key": {"type": "string", "description": "optional; grants no access, but scopes retries: the same api_key with the same fields returns the first complaint (or send Idempotency-Key)"},
        "service_code": text, "description": {"type": "string", "minLength": 10, "maxLength": 5000},
        "attribute[outlet_code]": {"type": "string", "description": "the sticker's code (or address_id)"},
        "address_id": text, "attribute[language]": {"enum": ["kk", "ru", "en"]},
        "attribute[publish_consent]": {"enum": ["true", "false"]}, "email": text, "phone": text,
        "first_name": text, "last_name": text, "lat": {"type": "number"}, "long": {"type": "number"},
        "address_string": text, "device_id": text, "account_id": text, "media_url": text},
        "additionalProperties": False}
    return {
        "Open311Service": {"type": "object", "properties": {
            "service_code": text, "service_name": text, "description": text, "metadata": {"const": True},
            "type": {"const": "realtime"}, "keywords": text, "group": nullable}},
        "Open311ServiceDefinition": {"type": "object", "properties": {
            "service_code": text, "attributes": {"type": "array", "items": attribute}}},
        "Open311Request": request,
        "Open311Created": {"type": "object", "properties": {
            "service_request_id": text, "service_notice": text, "account_id": {"type": "null"},
            "status_url": {"type": "string", "format": "uri", "description": "the submitter's private tracking link"},
            "tracking_token": text}},
        "Open311Errors": {"type": "array", "items": {"type": "object", "required": ["code", "description"],
                                                     "properties": {"code": {"type": "integer"}, "description": text}}},
        "Open311RequestIn": form,
        "PushKey": {"type": "object", "required": ["public_key"], "properties": {"public_key": {
            "type": "string", "description": "VAPID application server key: base64url, uncompressed P-256 point"}}},
        "PushSubscribeIn": push.SubscribeIn.model_json_schema(ref_template="#/components/schemas/{model}"),
        "PushUnsubscribeIn": push.UnsubscribeIn.model_json_schema(ref_template="#/components/schemas/{model}"),
    }


def open311_push_paths(op, cid, token_header) -> dict:
    """The Open311 and Web Push paths (their schemas: open311_push_schemas)."""
    def formats(ref: str, array: bool = True) -> dict:
        schema = {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}} if array else \
            {"$ref": f"#/components/schemas/{ref}"}
        return {"application/json": {"schema": schema}, "text/xml": {"schema": {"type": "string"}}}

    def errors(*codes) -> dict:
        return {str(code): {"description": note, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}},
            "text/xml": {"schema": {"type": "string", "description": "<errors><error><code/><description/></error></errors>"}}}}
            for code, note in codes}

    locale = {"name": "locale", "in": "query", "required": False, "schema": {"enum": ["kk", "ru", "en"]},
              "description": "the language of names and messages (else Accept-Language)"}
    jurisdiction = {"name": "jurisdiction_id", "in": "query", "required": False, "schema": {"const": "kz"}}

    def o311(summary, ok_code, ok_desc, content, errs, params=(), body=False) -> dict:
        operation = {"summary": summary, "tags": ["open311"], "parameters": [locale, jurisdiction, *params],
                     "responses": {ok_code: {"description": ok_desc, "content": content}, **errors(*errs)}}
        if body:
            schema = {"$ref": "#/components/schemas/Open311RequestIn"}
            operation["requestBody"] = {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": schema}, "application/json": {"schema": schema}}}
            operation["parameters"].append({"name": "Idempotency-Key", "in": "header", "required": False,
                                            "schema": {"type": "string", "maxLength": 200}})
        return operation

    bad = (400, "Bad parameter (a field per entry)")
    query = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": note}
             for name, note in (("service_request_id", "up to 20 ids, comma-separated; overrides the rest"),
                                ("service_code", "comma-separated"), ("status", "open, closed or both"),
                                ("start_date", "W3C date-time"), ("end_date", "W3C date-time, at most 90 days later"),
                                ("limit", "1-200, default 50"))]
    paths = {}
    for fmt in ("json", "xml"):
        paths[f"/open311/v2/services.{fmt}"] = {"get": o311(
            "Open311: the services (complaint categories)", "200", "The services", formats("Open311Service"),
            (bad, (404, "Unknown jurisdiction")))}
        paths[f"/open311/v2/requests.{fmt}"] = {
            "get": o311("Open311: public status of requests, newest first (docs/open311.md)", "200", "The requests",
                        formats("Open311Request"), (bad,), params=query),
            "post": o311("Open311: file a complaint, routed like POST /complaints; a retry returns the first",
                         "201", "Created (or replayed: Idempotent-Replayed: true)", formats("Open311Created"),
                         (bad, (404, "Unknown jurisdiction"), (409, "Idempotency-Key reused"), (413, "Body over 64 KB")),
                         body=True)}
    paths["/open311/v2/services/{service_file}"] = {"get": o311(
        "Open311: a service's attributes (the outlet code, required)", "200", "The definition",
        formats("Open311ServiceDefinition", array=False), (bad, (404, "Unknown service or format")),
        params=[{"name": "service_file", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "<service_code>.json or .xml"}])}
    paths["/open311/v2/requests/{request_file}"] = {"get": o311(
        "Open311: one request's public status (a list of one)", "200", "The request", formats("Open311Request"),
        (bad, (404, "Unknown request or format")),
        params=[{"name": "request_file", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "<service_request_id>.json or .xml"}])}
    paths["/push/key"] = {"get": op(
        "Web Push: the VAPID application server key for PushManager.subscribe (docs/push.md)",
        {"200": {"description": "The key", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/PushKey"}}}}},
        errors=((404, "Push is not configured here (push_unavailable)"),))}
    subscribed = {"description": "Subscribed", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"subscribed": {"const": True}}}}}}
    paths["/complaints/{complaint_id}/push-subscriptions"] = {
        "post": op("Web Push: this device follows the complaint's status (tracking token holder only)",
                   {"201": subscribed, "200": {**subscribed, "description": "Already subscribed (kept up to date)"}},
                   errors=(400, (404, "No complaint matches, or push is not configured"),
                           (409, "The complaint is closed (complaint_closed)"), 413,
                           (422, "Invalid fields (push_endpoint_refused, invalid_push_key)"),
                           (429, "Too many devices follow this complaint (too_many_subscriptions)")),
                   body="PushSubscribeIn", params=[cid, token_header]),
        "delete": op("Web Push: this device stops following the complaint", {"204": {"description": "Gone"}},
                     errors=(400, (404, "No complaint matches"), 413, 422), body="PushUnsubscribeIn",
                     params=[cid, token_header])}
    return paths


def build() -> dict:
    from chalicelib.api import schemas

    models = {"ComplaintIn": schemas.ComplaintIn, "PreviewIn": schemas.PreviewIn,
              "BusinessIn": schemas.BusinessIn, "OutletIn": schemas.OutletIn,
              "OutletStatusIn": schemas.OutletStatusIn, "RerouteIn": schemas.RerouteIn,
              "ResponseIn": schemas.ResponseIn, "FeedbackIn": schemas.FeedbackIn, "KeyIn": schemas.KeyIn,
              "DeadlineJobIn": schemas.DeadlineJobIn, "QuickRatingIn": schemas.QuickRatingIn,
              "ReleaseIn": schemas.ReleaseIn, "AgencyChannelsIn": schemas.AgencyChannelsIn,
              "BusinessChannelsIn": schemas.BusinessChannelsIn}
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
                       "StatusChangeIn": STATUS_CHANGE, "IssuedKey": ISSUED_KEY, "OutletPublic": OUTLET_PUBLIC,
                       "Channels": CHANNELS, "BusinessChannels": BUSINESS_CHANNELS,
                       **rating_schemas(), **analytics_schemas(), **transparency_schemas(),
                       **open311_push_schemas()})
    summary_params, hotspot_params, hotspots_max = analytics_params()
    ok = lambda ref, code="200", desc="OK": {code: {"description": desc, **_json(ref)}}  # noqa: E731
    plain = lambda desc: {"200": {"description": desc, "content": {"application/json": {"schema": {"type": "object"}}}}}  # noqa: E731
    paths = {
        **open311_push_paths(_op, CID, TOKEN_HEADER),
        "/health": {"get": _op("Liveness", plain("The API answers"))},
        "/catalog": {"get": _op("Agencies, categories, sectors and regions for the form, in kk/ru/en",
                                plain("The catalogue"))},
        "/outlets/{code}": {"get": _op("An outlet's public card (no personal data) with its rating", ok("OutletPublic"),
                                       errors=(400, 404), params=[CODE])},
        "/outlets/{code}/ratings": {"post": _op(
            "A quick rating from the sticker's page: 1-5 stars, no complaint. One per device and at most three per "
            "network address per outlet per day; during a burst review it is held (docs/ratings.md)",
            {"201": {"description": "Counted (or replayed for the same Idempotency-Key, with Idempotent-Replayed: true)",
                     "headers": {"Idempotent-Replayed": {"schema": {"const": "true"},
                                                         "description": "present on a replay"}},
                     **_json("QuickRatingAccepted")}},
            errors=(400, (404, "No active outlet has this code"),
                    (409, "The Idempotency-Key was used with another body, or a collision to retry"), 413,
                    (422, "Invalid fields (fields.stars: 1..5)"),
                    (429, "limit_reached: this device or address has rated the outlet enough today")),
            body="QuickRatingIn", params=[CODE, IDEMPOTENCY])},
        "/ratings/outlets/{code}": {"get": _op(
            "An outlet's public rating (formula r1): one read, cached for a minute",
            {"200": {"description": "The rating", "headers": CACHED, **_json("OutletRating")}},
            errors=(400, (404, "No outlet has this code")), params=[CODE])},
        "/public/outlets/{code}": {"get": _op(
            "An outlet's public record (web/outlet.html): its rating or why it is withheld, the shares of complaints "
            "answered in time and settled, its sector's average; one GetItem and one BatchGetItem, cached 5 minutes",
            {"200": {"description": "The record", "headers": CACHED, **_json("PublicOutletPage")}},
            errors=(400, (404, "No outlet has this code")), params=[CODE])},
        "/public/businesses/{bin}": {"get": _op(
            "A seller's public record and a page of its outlets, each with its own (web/chain.html)",
            {"200": {"description": "The record", "headers": CACHED, **_json("PublicBusinessPage")}},
            errors=((400, "Not a valid BIN/IIN, limit or cursor"), (404, "No business with this BIN/IIN is registered")),
            params=[BIN, _query("limit", "outlets per page, 1-50 (default 20)", "integer"),
                    _query("cursor", "next_cursor of the previous page")])},
        "/open-data": {"get": _op(
            "The open-data files (CSV and JSON Lines, CC BY 4.0), newest first: one per submission day and format "
            "(docs/open-data.md)",
            {"200": {"description": "The files", **_json("OpenDataListing")}},
            errors=((400, "Not a valid limit"), (422, "Not a cursor this API gave out")),
            params=[_query("limit", "files per page, 1-366 (default 60)", "integer"),
                    _query("cursor", "next_cursor of the previous page")])},
        "/open-data/{name}": {"get": _op(
            "One open-data file: a redirect to a link on the bucket valid for 5 minutes",
            {"302": {"description": "Location: the file", "headers": {"Location": {"schema": {"type": "string"}}}}},
            errors=((404, "No such file (open_data_file_not_found), or no bucket here (open_data_unavailable)"),),
            params=[_path_param("name", "complaints-YYYY-MM-DD.csv or .jsonl")])},
        "/ratings/businesses/{bin}": {"get": _op(
            "A business's public rating: its outlets and complaints by BIN together",
            {"200": {"description": "The rating", "headers": CACHED, **_json("BusinessRating")}},
            errors=((400, "Not a valid BIN/IIN (invalid_bin)"), (404, "No business with this BIN/IIN is registered")),
            params=[BIN])},
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
        "/channels/telegram/webhook": {"post": _op(
            "Telegram's webhook (Bot API updates; docs/telegram.md). Authenticated by the secret token given to "
            "setWebhook, in X-Telegram-Bot-Api-Secret-Token. Every readable update is answered 200, handled or "
            "ignored; a re-sent update_id is acknowledged and not processed again",
            plain("{\"ok\": true, \"status\": \"handled\" | \"duplicate\" | \"busy\" | \"ignored\"}"),
            errors=((400, "Not JSON, or no integer update_id (invalid_update)"),
                    (401, "No X-Telegram-Bot-Api-Secret-Token (missing_secret_token)"),
                    (403, "A wrong secret token (invalid_secret_token)"),
                    (404, "The bot is not configured on this stage (telegram_unavailable)"), 413),
            body={"type": "object", "required": ["update_id"],
                  "description": "A Telegram Update (message or callback_query), as the Bot API sends it"},
            params=[{"name": "X-Telegram-Bot-Api-Secret-Token", "in": "header", "required": True,
                     "schema": {"type": "string"}, "description": "the secret_token given to setWebhook"}],
            tag="channels")},
        "/agency/channels": {
            "get": _op("The caller's agency's notification channels (the signing secret is never shown)",
                       ok("Channels"), errors=(401, 403), role="agency"),
            "put": _op("Set or remove (null) the agency's webhook URL; setting one issues a new signing secret, "
                       "returned in this answer only. A field left out stays as it is",
                       ok("Channels"), errors=(400, 401, (403, "Not an agency key, or a regional key (only a key for "
                                                                "the whole agency may change its channels)"),
                                               413, (422, "Invalid fields (a webhook URL must be https to a public host)")),
                       body="AgencyChannelsIn", role="agency")},
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
        "/business/channels": {
            "get": _op("The caller's BIN's notification channels: webhook and email", ok("BusinessChannels"),
                       errors=(401, 403), role="business"),
            "put": _op("Set or remove (null) the business's webhook URL and email; setting a webhook issues a new "
                       "signing secret, returned in this answer only. A field left out stays as it is",
                       ok("BusinessChannels"), errors=(400, 401, 403, 413, 422), body="BusinessChannelsIn",
                       role="business")},
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
        "/admin/channels/{owner}": {"put": _op(
            "Set an agency's or a business's notification channels for it (the body of the owner's own PUT)",
            {"200": {"description": "The channels as stored", "content": {"application/json": {"schema": {"oneOf": [
                {"$ref": "#/components/schemas/Channels"}, {"$ref": "#/components/schemas/BusinessChannels"}]}}}}},
            errors=((400, "Bad JSON, or an owner that is not agency:<id> or business:<BIN> (invalid_owner)"), 401, 403,
                    (404, "No such agency, or no business registered with this BIN"), 413, 422),
            body={"oneOf": [{"$ref": "#/components/schemas/AgencyChannelsIn"},
                            {"$ref": "#/components/schemas/BusinessChannelsIn"}],
                  "description": "AgencyChannelsIn for an agency, BusinessChannelsIn for a business"},
            params=[_path_param("owner", "agency:<id> or business:<BIN> (agency#<id> works too, with # encoded as %23)")],
            admin=True)},
        "/admin/ratings/outlets/{code}/release": {"post": _op(
            "Publish or discard an outlet's quick ratings held for review after a burst, and clear its flag "
            "(once per flag; again it releases nothing)",
            ok("RatingRelease"), errors=(400, 401, 403, 404, (409, "The ratings changed meanwhile: try again"), 413,
                                         (422, "Invalid fields (decision: publish or discard)")),
            body="ReleaseIn", params=[CODE], admin=True)},
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
        "/analytics/summary": {"get": _op(
            "Complaint counters for a date range, grouped and filtered (docs/analytics.md)", ok("AnalyticsSummary"),
            errors=(401, 403, (422, "A missing or bad date, a range over the limit, an unknown group_by, filter value "
                                    "or parameter (fields.<name>)")),
            params=summary_params, role=("analyst", "admin"), tag="analytics")},
        "/analytics/summary.csv": {"get": _op(
            "The summary's groups as CSV: a header row, one row per group, <dimension>_name columns in the "
            "Accept-Language; UTF-8 with a byte-order mark",
            {"200": {"description": "CSV download", "headers": {
                "Content-Disposition": {"schema": {"type": "string"},
                                        "description": 'attachment; filename="qalqan-summary-<from>-<to>.csv"'},
                "Content-Language": {"schema": {"enum": ["kk", "ru", "en"]}}},
                "content": {"text/csv": {"schema": {"type": "string"}}}}},
            errors=(401, 403, 422), params=summary_params, role=("analyst", "admin"), tag="analytics")},
        "/analytics/hotspots": {"get": _op(
            "Problem zones of a window, ranked above both their own past and their sector's peers (formula h1)",
            ok("Hotspots"), errors=((400, f"limit is not 1..{hotspots_max} (invalid_limit)"), 401, 403,
                                    (422, "A missing or bad date or level, or an unknown parameter")),
            params=hotspot_params, role=("analyst", "admin"), tag="analytics")},
        "/analytics/areas": {"get": _op(
            "Complaints per region (or per district of region=71), per 10,000 residents and per registered outlet",
            ok("AnalyticsAreas"), errors=(401, 403, (422, "A bad date, level or filter; district level without a "
                                                          "region with district data, or with a filter but sector")),
            params=summary_params[:2] + [
                {"name": "level", "in": "query", "required": False,
                 "schema": {"enum": ["region", "district"], "default": "region"}, "description": "map level"},
                *[prm for prm in summary_params[2:] if prm["name"] != "group_by"]],
            role=("analyst", "admin"), tag="analytics")},
        "/analytics/cases": {"get": _op(
            "A problem zone's anonymised cases, newest first (text only with publication consent, scrubbed)",
            ok("AnalyticsCases"), errors=((400, "limit is not 1..100 (invalid_limit)"), 401, 403,
                                          (422, "A bad date or level, a zone part missing or unknown")),
            params=summary_params[:2] + [
                {"name": "level", "in": "query", "required": True, "schema": {"enum": ["region", "category", "outlet"]},
                 "description": "the zone: region+sector, category+sector, or outlet"},
                *({"name": n, "in": "query", "required": False, "schema": {"type": "string"},
                   "description": f"the zone's {n}"} for n in ("region", "category", "sector", "outlet")),
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}, "description": "cases"}],
            role=("analyst", "admin"), tag="analytics")},
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
                           for role in ("admin", "analyst", "agency", "business")}},
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
