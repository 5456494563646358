"""The Couverture page's downloads: tables for French Excel, white zones with French keys.

On the test lattice's coverage service (:func:`tests.test_coverage_service.tiny`).
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from analysis import coverage
from geo import geojson
from maillage.services.coverage import CoverageRequest
from tests.test_coverage_service import tiny  # noqa: F401 (fixture)
from ui import coverage as cov


def _result(svc, **kw):
    return svc.run(CoverageRequest(minutes=(3, 6), zone_minutes=3, **kw))


def test_tables_csv_opens_in_columns_with_whole_people(tiny) -> None:  # noqa: F811
    svc, *_ = tiny
    res = _result(svc)
    data = cov.tables_csv(res)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                               delimiter=";"))
    fr = cov.tables_fr(res)
    assert len(rows) == len(fr) and list(rows[0]) == list(fr.columns)
    island = rows[-1]
    expected = res.island()
    assert island["Habitants"] == str(round(expected["population"]))
    share = island["Habitants à 3 min ou moins (%)"]
    assert "." not in share and float(share.replace(",", ".")) == pytest.approx(
        expected["population_3_share"], abs=0.05)
    for header in coverage.french_counts(res.request.minutes, res.request.weight):
        assert all(r[header] == "" or r[header].lstrip("-").isdigit() for r in rows), header


def test_file_names_say_the_scenario(tiny) -> None:  # noqa: F811
    svc, *_ = tiny
    res = _result(svc, weight="seniors")
    assert cov.tables_file_name(res) == "couverture_a-pied_3-6min_65-ans-et-plus_aujourdhui.csv"
    busiest = res.places["place_id"].iloc[0]
    sc = _result(svc, mode="drive", removed=(busiest,))
    assert cov.tables_file_name(sc) == ("couverture_en-voiture_3-6min_habitants_"
                                        "avec-1-lieu-retire.csv")
    assert cov.zones_file_name(sc) == "zones-blanches_en-voiture_3min_habitants_aujourdhui.geojson"


def test_zones_geojson_has_french_documented_keys_and_rounded_values(tiny) -> None:  # noqa: F811
    svc, *_ = tiny
    res = _result(svc)
    assert len(res.zones)
    text = cov.zones_geojson(res)
    assert geojson.check(text) == []
    feats = json.loads(text)["features"]
    assert len(feats) == len(res.zones)
    table = res.zone_table()
    for f, (_, z) in zip(feats, table.iterrows(), strict=True):
        p = f["properties"]
        assert set(p) <= set(cov.ZONE_KEYS)
        assert p["carreaux"] == z["n_cells"] and p["habitants"] == round(z["population"])
        assert isinstance(p["habitants"], int) and isinstance(p["plus_65_ans"], int)
        for key, col in (("temps_min_min", "min_min"), ("temps_max_min", "max_min")):
            if np.isfinite(z[col]):
                assert p[key] == round(z[col], 1)
            else:
                assert p[key] is None
    caption = cov.zones_keys_caption()
    assert all(f"`{k}`" in caption for k in cov.ZONE_KEYS)
