"""Demo data for the local stack: businesses and outlets in Astana (71) and Almaty (75), and a key for
every audience: admin, analyst, each agency, each demo business.

It goes through the same use cases as the admin API, so the demo can't drift from what the API does.
"""
from __future__ import annotations

from chalicelib.bootstrap import Container
from chalicelib.services.admin import RegisterBusiness, RegisterOutlet, register_business, register_outlet
from chalicelib.services.analytics import record_outlet
from chalicelib.services.auth import issue_key

BUSINESSES = [
    {"bin": "940140000385", "name": "ТОО «Таза Маркет»", "region": "71"},
    {"bin": "950341000052", "name": "ТОО «Электрон Әлемі»", "region": "75"},
    {"bin": "961141000023", "name": "ТОО «Дәрумен Фарм»", "region": "71"},
    {"bin": "070941024691", "name": "ТОО «Дастархан»", "region": "75"},
    {"bin": "850315300009", "name": "ИП Серіков А.", "region": "71"},
]
OUTLETS = [
    ("940140000385", "tm-001", "Таза Маркет — Мәңгілік Ел", "Астана, пр. Мәңгілік Ел, 37", "71", "grocery"),
    ("940140000385", "tm-002", "Таза Маркет — Сарыарқа", "Астана, пр. Сарыарқа, 12", "71", "grocery"),
    ("940140000385", "tm-101", "Таза Маркет — Абай", "Алматы, пр. Абая, 150", "75", "grocery"),
    ("950341000052", "ee-01", "Электрон Әлемі — Mega Alma-Ata", "Алматы, ул. Розыбакиева, 247а", "75", "electronics"),
    ("950341000052", "ee-02", "Электрон Әлемі — Хан Шатыр", "Астана, пр. Тұран, 37", "71", "electronics"),
    ("961141000023", "df-01", "Дәрумен — аптека №4", "Астана, ул. Кенесары, 40", "71", "pharmacy"),
    ("070941024691", "dk-01", "Кафе «Дастархан»", "Алматы, ул. Жібек жолы, 50", "75", "food_service"),
    ("850315300009", "taxi-01", "Такси 777 ABC 01", "Астана, вокзал Нұрлы жол", "71", "taxi"),
]


def seed_demo(c: Container) -> dict:
    """Create the demo businesses, outlets and an admin key; return what demo.json shows."""
    names = {}
    for b in BUSINESSES:
        business, _ = register_business(RegisterBusiness(**b), businesses=c.businesses, clock=c.clock)
        names[business.bin] = business.name
    outlets = []
    for bin, ref, name, address, region, sector in OUTLETS:
        outlet, _ = register_outlet(
            RegisterOutlet(business_bin=bin, name=name, address=address, region=region, sector=sector,
                           external_ref=ref, idempotency_key=f"demo:{bin}:{ref}"),
            businesses=c.businesses, outlets=c.outlets, secret=c.settings.secret, clock=c.clock,
        )
        if c.counters is not None:  # counted in the analytics' registered outlets, as the admin API does
            record_outlet(outlet, c=c)
        outlets.append({"code": outlet.code, "business_bin": bin, "business_name": names[bin],
                        "name": outlet.name, "sector": sector, "region": region})
    def key(role, label, **scope):
        return issue_key(role=role, label=label, keys=c.keys, clock=c.clock, **scope).key

    keys = {
        "admin": key("admin", "local demo admin"),
        "analyst": key("analyst", "local demo analyst"),
        "agencies": {agency: key("agency", f"local demo {agency}", agency_id=agency) for agency in c.catalog.agencies},
        "businesses": {bin: key("business", f"local demo {bin}", bin=bin) for bin in names},
    }
    return {"outlets": outlets, "keys": keys}


# --- demo history for the analytics console ----------------------------------------------------------------
# A few thousand synthetic complaints over the last three months, across every region, so the console's map,
# series and hotspots show something. They are made with the domain's own functions (file_complaint and
# transition) and only their analytics are stored: the counters, district counts and anonymised case items
# that the stream reactions would have written for them, computed by the same functions the reactions call
# (analytics_increments, district_increments, case_increments). The counters of one complaint's records add
# up to its final state's contribution (services/analytics.py), so writing that sum directly is what the
# reactions would have left; summed over all complaints per item, it is a few hundred transactions instead
# of tens of thousands of stream records. The complaints themselves are not stored: the agency and business
# consoles stay as the demo left them.
HISTORY_DAYS = 91
# One synthetic chain per region, so every region has outlets: (sector, weight) of its three outlets.
HISTORY_SECTORS = (("grocery", 5), ("food_service", 2), ("pharmacy", 2), ("electronics", 2), ("taxi", 2),
                   ("online", 2), ("clothing", 1), ("fuel", 1), ("market", 1), ("telecom", 1), ("utilities", 1))
