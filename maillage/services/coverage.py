"""Coverage: who lives within N minutes of a place, the white zones, and what-ifs.

One service for ``maillage coverage`` and the Couverture page (see the package
docstring for the pattern). Both build the same :class:`CoverageRequest`, checked once
by :meth:`CoverageRequest.validated`, and show the same :class:`CoverageResult`:

* the demand is built from **one** fragility join per service (the IRIS index joined to
  the cells by :func:`geo.population.fragility_by_cell`), so the fragility weight gives
  one answer whichever front end asks;
* what is heavy is computed once per service instance and reused by later requests:
  the snapped cells per mode, today's (baseline) nearest-place times per (mode, places),
  the baseline tables and the baseline white zones with their outlines. The page keeps
  one service per process, so these caches are shared by every visitor; everything a
  :class:`CoverageResult` holds is read-only.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis import coverage, snap, whatif, white_zones
from analysis.graph import Graph, check_mode
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.settings import Settings

#: Place selections → French label (see :data:`geo.supply.SCOPES`).
PLACE_SCOPES = ("all", "labelled")
#: Neighbourhoods of the white zones' cells.
CONNECTIVITIES = (4, 8)

#: ``progress(fraction, French text)``: told how far :meth:`CoverageService.run` got.
Progress = Callable[[float, str], None]


def parse_minutes(text: str) -> tuple[float, ...]:
    """``"15"`` or ``"10,15"`` to sorted distinct minutes, with a French error."""
    try:
        values = [float(x) for x in str(text).replace(" ", "").split(",") if x]
    except ValueError:
        raise MaillageError(f"Durée illisible : « {text} ». Écrivez des minutes, par exemple "
                            "15 ou 10,15,20.") from None
    return tuple(coverage.check_minutes(values))


def _point_label(i: int, name: str) -> str:
    """How the French messages name the added point ``i`` (1-based)."""
    return f"Le point « {name} »" if name else f"Le point ajouté n° {i}"


@dataclass(frozen=True)
class CoverageRequest:
    """Every input of one coverage question.

    ``added`` are hypothetical points ``(lon, lat, name)`` (``name`` may be empty),
    ``removed`` ids of selected places taken away; the what-if is computed when either
    is given. ``zone_minutes`` is the threshold of the white zones (the first of
    ``minutes`` when None).
    """

    mode: str = "walk"
    minutes: tuple[float, ...] = (15.0,)
    weight: str = "population"
    places: str = "all"
    services: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    added: tuple[tuple[float, float, str], ...] = ()
    removed: tuple[str, ...] = ()
    zone_minutes: float | None = None
    connectivity: int = 8
    by_commune: bool = False
    with_stops: bool = False

    def validated(self) -> CoverageRequest:
        """The same request checked (French errors), normalised: minutes sorted and distinct,
        points as floats, the zone threshold filled in, removed ids without repeats."""
        mode = check_mode(self.mode)
        minutes = tuple(coverage.check_minutes(list(self.minutes)))
        if self.weight not in coverage.WEIGHTS:
            raise MaillageError(f"Pondération inconnue : « {self.weight} ». Choisissez parmi : "
                                f"{', '.join(coverage.WEIGHTS)}.")
        if self.places not in PLACE_SCOPES:
            raise MaillageError(f"Sélection de lieux inconnue : « {self.places} » "
                                "(all ou labelled).")
        if self.connectivity not in CONNECTIVITIES:
            raise MaillageError("Voisinage des zones blanches : 4 ou 8.")
        zone_minutes = (minutes[0] if self.zone_minutes is None
                        else coverage.check_minutes([self.zone_minutes])[0])
        added = []
        for i, point in enumerate(self.added, start=1):
            try:
                lon, lat, *rest = point
                lon, lat = float(lon), float(lat)
                name = str(rest[0]) if rest and rest[0] else ""
            except (TypeError, ValueError):
                raise MaillageError(f"Coordonnées illisibles pour le point ajouté n° {i}.") \
                    from None
            if not (math.isfinite(lon) and math.isfinite(lat)):
                raise MaillageError(f"Coordonnées illisibles pour le point ajouté n° {i}.")
            snap.check_in_martinique(lon, lat, label=_point_label(i, name))
            added.append((lon, lat, name))
        return replace(
            self, mode=mode, minutes=minutes, zone_minutes=float(zone_minutes),
            services=tuple(str(x) for x in self.services),
            kinds=tuple(str(x) for x in self.kinds), added=tuple(added),
            removed=tuple(dict.fromkeys(str(x) for x in self.removed)),
            connectivity=int(self.connectivity), by_commune=bool(self.by_commune),
            with_stops=bool(self.with_stops))

    @property
    def has_whatif(self) -> bool:
        """Whether points are added or places removed."""
        return bool(self.added or self.removed)


def records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (inf and NaN become null, numpy scalars plain Python)."""
    if isinstance(df, gpd.GeoDataFrame):
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
    rows = df.to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else
                 (v.item() if isinstance(v, np.generic) else v))
             for k, v in r.items()} for r in rows]


