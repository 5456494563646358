"""Graph building: junctions, parallel arcs, strongly connected component, cache, OSM input."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from analysis import graph
from geo import catalog, graphs, roads
from geo.errors import MaillageError
from maillage import settings as settings_mod
from tests.network_fixtures import make_ways

SPEEDS = {"major": 36.0, "minor": 18.0, "residential": 18.0, "primary": 36.0}


def _square_ways():
    # A--B--C along the bottom, A-D-C over the top (minor), a parallel fast A-B (major),
    # and a dead-end one-way spur C->E that is not strongly connected.
    A, B, C, D, E = (0, 0), (0.002, 0), (0.004, 0), (0.002, 0.002), (0.006, 0)
    return make_ways(
        [[A, B], [B, C], [A, D, C], [A, (0.001, -0.0005), B], [C, E]],
        ["minor", "minor", "minor", "major", "minor"],
        oneway=[0, 0, 0, 0, 1],
    )


def _node_at(g, dlon, dlat):
    from analysis.snap import to_xy
    from tests.network_fixtures import LAT0, LON0

    xy = to_xy([[LON0 + dlon, LAT0 + dlat]])[0]
    return int(np.argmin(np.hypot(*(g.node_xy - xy).T)))


def test_junctions_contraction_parallel_arcs_and_scc_report():
    g = graph.build(_square_ways(), "drive", SPEEDS, 4.5)
    # the one-way spur C->E cannot come back: E and its edge are dropped and reported
    assert g.meta["nodes_dropped"] == 1 and g.meta["edges_dropped"] == 1
    assert g.meta["components"] == 2
    # without the spur only two ways meet at C: like D and the detour's middle vertex,
    # it is passed through, leaving A and B joined by three edges
    assert g.n_nodes == 2 and g.n_edges == 3 and g.meta["nodes_merged"] == 1
    a, b = _node_at(g, 0, 0), _node_at(g, 0.002, 0)
    parallel = np.flatnonzero(((g.edge_u == a) & (g.edge_v == b))
                              | ((g.edge_u == b) & (g.edge_v == a)))
    assert len(parallel) == 3
    assert g.csr[a, b] == pytest.approx(g.edge_fwd[parallel].min())
    assert g.csr[b, a] == pytest.approx(g.edge_bwd[parallel].min())
    # the major detour (the edge dipping south) is longer than the straight minor road
    # but, at twice the speed, faster: it is the arc kept
    low = [g.geom_xy[g.geom_off[e]:g.geom_off[e + 1], 1].min() for e in parallel]
    detour = parallel[int(np.argmin(low))]
    assert g.edge_len[detour] > g.edge_len[parallel].min()
    assert g.csr[a, b] == pytest.approx(g.edge_len[detour] / (36 / 3.6))
    assert g.csr_length[a, b] == pytest.approx(g.edge_len[detour])
    # every arc knows its edge
    assert list(g.arc_edge) == [detour, detour]


def test_pass_through_nodes_merge_exactly_but_not_across_a_one_way_change():
    # P-Q (major), Q-R (minor, drawn R->Q), R-S (major): Q and R are passed through;
    # S->T->P is one-way: T (one-way on both sides, the same way) is passed through too,
    # but S and P (two-way on one side, one-way on the other) stay
    P, Q, R, S, T = (0, 0), (0.002, 0), (0.004, 0.001), (0.006, 0), (0.003, -0.003)
    ways = make_ways([[P, Q], [R, Q], [R, S], [S, T], [T, P]],
                     ["major", "minor", "major", "minor", "minor"], oneway=[0, 0, 0, 1, 1])
    g = graph.build(ways, "drive", SPEEDS, 4.5)
    p, s = _node_at(g, *P), _node_at(g, *S)
    assert g.n_nodes == 2 and p != s and g.n_edges == 2 and g.meta["nodes_merged"] == 3
    one = int(np.flatnonzero(np.isinf(g.edge_bwd))[0])  # S -> T -> P
    assert (g.edge_u[one], g.edge_v[one]) == (s, p) and g.csr[s, p] > 0
    e = int(np.flatnonzero(np.isfinite(g.edge_bwd))[0])  # the one two-way edge: P..S
    seg = [np.hypot(*np.diff(snap_xy(a, b), axis=0)[0]) for a, b in ((P, Q), (Q, R), (R, S))]
    speed = np.array([36, 18, 36]) / 3.6
    assert g.edge_len[e] == pytest.approx(sum(seg))
    assert g.edge_fwd[e] == pytest.approx((np.array(seg) / speed).sum())
    assert g.edge_bwd[e] == pytest.approx(g.edge_fwd[e])
    # vertices in travel order from u, with exact time and length fractions at Q and R
    xy = g.geom_xy[g.geom_off[e]:g.geom_off[e + 1]]
    ft = g.geom_ft[g.geom_off[e]:g.geom_off[e + 1]]
    fl = g.geom_fl[g.geom_off[e]:g.geom_off[e + 1]]
    order = [P, Q, R, S] if g.edge_u[e] == p else [S, R, Q, P]
    np.testing.assert_allclose(xy, np.vstack([snap_xy(o) for o in order]), atol=1e-6)
    times = np.concatenate([[0], np.cumsum(np.array(seg) / speed)]) / g.edge_fwd[e]
    lengths = np.concatenate([[0], np.cumsum(seg)]) / g.edge_len[e]
    if g.edge_u[e] != p:
        times, lengths = 1 - times[::-1], 1 - lengths[::-1]
    np.testing.assert_allclose(ft, times, atol=1e-12)
    np.testing.assert_allclose(fl, lengths, atol=1e-12)


def snap_xy(*offsets):
    from analysis.snap import to_xy
    from tests.network_fixtures import LAT0, LON0

    return to_xy([[LON0 + dx, LAT0 + dy] for dx, dy in offsets])


def test_walk_uses_pace_both_ways_and_skips_motorways():
    ways = make_ways([[(0, 0), (0.003, 0)], [(0.003, 0), (0.006, 0)], [(0, 0), (0.006, 0)]],
                     ["minor", "minor", "highway"], oneway=[1, 1, 0],
                     walk=[True, True, False])
    g = graph.build(ways, "walk", SPEEDS, 4.5)
    assert np.all(np.isfinite(g.edge_fwd)) and np.all(np.isfinite(g.edge_bwd))
    assert g.edge_len.sum() == pytest.approx(g.edge_fwd.sum() * 4.5 / 3.6)
    assert g.meta["km"] == pytest.approx(g.edge_len.sum() / 1000, abs=1e-3)
    # the motorway is not walked: only the two minor ways, merged at their shared end
    assert g.n_edges == 1 and g.meta["nodes_merged"] == 1


def test_unknown_mode_is_a_french_error():
    with pytest.raises(MaillageError, match="Mode de déplacement inconnu"):
        graph.build(_square_ways(), "bike", SPEEDS, 4.5)


def test_npz_round_trip(tmp_path):
    g = graph.build(_square_ways(), "drive", SPEEDS, 4.5)
    graphs.write(g, tmp_path / "g.npz")
    h = graphs.read(tmp_path / "g.npz")
    assert h is not None and h.meta == g.meta and h.mode == "drive"
    for name in graph.ARRAYS:
        np.testing.assert_array_equal(getattr(h, name), getattr(g, name))


def test_densified_points_are_close_enough():
    g = graph.build(_square_ways(), "drive", SPEEDS, 4.5)
    for e in range(g.n_edges):
        pts = g.pts_xy[g.pts_edge == e]
        order = np.argsort(g.pts_ft[g.pts_edge == e])
        gaps = np.hypot(*np.diff(pts[order], axis=0).T)
        assert gaps.max() <= graph.SPACING_M + 1e-6
        assert g.pts_ft[g.pts_edge == e].min() == 0 and g.pts_ft[g.pts_edge == e].max() == 1


@pytest.mark.slow
def test_island_cache_built_once_and_rebuilt_when_speeds_change(real_settings, monkeypatch):
    g1 = graphs.load("drive", real_settings)
    files = list((real_settings.build_dir / "graphs").glob("drive-*.npz"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    g2 = graphs.load("drive", real_settings)
    assert files[0].stat().st_mtime_ns == mtime
    np.testing.assert_array_equal(g1.weight, g2.weight)
    assert g1.meta["source"] == "mirror" and g1.meta["nodes"] > 20_000
    assert g1.meta["km"] > 3_500 and g1.meta["nodes_dropped"] >= 0
    faster = {**settings_mod.DRIVE_SPEEDS_KMH, "minor": 40.0}
    monkeypatch.setattr(settings_mod, "DRIVE_SPEEDS_KMH", faster)
    g3 = graphs.load("drive", real_settings)
    new = list((real_settings.build_dir / "graphs").glob("drive-*.npz"))
    assert len(new) == 1 and new[0] != files[0]
    assert g3.weight.sum() < g1.weight.sum()


# --------------------------------------------------------------------------- OSM input

OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="maillage-tests">
{nodes}
  <way id="1" version="1"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="primary"/><tag k="oneway" v="yes"/><tag k="maxspeed" v="50"/></way>
  <way id="2" version="1"><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
  <way id="3" version="1"><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="residential"/></way>
  <way id="4" version="1"><nd ref="1"/><nd ref="5"/><nd ref="3"/>
    <tag k="highway" v="footway"/></way>
  <way id="5" version="1"><nd ref="2"/><nd ref="6"/>
    <tag k="highway" v="service"/><tag k="access" v="private"/></way>
  <way id="6" version="1"><nd ref="4"/><nd ref="7"/>
    <tag k="building" v="yes"/></way>
</osm>
"""
NODES = {1: (0, 0), 2: (0.004, 0), 3: (0.004, 0.003), 4: (0, 0.003), 5: (0.002, 0.0015),
         6: (0.006, 0), 7: (0.001, 0.004)}


