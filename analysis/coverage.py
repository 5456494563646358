"""Coverage: how long every populated 200 m cell takes to reach its nearest place, as tables.

Model (all vectorised):

* **demand** — one row per populated cell (:func:`demand`): people, 65+, 80+, poor
  households and a *weight* chosen by the planner (people, seniors, poor households,
  or people × IRIS fragility / 100);
* **supply** — points in EPSG:5490 (registry places, mobile-workshop stops, hypothetical
  points); each is snapped to the road graph and left out when farther than
  ``max_snap_m`` (:attr:`Access.usable`);
* **time of a cell** = walk from the cell centre to the nearest road at walking pace
  (the *access leg*, also in drive mode) + the network time from that road position to the
  nearest usable place (one multi-source Dijkstra on the reversed graph,
  :func:`analysis.routing.nearest`). Unreachable is ``inf``;
* **tables** (:func:`table`) — per commune, EPCI or island: totals, the part of each
  measure within each threshold (counts and %), and the weighted median and 90th
  percentile of the travel time. Counts add up exactly from communes to EPCI to island.

Times are seconds inside; the tables give minutes.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import routing, snap
from analysis.graph import Graph
from analysis.snap import Snapped
from maillage.errors import MaillageError

#: Counted measures of a cell → French label (the tables give each within every threshold).
MEASURES: dict[str, str] = {
    "population": "Habitants",
    "seniors": "65 ans et plus",
    "age_80p": "80 ans et plus",
    "poor_households": "Ménages pauvres",
}
#: Weights the planner may choose → French label.
WEIGHTS: dict[str, str] = {
    "population": "Habitants",
    "seniors": "65 ans et plus",
    "poor": "Ménages pauvres",
    "fragility": "Habitants pondérés par la fragilité numérique",
}
#: Default thresholds (minutes) by mode: walking first.
DEFAULT_MINUTES: dict[str, tuple[float, ...]] = {"walk": (10, 15, 20, 30), "drive": (10, 20)}
#: Levels of the tables, finest first.
LEVELS = ("commune", "epci", "island")
ISLAND_CODE = "972"
ISLAND_NAME = "Martinique"

_DEMAND_COLUMNS = ["cell_id", "code_insee", "commune", "epci", *MEASURES, "weight", "x", "y"]


class CoverageError(MaillageError):
    """Coverage cannot be computed as asked (no place, bad weight, bad threshold)."""


# --------------------------------------------------------------------------- demand


def demand(grid: pd.DataFrame, communes: pd.DataFrame, weight: str = "population",
           fragility: pd.Series | None = None) -> pd.DataFrame:
    """Populated cells with their commune, EPCI, measures and the chosen ``weight``.

    ``grid`` has the columns of :func:`geo.population.load_grid`; ``communes`` at least
    ``code_insee, nom, epci_court``. ``fragility`` (same index as ``grid``, 100 = island
    average) is needed for ``weight="fragility"``; a cell without a score counts 100.
    """
    if weight not in WEIGHTS:
        raise CoverageError(f"Pondération inconnue : « {weight} ». Choisissez parmi : "
                            f"{', '.join(WEIGHTS)}.")
    cells = grid[grid["population"] > 0]
    names = communes.set_index("code_insee")
    df = pd.DataFrame({
        "cell_id": cells["cell_id"].astype(str).to_numpy(),
        "code_insee": cells["code_insee"].astype(str).to_numpy(),
    })
    df["commune"] = df["code_insee"].map(names["nom"]).fillna(df["code_insee"]).to_numpy()
    df["epci"] = df["code_insee"].map(names["epci_court"]).fillna("").to_numpy()
    for m in MEASURES:
        df[m] = cells[m].to_numpy(dtype=np.float64)
    if weight == "fragility":
        if fragility is None:
            raise CoverageError("La pondération par la fragilité demande l'indice de fragilité "
                                "numérique par carreau.")
        score = fragility.reindex(cells.index).fillna(100.0).to_numpy(dtype=np.float64)
        df["weight"] = df["population"] * score / 100.0
    else:
        df["weight"] = df[{"poor": "poor_households"}.get(weight, weight)]
    df["x"] = cells["x"].to_numpy(dtype=np.float64)
    df["y"] = cells["y"].to_numpy(dtype=np.float64)
    return df[_DEMAND_COLUMNS]


# --------------------------------------------------------------------------- travel times


@dataclass(frozen=True)
class Access:
    """Travel time from every demand cell to its nearest usable supply point.

    ``seconds`` = ``access_s`` (cell centre → road, on foot) + network time;
    ``nearest`` is the supply row reached (-1 if none). Rows of ``supply`` whose
    ``usable`` is False (too far from a road) are never reached.
    """

    mode: str
    seconds: np.ndarray  # (n_cells,)
    nearest: np.ndarray  # (n_cells,) supply row or -1
    access_s: np.ndarray  # (n_cells,)
    cells: Snapped
    supply: Snapped
    usable: np.ndarray  # (n_supply,) bool
    walk_mps: float

    @property
    def network_s(self) -> np.ndarray:
        """The network part of the time (without the access leg)."""
        return self.seconds - self.access_s


def snap_cells(g: Graph, cell_xy: np.ndarray, walk_kmh: float) -> tuple[Snapped, np.ndarray]:
    """Cells snapped to ``g`` (never refused) and their access leg in seconds."""
    cells = snap.snap(g, np.asarray(cell_xy, dtype=np.float64))
    return cells, cells.dist / (walk_kmh / 3.6)


def nearest_times(g: Graph, supply: Snapped, usable: np.ndarray, cells: Snapped,
                  access_s: np.ndarray, cutoff: float = np.inf
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Seconds from each cell to its nearest usable supply row, and that row (-1 if none)."""
    rows = np.flatnonzero(usable)
    if rows.size == 0:
        return np.full(len(cells), np.inf), np.full(len(cells), -1, dtype=np.int64)
    t, which = routing.nearest(g, supply.take(rows), cells, cutoff)
    return t + access_s, np.where(which >= 0, rows[np.maximum(which, 0)], -1)


