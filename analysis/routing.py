"""Travel-time queries on a :class:`analysis.graph.Graph` with ``scipy.sparse.csgraph``.

Points (already snapped, :class:`analysis.snap.Snapped`) enter the graph as
virtual nodes appended to the CSR: a source at fraction ``f`` of edge ``u→v``
gets an arc to ``v`` costing ``(1-f)·w_fwd`` and one to ``u`` costing
``f·w_bwd``. A target is reached at ``min(d[u] + f·w_fwd, d[v] + (1-f)·w_bwd)``,
and directly when source and target lie on the same edge. Times are seconds;
unreachable (or beyond the cutoff) is ``numpy.inf``.

Public queries: :func:`one_to_all`, :func:`from_points`, :func:`times_from`,
:func:`matrix` (sources × targets), :func:`matrix_to` (points × facilities, times *to*
the facilities), :func:`nearest`, :func:`tree` / :func:`times_to` / :func:`path` (one
origin, many destinations, with the paths), :func:`trip`, and the road shape of a
path with :func:`path_xy` / :func:`trip_geometry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    Built straight from int32 arrays (no copy or check by scipy later).
    """
    base = g.csr_rev if reverse else g.csr
    n, k = g.n_nodes, len(pts)
    e, f = pts.edge, pts.ft
    fwd, bwd = g.edge_fwd[e], g.edge_bwd[e]
    if reverse:
        to_u, to_v = _part(f, fwd), _part(1 - f, bwd)
    else:
        to_u, to_v = _part(f, bwd), _part(1 - f, fwd)
    u, v = g.edge_u[e], g.edge_v[e]
    loop = u == v  # a self-loop edge: one arc, the cheaper way round
    to_u = np.where(loop, np.minimum(to_u, to_v), to_u)
    to_v = np.where(loop, np.inf, to_v)
    cols = np.column_stack([u, v]).astype(np.int32)
    w = np.column_stack([to_u, to_v])
    ok = np.isfinite(w)
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(ok.sum(axis=1))])
    indices = np.concatenate([base.indices, cols[ok]])
    data = np.concatenate([base.data, w[ok]])
    out = sparse.csr_matrix((n + k, n + k))
    out.data, out.indices, out.indptr = data, indices.astype(np.int32), indptr.astype(np.int32)
    return out


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


def _append(base: sparse.csr_matrix, cols: np.ndarray, w: np.ndarray) -> sparse.csr_matrix:
    """``base`` with one virtual node per row of ``cols``/``w`` (k, 2): arcs to its columns."""
    n, k = base.shape[0], len(cols)
    ok = np.isfinite(w)
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(ok.sum(axis=1))])
    indices = np.concatenate([base.indices, cols[ok].astype(np.int32)])
    data = np.concatenate([base.data, w[ok]])
    return sparse.csr_matrix((data, indices.astype(np.int32), indptr.astype(np.int32)),
                             shape=(n + k, n + k), copy=False)


