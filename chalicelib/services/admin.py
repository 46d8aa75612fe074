"""Administrator use cases: register businesses and outlets (keys are in services/auth.py)."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain import codes
from chalicelib.domain.errors import AlreadyExists, BusinessNotFound, Conflict, field_error
from chalicelib.domain.identifiers import kind_of
from chalicelib.domain.model import Business, Outlet
from chalicelib.services.idempotency import request_fingerprint, same_request
from chalicelib.services.ports import BusinessRepository, Clock, OutletRepository


@dataclass(frozen=True)
class RegisterBusiness:
    bin: str
    name: str
    region: str


@dataclass(frozen=True)
class RegisterOutlet:
    business_bin: str
    name: str
    address: str
    region: str
    sector: str
    kato: str | None = None
    external_ref: str | None = None
    idempotency_key: str | None = None


def register_business(cmd: RegisterBusiness, *, businesses: BusinessRepository, clock: Clock,
                      actor: str | None = None) -> tuple[Business, bool]:
    """Register a business by BIN/IIN. Registering the same data again is a no-op (bulk imports rerun).
    `actor` is the key id that did it (None: the local seed or the CLI)."""
    business = Business(bin=cmd.bin, kind=kind_of(cmd.bin), name=cmd.name, region=cmd.region, created_at=clock.now(),
                        created_by=actor)
    try:
        businesses.add(business)
        return business, True
    except AlreadyExists:
        existing = businesses.get(cmd.bin)
        if existing is not None and (existing.name, existing.region) == (cmd.name, cmd.region):
            return existing, False
        raise Conflict(
            "A business with this BIN is already registered with other details.",
            fields=field_error("bin", "already_registered", "already registered with another name or region"),
        )


def register_outlet(cmd: RegisterOutlet, *, businesses: BusinessRepository, outlets: OutletRepository,
                    secret: str, clock: Clock, actor: str | None = None) -> tuple[Outlet, bool]:
    """Give an outlet of a registered business a new sticker code.

    With an idempotency key (the bulk importer sends BIN + the chain's own store number) the code is
    derived from the key, so re-running an import returns the same outlets instead of new stickers.
    """
    business = businesses.get(cmd.business_bin)
    if business is None:
        raise BusinessNotFound(
            "Register the business before its outlets.",
            fields=field_error("business_bin", "unknown_business", "no business with this BIN is registered"),
        )
    digest = request_fingerprint(cmd)
    key = cmd.idempotency_key
    code = (codes.outlet_code_from_digest(codes.keyed_digest(secret, "outlet-idempotency", key))
            if key else codes.new_outlet_code())
    for _ in range(5):
        outlet = Outlet(
            code=code, business_bin=business.bin, business_name=business.name, name=cmd.name,
            address=cmd.address, region=cmd.region, sector=cmd.sector, created_at=clock.now(),
            kato=cmd.kato, external_ref=cmd.external_ref, fingerprint=digest, created_by=actor,
        )
        try:
            outlets.add(outlet)
            return outlet, True
        except AlreadyExists:
            if key is None:
                code = codes.new_outlet_code()
                continue
            existing = outlets.get(code, consistent=True)  # the first attempt's write may be milliseconds old
            return same_request(existing, digest, what="outlet"), False
    raise RuntimeError("could not allocate an outlet code")
