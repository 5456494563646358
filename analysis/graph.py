"""Compact drive and walk graphs of the island, built from :class:`geo.roads.Ways` (pure).

A graph keeps two views of the same network:

* the *routing* view: a CSR matrix of travel times (seconds) between junction
  nodes, the fastest arc kept when two ways join the same pair of nodes;
* the *geometric* view: every contracted edge (a way piece between junctions)
  with its exact vertices in EPSG:5490, the time and length fraction at each
  vertex, and points densified every ``SPACING_M`` metres for snapping and
  isochrones.

Only the largest strongly connected component is kept (what was dropped is
reported in ``meta``). This module only computes: reading the roads and the on-disk
cache of the graphs (one ``.npz`` per mode) live in :mod:`geo.graphs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from analysis.arrays import ranges
from maillage.errors import MaillageError

Mode = Literal["drive", "walk"]
MODES: tuple[str, ...] = ("drive", "walk")
#: Maximal gap between densified points along an edge (metres).
SPACING_M = 20.0
#: Bump when the cached format or the building rules change (part of the cache key).
FORMAT_VERSION = 2

#: The array fields of :class:`Graph` (everything but ``mode`` and ``meta``).
ARRAYS = (
    "indptr", "indices", "weight", "length", "node_xy",
    "edge_u", "edge_v", "edge_fwd", "edge_bwd", "edge_len",
    "geom_off", "geom_xy", "geom_ft", "geom_fl",
    "pts_xy", "pts_seg", "pts_edge", "pts_ft",
)


class ModeError(MaillageError):
    """An unknown travel mode."""


def check_mode(mode: str) -> Mode:
    """``mode`` if it is ``drive`` or ``walk``, else a French error."""
    if mode not in MODES:
        raise ModeError(f"Mode de déplacement inconnu : « {mode} ». Choisissez « walk » (à pied) "
                        "ou « drive » (en voiture).")
    return mode  # type: ignore[return-value]


@dataclass(eq=False)
class Graph:
    """A routable, snappable road graph (see the module docstring for the two views)."""

    mode: str
    indptr: np.ndarray  # CSR of fastest arcs node -> node
    indices: np.ndarray
    weight: np.ndarray  # seconds
    length: np.ndarray  # metres, of the same arcs
    node_xy: np.ndarray  # (n, 2) EPSG:5490
    edge_u: np.ndarray  # (E,) start node of each geometric edge
    edge_v: np.ndarray  # (E,) end node
    edge_fwd: np.ndarray  # (E,) seconds u -> v, inf when forbidden
    edge_bwd: np.ndarray  # (E,) seconds v -> u, inf when forbidden
    edge_len: np.ndarray  # (E,) metres
    geom_off: np.ndarray  # (E + 1,) vertex ranges of each edge in geom_*
    geom_xy: np.ndarray  # (M, 2) EPSG:5490
    geom_ft: np.ndarray  # (M,) time fraction from u at each vertex
    geom_fl: np.ndarray  # (M,) length fraction from u
    pts_xy: np.ndarray  # (P, 2) densified points
    pts_seg: np.ndarray  # (P,) geometry segment (index of its first vertex)
    pts_edge: np.ndarray  # (P,) edge of each point
    pts_ft: np.ndarray  # (P,) time fraction of each point along its edge
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    @cached_property
    def csr(self) -> sparse.csr_matrix:
        """Travel times between nodes as a scipy CSR matrix."""
        n = self.n_nodes
        return sparse.csr_matrix((self.weight, self.indices, self.indptr), shape=(n, n))

    @cached_property
    def csr_rev(self) -> sparse.csr_matrix:
        """The transposed graph (arcs reversed), for times *to* a set of points."""
        return self.csr.T.tocsr()

    @cached_property
    def reversed(self) -> Graph:
        """The same roads with every arc reversed: times *from* it are times *to* here."""
        import dataclasses

        rev, rev_len = self.csr_rev, self.csr_length.T.tocsr()
        return dataclasses.replace(self, indptr=rev.indptr, indices=rev.indices,
                                   weight=rev.data, length=rev_len.data,
                                   edge_fwd=self.edge_bwd, edge_bwd=self.edge_fwd)

    @cached_property
    def csr_length(self) -> sparse.csr_matrix:
        """Lengths of the same arcs as :attr:`csr`."""
        n = self.n_nodes
        return sparse.csr_matrix((self.length, self.indices, self.indptr), shape=(n, n))

    @cached_property
    def core(self) -> Core:
        """The 2-core and its dead-end trees (see :class:`Core`), for matrices."""
        return core_of(self)

    @cached_property
    def arc_edge(self) -> np.ndarray:
        """Geometric edge of each arc of :attr:`csr` (its ``data`` order): the fastest one.

        The arc ``u → v`` runs along its edge forwards when ``edge_u[arc_edge] == u``.
        """
        e = np.arange(self.n_edges)
        u = np.concatenate([self.edge_u, self.edge_v]).astype(np.int64)
        v = np.concatenate([self.edge_v, self.edge_u]).astype(np.int64)
        w = np.concatenate([self.edge_fwd, self.edge_bwd])
        ok = np.isfinite(w) & (u != v)
        u, v, w, e = u[ok], v[ok], w[ok], np.concatenate([e, e])[ok]
        order = np.lexsort((w, v, u))  # the same choice as _arcs_to_csr: fastest first
        key = u[order] * self.n_nodes + v[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        return e[order][first].astype(np.int64)

    @cached_property
    def tree(self):
        """KD-tree over the densified points, for snapping."""
        from scipy.spatial import cKDTree

        return cKDTree(self.pts_xy, balanced_tree=False, compact_nodes=False)

    @cached_property
    def pts_reach(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For every densified point: (u, seconds from u, v, seconds from v), inf if forbidden.

        Precomputed so that isochrones evaluate all points with two gathers.
        """
        e, f = self.pts_edge, self.pts_ft
        with np.errstate(invalid="ignore"):
            from_u = np.where(f == 0, 0.0, f * self.edge_fwd[e])
            from_v = np.where(f == 1, 0.0, (1 - f) * self.edge_bwd[e])
        return self.edge_u[e], from_u, self.edge_v[e], from_v

    @cached_property
    def geom_edge(self) -> np.ndarray:
        """Edge of each geometry vertex."""
        return np.repeat(np.arange(self.n_edges), np.diff(self.geom_off))

    def arrays(self) -> dict[str, np.ndarray]:
        """The array fields by name (see :data:`ARRAYS`), e.g. to serialise the graph."""
        return {name: getattr(self, name) for name in ARRAYS}


