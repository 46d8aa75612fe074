"""Who is calling: principals, roles and API keys, in one place.

A key looks like `qk_<key id>.<secret part>`. Only its SHA-256 is stored, under the key id, so a key can
be looked up with one GetItem, revoked by its id, and named in audit trails without ever being stored.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import AlreadyExists, Forbidden, Unauthorized, ValidationFailed, field_error
from chalicelib.domain.identifiers import checksum_ok
from chalicelib.domain.model import Actor, ApiKey
from chalicelib.services.ports import ApiKeyRepository, Clock

ROLES = ("admin", "analyst", "agency", "business")
_KEY_RE = re.compile(r"^qk_(k[0-9a-f]{12})\.([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class Principal:
    role: str
    key_id: str
    label: str
    agency_id: str | None = None
    regions: frozenset[str] = frozenset()   # empty: every region
    bin: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.role, self.agency_id or self.bin, self.key_id)

    def sees_region(self, region: str) -> bool:
        return not self.regions or region in self.regions


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    key: str                 # shown once, never stored
    role: str
    label: str
    agency_id: str | None
    regions: tuple[str, ...]
    bin: str | None
    expires_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _invalid(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed("Some fields are invalid.", fields=field_error(field, code, message))


def issue_key(*, role: str, label: str, keys: ApiKeyRepository, clock: Clock, agency_id: str | None = None,
              regions=(), bin: str | None = None, expires_at: datetime | None = None,
              known_agencies=None, known_regions=None, created_by: str | None = None) -> IssuedKey:
    """Create a key for a role and scope; the plain key is returned once and never again.

    An agency key names an agency (and optionally KATO regions); a business key names a BIN/IIN; admin and
    analyst keys name neither.
    """
    if role not in ROLES:
        raise _invalid("role", "enum", "one of " + ", ".join(ROLES))
    regions = tuple(sorted(set(regions or ())))
    if role == "agency":
        if not agency_id:
            raise _invalid("agency_id", "missing", "an agency key needs agency_id")
        if known_agencies is not None and agency_id not in known_agencies:
            raise _invalid("agency_id", "unknown_agency", "no such agency")
        for region in regions:
            if known_regions is not None and region not in known_regions:
                raise _invalid("regions", "unknown_region", f"no region {region}")
    elif agency_id or regions:
        raise _invalid("agency_id", "extra_forbidden", "only agency keys have an agency and regions")
    if role == "business":
        if not bin or not checksum_ok(bin):
            raise _invalid("bin", "invalid_bin", "a business key needs a valid BIN/IIN")
    elif bin:
        raise _invalid("bin", "extra_forbidden", "only business keys have a BIN")
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise _invalid("expires_at", "in_past", "must be in the future")
    label = (label or "").strip()[:200] or role
    for _ in range(3):
        key_id = "k" + secrets.token_hex(6)
        key = f"qk_{key_id}.{secrets.token_urlsafe(32)}"
        record = ApiKey(key_id=key_id, key_hash=hash_key(key), role=role, label=label, created_at=now,
                        agency_id=agency_id, regions=regions, bin=bin, expires_at=expires_at, created_by=created_by)
        try:
            keys.add(record)
        except AlreadyExists:
            continue  # 48-bit ids: a collision is rare, just draw again
        return IssuedKey(key_id=key_id, key=key, role=role, label=label, agency_id=agency_id, regions=regions,
                         bin=bin, expires_at=expires_at)
    raise RuntimeError("could not allocate a key id")


def revoke_key(key_id: str, *, keys: ApiKeyRepository, clock: Clock, by: str | None = None) -> bool:
    """Revoke a key by its id (`by`: the acting key's id); False if there is no such key. Takes effect on
    the next request."""
    return keys.revoke(key_id, at=clock.now(), by=by)


def authenticate(authorization: str | None, *, keys: ApiKeyRepository, clock: Clock) -> Principal:
    """The principal behind `Authorization: Bearer <key>`; Unauthorized if it is missing, unknown,
    revoked or expired (all look alike to the caller, so nothing is learnt about other keys)."""
    missing = Unauthorized("Send a valid key as 'Authorization: Bearer <key>'.")
    if not authorization:
        raise missing
    scheme, _, key = authorization.strip().partition(" ")
    match = _KEY_RE.match(key.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise missing
    record = keys.get(match.group(1))
    if record is None or not hmac.compare_digest(record.key_hash, hash_key(key.strip())):
        raise missing
    if record.revoked_at is not None:
        raise Unauthorized("This key has been revoked.")
    if record.expires_at is not None and record.expires_at <= clock.now():
        raise Unauthorized("This key has expired.")
    return Principal(role=record.role, key_id=record.key_id, label=record.label, agency_id=record.agency_id,
                     regions=frozenset(record.regions), bin=record.bin)


def require_role(principal: Principal, roles) -> Principal:
    """Forbidden unless the principal has one of `roles` (a role name or a tuple of them)."""
    allowed = (roles,) if isinstance(roles, str) else tuple(roles)
    if principal.role not in allowed:
        raise Forbidden("This key may not use this part of the API.")
    return principal
