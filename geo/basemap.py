"""The base map every page draws on: Leaflet served locally, OSM credits, readable offline.

Folium's default ``<script>``/``<link>`` tags point at CDNs; :func:`base_map` replaces
them with the copies that ``maillage assets`` installs under ``static/`` so maps
work on a poor connection and in CI. OSM tiles are used when they load; the
commune outlines drawn by :func:`add_outlines` keep the map readable without them.
"""

from __future__ import annotations

import hashlib
import html
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from functools import lru_cache

import folium
import geopandas as gpd
import numpy as np

from geo import assets, mapsafe

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
        mapsafe.TextLayer(
            _outlines_geojson(), name="Communes",
            style={"color": "#6b6b6b", "weight": 1, "fillColor": "#f3efe6",
                   "fillOpacity": 0.6},
            interactive=False, pane="outlines", control=False,
        ).add_to(m)
    if center == CENTER:
        m.fit_bounds(BOUNDS)
    return m


# --------------------------------------------------------------------------- light layers
#
# What a map sends is what the browser receives on every change of its layers: shapes are
# simplified for the zoom they are looked at (half a screen pixel there) and their
# coordinates rounded to what that zoom can show, then packed (geo.mapsafe.pack_geometries).

#: Latitude of Martinique, for the size of a screen pixel on the ground.
_LAT = 14.64


def metres_per_pixel(zoom: float) -> float:
    """Ground size of one screen pixel of a Web Mercator map at ``zoom``, in Martinique."""
    return 156_543.033_92 * math.cos(math.radians(_LAT)) / 2 ** zoom


def decimals_for(zoom: float) -> int:
    """Decimals of a degree that keep rounding under half a pixel at ``zoom`` (at most 6)."""
    per_degree = 2 * 256 * 2 ** zoom / 360.0  # half-pixels per degree of longitude
    return int(min(6, max(3, math.ceil(math.log10(per_degree)))))


def for_zoom(geometry: gpd.GeoSeries, zoom: float) -> np.ndarray:
    """``geometry`` (any CRS) simplified by half a pixel at ``zoom``, in EPSG:4326."""
    import shapely

    from maillage import settings

    measured = geometry.to_crs(settings.CRS_MEASURE) if geometry.crs is not None else geometry
    simple = shapely.simplify(measured.to_numpy(), metres_per_pixel(zoom) / 2,
                              preserve_topology=True)
    out = gpd.GeoSeries(simple, crs=measured.crs)
    return (out.to_crs(settings.CRS_STORE) if out.crs is not None else out).to_numpy()


_LIGHT: OrderedDict[tuple, list] = OrderedDict()
_LIGHT_LOCK = threading.Lock()


def light(geometry: gpd.GeoSeries, zoom: float) -> list[dict | None]:
    """The packed geometries of ``geometry`` for a map looked at up to ``zoom``
    (:func:`for_zoom`, :func:`decimals_for`); put them in a
    ``mapsafe.collection(…, decimals=decimals_for(zoom))``.

    Kept for the 64 last shapes asked (keyed on their bytes): the communes or today's
    white zones are prepared once, whoever asks. The lists are shared: do not modify them.
    """
    import shapely

    digest = hashlib.sha1(str(geometry.crs).encode())
    for wkb in shapely.to_wkb(geometry.to_numpy()):
        digest.update(b"-" if wkb is None else wkb)
    key = (digest.hexdigest(), float(zoom))
    with _LIGHT_LOCK:
        if key in _LIGHT:
            _LIGHT.move_to_end(key)
            return _LIGHT[key]
    packed = mapsafe.pack_geometries(for_zoom(geometry, zoom), decimals_for(zoom))
    with _LIGHT_LOCK:
        _LIGHT[key] = packed
        while len(_LIGHT) > 64:
            _LIGHT.popitem(last=False)
    return packed


def feature_collection(properties: Sequence[dict] | dict[str, Sequence], geometry: gpd.GeoSeries,
                       zoom: float) -> dict:
    """A compact collection (``mapsafe.packed_collection``) of ``geometry``, light for
    ``zoom``, with one properties dict each (or columns: key → one value each)."""
    return mapsafe.packed_collection(properties, light(geometry, zoom), decimals_for(zoom))


# --------------------------------------------------------------------------- layer groups
#
# ``ui.maps.show`` sends a page's base map once and its layer groups apart: a change of the
# groups redraws them in the same map (no reload, the view kept) when the base is the same.


def group(*layers: folium.map.Layer, name: str | None = None,
          control: bool = True) -> folium.FeatureGroup:
    """One layer group holding ``layers`` (named after the first when ``name`` is None)."""
    first = layers[0] if layers else None
    name = name or (getattr(first, "layer_name", None) if first is not None else None)
    fg = folium.FeatureGroup(name=name, control=control)
    for layer in layers:
        layer.control = False
        layer.add_to(fg)
    return fg


class _FitMap(folium.MacroElement):
    """Fits the map (the group's parent) to bounds when the group is drawn."""

    _template = folium.elements.Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent._parent.get_name() }}.fitBounds({{ this.bounds|tojson }},
            {{ this.options|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, bounds: list[list[float]], padding: int, max_zoom: int | None) -> None:
        super().__init__()
        self._name = "FitMap"
        self.bounds = [[float(v) for v in corner] for corner in bounds]
        self.options = {"padding": [padding, padding]}
        if max_zoom is not None:
            self.options["maxZoom"] = int(max_zoom)


def fit(fg: folium.FeatureGroup, bounds: list[list[float]], *, padding: int = 10,
        max_zoom: int | None = None) -> folium.FeatureGroup:
    """Make the map fit ``bounds`` ``[[south, west], [north, east]]`` when ``fg`` is drawn
    (each time it changes): the view follows the result without reloading the map."""
    fg.add_child(_FitMap(bounds, padding, max_zoom))
    return fg


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


#: The commune outlines are drawn under maps looked at up to this zoom.
OUTLINES_ZOOM = 14


@lru_cache(maxsize=1)
def _outlines_geojson() -> dict:
    """The commune outlines, light for :data:`OUTLINES_ZOOM` (read once per process)."""
    from geo import communes

    outlines = communes.load()
    return feature_collection({}, outlines.geometry, OUTLINES_ZOOM)


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
                 color: str = "#555555") -> mapsafe.TextLayer:
    """Draw commune outlines as the offline basemap layer (no fill, no interaction)."""
    layer = mapsafe.TextLayer(
        feature_collection({}, communes.geometry, OUTLINES_ZOOM),
        name=name, style={"color": color, "weight": 1, "fill": False},
        interactive=False, pane="outlines", control=False,
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
