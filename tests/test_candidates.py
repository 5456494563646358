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


# --------------------------------------------------------------------------- issue #18


def test_thinning_keeps_heaviest_points_at_least_the_spacing_apart() -> None:
    from analysis import candidates as pure

    rng = np.random.default_rng(4)
    xy = rng.random((300, 2)) * 2000
    w = rng.random(300)
    kept = pure.thin(xy, w, 150.0)
    d = np.hypot(*(xy[kept, None, :] - xy[None, kept, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 150.0
    # every point left out has a heavier kept point within the spacing
    out = np.setdiff1d(np.arange(300), kept)
    for i in out:
        near = kept[np.hypot(*(xy[kept] - xy[i]).T) < 150.0]
        assert len(near) and w[near].max() >= w[i]


def test_merge_prefers_the_best_ranked_and_keeps_planner_points() -> None:
    from analysis import candidates as pure

    rng = np.random.default_rng(9)
    xy = rng.random((200, 2)) * 1500
    rank = rng.integers(0, 5, 200).astype(float)
    fixed = np.zeros(200, dtype=bool)
    fixed[:5] = True
    owner = pure.merge(xy, rank, 120.0, fixed)
    kept = np.flatnonzero(owner == np.arange(200))
    assert set(range(5)) <= set(kept)
    others = np.setdiff1d(kept, np.arange(5))
    d = np.hypot(*(xy[others, None, :] - xy[None, others, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 120.0
    for i in np.flatnonzero(owner != np.arange(200)):
        j = owner[i]
        assert np.hypot(*(xy[i] - xy[j])) < 120.0
        assert rank[j] <= rank[i] and not fixed[j]


@pytest.mark.parametrize(("raw", "words", "want"), [
    ("Arrêt CROISEE MEYNARD 2Pv", ["Rue de la Croisée"], "Croisée Meynard"),
    ("Bois D'inde", [], "Bois d'Inde"),
    ("College De Terreville 1pv", ["Collège"], "Collège de Terreville"),
    ("Four A Chaux", [], "Four à Chaux"),
    ("giratoire pelletier 3", [], "Giratoire Pelletier"),
    ("Voie 2", [], "Voie 2"),
    ("Resid Evasion Pv", [], "Résidence Evasion"),
    ("UAG", [], "UAG"),
])
def test_bus_stop_names_are_cleaned_into_french(raw, words, want) -> None:
    from analysis import candidates as pure

    assert pure.clean_stop_name(raw, pure.spelling(words)) == want


def test_roadside_names_come_from_roads_and_streets_and_are_distinct() -> None:
    from analysis import candidates as pure

    road_xy = np.array([[0.0, 0.0], [20.0, 0.0], [40.0, 0.0]])
    roads = (road_xy, ["Route de Fond Brûlé"] * 3)
    streets = (np.array([[1000.0, 0.0]]), ["Rue des Flamboyants"])
    pts = np.array([[5.0, 5.0], [35.0, -5.0], [1000.0, 80.0], [300.0, 0.0], [5000.0, 0.0]])
    halls = np.zeros((5, 2))
    names = pure.roadside_names(pts, ["Le Lorrain"] * 5, halls, roads=roads, streets=streets)
    assert len(set(names)) == 5
    assert names[0].startswith("Route de Fond Brûlé, Le Lorrain")
    assert names[1].startswith("Route de Fond Brûlé, Le Lorrain")
    assert names[2] == "Rue des Flamboyants, Le Lorrain"
    assert names[3].startswith("Route de Fond Brûlé (à 260 m), Le Lorrain")
    assert names[4] == "Route sans nom, Le Lorrain"


@pytest.mark.slow
def test_built_candidates_are_named_located_merged_and_on_the_drive_network(
        prepared_data_dir, monkeypatch) -> None:
    import re

    import geopandas as gpd
    from scipy.spatial import cKDTree

    from analysis import candidates as pure
    from analysis import snap
    from geo import communes as communes_mod
    from geo import graphs, population
    from maillage import settings as settings_mod

    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    s = settings_mod.from_env()
    drive = graphs.load("drive", s)
    grid = population.load_grid(s)
    com = communes_mod.load(s)
    cands = candidates.build(s, drive, grid=grid, communes=com, registry=False)
    assert set(cands["source"]) <= set(candidates.SOURCES)
    assert {"mairie", "bus", "route"} <= set(cands["source"])
    assert cands["cand_id"].is_unique

    side = cands[cands["source"] == "route"]
    # never named after a cell: no cell id, no « carreau », always « …, Commune »
    cell_ids = set(grid["cell_id"].astype(str))
    names = com.set_index("code_insee")["nom"]
    for nom, code in zip(side["nom"], side["code_insee"], strict=True):
        assert nom and nom not in cell_ids and "carreau" not in nom.lower()
        assert not re.search(r"CRS\d|\d{5,}", nom)
        assert f", {names[code]}" in nom
    assert side["nom"].is_unique
    # on the drive network, next to people
    on = snap.snap(drive, side[["x", "y"]].to_numpy(), 1e6)
    assert on.dist.max() < 1.0

    # bus stop names cleaned
    bus = cands[cands["source"] == "bus"]["nom"]
    assert not bus.str.match(r"(?i)^arr[eê]t\b").any()
    assert not bus.str.contains(r"(?i)\d*\s*pv\s*\d*$").any()
    shouting = [n for n in bus for w in n.split()
                if len(w) >= 4 and w.isupper() and re.search("[AEIOUY]", w)]
    assert not shouting  # « ACAJOU » became « Acajou » (acronyms such as « CGSS » stay)
    words = candidates.spelling(s)
    for name in bus:
        for word in re.findall(r"[^\W\d_]+", name):
            proper = words.get(pure.fold(word.lower()))
            if proper and proper != pure.fold(proper) and len(word) >= 3:
                assert word.lower() == proper  # the accented spelling of the address index

    # de-duplicated: no two candidates closer than the spacing, the best-ranked kept
    pairs = cKDTree(cands[["x", "y"]].to_numpy()).query_pairs(s.candidate_spacing_m - 1e-6)
    assert not pairs
    rank = dict(zip(cands["cand_id"], candidates.rank_of(cands), strict=True))
    for cid, merged in zip(cands["cand_id"], cands["merged_ids"], strict=True):
        for other in filter(None, merged.split("|")):
            src = other.split(":")[0]
            assert rank[cid] <= candidates.RANKS[src]

    # commune = the polygon holding the point (point in polygon, checked here with shapely)
    pts = gpd.GeoSeries(gpd.points_from_xy(cands["lon"], cands["lat"]), crs="EPSG:4326")
    inside = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), com[["code_insee", "geometry"]],
                       predicate="within", how="inner")
    inside = inside[~inside.index.duplicated(keep=False)]
    assert (cands.loc[inside.index, "code_insee"].to_numpy()
            == inside["code_insee"].to_numpy()).all()
    assert len(inside) >= 0.95 * len(cands)
