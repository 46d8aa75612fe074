"""Open311 GeoReport v2 over the same use cases as the form: the service list is the catalogue's categories,
a service request is a complaint (submitted through `submit_complaint`, routed exactly like POST /complaints),
and a request's public view is its status without anything that could name a person.

What a public request shows, and why no more: the id, the category, the open/closed status with a label,
the agency handling it, when it was filed, changed and is due, and the outlet (a shop's public code and
address, as on its public card). Never the complaint's text (it is the consumer's own words and may name
people), the contact, or a business that is not registered here (an unverified name).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from chalicelib.domain.catalog import LANGUAGES, Catalog
from chalicelib.domain.codes import display_code, is_complaint_id, keyed_digest
from chalicelib.domain.errors import NotFound, ValidationFailed, field_error
from chalicelib.domain.model import OPEN_STATUSES, Complaint, Status
from chalicelib.i18n import label

JURISDICTION = "kz"
# The spec's default and largest window for GET requests: 90 days.
WINDOW = timedelta(days=90)
LIST_DEFAULT, LIST_MAX = 50, 200
IDS_MAX = 20
OPEN = frozenset(s.value for s in OPEN_STATUSES)
CLOSED = frozenset(s.value for s in Status) - OPEN

# The attributes of every service (GET services/{code}): where the complaint points, and two options.
ATTRIBUTE_TEXT = {
    "outlet_code": {
        "kk": "Qalqan стикеріндегі сауда нүктесінің коды (мысалы, 7KQ4-M2XP)",
        "ru": "Код торговой точки с наклейки Qalqan (например, 7KQ4-M2XP)",
        "en": "The outlet's code from the Qalqan sticker (for example 7KQ4-M2XP)",
    },
    "language": {
        "kk": "Хабарламалар тілі",
        "ru": "Язык уведомлений",
        "en": "The language of notifications",
    },
    "publish_consent": {
        "kk": "Шағымымның мәтіні жеке деректерімсіз ашық деректерде жариялануы мүмкін",
        "ru": "Текст моей жалобы может быть опубликован в открытых данных без моих персональных данных",
        "en": "The text of my complaint may be published, without my personal data, in the open data",
    },
}
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
YES_NO = {"true": {"kk": "Иә", "ru": "Да", "en": "Yes"}, "false": {"kk": "Жоқ", "ru": "Нет", "en": "No"}}
NOTICE = {
    "kk": "Шағым {agency} органына жіберілді. Сатушы {due} дейін жауап беруі тиіс.",
    "ru": "Жалоба направлена в {agency}. Продавец должен ответить до {due}.",
    "en": "The complaint was sent to {agency}. The seller must answer by {due}.",
}
# Open311 field names of the submission's fields, for error descriptions a client can act on.
SPEC_NAMES = {"text": "description", "outlet_code": "attribute[outlet_code]", "category": "service_code",
              "language": "attribute[language]",
              "contact.name": "first_name", "contact.phone": "phone", "contact.email": "email"}
# Form fields the spec defines that a sticker-based submission does not use (the outlet's code locates the
# complaint): accepted, checked for shape, and not stored.
UNUSED = ("lat", "long", "address_string", "device_id", "account_id", "media_url")
KNOWN = frozenset({"jurisdiction_id", "api_key", "service_code", "address_id", "email", "first_name", "last_name",
                   "phone", "description", "publish_consent", *UNUSED})
ATTRIBUTES = ("outlet_code", "language", "publish_consent")


def services(catalog: Catalog, lang: str) -> list[dict]:
    """Every category as a service, in the catalogue's order, named in `lang`."""
    rows = []
    for category in catalog.categories.values():
        agency = catalog.agencies.get(category.default_agency) if category.default_agency else None
        others = [category.name[other] for other in LANGUAGES if other != lang]
        rows.append({
            "service_code": category.id, "service_name": category.name[lang],
            "description": " / ".join(others), "metadata": True, "type": "realtime",
            "keywords": category.id.replace("_", " "),
            "group": agency.name[lang] if agency else None,
        })
    return rows


