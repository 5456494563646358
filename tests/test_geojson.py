"""GeoJSON writer: RFC 7946 ring orientation and 6 decimals, and the checker that tells."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import MultiPolygon, Polygon

from geo import geojson

CW = Polygon([(-61.0, 14.6), (-61.0, 14.7), (-60.9, 14.7), (-60.9, 14.6)],
             [[(-60.98, 14.62), (-60.92, 14.62), (-60.92, 14.68), (-60.98, 14.68)]])


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"nom": ["zone"]},
                            geometry=[MultiPolygon([CW, Polygon([(-61.1, 14.5), (-61.1, 14.55),
                                                                  (-61.05, 14.55)])])],
                            crs="EPSG:4326")


def test_checker_finds_wrong_orientation_and_precision() -> None:
    shifted = _frame().translate(1e-9, 0)
    problems = geojson.check(gpd.GeoDataFrame(_frame().drop(columns="geometry"),
                                              geometry=shifted, crs="EPSG:4326").to_json())
    assert any("mal orienté" in p for p in problems)
    assert any("décimales" in p for p in problems)


def test_writer_output_passes_and_keeps_the_shape() -> None:
    frame = _frame()
    text = geojson.dumps(frame.to_crs("EPSG:5490"))  # reprojected back to WGS 84
    assert geojson.check(text) == []
    back = gpd.read_file(text)
    assert back.crs.to_epsg() == 4326
    assert abs(back.geometry.area.iloc[0] - frame.geometry.area.iloc[0]) < 1e-9
    assert back["nom"].tolist() == ["zone"]