@dataclass(frozen=True)
class Core:
    """The 2-core of a graph and the dead-end trees hanging from it.

    A fastest path between two core nodes never enters a dead-end tree, so
    many-to-many queries run Dijkstra on the core only; a tree node's time is its
    root's time plus :attr:`down`. Trees are reached only through their root and,
    being in the strongly connected graph, are two-way.
    """

    root: np.ndarray  # (n,) core node each node hangs from (itself in the core)
    down: np.ndarray  # (n,) seconds from the root down to the node (0 in the core)
    cidx: np.ndarray  # (n,) compact core index of the node's root
    csr: sparse.csr_matrix  # core arcs, compact core indices
    fidx: np.ndarray  # (n,) compact index in the forest (trees and their roots), -1 if none
    forest: sparse.csr_matrix  # tree arcs, compact forest indices
    tree_edge: np.ndarray  # (E,) bool: the edge lies in a tree


def core_of(g: Graph) -> Core:
    """Peel dead ends (nodes left with one edge, loops and parallel edges counted) off ``g``."""
    from scipy.sparse.csgraph import dijkstra

    n = g.n_nodes
    eu, ev = g.edge_u.astype(np.int64), g.edge_v.astype(np.int64)
    alive, alive_e = np.ones(n, dtype=bool), np.ones(len(eu), dtype=bool)
    while True:
        deg = np.bincount(np.concatenate([eu[alive_e], ev[alive_e]]), minlength=n)
        leaf = alive & (deg <= 1)
        if not leaf.any():
            break
        alive[leaf] = False
        alive_e &= ~(leaf[eu] | leaf[ev])
    if not alive.any():  # the whole graph is a tree: let it hang from node 0
        alive[0] = True
    csr = g.csr.tocoo()
    in_core = alive[csr.row] & alive[csr.col]
    in_forest = ~in_core
    fnode = np.zeros(n, dtype=bool)
    fnode[csr.row[in_forest]] = True
    fnode[csr.col[in_forest]] = True
    fidx = np.where(fnode, np.cumsum(fnode) - 1, -1)
    nf = int(fnode.sum())
    forest = sparse.csr_matrix((csr.data[in_forest], (fidx[csr.row[in_forest]],
                                                      fidx[csr.col[in_forest]])), shape=(nf, nf))
    core_nodes = np.flatnonzero(alive)
    cpos = np.full(n, -1)
    cpos[core_nodes] = np.arange(len(core_nodes))
    core = sparse.csr_matrix((csr.data[in_core], (cpos[csr.row[in_core]],
                                                  cpos[csr.col[in_core]])),
                             shape=(len(core_nodes), len(core_nodes)))
    root, down = np.arange(n), np.zeros(n)
    roots = np.flatnonzero(alive & fnode)
    if len(roots):
        d, _, src = dijkstra(forest, directed=True, indices=fidx[roots], min_only=True,
                             return_predecessors=True)
        forest_nodes = np.flatnonzero(fnode)
        tree = forest_nodes[~alive[forest_nodes]]
        down[tree] = d[fidx[tree]]
        root_of_f = np.full(nf, -1)
        root_of_f[fidx[roots]] = roots
        root[tree] = root_of_f[src[fidx[tree]]]
    for a in (core, forest):
        a.indices, a.indptr = a.indices.astype(np.int32), a.indptr.astype(np.int32)
    return Core(root=root, down=down, cidx=cpos[root], csr=core, fidx=fidx, forest=forest,
                tree_edge=~(alive[eu] & alive[ev]))


