"""Indicators of the five solutions: one year's figures against their targets, for one scope.

One service for ``maillage indicators summary|overview`` and the Indicateurs page (see
the package docstring for the pattern). :class:`IndicatorsRequest` holds the year, the
scope (Martinique or one EPCI), the day the year's window ends at, and the indicator and
level of the map; :meth:`IndicatorsService.run` reads the store's figures and targets
and computes, once, everything the page shows: the per-indicator summary, the monthly
series and the values by dimension of the indicators with data, the map's values by
commune or EPCI, and the table by EPCI.

Writes (a typed figure, a CSV import, a target) stay in :mod:`maillage.indicators.store`,
which checks the actor's role; the service passes them through so that the page and the
command line make the same calls.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd

from analysis import indicators as ind
from maillage import bounded_csv
from maillage.auth import Actor
from maillage.errors import MaillageError
from maillage.indicators import csvio, report, store
from maillage.settings import Settings

#: Years a request may ask for (the store's own bounds for months and targets).
FIRST_YEAR, LAST_YEAR = csvio.FIRST_YEAR, 2100
#: Levels of the map.
LEVELS = ("commune", "epci")
#: The indicator the map shows by default (the first of the catalogue).
DEFAULT_MAP = next(iter(ind.INDICATORS))
#: How the whole island is named on screen and in the text output.
ISLAND = "Toute la Martinique"


def _num(value: Any) -> float | None:
    """A float for JSON: None for NaN, infinities and missing values."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _month(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m}"


@dataclass(frozen=True)
class IndicatorsRequest:
    """One year, one scope (``epci=""``: Martinique), the map's indicator and level.

    ``today`` ends the window of the current year (its months after today are not
    counted yet) and dates the registry's labelled places; None means today.
    """

    year: int
    epci: str = ""
    today: date | None = None
    map_indicator: str = DEFAULT_MAP
    map_level: str = "commune"

    def validated(self, epcis: Collection[str] | None = None) -> IndicatorsRequest:
        """The same request, checked (French errors), with ``today`` set.

        The EPCI is checked against ``epcis`` when given (the service gives its own, so
        a request is checked again, in full, by :meth:`IndicatorsService.run`); a name
        matching one but for case is replaced by it.
        """
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise MaillageError(f"Année « {self.year} » : un nombre entier est attendu, par "
                                "exemple 2026.")
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise MaillageError(f"Année {self.year} hors de la période suivie : choisissez "
                                f"une année entre {FIRST_YEAR} et {LAST_YEAR}.")
        key = self.map_indicator
        if key not in ind.INDICATORS:
            close = difflib.get_close_matches(str(key).lower(), list(ind.INDICATORS), n=1)
            hint = (f" Vouliez-vous dire « {close[0]} » ?" if close
                    else " La liste : « maillage indicators list ».")
            raise MaillageError(f"Indicateur « {key} » inconnu.{hint}")
        level = str(self.map_level).strip().lower()
        if level not in LEVELS:
            raise MaillageError(f"Niveau de carte « {self.map_level} » inconnu : « commune » "
                                "ou « epci ».")
        epci = (self.epci or "").strip()
        if epci and epcis is not None:
            by_fold = {e.casefold(): e for e in epcis}
            if epci.casefold() not in by_fold:
                raise MaillageError(f"EPCI « {epci} » inconnu : {', '.join(sorted(epcis))}, "
                                    "ou rien pour toute la Martinique.")
            epci = by_fold[epci.casefold()]
        return replace(self, epci=epci, today=self.today or date.today(), map_level=level)

    @property
    def scope_label(self) -> str:
        """« Toute la Martinique » or the EPCI's name."""
        return self.epci or ISLAND


@dataclass(frozen=True)
class Figures:
    """What the store holds: every figure (long format) and every target."""

    frame: pd.DataFrame
    targets: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.frame.empty


