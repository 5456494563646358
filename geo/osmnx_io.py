"""The engine's road graphs as osmnx graphs and back, and osmnx GraphML files.

:func:`to_networkx` turns an :class:`analysis.graph.Graph` into a ``networkx.MultiDiGraph``
in osmnx's conventions: graph attribute ``crs`` = ``EPSG:4326``, nodes with ``x`` (lon)
and ``y`` (lat), one directed edge per direction allowed, with ``length`` (metres, the
engine's), ``travel_time`` (seconds, the engine's), ``geometry`` (a lon/lat LineString
from ``u`` to ``v``), ``oneway`` and ``reversed`` as osmnx sets them, and ``osmid``. The
engine keeps neither OSM ids nor ``highway``/``name`` tags, so node ids are the engine's
node indices (or the ids of the graph it was read from) and an edge's ``osmid`` is its
engine edge index, shared by both directions like a way's id. An edge whose speed is not
the same all along it (pieces of several ways merged by the engine) carries
``time_fractions``: the share of its time already travelled at each vertex, so that
reading it back gives the same times to points inside the edge.

:func:`from_networkx` reads any osmnx-style graph (nodes ``x``/``y`` in the graph's
``crs``, edges with ``length`` and, optionally, ``travel_time``) into the engine: the two
directions of a road (same ends, same length, reversed geometry) become one two-way
engine edge, a missing ``travel_time`` is computed from the length and the engine's speed
rules (:func:`analysis.graph.way_speeds_kmh`: ``maxspeed``, else the class table
``settings.DRIVE_SPEEDS_KMH``; walking pace both ways on foot) through
``osmnx.add_edge_travel_times``, and only the largest strongly connected component is
kept, as for the island's graphs.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from analysis import graph as graph_mod
from analysis.graph import Graph, check_mode
from geo.errors import MaillageError
from maillage import settings as settings_mod
from maillage.settings import Settings

#: Edge attribute holding the time fraction at each vertex (only on non-uniform edges).
TIME_FRACTIONS = "time_fractions"
#: Graph attribute naming the engine mode a GraphML file was exported from.
MODE_ATTR = "maillage_mode"
#: Two directions of a road are paired when their lengths agree this closely (metres).
_PAIR_LEN_M = 1e-3
#: ... and their vertices, once projected (metres).
_PAIR_XY_M = 1e-3


class GraphFileError(MaillageError):
    """A graph file (GraphML) that cannot be read or used."""


# --------------------------------------------------------------------------- export


def _node_ids(g: Graph) -> list:
    """The id of each node: the original ids when ``g`` was read from networkx, else 0..n-1."""
    ids = g.meta.get("node_ids")
    if ids is not None and len(ids) == g.n_nodes:
        return list(ids)
    return list(range(g.n_nodes))


def to_networkx(g: Graph) -> nx.MultiDiGraph:
    """``g`` as an osmnx ``MultiDiGraph`` (see the module docstring for the attributes)."""
    import geopandas as gpd
    import osmnx as ox
    import pandas as pd
    import shapely

    from analysis.snap import to_lonlat

    crs = settings_mod.CRS_STORE
    ids = np.empty(g.n_nodes, dtype=object)
    ids[:] = _node_ids(g)
    lonlat = to_lonlat(g.node_xy)
    nodes = gpd.GeoDataFrame({"x": lonlat[:, 0], "y": lonlat[:, 1]},
                             index=pd.Index(ids, name="osmid"),
                             geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=crs)

    lines = shapely.linestrings(to_lonlat(g.geom_xy), indices=g.geom_edge)
    fwd, bwd = np.isfinite(g.edge_fwd), np.isfinite(g.edge_bwd)
    e = np.concatenate([np.flatnonzero(fwd), np.flatnonzero(bwd)])
    rev = np.concatenate([np.zeros(fwd.sum(), bool), np.ones(bwd.sum(), bool)])
    u = np.where(rev, g.edge_v[e], g.edge_u[e])
    v = np.where(rev, g.edge_u[e], g.edge_v[e])
    geometry = np.where(rev, shapely.reverse(lines[e]), lines[e])
    # time fractions, only where they differ from the length fractions
    gap = np.maximum.reduceat(np.abs(g.geom_ft - g.geom_fl), g.geom_off[:-1])
    fractions = np.full(len(e), None, dtype=object)
    for i in np.flatnonzero(gap[e] > 1e-12):
        ft = g.geom_ft[g.geom_off[e[i]]:g.geom_off[e[i] + 1]]
        fractions[i] = (1.0 - ft[::-1] if rev[i] else ft).tolist()
    edges = gpd.GeoDataFrame({
        "u": ids[u], "v": ids[v],
        "osmid": e.astype(np.int64),
        "oneway": ~(fwd[e] & bwd[e]),
        "reversed": rev,
        "length": g.edge_len[e],
        "travel_time": np.where(rev, g.edge_bwd[e], g.edge_fwd[e]),
        TIME_FRACTIONS: fractions,
    }, geometry=geometry, crs=crs)
    edges["key"] = edges.groupby(["u", "v"], sort=False).cumcount()
    edges = edges.set_index(["u", "v", "key"])
    return ox.graph_from_gdfs(nodes, edges, graph_attrs={"crs": crs, "simplified": True,
                                                          MODE_ATTR: g.mode})


def export_graphml(g: Graph, path: str | Path) -> nx.MultiDiGraph:
    """Write ``g`` as an osmnx GraphML file (``osmnx.load_graphml`` reads it); return the graph."""
    import osmnx as ox

    G = to_networkx(g)
    try:
        ox.save_graphml(G, Path(path))
    except OSError as exc:
        raise GraphFileError(f"Impossible d'écrire « {path} » : {exc.strerror}.") from None
    return G


# --------------------------------------------------------------------------- import


def _as_list(value) -> list:
    if isinstance(value, list | tuple | set):
        return list(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [value]


def _speed_kmh(highway, maxspeed, mode: str, s: Settings) -> float:
    """The engine's speed of one edge (NaN when the engine would not use the road).

    ``maxspeed`` when tagged, else the class table (the mean over an osmnx-simplified edge's
    several values, as osmnx does); walking pace on foot, except on motorways.
    """
    from geo import roads

    classes = [str(h) for h in _as_list(highway)]
    if mode == "walk":
        walked = not classes or not all(h in roads.NO_WALK for h in classes)
        return float(s.walk_kmh) if walked else np.nan
    tagged = [roads.parse_maxspeed(str(m)) for m in _as_list(maxspeed)]
    tagged = [m for m in tagged if np.isfinite(m) and m > 0]
    if tagged:
        return float(np.mean(tagged))
    table = [settings_mod.DRIVE_SPEEDS_KMH[h] for h in classes
             if h in settings_mod.DRIVE_SPEEDS_KMH]
    return float(np.mean(table)) if table else np.nan


def _travel_times(G: nx.MultiDiGraph, edges, mode: str, s: Settings) -> np.ndarray:
    """Seconds of every edge: its ``travel_time``, else computed by osmnx from the speed rules."""
    import osmnx as ox
    import pandas as pd

    given = (pd.to_numeric(edges["travel_time"], errors="coerce").to_numpy(dtype=np.float64)
             if "travel_time" in edges.columns else np.full(len(edges), np.nan))
    missing = np.flatnonzero(np.isnan(given))
    if not len(missing):
        return given
    col = {name: (edges[name].to_numpy() if name in edges.columns
                  else np.full(len(edges), None, dtype=object))
           for name in ("highway", "maxspeed")}
    speeds = np.array([_speed_kmh(col["highway"][i], col["maxspeed"][i], mode, s)
                       for i in missing])
    ok = np.isfinite(speeds) & (speeds > 0)  # the others are roads the engine would not use
    usable, speeds = missing[ok], speeds[ok]
    if not len(usable):
        return given
    keys = [edges.index[i] for i in usable]
    H = nx.MultiDiGraph(crs=G.graph["crs"])  # only the edges to time, nothing of G changed
    H.add_nodes_from((n, G.nodes[n]) for n in {k[0] for k in keys} | {k[1] for k in keys})
    H.add_edges_from((a, b, k, {"length": float(edges["length"].iat[i]), "speed_kph": sp})
                     for (a, b, k), i, sp in zip(keys, usable, speeds.tolist(), strict=True))
    ox.add_edge_travel_times(H)
    given[usable] = [H.edges[k]["travel_time"] for k in keys]
    return given


def _fractions(value, n_vertices: int) -> np.ndarray | None:
    """Valid per-vertex time fractions, else ``None`` (then the length fractions are used)."""
    if not isinstance(value, list | tuple) or len(value) != n_vertices:
        return None
    try:
        ft = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    ok = np.all(np.isfinite(ft)) and np.all(np.diff(ft) >= 0) and ft[0] >= 0 and ft[-1] <= 1
    return ft if ok else None


def from_networkx(G: nx.MultiDiGraph, mode: str, s: Settings | None = None) -> Graph:
    """The engine graph of an osmnx-style graph (see the module docstring).

    ``g.meta["node_ids"]`` holds the networkx node of each engine node.
    """
    import osmnx as ox
    import pandas as pd
    import shapely

    mode = check_mode(mode)
    s = s or settings_mod.get()
    if not isinstance(G, nx.MultiDiGraph):
        G = nx.MultiDiGraph(G)
    if G.graph.get("crs") is None:
        raise GraphFileError("Le graphe n'indique pas son système de coordonnées (attribut "
                             "« crs » du graphe, par exemple EPSG:4326).")
    if G.number_of_edges() == 0:
        raise GraphFileError("Le graphe ne contient aucun tronçon.")
    if any("x" not in d or "y" not in d for _, d in G.nodes(data=True)):
        raise GraphFileError("Chaque nœud du graphe doit avoir ses coordonnées « x » et « y ».")
    try:
        nodes, edges = ox.graph_to_gdfs(G, fill_edge_geometry=True)
        nodes = nodes.to_crs(settings_mod.CRS_MEASURE)
        edges = edges.to_crs(settings_mod.CRS_MEASURE)
    except (ValueError, TypeError) as exc:
        raise GraphFileError(f"Graphe illisible (coordonnées ou système « "
                             f"{G.graph['crs']} » invalides) : {exc}") from None
    length = (pd.to_numeric(edges["length"], errors="coerce").to_numpy(dtype=np.float64)
              if "length" in edges.columns else np.full(len(edges), np.nan))
    if not np.all(np.isfinite(length) & (length >= 0)):
        raise GraphFileError("Chaque tronçon du graphe doit avoir sa longueur en mètres "
                             "(attribut « length »).")
    time = _travel_times(G, edges, mode, s)
    if np.any(time[np.isfinite(time)] < 0):
        raise GraphFileError("Le graphe contient des temps de parcours négatifs "
                             "(attribut « travel_time »).")

    node_xy = shapely.get_coordinates(nodes.geometry.to_numpy())
    position = pd.Index(nodes.index)
    eu = position.get_indexer(edges.index.get_level_values(0))
    ev = position.get_indexer(edges.index.get_level_values(1))
    coords, which = shapely.get_coordinates(edges.geometry.to_numpy(), return_index=True)
    starts = np.searchsorted(which, np.arange(len(edges) + 1))
    ft_col = edges[TIME_FRACTIONS].to_numpy() if TIME_FRACTIONS in edges.columns else None

    def line(i: int) -> np.ndarray:
        xy = coords[starts[i]:starts[i + 1]].copy()
        a, b = node_xy[eu[i]], node_xy[ev[i]]
        if len(xy) < 2:
            return np.vstack([a, b])
        if (np.hypot(*(xy[0] - a)) + np.hypot(*(xy[-1] - b))
                > np.hypot(*(xy[-1] - a)) + np.hypot(*(xy[0] - b))):
            xy = xy[::-1]  # drawn from v to u
        xy[0], xy[-1] = a, b
        return xy

    usable = np.flatnonzero(np.isfinite(time))
    lines = {int(i): line(int(i)) for i in usable}
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in usable.tolist():
        groups[(min(eu[i], ev[i]), max(eu[i], ev[i]))].append(i)

    def reverse_of(i: int, j: int) -> bool:
        a, b = lines[i], lines[j]
        return (abs(length[i] - length[j]) <= _PAIR_LEN_M and a.shape == b.shape
                and bool(np.all(np.abs(a - b[::-1]) <= _PAIR_XY_M)))

    out: list[tuple[int, float, float]] = []  # (nx edge drawn u -> v, fwd s, bwd s)
    for members in groups.values():
        free = list(members)
        while free:
            i = free.pop(0)
            j = next((j for j in free if eu[j] == ev[i] and ev[j] == eu[i] and reverse_of(i, j)),
                     None)
            if j is not None:
                free.remove(j)
                out.append((i, time[i], time[j]))
            else:  # one way only; on foot the engine walks every road both ways
                out.append((i, time[i], time[i] if mode == "walk" else np.inf))

    pick = np.array([i for i, _, _ in out], dtype=np.int64)
    geoms = [lines[i] for i in pick.tolist()]
    counts = np.array([len(xy) for xy in geoms], dtype=np.int64)
    geom_off = np.concatenate([[0], np.cumsum(counts)])
    geom_ft = None
    if ft_col is not None:
        parts = [_fractions(ft_col[i], len(xy)) for i, xy in zip(pick, geoms, strict=True)]
        if any(p is not None for p in parts):
            geom_ft = np.concatenate([np.full(len(xy), np.nan) if p is None else p
                                      for p, xy in zip(parts, geoms, strict=True)])
    g, kept = graph_mod.from_edges(
        mode, node_xy, eu[pick], ev[pick],
        np.array([f for _, f, _ in out]), np.array([b for _, _, b in out]), length[pick],
        geom_off, np.vstack(geoms), geom_ft, meta={"source": "osmnx"})
    g.meta["node_ids"] = [_plain(n) for n in np.asarray(nodes.index, dtype=object)[kept]]
    return g


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (node ids stay JSON-friendly)."""
    return value.item() if isinstance(value, np.generic) else value


def load_graphml(path: str | Path, mode: str, s: Settings | None = None) -> Graph:
    """The engine graph of an osmnx GraphML file, for ``mode`` (French errors)."""
    import osmnx as ox

    mode = check_mode(mode)
    path = Path(path)
    if not path.is_file():
        raise GraphFileError(f"Fichier de graphe introuvable : {path}")
    try:
        G = ox.load_graphml(path)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError, nx.NetworkXError) as exc:
        raise GraphFileError(f"« {path} » n'est pas un fichier GraphML lisible par osmnx "
                             f"({type(exc).__name__} : {exc}).") from None
    saved = G.graph.get(MODE_ATTR)
    if saved is not None and saved != mode:
        label = {"drive": "voiture", "walk": "à pied"}
        raise GraphFileError(f"« {path} » est un graphe {label.get(saved, saved)} : utilisez "
                             f"--mode {saved}, ou exportez le graphe {label[mode]} "
                             f"(maillage network export --mode {mode}).")
    return from_networkx(G, mode, s)
