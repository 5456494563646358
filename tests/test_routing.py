"""Travel-time queries: exact against networkx, cutoffs, same-edge trips, nearest facility."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from analysis import graph, routing, snap
from geo import graphs, roads
from tests.network_fixtures import add_points, make_ways, reference_digraph


@pytest.fixture(scope="module")
def island_drive(real_settings):
    return graphs.load("drive", real_settings)


def random_land_points(g, n, seed):
    """Random points on the island that snap within the limit."""
    rng = np.random.default_rng(seed)
    lo, hi = g.node_xy.min(axis=0), g.node_xy.max(axis=0)
    xy = rng.uniform(lo, hi, size=(n * 6, 2))
    s = snap.snap(g, xy, 300.0)
    return s.take(np.flatnonzero(s.ok)[:n])


@pytest.mark.slow
def test_exact_against_networkx_on_the_island(island_drive):
    g = island_drive
    src = random_land_points(g, 12, seed=1)
    tgt = random_land_points(g, 12, seed=2)
    # a target on a source's own edge, to exercise the same-edge case
    tgt = snap.Snapped(*(np.concatenate([getattr(tgt, f), getattr(src, f)[:1]])
                         for f in ("edge", "ft", "fl", "xy", "dist", "ok")))
    tgt = snap.Snapped(tgt.edge, np.r_[tgt.ft[:-1], min(1.0, tgt.ft[-1] + 0.3)], tgt.fl,
                       tgt.xy, tgt.dist, tgt.ok)
    assert len(src) * len(tgt) >= 100
    engine = routing.matrix(g, src, tgt)
    H = add_points(reference_digraph(g), g, src, tgt)
    ref = np.full_like(engine, np.inf)
    for i in range(len(src)):
        lengths = nx.single_source_dijkstra_path_length(H, ("s", i), weight="w")
        for j in range(len(tgt)):
            ref[i, j] = lengths.get(("t", j), np.inf)
    assert np.isfinite(ref).all()
    np.testing.assert_allclose(engine, ref, rtol=0, atol=1e-6)
    # trip() gives the same seconds and a distance no shorter than the crow flies
    for i, j in [(0, 0), (3, 5), (0, len(tgt) - 1)]:
        t = routing.trip(g, src.take([i]), tgt.take([j]))
        assert t.seconds == pytest.approx(ref[i, j], abs=1e-6)
        crow = np.hypot(*(src.xy[i] - tgt.xy[j]))
        assert t.metres >= crow - 1e-6
    # times *to* facilities (reversed graph, one search per facility): the same pairs
    np.testing.assert_allclose(routing.matrix_to(g, src, tgt), ref, rtol=0, atol=1e-6)
    # one tree, many destinations: the same times, and each path's road shape is as long
    # as its trip (the shape runs from snapped point to snapped point along the roads)
    t0 = routing.tree(g, src.take([0]))
    np.testing.assert_allclose(routing.times_to(g, t0, tgt), ref[0], rtol=0, atol=1e-6)
    for j in (0, 5, len(tgt) - 1):
        tr = routing.path(g, t0, tgt, j)
        assert tr.seconds == pytest.approx(ref[0, j], abs=1e-6)
        xy = routing.path_xy(g, tr)
        assert xy[0] == pytest.approx(src.xy[0]) and xy[-1] == pytest.approx(tgt.xy[j])
        assert np.hypot(*np.diff(xy, axis=0).T).sum() == pytest.approx(tr.metres, rel=1e-9)
        # the arcs followed are the graph's fastest ones, node to node
        w = [g.csr[a, b] for a, b in zip(tr.nodes[:-1], tr.nodes[1:], strict=True)]
        fwd = np.where(tr.forward, g.edge_fwd[tr.edges], g.edge_bwd[tr.edges])
        np.testing.assert_allclose(fwd, w)
    # one_to_all on nodes equals networkx from the virtual source
    d = routing.one_to_all(g, src.take([0]))
    lengths = nx.single_source_dijkstra_path_length(H, ("s", 0), weight="w")
    nodes = np.arange(g.n_nodes)
    ref_nodes = np.array([lengths.get(int(n), np.inf) for n in nodes])
    np.testing.assert_allclose(d, ref_nodes, rtol=0, atol=1e-6)
    # the nearest of several facilities, from one reversed multi-source run
    t, which = routing.nearest(g, src, tgt)
    np.testing.assert_allclose(t, engine.min(axis=0), atol=1e-6)
    assert np.all(engine[which, np.arange(len(tgt))] == pytest.approx(t, abs=1e-6))


@pytest.mark.slow
def test_cutoff_gives_inf_not_a_magic_number(island_drive):
    g = island_drive
    src = random_land_points(g, 5, seed=3)
    tgt = random_land_points(g, 40, seed=4)
    full = routing.matrix(g, src, tgt)
    cut = routing.matrix(g, src, tgt, cutoff=600)
    near = full <= 600
    assert near.any() and (~near).any()
    np.testing.assert_allclose(cut[near], full[near])
    assert np.all(np.isinf(cut[~near]))
    t, which = routing.nearest(g, src, tgt, cutoff=600)
    assert np.all(np.isinf(t[which == -1])) and np.all(t[which >= 0] <= 600)


def _line_graph(oneway: int):
    # A one-way (or two-way) straight road A->B, a slow loop back B-C-A, and a dead end
    # at A and at B (so that both are true junctions, never passed through).
    ways = make_ways([[(0, 0), (0.004, 0)], [(0.004, 0), (0.004, 0.002), (0, 0.002), (0, 0)],
                      [(0, 0), (-0.002, 0)], [(0.004, 0), (0.006, 0)]],
                     ["major", "minor", "minor", "minor"], oneway=[oneway, 0, 0, 0])
    return graph.build(ways, "drive", {"major": 36.0, "minor": 18.0}, 4.5)


def _on(g, dlon, dlat):
    from tests.network_fixtures import LAT0, LON0

    return snap.snap(g, snap.to_xy([[LON0 + dlon, LAT0 + dlat]]))


def test_same_edge_both_directions_and_one_way():
    two = _line_graph(0)
    a, b = _on(two, 0.001, 0), _on(two, 0.003, 0)
    ab = routing.trip(two, a, b)
    ba = routing.trip(two, b, a)
    assert ab.seconds == pytest.approx(ba.seconds)
    expected = (b.fl[0] - a.fl[0]) * two.edge_len[b.edge[0]]
    assert ab.metres == pytest.approx(expected)
    assert ab.seconds == pytest.approx(expected / 10.0)  # 36 km/h = 10 m/s
    one = _line_graph(1)
    a, b = _on(one, 0.001, 0), _on(one, 0.003, 0)
    fwd, back = routing.trip(one, a, b), routing.trip(one, b, a)
    assert fwd.seconds == pytest.approx(ab.seconds)
    # going back against the one-way means the long way round by the loop
    loop = one.edge_len[one.edge_len.argmax()]
    assert back.seconds > fwd.seconds
    assert back.metres == pytest.approx(one.edge_len[a.edge[0]] - expected + loop)
    m = routing.matrix(one, snap.Snapped(*(np.r_[getattr(a, f), getattr(b, f)] for f in
                                           ("edge", "ft", "fl", "xy", "dist", "ok"))), b)
    assert m[0, 0] == pytest.approx(fwd.seconds) and m[1, 0] == 0
    both = snap.Snapped(*(np.r_[getattr(a, f), getattr(b, f)] for f in
                          ("edge", "ft", "fl", "xy", "dist", "ok")))
    np.testing.assert_allclose(routing.matrix_to(one, both, both),
                               routing.matrix(one, both, both), atol=1e-9)
    # the shape of the trip back follows the loop: as long as the trip, ends snapped
    xy = routing.trip_geometry(one, b, a)
    assert np.hypot(*np.diff(xy, axis=0).T).sum() == pytest.approx(back.metres)
    assert xy[0] == pytest.approx(b.xy[0]) and xy[-1] == pytest.approx(a.xy[0])
    along = routing.trip_geometry(one, a, b)
    assert len(along) == 2 and np.hypot(*(along[1] - along[0])) == pytest.approx(fwd.metres)


def test_unreachable_is_inf():
    g = _line_graph(0)
    pts = _on(g, 0.001, 0)
    d = routing.one_to_all(g, pts, cutoff=15.0)  # A at ~11 s, B at ~32 s
    assert np.isinf(d).any() and np.isfinite(d).any()
    assert routing.matrix(g, pts, _on(g, 0.004, 0.001), cutoff=1.0)[0, 0] == np.inf


def test_island_helper_is_land(real_settings):
    land = roads.island(real_settings)
    assert 1000e6 < land.area < 1200e6  # Martinique: about 1,128 km²


def _random_on_edges(g, n, seed):
    """Points at random fractions of random edges (every edge of a tiny graph gets some)."""
    rng = np.random.default_rng(seed)
    e = np.r_[np.arange(g.n_edges), rng.integers(0, g.n_edges, n)]
    f = rng.uniform(0, 1, len(e))
    f[:3] = [0.0, 1.0, 0.5]
    xy = np.array([np.interp(fi, g.geom_fl[g.geom_off[ei]:g.geom_off[ei + 1]],
                             g.geom_xy[g.geom_off[ei]:g.geom_off[ei + 1], k])
                   for ei, fi in zip(e, f, strict=True) for k in (0, 1)]).reshape(-1, 2)
    return snap.snap(g, xy)


@pytest.mark.parametrize("with_loop", [True, False])
def test_dead_end_trees_exact_against_networkx(with_loop):
    # a loop (the core) with a branching dead-end tree at one corner, and a one-way on the
    # loop; without the loop, the whole graph is a tree
    A, B, C, D = (0, 0), (0.004, 0), (0.004, 0.003), (0, 0.003)
    T1, T2, T3, T4 = (-0.002, 0), (-0.004, 0.001), (-0.004, -0.001), (-0.003, -0.003)
    lines = [[A, T1], [T1, T2], [T1, T3], [T3, T4], [B, (0.006, 0)]]
    classes = ["minor", "minor", "major", "minor", "minor"]
    oneway = [0, 0, 0, 0, 0]
    if with_loop:
        lines += [[A, B], [B, C], [C, D], [D, A]]
        classes += ["major", "minor", "minor", "major"]
        oneway += [0, 1, 0, 0]
    g = graph.build(make_ways(lines, classes, oneway=oneway), "drive",
                    {"major": 36.0, "minor": 18.0}, 4.5)
    assert g.core.tree_edge.any()
    if with_loop:
        assert not g.core.tree_edge.all()
    src, tgt = _random_on_edges(g, 12, seed=5), _random_on_edges(g, 15, seed=6)
    H = add_points(reference_digraph(g), g, src, tgt)
    ref = np.full((len(src), len(tgt)), np.inf)
    for i in range(len(src)):
        lengths = nx.single_source_dijkstra_path_length(H, ("s", i), weight="w")
        for j in range(len(tgt)):
            ref[i, j] = lengths.get(("t", j), np.inf)
    np.testing.assert_allclose(routing.matrix(g, src, tgt), ref, rtol=0, atol=1e-9)
    cut = np.median(ref)
    np.testing.assert_allclose(routing.matrix(g, src, tgt, cut), np.where(ref <= cut, ref, np.inf),
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(routing.matrix_to(g, src, tgt), ref, rtol=0, atol=1e-9)