@dataclass(frozen=True)
class WhatIf:
    """The coverage once ``added`` points are open and the ``removed`` places closed.

    ``tables`` as :attr:`CoverageResult.tables`; ``delta`` who gains and who loses
    (:func:`analysis.whatif.deltas`); ``zones`` what becomes of each of today's white
    zones (:func:`analysis.white_zones.compare`).
    """

    added: tuple[tuple[float, float, str], ...]
    removed: tuple[str, ...]
    seconds: np.ndarray
    tables: pd.DataFrame
    delta: pd.DataFrame
    zones: pd.DataFrame


@dataclass(frozen=True)
class CoverageResult:
    """The answer to one :class:`CoverageRequest` (read-only: shared caches inside).

    ``places`` is the supply used (registry selection, plus the stops when asked),
    ``demand`` the populated cells (:func:`analysis.coverage.demand`, row order of every
    seconds array), ``baseline_seconds`` today's nearest-place time of every cell,
    ``tables`` the commune, EPCI and island tables of today (:func:`analysis.coverage.tables`),
    ``zones`` today's white zones beyond ``request.zone_minutes`` with their outlines
    (EPSG:4326) and ``zone_of`` the zone of every cell (-1: covered), ``whatif`` the
    scenario when points are added or places removed.
    """

    request: CoverageRequest
    places: gpd.GeoDataFrame
    n_places_usable: int
    demand: pd.DataFrame
    baseline_seconds: np.ndarray
    tables: pd.DataFrame
    zone_of: np.ndarray
    zones: gpd.GeoDataFrame
    whatif: WhatIf | None = None
    supply_key: str = ""

    @property
    def n_places(self) -> int:
        return len(self.places)

    @property
    def n_cells(self) -> int:
        return len(self.demand)

    @property
    def zone_minutes(self) -> float:
        return float(self.request.zone_minutes)

    @property
    def scenario_seconds(self) -> np.ndarray | None:
        """The nearest-place times with the what-if (None without one)."""
        return None if self.whatif is None else self.whatif.seconds

    @property
    def seconds_after(self) -> np.ndarray:
        """The times with the what-if when there is one, today's otherwise."""
        return self.baseline_seconds if self.whatif is None else self.whatif.seconds

    @property
    def tables_after(self) -> pd.DataFrame:
        """The tables with the what-if when there is one, today's otherwise."""
        return self.tables if self.whatif is None else self.whatif.tables

    def island(self, after: bool = True) -> pd.Series:
        """The island row of the tables (with the what-if when ``after`` and there is one)."""
        tab = self.tables_after if after else self.tables
        return tab[tab["level"] == "island"].iloc[0]

    def zone_table(self) -> pd.DataFrame:
        """Today's white zones without their outlines."""
        return pd.DataFrame(self.zones.drop(columns=self.zones.geometry.name))

    def to_json(self, zones_listed: int = 10) -> dict[str, Any]:
        """What ``maillage coverage --json`` prints: the ``zones_listed`` most weighted
        zones, and the zones a what-if changes."""
        r = self.request
        out: dict[str, Any] = {
            "mode": r.mode, "minutes": list(r.minutes), "weight": r.weight,
            "places": r.places, "n_places": self.n_places,
            "n_places_usable": self.n_places_usable, "n_cells": self.n_cells,
            "zones_minutes": self.zone_minutes,
            "tables": records(self.tables),
            "zones": records(self.zone_table().head(zones_listed)),
            "n_zones": len(self.zones),
        }
        if self.whatif is not None:
            w = self.whatif
            out["whatif"] = {
                "added": [[lon, lat] for lon, lat, _ in w.added],
                "removed": list(w.removed),
                "tables": records(w.tables),
                "delta": records(w.delta),
                "zones": records(w.zones[w.zones["status"] != "unchanged"]),
            }
        return out


def supply_key(sup: gpd.GeoDataFrame) -> str:
    """A fingerprint of the selected places (ids and positions), the key of the caches."""
    from geo import supply

    h = hashlib.sha256("|".join(sup["place_id"].astype(str)).encode())
    h.update(np.ascontiguousarray(supply.to_xy(sup)).tobytes())
    return h.hexdigest()[:16]