# --------------------------------------------------------------------------- building


def _project(lonlat: np.ndarray) -> np.ndarray:
    from pyproj import Transformer

    from maillage.settings import CRS_MEASURE, CRS_STORE

    tr = Transformer.from_crs(CRS_STORE, CRS_MEASURE, always_xy=True)
    x, y = tr.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def way_speeds_kmh(ways, mode: Mode, speeds: dict[str, float], walk_kmh: float) -> np.ndarray:
    """Speed of each way: ``maxspeed`` when tagged, else the class table; walking pace on foot."""
    if mode == "walk":
        return np.full(ways.n_ways, float(walk_kmh))
    table = np.array([speeds.get(h, np.nan) for h in ways.highway], dtype=np.float64)
    return np.where(np.isfinite(ways.maxspeed) & (ways.maxspeed > 0), ways.maxspeed, table)


def _select_vertices(ways, keep_way: np.ndarray):
    """Vertices of the kept ways, consecutive duplicates removed: (vertex idx, way of vertex)."""
    counts = np.diff(ways.offsets)
    way_of = np.repeat(np.arange(ways.n_ways), counts)
    idx = np.flatnonzero(keep_way[way_of])
    way_of = way_of[idx]
    nid = ways.node_id[idx]
    dup = np.zeros(len(idx), dtype=bool)
    dup[1:] = (nid[1:] == nid[:-1]) & (way_of[1:] == way_of[:-1])
    idx, way_of = idx[~dup], way_of[~dup]
    # drop ways left with a single vertex
    n_per_way = np.bincount(way_of, minlength=ways.n_ways)
    ok = n_per_way[way_of] >= 2
    return idx[ok], way_of[ok]


