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


def finder_map(origin: tuple[float, float] | None, origin_label: str = "",
               places: Sequence[dict] = (), chosen: str = "",
               route: np.ndarray | None = None, route_mode: str = "walk") -> folium.Map:
    """A map centred on ``origin`` (lon, lat) with numbered places and the chosen route.

    ``places``: dicts with ``id``, ``nom``, ``lon``, ``lat``, ``rang``. ``route``: (m, 2)
    lon/lat vertices of the line to draw.
    """
    credits = "adresses BANO (mars 2015), registre Maillage"
    if origin is None:
        return basemap.base_map(credits=credits)
    lon, lat = origin
    m = basemap.base_map(center=(lat, lon), zoom=15, credits=credits)
    bounds = [[lat, lon]]
    if route is not None and len(route) >= 2:
        line = [[float(y), float(x)] for x, y in route]
        folium.PolyLine(line, color="#ffffff", weight=9, opacity=0.9, interactive=False,
                        class_name="trouver-route-halo").add_to(m)
        folium.PolyLine(line, color=ROUTE_COLOURS.get(route_mode, "#0a7d3b"), weight=5,
                        opacity=0.95, interactive=False, class_name="trouver-route").add_to(m)
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
    mapsafe.TextLayer(mapsafe.collection(feats), name="Lieux", tooltip="tip", control=False,
                      style={"color": "#ffffff", "weight": 2, "fill": True,
                             "fillOpacity": 1.0}).add_to(m)
    if len(bounds) > 1:
        b = np.asarray(bounds)
        m.fit_bounds([b.min(axis=0).tolist(), b.max(axis=0).tolist()], padding=(24, 24),
                     max_zoom=17)
    return m
