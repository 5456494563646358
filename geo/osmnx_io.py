"""The engine's road graphs as osmnx graphs and back, and osmnx GraphML files.

:func:`to_networkx` turns an :class:`analysis.graph.Graph` into a ``networkx.MultiDiGraph``
in osmnx's conventions: graph attribute ``crs`` = ``EPSG:4326``, nodes with ``x`` (lon)
and ``y`` (lat), one directed edge per direction allowed, with ``length`` (metres, the
engine's), ``travel_time`` (seconds, the engine's), ``oneway``, ``osmid`` and, when the
edge bends, ``geometry`` (a lon/lat LineString from ``u`` to ``v``). Coordinates are
rounded to 1e-7° (OSM's own precision, about 1 cm). The engine keeps neither OSM ids nor
``highway``/``name`` tags, so node ids are the engine's node indices (or the ids of the
graph it was read from) and an edge's ``osmid`` is its engine edge index, shared by both
directions like a way's id. An edge whose speed is not the same all along it (pieces of
several ways merged by the engine) also carries ``time_fractions``: the share of its time
already travelled at each vertex, so that reading it back gives the same times to points
inside the edge.

:func:`from_networkx` reads any osmnx-style graph (nodes ``x``/``y`` in the graph's
``crs``, edges with ``length`` and, optionally, ``travel_time``) into the engine: the two
directions of a road (same ends, same length, same vertices reversed) become one two-way
engine edge, a missing ``travel_time`` is computed from the length and the engine's speed
rules (``maxspeed``, else the class table ``settings.DRIVE_SPEEDS_KMH``; walking pace on
foot, both ways) through ``osmnx.add_edge_travel_times``, and only the largest strongly
connected component is kept, as for the island's graphs. No node is merged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from analysis import graph as graph_mod
from analysis.arrays import ranges
from analysis.graph import Graph, check_mode
from geo.errors import MaillageError
from maillage import settings as settings_mod
from maillage.settings import Settings

#: Edge attribute holding the time fraction at each vertex (only on non-uniform edges).
TIME_FRACTIONS = "time_fractions"
#: Graph attribute naming the engine mode a GraphML file was exported from.
MODE_ATTR = "maillage_mode"
#: Decimals of the exported longitudes and latitudes (OSM's own precision, about 1 cm).
LONLAT_DECIMALS = 7
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
    lonlat = np.round(to_lonlat(g.node_xy), LONLAT_DECIMALS)
    nodes = gpd.GeoDataFrame({"x": lonlat[:, 0], "y": lonlat[:, 1]},
                             index=pd.Index(ids, name="osmid"),
                             geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=crs)

    lines = shapely.linestrings(np.round(to_lonlat(g.geom_xy), LONLAT_DECIMALS),
                                indices=g.geom_edge)
    lines[np.diff(g.geom_off) == 2] = None  # osmnx: a straight edge has no geometry
    fwd, bwd = np.isfinite(g.edge_fwd), np.isfinite(g.edge_bwd)
    e = np.concatenate([np.flatnonzero(fwd), np.flatnonzero(bwd)])
    rev = np.concatenate([np.zeros(fwd.sum(), bool), np.ones(bwd.sum(), bool)])
    u = np.where(rev, g.edge_v[e], g.edge_u[e])
    v = np.where(rev, g.edge_u[e], g.edge_v[e])
    geometry = np.where(rev, shapely.reverse(lines[e]), lines[e])
    # time fractions, only where they differ from the length fractions
    gap = np.maximum.reduceat(np.abs(g.geom_ft - g.geom_fl), g.geom_off[:-1])
    fractions = np.full(len(e), None, dtype=object)
    for i in np.flatnonzero(gap[e] > 1e-9):
        ft = g.geom_ft[g.geom_off[e[i]]:g.geom_off[e[i] + 1]]
        fractions[i] = (1.0 - ft[::-1] if rev[i] else ft).tolist()
    edges = gpd.GeoDataFrame({
        "u": ids[u], "v": ids[v],
        "osmid": e.astype(np.int64),
        "oneway": ~(fwd[e] & bwd[e]),
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
        # the mirror's motorway-or-trunk class counts as motorway here: an osmnx edge does
        # not carry what geo.roads.mirror_walkable needs (the connected unnamed ways)
        walked = not classes or not all(h in roads.NO_WALK or h == roads.MIRROR_FAST
                                        for h in classes)
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
        nodes, edges = ox.graph_to_gdfs(G, fill_edge_geometry=False)
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
    off, xy = _edge_lines(coords, which, node_xy, eu, ev)

    usable = np.flatnonzero(np.isfinite(time))
    ahead, back = _pairs(off, xy, eu, ev, length, usable)
    single = np.setdiff1d(usable, np.concatenate([ahead, back]))
    pick = np.concatenate([ahead, single])
    fwd = time[pick]
    # a road drawn one way only: one-way by car, walked both ways on foot (as the engine does)
    bwd = np.concatenate([time[back], time[single] if mode == "walk" else
                          np.full(len(single), np.inf)])
    counts = np.diff(off)[pick]
    gidx = ranges(off[pick], counts)
    geom_ft = None
    if TIME_FRACTIONS in edges.columns:
        given = edges[TIME_FRACTIONS].to_numpy()
        geom_ft = np.full(len(gidx), np.nan)
        start = np.concatenate([[0], np.cumsum(counts)])
        for k in np.flatnonzero([isinstance(given[i], list | tuple) for i in pick]):
            ft = _fractions(given[pick[k]], int(counts[k]))
            if ft is not None:
                geom_ft[start[k]:start[k + 1]] = ft
    g, kept = graph_mod.from_edges(
        mode, node_xy, eu[pick], ev[pick], fwd, bwd, length[pick],
        np.concatenate([[0], np.cumsum(counts)]), xy[gidx], geom_ft, meta={"source": "osmnx"})
    g.meta["node_ids"] = [_plain(n) for n in np.asarray(nodes.index, dtype=object)[kept]]
    return g


def _edge_lines(coords: np.ndarray, which: np.ndarray, node_xy: np.ndarray, eu: np.ndarray,
                ev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of every edge from its u to its v: (offsets (m + 1,), xy).

    The edge's geometry when it has one (turned round if drawn from v to u, its ends put
    exactly on the nodes), else the straight segment between the nodes (osmnx's rule).
    """
    m = len(eu)
    n_geom = np.bincount(which, minlength=m)
    straight = n_geom < 2
    n = np.where(straight, 2, n_geom)
    off = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
    xy = np.zeros((int(off[-1]), 2))
    bent = np.flatnonzero(~straight)
    g_start = np.concatenate([[0], np.cumsum(n_geom)])[:-1]
    xy[ranges(off[bent], n[bent])] = coords[ranges(g_start[bent], n[bent])]
    a, b = node_xy[eu], node_xy[ev]
    first, last = off[:-1], off[1:] - 1

    def dist(p, q):
        return np.hypot(*(p - q).T)

    flip = ~straight & (dist(xy[last], a) + dist(xy[first], b)
                        < dist(xy[first], a) + dist(xy[last], b))
    if flip.any():
        f = np.flatnonzero(flip)
        idx = ranges(off[f], n[f])
        xy[idx] = xy[np.repeat(off[f] + off[f + 1] - 1, n[f]) - idx + np.repeat(off[f], n[f])]
    xy[first], xy[last] = a, b
    return off, xy