@dataclass
class IndicatorsResult:
    """Everything one request shows.

    * ``summary``: one row per indicator (:func:`analysis.indicators.summary`:
      ``indicator, solution, label, unit, kind, value, target, progress, has_data``);
    * ``monthly``: indicator → ``period, value`` over the year's window (in the scope),
      for the indicators with data;
    * ``dimensions``: indicator → ``dimension, value`` (in the scope), for the indicators
      with data that have dimensions (channels, employer types);
    * ``areas``: the map's indicator by commune (``code_insee, nom, epci_court, value``)
      or by EPCI (``epci_court, value``), with the geometry (EPSG:4326), every area listed;
    * ``by_epci``: every indicator (rows) by EPCI, plus ``Martinique`` (columns);
    * ``figures``: what was read from the store (for the CSV export and the report).
    """

    request: IndicatorsRequest
    start: pd.Timestamp
    end: pd.Timestamp
    summary: pd.DataFrame
    monthly: dict[str, pd.DataFrame]
    dimensions: dict[str, pd.DataFrame]
    areas: gpd.GeoDataFrame
    by_epci: pd.DataFrame
    figures: Figures = field(repr=False)

    @property
    def has_data(self) -> bool:
        """False when the store holds no figure at all (the page's empty state)."""
        return not self.figures.empty

    @property
    def map_spec(self) -> ind.Indicator:
        return ind.INDICATORS[self.request.map_indicator]

    @property
    def map_has_data(self) -> bool:
        """True when some area has a value other than 0 (else there is nothing to shade)."""
        values = pd.to_numeric(self.areas["value"], errors="coerce")
        return bool(((values != 0) & values.notna()).any())

    def row(self, key: str) -> pd.Series:
        """The summary row of one indicator."""
        return self.summary.set_index("indicator").loc[key]

    def summary_rows(self) -> list[dict[str, Any]]:
        """The summary as plain dicts (NaN as None): ``maillage indicators summary --json``."""
        return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in r.items()} for r in self.summary.to_dict(orient="records")]

    def to_json(self) -> dict[str, Any]:
        """What ``maillage indicators overview --json`` prints (keys in English)."""
        req = self.request
        area_cols = [c for c in ("code_insee", "nom", "epci_court") if c in self.areas]
        return {
            "year": req.year,
            "epci": req.epci or None,
            "today": req.today.isoformat() if req.today else None,
            "window": {"start": _month(self.start), "end": _month(self.end)},
            "has_data": self.has_data,
            "summary": self.summary_rows(),
            "monthly": {k: [{"period": _month(p), "value": _num(v)}
                            for p, v in zip(m["period"], m["value"], strict=True)]
                        for k, m in self.monthly.items()},
            "dimensions": {k: [{"dimension": str(d), "value": _num(v)}
                               for d, v in zip(t["dimension"], t["value"], strict=True)]
                           for k, t in self.dimensions.items()},
            "map": {
                "indicator": req.map_indicator, "level": req.map_level,
                "has_data": self.map_has_data,
                "areas": [{**{c: str(r[c]) for c in area_cols}, "value": _num(r["value"])}
                          for r in self.areas[[*area_cols, "value"]].to_dict("records")],
            },
            "by_epci": {k: {str(c): _num(v) for c, v in row.items()}
                        for k, row in self.by_epci.to_dict(orient="index").items()},
        }


