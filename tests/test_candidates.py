"""Candidate stops: the five sources, located in their commune, snapped to the drive network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis import graph as graph_mod
from geo import candidates
from maillage.settings import DRIVE_SPEEDS_KMH
from tests.network_fixtures import LAT0, LON0, make_ways

OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="{la1}" lon="{lo1}" version="1">
    <tag k="amenity" v="marketplace"/><tag k="name" v="Marché &lt;b&gt;couvert&lt;/b&gt;"/>
  </node>
  <node id="2" lat="{la2}" lon="{lo2}" version="1"><tag k="place" v="square"/></node>
  <node id="3" lat="{la2}" lon="{lo1}" version="1"><tag k="amenity" v="bench"/></node>
  <node id="10" lat="{la1}" lon="{lo1}" version="1"/>
  <node id="11" lat="{la1}" lon="{lo2}" version="1"/>
  <node id="12" lat="{la2}" lon="{lo2}" version="1"/>
  <node id="13" lat="{la2}" lon="{lo1}" version="1"/>
  <way id="20" version="1">
    <nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/>
    <tag k="amenity" v="school"/><tag k="name" v="École du bourg"/>
  </way>
  <way id="21" version="1"><nd ref="10"/><nd ref="11"/><tag k="highway" v="residential"/></way>
</osm>
"""


def _osm_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML.format(lo1=LON0, la1=LAT0, lo2=LON0 + 0.002, la2=LAT0 + 0.001),
                    encoding="utf-8")
    return path


def test_osm_points_of_interest_are_read_from_an_extract(tmp_path: Path) -> None:
    pois = candidates.osm_pois(_osm_file(tmp_path)).set_index("cand_id")
    assert sorted(pois.index) == ["osm:n1", "osm:n2", "osm:w20"]
    assert pois.loc["osm:n1", "kind"] == "marché"
    assert pois.loc["osm:n1", "nom"] == "Marché <b>couvert</b>"  # kept raw, escaped on display
    assert pois.loc["osm:n2", "nom"] == "Place"  # unnamed: named after its kind
    school = pois.loc["osm:w20"]
    assert school["kind"] == "école"
    assert school["lon"] == pytest.approx(LON0 + 0.001)
    assert school["lat"] == pytest.approx(LAT0 + 0.0005)
    assert (pois["source"] == "osm").all()
    assert np.isfinite(pois[["x", "y"]].to_numpy()).all()


def test_load_gathers_town_halls_bus_stops_osm_and_planner_points(real_settings,
                                                                 tmp_path: Path) -> None:
    extra = [(-61.0, 14.62, "Chez Léonie"), (-61.05, 14.7, "")]
    cands = candidates.load(real_settings, extra=extra, osm_path=_osm_file(tmp_path),
                            registry=False)
    by = cands["source"].value_counts()
    assert by["mairie"] == 34
    assert by["bus"] > 1000
    assert by["osm"] == 3
    assert by["ajout"] == 2
    assert cands["cand_id"].is_unique
    assert set(cands.columns) >= set(candidates.COLUMNS)
    assert (cands["code_insee"].str.match(r"^972\d\d$")).all()
    halls = cands[cands["source"] == "mairie"]
    # a town hall stands in its own commune (two mirrored points are known to be off)
    assert (halls["cand_id"].str[-5:] == halls["code_insee"]).sum() >= 32
    added = cands[cands["source"] == "ajout"]["nom"].tolist()
    assert added == ["Chez Léonie", "Point ajouté 2"]
    missing = candidates.load(real_settings, osm_path=tmp_path / "absent.osm.pbf",
                              registry=False)
    assert "osm" not in set(missing["source"])


def test_registry_places_flagged_as_possible_stops_are_candidates(real_settings,
                                                                  tmp_path: Path) -> None:
    from maillage import auth, db
    from maillage.registry import store
    from tests.registry_fixtures import row, settings_with_db

    s = settings_with_db(real_settings, tmp_path)
    db.migrate(s)
    actor = auth.Actor("fede", "federation")
    store.save_place(actor, row(id="stop-1", nom="Salle <paroissiale>", possible_stop="oui"),
                     None, s)
    store.save_place(actor, row(id="fixe-1", nom="Médiathèque", possible_stop="non"), None, s)
    try:
        reg = candidates.registry_stops(s)
    finally:
        db.engine(s).dispose()
    assert reg["cand_id"].tolist() == ["registre:stop-1"]
    assert reg["nom"].tolist() == ["Salle <paroissiale>"]


def test_snap_drive_gives_the_distance_and_flags_far_candidates() -> None:
    ways = make_ways([[(0, 0), (0.004, 0)]], ["residential"])
    drive = graph_mod.build(ways, "drive", DRIVE_SPEEDS_KMH, 4.5)
    # on the road, ~111 m north of it, ~555 m north of it
    pts = candidates.added([(LON0 + 0.002, LAT0, "a"), (LON0 + 0.002, LAT0 + 0.001, "b"),
                            (LON0 + 0.002, LAT0 + 0.005, "c")])
    out = candidates.snap_drive(pts, drive, max_snap_m=150)
    assert out["snap_m"].iloc[0] == pytest.approx(0, abs=1)
    assert out["snap_m"].iloc[1] == pytest.approx(110.6, abs=2)
    assert out["far"].tolist() == [False, False, True]
