"""« Trouver un point numérique »: the finder service shared by the CLI, the page and the benchmark.

:class:`Finder` loads once what every query needs (search index, public places, the
walk and drive graphs with the places snapped on them, the island's outline) and
answers queries without keeping anything about who asked: no query is logged or
stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from analysis import finder, geocode
from geo.errors import MaillageError
from maillage import fmt
from maillage import settings as settings_mod
from maillage.settings import Settings


class PlaceUnknown(MaillageError):
    """A place id that is not (or no longer) in the registry."""


@dataclass
class Finder:
    """Everything needed to answer « where is the nearest help? » (read-only, shareable)."""

    index: geocode.Index
    places: pd.DataFrame  # public columns + lon, lat (see geo.public_places)
    nets: dict[str, finder.Network]
    land: Any  # shapely geometry of the island in EPSG:5490 (None: box check only)
    max_snap_m: float = finder.MAX_SNAP_M

    @classmethod
    def load(cls, s: Settings | None = None) -> Finder:
        """Load the data of the island (about 2 s; do it once per process)."""
        from geo import addresses, graphs, public_places
        from geo import communes as communes_mod

        s = s or settings_mod.get()
        places = public_places.load(s)
        comm = communes_mod.load(s)
        index = addresses.index(s, places, comm, roads=True)
        lonlat = places[["lon", "lat"]].to_numpy(dtype=np.float64)
        nets = {m: finder.prepare(graphs.load(m, s), lonlat, m, s.max_snap_m) for m in finder.MODES}
        land = comm.to_crs(settings_mod.CRS_MEASURE).union_all()
        return cls(index=index, places=places, nets=nets, land=land, max_snap_m=s.max_snap_m)

    # ------------------------------------------------------------------ search

    def suggest(self, query: str, limit: int = 6) -> list[geocode.Suggestion]:
        """Suggestions for what is being typed (empty for a blank query)."""
        if not geocode.normalize(query):
            return []
        return geocode.search(self.index, query, limit)

    def locate(self, query: str) -> geocode.Suggestion:
        """The best match of ``query`` or a French error."""
        return geocode.locate(self.index, query)

    def nearby(self, query: str, limit: int = 5) -> geocode.Fallback | None:
        """When nothing matches: the streets and places of the commune the query names
        closest to it, then the commune (see :func:`analysis.geocode.fallback`)."""
        if not geocode.normalize(query):
            return None
        return geocode.fallback(self.index, query, limit)

    # ------------------------------------------------------------------ places

    def row_of(self, place_id: str) -> int:
        """Row of the place ``place_id`` in :attr:`places`."""
        hit = np.flatnonzero(self.places["id"].to_numpy() == place_id)
        if not len(hit):
            raise PlaceUnknown(f"Ce lieu (« {place_id} ») n'est plus dans l'annuaire.")
        return int(hit[0])

    def answer(self, lon: float, lat: float, k: int = 5, order: str = "auto") -> finder.Answer:
        """The ``k`` nearest places by travel time (see :func:`analysis.finder.find`)."""
        if not len(self.places):
            raise finder.NoPlaceInReach("L'annuaire des lieux d'aide est vide pour le moment.")
        return finder.find(self.nets, lon, lat, k=k, order=order, land=self.land,
                           max_snap_m=self.max_snap_m)

    def route(self, answer: finder.Answer, row: int, mode: str) -> finder.Route:
        """The line of the fastest way to place ``row``."""
        return finder.route(self.nets, answer, row, mode)

    def results(self, answer: finder.Answer, when: datetime | None = None) -> list[dict]:
        """The options as public details with times and distances (plain text, JSON-ready)."""
        from geo import public_places

        out = []
        for rank, opt in enumerate(answer.options, start=1):
            d = public_places.details(self.places.iloc[opt.place], when)
            d["rang"] = rank
            d["horaires_fr"] = public_places.hours_fr(d["horaires"])
            for mode, name in (("walk", "a_pied"), ("drive", "en_voiture")):
                d[name] = {"minutes": _minutes(opt.seconds[mode]),
                           "metres": _round(opt.metres[mode])}
            out.append(d)
        return out

    def report(self, query: str | None, answer: finder.Answer, origin_label: str,
               when: datetime | None = None) -> dict:
        """The whole answer as one JSON-ready dict (what ``maillage trouver --json`` prints)."""
        return {
            "requete": query,
            "point": {"libelle": origin_label, "lon": round(answer.lon, 6),
                      "lat": round(answer.lat, 6)},
            "classement": answer.order,
            "lieux": self.results(answer, when),
            "passages_atelier_mobile": van_visits(answer.lon, answer.lat, when),
        }


def _minutes(seconds: float) -> int | None:
    """Whole minutes, at least 1; None when out of reach."""
    return max(1, math.ceil(seconds / 60.0)) if np.isfinite(seconds) else None


def _round(metres: float) -> int | None:
    return round(metres) if np.isfinite(metres) else None


def van_visits(lon: float, lat: float, when: datetime | None = None,
               radius_m: float = 5000.0, limit: int = 3) -> list[dict] | None:
    """Next published visits of the mobile workshop within ``radius_m`` of a point.

    The soonest visit of each stop nearby, at most ``limit`` stops, soonest first (from
    :func:`maillage.tour_store.next_visits`, the van tours of #7). None when the tours
    cannot be read (module or tables missing).
    """
    from sqlalchemy.exc import SQLAlchemyError

    try:
        from maillage import tour_store
    except ImportError:  # pragma: no cover - the tours are part of the product
        return None
    try:
        rows = tour_store.next_visits(when, near=(lon, lat), radius_m=radius_m, limit=1)
    except (MaillageError, SQLAlchemyError):
        return None
    rows = rows.sort_values("starts_at").head(limit)
    return [{"lieu": fmt.text(r["stop_name"]), "adresse": fmt.text(r.get("address")),
             "debut": r["starts_at"].isoformat(), "fin": r["ends_at"].isoformat(),
             "distance_m": round(float(r["distance_m"])),
             "lon": float(r["lon"]), "lat": float(r["lat"])} for _, r in rows.iterrows()]