def _split_edges(nid: np.ndarray, way_of: np.ndarray):
    """Split ways at junctions: vertices shared by several ways or repeated, and way ends.

    Returns (start vertex, end vertex, node id array of each vertex that is a junction).
    """
    n = len(nid)
    first = np.ones(n, dtype=bool)
    first[1:] = way_of[1:] != way_of[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = way_of[:-1] != way_of[1:]
    _, inverse, counts = np.unique(nid, return_inverse=True, return_counts=True)
    junction = first | last | (counts[inverse] >= 2)
    jpos = np.flatnonzero(junction)
    same_way = way_of[jpos[:-1]] == way_of[jpos[1:]]
    return jpos[:-1][same_way], jpos[1:][same_way]


def build(ways, mode: str, speeds: dict[str, float], walk_kmh: float,
          spacing_m: float = SPACING_M) -> Graph:
    """Build the ``mode`` graph of ``ways`` (see the module docstring)."""
    mode = check_mode(mode)
    speed = way_speeds_kmh(ways, mode, speeds, walk_kmh)
    keep_way = (ways.drive if mode == "drive" else ways.walk) & np.isfinite(speed) & (speed > 0)
    vidx, way_of = _select_vertices(ways, keep_way)
    nid = ways.node_id[vidx]
    xy = _project(ways.lonlat[vidx])

    # per-vertex cumulative length and time (segments across two ways count 0)
    seg = np.hypot(*np.diff(xy, axis=0).T)
    seg[way_of[1:] != way_of[:-1]] = 0.0
    seg_t = seg / (speed[way_of[:-1]] / 3.6)
    cum_l = np.concatenate([[0.0], np.cumsum(seg)])
    cum_t = np.concatenate([[0.0], np.cumsum(seg_t)])

    start, end = _split_edges(nid, way_of)
    e_way = way_of[start]
    e_len = cum_l[end] - cum_l[start]
    e_time = cum_t[end] - cum_t[start]
    oneway = ways.oneway[e_way] if mode == "drive" else np.zeros(len(start), dtype=np.int8)
    e_fwd = np.where(oneway >= 0, e_time, np.inf)
    e_bwd = np.where(oneway <= 0, e_time, np.inf)

    node_ids, inv = np.unique(np.concatenate([nid[start], nid[end]]), return_inverse=True)
    e_u, e_v = inv[: len(start)], inv[len(start):]
    node_xy = np.zeros((len(node_ids), 2))
    node_xy[e_u] = xy[start]
    node_xy[e_v] = xy[end]

    # keep the largest strongly connected component
    n_all = len(node_ids)
    csr_all = _arcs_to_csr(n_all, e_u, e_v, e_fwd, e_bwd, e_len)[0]
    n_comp, labels = connected_components(csr_all, directed=True, connection="strong")
    big = np.argmax(np.bincount(labels))
    keep_node = labels == big
    keep_edge = keep_node[e_u] & keep_node[e_v]
    new_id = np.cumsum(keep_node) - 1
    dropped = {
        "components": int(n_comp),
        "nodes_dropped": int(n_all - keep_node.sum()),
        "edges_dropped": int((~keep_edge).sum()),
        "km_dropped": round(float(e_len[~keep_edge].sum()) / 1000, 3),
    }
    start, end = start[keep_edge], end[keep_edge]
    e_u, e_v = new_id[e_u[keep_edge]], new_id[e_v[keep_edge]]
    e_fwd, e_bwd, e_len, e_time = (a[keep_edge] for a in (e_fwd, e_bwd, e_len, e_time))
    node_xy = node_xy[keep_node]

    # geometry of each edge: its vertices with the time and length from u
    counts = end - start + 1
    gidx = ranges(start, counts)
    geom_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    g_edge = np.repeat(np.arange(len(start)), counts)
    geom = (xy[gidx], cum_t[gidx] - cum_t[start][g_edge], cum_l[gidx] - cum_l[start][g_edge])
    edges = (e_u, e_v, e_fwd, e_bwd, e_len, e_time)

    # merge edges through nodes where exactly two ways meet (no choice of route there)
    n_before = len(node_xy)
    chains, keep_node = _chains(len(node_xy), e_u, e_v, e_fwd, e_bwd)
    edges, geom_off, geom = _merge(chains, edges, geom_off, geom)
    e_u, e_v, e_fwd, e_bwd, e_len, e_time = edges
    new_id = np.cumsum(keep_node) - 1
    e_u, e_v = new_id[e_u], new_id[e_v]
    node_xy = node_xy[keep_node]
    csr, arc_len = _arcs_to_csr(len(node_xy), e_u, e_v, e_fwd, e_bwd, e_len)

    geom_xy, rel_t, rel_l = geom
    g_edge = np.repeat(np.arange(len(e_u)), np.diff(geom_off))
    with np.errstate(invalid="ignore", divide="ignore"):
        g_ft = np.nan_to_num(rel_t / e_time[g_edge], nan=0.0)
        g_fl = np.nan_to_num(rel_l / e_len[g_edge], nan=0.0)
    g_ft[geom_off[1:] - 1] = 1.0  # exact ends, whatever the rounding of the sums
    g_fl[geom_off[1:] - 1] = 1.0
    g_ft[geom_off[:-1]] = 0.0
    g_fl[geom_off[:-1]] = 0.0
    pts = _densify(geom_xy, geom_off, g_ft, spacing_m)

    meta = {
        "mode": mode,
        "source": ways.source,
        "source_sha256": ways.sha256,
        "nodes": len(node_xy),
        "arcs": int(csr.nnz),
        "edges": len(e_u),
        "nodes_merged": int(n_before - len(node_xy)),
        "km": round(float(e_len.sum()) / 1000, 3),
        **dropped,
    }
    return Graph(
        mode=mode,
        indptr=csr.indptr.astype(np.int32), indices=csr.indices.astype(np.int32),
        weight=csr.data.astype(np.float64), length=arc_len,
        node_xy=node_xy,
        edge_u=e_u.astype(np.int32), edge_v=e_v.astype(np.int32),
        edge_fwd=e_fwd, edge_bwd=e_bwd, edge_len=e_len,
        geom_off=geom_off, geom_xy=geom_xy, geom_ft=g_ft, geom_fl=g_fl,
        meta=meta, **pts,
    )


def _arcs_to_csr(n: int, e_u, e_v, e_fwd, e_bwd, e_len):
    """CSR of directed arcs from edges, dropping self-loops and keeping the fastest parallel arc.

    Returns the matrix and the lengths aligned with its ``data``.
    """
    u = np.concatenate([e_u, e_v])
    v = np.concatenate([e_v, e_u])
    w = np.concatenate([e_fwd, e_bwd])
    ln = np.concatenate([e_len, e_len])
    ok = np.isfinite(w) & (u != v)
    u, v, w, ln = u[ok], v[ok], w[ok], ln[ok]
    order = np.lexsort((w, v, u))  # by u, then v, then time: first of each (u, v) is fastest
    u, v, w, ln = u[order], v[order], w[order], ln[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w, ln = u[first], v[first], w[first], ln[first]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=n))])
    csr = sparse.csr_matrix((w, v, indptr), shape=(n, n))
    return csr, ln