def write_osm(path):
    nodes = "\n".join(
        f'  <node id="{i}" version="1" lat="{14.6 + dlat:.7f}" lon="{-61.07 + dlon:.7f}"/>'
        for i, (dlon, dlat) in NODES.items())
    path.write_text(OSM_XML.format(nodes=nodes), encoding="utf-8")
    return path


def test_read_osm_tags(tmp_path):
    ways = roads.read_osm(write_osm(tmp_path / "tiny.osm"))
    # the building is not a road; the private service road is neither driven nor walked
    assert ways.source == "pbf" and ways.n_ways == 4
    hw = list(ways.highway)
    assert ways.oneway[hw.index("primary")] == 1
    assert ways.maxspeed[hw.index("primary")] == 50
    assert np.isnan(ways.maxspeed[hw.index("residential")])
    fw = hw.index("footway")
    assert ways.walk[fw] and not ways.drive[fw]
    assert "service" not in hw


def test_osm_graphs_oneway_maxspeed_footway(tmp_path):
    ways = roads.read_osm(write_osm(tmp_path / "tiny.osm"))
    drive = graph.build(ways, "drive", settings_mod.DRIVE_SPEEDS_KMH, 4.5)
    walk = graph.build(ways, "walk", settings_mod.DRIVE_SPEEDS_KMH, 4.5)
    # the primary 1->2 is one-way and runs at its tagged 50 km/h
    e = int(np.argmax(drive.edge_len * np.isinf(drive.edge_bwd)))
    assert np.isinf(drive.edge_bwd[e]) and np.isfinite(drive.edge_fwd[e])
    assert drive.edge_fwd[e] == pytest.approx(drive.edge_len[e] / (50 / 3.6))
    # residential ways use the table speed
    two_way = np.isfinite(drive.edge_bwd)
    assert np.allclose(drive.edge_fwd[two_way],
                       drive.edge_len[two_way] / (settings_mod.DRIVE_SPEEDS_KMH["residential"]
                                                  / 3.6))
    # footway: walked, not driven; the private service road: neither
    assert walk.meta["km"] > drive.meta["km"]
    assert walk.n_edges == drive.n_edges + 1  # the footway 1-5-3 is one more edge
    assert np.all(np.isfinite(walk.edge_bwd))
    n1, n2 = _node_at(drive, 0, 0), _node_at(drive, 0.004, 0)
    # by car, 2 -> 1 can only go the long way round (2-3-4-1, with 3 passed through),
    # never against the one-way
    assert drive.n_nodes == 2 and drive.csr[n1, n2] == pytest.approx(drive.edge_fwd[e])
    back = drive.arc_edge[drive.indptr[n2]]
    assert back != e and drive.csr[n2, n1] == pytest.approx(drive.edge_len[back] / (25 / 3.6))
    w1, w2 = _node_at(walk, 0, 0), _node_at(walk, 0.004, 0)
    assert walk.csr[w1, w2] > 0 and walk.csr[w2, w1] == walk.csr[w1, w2]


def test_pbf_is_preferred_when_present(tmp_path, tmp_settings):
    import osmium

    xml = write_osm(tmp_path / "tiny.osm")
    pbf = roads.pbf_path(tmp_settings)
    pbf.parent.mkdir(parents=True, exist_ok=True)
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            if obj.is_node():
                writer.add_node(obj)
            elif obj.is_way():
                writer.add_way(obj)
    assert pbf.name == catalog.OSM_PBF_NAME
    kind, path = roads.source_path(tmp_settings)
    assert kind == "pbf" and path == pbf
    g = graphs.load("walk", tmp_settings)
    assert g.meta["source"] == "pbf" and g.meta["source_sha256"] == roads.fetch.sha256_of(pbf)
    assert os.path.exists(tmp_settings.build_dir / "graphs")
    s2 = replace(tmp_settings, walk_kmh=5.0)
    assert graphs.load("walk", s2).edge_fwd.sum() < g.edge_fwd.sum()
