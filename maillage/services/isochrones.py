"""Isochrones: the areas reached in N minutes from one or more points, with their people.

One service for ``maillage isochrone`` and the Isochrones page (see the package
docstring for the pattern). Inputs are checked once by :meth:`IsochroneRequest.validated`;
both front ends snap with the same island outline, so a point at sea is refused alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np

from analysis import isochrone, snap
from analysis.graph import MODES, Graph, check_mode
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.settings import Settings

MODE_LABEL = {"walk": "à pied", "drive": "en voiture"}
#: Most origins one request may carry.
MAX_ORIGINS = 20


@dataclass(frozen=True)
class IsochroneRequest:
    """Origins (lon, lat), thresholds (minutes) and the mode."""

    origins: tuple[tuple[float, float], ...]
    minutes: tuple[float, ...]
    mode: str = "walk"

    @classmethod
    def from_text(cls, at: list[str] | tuple[str, ...], minutes: str, mode: str
                  ) -> IsochroneRequest:
        """The request of the CLI's ``--at LON,LAT … --minutes 5,10,15 --mode walk``."""
        return cls(tuple(snap.parse_lonlat(t) for t in at),
                   tuple(isochrone.parse_minutes(minutes)), mode).validated()

    def validated(self) -> IsochroneRequest:
        """The same request, checked (French errors), minutes sorted and distinct."""
        mode = check_mode(self.mode)
        if not self.origins:
            raise MaillageError("Indiquez au moins un point de départ (longitude,latitude).")
        if len(self.origins) > MAX_ORIGINS:
            raise MaillageError(f"Trop de points de départ : {MAX_ORIGINS} au plus.")
        for i, (lon, lat) in enumerate(self.origins, start=1):
            label = "Le point de départ" if len(self.origins) == 1 else f"L'origine {i}"
            snap.check_in_martinique(float(lon), float(lat), label=label)
        minutes = tuple(isochrone.parse_minutes(list(self.minutes)))
        origins = tuple((float(x), float(y)) for x, y in self.origins)
        return IsochroneRequest(origins, minutes, mode)


@dataclass
class IsochroneResult:
    """The bands (EPSG:5490): ``band, from_min, to_min, area_km2, population, population_cum``."""

    request: IsochroneRequest
    bands: gpd.GeoDataFrame
    snapped: list[tuple[float, float]] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per band (no geometry), rounded for people to read."""
        return self.bands.drop(columns="geometry").round(3).to_dict(orient="records")

    def frame(self) -> gpd.GeoDataFrame:
        """The bands in EPSG:4326 with the mode, for GeoJSON."""
        out = self.bands.to_crs(settings_mod.CRS_STORE)
        out["mode"] = self.request.mode
        return out

    def to_json(self) -> dict[str, Any]:
        """What ``maillage isochrone --json`` prints (besides the output file)."""
        return {"mode": self.request.mode, "bands": self.rows()}


class IsochroneService:
    """Graphs, land and population loaded once; answers any :class:`IsochroneRequest`."""

    def __init__(self, graphs: dict[str, Graph], land: Any, grid: Any, max_snap_m: float):
        self.graphs, self.land, self.grid, self.max_snap_m = graphs, land, grid, max_snap_m

    @classmethod
    def load(cls, s: Settings | None = None, modes: tuple[str, ...] = MODES
             ) -> IsochroneService:
        """Read the road graphs of ``modes``, the island and the 200 m cells."""
        from geo import graphs, population, roads

        s = s or settings_mod.get()
        grid = population.load_grid(s)[["x", "y", "population"]]
        return cls({m: graphs.load(m, s) for m in modes}, roads.island(s), grid, s.max_snap_m)

    def run(self, request: IsochroneRequest) -> IsochroneResult:
        """Snap the origins (refusing points at sea or far from a road) and draw the bands."""
        req = request.validated()
        g = self.graphs.get(req.mode)
        if g is None:
            raise MaillageError(f"Réseau « {req.mode} » non chargé.")
        pieces = []
        for i, lonlat in enumerate(req.origins, start=1):
            label = "Le point de départ" if len(req.origins) == 1 else f"L'origine {i}"
            pieces.append(snap.snap_checked(g, lonlat, self.max_snap_m, land=self.land,
                                            label=label))
        origins = snap.Snapped(*(np.concatenate([getattr(p, f) for p in pieces])
                                 for f in ("edge", "ft", "fl", "xy", "dist", "ok")))
        bands = isochrone.isochrones(g, origins, list(req.minutes), land=self.land,
                                     grid=self.grid)
        snapped = [tuple(map(float, xy)) for xy in snap.to_lonlat(origins.xy)]
        return IsochroneResult(req, bands, snapped)