def _chains(n: int, e_u, e_v, e_fwd, e_bwd) -> tuple[list[list[tuple[int, bool]]], np.ndarray]:
    """Group edges into chains through *pass-through* nodes; return chains and kept nodes.

    A node is passed through when exactly two distinct edges meet there and they allow
    the same directions of travel (both two-way, or one-way the same way): a route that
    enters it has one way out, so it is no junction (osmnx's simplification does the
    same). Each chain is a list of (edge, reversed) from a kept node to a kept node.
    """
    eu, ev = e_u.tolist(), e_v.tolist()
    ends = np.concatenate([e_u, e_v])
    deg = np.bincount(ends, minlength=n)
    order = np.argsort(ends, kind="stable") % len(e_u)
    ptr = np.concatenate([[0], np.cumsum(deg)])
    two = np.flatnonzero(deg == 2)
    a, b = order[ptr[two]], order[ptr[two] + 1]

    def ok_into(e, x):  # can the edge be travelled into node x?
        return np.isfinite(np.where(e_v[e] == x, e_fwd[e], e_bwd[e]))

    def ok_away(e, x):
        return np.isfinite(np.where(e_u[e] == x, e_fwd[e], e_bwd[e]))

    through = (a != b) & (ok_into(a, two) == ok_away(b, two)) & (ok_away(a, two) == ok_into(b, two))
    passed = np.zeros(n, dtype=bool)
    passed[two[through]] = True
    other = {}
    for x, ea, eb in zip(two[through].tolist(), a[through].tolist(), b[through].tolist(),
                         strict=True):
        other[(x, ea)], other[(x, eb)] = eb, ea
    used = [False] * len(eu)
    chains: list[list[tuple[int, bool]]] = []

    def walk(node: int, e: int) -> None:
        chain = []
        while not used[e]:
            used[e] = True
            rev = eu[e] != node
            chain.append((e, rev))
            node = eu[e] if rev else ev[e]
            if not passed[node]:
                break
            e = other[(node, e)]
        chains.append(chain)

    pass_list = passed.tolist()
    for e in range(len(eu)):
        if not used[e]:
            if not pass_list[eu[e]]:
                walk(eu[e], e)
            elif not pass_list[ev[e]]:
                walk(ev[e], e)
    for e in range(len(eu)):  # what is left are closed loops of pass-through nodes
        if not used[e]:
            passed[eu[e]] = False
            walk(eu[e], e)
    return chains, ~passed


