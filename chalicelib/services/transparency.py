"""The public record of an outlet and of a business (web/outlet.html, web/chain.html), and the sector
counters they are compared with.

An outlet's page is what a shopper sees after scanning the sticker, before complaining: the published rating
and the count behind it (or why it is not published), the share of complaints its seller answered in time
and the share settled, next to the same shares for its whole sector. Every figure comes from counters the
stream reactions keep (chalicelib/services/ratings.py for outlets and businesses, `apply_change` below for
sectors), so a page costs the registry lookups and one BatchGetItem, whatever the number of complaints.

Below MIN_COUNT (docs/ratings.md) the shares are withheld as the score is: one angry or friendly voice must
not be readable off a page. The sector's shares follow the same rule on the sector's own count.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from chalicelib.domain import rating as formula
from chalicelib.domain.codes import display_code
from chalicelib.domain.errors import BusinessNotFound, InvalidCursor, OutletNotFound
from chalicelib.domain.identifiers import kind_of
from chalicelib.services import ratings
from chalicelib.services.ports import Increment

TABLE = ratings.TABLE
MAX_OUTLETS_PAGE = 50       # + the business and its sectors' items: one BatchGetItem (100 keys) holds a page
# Why a rating is not shown, as the page and any API client may say it (kk, ru, en).
REASONS = {
    "too_few": {
        "kk": "Бағалар {min_count}-ден аз: рейтинг әлі жарияланбайды.",
        "ru": "Меньше {min_count} оценок: рейтинг пока не публикуется.",
        "en": "Fewer than {min_count} ratings: the rating is not published yet.",
    },
    "held_for_review": {
        "kk": "Соңғы бағалар тексерілуде: рейтинг кейін жарияланады.",
        "ru": "Последние оценки на проверке: рейтинг будет опубликован позже.",
        "en": "Recent ratings are under review: the rating will be published later.",
    },
}


def sector_subject(sector: str) -> str:
    return f"sector#{sector}"


# --- the sector counters (a stream reaction) -----------------------------------------------------------------
def sector_increments(previous, current) -> list[Increment]:
    """contribution(current) - contribution(previous) on the complaint's sector item, as for outlets."""
    before = {sector_subject(previous.sector): ratings.complaint_counts(previous)} if previous else {}
    after = {sector_subject(current.sector): ratings.complaint_counts(current)} if current else {}
    moves = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, {}), after.get(key, {})
        delta = {name: new.get(name, 0) - old.get(name, 0) for name in sorted(old.keys() | new.keys())}
        delta = {name: amount for name, amount in delta.items() if amount}
        if delta:
            moves.append(Increment(TABLE, (key,), add=delta, set={"kind": "sector", "sector": key.split("#", 1)[1]}))
    return moves


def apply_change(envelope, c, marker: str) -> bool | None:
    """The counter reaction to ComplaintChanged: the sector's item, exactly once per record (the marker)."""
    increments = sector_increments(envelope.event.previous, envelope.event.current)
    if not increments:
        return None
    return c.counters.apply_once(marker, increments, at=c.clock.now())


