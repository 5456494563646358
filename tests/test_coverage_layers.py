"""The coverage map layers: GeoJSON built fast but equal to geopandas', one layer for points."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo import coverage_layers


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
    labels = [f["properties"]["label"] for f in layer.data["features"]]
    assert labels == list(pts["name"])  # carried literally, set as text in the browser
    assert all("<" not in x and "`" not in x and "$" not in x for x in
               layer.data_json.split('"label":')[1:])
    coords = [f["geometry"]["coordinates"] for f in layer.data["features"]]
    assert np.allclose(coords, [[p.x, p.y] for p in pts.geometry])
