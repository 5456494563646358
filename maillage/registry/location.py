"""Where a point is: inside Martinique or not, and in which commune.

Two checks, as the registry's rules ask: the bounding box of settings, then the
island outline (union of the communes, widened by :data:`COAST_TOLERANCE_M` because
the outline is simplified and some seafront places fall just outside it). The
commune found is compared with the one the record states (a warning, not an error).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
from shapely import contains_xy, prepare
from shapely.geometry.base import BaseGeometry

from maillage import settings as settings_mod
from maillage.settings import CRS_MEASURE, CRS_STORE, MARTINIQUE_BBOX, Settings

#: Tolerance around the simplified coastline, in metres.
COAST_TOLERANCE_M = 300.0


@dataclass(frozen=True)
class Island:
    """The outline and communes, in the measuring CRS, ready for point tests."""

    outline: BaseGeometry  # EPSG:5490, widened by the tolerance
    communes: gpd.GeoDataFrame  # EPSG:5490: code_insee, nom, epci_court, geometry


def island(s: Settings | None = None) -> Island:
    """The island and communes of the settings' data folder (loaded once)."""
    return _island(s or settings_mod.get())


@lru_cache(maxsize=4)
def _island(s: Settings) -> Island:
    from geo import communes as communes_mod

    gdf = communes_mod.load(s)[["code_insee", "nom", "epci_court", "geometry"]].to_crs(CRS_MEASURE)
    outline = gdf.geometry.union_all().buffer(COAST_TOLERANCE_M)
    prepare(outline)
    return Island(outline, gdf.reset_index(drop=True))


def to_measure(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat arrays to EPSG:5490 metres."""
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=CRS_STORE).to_crs(CRS_MEASURE)
    return pts.x.to_numpy(), pts.y.to_numpy()


def in_bbox(lon: float, lat: float) -> bool:
    """Inside the Martinique bounding box of settings."""
    x0, y0, x1, y1 = MARTINIQUE_BBOX
    return x0 <= lon <= x1 and y0 <= lat <= y1


def locate(lon: np.ndarray, lat: np.ndarray, isl: Island | None = None
           ) -> tuple[np.ndarray, list[str | None]]:
    """For each point: inside the island (bool array) and the commune INSEE code (or None)."""
    isl = isl or island()
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    inside = np.array([in_bbox(a, b) for a, b in zip(lon, lat, strict=True)], dtype=bool)
    codes: list[str | None] = [None] * len(lon)
    if inside.any():
        x, y = to_measure(lon[inside], lat[inside])
        on_island = contains_xy(isl.outline, x, y)
        idx = np.flatnonzero(inside)
        inside[idx[~on_island]] = False
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=CRS_MEASURE)
        nearest = gpd.sjoin_nearest(pts, isl.communes[["code_insee", "geometry"]], how="left")
        nearest = nearest[~nearest.index.duplicated()]
        for k, code in zip(idx, nearest["code_insee"].to_numpy(), strict=True):
            if inside[k]:
                codes[k] = str(code)
    return inside, codes


def commune_names(isl: Island | None = None) -> dict[str, str]:
    """Official commune name by INSEE code."""
    isl = isl or island()
    return dict(zip(isl.communes["code_insee"], isl.communes["nom"], strict=True))
