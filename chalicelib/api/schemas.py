"""Request models: what each public input may contain, checked before any use case runs.

Unknown fields are rejected (never silently dropped), so a client that tries to set `status` or
`agency` learns at once that it cannot.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Literal, Optional

from pydantic import BaseModel, Field, StrictBool, StrictInt, field_validator
from pydantic_core import PydanticCustomError

from chalicelib.domain import complaint as lifecycle
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services.admin import RegisterBusiness, RegisterOutlet

# The complaint's models and the helpers every model shares live apart, so that a cold POST /complaints
# defines only its own models; they are re-exported here, where the other routes and the tests find them.
from chalicelib.api.complaint_schemas import (  # noqa: F401
    IDEMPOTENCY_KEY_MAX, KZ_TIME, TEXT_MAX, TEXT_MIN, ComplaintIn, ContactIn, Line, OutletCode, SellerIn, Text,
    _bin, _check_in, _has_words, _limits, _none_if_blank, _STRICT, clean_line, clean_text, idempotency_key,
    normalised_email, parse, submit_command,
)

class PreviewIn(BaseModel):
    """A preview names the seller the same way a submission does: a sticker code, or the sector of
    a business without a sticker."""
    model_config = _STRICT
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    category: Optional[str] = None
    outlet_code: Optional[OutletCode] = Field(None, max_length=32)
    sector: Optional[str] = None

    _category = field_validator("category")(ComplaintIn._category.__func__)
    _text_clean = field_validator("text", mode="before")(clean_text)
    _sector = field_validator("sector")(SellerIn._sector.__func__)


class BusinessIn(BaseModel):
    model_config = _STRICT
    bin: str = Field(min_length=12, max_length=12)
    name: Line = Field(min_length=2, max_length=300)
    region: str

    _bin_ok = field_validator("bin")(_bin)
    _region = field_validator("region")(SellerIn._region.__func__)


class OutletIn(BaseModel):
    model_config = _STRICT
    business_bin: str = Field(min_length=12, max_length=12)
    name: Line = Field(min_length=2, max_length=300)
    address: Line = Field(min_length=3, max_length=500)
    region: str
    sector: str
    kato: Optional[str] = Field(None, pattern=r"^\d{9}$")
    external_ref: Optional[str] = Field(None, max_length=100)

    _ref_clean = field_validator("external_ref", mode="before")(clean_line)

    _bin_ok = field_validator("business_bin")(_bin)
    _region = field_validator("region")(SellerIn._region.__func__)

    @field_validator("sector")
    @classmethod
    def _sector(cls, value):
        return _check_in(value, load_catalog().sectors, "sector")


class OutletStatusIn(BaseModel):
    model_config = _STRICT
    status: Literal["active", "suspended"]


class TakeIn(BaseModel):
    model_config = _STRICT
    status: Literal["in_review"]


class ResolveIn(BaseModel):
    model_config = _STRICT
    status: Literal["resolved"]
    decision: Literal["violation_confirmed", "not_confirmed", "settled"]
    result: Text = Field(min_length=2, max_length=5000)


class RejectIn(BaseModel):
    model_config = _STRICT
    status: Literal["rejected"]
    reason: Text = Field(min_length=2, max_length=2000)


class RerouteIn(BaseModel):
    model_config = _STRICT
    agency_id: str
    reason: Text = Field(min_length=2, max_length=2000)

    @field_validator("agency_id")
    @classmethod
    def _agency(cls, value):
        return _check_in(value, load_catalog().agencies, "agency")


class ResponseIn(BaseModel):
    model_config = _STRICT
    message: Text = Field(min_length=2, max_length=5000)
    offer: Literal["refund", "replacement", "repair", "apology", "other"]


class _StarsIn(BaseModel):
    """1-5 stars with an optional comment: the consumer's feedback on an offer, and a quick rating."""
    model_config = _STRICT
    stars: StrictInt = Field(ge=1, le=5)
    comment: Optional[str] = Field(None, max_length=2000)

    _comment_clean = field_validator("comment", mode="before")(clean_text)
    _comment_blank = field_validator("comment")(_none_if_blank)


