"""Demo data for the local stack: businesses and outlets in Astana (71) and Almaty (75), and a key for
every audience: admin, analyst, each agency, each demo business.

It goes through the same use cases as the admin API, so the demo can't drift from what the API does.
"""
from __future__ import annotations

from chalicelib.bootstrap import Container
from chalicelib.services.admin import RegisterBusiness, RegisterOutlet, register_business, register_outlet
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
