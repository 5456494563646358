"""Isochrones: nested, non-overlapping time bands around one or many origins.

How (all vectorised, no loop over roads):

1. one multi-source Dijkstra gives the time at every junction; the time at
   every densified road point (≤ 20 m apart) follows exactly from its edge
   fraction, so partially reached edges end at the right place;
2. reached points are rasterised (cell ``cell_m``) keeping the minimum time per
   cell, then a minimum filter with a disk of radius ``buffer_m`` spreads each
   time around its road: the same as buffering the reached segments, for every
   threshold at once;
3. each cell gets its band (first threshold it is under) and ``contourpy``
   traces the band boundaries halfway between cells; bands come from one field,
   so they tile the plane without overlapping, and the union of the first ``k``
   bands is the ``k``-th isochrone;
4. bands are clipped to the island and, given the 200 m grid, get the
   population whose cell centroid they contain.

Geometries are in EPSG:5490; times in seconds inside, minutes in the columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import contourpy
import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage

from analysis import routing
from analysis.graph import Graph
from analysis.snap import Snapped
from maillage.errors import MaillageError

#: Distance around reached roads that counts as reached (metres), by mode.
BUFFER_M = {"walk": 60.0, "drive": 150.0}
#: Raster cell (metres) by mode: half the buffer keeps shapes smooth and the filter small.
CELL_M = {"walk": 30.0, "drive": 75.0}


class ThresholdError(MaillageError):
    """Thresholds that cannot make bands."""


def parse_minutes(text: str | Sequence[float]) -> list[float]:
    """``"5,10,15"`` (or numbers) to sorted, distinct, positive minutes; French errors."""
    items = text.split(",") if isinstance(text, str) else list(text)
    try:
        values = [float(str(x).strip()) for x in items if str(x).strip()]
    except ValueError:
        raise ThresholdError(f"Durées illisibles : « {text} ». Écrivez des minutes séparées par "
                             "des virgules, par exemple 5,10,15.") from None
    if not values or any(not np.isfinite(v) or v <= 0 for v in values):
        raise ThresholdError(f"Durées invalides : « {text} ». Il faut au moins une durée, "
                             "chacune positive.")
    if max(values) > 180:
        raise ThresholdError("Durée trop longue : 180 minutes au plus.")
    return sorted(set(values))


def point_times(g: Graph, origins: Snapped, cutoff_s: float) -> np.ndarray:
    """Seconds from the nearest origin to every densified road point (inf beyond cutoff)."""
    u, from_u, v, from_v = g.pts_reach
    d = routing.from_points(g, origins, cutoff_s)
    t = np.minimum(d[u] + from_u, d[v] + from_v)
    i, j = routing.same_edge_pairs(origins.edge, g.pts_edge)
    if len(i):  # points on an origin's own edge may be reached directly
        np.minimum.at(t, j, routing.direct(g, origins.ft[i], g.pts_ft[j], g.pts_edge[j]))
    t[t > cutoff_s] = np.inf
    return t


def _disk(radius_cells: int) -> np.ndarray:
    r = np.arange(-radius_cells, radius_cells + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius_cells**2 + 0.5


def band_field(xy: np.ndarray, times: np.ndarray, thresholds_s: np.ndarray, cell_m: float,
               buffer_m: float):
    """Raster of band indices (0..k, k = not reached) around the reached points.

    Returns (x centres, y centres, band index grid).
    """
    reached = times <= thresholds_s[-1]
    xy, times = xy[reached], times[reached]
    radius = max(1, round(buffer_m / cell_m))
    margin = (radius + 2) * cell_m
    # the lattice is global (multiples of cell_m), so rasters of different calls align
    x0, y0 = np.floor((xy.min(axis=0) - margin) / cell_m) * cell_m
    x1, y1 = xy.max(axis=0) + margin
    nx_, ny_ = int(np.ceil((x1 - x0) / cell_m)) + 1, int(np.ceil((y1 - y0) / cell_m)) + 1
    col = np.round((xy[:, 0] - x0) / cell_m).astype(np.int64)
    row = np.round((xy[:, 1] - y0) / cell_m).astype(np.int64)
    grid = np.full(ny_ * nx_, np.inf)
    np.minimum.at(grid, row * nx_ + col, times)
    grid = ndimage.minimum_filter(grid.reshape(ny_, nx_), footprint=_disk(radius),
                                  mode="constant", cval=np.inf)
    bands = np.searchsorted(thresholds_s, grid, side="left").astype(np.float64)
    return x0 + cell_m * np.arange(nx_), y0 + cell_m * np.arange(ny_), bands


def _polygons(xs: np.ndarray, ys: np.ndarray, bands: np.ndarray, k: int) -> list:
    """One (multi)polygon per band 0..k-1 traced halfway between cells."""
    gen = contourpy.contour_generator(xs, ys, bands, fill_type="ChunkCombinedOffsetOffset")
    out = []
    for b in range(k):
        points, offsets, outer = gen.filled(b - 0.5, b + 0.5)
        if points[0] is None or len(points[0]) == 0:
            out.append(shapely.MultiPolygon())
            continue
        geom = shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON, points[0],
            (offsets[0].astype(np.int64), outer[0].astype(np.int64),
             np.array([0, len(outer[0]) - 1])))[0]
        out.append(geom)
    return out


def _clip(geoms: np.ndarray, land) -> np.ndarray:
    """Bands ∩ land; contour polygons are repaired only if GEOS refuses them (rare, slow)."""
    shapely.prepare(land)
    try:
        return shapely.intersection(geoms, land)
    except shapely.errors.GEOSException:
        return shapely.intersection(shapely.make_valid(geoms), land)


def isochrones(g: Graph, origins: Snapped, minutes: Sequence[float], *, land=None,
               grid: gpd.GeoDataFrame | None = None, cell_m: float | None = None,
               buffer_m: float | None = None) -> gpd.GeoDataFrame:
    """Bands ``(prev, t]`` for each threshold of ``minutes`` around the nearest of ``origins``.

    ``land`` (EPSG:5490 geometry) clips the bands; ``grid`` (the 200 m population
    grid with centroid columns ``x``, ``y`` and ``population``) adds the population
    reached per band. Returns one row per band: ``band``, ``from_min``, ``to_min``,
    ``area_km2``, ``population``, ``population_cum`` and the geometry (EPSG:5490).
    """
    minutes = parse_minutes(minutes)
    thresholds = np.asarray(minutes) * 60.0
    cell_m = cell_m or CELL_M[g.mode]
    buffer_m = buffer_m or BUFFER_M[g.mode]
    times = point_times(g, origins, thresholds[-1])
    k = len(thresholds)
    if not np.isfinite(times).any():
        geoms = [shapely.MultiPolygon()] * k
    else:
        xs, ys, bands = band_field(g.pts_xy, times, thresholds, cell_m, buffer_m)
        geoms = _polygons(xs, ys, bands, k)
    geoms = np.asarray(geoms, dtype=object)
    if land is not None:
        geoms = _clip(geoms, land)
    frame = gpd.GeoDataFrame({
        "band": np.arange(k),
        "from_min": [0.0, *minutes[:-1]],
        "to_min": minutes,
        "area_km2": shapely.area(geoms) / 1e6,
    }, geometry=geoms, crs="EPSG:5490")
    if grid is not None:
        frame["population"] = population_in(geoms, grid)
        frame["population_cum"] = frame["population"].cumsum()
    return frame


def population_in(geoms: np.ndarray, grid) -> np.ndarray:
    """Population of the grid cells whose centroid (x, y in EPSG:5490) falls in each geometry."""
    x = np.asarray(grid["x"], dtype=np.float64)
    y = np.asarray(grid["y"], dtype=np.float64)
    pop = np.asarray(grid["population"], dtype=np.float64)
    out = np.zeros(len(geoms))
    for i, geom in enumerate(geoms):  # one vectorised test per band
        if geom is None or geom.is_empty:
            continue
        shapely.prepare(geom)
        out[i] = pop[shapely.contains_xy(geom, x, y)].sum()
    return out