def _merge(chains, edges, geom_off, geom):
    """One edge per chain: summed times and lengths, vertices joined in travel order."""
    e_u, e_v, e_fwd, e_bwd, e_len, e_time = edges
    geom_xy, rel_t, rel_l = geom
    pe = np.fromiter((e for c in chains for e, _ in c), dtype=np.int64)
    rev = np.fromiter((r for c in chains for _, r in c), dtype=bool)
    sizes = np.fromiter((len(c) for c in chains), dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    chain_of = np.repeat(np.arange(len(chains)), sizes)
    is_first = np.zeros(len(pe), dtype=bool)
    is_first[first] = True
    last = np.cumsum(sizes) - 1
    new_u = np.where(rev[first], e_v[pe[first]], e_u[pe[first]])
    new_v = np.where(rev[last], e_u[pe[last]], e_v[pe[last]])
    fwd = np.where(rev, e_bwd[pe], e_fwd[pe])
    bwd = np.where(rev, e_fwd[pe], e_bwd[pe])
    new_fwd, new_bwd = np.add.reduceat(fwd, first), np.add.reduceat(bwd, first)
    new_len, new_time = np.add.reduceat(e_len[pe], first), np.add.reduceat(e_time[pe], first)
    # time and length already travelled at the start of each piece
    t0 = np.cumsum(e_time[pe]) - e_time[pe]
    t0 -= t0[first][chain_of]
    l0 = np.cumsum(e_len[pe]) - e_len[pe]
    l0 -= l0[first][chain_of]
    # vertices of each piece, the joint vertex dropped after the first piece
    n_v = np.diff(geom_off)[pe]
    skip = (~is_first).astype(np.int64)
    cnt = n_v - skip
    piece = np.repeat(np.arange(len(pe)), cnt)
    q = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt) + skip[piece]
    q = np.where(rev[piece], n_v[piece] - 1 - q, q)
    old = geom_off[pe][piece] + q
    e_of = pe[piece]
    t = np.where(rev[piece], e_time[e_of] - rel_t[old], rel_t[old]) + t0[piece]
    ln = np.where(rev[piece], e_len[e_of] - rel_l[old], rel_l[old]) + l0[piece]
    new_off = np.concatenate([[0], np.cumsum(np.bincount(chain_of, weights=cnt,
                                                          minlength=len(chains)))])
    return ((new_u, new_v, new_fwd, new_bwd, new_len, new_time), new_off.astype(np.int64),
            (geom_xy[old], t, ln))


