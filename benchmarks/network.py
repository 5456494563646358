"""Road-network benchmark: Maillage's engine beside osmnx/networkx, measured in the same run.

Run: ``.venv/bin/python -m benchmarks.network`` (add ``--quick`` for 20 sites instead of 200).
Results go to docs/benchmarks.md, section "Réseau routier".

1. graph build from the mirror, cold (engine: read + build + cache; osmnx: GeoJSON read,
   ``graph_from_gdfs``, ``simplify_graph``, largest strongly connected component);
2. load from cache (engine ``.npz`` + KD-tree; osmnx ``load_graphml``);
3. one 3-band isochrone, walk and drive (engine; networkx Dijkstra + buffer/union of the
   reached edges, the classic osmnx recipe); same node times checked;
4. matrix 200 random sites x all grid cells, 30-min cutoff, drive (engine; networkx
   single-source Dijkstra per site on the same graph with the same virtual points; best of
   3 runs for the engine, of 2 for networkx);
   identical times checked.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import networkx as nx
import numpy as np
import shapely

from analysis import graph, isochrone, routing, snap
from geo import fetch, graphs, population, roads
from maillage import settings


def _timed(fn, repeat: int = 1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cœurs ({cpu}), {mem / 1024**2:.0f} Gio de RAM, Python "
            f"{platform.python_version()} ; charge moyenne (1, 5, 15 min) à la fin : {load}")


# --------------------------------------------------------------------------- osmnx side


def osmnx_build(path: Path):
    """The same island graph the osmnx way: segment graph, simplified, largest SCC."""
    import geopandas as gpd
    import osmnx as ox

    gdf = gpd.read_file(f"/vsigzip/{path}", engine="pyogrio")
    coords, idx = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    key = np.round(coords * 1e7).astype(np.int64)
    _, nid = np.unique(key, axis=0, return_inverse=True)
    nid = nid.ravel()
    same = idx[1:] == idx[:-1]
    a, b = nid[:-1][same], nid[1:][same]
    seg_way = idx[:-1][same]
    keep = a != b
    a, b, seg_way = a[keep], b[keep], seg_way[keep]
    nodes = gpd.GeoDataFrame({"x": coords[:, 0], "y": coords[:, 1]}, index=nid,
                             geometry=gpd.points_from_xy(coords[:, 0], coords[:, 1]),
                             crs="EPSG:4326")
    nodes = nodes[~nodes.index.duplicated()]
    nodes.index.name = "osmid"
    p0, p1 = coords[:-1][same][keep], coords[1:][same][keep]
    lines = shapely.linestrings(np.stack([p0, p1], axis=1))
    lengths = shapely.length(gpd.GeoSeries(lines, crs="EPSG:4326").to_crs(5490).values)
    speed = np.array([settings.DRIVE_SPEEDS_KMH[c] for c in gdf["roadClass"]])[seg_way]
    u, v = np.r_[a, b], np.r_[b, a]
    edges = gpd.GeoDataFrame({
        "u": u, "v": v, "key": 0, "length": np.r_[lengths, lengths],
        "travel_time": np.r_[lengths, lengths] / (np.r_[speed, speed] / 3.6),
        "highway": np.r_[gdf["roadClass"].to_numpy()[seg_way]] .tolist() * 2,
        "oneway": False, "reversed": np.r_[np.zeros(len(a), bool), np.ones(len(a), bool)],
    }, geometry=np.r_[lines, shapely.reverse(lines)], crs="EPSG:4326")
    edges = edges.drop_duplicates(subset=["u", "v"]).set_index(["u", "v", "key"])
    G = ox.graph_from_gdfs(nodes, edges, graph_attrs={"crs": "EPSG:4326"})
    G = ox.simplify_graph(G, edge_attrs_differ=["highway"])
    return ox.truncate.largest_component(G, strongly=True)


def nx_digraph(g: graph.Graph) -> nx.DiGraph:
    """networkx DiGraph of the engine's own graph (fastest of parallel arcs)."""
    coo = g.csr.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                  strict=True), weight="w")
    return G


def with_points(G: nx.DiGraph, g: graph.Graph, src: snap.Snapped, tgt: snap.Snapped):
    """Copy of G with virtual source/target nodes, as the engine inserts them."""
    H = G.copy()

    def part(f, w):
        return np.where(f == 0, 0.0, f * w)

    def add(a, b, w):
        for x, y, z in zip(a, b, w.tolist(), strict=True):
            if np.isfinite(z) and (not H.has_edge(x, y) or H[x][y]["w"] > z):
                H.add_edge(x, y, w=z)

    se, sf, te, tf = src.edge, src.ft, tgt.edge, tgt.ft
    S = [("s", i) for i in range(len(src))]
    T = [("t", j) for j in range(len(tgt))]
    add(S, g.edge_v[se].tolist(), part(1 - sf, g.edge_fwd[se]))
    add(S, g.edge_u[se].tolist(), part(sf, g.edge_bwd[se]))
    add(g.edge_u[te].tolist(), T, part(tf, g.edge_fwd[te]))
    add(g.edge_v[te].tolist(), T, part(1 - tf, g.edge_bwd[te]))
    i, j = routing.same_edge_pairs(se, te)
    add([S[k] for k in i], [T[k] for k in j], routing.direct(g, sf[i], tf[j], te[j]))
    return H


