"""The map of « Trouver un point numérique »: the starting point, the nearest places, the route.

Every piece of text travels as a property of a :class:`geo.mapsafe.TextLayer` and is
set as text in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import numpy as np

from geo import basemap, mapsafe

ORIGIN_COLOUR = "#d62728"
PLACE_COLOUR = "#1f5fa8"
CHOSEN_COLOUR = "#0a7d3b"
ROUTE_COLOURS = {"walk": "#0a7d3b", "drive": "#6a3d9a"}


#: Routes and places are looked at street by street (zoom 15 to 17): about 10 cm.
DECIMALS = 6


def base(origin: tuple[float, float] | None) -> folium.Map:
    """The map of a search: the island, or the streets around the start point (lon, lat).
    The same for every answer from that point (places and route come as layer groups)."""
    credits = "adresses BANO (mars 2015), registre Maillage"
    if origin is None:
        return basemap.base_map(credits=credits)
    lon, lat = origin
    return basemap.base_map(center=(lat, lon), zoom=15, credits=credits)


def finder_map(origin: tuple[float, float] | None, origin_label: str = "",
               places: Sequence[dict] = (), chosen: str = "",
               route: np.ndarray | None = None, route_mode: str = "walk",
               ) -> tuple[folium.Map, list[folium.FeatureGroup]]:
    """A map centred on ``origin`` (lon, lat) with numbered places and the chosen route:
    the base map (:func:`base`) and the layer groups, which fit the view to what they show.

    ``places``: dicts with ``id``, ``nom``, ``lon``, ``lat``, ``rang``. ``route``: (m, 2)
    lon/lat vertices of the line to draw.
    """
    m = base(origin)
    if origin is None:
        return m, []
    lon, lat = origin
    layers: list[folium.map.Layer] = []
    bounds = [[lat, lon]]
    if route is not None and len(route) >= 2:
        line = np.round(np.asarray(route, dtype=float)[:, ::-1], DECIMALS).tolist()
        layers.append(folium.PolyLine(line, color="#ffffff", weight=9, opacity=0.9,
                                      interactive=False, class_name="trouver-route-halo"))
        layers.append(folium.PolyLine(line, color=ROUTE_COLOURS.get(route_mode, "#0a7d3b"),
                                      weight=5, opacity=0.95, interactive=False,
                                      class_name="trouver-route"))
        bounds += line
    feats = []
    for p in places:
        is_chosen = p["id"] == chosen
        feats.append(mapsafe.feature(mapsafe.point(p["lon"], p["lat"]), {
            "tip": f"{p['rang']}. {mapsafe.plain(p['nom'])}",
            "_style": {"radius": 11 if is_chosen else 8,
                       "fillColor": CHOSEN_COLOUR if is_chosen else PLACE_COLOUR,
                       "className": "trouver-place"}}))
        if not chosen or is_chosen:
            bounds.append([p["lat"], p["lon"]])
    feats.append(mapsafe.feature(mapsafe.point(lon, lat), {
        "tip": f"Départ : {mapsafe.plain(origin_label)}",
        "_style": {"radius": 9, "weight": 3, "fillColor": ORIGIN_COLOUR,
                   "className": "trouver-origin"}}))
    layers.append(mapsafe.TextLayer(mapsafe.collection(feats), name="Lieux", tooltip="tip",
                                    control=False,
                                    style={"color": "#ffffff", "weight": 2, "fill": True,
                                           "fillOpacity": 1.0}))
    group = basemap.group(*layers, name="Lieux", control=False)
    if len(bounds) > 1:
        b = np.asarray(bounds)
        basemap.fit(group, [b.min(axis=0).tolist(), b.max(axis=0).tolist()], padding=24,
                    max_zoom=17)
    return m, [group]
