"""What-if: add hypothetical points and remove places, incrementally from a baseline.

* adding points: one multi-source Dijkstra from the new points only, and the minimum
  with the baseline times (a new point can only bring a cell closer);
* removing places: only the cells whose nearest place was removed are recomputed,
  towards the places that remain (one Dijkstra).

The result equals a full recompute with the modified supply (tested), in a fraction
of the time. :func:`delta` tells, per commune/EPCI/island and threshold, who gains and
who loses coverage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import coverage, routing, snap
from analysis.coverage import MEASURES, Access, CoverageError
from analysis.graph import Graph
from analysis.snap import Snapped


@dataclass(frozen=True)
class Scenario:
    """Times after a what-if; rows ``>= n_supply`` of ``nearest`` are the added points."""

    seconds: np.ndarray
    nearest: np.ndarray
    added: Snapped | None
    removed: np.ndarray
    n_supply: int


def apply(g: Graph, base: Access, add_xy: np.ndarray | None = None,
          remove: Sequence[int] = (), max_snap_m: float = np.inf) -> Scenario:
    """Times from every cell once ``add_xy`` (EPSG:5490) are added and rows ``remove`` gone."""
    seconds, nearest = base.seconds.copy(), base.nearest.copy()
    n_supply = len(base.supply)
    removed = np.unique(np.asarray(remove, dtype=np.int64))
    if removed.size and (removed.min() < 0 or removed.max() >= n_supply):
        raise CoverageError("Lieu à retirer inconnu.")
    if removed.size:
        keep = base.usable.copy()
        keep[removed] = False
        hit = np.flatnonzero(np.isin(nearest, removed))
        if hit.size:
            t, w = coverage.nearest_times(g, base.supply, keep, base.cells.take(hit),
                                          base.access_s[hit])
            seconds[hit], nearest[hit] = t, w
    added = None
    if add_xy is not None and len(np.atleast_2d(add_xy)) and np.size(add_xy):
        added = snap.snap(g, np.atleast_2d(np.asarray(add_xy, dtype=np.float64)), max_snap_m)
        if not added.ok.all():
            far = float(added.dist[~added.ok].max())
            raise CoverageError(f"Un point ajouté est à {far:.0f} m de la route la plus proche, "
                                f"au-delà du maximum de {max_snap_m:.0f} m : rapprochez-le "
                                "d'une route.")
        finite = seconds[np.isfinite(seconds)]
        cutoff = float(finite.max()) if finite.size == len(seconds) else np.inf
        t, w = routing.nearest(g, added, base.cells, cutoff)
        t = t + base.access_s
        better = t < seconds
        seconds[better] = t[better]
        nearest[better] = n_supply + w[better]
    return Scenario(seconds, nearest, added, removed, n_supply)


def delta(before: np.ndarray, after: np.ndarray, dem: pd.DataFrame, minutes: Sequence[float],
          level: str = "commune") -> pd.DataFrame:
    """Who gains and who loses coverage, per group of ``level``, for each threshold.

    Columns: ``level, code, name, epci``, then ``<measure>_gain_<m>`` (newly within ``m``
    minutes), ``<measure>_loss_<m>`` (no longer within) and ``<measure>_net_<m>``.
    """
    minutes = coverage.check_minutes(minutes)
    gr, head = coverage._groups(dem, level)
    n = len(head)
    out: dict[str, np.ndarray] = {}  # joined once (see coverage.table)
    weights = {m: dem[m].to_numpy() for m in [*MEASURES, "weight"]}
    for t in minutes:
        s = t * 60.0
        gain = (before > s) & (after <= s)
        loss = (before <= s) & (after > s)
        lab = coverage.minute_label(t)
        for m, w in weights.items():
            out[f"{m}_gain_{lab}"] = np.bincount(gr, weights=w * gain, minlength=n)
            out[f"{m}_loss_{lab}"] = np.bincount(gr, weights=w * loss, minlength=n)
            out[f"{m}_net_{lab}"] = out[f"{m}_gain_{lab}"] - out[f"{m}_loss_{lab}"]
    return pd.concat([head, pd.DataFrame(out, index=head.index)], axis=1)


def deltas(before: np.ndarray, after: np.ndarray, dem: pd.DataFrame,
           minutes: Sequence[float]) -> pd.DataFrame:
    """:func:`delta` for communes, EPCI and the island, stacked."""
    return pd.concat([delta(before, after, dem, minutes, lv) for lv in coverage.LEVELS],
                     ignore_index=True)


def french(tab: pd.DataFrame, minutes: Sequence[float]) -> pd.DataFrame:
    """A :func:`delta` table with French headers."""
    cols = {"name": "Territoire", "epci": "EPCI"}
    for t in coverage.check_minutes(minutes):
        lab = coverage.minute_label(t)
        for m, label in MEASURES.items():
            cols[f"{m}_gain_{lab}"] = f"{label} nouvellement à {lab} min ou moins"
            cols[f"{m}_loss_{lab}"] = f"{label} qui perdent l'accès à {lab} min"
    return tab[list(cols)].rename(columns=cols).round(1)
