"""The registry of places as people search it: one filter for the page and ``places list``.

:class:`PlacesQuery` holds the filters of the Points numériques page (commune, EPCI,
service, public, label status, kind, open now, a name search); :class:`PlacesService`
applies them to the registry (reloaded when its revision changes) and returns a
:class:`PlacesResult` that the page maps and lists and that ``maillage places list
--json`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from maillage.db.models import KINDS, LABEL_STATUSES
from maillage.errors import MaillageError
from maillage.registry import standard, store
from maillage.settings import Settings

#: The status filter's value for places outside the labelling workflow.
NOT_LABELLED = "hors labellisation"
#: Longest name search accepted.
MAX_TEXT = 200
#: Columns of the listing (CLI and page table).
LIST_COLUMNS = ["id", "nom", "commune", "code_insee", "epci_court", "kind", "host_type",
                "label_status", "services", "open_now", "latitude", "longitude", "coord_source",
                "siret_a_completer", "version"]


@dataclass(frozen=True)
class PlacesQuery:
    """Filters; an empty tuple means « all »."""

    communes: tuple[str, ...] = ()
    epcis: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    open_now: bool = False
    text: str = ""
    public: bool = True

    def validated(self) -> PlacesQuery:
        """The same query, checked against the standard's vocabularies (French errors)."""
        voc = standard.vocabularies()
        for values, allowed, what in (
                (self.services, voc["services"], "Service"),
                (self.publics, voc["publics_specifiquement_adresses"], "Public"),
                (self.statuses, (NOT_LABELLED, *LABEL_STATUSES), "Statut du label"),
                (self.kinds, KINDS, "Nature")):
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise MaillageError(f"{what} inconnu : « {unknown[0]} » (valeurs possibles : "
                                    f"{', '.join(allowed)}).")
        if len(self.text) > MAX_TEXT:
            raise MaillageError(f"Recherche trop longue : {MAX_TEXT} caractères au plus.")
        return self


@dataclass
class PlacesResult:
    """The places that pass the filters, out of ``total``."""

    query: PlacesQuery
    places: gpd.GeoDataFrame
    total: int

    def listing(self) -> pd.DataFrame:
        """The listed columns, missing values as None."""
        table = self.places[[c for c in LIST_COLUMNS if c in self.places]]
        return table.astype(object).where(table.notna(), None)

    def to_json(self) -> dict[str, Any]:
        """What ``maillage places list --json`` prints."""
        return {"total": self.total, "affiches": len(self.places),
                "lieux": self.listing().to_dict(orient="records")}


def _has_any(column: pd.Series, wanted: tuple[str, ...]) -> np.ndarray:
    """Rows whose ``|``-list shares a value with ``wanted``."""
    want = set(wanted)
    return np.fromiter((bool(set(standard.split(v)) & want) for v in column), bool,
                       count=len(column))


def filter_places(places: gpd.GeoDataFrame, q: PlacesQuery) -> gpd.GeoDataFrame:
    """The rows of ``places`` that pass every filter of ``q``."""
    mask = np.ones(len(places), dtype=bool)
    if q.communes:
        mask &= places["commune"].isin(q.communes).to_numpy()
    if q.epcis:
        mask &= places["epci_court"].isin(q.epcis).to_numpy()
    if q.services:
        mask &= _has_any(places["services"], q.services)
    if q.publics:
        mask &= _has_any(places["publics_specifiquement_adresses"], q.publics)
    if q.statuses:
        status = places["label_status"].fillna("").replace("", NOT_LABELLED)
        mask &= status.isin(q.statuses).to_numpy()
    if q.kinds:
        mask &= places["kind"].isin(q.kinds).to_numpy()
    if q.open_now:
        mask &= places["open_now"].eq(True).to_numpy()
    if q.text.strip():
        mask &= places["nom"].str.contains(q.text.strip(), case=False, regex=False).to_numpy()
    return places[mask]


class PlacesService:
    """Reads the registry (public or editor view) and answers :class:`PlacesQuery`."""

    def __init__(self, s: Settings | None = None) -> None:
        self.s = s

    def places(self, public: bool = True, when: datetime | None = None) -> gpd.GeoDataFrame:
        """Every place of the registry (see :func:`maillage.registry.store.places_frame`)."""
        return store.places_frame(self.s, public=public, when=when)

    def run(self, query: PlacesQuery, places: gpd.GeoDataFrame | None = None) -> PlacesResult:
        """The places passing ``query`` (``places``: an already loaded registry frame)."""
        q = query.validated()
        every = self.places(q.public) if places is None else places
        return PlacesResult(q, filter_places(every, q), len(every))
