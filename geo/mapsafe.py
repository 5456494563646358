"""The one way text that the code did not write enters a map: as data, set as text.

Why a module of its own: folium (through branca) renders every element's script with
Jinja and then wraps the *output* in a new ``Element``, whose constructor parses it
as a Jinja template again. Any ``{{ … }}`` or ``{% … %}`` inside a popup, a tooltip
or a GeoJSON property is therefore evaluated on the server (remote code execution
through ``lipsum.__globals__``), and a stray ``{%`` breaks the page. Folium also puts
popup and tooltip strings inside JavaScript template literals (`` `…` ``), where
``${…}`` runs, and its GeoJSON tooltips/popups write property values with
``innerHTML``.

The rules, enforced here and checked by :func:`assert_inert` before a map is shown:

* :class:`TextLayer` carries features as GeoJSON properties serialised by
  :func:`inert_json` (every ``{``, ``}``, ``<``, ``>``, ``&``, ``'``, `` ` ``, ``$`` and
  line separator inside a string written as a ``\\uXXXX`` escape, so no template
  delimiter and no ``</script>`` can appear), and builds its tooltips and popups in
  the browser with ``textContent``: text is never parsed as HTML.
* Where folium needs an HTML string (a tooltip on a plain vector), :func:`text` escapes
  it for HTML, for the template literal and for the template engine at once.
* Links from data keep only ``http(s):``, ``mailto:`` and ``tel:`` (:func:`safe_url`,
  checked again in the browser).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import folium
from branca.element import Element, Figure
from folium.elements import Template

#: Characters written as entities in HTML text so that no context folium uses can read
#: them as code: the template literal (`` ` ``, ``$``, ``\\``) and Jinja (``{``, ``}``).
_HTML_EXTRA = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;",
                             "}": "&#125;"})
#: Characters escaped inside JSON strings embedded in a template-rendered ``<script>``.
_JSON_ESCAPES = {c: f"\\u{ord(c):04x}" for c in "{}<>&'`$\u2028\u2029"}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
#: Jinja's opening delimiters; none may survive into a map's rendered source.
TEMPLATE_DELIMITERS = ("{{", "{%", "{#")
#: URL schemes a link from data may use.
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")


def plain(value: object) -> str:
    """``value`` as display text: ``""`` for None and NaN, else ``str``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def text(value: object) -> str:
    """HTML text that is inert as HTML, inside a JS template literal and for Jinja."""
    return html.escape(plain(value), quote=True).translate(_HTML_EXTRA)


def safe_url(value: object) -> str | None:
    """``value`` if it is an ``http(s):``, ``mailto:`` or ``tel:`` link, else None."""
    url = plain(value).strip()
    if not url or any(ord(c) < 32 or (c.isspace() and c != " ") for c in url):
        return None
    return url if url.lower().startswith(SAFE_SCHEMES) else None


def _escape_string(match: re.Match[str]) -> str:
    token = match.group(0)
    return "".join(_JSON_ESCAPES.get(c, c) for c in token)


def inert_json(obj: Any) -> str:
    """JSON of ``obj`` safe inside a ``<script>`` that Jinja renders (twice).

    Structural braces of compact JSON never form ``{{``, ``{%`` or ``{#`` (an object
    always opens on ``"`` or ``}``); every special character inside a string is
    written as ``\\uXXXX``, which JSON and JavaScript read back as the same character.
    """
    raw = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return _JSON_STRING.sub(_escape_string, raw)


