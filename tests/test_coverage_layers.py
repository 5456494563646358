"""The coverage map layers: GeoJSON built fast but equal to geopandas', one layer for points."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo import coverage_layers, mapsafe


def _coords(geom: dict) -> np.ndarray:
    return np.asarray(shapely.get_coordinates(shapely.geometry.shape(geom)))


def test_feature_collection_equals_geopandas() -> None:
    geoms = [box(1_000_000, 1_600_000, 1_000_200, 1_600_200),
             MultiPolygon([box(1_001_000, 1_601_000, 1_001_200, 1_601_400),
                           box(1_002_000, 1_602_000, 1_002_200, 1_602_200)]),
             None]
    props = pd.DataFrame({"titre": ["n° 1", "n° 2", "n° 3"], "habitants": ["12", "3", "0"]})
    gdf = gpd.GeoDataFrame(props, geometry=geoms, crs="EPSG:5490")
    ours = coverage_layers.feature_collection(props, gdf.geometry)
    ref = json.loads(gdf.to_json(drop_id=True, to_wgs84=True))
    assert len(ours["features"]) == len(ref["features"])
    for a, b in zip(ours["features"], ref["features"], strict=True):
        assert a["properties"] == b["properties"]
        assert (a["geometry"] is None) == (b["geometry"] is None)
        if b["geometry"] is not None:
            assert a["geometry"]["type"] == b["geometry"]["type"]
            assert np.allclose(_coords(a["geometry"]), _coords(b["geometry"]), atol=1e-9)
    assert len({f["id"] for f in ours["features"]}) == len(ours["features"])


def test_points_layer_is_one_layer_with_inert_labels() -> None:
    pts = gpd.GeoDataFrame({"name": ["<b>Mairie</b>", "CCAS `x` ${y}"]},
                           geometry=[Point(-61.07, 14.60), Point(-61.0, 14.7)], crs="EPSG:4326")
    layer = coverage_layers.points_layer(pts, name="Lieux", colour="#084081")
    plain = mapsafe.unpack_collection(layer.data)  # what the browser draws (packed: ~1 m)
    labels = [f["properties"]["label"] for f in plain["features"]]
    assert labels == list(pts["name"])  # carried literally, set as text in the browser
    assert all("<" not in x and "`" not in x and "$" not in x for x in
               layer.data_json.split('"label":')[1:])
    coords = [f["geometry"]["coordinates"] for f in plain["features"]]
    assert np.allclose(coords, [[p.x, p.y] for p in pts.geometry], atol=1e-5)


def _zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "zone": [1, 2], "n_cells": [3, 1], "population": [120.0, 8.0], "seniors": [30.0, 2.0],
        "age_80p": [5.0, 0.0], "poor_households": [10.0, 1.0], "weight": [120.0, 8.0],
        "communes": ["Le Prêcheur", "Macouba"], "epci": ["CAP Nord", "CAP Nord"],
        "min_min": [16.0, 20.0], "median_min": [18.0, 20.0], "max_min": [25.0, np.inf]},
        geometry=[box(-61.23, 14.80, -61.22, 14.81), box(-61.15, 14.86, -61.14, 14.87)],
        crs="EPSG:4326")


def test_white_zones_are_filled_without_outline_and_let_clicks_through_in_click_mode() -> None:
    shown = coverage_layers.zones_layer(_zones())
    opts = json.loads(shown.options_json)
    assert opts["style"]["stroke"] is False and opts["style"]["fillOpacity"] >= 0.5
    assert opts["interactive"] and opts["popup"]  # a click opens the zone's card
    clicks = coverage_layers.zones_layer(_zones(), interactive=False)
    opts = json.loads(clicks.options_json)
    assert opts["interactive"] is False and not opts["popup"] and not opts["highlight"]
    assert opts["style"]["className"] == "zone-blanche"


def test_coverage_map_in_click_mode_draws_the_zones_non_interactive() -> None:
    zones = _zones()
    communes = gpd.GeoDataFrame({"code_insee": ["97219", "97215"], "nom": ["Le Prêcheur",
                                                                          "Macouba"],
                                 "epci_court": ["CAP Nord"] * 2},
                                geometry=[box(-61.25, 14.78, -61.2, 14.83),
                                          box(-61.17, 14.84, -61.12, 14.89)], crs="EPSG:4326")
    communes["part"] = [50.0, 60.0]
    communes["valeur"] = ["50 %", "60 %"]
    places = gpd.GeoDataFrame({"name": ["Lieu"]}, geometry=[Point(-61.2, 14.8)],
                              crs="EPSG:4326")

    def layers(clickable: bool) -> list[dict]:
        m, groups, _ = coverage_layers.coverage_map(
            communes_view=True, shaded=communes, value_col="part", share_title="Part",
            zones=zones, communes=communes, grid=None, cell_minutes=None, mode="walk",
            places=places, added=None, clickable=clickable)
        assert not [e for e in m._children.values() if isinstance(e, mapsafe.TextLayer)
                    and e.layer_name == "Zones blanches"]  # never in the base map
        return [json.loads(e.options_json) for g in groups for e in g._children.values()
                if isinstance(e, mapsafe.TextLayer) and e.layer_name == "Zones blanches"]

    assert [o["interactive"] for o in layers(False)] == [True]
    assert [o["interactive"] for o in layers(True)] == [False]
