"""The map of isochrones: one filled band per time class, the start point on top."""

from __future__ import annotations

import json

import folium
import geopandas as gpd

from geo import basemap, mapsafe
from maillage import fmt

#: Band colours, nearest first (green) to farthest (red).
COLORS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"]


def band_colour(k: int) -> str:
    """The colour of the ``k``-th band (0 = nearest)."""
    return COLORS[min(k, len(COLORS) - 1)]


def isochrone_map(bands: gpd.GeoDataFrame | None, origin: tuple[float, float] | None,
                  ) -> folium.Map:
    """Bands (``from_min``, ``to_min``, any CRS) and the start point (lon, lat)."""
    if origin is None:
        m = basemap.base_map(credits="Insee, Filosofi 2017")
    else:
        m = basemap.base_map(center=(origin[1], origin[0]), zoom=14,
                             credits="Insee, Filosofi 2017")
    if bands is not None and len(bands):
        shown = bands.to_crs("EPSG:4326")
        geo = json.loads(shown.geometry.to_json())
        feats = []
        for k in range(len(shown) - 1, -1, -1):  # farthest first, nearest on top
            a, b = shown["from_min"].iloc[k], shown["to_min"].iloc[k]
            c = band_colour(k)
            feats.append(mapsafe.feature(geo["features"][k]["geometry"], {
                "tip": f"{fmt.number(a, 1 if a % 1 else 0)} à "
                       f"{fmt.number(b, 1 if b % 1 else 0)} min",
                "_style": {"color": c, "fillColor": c}}))
        mapsafe.TextLayer(mapsafe.collection(feats), name="Isochrones", tooltip="tip",
                          style={"weight": 1, "fillOpacity": 0.45}).add_to(m)
        minx, miny, maxx, maxy = shown.total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    if origin is not None:
        start = mapsafe.feature(mapsafe.point(*origin), {"tip": "Départ"})
        mapsafe.TextLayer(mapsafe.collection([start]), name="Départ", tooltip="tip",
                          control=False,
                          style={"radius": 6, "color": "#000000", "fill": True,
                                 "fillOpacity": 1}).add_to(m)
    return m