def _leaving(g: Graph, pts: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """(k, 2) end nodes (u, v) of each point's edge and the seconds to reach them from it."""
    e, f = pts.edge, pts.ft
    to_u, to_v = _part(f, g.edge_bwd[e]), _part(1 - f, g.edge_fwd[e])
    u, v = g.edge_u[e], g.edge_v[e]
    loop = u == v
    to_u = np.where(loop, np.minimum(to_u, to_v), to_u)
    to_v = np.where(loop, np.inf, to_v)
    return np.column_stack([u, v]), np.column_stack([to_u, to_v])


def _core_times(g: Graph, pts: Snapped, cutoff: float):
    """Times from each point to the core nodes and, for points in a tree, within the forest.

    Returns ((k, core) times, rows of the points in a tree, (rows, forest) times).
    """
    c = g.core
    ends, w = _leaving(g, pts)
    tree = np.flatnonzero(c.tree_edge[pts.edge])
    nf, nc = c.forest.shape[0], c.csr.shape[0]
    d_forest = np.zeros((0, nf))
    cols = c.cidx[ends]
    if len(tree):
        aug = _append(c.forest, c.fidx[ends[tree]], w[tree])
        d_forest = dijkstra(aug, directed=True, indices=np.arange(nf, nf + len(tree)),
                            limit=cutoff)[:, :nf]
        # a point in a tree enters the core at its root, as fast as the forest allows
        root = c.root[ends[tree, 0]]
        w = w.copy()
        up = d_forest[np.arange(len(tree)), c.fidx[root]]
        w[tree] = np.column_stack([up, np.full(len(tree), np.inf)])
        cols[tree] = np.column_stack([c.cidx[root], c.cidx[root]])
    aug = _append(c.csr, cols, w)
    d = dijkstra(aug, directed=True, indices=np.arange(nc, nc + len(pts)), limit=cutoff)
    return d, tree, d_forest


def matrix(g: Graph, src: Snapped, tgt: Snapped, cutoff: float = np.inf) -> np.ndarray:
    """Seconds from every source to every target, shape (sources, targets); inf beyond cutoff.

    Bounded Dijkstras on the graph's core only (all sources of a chunk in one scipy
    call): a target in a dead-end tree is reached through the tree's root, or within
    the tree from a source in the same tree (see :class:`analysis.graph.Core`). The
    targets' ends, offsets and edge parts are gathered once.
    """
    c = g.core
    out = np.empty((len(src), len(tgt)))
    e = tgt.edge
    at_u, at_v = g.edge_u[e], g.edge_v[e]
    part_u, part_v = _part(tgt.ft, g.edge_fwd[e]), _part(1 - tgt.ft, g.edge_bwd[e])
    col_u, col_v = c.cidx[at_u], c.cidx[at_v]
    off_u, off_v = part_u + c.down[at_u], part_v + c.down[at_v]
    in_tree = np.flatnonzero(c.tree_edge[e])
    tgt_root = c.root[at_u[in_tree]]
    for lo in range(0, len(src), CHUNK):
        part = src.take(slice(lo, lo + CHUNK))
        d, tree, d_forest = _core_times(g, part, cutoff)
        block = out[lo: lo + len(part)]
        np.take(d, col_u, axis=1, out=block)
        block += off_u
        via_v = np.take(d, col_v, axis=1)
        via_v += off_v
        np.minimum(block, via_v, out=block)
        if len(tree) and len(in_tree):  # source and target in the same tree: maybe shorter
            i, k = same_edge_pairs(c.root[g.edge_u[part.edge[tree]]], tgt_root)
            j = in_tree[k]
            inside = np.minimum(d_forest[i, c.fidx[at_u[j]]] + part_u[j],
                                d_forest[i, c.fidx[at_v[j]]] + part_v[j])
            block[tree[i], j] = np.minimum(block[tree[i], j], inside)
    i, j = _same_edge_pairs(src, tgt)
    if len(i):
        out[i, j] = np.minimum(out[i, j], direct(g, src.ft[i], tgt.ft[j], tgt.edge[j]))
    out[out > cutoff] = np.inf
    return out


def matrix_to(g: Graph, points: Snapped, facilities: Snapped,
              cutoff: float = np.inf) -> np.ndarray:
    """Seconds from every point to every facility, shape (points, facilities).

    :func:`matrix` from the facilities on the reversed graph (one bounded search per
    facility), so one-way streets are followed in the direction people travel.
    """
    return np.ascontiguousarray(matrix(g.reversed, facilities, points, cutoff).T)


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
class Tree:
    """Fastest-path tree from one point: node times and predecessors."""

    origin: Snapped  # one row
    dist: np.ndarray  # (n,) seconds to every node, inf when unreached
    pred: np.ndarray  # (n,) previous node on the path; -1 when none (first node or unreached)


def tree(g: Graph, src: Snapped, cutoff: float = np.inf) -> Tree:
    """One Dijkstra (with predecessors) from the first point of ``src`` to every node."""
    n = g.n_nodes
    one = src.take(slice(0, 1))
    d, pred = dijkstra(_augmented(g, one), directed=True, indices=n, limit=cutoff,
                       return_predecessors=True)
    pred = pred[:n].astype(np.int64)
    pred[(pred >= n) | (pred < 0)] = -1
    return Tree(one, d[:n], pred)


def times_to(g: Graph, t: Tree, tgt: Snapped) -> np.ndarray:
    """Seconds from the tree's origin to every point of ``tgt`` (exact, same edge included)."""
    out = times_on_edges(g, t.dist, tgt.edge, tgt.ft)
    same = np.flatnonzero(tgt.edge == t.origin.edge[0])
    if len(same):
        along = direct(g, np.full(len(same), t.origin.ft[0]), tgt.ft[same], tgt.edge[same])
        out[same] = np.minimum(out[same], along)
    return out


@dataclass(frozen=True)
class Trip:
    """One point-to-point trip on the fastest path."""

    seconds: float
    metres: float
    nodes: np.ndarray  # junction nodes along the path (may be empty)
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # edge per arc
    forward: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # arc runs u → v
    src: Snapped | None = None  # the two ends (one row each)
    dst: Snapped | None = None
    start_fl: float = 0.0  # length fraction where the path leaves the origin's edge
    end_fl: float = 0.0  # and where it enters the destination's edge


def path(g: Graph, t: Tree, dst: Snapped, row: int = 0) -> Trip:
    """The fastest trip from the tree's origin to point ``row`` of ``dst``."""
    s, d = t.origin, dst.take(slice(row, row + 1))
    es, et = int(s.edge[0]), int(d.edge[0])
    fs, ft, fls, flt = float(s.ft[0]), float(d.ft[0]), float(s.fl[0]), float(d.fl[0])
    u, v = int(g.edge_u[et]), int(g.edge_v[et])
    options = [(float(t.dist[u] + _part(ft, g.edge_fwd[et])), u, 0.0),
               (float(t.dist[v] + _part(1 - ft, g.edge_bwd[et])), v, 1.0)]
    if es == et:
        options.append((float(direct(g, np.array(fs), np.array(ft), np.array(et))), -1, fls))
    seconds, end, end_fl = min(options, key=lambda o: o[0])
    none = np.zeros(0, dtype=np.int64)
    if not np.isfinite(seconds):
        return Trip(np.inf, np.inf, none, src=s, dst=d)
    if end == -1:
        return Trip(seconds, abs(flt - fls) * float(g.edge_len[et]), none, src=s, dst=d,
                    start_fl=fls, end_fl=fls)
    nodes = [end]
    while t.pred[nodes[-1]] >= 0:
        nodes.append(int(t.pred[nodes[-1]]))
    nodes = np.asarray(nodes[::-1], dtype=np.int64)
    if g.edge_u[es] == g.edge_v[es]:  # self-loop: the cheaper way round was taken
        back = _part(fs, g.edge_bwd[es]) <= _part(1 - fs, g.edge_fwd[es])
        start_fl = 0.0 if back else 1.0
    else:
        start_fl = 1.0 if nodes[0] == g.edge_v[es] else 0.0
    edges, forward = arcs(g, nodes)
    metres = (abs(start_fl - fls) * g.edge_len[es] + float(g.edge_len[edges].sum())
              + abs(flt - end_fl) * g.edge_len[et])
    return Trip(seconds, float(metres), nodes, edges, forward, s, d, start_fl, end_fl)


def arcs(g: Graph, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geometric edge and direction (True: u → v) of each arc of a node path, as routed."""
    nodes = np.asarray(nodes, dtype=np.int64)
    a, b = nodes[:-1], nodes[1:]
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    lo, hi = g.indptr[a].astype(np.int64), g.indptr[a + 1].astype(np.int64)
    # each arc is looked up in its CSR row (a few arcs per node)
    pos = lo[:, None] + np.arange(int((hi - lo).max()))[None, :]
    hit = (pos < hi[:, None]) & (g.indices[np.minimum(pos, len(g.indices) - 1)] == b[:, None])
    if not hit.any(axis=1).all():
        raise ValueError("node path with an arc missing from the graph")
    edges = g.arc_edge[pos[np.arange(len(a)), hit.argmax(axis=1)]]
    return edges, g.edge_u[edges] == a


def trip(g: Graph, src: Snapped, dst: Snapped) -> Trip:
    """Fastest trip from the first point of ``src`` to the first point of ``dst``."""
    return path(g, tree(g, src), dst)


def _piece(g: Graph, e: int, a: float, b: float) -> np.ndarray:
    """Vertices of edge ``e`` strictly between length fractions ``a`` and ``b``, in that order."""
    lo, hi = int(g.geom_off[e]), int(g.geom_off[e + 1])
    fl, xy = g.geom_fl[lo:hi], g.geom_xy[lo:hi]
    inner = xy[(fl > min(a, b)) & (fl < max(a, b))]
    return inner[::-1] if a > b else inner


def path_xy(g: Graph, tr: Trip) -> np.ndarray:
    """Road shape (EPSG:5490 vertices) of a trip: snapped origin, every road vertex, snapped end.

    An unreachable trip gives the straight segment between the two snapped points.
    """
    a, b = tr.src.xy[:1], tr.dst.xy[:1]
    if not np.isfinite(tr.seconds):
        return np.vstack([a, b])
    es, et = int(tr.src.edge[0]), int(tr.dst.edge[0])
    fls, flt = float(tr.src.fl[0]), float(tr.dst.fl[0])
    if len(tr.nodes) == 0:  # along one edge
        return np.vstack([a, _piece(g, et, fls, flt), b])
    parts = [a, _piece(g, es, fls, tr.start_fl), g.node_xy[tr.nodes[:1]]]
    for e, fwd in zip(tr.edges.tolist(), tr.forward.tolist(), strict=True):
        lo, hi = int(g.geom_off[e]), int(g.geom_off[e + 1])
        parts.append(g.geom_xy[lo + 1: hi] if fwd else g.geom_xy[lo: hi - 1][::-1])
    parts += [_piece(g, et, tr.end_fl, flt), b]
    return np.vstack(parts)


def trip_geometry(g: Graph, src: Snapped, dst: Snapped) -> np.ndarray:
    """Road shape (EPSG:5490) of the fastest trip between the first points of two sets."""
    return path_xy(g, trip(g, src, dst))
