"""Travel-time queries on a :class:`analysis.graph.Graph` with ``scipy.sparse.csgraph``.

Points (already snapped, :class:`analysis.snap.Snapped`) enter the graph as
virtual nodes appended to the CSR: a source at fraction ``f`` of edge ``u→v``
gets an arc to ``v`` costing ``(1-f)·w_fwd`` and one to ``u`` costing
``f·w_bwd``. A target is reached at ``min(d[u] + f·w_fwd, d[v] + (1-f)·w_bwd)``,
and directly when source and target lie on the same edge. Times are seconds;
unreachable (or beyond the cutoff) is ``numpy.inf``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from analysis.graph import Graph
from analysis.snap import Snapped

#: Sources handled per Dijkstra call in matrices (bounds memory to chunk × nodes floats).
CHUNK = 256


def _part(frac: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``frac · w`` with ``0 · inf = 0`` (a point on a node needs no part of the edge)."""
    with np.errstate(invalid="ignore"):
        return np.where(frac == 0, 0.0, frac * w)


def _augmented(g: Graph, pts: Snapped, reverse: bool = False) -> sparse.csr_matrix:
    """The graph's CSR (or its transpose) with one virtual source node per point appended.

    Forward: point → v costs (1-f)·w_fwd, point → u costs f·w_bwd (leaving the point).
    Reverse: arcs of the transposed graph, i.e. u → point costs f·w_fwd and
    v → point costs (1-f)·w_bwd, stored as point → u / point → v.
    """
    base = g.csr_rev if reverse else g.csr
    n, k = g.n_nodes, len(pts)
    e, f = pts.edge, pts.ft
    fwd, bwd = g.edge_fwd[e], g.edge_bwd[e]
    if reverse:
        to_u, to_v = _part(f, fwd), _part(1 - f, bwd)
    else:
        to_u, to_v = _part(f, bwd), _part(1 - f, fwd)
    u, v = g.edge_u[e].astype(np.int64), g.edge_v[e].astype(np.int64)
    loop = u == v  # a self-loop edge: one arc, the cheaper way round
    to_u = np.where(loop, np.minimum(to_u, to_v), to_u)
    to_v = np.where(loop, np.inf, to_v)
    cols = np.column_stack([u, v])
    w = np.column_stack([to_u, to_v])
    ok = np.isfinite(w)
    counts = ok.sum(axis=1)
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts)])
    indices = np.concatenate([base.indices, cols[ok]])
    data = np.concatenate([base.data, w[ok]])
    return sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def _at_points(g: Graph, d: np.ndarray, tgt: Snapped) -> np.ndarray:
    """Times to the target points from node times ``d`` (..., n): reached from u or from v."""
    return times_on_edges(g, d, tgt.edge, tgt.ft)