def jsonable(value: object) -> Any:
    """A property value JSON can carry: NaN/None → None, numpy scalars → Python."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


#: The browser side of :class:`TextLayer`: our own code, built from DOM nodes and
#: ``textContent`` only. Kept free of Jinja delimiters (it is rendered as a template).
_LAYER_JS = """
(function (fc, o) {
  function node(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined && txt !== null) { e.textContent = String(txt); }
    return e;
  }
  function href(u) {
    var s = String(u).trim();
    return /^(https?:\\/\\/|mailto:|tel:)/i.test(s) ? s : null;
  }
  function card(p, title, fields) {
    var d = node('div', 'maillage-card');
    if (title) { d.appendChild(node('b', o.titleClass || 'maillage-title', p[title])); }
    (fields || []).forEach(function (f) {
      var v = p[f[0]];
      if (v === undefined || v === null || v === '') { return; }
      var row = node('div', 'maillage-field');
      row.appendChild(node('i', null, f[1]));
      row.appendChild(document.createTextNode(' : '));
      var h = f[2] === 'link' ? href(v) : null;
      if (h) {
        var a = node('a', null, v); a.href = h; a.rel = 'noopener noreferrer';
        a.target = '_blank'; row.appendChild(a);
      } else { row.appendChild(document.createTextNode(String(v))); }
      d.appendChild(row);
    });
    return d;
  }
  function styleOf(f) {
    return Object.assign({}, o.style, (f && f.properties && f.properties._style) || {});
  }
  var layer = L.geoJSON(fc, {
    pane: o.pane || 'overlayPane',
    interactive: o.interactive,
    style: styleOf,
    pointToLayer: function (f, ll) { return L.circleMarker(ll, styleOf(f)); },
    onEachFeature: function (f, l) {
      var p = f.properties || {};
      if (o.tooltip && p[o.tooltip] !== undefined && p[o.tooltip] !== null) {
        l.bindTooltip(node('span', 'maillage-tip', p[o.tooltip]), o.tooltipOptions || {});
      } else if (o.tooltipFields) {
        l.bindTooltip(card(p, null, o.tooltipFields), o.tooltipOptions || {});
      }
      if (o.popup) {
        l.bindPopup(function () { return card(p, o.title, o.fields); }, { maxWidth: 320 });
      }
      if (o.highlight) {
        l.on('mouseover', function () { if (l.setStyle) { l.setStyle(o.highlight); } });
        l.on('mouseout', function () { if (l.setStyle) { l.setStyle(styleOf(f)); } });
      }
    }
  });
  return layer;
})
"""


class TextLayer(folium.map.Layer):
    """GeoJSON features whose tooltip and popup are built from properties as text.

    ``data``: a GeoJSON FeatureCollection (EPSG:4326). ``style``: Leaflet path options
    for every feature (a feature's ``_style`` property overrides them; points become
    circle markers with the same options). ``tooltip``: the property shown on hover.
    ``title``/``fields``: the popup, a title property then ``(property, French label)``
    rows, or ``(property, label, "link")`` for a link checked by :func:`safe_url`.
    ``tooltip_fields``: a tooltip made of such rows instead of one property.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = """ + _LAYER_JS + """({{ this.data_json }}, {{ this.options_json }});
{% endmacro %}"""
    )

    def __init__(self, data: Mapping[str, Any], *, name: str | None = None,
                 style: Mapping[str, Any] | None = None, tooltip: str | None = None,
                 title: str | None = None, title_class: str | None = None,
                 fields: Sequence[tuple[str, ...]] = (),
                 tooltip_fields: Sequence[tuple[str, str]] = (),
                 highlight: Mapping | None = None,
                 interactive: bool = True, pane: str | None = None,
                 tooltip_options: Mapping[str, Any] | None = None, overlay: bool = True,
                 control: bool = True, show: bool = True) -> None:
        super().__init__(name=name, overlay=overlay, control=control, show=show)
        self._name = "TextLayer"
        fields = [tuple(f) for f in fields]
        for prop in fields:
            if len(prop) == 3 and prop[2] == "link":
                _check_links(data, prop[0])
        options = {"style": dict(style or {}), "tooltip": tooltip, "title": title,
                   "titleClass": title_class, "fields": [list(f) for f in fields],
                   "popup": bool(title or fields),
                   "tooltipFields": [list(f) for f in tooltip_fields] or None,
                   "highlight": dict(highlight or {}) or None,
                   "interactive": interactive, "pane": pane,
                   "tooltipOptions": dict(tooltip_options or {})}
        self.data = data
        self.data_json = inert_json(data)
        self.options_json = inert_json(options)


def _check_links(data: Mapping[str, Any], prop: str) -> None:
    """Drop link values whose scheme is not allowed (the browser checks again)."""
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        if prop in props and props[prop] is not None and safe_url(props[prop]) is None:
            props[prop] = None


def feature(geometry: Mapping[str, Any] | None, properties: Mapping[str, Any]) -> dict:
    """One GeoJSON feature with JSON-safe properties."""
    return {"type": "Feature", "geometry": geometry,
            "properties": {k: (v if isinstance(v, dict) else jsonable(v))
                           for k, v in properties.items()}}


def point(lon: float, lat: float) -> dict:
    """A GeoJSON point (lon, lat rounded to 6 decimals, RFC 7946)."""
    return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}


def collection(features: Iterable[Mapping[str, Any]]) -> dict:
    """A GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": list(features)}


# --------------------------------------------------------------------------- checks
def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def _strings(element: Element) -> Iterator[str]:
    """The text-bearing values of a folium element that Jinja will render twice."""
    if isinstance(element, TextLayer):
        yield element.data_json
        yield element.options_json
        return
    if isinstance(element, folium.Tooltip):
        yield str(element.text)
    data = getattr(element, "data", None)
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict | list):
        yield json.dumps(data, ensure_ascii=False)
    for attr in ("layer_name", "tile_name", "text"):
        value = getattr(element, attr, None)
        if isinstance(value, str):
            yield value


def assert_inert(m: folium.Map | Figure) -> None:
    """Refuse a map in which text could still be read as a template or leave its string.

    A programming error, not a user's: raised as ``ValueError`` so tests catch the
    layer that let raw text through before any visitor sees it.
    """
    for element in _walk(m):
        for value in _strings(element):
            if any(d in value for d in TEMPLATE_DELIMITERS):
                raise ValueError(f"Texte non neutralisé dans {type(element).__name__} : "
                                 "délimiteur de gabarit.")
            if isinstance(element, folium.Tooltip) and ("`" in value or "${" in value):
                raise ValueError("Texte non neutralisé dans une infobulle.")