def service_definition(catalog: Catalog, code: str, lang: str) -> dict:
    if code not in catalog.categories:
        raise NotFound(f"No service has the code {code!r}.")
    return {
        "service_code": code,
        "attributes": [
            {"variable": True, "code": "outlet_code", "datatype": "string", "required": True,
             "datatype_description": "4+4 characters, as printed", "order": 1,
             "description": ATTRIBUTE_TEXT["outlet_code"][lang], "values": []},
            {"variable": True, "code": "language", "datatype": "singlevaluelist", "required": False,
             "datatype_description": None, "order": 2, "description": ATTRIBUTE_TEXT["language"][lang],
             "values": [{"key": key, "name": LANGUAGE_NAMES[key]} for key in LANGUAGES]},
            {"variable": True, "code": "publish_consent", "datatype": "singlevaluelist", "required": False,
             "datatype_description": None, "order": 3, "description": ATTRIBUTE_TEXT["publish_consent"][lang],
             "values": [{"key": key, "name": names[lang]} for key, names in YES_NO.items()]},
        ],
    }


def check_jurisdiction(value: str | None) -> None:
    if value is not None and value != JURISDICTION:
        raise NotFound(f"jurisdiction_id {value!r} is not served here; use {JURISDICTION!r}.")


# --- submission -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Open311Submission:
    """A POST requests body turned into the body POST /complaints takes, with the key a retry maps to."""
    complaint_body: dict
    derived_key: str | None


def _one(values, name: str) -> str:
    """A form field given once; a repeated one is ambiguous."""
    if isinstance(values, list):
        if len(values) != 1:
            raise ValidationFailed("Some fields are invalid.", fields=field_error(name, "repeated", "give it once"))
        values = values[0]
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        values = str(values)  # JSON clients send lat/long as numbers
    if not isinstance(values, str):
        raise ValidationFailed("Some fields are invalid.", fields=field_error(name, "string_type", "a text value"))
    return values


def _flatten(body: dict) -> dict[str, str]:
    """Form fields (`attribute[x]` keys) and JSON (an `attribute` object, or the same flat keys) alike."""
    flat: dict[str, str] = {}
    for name, value in body.items():
        if name == "attribute" and isinstance(value, dict):
            for key, inner in value.items():
                name_of = f"attribute[{key}]"
                # JSON may say true/false for the consent; every other attribute is text
                flat[name_of] = inner if key == "publish_consent" and isinstance(inner, bool) else _one(inner, name_of)
            continue
        if isinstance(value, bool) and name == "publish_consent":
            flat[name] = value
            continue
        flat[name] = _one(value, name)
    return flat