def times_on_edges(g: Graph, d: np.ndarray, e: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Times to positions (edge ``e``, time fraction ``f``) given node times ``d`` (..., n)."""
    via_u = d[..., g.edge_u[e]] + _part(f, g.edge_fwd[e])
    via_v = d[..., g.edge_v[e]] + _part(1 - f, g.edge_bwd[e])
    return np.minimum(via_u, via_v)


def _from_points(g: Graph, d_rev: np.ndarray, src: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """Times from points to the nearest target given node times ``d_rev`` to it.

    Returns (time, 0 when leaving towards u / 1 towards v).
    """
    e, f = src.edge, src.ft
    via_u = d_rev[g.edge_u[e]] + _part(f, g.edge_bwd[e])
    via_v = d_rev[g.edge_v[e]] + _part(1 - f, g.edge_fwd[e])
    return np.minimum(via_u, via_v), (via_v < via_u).astype(np.int8)


def _same_edge_pairs(src: Snapped, tgt: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """All (source row, target row) pairs lying on the same edge, vectorised."""
    return same_edge_pairs(src.edge, tgt.edge)


def same_edge_pairs(src_edge: np.ndarray, tgt_edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``src_edge[i] == tgt_edge[j]``, vectorised."""
    cand = np.flatnonzero(np.isin(tgt_edge, src_edge))
    i, j = _pairs(src_edge, tgt_edge[cand])
    return i, cand[j]


def _pairs(src_edge: np.ndarray, tgt_edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(src_edge, kind="stable")
    sorted_edges = src_edge[order]
    lo = np.searchsorted(sorted_edges, tgt_edge, side="left")
    hi = np.searchsorted(sorted_edges, tgt_edge, side="right")
    counts = hi - lo
    j = np.repeat(np.arange(len(tgt_edge)), counts)
    starts = np.repeat(lo, counts)
    offs = np.arange(len(j)) - np.repeat(np.cumsum(counts) - counts, counts)
    return order[starts + offs], j


def direct(g: Graph, fs: np.ndarray, ft: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Time along one edge from fraction ``fs`` to fraction ``ft`` (inf if against a one-way)."""
    ahead = ft >= fs
    return np.where(ahead, _part(ft - fs, g.edge_fwd[e]), _part(fs - ft, g.edge_bwd[e]))


def one_to_all(g: Graph, src: Snapped, cutoff: float = np.inf) -> np.ndarray:
    """Seconds from the first point of ``src`` to every node (inf beyond ``cutoff``)."""
    one = src.take(slice(0, 1))
    aug = _augmented(g, one)
    d = dijkstra(aug, directed=True, indices=g.n_nodes, limit=cutoff)
    return d[: g.n_nodes]


def from_points(g: Graph, origins: Snapped, cutoff: float = np.inf) -> np.ndarray:
    """Seconds from the nearest of ``origins`` to every node (one multi-source Dijkstra)."""
    aug = _augmented(g, origins)
    ids = np.arange(g.n_nodes, g.n_nodes + len(origins))
    d = dijkstra(aug, directed=True, indices=ids, limit=cutoff, min_only=True)
    return d[: g.n_nodes]


def times_from(g: Graph, origins: Snapped, e: np.ndarray, f: np.ndarray,
               cutoff: float = np.inf) -> np.ndarray:
    """Seconds from the nearest origin to positions (edge ``e``, fraction ``f``), exact."""
    t = times_on_edges(g, from_points(g, origins, cutoff), e, f)
    i, j = same_edge_pairs(origins.edge, e)
    if len(i):
        np.minimum.at(t, j, direct(g, origins.ft[i], f[j], e[j]))
    t[t > cutoff] = np.inf
    return t


def matrix(g: Graph, src: Snapped, tgt: Snapped, cutoff: float = np.inf) -> np.ndarray:
    """Seconds from every source to every target, shape (sources, targets); inf beyond cutoff."""
    out = np.empty((len(src), len(tgt)))
    for lo in range(0, len(src), CHUNK):
        part = src.take(slice(lo, lo + CHUNK))
        aug = _augmented(g, part)
        ids = np.arange(g.n_nodes, g.n_nodes + len(part))
        d = dijkstra(aug, directed=True, indices=ids, limit=cutoff)[:, : g.n_nodes]
        out[lo: lo + len(part)] = _at_points(g, d, tgt)
    i, j = _same_edge_pairs(src, tgt)
    if len(i):
        out[i, j] = np.minimum(out[i, j], direct(g, src.ft[i], tgt.ft[j], tgt.edge[j]))
    out[out > cutoff] = np.inf
    return out


def nearest(g: Graph, facilities: Snapped, points: Snapped,
            cutoff: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """For each point, seconds to its nearest facility and that facility's row (-1 if none).

    One multi-source Dijkstra on the reversed graph (``min_only``), whatever the
    number of facilities.
    """
    n = g.n_nodes
    aug = _augmented(g, facilities, reverse=True)
    ids = np.arange(n, n + len(facilities))
    d, _, sources = dijkstra(aug, directed=True, indices=ids, limit=cutoff, min_only=True,
                             return_predecessors=True)
    d, sources = d[:n], sources[:n]
    time, towards_v = _from_points(g, d, points)
    end = np.where(towards_v == 1, g.edge_v[points.edge], g.edge_u[points.edge])
    which = np.where(np.isfinite(time), sources[end] - n, -1)
    i, j = _same_edge_pairs(facilities, points)
    if len(i):
        dt = direct(g, points.ft[j], facilities.ft[i], points.edge[j])
        # several facilities may share a point's edge: keep the fastest for each point
        order = np.lexsort((dt, j))
        first = np.ones(len(order), dtype=bool)
        first[1:] = j[order][1:] != j[order][:-1]
        jj, ii, dd = j[order][first], i[order][first], dt[order][first]
        better = dd < time[jj]
        time[jj[better]] = dd[better]
        which[jj[better]] = ii[better]
    far = time > cutoff
    time[far] = np.inf
    which[far] = -1
    return time, which.astype(np.int64)


@dataclass(frozen=True)
class Trip:
    """One point-to-point trip on the fastest path."""

    seconds: float
    metres: float
    nodes: np.ndarray  # junction nodes along the path (may be empty)


def trip(g: Graph, src: Snapped, dst: Snapped) -> Trip:
    """Fastest trip from the first point of ``src`` to the first point of ``dst``."""
    s, t = src.take(slice(0, 1)), dst.take(slice(0, 1))
    n = g.n_nodes
    aug = _augmented(g, s)
    d, pred = dijkstra(aug, directed=True, indices=n, return_predecessors=True)
    es, et = int(s.edge[0]), int(t.edge[0])
    fs, ft, fls, flt = s.ft[0], t.ft[0], s.fl[0], t.fl[0]
    u, v = int(g.edge_u[et]), int(g.edge_v[et])
    options = [
        (d[u] + _part(ft, g.edge_fwd[et]), u, flt),
        (d[v] + _part(1 - ft, g.edge_bwd[et]), v, 1 - flt),
    ]
    if es == et:
        along = float(direct(g, np.array(fs), np.array(ft), np.array(et)))
        options.append((along, -1, abs(flt - fls)))
    seconds, end, tail = min(options, key=lambda o: o[0])
    if not np.isfinite(seconds):
        return Trip(np.inf, np.inf, np.zeros(0, dtype=np.int64))
    if end == -1:
        return Trip(float(seconds), float(tail * g.edge_len[et]), np.zeros(0, dtype=np.int64))
    path = [end]
    while pred[path[-1]] != n:
        path.append(int(pred[path[-1]]))
    path = np.asarray(path[::-1], dtype=np.int64)
    inner = float(np.asarray(g.csr_length[path[:-1], path[1:]]).sum()) if len(path) > 1 else 0.0
    first = path[0]
    if g.edge_u[es] == g.edge_v[es]:  # self-loop: the cheaper way round was taken
        backwards = _part(fs, g.edge_bwd[es]) <= _part(1 - fs, g.edge_fwd[es])
        head = fls if backwards else 1 - fls
    else:
        head = 1 - fls if first == g.edge_v[es] else fls
    metres = inner + head * g.edge_len[es] + tail * g.edge_len[et]
    return Trip(float(seconds), float(metres), path)