# --- reads -----------------------------------------------------------------------------------------------
def _share(hits: int, n: int, shown: bool) -> dict:
    # half up, as the rating's components are rounded: the page's 0.45 and the rating's must agree
    value = float(Decimal(f"{hits / n:.9f}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if n else None
    return {"share": value if shown else None, "count": n}


def record(counters: formula.RatingCounters, *, published: bool) -> dict:
    """How the seller handled its complaints: answered in time, settled (shares withheld unless published)."""
    return {"complaints": counters.complaints,
            "answered_in_time": _share(counters.answered_in_time, counters.answer_due, published),
            "settled": _share(counters.settled, counters.closed, published)}


def rating_with_reason(kind: str, ident: str, item: dict | None) -> dict:
    view = ratings.view(kind, ident, item)
    if view["reason"] in REASONS:
        view["reason_text"] = {lang: text.format(min_count=view["min_count"])
                               for lang, text in REASONS[view["reason"]].items()}
    else:
        view["reason_text"] = None
    return view


def sector_average(sector: str, item: dict | None, catalog) -> dict:
    """The whole sector's shares, the comparison for one outlet (published from MIN_COUNT complaints)."""
    counters = formula.RatingCounters.from_item(item)
    published = counters.complaints >= formula.MIN_COUNT
    known = catalog.sectors.get(sector)
    return {"sector": {"id": sector, "name": dict(known.name) if known else None},
            "published": published, **record(counters, published=published)}


def _subject_key(kind: str, ident: str) -> tuple[str]:
    return (ratings.subject(kind, ident),)


def _outlet_public(outlet, catalog) -> dict:
    """What anyone may see about an outlet. The BIN only for a legal entity (it links to the chain's page):
    a sole proprietor's number is an IIN, a person's."""
    sector, region = catalog.sectors.get(outlet.sector), catalog.regions.get(outlet.region)
    business = {"name": outlet.business_name}
    if kind_of(outlet.business_bin) == "bin":
        business["bin"] = outlet.business_bin
    return {"code": outlet.code, "display_code": display_code(outlet.code), "name": outlet.name,
            "address": outlet.address, "business": business,
            "region": {"code": outlet.region, "name": dict(region.name) if region else None},
            "sector": {"id": outlet.sector, "name": dict(sector.name) if sector else None},
            "active": outlet.active}


def _entry(kind: str, ident: str, item: dict | None) -> dict:
    rating = rating_with_reason(kind, ident, item)
    return {"rating": rating,
            "record": record(formula.RatingCounters.from_item(item), published=rating["published"])}


def outlet_page(code: str, *, c) -> dict:
    """An outlet's public record: one GetItem for the outlet, one BatchGetItem for its rating and its sector.
    A suspended outlet keeps its page (a record of what happened); an unknown code is OutletNotFound."""
    outlet = c.outlets.get(code)
    if outlet is None:
        raise OutletNotFound("No outlet has this code.")
    own, sector = _subject_key("outlet", code), (sector_subject(outlet.sector),)
    items = c.counters.get_many(TABLE, [own, sector])
    return {"outlet": _outlet_public(outlet, c.catalog), **_entry("outlet", code, items.get(own)),
            "sector_average": sector_average(outlet.sector, items.get(sector), c.catalog)}


def business_page(bin: str, *, c, limit: int, cursor: str | None) -> dict:
    """A business's public record and one page of its outlets, each with its own record, and the averages of
    the sectors on the page: one GetItem, one Query, one BatchGetItem."""
    business = c.businesses.get(bin)
    if business is None:
        raise BusinessNotFound("No business with this BIN is registered.")
    try:
        outlets, next_cursor = c.outlets.list_by_business(bin, limit=min(limit, MAX_OUTLETS_PAGE), cursor=cursor)
    except ValueError:
        raise InvalidCursor("The cursor is not one this API gave out.",
                            fields={"cursor": {"code": "invalid", "message": "unknown cursor"}}) from None
    own = _subject_key("business", bin)
    sectors = sorted({o.sector for o in outlets})
    keys = [own] + [_subject_key("outlet", o.code) for o in outlets] + [(sector_subject(s),) for s in sectors]
    items = c.counters.get_many(TABLE, keys)
    return {
        "business": {"bin": bin, "name": business.name, "kind": business.kind},
        **_entry("business", bin, items.get(own)),
        "outlets": [{"outlet": _outlet_public(o, c.catalog),
                     **_entry("outlet", o.code, items.get(_subject_key("outlet", o.code)))} for o in outlets],
        "next_cursor": next_cursor,
        "sector_averages": [sector_average(s, items.get((sector_subject(s),)), c.catalog) for s in sectors],
    }
