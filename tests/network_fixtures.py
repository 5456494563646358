"""Tiny road networks built by the tests, and a networkx reference built independently."""

from __future__ import annotations

import networkx as nx
import numpy as np

from analysis.graph import Graph
from analysis.snap import Snapped
from geo.roads import Ways

#: A corner of Fort-de-France; fixture coordinates are offsets from it, in degrees.
LON0, LAT0 = -61.07, 14.60


def make_ways(lines: list[list[tuple[float, float]]], highway: list[str],
              oneway: list[int] | None = None, maxspeed: list[float] | None = None,
              walk: list[bool] | None = None) -> Ways:
    """Ways from lists of (dlon, dlat) offsets; shared vertices are shared coordinates."""
    coords = np.array([p for line in lines for p in line], dtype=np.float64)
    coords = coords + np.array([LON0, LAT0])
    _, ids = np.unique(np.round(coords * 1e7).astype(np.int64), axis=0, return_inverse=True)
    n = len(lines)
    return Ways(
        lonlat=coords, node_id=ids.ravel().astype(np.int64),
        offsets=np.concatenate([[0], np.cumsum([len(li) for li in lines])]).astype(np.int64),
        highway=np.array(highway), oneway=np.array(oneway or [0] * n, dtype=np.int8),
        maxspeed=np.array(maxspeed or [np.nan] * n, dtype=np.float64),
        drive=np.ones(n, dtype=bool), walk=np.array(walk or [True] * n),
        source="test", sha256="0" * 64,
    )


def reference_digraph(g: Graph) -> nx.DiGraph:
    """networkx DiGraph of the geometric edges (fastest of parallel arcs), no CSR involved."""
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n_nodes))
    for u, v, fwd, bwd in zip(g.edge_u.tolist(), g.edge_v.tolist(), g.edge_fwd.tolist(),
                              g.edge_bwd.tolist(), strict=True):
        for a, b, w in ((u, v, fwd), (v, u, bwd)):
            if a != b and np.isfinite(w) and (not G.has_edge(a, b) or G[a][b]["w"] > w):
                G.add_edge(a, b, w=w)
    return G


def add_points(G: nx.DiGraph, g: Graph, src: Snapped, tgt: Snapped) -> nx.DiGraph:
    """Copy of ``G`` with ("s", i) and ("t", j) nodes joined to their edge's ends."""
    H = G.copy()

    def part(frac: float, w: float) -> float:
        return 0.0 if frac == 0 else frac * w

    def add(a, b, w):
        if np.isfinite(w) and (not H.has_edge(a, b) or H[a][b]["w"] > w):
            H.add_edge(a, b, w=w)

    for i in range(len(src)):
        e, f = int(src.edge[i]), float(src.ft[i])
        add(("s", i), int(g.edge_v[e]), part(1 - f, g.edge_fwd[e]))
        add(("s", i), int(g.edge_u[e]), part(f, g.edge_bwd[e]))
    for j in range(len(tgt)):
        e, f = int(tgt.edge[j]), float(tgt.ft[j])
        add(int(g.edge_u[e]), ("t", j), part(f, g.edge_fwd[e]))
        add(int(g.edge_v[e]), ("t", j), part(1 - f, g.edge_bwd[e]))
        for i in np.flatnonzero(src.edge == e):
            fs = float(src.ft[i])
            w = part(f - fs, g.edge_fwd[e]) if f >= fs else part(fs - f, g.edge_bwd[e])
            add(("s", int(i)), ("t", j), w)
    return H
