"""Folium layers of the coverage page: cells by travel time, white zones, places, what-if points.

Colours use fixed minute classes (the same on every map, so two modes or two what-ifs
compare at a glance); legends are returned as :class:`geo.choropleth.Legend` for the page
to draw in Streamlit. Text reaches popups and tooltips only through :mod:`geo.mapsafe`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import basemap, mapsafe
from geo.choropleth import Legend, fmt_value
from maillage import fmt

#: Minute class edges by mode (the last class is "more than the last edge").
TIME_BINS: dict[str, tuple[float, ...]] = {
    "walk": (5, 10, 15, 20, 30, 45, 60),
    "drive": (5, 10, 15, 20, 30),
}
#: Green (close) → red (far), ColorBrewer "RdYlGn" reversed, 8 classes.
TIME_PALETTE = ["#1a9850", "#66bd63", "#a6d96a", "#d9ef8b", "#fee08b", "#fdae61", "#f46d43",
                "#d73027"]
UNREACHABLE = "#4d4d4d"
ZONE_COLOUR = "#d95f02"  # orange: apart from the blues of the commune shares
PLACE_COLOUR = "#084081"
WHATIF_COLOUR = "#e7298a"
#: Points (places, what-if points) to about 1 m.
POINT_DECIMALS = 5


def minutes_text(value: float) -> str:
    """Minutes for a popup: ``12,5 min``, or ``inatteignable``."""
    return fmt.number(value, 1, "min", missing="inatteignable")


def time_classes(minutes: np.ndarray, mode: str) -> tuple[np.ndarray, Legend]:
    """Colour of every value (minutes) and the legend of the classes."""
    edges = TIME_BINS.get(mode, TIME_BINS["walk"])
    pick = np.linspace(0, len(TIME_PALETTE) - 1, len(edges) + 1).round().astype(int)
    palette = [TIME_PALETTE[i] for i in pick]
    cls = np.searchsorted(np.asarray(edges, dtype=float), minutes, side="left")
    colours = np.where(np.isfinite(minutes), np.asarray(palette)[np.minimum(cls, len(edges))],
                       UNREACHABLE)
    labels = [f"{edges[0]:g} min ou moins"]
    labels += [f"{a:g} à {b:g} min" for a, b in pairwise(edges)]
    labels += [f"plus de {edges[-1]:g} min"]
    title = "Temps jusqu'au lieu le plus proche " + ("à pied" if mode == "walk" else "en voiture")
    return colours, Legend(title, [*palette, UNREACHABLE], [*labels, "inatteignable"])


def feature_collection(props: pd.DataFrame, geometry: gpd.GeoSeries) -> dict:
    """GeoJSON (EPSG:4326) of ``geometry`` with one feature per row of ``props``.

    The same dict as ``GeoDataFrame.to_json(drop_id=True, to_wgs84=True)`` would give
    (features numbered by ``id``), built with shapely's vectorised writer: the page builds
    it on every rerun, and the Python loop of geopandas cost a third of a second per
    visitor for the white zones.
    """
    geoms = geometry.to_crs("EPSG:4326") if geometry.crs is not None else geometry
    texts = shapely.to_geojson(geoms.to_numpy())
    records = props.to_dict("records")
    return {"type": "FeatureCollection", "features": [
        {"id": str(i), "type": "Feature", "properties": rec,
         "geometry": json.loads(g) if g is not None else None}
        for i, (rec, g) in enumerate(zip(records, texts, strict=True))]}


def time_grid_layer(grid: gpd.GeoDataFrame, minutes: np.ndarray, mode: str,
                    ) -> tuple[mapsafe.TextLayer, Legend]:
    """The populated cells coloured by their travel time (draw on a canvas map)."""
    from geo import choropleth

    colours, legend = time_classes(np.asarray(minutes, dtype=float), mode)
    data = choropleth.cells_collection(grid, colours)
    return choropleth.cells_layer(data, "Carreaux de 200 m", opacity=0.75), legend


_ZONE_POPUP = {
    "titre": "Zone blanche", "habitants": "Habitants", "seniors": "65 ans et plus",
    "plus80": "80 ans et plus", "pauvres": "Ménages pauvres", "communes": "Communes",
    "temps": "Lieu le plus proche",
}


#: How the white zones are drawn: a solid fill and no outline (at island zoom, the outlines
#: of hundreds of small zones hid the map); the class lets tests find them.
ZONE_STYLE = {"stroke": False, "fillColor": ZONE_COLOUR, "fillOpacity": 0.65,
              "className": "zone-blanche"}


#: White zones are looked at from the whole island to a few neighbourhoods (zoom 10 to 12).
ZONES_ZOOM = 12


def zones_collection(zones: gpd.GeoDataFrame) -> dict:
    """The white zones with their popup fields, light for :data:`ZONES_ZOOM` (what
    :func:`zones_layer` draws; the page prepares it once per set of zones)."""
    props = pd.DataFrame({
        "titre": [f"Zone blanche n° {z}" for z in zones["zone"]],
        "habitants": [fmt_value(v, "") for v in zones["population"]],
        "seniors": [fmt_value(v, "") for v in zones["seniors"]],
        "plus80": [fmt_value(v, "") for v in zones["age_80p"]],
        "pauvres": [fmt_value(v, "") for v in zones["poor_households"]],
        "communes": zones["communes"].astype(str),
        "temps": [f"de {minutes_text(a)} à {minutes_text(b)} (médiane {minutes_text(m)})"
                  for a, b, m in zip(zones["min_min"], zones["max_min"], zones["median_min"],
                                     strict=True)],
    })
    return basemap.feature_collection(props.to_dict("list"), zones.geometry, ZONES_ZOOM)


def zones_layer(zones: gpd.GeoDataFrame | None, name: str = "Zones blanches", *,
                interactive: bool = True, data: dict | None = None) -> mapsafe.TextLayer:
    """White zones filled, each with a text-only popup (people, communes, times).

    ``data``: their :func:`zones_collection`, when already prepared. ``interactive=False``:
    no popup and no hover, so a click inside a zone reaches the map (Leaflet's map
    ``click``, what adds a point in the planner's click mode).
    """
    if data is None:
        data = zones_collection(zones)
    if not interactive:
        return mapsafe.TextLayer(data, name=name, style=ZONE_STYLE, interactive=False)
    return mapsafe.TextLayer(
        data, name=name, style=ZONE_STYLE,
        highlight={"fillOpacity": 0.85},
        title="titre", fields=[(k, v) for k, v in _ZONE_POPUP.items() if k != "titre"],
    )


def points_layer(points: gpd.GeoDataFrame, *, name: str, colour: str, radius: int = 4,
                 labels: Sequence[str] | None = None) -> mapsafe.TextLayer:
    """Small circles at ``points`` with a text tooltip (``name`` column or ``labels``).

    One GeoJSON layer for all the points: a folium marker per point compiled two Jinja
    templates each (a third of a second per rerun for the 150 places of the registry).
    """
    texts = list(labels) if labels is not None else points["name"].astype(str).tolist()
    shown = points.geometry.to_crs("EPSG:4326") if points.crs is not None else points.geometry
    data = mapsafe.packed_collection(
        {"label": [mapsafe.plain(x) for x in texts]},
        mapsafe.pack_geometries(shown.to_numpy(), POINT_DECIMALS), POINT_DECIMALS)
    return mapsafe.TextLayer(
        data, name=name, tooltip="label",
        style={"radius": radius, "color": colour, "weight": 1.5, "fill": True,
               "fillColor": colour, "fillOpacity": 0.9},
    )


def base(communes_view: bool) -> folium.Map:
    """The Couverture map's base, the same on every run of a view (see :func:`coverage_map`):
    the communes view draws its own shaded communes, the cells view the outlines."""
    if communes_view:
        return basemap.base_map(credits="Insee, IGN Admin Express, Filosofi 2017",
                                outlines=False)
    return basemap.base_map(canvas=True, credits="Insee, Filosofi 2017")


def coverage_map(*, communes_view: bool, shaded: gpd.GeoDataFrame, value_col: str,
                 share_title: str, zones: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
                 grid: gpd.GeoDataFrame | None, cell_minutes: np.ndarray | None, mode: str,
                 places: gpd.GeoDataFrame, added: gpd.GeoDataFrame | None,
                 clickable: bool = False, zones_data: dict | None = None,
                 ) -> tuple[folium.Map, list[folium.FeatureGroup], list[Legend]]:
    """The Couverture map: communes shaded by share (with white zones) or cells by time.

    Returns the base map (:func:`base`, the same whatever the result), the layer groups
    drawn on it (what changes with the request: shown with ``ui.maps.show(…, layers=…)``)
    and the legends. ``added``: the what-if points (``name`` column), drawn above the
    places. ``clickable``: the map takes clicks anywhere (to add a point): the white zones
    are drawn without popups so that a click inside one reaches the map. ``zones_data``:
    the zones' :func:`zones_collection`, when already prepared.
    """
    from geo import choropleth

    legends: list[Legend] = []
    groups: list[folium.FeatureGroup] = []
    m = base(communes_view)
    if communes_view:
        layer, leg = choropleth.commune_layer(
            shaded, shaded[value_col], title=share_title, unit="%",
            tooltip_fields={"nom": "Commune", "epci_court": "EPCI", "valeur": share_title})
        groups.append(basemap.group(layer))
        legends.append(leg)
        if len(zones):
            groups.append(basemap.group(zones_layer(zones, interactive=not clickable,
                                                    data=zones_data)))
    else:
        glayer, leg = time_grid_layer(grid, cell_minutes, mode)
        groups.append(basemap.group(glayer))
        legends.append(leg)
    groups.append(basemap.group(points_layer(places, name="Lieux", colour=PLACE_COLOUR,
                                             radius=3)))
    if added is not None and len(added):
        groups.append(basemap.group(points_layer(added, name="Points ajoutés",
                                                 colour=WHATIF_COLOUR, radius=7)))
    return m, groups, legends
