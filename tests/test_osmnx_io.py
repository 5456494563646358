"""osmnx interchange: engine graphs to osmnx GraphML and back, times checked against networkx."""

from __future__ import annotations

import json
import os
import subprocess
from itertools import pairwise
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

from analysis import graph, routing
from analysis.snap import Snapped, snap, to_xy
from geo import graphs, osmnx_io
from maillage import settings as settings_mod
from tests.network_fixtures import LAT0, LON0, make_ways

ROOT = Path(__file__).resolve().parents[1]
MAILLAGE = ROOT / ".venv" / "bin" / "maillage"
#: The GraphML round trip keeps floats exactly; this leaves room for summation order.
RTOL = 1e-6
TRIP = ["--from", "-61.0733,14.6036", "--to", "-60.9976,14.6153", "--mode", "drive", "--json"]


def at_nodes(g: graph.Graph, nodes: np.ndarray) -> Snapped:
    """Points exactly on nodes: at the start (ft 0) of an edge leaving each, else at the end."""
    nodes = np.asarray(nodes, dtype=np.int64)
    leaving = np.full(g.n_nodes, -1)
    leaving[g.edge_u[::-1]] = np.arange(g.n_edges)[::-1]
    entering = np.full(g.n_nodes, -1)
    entering[g.edge_v[::-1]] = np.arange(g.n_edges)[::-1]
    use_u = leaving[nodes] >= 0
    edge = np.where(use_u, leaving[nodes], entering[nodes])
    ft = np.where(use_u, 0.0, 1.0)
    return Snapped(edge=edge, ft=ft, fl=ft.copy(), xy=g.node_xy[nodes],
                   dist=np.zeros(len(nodes)), ok=np.ones(len(nodes), dtype=bool))