def nx_isochrone(G, g: graph.Graph, origin: snap.Snapped, minutes, buffer_m: float, land):
    """Classic recipe: Dijkstra with cutoff, then buffer and union the reached edges."""
    H = with_points(G, g, origin, snap.Snapped(*(a[:0] for a in (
        origin.edge, origin.ft, origin.fl, origin.xy, origin.dist, origin.ok))))
    times = nx.single_source_dijkstra_path_length(H, ("s", 0), cutoff=minutes[-1] * 60,
                                                  weight="w")
    d = np.full(g.n_nodes, np.inf)
    reached = [k for k in times if isinstance(k, int)]
    d[reached] = [times[k] for k in reached]
    lines = shapely.linestrings(g.geom_xy, indices=g.geom_edge)
    polys, prev = [], None
    for m in minutes:
        ok = (d[g.edge_u] <= m * 60) | (d[g.edge_v] <= m * 60)
        area = shapely.intersection(shapely.union_all(shapely.buffer(lines[ok], buffer_m)), land)
        polys.append(area if prev is None else shapely.difference(area, prev))
        prev = area
    return d, polys


# --------------------------------------------------------------------------- run


def run(n_sites: int) -> list[tuple[str, float, float, str]]:
    s0 = settings.get()
    rows: list[tuple[str, float, float, str]] = []
    path = fetch.resolve("roads_mirror", s0).path
    with tempfile.TemporaryDirectory() as tmp:
        s = replace(s0, data_dir=Path(tmp))
        t_eng, g = _timed(lambda: graphs.load("drive", s, rebuild=True))
        t_ox, G_ox = _timed(lambda: osmnx_build(path))
        rows.append(("Construction du graphe voiture depuis le miroir (à froid)", t_eng, t_ox,
                     f"moteur {g.n_nodes} nœuds ; osmnx {G_ox.number_of_nodes()} nœuds"))
        import osmnx as ox

        gml = Path(tmp) / "drive.graphml"
        ox.save_graphml(G_ox, gml)
        npz = next((s.build_dir / "graphs").glob("drive-*.npz"))

        def load_engine():
            h = graphs.from_bytes(npz.read_bytes())
            h.tree  # noqa: B018
            return h

        t_eng, _ = _timed(load_engine, repeat=3)
        t_ox, _ = _timed(lambda: ox.load_graphml(gml))
        rows.append(("Chargement depuis le cache (.npz + KD-tree ; GraphML)", t_eng, t_ox, ""))

    land = roads.island(s0)
    fdf = snap.to_xy([[-61.0733, 14.6036]])
    for mode, minutes in (("walk", [5, 10, 15]), ("drive", [5, 10, 15]),
                          ("drive", [10, 20, 30])):
        gm = graphs.load(mode, s0)
        gm.tree  # noqa: B018
        o = snap.snap(gm, fdf)
        t_eng, bands = _timed(lambda gm=gm, o=o, minutes=minutes: isochrone.isochrones(
            gm, o, minutes, land=land), repeat=5)
        G = nx_digraph(gm)
        t_nx, (d_nx, polys) = _timed(lambda G=G, gm=gm, o=o, minutes=minutes, mode=mode:
                                     nx_isochrone(G, gm, o, minutes, isochrone.BUFFER_M[mode],
                                                  land))
        d_eng = routing.from_points(gm, o, minutes[-1] * 60)
        same = np.allclose(d_eng, d_nx, atol=1e-6, rtol=0) and np.array_equal(
            np.isfinite(d_eng), np.isfinite(d_nx))
        areas = " / ".join(f"{a:.1f}" for a in bands["area_km2"])
        areas_nx = " / ".join(f"{p.area / 1e6:.1f}" for p in polys)
        rows.append((f"Isochrone 3 bandes {mode} {minutes} min (Fort-de-France)", t_eng, t_nx,
                     f"temps aux nœuds identiques : {'oui' if same else 'NON'} ; km² "
                     f"moteur {areas}, recette tampon {areas_nx}"))

    g = graphs.load("drive", s0)
    g.tree  # noqa: B018
    grid = population.load_grid(s0)
    cells = snap.snap(g, grid[["x", "y"]].to_numpy())
    rng = np.random.default_rng(42)
    sites = cells.take(rng.choice(np.flatnonzero(cells.ok), n_sites, replace=False))
    t_eng, M = _timed(lambda: routing.matrix(g, sites, cells, cutoff=1800), repeat=3)
    G = with_points(nx_digraph(g), g, sites, cells)

    def nx_matrix():
        out = np.full((len(sites), len(cells)), np.inf)
        for i in range(len(sites)):
            lengths = nx.single_source_dijkstra_path_length(G, ("s", i), cutoff=1800,
                                                            weight="w")
            for j in range(len(cells)):
                out[i, j] = lengths.get(("t", j), np.inf)
        return out

    t_nx, M_nx = _timed(nx_matrix, repeat=2)  # best of 2, as the engine gets its best of 3
    same = np.array_equal(np.isfinite(M), np.isfinite(M_nx)) and np.allclose(
        M[np.isfinite(M)], M_nx[np.isfinite(M_nx)], atol=1e-6, rtol=0)
    rows.append((f"Matrice {n_sites} sites × {len(cells)} carreaux, coupure 30 min (voiture)",
                 t_eng, t_nx, f"résultats identiques (1e-6 s) : {'oui' if same else 'NON'} ; "
                 f"{np.isfinite(M).mean():.0%} des paires atteintes"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 sites au lieu de 200")
    args = parser.parse_args()
    rows = run(20 if args.quick else 200)
    print(f"Machine : {machine()}")
    print("| mesure | Maillage (s) | osmnx/networkx (s) | rapport | note |")
    print("|---|---:|---:|---:|---|")
    for name, eng, ref, note in rows:
        print(f"| {name} | {eng:.3f} | {ref:.3f} | {ref / eng:.0f}× | {note} |")


if __name__ == "__main__":
    main()
