"""Reference data (agencies, categories, sectors, regions) loaded from versioned JSON in chalicelib/data."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
LANGUAGES = ("kk", "ru", "en")


@dataclass(frozen=True)
class Agency:
    id: str
    name: Mapping[str, str]

    def public(self) -> dict:
        return {"id": self.id, "name": dict(self.name)}


@dataclass(frozen=True)
class Category:
    id: str
    name: Mapping[str, str]
    default_agency: str | None
    sector_agency: Mapping[str, str] = field(default_factory=dict)

    def agency_for(self, sector: str | None) -> str | None:
        """The agency for this category in a sector: a sector override wins over the default."""
        if sector and sector in self.sector_agency:
            return self.sector_agency[sector]
        return self.default_agency


@dataclass(frozen=True)
class Sector:
    id: str
    name: Mapping[str, str]
    default_agency: str


@dataclass(frozen=True)
class Region:
    code: str
    name: Mapping[str, str]


@dataclass(frozen=True)
class Catalog:
    version: str
    agencies: Mapping[str, Agency]
    categories: Mapping[str, Category]
    sectors: Mapping[str, Sector]
    regions: Mapping[str, Region]

    def agency(self, agency_id: str) -> Agency:
        return self.agencies[agency_id]

    def public(self) -> dict:
        """The catalogue as the form needs it: names in every language, no internals."""
        return {
            "version": self.version,
            "languages": list(LANGUAGES),
            "agencies": [a.public() for a in self.agencies.values()],
            "categories": [
                {"id": c.id, "name": dict(c.name), "default_agency": c.default_agency}
                for c in self.categories.values()
            ],
            "sectors": [
                {"id": s.id, "name": dict(s.name), "default_agency": s.default_agency}
                for s in self.sectors.values()
            ],
            "regions": [{"code": r.code, "name": dict(r.name)} for r in self.regions.values()],
        }


def _read(name: str) -> dict:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


def _check_names(kind: str, key: str, names: Mapping[str, str]) -> None:
    missing = [lang for lang in LANGUAGES if not names.get(lang)]
    if missing:
        raise ValueError(f"{kind} {key!r} has no name in {missing}")


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Load and cross-check the reference data once per process."""
    agencies_doc, categories_doc = _read("agencies.json"), _read("categories.json")
    sectors_doc, regions_doc = _read("sectors.json"), _read("regions.json")
    agencies = {a["id"]: Agency(id=a["id"], name=a["name"]) for a in agencies_doc["agencies"]}
    categories = {
        c["id"]: Category(
            id=c["id"], name=c["name"], default_agency=c["default_agency"],
            sector_agency=c.get("sector_agency", {}),
        )
        for c in categories_doc["categories"]
    }
    sectors = {
        s["id"]: Sector(id=s["id"], name=s["name"], default_agency=s["default_agency"])
        for s in sectors_doc["sectors"]
    }
    regions = {r["code"]: Region(code=r["code"], name=r["name"]) for r in regions_doc["regions"]}
    for kind, items in (("agency", agencies), ("category", categories), ("sector", sectors), ("region", regions)):
        for key, item in items.items():
            _check_names(kind, key, item.name)
    referenced = [c.default_agency for c in categories.values() if c.default_agency]
    referenced += [a for c in categories.values() for a in c.sector_agency.values()]
    referenced += [s.default_agency for s in sectors.values()]
    unknown = sorted(set(referenced) - set(agencies))
    if unknown:
        raise ValueError(f"catalogue references unknown agencies: {unknown}")
    # ISO dates compare as text: the catalogue is as new as its newest file.
    version = max(doc["version"] for doc in (agencies_doc, categories_doc, sectors_doc, regions_doc))
    return Catalog(version=version, agencies=agencies, categories=categories, sectors=sectors, regions=regions)