def _densify(geom_xy: np.ndarray, geom_off: np.ndarray, g_ft: np.ndarray,
             spacing_m: float) -> dict[str, np.ndarray]:
    """Points at most ``spacing_m`` apart along every edge, each with its segment and fraction."""
    n_v = len(geom_xy)
    is_last = np.zeros(n_v, dtype=bool)
    is_last[geom_off[1:] - 1] = True
    seg_start = np.flatnonzero(~is_last)  # a segment goes from vertex i to i + 1
    a, b = geom_xy[seg_start], geom_xy[seg_start + 1]
    seg_len = np.hypot(*(b - a).T)
    pieces = np.maximum(1, np.ceil(seg_len / spacing_m)).astype(np.int64)
    rep = np.repeat(np.arange(len(seg_start)), pieces)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    t = k / pieces[rep]
    seg = seg_start[rep]
    xy = a[rep] + t[:, None] * (b - a)[rep]
    ft = g_ft[seg] + t * (g_ft[seg + 1] - g_ft[seg])
    # the end vertex of every edge, as t = 1 on its last segment
    last = geom_off[1:] - 1
    edge_of_vertex = np.repeat(np.arange(len(geom_off) - 1), np.diff(geom_off))
    xy = np.concatenate([xy, geom_xy[last]])
    seg = np.concatenate([seg, last - 1])
    ft = np.concatenate([ft, g_ft[last]])
    return {
        "pts_xy": xy,
        "pts_seg": seg.astype(np.int64),
        "pts_edge": edge_of_vertex[seg].astype(np.int32),
        "pts_ft": ft,
    }