def engine_times(g: graph.Graph, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Engine seconds from node ``a[k]`` to node ``b[k]`` (public routing, all sources at once)."""
    return np.diagonal(routing.matrix(g, at_nodes(g, a), at_nodes(g, b))).copy()


def nx_times(G: nx.MultiDiGraph, a, b) -> np.ndarray:
    """networkx's fastest times (weight ``travel_time``), inf when there is no path."""
    out = []
    for s, t in zip(a, b, strict=True):
        try:
            out.append(nx.shortest_path_length(G, s, t, weight="travel_time"))
        except nx.NetworkXNoPath:
            out.append(np.inf)
    return np.array(out, dtype=np.float64)


def random_pairs(g: graph.Graph, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, g.n_nodes, k), rng.integers(0, g.n_nodes, k)


def positions(g: graph.Graph) -> dict:
    """networkx node id -> engine node, for a graph read by :func:`osmnx_io.from_networkx`."""
    return {n: i for i, n in enumerate(g.meta["node_ids"])}


# --------------------------------------------------------------------------- real island


@pytest.fixture(scope="module")
def cli_env(real_settings):
    return {**os.environ, "MAILLAGE_DATA_DIR": str(real_settings.data_dir)}


@pytest.fixture(scope="module")
def drive(real_settings):
    return graphs.load("drive", real_settings)


@pytest.fixture(scope="module")
def drive_graphml(drive, cli_env, tmp_path_factory) -> Path:
    """The island's drive graph exported by the command line (the cache is already built)."""
    out = tmp_path_factory.mktemp("osmnx") / "drive.graphml"
    done = subprocess.run([str(MAILLAGE), "network", "export", "--mode", "drive", "--graphml",
                           str(out), "--json"], cwd=ROOT, env=cli_env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["crs"] == "EPSG:4326" and summary["nodes"] == drive.n_nodes
    return out


@pytest.mark.slow
def test_exported_drive_graph_routes_like_the_engine(drive, drive_graphml, real_settings):
    G = ox.load_graphml(drive_graphml)
    assert G.graph["crs"] == "EPSG:4326" and G.number_of_nodes() == drive.n_nodes
    both = np.isfinite(drive.edge_fwd) & np.isfinite(drive.edge_bwd)
    assert G.number_of_edges() == int(np.isfinite(drive.edge_fwd).sum()
                                      + np.isfinite(drive.edge_bwd).sum())
    _, _, d = next(iter(G.edges(data=True)))
    assert {"length", "travel_time", "osmid", "oneway"} <= d.keys()
    assert -61.3 < G.nodes[0]["x"] < -60.7 and 14.3 < G.nodes[0]["y"] < 14.9
    assert all(d["oneway"] == (not both[d["osmid"]]) for _, _, d in G.edges(data=True))

    a, b = random_pairs(drive, 100, seed=14)
    want = engine_times(drive, a, b)
    got = nx_times(G, a.tolist(), b.tolist())
    np.testing.assert_allclose(got, want, rtol=RTOL)
    assert np.isfinite(want).all()  # one strongly connected graph: every pair has a route

    # and back into the engine: the same network, the same times
    h = osmnx_io.from_networkx(G, "drive", real_settings)
    assert (h.n_nodes, h.n_edges) == (drive.n_nodes, drive.n_edges)
    assert h.meta["nodes_dropped"] == 0 and h.meta["km"] == pytest.approx(drive.meta["km"])
    pos = positions(h)
    back = engine_times(h, np.array([pos[n] for n in a]), np.array([pos[n] for n in b]))
    np.testing.assert_allclose(back, want, rtol=RTOL)


@pytest.mark.slow
def test_walk_graph_both_ways_like_the_engine(real_settings):
    walk = graphs.load("walk", real_settings)
    G = osmnx_io.to_networkx(walk)
    assert G.number_of_edges() == 2 * walk.n_edges  # every road walked both ways
    assert not any(d["oneway"] for _, _, d in G.edges(data=True))
    a, b = random_pairs(walk, 30, seed=972)
    want = engine_times(walk, a, b)
    np.testing.assert_allclose(nx_times(G, a.tolist(), b.tolist()), want, rtol=RTOL)
    h = osmnx_io.from_networkx(G, "walk", real_settings)
    assert (h.n_nodes, h.n_edges) == (walk.n_nodes, walk.n_edges)  # the two ways paired again
    pos = positions(h)
    back = engine_times(h, np.array([pos[n] for n in a]), np.array([pos[n] for n in b]))
    np.testing.assert_allclose(back, want, rtol=RTOL)


@pytest.mark.slow
def test_cli_traveltime_on_the_exported_graph_matches_the_island_graph(drive_graphml, cli_env,
                                                                      real_settings, monkeypatch,
                                                                      capsys):
    from maillage import cli

    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(real_settings.data_dir))
    settings_mod.get.cache_clear()
    try:
        assert cli.main(["traveltime", *TRIP]) == 0
    finally:
        settings_mod.get.cache_clear()
    island = json.loads(capsys.readouterr().out)
    done = subprocess.run([str(MAILLAGE), "traveltime", *TRIP, "--graph", str(drive_graphml)],
                          cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    osm = json.loads(done.stdout)
    assert osm["graph"] == str(drive_graphml) and island["graph"] is None
    assert island["seconds"] is not None
    for key in ("seconds", "distance_m", "snap_from_m", "snap_to_m"):
        assert osm[key] == pytest.approx(island[key], abs=0.1), key


# --------------------------------------------------------------------------- small graphs


def _osmnx_style(with_times: bool) -> nx.MultiDiGraph:
    """A few streets of Fort-de-France the way osmnx hands them out (ids, x/y, length, tags).

    1 ⇄ 2 residential (bent), 2 → 3 primary one-way at 50 km/h, 3 ⇄ 1 tertiary, a slower
    parallel 1 ⇄ 2 service road, 3 ⇄ 4 unclassified, and a one-way spur 4 → 5 that
    cannot come back.
    """
    pts = {101: (0, 0), 102: (0.004, 0), 103: (0.004, 0.003), 104: (0.007, 0.004),
           105: (0.009, 0.004)}
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for n, (dx, dy) in pts.items():
        G.add_node(n, x=LON0 + dx, y=LAT0 + dy, street_count=2)
    bend = [(LON0, LAT0), (LON0 + 0.002, LAT0 - 0.0007), (LON0 + 0.004, LAT0)]
    streets = [  # u, v, highway, extra tags, vertices (None: straight), both ways
        (101, 102, "residential", {"name": "Rue A"}, bend, True),
        (102, 103, "primary", {"maxspeed": "50"}, None, False),
        (103, 101, "tertiary", {}, None, True),
        (101, 102, "service", {}, None, True),
        (103, 104, "unclassified", {}, None, True),
        (104, 105, "residential", {}, None, False),
    ]
    from shapely.geometry import LineString

    for osmid, (u, v, hw, tags, line, two_way) in enumerate(streets, start=1):
        ends = [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
        coords = line or ends
        length = sum(ox.distance.great_circle(y0, x0, y1, x1)
                     for (x0, y0), (x1, y1) in pairwise(coords))
        for a, b, c in [(u, v, coords)] + ([(v, u, coords[::-1])] if two_way else []):
            data = {"osmid": osmid, "highway": hw, "length": float(length), **tags}
            if line is not None:
                data["geometry"] = LineString(c)
            if with_times:
                data["travel_time"] = float(length) / (7.0 + osmid)  # any positive times
            G.add_edge(a, b, **data)
    return G


def _all_pairs(g: graph.Graph, G: nx.MultiDiGraph) -> tuple[np.ndarray, np.ndarray]:
    """Engine and networkx times between every pair of the engine's nodes."""
    ids = g.meta["node_ids"]
    k = np.arange(g.n_nodes)
    engine = routing.matrix(g, at_nodes(g, k), at_nodes(g, k))
    ref = np.array([[nx.shortest_path_length(G, s, t, weight="travel_time") for t in ids]
                    for s in ids])
    return engine, ref


def test_osmnx_graph_with_travel_times_routes_like_networkx(tmp_settings):
    G = _osmnx_style(with_times=True)
    g = osmnx_io.from_networkx(G, "drive", tmp_settings)
    # node 105 is reached but never left: outside the strongly connected part, dropped
    assert sorted(g.meta["node_ids"]) == [101, 102, 103, 104]
    assert g.meta["nodes_dropped"] == 1 and g.meta["edges_dropped"] == 1
    # two-way streets are one engine edge each; the one-way primary stays one-way
    assert g.n_edges == 5 and int(np.isinf(g.edge_bwd).sum()) == 1
    engine, ref = _all_pairs(g, G)
    np.testing.assert_allclose(engine, ref, rtol=1e-12)
    # the bent street keeps its shape: a point on its bend snaps onto it, at its length
    bend = to_xy([[LON0 + 0.002, LAT0 - 0.0007]])
    on = snap(g, bend)
    assert on.dist[0] < 1e-6 and g.edge_len[on.edge[0]] == pytest.approx(
        G.edges[101, 102, 0]["length"])


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_osmnx_graph_without_travel_times_gets_the_engine_speeds(mode, tmp_settings):
    G = _osmnx_style(with_times=False)
    g = osmnx_io.from_networkx(G, mode, tmp_settings)
    # what the engine's speed rules give, worked out here by hand on a copy
    ref = nx.MultiDiGraph(crs=G.graph["crs"])
    for u, v, d in G.edges(data=True):
        kmh = (tmp_settings.walk_kmh if mode == "walk"
               else float(d["maxspeed"]) if "maxspeed" in d
               else settings_mod.DRIVE_SPEEDS_KMH[d["highway"]])
        t = d["length"] / (kmh / 3.6)
        ref.add_edge(u, v, travel_time=t)
        if mode == "walk":  # on foot, one-way streets are walked both ways
            ref.add_edge(v, u, travel_time=t)
    kept = [101, 102, 103, 104, 105] if mode == "walk" else [101, 102, 103, 104]
    assert sorted(g.meta["node_ids"]) == kept
    assert bool(np.isinf(g.edge_bwd).any()) is (mode == "drive")
    engine, want = _all_pairs(g, ref)
    np.testing.assert_allclose(engine, want, rtol=1e-12)
    assert "travel_time" not in next(iter(G.edges(data=True)))[2]  # the input is untouched


def test_mixed_speed_edge_round_trips_through_graphml(tmp_path, tmp_settings):
    # P-Q (major), Q-R (minor), R-S (major) merge into one two-way edge P..S whose time is
    # not spread like its length; S -> T -> P is one-way (the network of test_graph.py)
    P, Q, R, S, T = (0, 0), (0.002, 0), (0.004, 0.001), (0.006, 0), (0.003, -0.003)
    ways = make_ways([[P, Q], [R, Q], [R, S], [S, T], [T, P]],
                     ["major", "minor", "major", "minor", "minor"], oneway=[0, 0, 0, 1, 1])
    g = graph.build(ways, "drive", settings_mod.DRIVE_SPEEDS_KMH, 4.5)
    assert (g.n_nodes, g.n_edges) == (2, 2) and np.abs(g.geom_ft - g.geom_fl).max() > 0.01
    path = tmp_path / "small.graphml"
    osmnx_io.export_graphml(g, path)
    assert osmnx_io.TIME_FRACTIONS in path.read_text(encoding="utf-8")
    h = osmnx_io.load_graphml(path, "drive", tmp_settings)
    ids = np.array(h.meta["node_ids"])  # the node of g each node of h is
    assert sorted(ids) == [0, 1] and (h.n_nodes, h.n_edges) == (2, 2)
    for e in range(h.n_edges):
        f = int(np.flatnonzero(np.isclose(g.edge_len, h.edge_len[e], rtol=0, atol=1e-9))[0])
        assert (ids[h.edge_u[e]], ids[h.edge_v[e]]) == (g.edge_u[f], g.edge_v[f])
        for name in ("edge_fwd", "edge_bwd"):
            assert getattr(h, name)[e] == getattr(g, name)[f], name
        lo, hi, flo, fhi = h.geom_off[e], h.geom_off[e + 1], g.geom_off[f], g.geom_off[f + 1]
        np.testing.assert_allclose(h.geom_xy[lo:hi], g.geom_xy[flo:fhi], atol=0.02)  # ~1 cm
        np.testing.assert_allclose(h.geom_ft[lo:hi], g.geom_ft[flo:fhi], atol=1e-12)
    # times from points inside the edges to both nodes agree
    for p in to_xy([[LON0 + 0.003, LAT0 + 0.0004], [LON0 + 0.005, LAT0 + 0.0006],
                    [LON0 + 0.004, LAT0 - 0.002]]):
        np.testing.assert_allclose(routing.one_to_all(h, snap(h, p)),
                                   routing.one_to_all(g, snap(g, p))[ids], rtol=1e-6)


@pytest.mark.parametrize("content, message", [
    (None, "introuvable"),
    ("<graphml", "GraphML lisible"),
])
def test_unreadable_graph_files_are_french_errors(tmp_path, content, message):
    path = tmp_path / "g.graphml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(osmnx_io.GraphFileError, match=message):
        osmnx_io.load_graphml(path, "drive")


def test_graph_exported_for_one_mode_is_refused_for_the_other(tmp_path, tmp_settings):
    ways = make_ways([[(0, 0), (0.002, 0)], [(0.002, 0), (0.002, 0.002), (0, 0)]],
                     ["minor", "minor"])
    osmnx_io.export_graphml(graph.build(ways, "walk", {}, 4.5), tmp_path / "w.graphml")
    with pytest.raises(osmnx_io.GraphFileError, match="graphe à pied"):
        osmnx_io.load_graphml(tmp_path / "w.graphml", "drive", tmp_settings)


def test_cli_export_refuses_another_extension(capsys):
    from maillage import cli

    assert cli.main(["network", "export", "--mode", "drive", "--graphml", "g.txt"]) == 2
    err = capsys.readouterr().err
    assert ".graphml" in err and "Traceback" not in err
