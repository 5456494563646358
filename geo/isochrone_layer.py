"""The map of isochrones: one filled band per time class, the start point on top."""

from __future__ import annotations

import folium
import geopandas as gpd

from geo import basemap, mapsafe
from maillage import fmt

#: Band colours, nearest first (green) to farthest (red).
COLORS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"]
#: Bands are looked at from a commune to its streets (zoom 12 to 15).
BANDS_ZOOM = 15
#: The zoom shown around a start point before its bands are drawn.
START_ZOOM = 14


def band_colour(k: int) -> str:
    """The colour of the ``k``-th band (0 = nearest)."""
    return COLORS[min(k, len(COLORS) - 1)]


def base() -> folium.Map:
    """The map the bands are drawn on: the island, the same for every start point (the
    bands and the view come as layer groups, see :func:`isochrone_map`)."""
    return basemap.base_map(credits="Insee, Filosofi 2017")


def isochrone_map(bands: gpd.GeoDataFrame | None, origin: tuple[float, float] | None,
                  ) -> tuple[folium.Map, list[folium.FeatureGroup]]:
    """Bands (``from_min``, ``to_min``, any CRS) and the start point (lon, lat): the base
    map and the layer groups (bands, start), which also move the view onto the bands."""
    m = base()
    groups: list[folium.FeatureGroup] = []
    if bands is not None and len(bands):
        shown = bands.to_crs("EPSG:4326")
        order = list(range(len(shown) - 1, -1, -1))  # farthest first, nearest on top
        props = []
        for k in order:
            a, b = shown["from_min"].iloc[k], shown["to_min"].iloc[k]
            c = band_colour(k)
            props.append({"tip": f"{fmt.number(a, 1 if a % 1 else 0)} à "
                                 f"{fmt.number(b, 1 if b % 1 else 0)} min",
                          "_style": {"color": c, "fillColor": c}})
        data = basemap.feature_collection(props, shown.geometry.iloc[order], BANDS_ZOOM)
        layer = mapsafe.TextLayer(data, name="Isochrones", tooltip="tip",
                                  style={"weight": 1, "fillOpacity": 0.45})
        minx, miny, maxx, maxy = shown.total_bounds
        groups.append(basemap.fit(basemap.group(layer), [[miny, minx], [maxy, maxx]]))
    if origin is not None:
        start = mapsafe.feature(mapsafe.point(*origin), {"tip": "Départ"})
        layer = mapsafe.TextLayer(mapsafe.collection([start]), name="Départ", tooltip="tip",
                                  control=False,
                                  style={"radius": 6, "color": "#000000", "fill": True,
                                         "fillOpacity": 1})
        group = basemap.group(layer, control=False)
        if not groups:  # no bands yet: show the streets around the start point
            lon, lat = origin
            basemap.fit(group, [[lat, lon], [lat, lon]], max_zoom=START_ZOOM)
        groups.append(group)
    return m, groups
