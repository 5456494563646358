"""Snapping: exact projection, distance, flags and French refusals."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from analysis import graph, snap
from tests.network_fixtures import LAT0, LON0, make_ways


@pytest.fixture(scope="module")
def tiny():
    ways = make_ways([[(0, 0), (0.004, 0), (0.004, 0.003)], [(0, 0), (0, 0.003), (0.004, 0.003)]],
                     ["minor", "minor"])
    return graph.build(ways, "walk", {"minor": 20.0}, 4.5)


def test_projection_is_exact_and_fraction_matches_geometry(tiny):
    a, b = snap.to_xy([[LON0, LAT0], [LON0 + 0.004, LAT0]])
    rng = np.random.default_rng(0)
    t = rng.uniform(0.05, 0.95, 30)
    off = rng.uniform(-40, 40, 30)
    direction = (b - a) / np.hypot(*(b - a))
    normal = np.array([-direction[1], direction[0]])
    pts = a + t[:, None] * (b - a) + off[:, None] * normal
    s = snap.snap(tiny, pts, max_snap_m=100)
    np.testing.assert_allclose(s.dist, np.abs(off), atol=1e-6)
    line = shapely.LineString([a, b])
    np.testing.assert_allclose(shapely.distance(shapely.points(s.xy), line), 0, atol=1e-6)
    # the fraction along the edge matches the distance along the road
    along = np.hypot(*(s.xy - a).T)
    e = s.edge
    start_is_a = np.hypot(*(tiny.geom_xy[tiny.geom_off[e]] - a).T) < 1e-6
    expected = np.where(start_is_a, along, tiny.edge_len[e] - along) / tiny.edge_len[e]
    np.testing.assert_allclose(s.fl, expected, atol=1e-9)
    np.testing.assert_allclose(s.ft, s.fl, atol=1e-9)  # one speed per edge here
    assert s.ok.all()


def test_far_points_are_flagged_not_dropped(tiny):
    a = snap.to_xy([[LON0, LAT0]])[0]
    pts = np.array([a + np.array([0, -30.0]), a + np.array([0, -800.0])])
    s = snap.snap(tiny, pts, max_snap_m=500)
    assert list(s.ok) == [True, False]
    assert s.dist[1] == pytest.approx(800, abs=1e-6)
    assert len(s) == 2


def test_snap_checked_refuses_far_points_in_french(tiny):
    with pytest.raises(snap.PointError, match="route la plus proche"):
        snap.snap_checked(tiny, (LON0, LAT0 - 0.01), max_snap_m=500)
    ok = snap.snap_checked(tiny, (LON0 + 0.001, LAT0 + 0.0001), max_snap_m=500)
    assert ok.dist[0] < 20


@pytest.mark.parametrize("text", ["abc", "-61.07", "-61.07,14.6,3", "", "nan,14.6", "x,y"])
def test_malformed_coordinates(text):
    with pytest.raises(snap.PointError, match="Coordonnées illisibles"):
        snap.parse_lonlat(text)


def test_parse_lonlat_accepts_spaces():
    assert snap.parse_lonlat(" -61.07 , 14.6 ") == (-61.07, 14.6)


def test_outside_and_at_sea():
    with pytest.raises(snap.PointError, match="hors de la Martinique"):
        snap.check_in_martinique(2.35, 48.85)
    with pytest.raises(snap.PointError, match="inversé"):
        snap.check_in_martinique(14.6, -61.07)
    land = shapely.buffer(shapely.Point(snap.to_xy([[LON0, LAT0]])[0]), 1000)
    snap.check_in_martinique(LON0, LAT0, land)
    with pytest.raises(snap.PointError, match="en mer"):
        snap.check_in_martinique(LON0 + 0.05, LAT0, land)