class _Memo:
    """A small thread-safe LRU memo (values computed outside the lock; a race only
    computes twice)."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value


def _quiet(_fraction: float, _text: str) -> None:
    pass


class CoverageService:
    """The island's cells, communes and places loaded once; answers any
    :class:`CoverageRequest`, reusing the heavy parts between requests."""

    def __init__(self, s: Settings, grid: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
                 places: gpd.GeoDataFrame, revision: str | None = None,
                 graph: Callable[[str], Graph] | None = None):
        self.settings = s
        self.grid = grid
        self.communes = communes
        self._places = (revision, places)
        self._graph_loader = graph
        self._lock = threading.Lock()
        self._graph_lock = threading.Lock()
        self._graphs: dict[str, Graph] = {}
        self._one = _Memo(64)  # fragility, demand per weight, cell index, snapped cells, land
        self._baseline = _Memo(16)  # (mode, supply key) → coverage.Access
        self._tables = _Memo(32)
        self._zones = _Memo(32)
        self._stops: tuple[str | None, gpd.GeoDataFrame] | None = None

    @classmethod
    def load(cls, s: Settings | None = None, *,
             graph: Callable[[str], Graph] | None = None) -> CoverageService:
        """Read the 200 m cells, the communes and the registry's places.

        The road graphs are read on first use of each mode, through ``graph`` when given
        (the page passes its process-wide graphs) else :func:`geo.graphs.load`.
        """
        from geo import communes, population, supply

        s = s or settings_mod.get()
        revision = _registry_revision(s)
        return cls(s, population.load_grid(s), communes.load(s), supply.places(s),
                   revision, graph)

    # ------------------------------------------------------------------ data

    def graph(self, mode: str) -> Graph:
        """The road graph of ``mode``, with its snapping index built."""
        mode = check_mode(mode)
        with self._graph_lock:
            g = self._graphs.get(mode)
            if g is None:
                if self._graph_loader is not None:
                    g = self._graph_loader(mode)
                else:
                    from geo import graphs

                    g = graphs.load(mode, self.settings)
                g.tree  # noqa: B018 - build the snapping index once
                self._graphs[mode] = g
        return g

    def places(self) -> gpd.GeoDataFrame:
        """Every located place of the registry, read again whenever the registry changed."""
        from geo import supply

        revision = _registry_revision(self.settings)
        with self._lock:
            known, frame = self._places
        if revision is None or revision != known:
            frame = supply.places(self.settings)
            with self._lock:
                self._places = (revision, frame)
        return frame

    def stops(self) -> gpd.GeoDataFrame:
        """The stops of the published mobile-workshop plans, read again whenever the tours
        changed (:func:`maillage.tour_store.revision`: a plan published by any process)."""
        from geo import supply

        revision = _tours_revision(self.settings)
        with self._lock:
            cached = self._stops
        if cached is not None and revision is not None and cached[0] == revision:
            return cached[1]
        frame = supply.workshop_stops(self.settings)
        with self._lock:
            self._stops = (revision, frame)
        return frame

    def supply(self, request: CoverageRequest) -> gpd.GeoDataFrame:
        """The places the request counts: its registry selection, plus the stops when asked."""
        from geo import supply

        sup = supply.select(self.places(), request.places, request.services, request.kinds)
        if request.with_stops:
            sup = pd.concat([sup, self.stops()], ignore_index=True)
        return sup

    def fragility(self) -> pd.Series:
        """The IRIS fragility score of every cell (index of :attr:`grid`), joined once."""
        from geo import population

        return self._one.get("fragility", lambda: population.fragility_by_cell(
            self.grid, population.load_ifn(self.settings)))

    def demand(self, weight: str) -> pd.DataFrame:
        """The populated cells with ``weight`` (:func:`analysis.coverage.demand`)."""
        def build() -> pd.DataFrame:
            frag = self.fragility() if weight == "fragility" else None
            return coverage.demand(self.grid, self.communes, weight, frag)

        return self._one.get(("demand", weight), build)

    def _cell_index(self) -> tuple[np.ndarray, np.ndarray]:
        # the cells are the same whatever the weight
        return self._one.get("cell_index", lambda: white_zones.grid_index(
            self.demand("population")["cell_id"]))

    def _cells(self, mode: str):
        def build():
            xy = self.demand("population")[["x", "y"]].to_numpy()
            return coverage.snap_cells(self.graph(mode), xy, self.settings.walk_kmh)

        return self._one.get(("cells", mode), build)

    def land(self):
        """Martinique's land (EPSG:5490), to refuse added points at sea."""
        from geo import roads

        return self._one.get("land", lambda: roads.island(self.settings))

    def baseline(self, mode: str, sup: gpd.GeoDataFrame, key: str | None = None
                 ) -> coverage.Access:
        """Today's nearest-place times of every cell for the places ``sup``."""
        key = key or supply_key(sup)

        def build() -> coverage.Access:
            from geo import supply

            s = self.settings
            xy = self.demand("population")[["x", "y"]].to_numpy()
            return coverage.compute(self.graph(mode), xy, supply.to_xy(sup),
                                    walk_kmh=s.walk_kmh, max_snap_m=s.max_snap_m,
                                    cells=self._cells(mode))

        return self._baseline.get((mode, key), build)

    # ------------------------------------------------------------------ answer

    def run(self, request: CoverageRequest, progress: Progress | None = None
            ) -> CoverageResult:
        """Answer ``request``; ``progress`` (optional) is told each step, in French."""
        req = request.validated()
        say = progress or _quiet
        sup = self.supply(req)
        if sup.empty and req.places == "labelled":
            raise MaillageError("Le registre ne compte encore aucun point numérique labellisé : "
                                "calculez la couverture de tous les lieux (--places all).")
        unknown = sorted(set(req.removed) - set(sup["place_id"]))
        if unknown:
            raise MaillageError(f"Lieu à retirer inconnu dans la sélection : {', '.join(unknown)} "
                                "(voir « maillage places list »).")
        say(0.0, "Chargement du réseau routier…")
        g = self.graph(req.mode)
        say(0.2, "Temps jusqu'au lieu le plus proche, pour chaque carreau…")
        key = supply_key(sup)
        acc = self.baseline(req.mode, sup, key)
        dem = self.demand(req.weight)
        say(0.5, "Tableaux par commune et EPCI…")
        base = (req.mode, key, req.weight)
        tabs = self._tables.get((*base, req.minutes),
                                lambda: coverage.tables(acc.seconds, dem, req.minutes))
        say(0.65, "Zones blanches…")
        zone_of, zones = self._zones.get(
            (*base, req.zone_minutes, req.connectivity, req.by_commune),
            lambda: self._white_zones(acc, dem, req))
        scenario = None
        if req.has_whatif:
            say(0.8, "Effet des hypothèses…")
            scenario = self._whatif(g, acc, sup, dem, zone_of, zones, req)
        say(1.0, "Terminé.")
        return CoverageResult(req, sup, int(acc.usable.sum()), dem, acc.seconds, tabs,
                              zone_of, zones, scenario, key)

    def _white_zones(self, acc: coverage.Access, dem: pd.DataFrame, req: CoverageRequest
                     ) -> tuple[np.ndarray, gpd.GeoDataFrame]:
        zone_of, table = white_zones.zones(acc.seconds, dem, req.zone_minutes,
                                           req.connectivity, req.by_commune,
                                           index=self._cell_index())
        return zone_of, white_zones.shapes(zone_of, table, dem["cell_id"])

    def _whatif(self, g: Graph, acc: coverage.Access, sup: gpd.GeoDataFrame,
                dem: pd.DataFrame, zone_of: np.ndarray, zones: gpd.GeoDataFrame,
                req: CoverageRequest) -> WhatIf:
        add_xy = None
        if req.added:
            land = self.land()
            for i, (lon, lat, name) in enumerate(req.added, start=1):
                snap.check_in_martinique(lon, lat, land, label=_point_label(i, name))
            add_xy = snap.to_xy(np.array([(lon, lat) for lon, lat, _ in req.added]))
        rows = np.flatnonzero(sup["place_id"].isin(req.removed).to_numpy())
        sc = whatif.apply(g, acc, add_xy, rows, self.settings.max_snap_m)
        return WhatIf(
            added=req.added, removed=req.removed, seconds=sc.seconds,
            tables=coverage.tables(sc.seconds, dem, req.minutes),
            delta=whatif.deltas(acc.seconds, sc.seconds, dem, req.minutes),
            zones=white_zones.compare(zone_of, zones, sc.seconds, dem, req.zone_minutes))


def _tours_revision(s: Settings) -> str | None:
    """The tours' fingerprint (None when it cannot be read: then always re-read)."""
    from maillage import tour_store

    try:
        return tour_store.revision(s)
    except MaillageError:
        return None


def _registry_revision(s: Settings) -> str | None:
    """The registry's fingerprint (None when it cannot be read: then always re-read)."""
    from maillage.registry import store

    try:
        return store.revision(s)
    except MaillageError:
        return None