def _consent(value, name: str) -> bool:
    """Strictly a boolean: JSON true/false, or the form's "true"/"false"."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValidationFailed("Some fields are invalid.",
                           fields=field_error(name, "bool_type", "true or false"))


def _number(value: str, name: str, low: float, high: float) -> None:
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high or value.strip().lower() in ("nan", "inf", "-inf"):
        raise ValidationFailed("Some fields are invalid.",
                               fields=field_error(name, "out_of_range", f"a number from {low:g} to {high:g}"))


def submission(body: dict, *, api_key: str | None, secret: str) -> Open311Submission:
    """Map an Open311 POST requests body onto the body of POST /complaints (validated there, by the same
    request model), with the key a retry maps to when the client named itself by an api_key."""
    flat = _flatten(body)
    unknown = sorted(name for name in flat if name not in KNOWN and not (
        name.startswith("attribute[") and name.endswith("]") and name[10:-1] in ATTRIBUTES))
    if unknown:
        raise ValidationFailed("Some fields are invalid.", fields={
            name: {"code": "extra_forbidden", "message": "not a field of this service"} for name in unknown})
    check_jurisdiction(flat.get("jurisdiction_id"))
    if "service_code" not in flat:
        raise ValidationFailed("Some fields are invalid.",
                               fields=field_error("service_code", "missing", "the service's code is required"))
    for name, low, high in (("lat", -90, 90), ("long", -180, 180)):
        if flat.get(name):
            _number(flat[name], name, low, high)
    from_attribute, from_address = flat.get("attribute[outlet_code]"), flat.get("address_id")
    if from_attribute and from_address and from_attribute.strip() != from_address.strip():
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            "address_id", "conflict", "differs from attribute[outlet_code]; give the sticker's code once"))
    complaint = {"category": flat["service_code"], "text": flat.get("description", ""), "channel": "api",
                 "outlet_code": from_attribute or from_address}
    if flat.get("attribute[language]"):
        complaint["language"] = flat["attribute[language]"]
    name = " ".join(part.strip() for part in (flat.get("first_name", ""), flat.get("last_name", "")) if part.strip())
    contact = {key: value for key, value in (("name", name), ("phone", flat.get("phone")),
                                             ("email", flat.get("email"))) if value}
    if contact:
        complaint["contact"] = contact
    consent_field = "attribute[publish_consent]" if "attribute[publish_consent]" in flat else "publish_consent"
    if consent_field in flat:
        complaint["publish_consent"] = _consent(flat[consent_field], consent_field)
    return Open311Submission(complaint_body=complaint, derived_key=_derived_key(secret, api_key, flat))


def _derived_key(secret: str, api_key: str | None, flat: dict) -> str | None:
    """A retry of the same request by the same api_key maps to the same complaint; without an api_key there is
    no key. The replay answers with the first complaint's tracking token, so a key anyone could recompute from
    the fields (two shoppers typing the same short text, or someone replaying a request they saw listed) would
    hand them another person's private link: keyed with the stage secret and scoped to the api_key, it can only
    be hit again by whoever holds that api_key."""
    if not api_key:
        return None
    canonical = json.dumps({"api_key": api_key, "fields": flat}, sort_keys=True, ensure_ascii=False)
    return "open311:" + keyed_digest(secret, "open311-retry", canonical).hex()


def spec_fields(fields: dict) -> dict:
    """Error fields under the names an Open311 client sent (description, attribute[outlet_code], ...)."""
    return {SPEC_NAMES.get(name, name): detail for name, detail in fields.items()}


def created(complaint: Complaint, catalog: Catalog, lang: str, *, status_url: str, token: str,
            rules_tz) -> dict:
    """The spec's answer to POST requests, plus where to follow it privately (the submitter's own link)."""
    agency = catalog.agencies.get(complaint.agency_id)
    due = complaint.business_due_at.astimezone(rules_tz).strftime("%d.%m.%Y") if complaint.business_due_at else "—"
    return {"service_request_id": complaint.id,
            "service_notice": NOTICE[lang].format(agency=agency.name[lang] if agency else complaint.agency_id, due=due),
            "account_id": None, "status_url": status_url, "tracking_token": token}


# --- public status ------------------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def public_request(complaint: Complaint, catalog: Catalog, lang: str) -> dict:
    category = catalog.categories.get(complaint.category) if complaint.category else None
    agency = catalog.agencies.get(complaint.agency_id)
    status = complaint.status.value
    registered_outlet = complaint.outlet_code and complaint.business_registered
    return {
        "service_request_id": complaint.id,
        "status": "open" if status in OPEN else "closed",
        "status_notes": label("status", status)[lang],
        "service_name": category.name[lang] if category else None,
        "service_code": complaint.category,
        "description": None,
        "agency_responsible": agency.name[lang] if agency else complaint.agency_id,
        "service_notice": None,
        "requested_datetime": _iso(complaint.created_at),
        "updated_datetime": _iso(complaint.updated_at),
        # the next deadline still running (the seller's answer, then the agency's decision)
        "expected_datetime": _iso(complaint.next_due_at) if status in OPEN else None,
        "address": complaint.outlet_address if registered_outlet else None,
        "address_id": display_code(complaint.outlet_code) if registered_outlet else None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def one_request(request_id: str, *, complaints, catalog: Catalog, lang: str) -> dict:
    """A complaint's public status; an unknown id and a malformed one are the same 404."""
    complaint = complaints.get(request_id) if is_complaint_id(request_id) else None
    if complaint is None:
        raise NotFound(f"No service request has the id {request_id!r}.")
    return public_request(complaint, catalog, lang)


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[str, ...] = ()
    categories: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = LIST_DEFAULT


