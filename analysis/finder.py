"""The nearest places of help from a point, by travel time on foot and by car.

For each mode, the origin is snapped onto the road graph and **one** Dijkstra
(with predecessors, :func:`analysis.routing.tree`) runs from it over the whole
island; the travel time to every place (snapped once, in :func:`prepare`) is then
read off the node times (:func:`analysis.routing.times_to`). The k fastest places
are kept, and their distance (metres along the fastest path) and route geometry
come from the same predecessor tree (:func:`analysis.routing.path`,
:func:`analysis.routing.path_xy`). Pure: graphs and arrays in, dataclasses out; seconds and
metres inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis import routing, snap
from analysis.graph import Graph
from maillage.errors import MaillageError

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
    """One mode's graph with the places snapped on it."""

    mode: str
    graph: Graph
    places: snap.Snapped
    usable: np.ndarray  # (places,) bool: snapped close enough to a road
    place_xy: np.ndarray  # (places, 2) EPSG:5490, where the places really are

    @property
    def n_places(self) -> int:
        return len(self.place_xy)


def prepare(graph: Graph, place_lonlat: np.ndarray, mode: str | None = None,
            max_snap_m: float = MAX_SNAP_M) -> Network:
    """Snap the places (lon/lat rows) onto ``graph`` once."""
    lonlat = np.asarray(place_lonlat, dtype=np.float64).reshape(-1, 2)
    xy = snap.to_xy(lonlat) if len(lonlat) else np.zeros((0, 2))
    snapped = snap.snap(graph, xy, max_snap_m) if len(xy) else snap.Snapped(
        *(np.zeros(0, dtype=t) for t in (np.int64, float, float)), np.zeros((0, 2)),
        np.zeros(0), np.zeros(0, dtype=bool))
    return Network(mode=mode or graph.mode, graph=graph, places=snapped,
                   usable=np.asarray(snapped.ok, dtype=bool), place_xy=xy)


@dataclass(frozen=True)
class Tree:
    """Fastest-path tree from one origin (:class:`analysis.routing.Tree`) and the point asked."""

    paths: routing.Tree
    origin_xy: np.ndarray  # (2,) the point asked for, EPSG:5490

    @property
    def origin(self) -> snap.Snapped:
        return self.paths.origin


def tree(net: Network, origin_xy: np.ndarray, max_snap_m: float = MAX_SNAP_M) -> Tree:
    """One Dijkstra from ``origin_xy`` (EPSG:5490) over the whole graph."""
    g = net.graph
    origin = snap.snap(g, np.asarray(origin_xy, dtype=np.float64).reshape(1, 2), max_snap_m)
    if not origin.ok[0]:
        raise snap.PointError(
            f"Le point choisi est à {origin.dist[0]:.0f} m de la route la plus proche "
            f"({MODE_LABELS.get(net.mode, net.mode)}) : choisissez un point plus près d'une "
            "route.")
    return Tree(paths=routing.tree(g, origin),
                origin_xy=np.asarray(origin_xy, dtype=np.float64).reshape(2))


def times(net: Network, t: Tree) -> np.ndarray:
    """Seconds from the tree's origin to every place (inf when unreachable or unusable)."""
    if net.n_places == 0:
        return np.zeros(0)
    out = routing.times_to(net.graph, t.paths, net.places)
    out[~net.usable] = np.inf
    return out


@dataclass(frozen=True)
class Route:
    """The fastest way from the origin to one place."""

    mode: str
    seconds: float
    metres: float
    lonlat: np.ndarray  # (m, 2) the line to draw, origin first, place last


def trace(net: Network, t: Tree, place: int, *, geometry: bool = True) -> Route:
    """Time, length and (optionally) line of the fastest path to place ``place``."""
    trip = routing.path(net.graph, t.paths, net.places, place)
    if not net.usable[place] or not np.isfinite(trip.seconds):
        return Route(net.mode, np.inf, np.inf, np.zeros((0, 2)))
    line = np.zeros((0, 2))
    if geometry:
        xy = np.vstack([t.origin_xy[None, :], routing.path_xy(net.graph, trip),
                        net.place_xy[place:place + 1]])
        line = snap.to_lonlat(xy)
    return Route(net.mode, trip.seconds, trip.metres, line)


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
