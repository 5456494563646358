"""Supply for the coverage: the registry's places (filtered), extra points, town-hall candidates.

Every function returns a GeoDataFrame in EPSG:4326 with the *supply columns*:
``place_id, name, commune, code_insee, kind, label_status, services`` (a tuple of the
standard's service names), ``source`` (``registre``, ``arrêt``, ``hypothèse`` or
``mairie``) and ``geometry`` (points). :func:`to_xy` gives the EPSG:5490 coordinates the
coverage engine takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import fetch
from geo.errors import MaillageError
from maillage.settings import CRS_MEASURE, CRS_STORE, Settings

COLUMNS = ["place_id", "name", "commune", "code_insee", "kind", "label_status", "services",
           "source", "geometry"]
#: Label status of the Fédération's points numériques.
LABELLED = "labellisé"
#: Supply scopes → French label.
SCOPES = {"all": "Tous les lieux du registre", "labelled": "Points numériques labellisés"}


def from_registry_frame(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The supply columns from :func:`maillage.registry.store.places_frame`; no position, no row."""
    df = pd.DataFrame({
        "place_id": places["id"].astype(str),
        "name": places["nom"].fillna("").astype(str),
        "commune": places["commune"].fillna("").astype(str),
        "code_insee": places["code_insee"].fillna("").astype(str),
        "kind": places["kind"].fillna("lieu fixe").astype(str),
        "label_status": places["label_status"].fillna("").astype(str),
        "services": [tuple(s for s in str(v or "").split("|") if s)
                     for v in places["services"]],
        "source": "registre",
    })
    gdf = gpd.GeoDataFrame(df, geometry=places.geometry.to_numpy(), crs=places.crs or CRS_STORE)
    gdf = gdf.to_crs(CRS_STORE)
    ok = ~(gdf.geometry.is_empty | gdf.geometry.isna()) & gdf.geometry.x.notna()
    return gdf[ok].reset_index(drop=True)[COLUMNS]


def places(s: Settings | None = None) -> gpd.GeoDataFrame:
    """Every located place of the registry, with the supply columns."""
    from maillage.registry import store

    return from_registry_frame(store.places_frame(s, public=True))


def select(places: gpd.GeoDataFrame, scope: str = "all", services: Iterable[str] = (),
           kinds: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """The places in ``scope`` (``all`` or ``labelled``) offering any of ``services`` and
    of any of ``kinds`` (empty = no filter on that)."""
    if scope not in SCOPES:
        raise MaillageError(f"Sélection de lieux inconnue : « {scope} » (all ou labelled).")
    keep = np.ones(len(places), dtype=bool)
    if scope == "labelled":
        keep &= (places["label_status"] == LABELLED).to_numpy()
    services = set(services)
    if services:
        keep &= np.array([bool(services & set(s)) for s in places["services"]], dtype=bool)
    kinds = set(kinds)
    if kinds:
        keep &= places["kind"].isin(kinds).to_numpy()
    return places[keep].reset_index(drop=True)


def points(lonlat: Sequence[tuple[float, float]], names: Sequence[str] | None = None,
           source: str = "hypothèse", kind: str = "arrêt de l'atelier mobile"
           ) -> gpd.GeoDataFrame:
    """Extra points (mobile-workshop stops, hypothetical places) with the supply columns."""
    lonlat = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    n = len(lonlat)
    names = list(names) if names is not None else [f"Point {i + 1}" for i in range(n)]
    df = pd.DataFrame({
        "place_id": [f"{source}-{i + 1}" for i in range(n)], "name": names,
        "commune": "", "code_insee": "", "kind": kind, "label_status": "",
        "services": [()] * n, "source": source,
    })
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]),
                            crs=CRS_STORE)[COLUMNS]


def workshop_stops(s: Settings | None = None, plan_pk: int | None = None) -> gpd.GeoDataFrame:
    """The distinct stops of the mobile workshops: of plan ``plan_pk``, else of every
    published plan (:func:`maillage.tour_store.visits_frame`); empty when none."""
    from maillage import tour_store

    visits = tour_store.visits_frame(plan_pk, published_only=plan_pk is None, s=s)
    stops = visits.dropna(subset=["lon", "lat"]).drop_duplicates("stop_key")
    pts = points(stops[["lon", "lat"]].to_numpy(dtype=np.float64),
                 stops["stop_name"].astype(str).tolist(), source="arrêt")
    pts["place_id"] = stops["stop_key"].astype(str).to_numpy()
    pts["code_insee"] = stops["code_insee"].fillna("").astype(str).to_numpy()
    return pts


def mairies(s: Settings | None = None) -> gpd.GeoDataFrame:
    """The 34 town halls, as candidate points for a what-if."""
    raw = gpd.read_file(fetch.resolve("mairies", s).path).to_crs(CRS_STORE)
    n = len(raw)
    df = pd.DataFrame({
        "place_id": "mairie-" + raw["code_insee"].astype(str),
        "name": "Mairie de " + raw["commune"].astype(str), "commune": raw["commune"].astype(str),
        "code_insee": raw["code_insee"].astype(str), "kind": "mairie", "label_status": "",
        "services": [()] * n, "source": "mairie",
    })
    return gpd.GeoDataFrame(df, geometry=raw.geometry.to_numpy(), crs=CRS_STORE)[COLUMNS]


def services_of(places: gpd.GeoDataFrame) -> list[str]:
    """The distinct services offered by ``places``, sorted."""
    return sorted({s for row in places["services"] for s in row})


def to_xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Point coordinates in EPSG:5490 metres, shape (n, 2)."""
    if len(gdf) == 0:
        return np.zeros((0, 2))
    g = gdf.geometry.to_crs(CRS_MEASURE)
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])
