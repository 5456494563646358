"""The base map every page draws on: Leaflet served locally, OSM credits, readable offline.

Folium's default ``<script>``/``<link>`` tags point at CDNs; :func:`base_map` replaces
them with the copies that ``maillage assets`` installs under ``static/`` so maps
work on a poor connection and in CI. OSM tiles are used when they load; the
commune outlines drawn by :func:`add_outlines` keep the map readable without them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from functools import lru_cache

import folium
import geopandas as gpd

from geo import assets

#: Centre of Martinique and a zoom that shows the whole island.
CENTER = (14.64, -61.02)
ZOOM = 10
BOUNDS = [[14.38, -61.24], [14.89, -60.80]]

OSM_ATTRIBUTION = (
    '© <a href="https://www.openstreetmap.org/copyright">les contributeurs d\'OpenStreetMap</a>'
    " (ODbL)"
)
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def base_map(*, center: tuple[float, float] = CENTER, zoom: int = ZOOM, tiles: bool = True,
             canvas: bool = False, credits: str = "", outlines: bool = True) -> folium.Map:
    """A folium map of Martinique with local Leaflet assets and source credits.

    ``credits`` is appended (as plain text, escaped) to the attribution, for the
    sources of the layers the caller draws. ``canvas`` renders vectors on a canvas
    (for thousands of shapes, e.g. the 200 m grid). ``outlines`` draws the commune
    outlines underneath, so the island stays readable when no tile loads.
    """
    # keyboard=False: Leaflet's keyboard handler focuses the map on mousedown, which
    # scrolls the Streamlit page when the map is partly out of view, so the click
    # lands elsewhere and popups never open (seen in Chromium through the iframe).
    m = folium.Map(location=center, zoom_start=zoom, tiles=None, control_scale=False,
                   prefer_canvas=canvas, min_zoom=8, max_bounds=True, keyboard=False)
    m.add_child(_MetricScaleAndCompactCredits())
    # jQuery first: folium's popups build their content with it.
    m.default_js = [("jquery", assets.JQUERY_JS), ("leaflet", assets.LEAFLET_JS)]
    m.default_css = [("leaflet_css", assets.LEAFLET_CSS)]
    if tiles:
        folium.TileLayer(OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19,
                         control=False).add_to(m)
    # Credits shown even when no tile loads (offline): the tile layer carries the OSM
    # attribution; the other sources are added to the same control.
    extra = [] if tiles else [OSM_ATTRIBUTION]
    if credits:
        extra.append(html.escape(credits))
    if extra:
        m.add_child(_Attribution(" · ".join(extra)))
    folium.map.CustomPane("outlines", z_index=350).add_to(m)
    if outlines:
        folium.GeoJson(
            _outlines_geojson(), name="Communes",
            style_function=lambda _f: {"color": "#6b6b6b", "weight": 1, "fillColor": "#f3efe6",
                                       "fillOpacity": 0.6},
            interactive=False, pane="outlines", control=False,
        ).add_to(m)
    if center == CENTER:
        m.fit_bounds(BOUNDS)
    return m


class _Attribution(folium.MacroElement):
    """Adds the credits to Leaflet's attribution control, independent of any tile layer."""

    _template = folium.elements.Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


@lru_cache(maxsize=1)
def _outlines_geojson() -> dict:
    """The commune outlines as GeoJSON (read once per process)."""
    from geo import communes

    return json.loads(communes.load()[["code_insee", "geometry"]].to_json(drop_id=True))


class _MetricScaleAndCompactCredits(folium.MacroElement):
    """A metric-only scale, and credits that stay small on a phone (no overlap)."""

    _template = folium.elements.Template(
        """{% macro header(this, kwargs) %}
        <style>
          .leaflet-control-attribution { font-size: 11px; line-height: 1.3; }
          @media (max-width: 480px) {
            .leaflet-control-scale { display: none; }
            .leaflet-control-attribution { font-size: 10px; max-width: 75%; }
          }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


def add_outlines(m: folium.Map, communes: gpd.GeoDataFrame, *, name: str = "Communes",
                 color: str = "#555555") -> folium.GeoJson:
    """Draw commune outlines as the offline basemap layer (no fill, no interaction)."""
    layer = folium.GeoJson(
        communes[["code_insee", "geometry"]].to_json(),
        name=name,
        style_function=lambda _f: {"color": color, "weight": 1, "fill": False},
        interactive=False,
        pane="outlines",
        control=False,
    )
    layer.add_to(m)
    return layer


def _walk(element) -> Iterator:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def remote_assets(m: folium.Map) -> list[str]:
    """URLs of scripts/stylesheets the map would load from another host (should be empty)."""
    urls: list[str] = []
    for element in _walk(m):
        for _, url in list(getattr(element, "default_js", [])) + list(
            getattr(element, "default_css", [])
        ):
            if url.startswith(("http://", "https://", "//")):
                urls.append(url)
    return urls
