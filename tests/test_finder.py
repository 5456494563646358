"""The nearest places by travel time: ordering against networkx, distances, routes, errors."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely

from analysis import finder, graph, snap
from tests.network_fixtures import LAT0, LON0, add_points, make_ways, reference_digraph

SPEEDS = {"major": 54.0, "minor": 18.0}
WALK_KMH = 4.5


def _ways():
    """A 4 × 3 grid of minor streets with a fast major road along the bottom and a one-way."""
    lines, kinds, oneway = [], [], []
    xs, ys = [0, 0.004, 0.008, 0.012], [0, 0.004, 0.008]
    for y in ys:
        for a, b in itertools.pairwise(xs):
            lines.append([(a, y), (b, y)])
            kinds.append("major" if y == 0 else "minor")
            oneway.append(1 if (y == 0.004 and a == 0.004) else 0)
    for x in xs:
        for a, b in itertools.pairwise(ys):
            lines.append([(x, a), (x, (a + b) / 2), (x, b)])
            kinds.append("minor")
            oneway.append(0)
    return make_ways(lines, kinds, oneway=oneway)


@pytest.fixture(scope="module")
def graphs() -> dict[str, graph.Graph]:
    ways = _ways()
    return {m: graph.build(ways, m, SPEEDS, WALK_KMH) for m in finder.MODES}


#: Places as (dlon, dlat) offsets; one is 300 m off the roads.
PLACES = [(0.0115, 0.0041), (0.0021, 0.0079), (0.0060, 0.0003), (0.0001, 0.0020),
          (0.0080, 0.0061), (0.0040, 0.0070), (0.0060, 0.0100 + 0.0027)]
ORIGIN = (0.0043, 0.0012)


def _lonlat(offsets) -> np.ndarray:
    return np.asarray(offsets, dtype=np.float64) + np.array([LON0, LAT0])


@pytest.fixture(scope="module")
def nets(graphs) -> dict[str, finder.Network]:
    return {m: finder.prepare(graphs[m], _lonlat(PLACES), m, max_snap_m=200.0)
            for m in finder.MODES}


def _reference_times(g: graph.Graph, origin: snap.Snapped, places: snap.Snapped) -> np.ndarray:
    """Seconds from the origin to each place with networkx (no CSR, no scipy Dijkstra)."""
    H = add_points(reference_digraph(g), g, origin, places)
    dist = nx.single_source_dijkstra_path_length(H, ("s", 0), weight="w")
    return np.array([dist.get(("t", j), np.inf) for j in range(len(places))])


@pytest.mark.parametrize("mode", finder.MODES)
def test_times_and_order_match_networkx(graphs, nets, mode: str) -> None:
    lon, lat = _lonlat([ORIGIN])[0]
    answer = finder.find(nets, lon, lat, k=10, order=mode, max_snap_m=200.0)
    g, net = graphs[mode], nets[mode]
    origin = snap.snap(g, snap.to_xy([[lon, lat]]))
    ref = _reference_times(g, origin, net.places)
    ref[~net.usable] = np.inf
    got = {o.place: o.seconds[mode] for o in answer.options}
    reachable = np.flatnonzero(np.isfinite(ref))
    assert sorted(got) == sorted(reachable.tolist())  # the far-off place is left out
    for i in reachable:
        assert got[i] == pytest.approx(ref[i], rel=1e-9, abs=1e-6)
    order = [o.place for o in answer.options]
    assert [ref[i] for i in order] == sorted(ref[i] for i in order)
    assert answer.order == mode


def test_driving_and_walking_rankings_differ_when_the_fast_road_helps(nets) -> None:
    lon, lat = _lonlat([ORIGIN])[0]
    walk = finder.find(nets, lon, lat, k=6, order="walk", max_snap_m=200.0)
    drive = finder.find(nets, lon, lat, k=6, order="drive", max_snap_m=200.0)
    # every option carries both modes, whatever the ranking
    for o in walk.options + drive.options:
        assert set(o.seconds) == set(finder.MODES) == set(o.metres)
    assert [o.seconds["walk"] for o in walk.options] == sorted(
        o.seconds["walk"] for o in walk.options)
    assert [o.seconds["drive"] for o in drive.options] == sorted(
        o.seconds["drive"] for o in drive.options)


def test_k_limits_and_auto_order(nets) -> None:
    lon, lat = _lonlat([ORIGIN])[0]
    three = finder.find(nets, lon, lat, k=3, max_snap_m=200.0)
    assert len(three.options) == 3
    assert three.order == "walk"  # the nearest place is a few minutes away on foot
    far = finder.find(nets, lon, lat, k=3, auto_walk_s=1.0, max_snap_m=200.0)
    assert far.order == "drive"


def test_walking_distance_is_time_times_pace_and_route_joins_both_ends(graphs, nets) -> None:
    lon, lat = _lonlat([ORIGIN])[0]
    answer = finder.find(nets, lon, lat, k=6, order="walk", max_snap_m=200.0)
    pace = WALK_KMH / 3.6
    for o in answer.options:
        # on foot every street has the same pace: metres and seconds are proportional
        assert o.metres["walk"] == pytest.approx(o.seconds["walk"] * pace, rel=1e-6)
        r = finder.route(nets, answer, o.place, "walk")
        assert r.seconds == pytest.approx(o.seconds["walk"])
        assert r.lonlat[0] == pytest.approx([lon, lat])
        assert r.lonlat[-1] == pytest.approx(_lonlat(PLACES)[o.place])
        # the drawn line follows the road: its length is the path plus the two connectors
        xy = snap.to_xy(r.lonlat)
        drawn = float(np.hypot(*np.diff(xy, axis=0).T).sum())
        connectors = answer.snap_m["walk"] + float(nets["walk"].places.dist[o.place])
        assert drawn == pytest.approx(r.metres + connectors, rel=1e-6, abs=0.5)


def test_driving_route_respects_the_one_way(graphs, nets) -> None:
    g = graphs["drive"]
    lon, lat = _lonlat([ORIGIN])[0]
    answer = finder.find(nets, lon, lat, k=6, order="drive", max_snap_m=200.0)
    for o in answer.options:
        r = finder.route(nets, answer, o.place, "drive")
        assert r.seconds == pytest.approx(o.seconds["drive"])
        assert r.metres == pytest.approx(o.metres["drive"])
        assert np.isfinite(r.metres) and r.metres >= 0
    assert g.meta["nodes"] > 0


def test_errors_are_french_and_specific(graphs, nets) -> None:
    with pytest.raises(snap.PointError, match="hors de la Martinique"):
        finder.find(nets, -60.0, 14.0)
    with pytest.raises(snap.PointError, match="inversé longitude et latitude"):
        finder.find(nets, 14.6, -61.05)
    # at sea: a land polygon around the grid only
    land = shapely.buffer(shapely.MultiPoint(graphs["walk"].node_xy).convex_hull, 50)
    lon, lat = _lonlat([(0.006, -0.02)])[0]
    with pytest.raises(snap.PointError, match="en mer"):
        finder.find(nets, lon, lat, land=land)
    # on land but far from any road
    with pytest.raises(snap.PointError, match="de la route la plus proche"):
        finder.find(nets, lon, lat, max_snap_m=100.0)
    lon, lat = _lonlat([ORIGIN])[0]
    with pytest.raises(finder.NoPlaceInReach, match="Aucun lieu d'aide"):
        finder.find(nets, lon, lat, reach_s={"walk": 1.0, "drive": 1.0}, max_snap_m=200.0)
    with pytest.raises(finder.MaillageError, match="Ordre inconnu"):
        finder.find(nets, lon, lat, order="vélo")


def test_no_places_at_all(graphs) -> None:
    empty = {m: finder.prepare(graphs[m], np.zeros((0, 2)), m) for m in finder.MODES}
    lon, lat = _lonlat([ORIGIN])[0]
    with pytest.raises(finder.NoPlaceInReach):
        finder.find(empty, lon, lat, max_snap_m=200.0)