class IndicatorsService:
    """The communes and EPCI loaded once; answers any :class:`IndicatorsRequest`."""

    def __init__(self, s: Settings | None, communes: gpd.GeoDataFrame,
                 epci: gpd.GeoDataFrame) -> None:
        self.settings, self.communes, self.epci = s, communes, epci

    @classmethod
    def load(cls, s: Settings | None = None) -> IndicatorsService:
        """Read the 34 communes and dissolve the 3 EPCI."""
        from geo import communes

        c = communes.load(s)
        return cls(s, c, communes.load_epci(c))

    @property
    def epci_names(self) -> list[str]:
        """Short names of the EPCI, sorted."""
        return sorted(self.communes["epci_court"].unique())

    @property
    def commune_names(self) -> dict[str, str]:
        """INSEE code → name."""
        return dict(zip(self.communes["code_insee"], self.communes["nom"], strict=True))

    # ------------------------------------------------------------------ reads

    def figures(self, today: date | None = None) -> Figures:
        """Every figure (recorded, from the registry, from the tours) and every target."""
        return Figures(store.frame(self.settings, today), store.targets(self.settings))

    def years(self, figures: Figures, today: date | None = None) -> list[int]:
        """The years worth offering, newest first: this one and those with figures or targets."""
        today = today or date.today()
        found = {today.year, *figures.frame["period"].dt.year.astype(int).tolist(),
                 *figures.targets["year"].astype(int).tolist()}
        return sorted((y for y in found if FIRST_YEAR <= y <= LAST_YEAR), reverse=True)

    def run(self, request: IndicatorsRequest, figures: Figures | None = None
            ) -> IndicatorsResult:
        """Check the request, read the store (unless ``figures`` is given) and compute."""
        req = request.validated(self.epci_names)
        fig = figures if figures is not None else self.figures(req.today)
        df, communes = fig.frame, self.communes
        start, end = ind.year_window(req.year, req.today)
        summary = ind.summary(df, fig.targets, req.year, req.epci, communes, req.today)
        if req.epci:
            tagged = ind.with_epci(df, communes)
            scoped = tagged[tagged["epci"] == req.epci]
        else:
            scoped = df
        with_data = [k for k in ind.INDICATORS if ind.has_data(df, k)]
        monthly = {k: ind.monthly(df, k, start, end, req.epci or None, communes)
                   for k in with_data}
        dimensions = {k: ind.by_dimension(scoped, k, start, end)
                      for k in with_data if ind.INDICATORS[k].dimensions}
        return IndicatorsResult(req, start, end, summary, monthly, dimensions,
                                self._areas(df, req, start, end),
                                ind.epci_table(df, communes, req.year, req.today), fig)

    def _areas(self, df: pd.DataFrame, req: IndicatorsRequest, start: pd.Timestamp,
               end: pd.Timestamp) -> gpd.GeoDataFrame:
        values = ind.by_area(df, req.map_indicator, self.communes, req.map_level, start, end)
        if req.map_level == "commune":
            shapes = self.communes[["code_insee", "geometry"]]
            out = shapes.merge(values, on="code_insee")
            return out[["code_insee", "nom", "epci_court", "value", "geometry"]]
        out = self.epci[["epci_court", "geometry"]].merge(values, on="epci_court")
        return out[["epci_court", "value", "geometry"]]

    def report(self, result: IndicatorsResult) -> str:
        """The yearly HTML report of the result's year (self-contained)."""
        return report.build(result.figures.frame, result.figures.targets, self.communes,
                            result.request.year, result.request.today)

    def export_csv(self, result: IndicatorsResult) -> bytes:
        """Every figure read (typed, imported and computed) as CSV for people."""
        return csvio.export(result.figures.frame, self.commune_names)

    def template(self, key: str, month: date) -> bytes:
        """The CSV to fill for ``key`` (one row per commune, place or dimension)."""
        return csvio.template(key, self.commune_names, self.labelled_places(), month)

    def labelled_places(self) -> dict[str, tuple[str, str]]:
        """Place id → (INSEE code, name) of the labelled places."""
        return store.labelled_places(self.settings)

    def current(self, row: Mapping[str, str | None], today: date | None = None
                ) -> tuple[float, int] | None:
        """The stored value and version of the figure a form row points at.

        None when there is none, or when the row does not point at one figure yet (no
        commune or place chosen, a month that is not AAAA-MM…).
        """
        try:
            store.check_chosen(dict(row))
            probe = {**row, "valeur": str(ind.INDICATORS[str(row["indicateur"])].minimum),
                     "_line": "1"}
            rec = csvio.check([probe], store.context(self.settings, today))[0]
        except (MaillageError, KeyError):
            return None
        return store.current_value(rec.key, self.settings)

    # ------------------------------------------------------------------ writes
    # (the store checks the actor's role)

    def record(self, actor: Actor | None, row: Mapping[str, str | None],
               expected_version: int | None, today: date | None = None) -> int:
        """Record one typed figure (:func:`maillage.indicators.store.save`)."""
        return store.save(actor, dict(row), expected_version, self.settings, today)

    def import_csv(self, actor: Actor | None, data: bounded_csv.Source,
                   filename: str = "fichier.csv", progress: bounded_csv.Progress | None = None,
                   today: date | None = None) -> dict[str, Any]:
        """Import a CSV of figures, all or nothing (:func:`store.import_csv`)."""
        return store.import_csv(actor, data, filename, self.settings, today, progress)

    def set_target(self, actor: Actor | None, key: str, year: int, value: float,
                   epci: str = "") -> dict[str, Any]:
        """Set a yearly target (:func:`maillage.indicators.store.set_target`)."""
        return store.set_target(actor, key, year, value, epci, self.settings)