def from_edges(mode: str, node_xy: np.ndarray, edge_u: np.ndarray, edge_v: np.ndarray,
               edge_fwd: np.ndarray, edge_bwd: np.ndarray, edge_len: np.ndarray,
               geom_off: np.ndarray, geom_xy: np.ndarray, geom_ft: np.ndarray | None = None,
               meta: dict[str, Any] | None = None,
               spacing_m: float = SPACING_M) -> tuple[Graph, np.ndarray]:
    """A graph from ready-made edges (another tool's network), its largest SCC kept.

    Edge ``e`` runs from ``edge_u[e]`` to ``edge_v[e]`` through the vertices
    ``geom_xy[geom_off[e]:geom_off[e + 1]]`` (EPSG:5490, at least two); ``edge_fwd`` /
    ``edge_bwd`` are its seconds each way (inf when forbidden) and ``edge_len`` its metres.
    The time fraction at each vertex is ``geom_ft`` when given (and not NaN), else its
    length fraction (one speed along the edge). No node is merged. Returns the graph and,
    for each of its nodes, the index of the input node it comes from.
    """
    mode = check_mode(mode)
    e_u, e_v = np.asarray(edge_u, dtype=np.int64), np.asarray(edge_v, dtype=np.int64)
    e_fwd, e_bwd = np.asarray(edge_fwd, dtype=np.float64), np.asarray(edge_bwd, dtype=np.float64)
    e_len = np.asarray(edge_len, dtype=np.float64)
    geom_off = np.asarray(geom_off, dtype=np.int64)
    n_all = len(node_xy)
    n_comp, labels = connected_components(_arcs_to_csr(n_all, e_u, e_v, e_fwd, e_bwd, e_len)[0],
                                          directed=True, connection="strong")
    keep_node = labels == np.argmax(np.bincount(labels))
    keep_edge = keep_node[e_u] & keep_node[e_v]
    keep_edge &= np.isfinite(e_fwd) | np.isfinite(e_bwd)
    if not keep_edge.any() or not (keep_edge & (e_u != e_v)).any():
        raise MaillageError("Le réseau routier fourni n'a aucun tronçon utilisable (il faut au "
                            "moins deux carrefours reliés dans les deux sens) : impossible d'y "
                            "calculer des trajets.")
    kept = np.flatnonzero(keep_node)
    new_id = np.cumsum(keep_node) - 1
    dropped = {
        "components": int(n_comp),
        "nodes_dropped": int(n_all - len(kept)),
        "edges_dropped": int((~keep_edge).sum()),
        "km_dropped": round(float(e_len[~keep_edge].sum()) / 1000, 3),
    }
    counts = np.diff(geom_off)[keep_edge]
    gidx = ranges(geom_off[:-1][keep_edge], counts)
    e_u, e_v = new_id[e_u[keep_edge]], new_id[e_v[keep_edge]]
    e_fwd, e_bwd, e_len = e_fwd[keep_edge], e_bwd[keep_edge], e_len[keep_edge]
    node_xy = np.asarray(node_xy, dtype=np.float64)[keep_node]
    geom_xy = np.asarray(geom_xy, dtype=np.float64)[gidx]
    geom_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    # length fractions from the vertices (planar, EPSG:5490)
    first, last = geom_off[:-1], geom_off[1:] - 1
    g_edge = np.repeat(np.arange(len(e_u)), counts)
    seg = np.hypot(*np.diff(geom_xy, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    rel = cum - cum[first][g_edge]
    with np.errstate(invalid="ignore", divide="ignore"):
        g_fl = np.nan_to_num(rel / rel[last][g_edge], nan=0.0, posinf=0.0)
    g_ft = g_fl.copy()
    if geom_ft is not None:  # NaN: the length fraction
        given = np.asarray(geom_ft, dtype=np.float64)[gidx]
        g_ft = np.where(np.isnan(given), g_fl, given)
    for frac in (g_ft, g_fl):  # exact ends
        frac[first], frac[last] = 0.0, 1.0
    csr, arc_len = _arcs_to_csr(len(node_xy), e_u, e_v, e_fwd, e_bwd, e_len)
    pts = _densify(geom_xy, geom_off, g_ft, spacing_m)
    meta = {
        "source": "edges", "source_sha256": None, **(meta or {}),
        "mode": mode, "nodes": len(node_xy), "arcs": int(csr.nnz), "edges": len(e_u),
        "nodes_merged": 0, "km": round(float(e_len.sum()) / 1000, 3), **dropped,
    }
    g = Graph(
        mode=mode,
        indptr=csr.indptr.astype(np.int32), indices=csr.indices.astype(np.int32),
        weight=csr.data.astype(np.float64), length=arc_len,
        node_xy=node_xy,
        edge_u=e_u.astype(np.int32), edge_v=e_v.astype(np.int32),
        edge_fwd=e_fwd, edge_bwd=e_bwd, edge_len=e_len,
        geom_off=geom_off, geom_xy=geom_xy, geom_ft=g_ft, geom_fl=g_fl,
        meta=meta, **pts,
    )
    return g, kept


def describe(g: Graph) -> str:
    """One French line on what a graph holds and what was dropped."""
    m = g.meta
    label = "voiture" if g.mode == "drive" else "à pied"
    source = {"mirror": "couche routière du miroir", "pbf": "extrait OSM complet"}.get(
        m["source"], m["source"])
    return (f"Graphe {label} ({source}) : {m['nodes']} nœuds, {m['edges']} tronçons, "
            f"{m['km']:.0f} km ; écarté hors de la plus grande composante fortement connexe : "
            f"{m['nodes_dropped']} nœuds, {m['edges_dropped']} tronçons, {m['km_dropped']:.1f} km "
            f"({m['components'] - 1} petites composantes)")
