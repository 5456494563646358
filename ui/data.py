"""Cached loaders of the layers the pages share (one load per server process)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis import demography, graph
from geo import choropleth, population, roads
from geo import communes as communes_mod
from maillage import settings


@st.cache_data(show_spinner="Chargement des communes…")
def communes() -> gpd.GeoDataFrame:
    """The 34 communes (EPSG:4326)."""
    return communes_mod.load()


@st.cache_data(show_spinner="Chargement des EPCI…")
def epci() -> gpd.GeoDataFrame:
    """The 3 EPCI dissolved from the communes."""
    return communes_mod.load_epci(communes())


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


@st.cache_resource(show_spinner="Chargement du réseau routier…")
def road_graph(mode: str) -> graph.Graph:
    """The cached ``mode`` graph with its snapping index built (shared, read-only)."""
    g = graph.load(mode, settings.get())
    g.tree  # noqa: B018 - build the snapping index once
    return g


@st.cache_resource(show_spinner=False)
def land():
    """Martinique's land (EPSG:5490), to refuse points at sea."""
    return roads.island(settings.get())