def _pairs(off: np.ndarray, xy: np.ndarray, eu: np.ndarray, ev: np.ndarray, length: np.ndarray,
           usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two directions of the same roads: edges ``ahead[k]`` and ``back[k]`` run between
    the same nodes, one each way, with the same length and the same vertices reversed."""
    import pandas as pd

    n = np.diff(off)
    lo, hi = np.minimum(eu, ev), np.maximum(eu, ev)
    is_lo = eu == lo
    c = (n - 1) // 2  # a middle vertex, the same one whichever way the edge is drawn
    mid = np.round(xy[off[:-1] + np.where(is_lo, c, n - 1 - c)], 3)
    cand = usable[eu[usable] != ev[usable]]
    loops = usable[eu[usable] == ev[usable]]
    keys = ["lo", "hi", "len", "n", "mx", "my"]
    df = pd.DataFrame({"lo": lo[cand], "hi": hi[cand], "len": np.round(length[cand], 3),
                       "n": n[cand], "mx": mid[cand, 0], "my": mid[cand, 1],
                       "fwd": is_lo[cand], "i": cand})
    df["rank"] = df.groupby([*keys, "fwd"], sort=False).cumcount()
    both = df[df["fwd"]].merge(df[~df["fwd"]], on=[*keys, "rank"], suffixes=("", "_b"))
    i, j = both["i"].to_numpy(np.int64), both["i_b"].to_numpy(np.int64)
    # loops (u == v, a handful): pair by hand
    free = loops.tolist()
    li, lj = [], []
    while free:
        p = free.pop(0)
        q = next((q for q in free if n[q] == n[p] and abs(length[p] - length[q]) <= _PAIR_LEN_M
                  and np.abs(xy[off[p]:off[p + 1]] - xy[off[q]:off[q + 1]][::-1]).max()
                  <= _PAIR_XY_M), None)
        if q is not None:
            free.remove(q)
            li.append(p)
            lj.append(q)
    i, j = np.concatenate([i, li]).astype(np.int64), np.concatenate([j, lj]).astype(np.int64)
    if not len(i):
        return i, j
    # check every vertex: the same road drawn the other way
    k = n[i]
    idx_i = ranges(off[i], k)
    idx_j = np.repeat(off[j] + k - 1, k) - (idx_i - np.repeat(off[i], k))
    err = np.maximum.reduceat(np.abs(xy[idx_i] - xy[idx_j]).max(axis=1),
                              np.concatenate([[0], np.cumsum(k)[:-1]]))
    ok = (err <= _PAIR_XY_M) & (np.abs(length[i] - length[j]) <= _PAIR_LEN_M) & (n[j] == k)
    return i[ok], j[ok]


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
