"""The nearest places of help from a point, by travel time on foot and by car.

For each mode, the origin is snapped onto the road graph and **one** Dijkstra
(with predecessors) runs from it over the whole island; the travel time to every
place (snapped once, in :func:`prepare`) is then read off the node times exactly
as :func:`analysis.routing.times_from` does. The k fastest places are kept, and
their distance (metres along the fastest path) and route geometry come from the
same predecessor tree. Pure: graphs and arrays in, dataclasses out; seconds and
metres inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra

from analysis import routing, snap
from analysis.graph import Graph
from geo.errors import MaillageError

MODES: tuple[str, ...] = ("walk", "drive")
MODE_LABELS = {"walk": "à pied", "drive": "en voiture"}
#: Places farther than this from a road cannot be reached (metres).
MAX_SNAP_M = 500.0
#: In ``order="auto"``, rank on foot when the nearest place is at most this far (seconds).
AUTO_WALK_S = 30 * 60.0
#: Beyond these times a place is "out of reach" in that mode (seconds).
REACH_S = {"walk": 3 * 3600.0, "drive": 3 * 3600.0}


class NoPlaceInReach(MaillageError):
    """No place of help can be reached from the point."""


@dataclass
class Network:
    """One mode's graph with the places snapped on it, and an arc → edge lookup for routes."""

    mode: str
    graph: Graph
    places: snap.Snapped
    usable: np.ndarray  # (places,) bool: snapped close enough to a road
    place_xy: np.ndarray  # (places, 2) EPSG:5490, where the places really are
    arc_key: np.ndarray = field(repr=False)  # sorted u * n + v of the fastest arcs
    arc_edge: np.ndarray = field(repr=False)  # geometric edge of each arc
    arc_forward: np.ndarray = field(repr=False)  # True when the arc runs u -> v

    @property
    def n_places(self) -> int:
        return len(self.place_xy)