class FeedbackIn(_StarsIn):
    accepted: StrictBool


class KeyIn(BaseModel):
    model_config = _STRICT
    role: Literal["admin", "analyst", "agency", "business"]
    label: Line = Field(min_length=1, max_length=200)
    agency_id: Optional[str] = None
    regions: list[str] = Field(default_factory=list, max_length=20)
    bin: Optional[str] = Field(None, min_length=12, max_length=12)
    expires_at: Optional[datetime] = None

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value):
        if value is None:
            return None
        if not 2020 <= value.year <= 2100:  # also keeps astimezone() from overflowing at year 1 or 9999
            raise PydanticCustomError("out_of_range", "a date from 2020 to 2100")
        if value.tzinfo is None:
            value = value.replace(tzinfo=KZ_TIME)
        return value.astimezone(timezone.utc)


class DeadlineJobIn(BaseModel):
    model_config = _STRICT
    # Bounded: a sweep "as of year 1" means nothing, and its UTC conversion would overflow.
    as_of: date = Field(ge=date(2020, 1, 1), le=date(2100, 12, 31))


_STATUS_MODELS = {"in_review": TakeIn, "resolved": ResolveIn, "rejected": RejectIn}


def status_command(body: dict):
    """An agency's status change; the `status` value picks which other fields are required."""
    model = _STATUS_MODELS.get(body.get("status")) if isinstance(body.get("status"), str) else None
    if model is None:
        raise ValidationFailed("Some fields are invalid.", fields={"status": {
            "code": "literal_error", "message": "one of " + ", ".join(_STATUS_MODELS)}})
    change = parse(model, body)
    if isinstance(change, TakeIn):
        return lifecycle.TakeInReview()
    if isinstance(change, ResolveIn):
        return lifecycle.Resolve(decision=change.decision, result=change.result)
    return lifecycle.Reject(reason=change.reason)


def reroute_command(body: dict) -> lifecycle.Reroute:
    data = parse(RerouteIn, body)
    return lifecycle.Reroute(agency_id=data.agency_id, reason=data.reason)


def response_command(body: dict) -> lifecycle.Respond:
    data = parse(ResponseIn, body)
    return lifecycle.Respond(message=data.message, offer=data.offer)


def feedback_command(body: dict) -> lifecycle.GiveFeedback:
    data = parse(FeedbackIn, body)
    return lifecycle.GiveFeedback(accepted=data.accepted, stars=data.stars, comment=data.comment)


def key_request(body: dict) -> KeyIn:
    return parse(KeyIn, body)


def deadline_job(body: dict) -> date:
    return parse(DeadlineJobIn, body).as_of


def preview_query(body: dict) -> PreviewIn:
    return parse(PreviewIn, body)


def business_command(body: dict) -> RegisterBusiness:
    return RegisterBusiness(**parse(BusinessIn, body).model_dump())


def outlet_command(body: dict, *, key: Optional[str]) -> RegisterOutlet:
    return RegisterOutlet(**parse(OutletIn, body).model_dump(), idempotency_key=key)


def outlet_status(body: dict) -> str:
    return parse(OutletStatusIn, body).status


# --- ratings (chalicelib/api/ratings.py) ---------------------------------------------------------------
class QuickRatingIn(_StarsIn):
    comment: Optional[str] = Field(None, max_length=500)
    # a random id the page keeps in localStorage: enough to stop casual repeats, never stored as it is
    device_id: Optional[str] = Field(None, pattern=r"^[A-Za-z0-9_-]{16,64}$")


class ReleaseIn(BaseModel):
    model_config = _STRICT
    decision: Literal["publish", "discard"]


# --- notification channels (chalicelib/api/channels.py) ----------------------------------------------
class AgencyChannelsIn(BaseModel):
    model_config = _STRICT
    webhook_url: Optional[str] = Field(None, max_length=2000)

    _blank_is_none = field_validator("webhook_url")(_none_if_blank)


class BusinessChannelsIn(AgencyChannelsIn):
    email: Optional[str] = Field(None, max_length=254)

    _blank_email_is_none = field_validator("email")(_none_if_blank)
    _email = field_validator("email")(normalised_email)
