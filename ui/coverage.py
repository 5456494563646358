"""Cached pieces of the coverage page: graphs, demand, places and today's (baseline) coverage.

Only shared data goes in these caches (the same for every visitor); the what-if points
of a visitor live in ``st.session_state`` and their effect is computed on each run.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from analysis import coverage, white_zones
from geo import supply
from maillage import settings
from maillage.registry import store
from ui import data

road_graph = data.road_graph
land = data.land


@st.cache_data(show_spinner="Préparation de la demande…")
def demand(weight: str) -> pd.DataFrame:
    """Populated cells with the chosen weight (see :func:`analysis.coverage.demand`)."""
    frag = data.grid()["fragility"] if weight == "fragility" else None
    return coverage.demand(data.grid(), data.communes(), weight, frag)


@st.cache_data(show_spinner=False)
def cell_index(cell_ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Grid (column, row) of the cells, parsed once."""
    return white_zones.grid_index(cell_ids)


@st.cache_data(max_entries=2, show_spinner="Lecture du registre des lieux…")
def _places(revision: str) -> gpd.GeoDataFrame:
    return supply.places(settings.get())


def places() -> gpd.GeoDataFrame:
    """Every located place of the registry (reloaded whenever the registry changes)."""
    return _places(store.revision(settings.get()))


@st.cache_data(ttl=120, show_spinner=False)
def workshop_stops() -> gpd.GeoDataFrame:
    """The stops of the published mobile-workshop plans."""
    return supply.workshop_stops(settings.get())


@st.cache_data(show_spinner=False)
def town_halls() -> gpd.GeoDataFrame:
    """The 34 town halls, candidates for a what-if."""
    return supply.mairies(settings.get()).sort_values("commune").reset_index(drop=True)


def supply_key(sup: gpd.GeoDataFrame) -> str:
    """A fingerprint of the selected places (ids and positions) for the caches."""
    h = hashlib.sha256("|".join(sup["place_id"]).encode())
    h.update(np.ascontiguousarray(supply.to_xy(sup)).tobytes())
    return h.hexdigest()[:16]


@st.cache_data(show_spinner=False, max_entries=16)
def baseline(mode: str, key: str, _sup: gpd.GeoDataFrame) -> coverage.Access:
    """Today's nearest-place times of every cell for the places ``_sup`` (fingerprint ``key``)."""
    s = settings.get()
    dem = demand("population")  # the cells are the same whatever the weight
    return coverage.compute(road_graph(mode), dem[["x", "y"]].to_numpy(), supply.to_xy(_sup),
                            walk_kmh=s.walk_kmh, max_snap_m=s.max_snap_m)


@st.cache_data(show_spinner=False, max_entries=32)
def baseline_zones(mode: str, key: str, weight: str, minutes: float, connectivity: int,
                   by_commune: bool, _acc: coverage.Access
                   ) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Today's white zones beyond ``minutes`` with their outlines."""
    dem = demand(weight)
    idx = cell_index(tuple(dem["cell_id"]))
    zone_of, table = white_zones.zones(_acc.seconds, dem, minutes, connectivity, by_commune,
                                       index=idx)
    return zone_of, white_zones.shapes(zone_of, table, dem["cell_id"])


@st.cache_data(show_spinner=False, max_entries=32)
def baseline_tables(mode: str, key: str, weight: str, minutes: tuple[float, ...],
                    _acc: coverage.Access) -> pd.DataFrame:
    """Today's coverage tables (commune, EPCI, island): the same for every visitor."""
    return coverage.tables(_acc.seconds, demand(weight), list(minutes))


@st.cache_data(show_spinner=False, max_entries=32)
def zones_geojson(mode: str, key: str, weight: str, minutes: float, connectivity: int,
                  by_commune: bool, _zones: gpd.GeoDataFrame) -> str:
    """Today's white zones as GeoJSON text for the download (infinite times as null)."""
    out = _zones.copy()
    num = out.select_dtypes("number").columns
    out[num] = out[num].replace([np.inf, -np.inf], np.nan)
    return out.to_json(drop_id=True)
