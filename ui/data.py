"""Cached loaders of the layers the pages share (one load per server process).

A loader that found an on-disk cache unreadable (see :mod:`geo.cache`) rebuilt it; the
visitor whose page view did it is told so with a French toast (:func:`announce_rebuilds`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis import demography, graph
from geo import cache, choropleth, graphs, population, roads
from geo import communes as communes_mod
from maillage import settings

F = TypeVar("F", bound=Callable)


def announce_rebuilds(loader: F) -> F:
    """Wrap a (cached) loader: every cache it rebuilt is announced with ``st.toast`` in French.

    The wrapper stays outside Streamlit's cache, so only the run that did the rebuild
    shows the message; ``clear`` is passed through.
    """

    @functools.wraps(loader)
    def wrapper(*args, **kwargs):
        with cache.notices() as notes:
            value = loader(*args, **kwargs)
        for note in notes:
            st.toast(f"{note} Les données ont été recalculées ; tout fonctionne normalement.",
                     icon=":material/build:")
        return value

    if hasattr(loader, "clear"):
        wrapper.clear = loader.clear  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


@announce_rebuilds
@st.cache_data(show_spinner="Chargement des communes…")
def communes() -> gpd.GeoDataFrame:
    """The 34 communes (EPSG:4326)."""
    return communes_mod.load()


@st.cache_data(show_spinner="Chargement des EPCI…")
def epci() -> gpd.GeoDataFrame:
    """The 3 EPCI dissolved from the communes."""
    return communes_mod.load_epci(communes())


@announce_rebuilds
@st.cache_data(show_spinner="Chargement des carreaux de 200 m…")
def grid() -> gpd.GeoDataFrame:
    """The populated 200 m cells."""
    return population.load_grid()


@st.cache_data(show_spinner="Chargement de l'indice de fragilité…")
def ifn() -> gpd.GeoDataFrame:
    """IRIS fragility polygons."""
    return population.load_ifn()


@st.cache_data(show_spinner=False)
def commune_profile() -> pd.DataFrame:
    """Population profile of every commune."""
    g = grid()
    return demography.commune_profile(communes(), g, g["fragility"])


@st.cache_resource(show_spinner="Préparation des carreaux de 200 m…")
def grid_geojson(column: str, title: str, unit: str) -> tuple[dict, choropleth.Legend]:
    """The grid shaded by ``column`` as GeoJSON, built once per server (read-only)."""
    return choropleth.grid_geojson(grid(), column, title=title, unit=unit)


@announce_rebuilds
@st.cache_resource(show_spinner="Chargement du réseau routier…")
def road_graph(mode: str) -> graph.Graph:
    """The cached ``mode`` graph with its snapping index built (shared, read-only)."""
    g = graphs.load(mode, settings.get())
    g.tree  # noqa: B018 - build the snapping index once
    return g


@st.cache_resource(show_spinner=False)
def land():
    """Martinique's land (EPSG:5490), to refuse points at sea."""
    return roads.island(settings.get())