def prepare(graph: Graph, place_lonlat: np.ndarray, mode: str | None = None,
            max_snap_m: float = MAX_SNAP_M) -> Network:
    """Snap the places (lon/lat rows) onto ``graph`` once, and index its arcs."""
    lonlat = np.asarray(place_lonlat, dtype=np.float64).reshape(-1, 2)
    xy = snap.to_xy(lonlat) if len(lonlat) else np.zeros((0, 2))
    snapped = snap.snap(graph, xy, max_snap_m) if len(xy) else snap.Snapped(
        *(np.zeros(0, dtype=t) for t in (np.int64, float, float)), np.zeros((0, 2)),
        np.zeros(0), np.zeros(0, dtype=bool))
    n = graph.n_nodes
    e = np.arange(graph.n_edges)
    u = np.concatenate([graph.edge_u, graph.edge_v]).astype(np.int64)
    v = np.concatenate([graph.edge_v, graph.edge_u]).astype(np.int64)
    w = np.concatenate([graph.edge_fwd, graph.edge_bwd])
    edge = np.concatenate([e, e])
    fwd = np.concatenate([np.ones(len(e), bool), np.zeros(len(e), bool)])
    ok = np.isfinite(w) & (u != v)
    u, v, w, edge, fwd = u[ok], v[ok], w[ok], edge[ok], fwd[ok]
    order = np.lexsort((w, v, u))  # the fastest arc first, as the routing CSR keeps it
    key = u[order] * n + v[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return Network(mode=mode or graph.mode, graph=graph, places=snapped,
                   usable=np.asarray(snapped.ok, dtype=bool), place_xy=xy,
                   arc_key=key[first], arc_edge=edge[order][first],
                   arc_forward=fwd[order][first])


@dataclass(frozen=True)
class Tree:
    """Fastest-path tree from one origin: node times and predecessors."""

    origin: snap.Snapped  # one row
    origin_xy: np.ndarray  # (2,) the point asked for, EPSG:5490
    dist: np.ndarray  # (n,) seconds to every node
    pred: np.ndarray  # (n,) predecessor (n = the origin itself, < 0 = none)


def tree(net: Network, origin_xy: np.ndarray, max_snap_m: float = MAX_SNAP_M) -> Tree:
    """One Dijkstra from ``origin_xy`` (EPSG:5490) over the whole graph."""
    g = net.graph
    origin = snap.snap(g, np.asarray(origin_xy, dtype=np.float64).reshape(1, 2), max_snap_m)
    if not origin.ok[0]:
        raise snap.PointError(
            f"Le point choisi est à {origin.dist[0]:.0f} m de la route la plus proche "
            f"({MODE_LABELS.get(net.mode, net.mode)}) : choisissez un point plus près d'une "
            "route.")
    aug = routing._augmented(g, origin)
    d, pred = dijkstra(aug, directed=True, indices=g.n_nodes, return_predecessors=True)
    return Tree(origin=origin, origin_xy=np.asarray(origin_xy, dtype=np.float64).reshape(2),
                dist=d[: g.n_nodes], pred=pred[: g.n_nodes])


def times(net: Network, t: Tree) -> np.ndarray:
    """Seconds from the tree's origin to every place (inf when unreachable or unusable)."""
    g, p = net.graph, net.places
    if net.n_places == 0:
        return np.zeros(0)
    out = routing.times_on_edges(g, t.dist, p.edge, p.ft)
    same = np.flatnonzero(p.edge == t.origin.edge[0])
    if len(same):
        along = routing.direct(g, np.full(len(same), t.origin.ft[0]), p.ft[same], p.edge[same])
        out[same] = np.minimum(out[same], along)
    out[~net.usable] = np.inf
    return out


@dataclass(frozen=True)
class Route:
    """The fastest way from the origin to one place."""

    mode: str
    seconds: float
    metres: float
    lonlat: np.ndarray  # (m, 2) the line to draw, origin first, place last


def _piece(g: Graph, e: int, a: float, b: float) -> np.ndarray:
    """Vertices of edge ``e`` between length fractions ``a`` and ``b`` (reversed if a > b)."""
    lo, hi = int(g.geom_off[e]), int(g.geom_off[e + 1])
    xy, fl = g.geom_xy[lo:hi], g.geom_fl[lo:hi]
    s, t = min(a, b), max(a, b)
    inner = xy[(fl > s) & (fl < t)]
    ends = np.column_stack([np.interp([s, t], fl, xy[:, 0]), np.interp([s, t], fl, xy[:, 1])])
    pts = np.vstack([ends[:1], inner, ends[1:]])
    return pts[::-1] if a > b else pts


def _arcs(net: Network, path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geometric edge and direction of each arc of a node path (the fastest arc, as routed)."""
    keys = path[:-1] * net.graph.n_nodes + path[1:]
    i = np.searchsorted(net.arc_key, keys)
    if len(keys) and (i.max() >= len(net.arc_key) or (net.arc_key[i] != keys).any()):
        raise RuntimeError("path with an arc missing from the graph")  # pragma: no cover
    return net.arc_edge[i], net.arc_forward[i]


def trace(net: Network, t: Tree, place: int, *, geometry: bool = True) -> Route:
    """Time, length and (optionally) line of the fastest path to place ``place``."""
    g = net.graph
    n = g.n_nodes
    o, p = t.origin, net.places
    es, et = int(o.edge[0]), int(p.edge[place])
    fs, ft, fls, flt = float(o.ft[0]), float(p.ft[place]), float(o.fl[0]), float(p.fl[place])
    u, v = int(g.edge_u[et]), int(g.edge_v[et])
    part = routing._part
    options = [(float(t.dist[u] + part(ft, g.edge_fwd[et])), u, 0.0),
               (float(t.dist[v] + part(1 - ft, g.edge_bwd[et])), v, 1.0)]
    if es == et:
        along = float(routing.direct(g, np.array(fs), np.array(ft), np.array(et)))
        options.append((along, -1, fls))
    seconds, end, end_fl = min(options, key=lambda x: x[0])
    if not net.usable[place] or not np.isfinite(seconds):
        return Route(net.mode, np.inf, np.inf, np.zeros((0, 2)))
    pieces: list[np.ndarray] = []
    if end == -1:
        metres = abs(flt - fls) * g.edge_len[et]
        if geometry:
            pieces.append(_piece(g, et, fls, flt))
    else:
        path = [end]
        while t.pred[path[-1]] != n:
            path.append(int(t.pred[path[-1]]))
        path.reverse()
        first = path[0]
        if g.edge_u[es] == g.edge_v[es]:  # self-loop: the cheaper way round was taken
            back = part(fs, g.edge_bwd[es]) <= part(1 - fs, g.edge_fwd[es])
            start_fl = 0.0 if back else 1.0
        else:
            start_fl = 1.0 if first == g.edge_v[es] else 0.0
        metres = abs(start_fl - fls) * g.edge_len[es] + abs(flt - end_fl) * g.edge_len[et]
        if geometry:
            pieces.append(_piece(g, es, fls, start_fl))
        edges, forward = _arcs(net, np.asarray(path, dtype=np.int64))
        metres += float(g.edge_len[edges].sum())
        if geometry:
            pieces += [_piece(g, e, 0.0, 1.0) if f else _piece(g, e, 1.0, 0.0)
                       for e, f in zip(edges.tolist(), forward.tolist(), strict=True)]
        if geometry:
            pieces.append(_piece(g, et, end_fl, flt))
    line = np.zeros((0, 2))
    if geometry:
        xy = np.vstack([t.origin_xy[None, :], o.xy[:1], *pieces, p.xy[place:place + 1],
                        net.place_xy[place:place + 1]])
        line = snap.to_lonlat(xy)
    return Route(net.mode, seconds, float(metres), line)


@dataclass(frozen=True)
class Option:
    """One place in the answer, with its times and distances in both modes."""

    place: int  # row of the places table given to :func:`prepare`
    seconds: dict[str, float]  # by mode; inf when out of reach
    metres: dict[str, float]

    def minutes(self, mode: str) -> float:
        return self.seconds[mode] / 60.0


@dataclass(frozen=True)
class Answer:
    """The nearest places from one point."""

    lon: float
    lat: float
    order: str  # the mode the options are ranked by
    options: list[Option]
    snap_m: dict[str, float]  # distance from the point to the road, by mode
    trees: dict[str, Tree] = field(repr=False, compare=False, default_factory=dict)


def check_point(lon: float, lat: float, land=None) -> None:
    """French error when the point is outside Martinique or at sea."""
    snap.check_in_martinique(lon, lat, land, label="Ce point")


def find(nets: dict[str, Network], lon: float, lat: float, k: int = 5, order: str = "auto",
         land=None, max_snap_m: float = MAX_SNAP_M, auto_walk_s: float = AUTO_WALK_S,
         reach_s: dict[str, float] | None = None) -> Answer:
    """The ``k`` fastest places from (``lon``, ``lat``), ranked by ``order``.

    ``order`` is ``"walk"``, ``"drive"`` or ``"auto"`` (on foot when the nearest place
    is within ``auto_walk_s`` on foot, else by car). Every option carries both modes.
    Raises a French error for a point outside Martinique, at sea, far from roads,
    or with no place within reach.
    """
    if order not in ("auto", *MODES):
        raise MaillageError(f"Ordre inconnu : « {order} » (auto, walk ou drive).")
    reach = {**REACH_S, **(reach_s or {})}
    check_point(lon, lat, land)
    xy = snap.to_xy([[lon, lat]])
    trees = {m: tree(nets[m], xy, max_snap_m) for m in MODES}
    secs = {m: times(nets[m], trees[m]) for m in MODES}
    for m in MODES:
        secs[m][secs[m] > reach[m]] = np.inf
    if not any(np.isfinite(secs[m]).any() for m in MODES):
        raise NoPlaceInReach(
            "Aucun lieu d'aide au numérique n'est accessible par la route depuis ce point "
            f"(en moins de {reach['drive'] / 3600:.0f} h en voiture). Essayez une adresse "
            "voisine ou appelez le 39 39 (Allô Service public).")
    if order == "auto":
        walk_best = secs["walk"].min() if len(secs["walk"]) else np.inf
        order = "walk" if walk_best <= auto_walk_s else "drive"
    key = secs[order]
    other = secs["drive" if order == "walk" else "walk"]
    ranked = np.lexsort((other, key))
    ranked = [int(i) for i in ranked if np.isfinite(key[i]) or np.isfinite(other[i])][:k]
    options = []
    for i in ranked:
        metres = {m: trace(nets[m], trees[m], i, geometry=False).metres
                  if np.isfinite(secs[m][i]) else np.inf for m in MODES}
        options.append(Option(place=i, seconds={m: float(secs[m][i]) for m in MODES},
                              metres=metres))
    return Answer(lon=lon, lat=lat, order=order, options=options,
                  snap_m={m: float(trees[m].origin.dist[0]) for m in MODES}, trees=trees)


def route(nets: dict[str, Network], answer: Answer, place: int, mode: str) -> Route:
    """The line of the fastest ``mode`` path from the answer's point to ``place``."""
    t = answer.trees.get(mode)
    if t is None:
        t = tree(nets[mode], snap.to_xy([[answer.lon, answer.lat]]))
    return trace(nets[mode], t, place)
