"""What POST /complaints accepts: the complaint, its seller and contact, and the helpers every request model
shares (the house ConfigDict, text cleaning, the 422 `parse`).

Apart from chalicelib/api/schemas.py (which re-exports all of it) so that the first complaint after a cold start
defines three models, not every route's (bench/cold_start_packaged.py, docs/cold-start.md).
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal, Optional

from pydantic import (
    BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError, field_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.codes import parse_outlet_code
from chalicelib.domain.errors import InvalidOutletCode, ValidationFailed
from chalicelib.domain.identifiers import checksum_ok
from chalicelib.domain.model import Contact
from chalicelib.services.complaints import SellerRef, SubmitComplaint

TEXT_MIN, TEXT_MAX = 10, 5000
KZ_TIME = timezone(timedelta(hours=5))
# defer_build: a model's validator is built on its first use, not at import, so a cold POST /complaints builds
# the models it validates instead of every request model of every route (bench/cold_start_packaged.py).
_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


def _none_if_blank(value):
    """An optional text left empty is absent."""
    return value or None


def _check_in(value: Optional[str], known, what: str) -> Optional[str]:
    if value is not None and value not in known:
        raise PydanticCustomError(f"unknown_{what}", f"unknown {what} {{value}}", {"value": value})
    return value


def _bin(value: str) -> str:
    if not checksum_ok(value):
        raise PydanticCustomError("invalid_bin", "not a valid BIN/IIN: 12 digits with a correct check digit")
    return value


def clean_text(value):
    """Drop control and invisible format characters (NUL, BEL, zero-width spaces, bidirectional
    overrides such as U+202E), keep line breaks."""
    if not isinstance(value, str):
        return value
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))


def clean_line(value):
    """A one-line text (a name, an address): cleaned like free text, line breaks and tabs become spaces."""
    value = clean_text(value)
    if not isinstance(value, str):
        return value
    return " ".join(value.split())


Line = Annotated[str, BeforeValidator(clean_line)]
Text = Annotated[str, BeforeValidator(clean_text)]


def normalised_email(value):
    """An email address, normalised; None stays None (a blank was made None before). Used by every model
    with an email field."""
    if value is None:
        return None
    from email_validator import EmailNotValidError, validate_email  # ~30 ms of regex compiling: on use only

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PydanticCustomError("invalid_email", "not a valid email address: {reason}",
                                  {"reason": str(exc)}) from None


def _outlet_code(value):
    """What a person typed or scanned, as the canonical code; a typo and a malformed code are told apart
    by the exception's reason."""
    if value is None:
        return None
    try:
        return parse_outlet_code(value)
    except InvalidOutletCode as exc:
        raise PydanticCustomError(f"invalid_{exc.reason}", exc.fields["outlet_code"]["message"]) from None


OutletCode = Annotated[str, BeforeValidator(_outlet_code)]


def _has_words(value: str) -> str:
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        raise PydanticCustomError("no_words", "describe what happened in words")
    return value


class ContactIn(BaseModel):
    model_config = _STRICT
    # Optional fields are cleaned by a "before" validator, not an annotated type: pydantic would otherwise
    # check max_length after validation and report it as a count of items, not characters.
    name: Optional[str] = Field(None, max_length=200)
    phone: Optional[str] = Field(None, max_length=32)
    email: Optional[str] = Field(None, max_length=254)

    _name_clean = field_validator("name", mode="before")(clean_line)

    _blank_is_none = field_validator("name", "phone", "email")(_none_if_blank)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value):
        if value is None:
            return None
        import phonenumbers  # loaded only when a phone is given: it costs ~35 ms on a cold start

        try:
            number = phonenumbers.parse(value, "KZ")
        except phonenumbers.NumberParseException:
            raise PydanticCustomError("invalid_phone", "not a phone number") from None
        if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != "KZ":
            raise PydanticCustomError("invalid_phone", "not a valid Kazakhstan phone number (+7 7xx xxx xx xx)")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    _email = field_validator("email")(normalised_email)


class SellerIn(BaseModel):
    model_config = _STRICT
    bin: str = Field(min_length=12, max_length=12)
    name: Line = Field(min_length=2, max_length=300)
    region: str
    sector: Optional[str] = None

    _bin_ok = field_validator("bin")(_bin)

    @field_validator("region")
    @classmethod
    def _region(cls, value):
        return _check_in(value, load_catalog().regions, "region")

    @field_validator("sector")
    @classmethod
    def _sector(cls, value):
        return _check_in(value, load_catalog().sectors, "sector")


class ComplaintIn(BaseModel):
    model_config = _STRICT
    outlet_code: Optional[OutletCode] = Field(None, max_length=32)
    business: Optional[SellerIn] = None
    category: Optional[str] = None
    text: str = Field(min_length=TEXT_MIN, max_length=TEXT_MAX)
    language: Optional[Literal["kk", "ru", "en"]] = None
    channel: Literal["qr", "web", "api"] = "api"
    contact: Optional[ContactIn] = None
    share_contact_with_business: StrictBool = False
    incident_at: Optional[datetime] = None
    publish_consent: StrictBool = False

    @field_validator("category")
    @classmethod
    def _category(cls, value):
        return _check_in(value or None, load_catalog().categories, "category")

    _text_clean = field_validator("text", mode="before")(clean_text)
    _text_words = field_validator("text")(_has_words)

    @field_validator("incident_at")
    @classmethod
    def _incident(cls, value):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=KZ_TIME)  # the form sends local time without an offset
        now = datetime.now(timezone.utc)
        if value > now + timedelta(minutes=10):
            raise PydanticCustomError("in_future", "is in the future")
        if value < now - timedelta(days=3 * 365):
            raise PydanticCustomError("too_old", "is more than three years ago")
        return value.astimezone(timezone.utc)


def _limits(err: dict) -> dict:
    """The bounds a length error names, so a client (or the translated message) can say them."""
    ctx = err.get("ctx") or {}
    return {k: ctx[k] for k in ("min_length", "max_length", "ge", "le", "gt", "lt") if k in ctx}


def parse(model: type[BaseModel], body: dict) -> BaseModel:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = {}
        for err in exc.errors(include_url=False):
            path = ".".join(str(part) for part in err["loc"]) or "body"
            fields.setdefault(path, {"code": err["type"], "message": err["msg"], **_limits(err)})
        raise ValidationFailed("Some fields are invalid.", fields=fields) from None


IDEMPOTENCY_KEY_MAX = 200


def idempotency_key(raw: Optional[str]) -> Optional[str]:
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isascii() or not key.isprintable():
        raise ValidationFailed(
            "The Idempotency-Key header must be 1-200 printable ASCII characters.",
            fields={"Idempotency-Key": {"code": "invalid", "message": "1-200 printable ASCII characters"}},
        )
    return key


def submit_command(body: dict, *, key: Optional[str]) -> SubmitComplaint:
    data = parse(ComplaintIn, body)
    if (data.outlet_code is None) == (data.business is None):
        raise ValidationFailed(
            "Name the seller: either an outlet_code from the sticker or a business {bin, name, region}.",
            fields={"outlet_code": {"code": "seller_required", "message": "give outlet_code or business, not both"}},
        )
    contact = Contact(**data.contact.model_dump()) if data.contact else None
    business = SellerRef(**data.business.model_dump()) if data.business else None
    return SubmitComplaint(
        text=data.text, channel=data.channel, outlet_code=data.outlet_code, business=business,
        category=data.category, language=data.language, contact=contact,
        share_contact_with_business=data.share_contact_with_business, incident_at=data.incident_at,
        publish_consent=data.publish_consent, idempotency_key=key,
    )