def compute(g: Graph, cell_xy: np.ndarray, supply_xy: np.ndarray, *, walk_kmh: float,
            max_snap_m: float, cells: tuple[Snapped, np.ndarray] | None = None) -> Access:
    """Nearest-place times of every cell on graph ``g`` (see the module docstring).

    ``cells`` reuses a previous :func:`snap_cells` result for the same cells and graph.
    """
    supply_xy = np.asarray(supply_xy, dtype=np.float64).reshape(-1, 2)
    if len(supply_xy) == 0:
        raise CoverageError("Aucun lieu ne correspond aux filtres choisis : élargissez la "
                            "sélection (tous les lieux, d'autres services ou types).")
    snapped_cells, access_s = cells if cells is not None else snap_cells(g, cell_xy, walk_kmh)
    supply = snap.snap(g, supply_xy, max_snap_m)
    if not supply.ok.any():
        raise CoverageError(f"Aucun des lieux choisis n'est à moins de {max_snap_m:.0f} m "
                            "d'une route : la couverture ne peut pas être calculée.")
    seconds, nearest = nearest_times(g, supply, supply.ok, snapped_cells, access_s)
    return Access(g.mode, seconds, nearest, access_s, snapped_cells, supply, supply.ok.copy(),
                  walk_kmh / 3.6)


# --------------------------------------------------------------------------- tables


def check_minutes(minutes: Sequence[float]) -> list[float]:
    """Sorted distinct positive thresholds, or a French error."""
    values = sorted({float(m) for m in minutes})
    if not values or any(not np.isfinite(m) or m <= 0 or m > 180 for m in values):
        raise CoverageError(f"Seuils invalides : {list(minutes)}. Donnez des minutes positives, "
                            "180 au plus.")
    return values


def minute_label(m: float) -> str:
    """``15`` for 15.0, ``7.5`` for 7.5 (used in column names)."""
    return f"{m:g}"


#: ``_groups`` of the last demand frames seen: (id, level) → (weak reference, result).
_GROUPS: dict[tuple[int, str], tuple[weakref.ref, tuple[np.ndarray, pd.DataFrame]]] = {}


