"""Snap points onto a road graph: an exact position on an edge, and how far the point was.

A KD-tree over the densified edge points (see :mod:`analysis.graph`) gives a few
candidate segments per point; the point is then projected exactly onto each and
the closest projection wins. Points farther than ``max_snap_m`` from any road
are *flagged* (``ok`` is False), never silently moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.graph import Graph
from maillage.errors import MaillageError

#: Candidate densified points examined per query point.
K_CANDIDATES = 12


class PointError(MaillageError):
    """A point the engine cannot use: malformed, outside Martinique, at sea or far from roads."""


@dataclass(frozen=True)
class Snapped:
    """Positions of points on a graph's edges (one row per input point)."""

    edge: np.ndarray  # (m,) edge index
    ft: np.ndarray  # (m,) time fraction from the edge's u
    fl: np.ndarray  # (m,) length fraction from u
    xy: np.ndarray  # (m, 2) snapped position, EPSG:5490
    dist: np.ndarray  # (m,) metres from the point to the road
    ok: np.ndarray  # (m,) False when farther than max_snap_m

    def __len__(self) -> int:
        return len(self.edge)

    def take(self, idx) -> Snapped:
        """The rows ``idx`` (index or mask)."""
        return Snapped(self.edge[idx], self.ft[idx], self.fl[idx], self.xy[idx], self.dist[idx],
                       self.ok[idx])


def to_xy(lonlat: np.ndarray) -> np.ndarray:
    """Longitude/latitude (EPSG:4326) to EPSG:5490 metres."""
    from pyproj import Transformer

    from maillage.settings import CRS_MEASURE, CRS_STORE

    lonlat = np.atleast_2d(np.asarray(lonlat, dtype=np.float64))
    tr = Transformer.from_crs(CRS_STORE, CRS_MEASURE, always_xy=True)
    return np.column_stack(tr.transform(lonlat[:, 0], lonlat[:, 1]))


def to_lonlat(xy: np.ndarray) -> np.ndarray:
    """EPSG:5490 metres to longitude/latitude."""
    from pyproj import Transformer

    from maillage.settings import CRS_MEASURE, CRS_STORE

    xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
    tr = Transformer.from_crs(CRS_MEASURE, CRS_STORE, always_xy=True)
    return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))


def snap(graph: Graph, xy: np.ndarray, max_snap_m: float = np.inf,
         k: int = K_CANDIDATES) -> Snapped:
    """Snap points given in EPSG:5490 onto ``graph`` (exact projection on the nearest segment)."""
    xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
    k = min(k, len(graph.pts_xy))
    _, cand = graph.tree.query(xy, k=k)
    cand = cand.reshape(len(xy), k)
    seg = graph.pts_seg[cand]  # (m, k) first vertex of each candidate segment
    a = graph.geom_xy[seg]
    b = graph.geom_xy[seg + 1]
    ab = b - a
    ap = xy[:, None, :] - a
    len2 = np.einsum("mkd,mkd->mk", ab, ab)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0, np.einsum("mkd,mkd->mk", ap, ab) / len2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    proj = a + t[..., None] * ab
    dist = np.hypot(*(xy[:, None, :] - proj).transpose(2, 0, 1))
    best = np.argmin(dist, axis=1)
    rows = np.arange(len(xy))
    s, tb = seg[rows, best], t[rows, best]
    ft = graph.geom_ft[s] + tb * (graph.geom_ft[s + 1] - graph.geom_ft[s])
    fl = graph.geom_fl[s] + tb * (graph.geom_fl[s + 1] - graph.geom_fl[s])
    d = dist[rows, best]
    return Snapped(edge=graph.geom_edge[s], ft=ft, fl=fl, xy=proj[rows, best], dist=d,
                   ok=d <= max_snap_m)


def parse_lonlat(text: str) -> tuple[float, float]:
    """``"LON,LAT"`` to floats, with a French message for anything else."""
    parts = str(text).replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lon, lat = float(parts[0]), float(parts[1])
    except ValueError:
        raise PointError(f"Coordonnées illisibles : « {text} ». Écrivez LON,LAT en degrés "
                         "décimaux, par exemple -61.07,14.61.") from None
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise PointError(f"Coordonnées illisibles : « {text} ».")
    return lon, lat


def check_in_martinique(lon: float, lat: float, land=None, label: str = "Le point") -> None:
    """Refuse a point outside Martinique's box or, when ``land`` is given, at sea."""
    from maillage.settings import MARTINIQUE_BBOX

    lon_min, lat_min, lon_max, lat_max = MARTINIQUE_BBOX
    if not (lon_min <= lon <= lon_max and lat_min <= lat <= lat_max):
        hint = " (avez-vous inversé longitude et latitude ?)" if (
            lon_min <= lat <= lon_max and lat_min <= lon <= lat_max) else ""
        raise PointError(f"{label} ({lon:.5f}, {lat:.5f}) est hors de la Martinique{hint}. "
                         f"Attendu : longitude entre {lon_min} et {lon_max}, latitude entre "
                         f"{lat_min} et {lat_max}.")
    if land is not None:
        import shapely

        x, y = to_xy([[lon, lat]])[0]
        if shapely.distance(land, shapely.Point(x, y)) > LAND_TOLERANCE_M:
            raise PointError(f"{label} ({lon:.5f}, {lat:.5f}) est en mer : choisissez un point "
                             "sur l'île.")


#: A point this close to the coast still counts as on land (piers, coarse coastline).
LAND_TOLERANCE_M = 150.0


def snap_checked(graph: Graph, lonlat: tuple[float, float], max_snap_m: float, land=None,
                 label: str = "Le point") -> Snapped:
    """Snap one point, raising a French :class:`PointError` when it cannot be used."""
    lon, lat = lonlat
    check_in_martinique(lon, lat, land, label)
    snapped = snap(graph, to_xy([[lon, lat]]), max_snap_m)
    if not snapped.ok[0]:
        raise PointError(f"{label} ({lon:.5f}, {lat:.5f}) est à {snapped.dist[0]:.0f} m de la "
                         f"route la plus proche, au-delà du maximum de {max_snap_m:.0f} m : "
                         "rapprochez-le d'une route.")
    return snapped
