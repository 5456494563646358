"""White zones: populated cells beyond a travel-time threshold, grouped into contiguous zones.

Cells are placed on the 200 m grid from their INSEE ids (``CRS5490RES200mN<n>E<e>``);
two uncovered cells belong to the same zone when they share a side (``connectivity=4``)
or also a corner (``connectivity=8``, the default); optionally only within one commune
(``by_commune``), since where walking coverage is low the uncovered cells of the
urban belt form one zone across many communes. Unpopulated squares are not cells, so
they separate zones. Zones are the connected components of the sparse neighbour graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from analysis.coverage import MEASURES, weighted_quantiles
from maillage.errors import MaillageError

CELL_M = 200.0
_ID_PATTERN = r"N(?P<north>\d+)E(?P<east>\d+)$"
#: Zone status after a what-if, compared with the baseline.
STATUSES = {"gone": "disparaît", "shrunk": "réduite", "unchanged": "inchangée"}


def grid_index(cell_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(column, row) of each cell on the 200 m grid, from its id."""
    parts = pd.Series(list(cell_ids), dtype=str).str.extract(_ID_PATTERN)
    if parts.isna().any().any():
        raise MaillageError("Identifiant de carreau illisible : attendu "
                            "« CRS5490RES200mN<nord>E<est> ».")
    east = parts["east"].astype(np.int64).to_numpy()
    north = parts["north"].astype(np.int64).to_numpy()
    return east // int(CELL_M), north // int(CELL_M)


def label(col: np.ndarray, row: np.ndarray, mask: np.ndarray, connectivity: int = 8,
          split: np.ndarray | None = None) -> np.ndarray:
    """Zone number (0, 1, …) of every cell where ``mask`` is True, -1 elsewhere.

    Neighbours are found by looking the shifted grid keys up in the sorted keys of the
    masked cells; zones are the connected components of that sparse graph. With
    ``split`` (one code per cell, e.g. the commune), cells of different codes are
    never neighbours.
    """
    if connectivity not in (4, 8):
        raise MaillageError("Voisinage invalide : 4 (côtés) ou 8 (côtés et coins).")
    out = np.full(len(mask), -1, dtype=np.int64)
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return out
    c = col[idx].astype(np.int64)
    r = row[idx].astype(np.int64)
    width = int(r.max() - r.min()) + 3
    key = (c - c.min() + 1) * width + (r - r.min() + 1)
    order = np.argsort(key)
    sorted_key = key[order]
    offsets = [(1, 0), (0, 1)] + ([(1, 1), (1, -1)] if connectivity == 8 else [])
    src, dst = [], []
    for dc, dr in offsets:
        pos = np.searchsorted(sorted_key, key + dc * width + dr)
        pos = np.minimum(pos, len(sorted_key) - 1)
        found = sorted_key[pos] == key + dc * width + dr
        a, b = np.flatnonzero(found), order[pos[found]]
        if split is not None:
            codes = np.asarray(split)[idx]
            same = codes[a] == codes[b]
            a, b = a[same], b[same]
        src.append(a)
        dst.append(b)
    i, j = np.concatenate(src), np.concatenate(dst)
    adj = sparse.coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(idx.size,) * 2)
    _, lab = connected_components(adj, directed=False)
    out[idx] = lab
    return out