SECTOR_CATEGORIES = {
    "grocery": ("overcharge", "price_tag", "expired_food", "no_receipt", "short_weight", "return_refusal"),
    "food_service": ("unsanitary", "food_poisoning", "poor_service", "no_receipt"),
    "pharmacy": ("medicines", "price_tag", "no_receipt"),
    "electronics": ("warranty", "defective_goods", "return_refusal", "misleading_info"),
    "taxi": ("no_receipt", "overcharge", "card_refused"),
    "online": ("order_not_delivered", "misleading_info", "fraud"),
    "clothing": ("return_refusal", "defective_goods"),
    "fuel": ("short_weight", "card_refused"),
    "market": ("street_trade", "social_food_price", "short_weight"),
    "telecom": ("telecom",),
    "utilities": ("utilities",),
}
# Complaints lean to the pilot city and to the big cities, as KZPP's do (retail, in the capital first).
REGION_WEIGHT = {"71": 3.0, "75": 2.0, "79": 1.3}
# A problem zone to find: food service in Shymkent over the last fortnight.
SPIKE = {"region": "79", "sector": "food_service", "days": 14, "extra": 0.08}


def _bin(serial: int) -> str:
    """A valid demo BIN (registered 2005-01, a resident legal entity's head office) for a serial number."""
    from chalicelib.domain.identifiers import checksum_ok

    for tail in range(serial * 10, serial * 10 + 1000):
        candidate = f"050140{tail % 100000:05d}"
        for digit in "0123456789":
            if checksum_ok(candidate + digit):
                return candidate + digit
    raise AssertionError("no valid BIN near this serial")


def history_outlets(c: Container) -> list:
    """Register the demo chains' outlets in every region (Astana's with district KATO codes)."""
    from chalicelib.services.analytics import population, record_outlet

    people = population()
    districts = list(people.districts.get("71", {}))
    made = []
    for n, region in enumerate(sorted(c.catalog.regions), start=1):
        bin = _bin(n)
        register_business(RegisterBusiness(bin=bin, name=f"ТОО «Демо Сауда {region}»", region=region),
                          businesses=c.businesses, clock=c.clock)
        places = [(s, None) for s in ("grocery", "pharmacy", "food_service")]
        if region == "71":  # the pilot city: two outlets in each district, with the district's KATO code
            places = [(sector, f"{d}00000") for d in districts for sector in ("grocery", "electronics")]
        for i, (sector, kato) in enumerate(places, start=1):
            outlet, _ = register_outlet(
                RegisterOutlet(business_bin=bin, name=f"Демо {region}-{i}", address=f"Демо, {region}", region=region,
                               sector=sector, kato=kato, external_ref=f"{region}-{i}",
                               idempotency_key=f"demo-history:{region}:{i}"),
                businesses=c.businesses, outlets=c.outlets, secret=c.settings.secret, clock=c.clock)
            record_outlet(outlet, c=c)
            made.append(outlet)
    return made


