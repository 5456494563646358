"""Isochrones: nested non-overlapping bands that follow the road times, clipped, with population."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.spatial import cKDTree

from analysis import isochrone, snap
from geo import graphs, population, roads

FDF = (-61.0733, 14.6036)  # Fort-de-France town hall area
LAMENTIN = (-60.9976, 14.6153)


@pytest.fixture(scope="module")
def island(real_settings):
    return {
        "walk": graphs.load("walk", real_settings),
        "drive": graphs.load("drive", real_settings),
        "land": roads.island(real_settings),
        "grid": population.load_grid(real_settings),
    }


def _origin(g, *lonlats):
    return snap.snap(g, snap.to_xy(list(lonlats)))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_bands_nested_disjoint_and_true_to_times(island, mode):
    g = island[mode]
    o = _origin(g, FDF)
    minutes = [5, 10, 15]
    bands = isochrone.isochrones(g, o, minutes, land=island["land"], grid=island["grid"])
    assert list(bands["to_min"]) == minutes and list(bands["from_min"]) == [0, 5, 10]
    geoms = bands.geometry.values
    assert all(not geom.is_empty for geom in geoms)
    for i in range(3):
        for j in range(i + 1, 3):
            assert shapely.intersection(geoms[i], geoms[j]).area < 1e-3  # m²: edges only
    # every band lies on the island
    assert shapely.difference(shapely.union_all(geoms), island["land"]).area < 1.0
    # road points reached within t (and on land) lie in the union of the first bands;
    # points reached only much later lie outside it
    times = isochrone.point_times(g, o, np.inf)
    on_land = shapely.contains_xy(island["land"], g.pts_xy[:, 0], g.pts_xy[:, 1])
    speed = 4.5 / 3.6 if mode == "walk" else 90 / 3.6
    slack = isochrone.BUFFER_M[mode] + isochrone.CELL_M[mode] * 2
    for k, t in enumerate(minutes):
        union = shapely.union_all(geoms[: k + 1])
        shapely.prepare(union)
        inside = times <= t * 60 - 1
        pts = g.pts_xy[inside & on_land]
        frac_in = shapely.contains_xy(union, pts[:, 0], pts[:, 1]).mean()
        assert frac_in > 0.99
        # a point reached late may still fall in the band only through the buffer of a
        # road reached in time (a parallel road, a bridge): never farther than that
        far = g.pts_xy[times > t * 60 + slack / speed + 60]
        caught = far[shapely.contains_xy(union, far[:, 0], far[:, 1])]
        if len(caught):
            dist, _ = cKDTree(g.pts_xy[times <= t * 60]).query(caught)
            assert dist.max() <= slack
    # population per band = the grid cells whose centroid each band holds; cumulated
    grid = island["grid"]
    for k in range(3):
        inside = shapely.contains_xy(geoms[k], grid["x"].to_numpy(), grid["y"].to_numpy())
        assert bands["population"].iloc[k] == pytest.approx(grid["population"][inside].sum())
    assert bands["population_cum"].iloc[-1] == pytest.approx(bands["population"].sum())
    assert (bands["area_km2"] > 0).all()


@pytest.mark.slow
def test_many_origins_cover_each_single_one(island):
    g = island["drive"]
    both = isochrone.isochrones(g, _origin(g, FDF, LAMENTIN), [5], land=island["land"])
    one = isochrone.isochrones(g, _origin(g, FDF), [5], land=island["land"])
    two = isochrone.isochrones(g, _origin(g, LAMENTIN), [5], land=island["land"])
    assert both.area_km2[0] > max(one.area_km2[0], two.area_km2[0])
    assert shapely.difference(one.geometry[0], both.geometry[0]).area < 0.01 * one.geometry[0].area


@pytest.mark.parametrize("text", ["", "a,b", "0,5", "-5", "500"])
def test_bad_thresholds(text):
    with pytest.raises(isochrone.ThresholdError):
        isochrone.parse_minutes(text)


def test_thresholds_sorted_and_unique():
    assert isochrone.parse_minutes("15, 5,10,5") == [5, 10, 15]
