"""pynamodb table models. Table names and region come from Settings at import time (pynamodb reads Meta then).

The endpoint is not set here: botocore reads AWS_ENDPOINT_URL, which the local stack and tests point
at moto; in AWS it is unset.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute, JSONAttribute, ListAttribute, MapAttribute, UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import get_settings

_settings = get_settings()


def _meta(short: str, **extra):
    attrs = {
        "table_name": _settings.table_name(short),
        "region": _settings.aws_region,
        "billing_mode": "PAY_PER_REQUEST",
        **extra,
    }
    return type("Meta", (), attrs)


def _index_meta(name: str):
    return type("Meta", (), {"index_name": name, "projection": AllProjection()})


class BusinessTable(Model):
    Meta = _meta("businesses")
    bin = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    region = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()


class OutletsByBusiness(GlobalSecondaryIndex):
    """Outlets of a business (admin listing, chain sticker sheets)."""
    Meta = _index_meta("by_business")
    business_bin = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute(range_key=True)


class OutletTable(Model):
    Meta = _meta("outlets")
    code = UnicodeAttribute(hash_key=True)
    business_bin = UnicodeAttribute()
    business_name = UnicodeAttribute()
    name = UnicodeAttribute()
    address = UnicodeAttribute()
    region = UnicodeAttribute()
    kato = UnicodeAttribute(null=True)
    sector = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    external_ref = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute()
    by_business = OutletsByBusiness()


class ContactMap(MapAttribute):
    name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)


class TimelineMap(MapAttribute):
    at = UTCDateTimeAttribute()
    type = UnicodeAttribute()
    actor = UnicodeAttribute()
    agency_id = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)


class AgencyQueue(GlobalSecondaryIndex):
    """An agency's complaints by time; `queued_at` (ISO time + id) is the polling cursor."""
    Meta = _index_meta("agency_queue")
    agency_id = UnicodeAttribute(hash_key=True)
    queued_at = UnicodeAttribute(range_key=True)


class AgencyRegionQueue(GlobalSecondaryIndex):
    """A regional department's queue: key `<agency>#<region>`."""
    Meta = _index_meta("agency_region_queue")
    agency_region = UnicodeAttribute(hash_key=True)
    queued_at = UnicodeAttribute(range_key=True)


class BusinessQueue(GlobalSecondaryIndex):
    """A business's complaints by time."""
    Meta = _index_meta("business_queue")
    business_bin = UnicodeAttribute(hash_key=True)
    queued_at = UnicodeAttribute(range_key=True)


class OpenByDue(GlobalSecondaryIndex):
    """Sparse: only open appeals carry `open_bucket`, so the deadline sweeper reads just those."""
    Meta = _index_meta("open_by_due")
    open_bucket = UnicodeAttribute(hash_key=True)
    agency_due_at = UnicodeAttribute(range_key=True)


class ComplaintTable(Model):
    Meta = _meta("complaints", stream_view_type="NEW_AND_OLD_IMAGES")
    id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute()
    language = UnicodeAttribute()
    text_language = UnicodeAttribute()
    text = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    sector = UnicodeAttribute()
    region = UnicodeAttribute()
    business_bin = UnicodeAttribute()
    business_name = UnicodeAttribute()
    business_registered = BooleanAttribute()
    outlet_code = UnicodeAttribute(null=True)
    outlet_name = UnicodeAttribute(null=True)
    outlet_address = UnicodeAttribute(null=True)
    contact = ContactMap(null=True)
    share_contact_with_business = BooleanAttribute(default=False)
    incident_at = UTCDateTimeAttribute(null=True)
    routing = JSONAttribute()
    agency_id = UnicodeAttribute()
    agency_region = UnicodeAttribute()
    queued_at = UnicodeAttribute()
    business_due_at = UTCDateTimeAttribute()
    # ISO strings rather than datetimes: they are index range keys and must sort as text.
    agency_due_at = UnicodeAttribute(null=True)
    open_bucket = UnicodeAttribute(null=True)
    timeline = ListAttribute(of=TimelineMap, default=list)
    fingerprint = UnicodeAttribute(default="")
    agency_queue = AgencyQueue()
    agency_region_queue = AgencyRegionQueue()
    business_queue = BusinessQueue()
    open_by_due = OpenByDue()


class ApiKeyTable(Model):
    """Credentials: only the SHA-256 of a key is stored."""
    Meta = _meta("api-keys")
    key_hash = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()            # "admin" now; "agency" and "business" later
    scope = UnicodeAttribute(null=True)  # agency id or BIN for scoped roles
    label = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked = BooleanAttribute(default=False)


ALL_TABLES = (BusinessTable, OutletTable, ComplaintTable, ApiKeyTable)


def create_tables(wait: bool = True) -> None:
    """Create every table that does not exist yet (local stack, tests). In AWS, infra/ creates them."""
    for table in ALL_TABLES:
        if not table.exists():
            table.create_table(wait=wait)