def _groups(dem: pd.DataFrame, level: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code of every cell and the key table of the groups (in code order).

    Kept for the frames still alive (a service computes every table of a request on the
    same demand frame; callers never modify the result): the string matching cost a
    tenth of a what-if.
    """
    key = (id(dem), level)
    hit = _GROUPS.get(key)
    if hit is not None and hit[0]() is dem:
        return hit[1]
    out = _group_keys(dem, level)
    if len(_GROUPS) > 64:
        for k in [k for k, (ref, _) in _GROUPS.items() if ref() is None] or list(_GROUPS)[:32]:
            _GROUPS.pop(k, None)
    _GROUPS[key] = (weakref.ref(dem), out)
    return out


def _group_keys(dem: pd.DataFrame, level: str) -> tuple[np.ndarray, pd.DataFrame]:
    if level == "commune":
        keys = dem[["code_insee", "commune", "epci"]].drop_duplicates("code_insee")
        keys = keys.sort_values(["epci", "commune"]).reset_index(drop=True)
        code = pd.Index(keys["code_insee"]).get_indexer(dem["code_insee"])
        head = pd.DataFrame({"level": "commune", "code": keys["code_insee"],
                             "name": keys["commune"], "epci": keys["epci"]})
    elif level == "epci":
        names = sorted(dem["epci"].unique())
        code = pd.Index(names).get_indexer(dem["epci"])
        head = pd.DataFrame({"level": "epci", "code": names, "name": names, "epci": names})
    elif level == "island":
        code = np.zeros(len(dem), dtype=np.int64)
        head = pd.DataFrame({"level": ["island"], "code": [ISLAND_CODE], "name": [ISLAND_NAME],
                             "epci": [""]})
    else:
        raise CoverageError(f"Niveau inconnu : « {level} » (commune, epci ou island).")
    return np.asarray(code, dtype=np.int64), head


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, groups: np.ndarray,
                       n_groups: int, qs: Sequence[float]) -> np.ndarray:
    """Weighted quantiles of ``values`` within each group, shape (n_groups, len(qs)).

    The ``q`` quantile is the smallest value whose cumulated weight reaches ``q`` of the
    group's total; NaN for a group without weight. ``inf`` values sort last.
    """
    order = np.lexsort((values, groups))
    v, w, gr = values[order], weights[order], groups[order]
    cs = np.cumsum(w)
    total = np.bincount(gr, weights=w, minlength=n_groups)
    counts = np.bincount(gr, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    base = np.where(start > 0, cs[np.maximum(start - 1, 0)], 0.0)
    out = np.full((n_groups, len(qs)), np.nan)
    has = (counts > 0) & (total > 0)
    for k, q in enumerate(qs):
        target = base + q * total
        idx = np.searchsorted(cs, target * (1 - 1e-12), side="left")
        idx = np.clip(idx, start, start + np.maximum(counts - 1, 0))
        out[has, k] = v[idx[has]]
    return out


def table(seconds: np.ndarray, dem: pd.DataFrame, minutes: Sequence[float],
          level: str = "commune") -> pd.DataFrame:
    """Coverage per ``level`` (commune, epci or island) for the thresholds ``minutes``.

    Columns: ``level, code, name, epci, n_cells``, each measure's total (``population`` …
    ``weight``), ``<measure>_<m>`` (amount within ``m`` minutes) and
    ``<measure>_<m>_share`` (%), then ``median_min`` and ``p90_min`` (weighted by
    ``weight``; ``inf`` when that share of the weight reaches no place).
    """
    minutes = check_minutes(minutes)
    seconds = np.asarray(seconds, dtype=np.float64)
    gr, head = _groups(dem, level)
    n = len(head)
    # the columns are gathered first and joined once (one by one, pandas copies the
    # frame at each of the hundred columns)
    out: dict[str, np.ndarray] = {"n_cells": np.bincount(gr, minlength=n)}
    cols = [*MEASURES, "weight"]
    weights = {m: dem[m].to_numpy() for m in cols}
    totals = {m: np.bincount(gr, weights=weights[m], minlength=n) for m in cols}
    out.update(totals)
    for t in minutes:
        within = seconds <= t * 60.0
        lab = minute_label(t)
        for m in cols:
            amount = np.bincount(gr, weights=weights[m] * within, minlength=n)
            out[f"{m}_{lab}"] = amount
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{m}_{lab}_share"] = np.where(totals[m] > 0, 100 * amount / totals[m],
                                                   np.nan)
    q = weighted_quantiles(seconds, weights["weight"], gr, n, (0.5, 0.9))
    out["median_min"] = q[:, 0] / 60.0
    out["p90_min"] = q[:, 1] / 60.0
    return pd.concat([head, pd.DataFrame(out, index=head.index)], axis=1)


def tables(seconds: np.ndarray, dem: pd.DataFrame, minutes: Sequence[float]) -> pd.DataFrame:
    """The commune, EPCI and island tables stacked (communes first, island last)."""
    return pd.concat([table(seconds, dem, minutes, lv) for lv in LEVELS], ignore_index=True)


def curve(seconds: np.ndarray, dem: pd.DataFrame, minutes: Sequence[float],
          level: str = "epci", measure: str = "population") -> pd.DataFrame:
    """Share (%) of ``measure`` within each of ``minutes``, per group of ``level`` (long form).

    Columns: ``code, name, minutes, share``. One sort, no loop over cells.
    """
    gr, head = _groups(dem, level)
    n = len(head)
    grid_m = np.asarray(sorted(float(m) for m in minutes))
    w = dem[measure].to_numpy(dtype=np.float64)
    total = np.bincount(gr, weights=w, minlength=n)
    # bin every cell by the first threshold it is within, then cumulate
    b = np.searchsorted(grid_m * 60.0, np.asarray(seconds, dtype=np.float64), side="left")
    hist = np.zeros((n, len(grid_m) + 1))
    np.add.at(hist, (gr, b), w)
    cum = np.cumsum(hist[:, :-1], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[:, None] > 0, 100 * cum / total[:, None], np.nan)
    return pd.DataFrame({
        "code": np.repeat(head["code"].to_numpy(), len(grid_m)),
        "name": np.repeat(head["name"].to_numpy(), len(grid_m)),
        "minutes": np.tile(grid_m, n),
        "share": share.ravel(),
    })


def _french_columns(minutes: Sequence[float], weight: str, shares: bool,
                    ) -> tuple[dict[str, str], list[str]]:
    """Column → French header of :func:`french`, and the headers that count people or
    households (whole numbers in a download)."""
    minutes = check_minutes(minutes)
    cols = {"name": "Territoire", "epci": "EPCI"}
    counts: list[str] = []
    measures = dict(MEASURES)
    if weight == "fragility":
        measures["weight"] = WEIGHTS["fragility"]
    for m, label in measures.items():
        cols[m] = label
        counts.append(label)
        for t in minutes:
            lab = minute_label(t)
            cols[f"{m}_{lab}"] = f"{label} à {lab} min ou moins"
            counts.append(cols[f"{m}_{lab}"])
            if shares:
                cols[f"{m}_{lab}_share"] = f"{label} à {lab} min ou moins (%)"
    cols["median_min"] = "Temps médian (min)"
    cols["p90_min"] = "Temps du 9e décile (min)"
    return cols, counts


def french_counts(minutes: Sequence[float], weight: str = "population") -> list[str]:
    """The French headers of :func:`french` that count people or households."""
    return _french_columns(minutes, weight, True)[1]


def french(tab: pd.DataFrame, minutes: Sequence[float], weight: str = "population",
           shares: bool = True) -> pd.DataFrame:
    """``tab`` (from :func:`table`) with French headers, minutes rounded, ready to show."""
    cols, _ = _french_columns(minutes, weight, shares)
    out = tab[list(cols)].rename(columns=cols).copy()
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(1)
    return out


# --------------------------------------------------------------------------- diagnostics


def straight_line_gap(g: Graph, acc: Access, supply_xy: np.ndarray, cell_xy: np.ndarray,
                      weights: np.ndarray, tolerance_s: float = 1.0) -> dict[str, float]:
    """How often the straight-line nearest place is not the fastest one to reach.

    For every cell, the usable place nearest as the crow flies is compared with the
    fastest one: the cell counts when reaching the straight-line one takes more than
    ``tolerance_s`` longer. One reverse Dijkstra per place that is somebody's
    straight-line nearest (:func:`analysis.routing.matrix_to`, chunked). Returns the
    share of cells and of ``weights`` concerned (%) and the weighted mean extra time
    (minutes) among them.
    """
    from scipy.spatial import cKDTree

    rows = np.flatnonzero(acc.usable)
    _, k = cKDTree(np.asarray(supply_xy)[rows]).query(np.asarray(cell_xy))
    crow = rows[k]
    places, col = np.unique(crow, return_inverse=True)
    t_crow = np.empty(len(crow))
    for lo in range(0, len(places), routing.CHUNK):  # bounds the (cells × places) block
        mine = np.flatnonzero((col >= lo) & (col < lo + routing.CHUNK))
        chunk = acc.supply.take(places[lo:lo + routing.CHUNK])
        t = routing.matrix_to(g, acc.cells.take(mine), chunk)
        t_crow[mine] = t[np.arange(len(mine)), col[mine] - lo]
    net = acc.network_s
    worse = (t_crow > net + tolerance_s) & np.isfinite(net)
    w = np.asarray(weights, dtype=np.float64)
    extra = np.where(worse, np.minimum(t_crow, 1e9) - net, 0.0)
    return {
        "cells_pct": 100.0 * worse.mean(),
        "weight_pct": 100.0 * w[worse].sum() / w.sum(),
        "extra_min": float((extra * w).sum() / max(w[worse].sum(), 1e-9) / 60.0),
    }