def zones(seconds: np.ndarray, dem: pd.DataFrame, minutes: float, connectivity: int = 8,
          by_commune: bool = False, index: tuple[np.ndarray, np.ndarray] | None = None
          ) -> tuple[np.ndarray, pd.DataFrame]:
    """The white zones beyond ``minutes``: the zone of every cell (-1 if covered) and a table.

    ``dem`` is :func:`analysis.coverage.demand`. Zones are ranked by ``weight`` (people by
    default), zone 1 first; the table has ``zone, n_cells``, the measures, ``weight``,
    ``communes`` (names, most people first), ``epci``, and the nearest-place time over the
    zone's cells: ``min_min``, ``median_min`` (weighted), ``max_min``.
    """
    seconds = np.asarray(seconds, dtype=np.float64)
    col, row = index if index is not None else grid_index(dem["cell_id"])
    split = dem["code_insee"].to_numpy() if by_commune else None
    raw = label(col, row, seconds > minutes * 60.0, connectivity, split)
    inside = raw >= 0
    n = int(raw.max()) + 1 if inside.any() else 0
    cols = [*MEASURES, "weight"]
    if n == 0:
        empty = pd.DataFrame(columns=["zone", "n_cells", *cols, "communes", "epci", "min_min",
                                      "median_min", "max_min"])
        return raw, empty
    z = raw[inside]
    sub = dem.loc[inside]
    t = seconds[inside]
    stats = {m: np.bincount(z, weights=sub[m].to_numpy(), minlength=n) for m in cols}
    tmin = np.full(n, np.inf)
    np.minimum.at(tmin, z, t)
    tmax = np.full(n, -np.inf)
    np.maximum.at(tmax, z, t)
    med = weighted_quantiles(t, sub["weight"].to_numpy() + 1e-9, z, n, (0.5,))[:, 0]
    # commune names per zone, most people first
    per = (pd.DataFrame({"z": z, "commune": sub["commune"].to_numpy(),
                         "epci": sub["epci"].to_numpy(), "p": sub["population"].to_numpy()})
           .groupby(["z", "commune", "epci"], as_index=False)["p"].sum()
           .sort_values(["z", "p"], ascending=[True, False]))
    communes = per.groupby("z")["commune"].agg(", ".join).reindex(range(n)).to_numpy()
    epci = per.drop_duplicates(["z", "epci"]).groupby("z")["epci"].agg(", ".join)
    table = pd.DataFrame({"raw": np.arange(n), "n_cells": np.bincount(z, minlength=n), **stats,
                          "communes": communes, "epci": epci.reindex(range(n)).to_numpy(),
                          "min_min": tmin / 60, "median_min": med / 60, "max_min": tmax / 60})
    table = table.sort_values(["weight", "population", "n_cells"], ascending=False,
                              kind="stable").reset_index(drop=True)
    rank = np.empty(n, dtype=np.int64)
    rank[table["raw"].to_numpy()] = np.arange(1, n + 1)
    table.insert(0, "zone", np.arange(1, n + 1))
    zone_of = np.where(inside, rank[np.maximum(raw, 0)], -1)
    return zone_of, table.drop(columns="raw")


def compare(zone_of: np.ndarray, before: pd.DataFrame, seconds_after: np.ndarray,
            dem: pd.DataFrame, minutes: float) -> pd.DataFrame:
    """What becomes of each baseline zone once times are ``seconds_after``.

    Columns: ``zone``, the measures and ``weight`` before and after (``<m>_after``,
    people still beyond ``minutes`` in the zone's cells), ``covered`` (people newly
    within) and ``status`` (``gone``, ``shrunk`` or ``unchanged``, see :data:`STATUSES`).
    """
    out = before[["zone", "communes", "n_cells", *MEASURES, "weight"]].copy()
    n = len(out)
    if n == 0:
        return out.assign(status=pd.Series(dtype=str), covered=pd.Series(dtype=float))
    inside = zone_of >= 0
    z = zone_of[inside] - 1
    still = np.asarray(seconds_after, dtype=np.float64)[inside] > minutes * 60.0
    for m in [*MEASURES, "weight"]:
        out[f"{m}_after"] = np.bincount(z, weights=dem[m].to_numpy()[inside] * still,
                                        minlength=n)
    cells_after = np.bincount(z, weights=still.astype(np.float64), minlength=n)
    out["n_cells_after"] = cells_after.astype(np.int64)
    out["covered"] = out["population"] - out["population_after"]
    out["status"] = np.where(cells_after == 0, "gone",
                             np.where(cells_after < out["n_cells"], "shrunk", "unchanged"))
    return out


def shapes(zone_of: np.ndarray, table: pd.DataFrame, cell_ids: Sequence[str],
           crs_measure: str = "EPSG:5490", crs_out: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """The zones as (multi)polygons: the union of their squares, with the table's columns."""
    inside = zone_of >= 0
    col, row = grid_index(np.asarray(cell_ids)[inside])
    squares = shapely.box(col * CELL_M, row * CELL_M, (col + 1) * CELL_M, (row + 1) * CELL_M)
    cells = gpd.GeoDataFrame({"zone": zone_of[inside]}, geometry=squares, crs=crs_measure)
    merged = cells.dissolve(by="zone", method="coverage").reset_index()
    gdf = table.merge(merged, on="zone", how="left")
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=crs_measure).to_crs(crs_out)