def _complaint_history(rng, n: int, outlets: list, now, c: Container):
    """The final state of `n` synthetic complaints filed in the last HISTORY_DAYS days."""
    from dataclasses import replace
    from datetime import timedelta

    from chalicelib.domain.complaint import (GiveFeedback, MarkOverdue, Reject, Reroute, Resolve, Respond,
                                             TakeInReview, file_complaint, transition)
    from chalicelib.domain.errors import DomainError
    from chalicelib.domain.model import CONSUMER, SYSTEM, Actor
    from chalicelib.domain.routing import RoutingDecision
    from chalicelib.services.analytics import population

    people = population()
    agencies = frozenset(c.catalog.agencies)
    by_region: dict[str, list] = {}
    for outlet in outlets:
        by_region.setdefault(outlet.region, []).append(outlet)
    regions = sorted(by_region)
    weights = [people.regions.get(r, 500000) / 1e6 * REGION_WEIGHT.get(r, 1.0) for r in regions]
    sectors, sector_weights = zip(*HISTORY_SECTORS)
    for i in range(n):
        age = timedelta(days=rng.uniform(0, HISTORY_DAYS))
        region = rng.choices(regions, weights)[0]
        sector = rng.choices(sectors, sector_weights)[0]
        if age.days < SPIKE["days"] and rng.random() < SPIKE["extra"]:
            region, sector = SPIKE["region"], SPIKE["sector"]
        # the outlet of that region whose sector matches, else an online seller (no outlet) in that region
        matching = [o for o in by_region[region] if o.sector == sector]
        outlet = rng.choice(matching) if matching else None
        if outlet is None and rng.random() < 0.5:
            outlet = rng.choice(by_region[region])
            sector = outlet.sector
        category = rng.choice(SECTOR_CATEGORIES[sector]) if rng.random() < 0.92 else None
        agency = (c.catalog.categories[category].default_agency if category else None) or "kzpp"
        filed = now - age
        complaint, _ = file_complaint(
            complaint_id=f"demo{i:06d}", now=filed, rules=c.rules,
            routing=RoutingDecision(agency_id=agency, method="category" if category else "default", confidence=1.0,
                                    version="demo", explanation="demo history", matched=()),
            identified=rng.random() < 0.7, channel=rng.choice(("qr", "qr", "web", "telegram")), language="ru",
            text_language="ru", text="Демо: синтетическая жалоба для аналитики.", category=category, sector=sector,
            region=region, business_bin=outlet.business_bin if outlet else _bin(99), business_name="Демо",
            business_registered=outlet is not None, outlet_code=outlet.code if outlet else None,
            outlet_name=outlet.name if outlet else None, outlet_address=None, contact_ref=None,
            share_contact_with_business=False, incident_at=None, fingerprint="demo")
        seller = Actor("business", complaint.business_bin)
        body = Actor("agency", agency)
        steps = []
        if rng.random() < 0.65:
            steps.append((Respond(message="Демо-ответ", offer=rng.choice(("refund", "replacement", "apology"))),
                          seller, rng.expovariate(1 / 60)))
            if rng.random() < 0.55:
                steps.append((GiveFeedback(accepted=True, stars=rng.randint(3, 5)), CONSUMER, rng.uniform(2, 72)))
        if len(steps) < 2 and rng.random() < 0.05:
            target = rng.choice(sorted(agencies - {agency}))
            steps.append((Reroute(agency_id=target, reason="Демо: не по компетенции"), body, rng.uniform(2, 48)))
        if len(steps) < 2 and rng.random() < 0.7:
            steps.append((TakeInReview(), body, rng.uniform(4, 72)))
            if rng.random() < 0.8:
                decision = rng.choices(("violation_confirmed", "not_confirmed", "settled", None), (5, 3, 1, 1))[0]
                command = Resolve(decision, "Демо-решение") if decision else Reject("Демо: нет сведений")
                steps.append((command, body, rng.uniform(24, 600)))
        steps.append((MarkOverdue(as_of=now), SYSTEM, 0))
        complaint = replace(complaint, version=1)  # as its first save stored it
        at = filed
        for command, actor, hours in steps:
            at = now if isinstance(command, MarkOverdue) else at + timedelta(hours=hours)
            if at > now:
                break
            if isinstance(command, Resolve | Reject | Reroute | TakeInReview):
                actor = Actor("agency", complaint.agency_id)
            try:
                changed, _ = transition(complaint, command, actor=actor, now=at, rules=c.rules, agencies=agencies)
            except DomainError:  # a step the state the dice left does not allow (nothing overdue yet): stop
                break
            complaint = replace(changed, version=complaint.version + 1)
        yield complaint, outlet


def seed_history(c: Container, *, complaints: int, seed: int = 2026, put_items=None) -> dict:
    """Demo history: `complaints` synthetic complaints over the last three months, in the analytics only.

    `put_items` writes whole items into the empty analytics table in bulk (the local stack's moto:
    local/moto_patches.put_items); without it the items go through the CounterStore's transactions. The
    items are the sums the transactions would have left in an empty table (the history's keys are all new)."""
    import random
    import time
    from collections import defaultdict

    from chalicelib.services.analytics import (analytics_increments, case_increments, case_ref,
                                               district_increments)
    from chalicelib.services.ports import Increment

    started = time.monotonic()
    rng = random.Random(seed)
    outlets = history_outlets(c)
    now = c.clock.now()
    summed: dict[tuple, dict] = {}
    cases: list = []
    for complaint, outlet in _complaint_history(rng, complaints, outlets, now, c):
        moves = analytics_increments(None, complaint)
        moves += district_increments(complaint, outlet.kato if outlet is not None else None)
        for inc in moves:
            item = summed.setdefault((inc.table, tuple(inc.key)), {"add": defaultdict(int), "set": dict(inc.set)})
            for name, amount in inc.add.items():
                item["add"][name] += amount
        cases += case_increments(complaint, case_ref(c.settings.secret, complaint.id))
    writes = [Increment(table=table, key=key, add=dict(v["add"]), set=v["set"]) for (table, key), v in summed.items()]
    writes += cases
    if put_items is not None:
        put_items([{"pk": inc.key[0], "sk": inc.key[1], **inc.set, **inc.add} for inc in writes])
    else:
        for n, first in enumerate(range(0, len(writes), 99)):
            c.counters.apply_once(f"demo-history:{seed}:{n}", writes[first:first + 99], at=now)
    return {"complaints": complaints, "outlets": len(outlets), "items": len(writes),
            "seconds": round(time.monotonic() - started, 1)}