def _w3c(value: str, name: str) -> datetime:
    """A W3C date-time (2026-11-01T00:00:00Z or +05:00) or a plain date (midnight UTC)."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or not 2000 <= moment.year <= 2100:
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            name, "invalid_datetime", "a W3C date-time such as 2026-11-01T00:00:00Z"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _list(value: str, name: str, known, what: str) -> frozenset[str]:
    items = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [item for item in items if item not in known]
    if not items or unknown or len(items) > 50:
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            name, f"unknown_{what}", f"comma-separated values ({what}); unknown: {', '.join(unknown[:5]) or 'none given'}"))
    return frozenset(items)


def request_query(params: dict, catalog: Catalog) -> RequestQuery:
    known = {"jurisdiction_id", "service_request_id", "service_code", "status", "start_date", "end_date", "limit",
             "locale", "api_key"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValidationFailed("Some fields are invalid.", fields={
            name: {"code": "extra_forbidden", "message": "not a parameter of this list"} for name in unknown})
    check_jurisdiction(params.get("jurisdiction_id"))
    if params.get("service_request_id"):
        ids = tuple(dict.fromkeys(part.strip() for part in params["service_request_id"].split(",") if part.strip()))
        if not ids or len(ids) > IDS_MAX:
            raise ValidationFailed("Some fields are invalid.", fields=field_error(
                "service_request_id", "out_of_range", f"1 to {IDS_MAX} comma-separated ids"))
        return RequestQuery(ids=ids)  # the spec: ids override every other filter
    categories = _list(params["service_code"], "service_code", catalog.categories, "service") \
        if params.get("service_code") else None
    statuses = None
    if params.get("status"):
        wanted = _list(params["status"], "status", ("open", "closed"), "status")
        statuses = None if len(wanted) == 2 else (OPEN if "open" in wanted else CLOSED)
    start = _w3c(params["start_date"], "start_date") if params.get("start_date") else None
    end = _w3c(params["end_date"], "end_date") if params.get("end_date") else None
    if start and end and start > end:
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            "end_date", "before_start", "end_date is before start_date"))
    if start and end and end - start > WINDOW:
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            "end_date", "range_too_long", "a range may span at most 90 days"))
    raw = params.get("limit")
    # ASCII digits only and short: int() of a 5000-digit string raises, and '²' is a digit to str.isdigit
    if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= LIST_MAX):
        raise ValidationFailed("Some fields are invalid.", fields=field_error(
            "limit", "out_of_range", f"a whole number from 1 to {LIST_MAX}"))
    limit = int(raw) if raw is not None else LIST_DEFAULT
    return RequestQuery(categories=categories, statuses=statuses, start=start, end=end, limit=limit)


def list_requests(query: RequestQuery, *, complaints, catalog: Catalog, lang: str, now: datetime) -> list[dict]:
    """Newest first. Without dates the last 90 days; with one date, 90 days from or to it."""
    if query.ids:
        found = [complaints.get(i) for i in query.ids if is_complaint_id(i)]
        return [public_request(c, catalog, lang) for c in found if c is not None]
    end = query.end or ((query.start + WINDOW) if query.start else now)
    end = min(end, now)
    start = query.start or (end - WINDOW)
    if start > end:
        return []
    rows = complaints.requested_between(start, end, limit=query.limit, categories=query.categories,
                                        statuses=query.statuses)
    return [public_request(c, catalog, lang) for c in rows]
