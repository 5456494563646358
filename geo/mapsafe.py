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
import numpy as np
from branca.element import Element, Figure
from folium.elements import ElementAddToElement, Template

#: Characters written as entities in HTML text so that no context folium uses can read
#: them as code: the template literal (`` ` ``, ``$``, ``\\``) and Jinja (``{``, ``}``).
_HTML_EXTRA = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;",
                             "}": "&#125;"})
#: Characters escaped inside JSON strings embedded in a template-rendered ``<script>``.
_JSON_ESCAPES = {c: f"\\u{ord(c):04x}" for c in "{}<>&'`$\u2028\u2029"}
_JSON_TRANSLATE = str.maketrans(_JSON_ESCAPES)
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
    return match.group(0).translate(_JSON_TRANSLATE)


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
  // Packed geometries (see pack_geometries): integer coordinates, each ring's first
  // vertex then the differences, divided by fc.quantum; rings closed again here.
  function run(a, k, close) {
    var out = [], x = 0, y = 0, i;
    for (i = 0; i + 1 < a.length; i += 2) { x += a[i]; y += a[i + 1]; out.push([x / k, y / k]); }
    if (close && out.length) { out.push(out[0]); }
    return out;
  }
  var TYPES = [null, 'Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString',
               'MultiPolygon'];
  function unpack(g, k) {
    var q = g.q, t = g.type;
    if (t === 'Point') { return {type: t, coordinates: [q[0] / k, q[1] / k]}; }
    if (t === 'MultiPoint' || t === 'LineString') { return {type: t, coordinates: run(q, k)}; }
    if (t === 'MultiLineString') {
      return {type: t, coordinates: q.map(function (r) { return run(r, k); })};
    }
    if (t === 'Polygon') {
      return {type: t, coordinates: q.map(function (r) { return run(r, k, true); })};
    }
    return {type: t, coordinates: q.map(function (p) {
      return p.map(function (r) { return run(r, k, true); });
    })};
  }
  if (fc.shapes) {  // columns of properties and [type, packed] shapes (packed_collection)
    var cols = fc.columns || {};
    fc.features = fc.shapes.map(function (s, i) {
      var p = {}, c;
      for (c in cols) { if (Object.prototype.hasOwnProperty.call(cols, c)) { p[c] = cols[c][i]; } }
      return {type: 'Feature', properties: p,
              geometry: s ? {type: TYPES[s[0]], q: s[1]} : null};
    });
  }
  (fc.features || []).forEach(function (f) {
    if (f.geometry && f.geometry.q) { f.geometry = unpack(f.geometry, fc.quantum); }
  });
  function marker(f, ll) {
    var s = styleOf(f), h = o.square;
    if (h) {  // a square cell of half-size h = [dlon, dlat] around the point
      return L.rectangle([[ll.lat - h[1], ll.lng - h[0]], [ll.lat + h[1], ll.lng + h[0]]], s);
    }
    return L.circleMarker(ll, s);
  }
  var layer = L.geoJSON(fc, {
    pane: o.pane || 'overlayPane',
    interactive: o.interactive,
    style: styleOf,
    pointToLayer: marker,
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
    ``square``: points are drawn as squares of half-size ``(dlon, dlat)`` (the 200 m cells)
    instead of circles. Geometries may be packed (:func:`pack_geometries`).
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
                 control: bool = True, show: bool = True,
                 square: tuple[float, float] | None = None) -> None:
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
                   "tooltipOptions": dict(tooltip_options or {}),
                   "square": None if square is None else [float(v) for v in square]}
        self.data = data
        self.data_json = inert_json(data)
        self.options_json = inert_json(options)

    def render(self, **kwargs) -> None:
        """As folium's, except that the rendered script goes into the page as text: folium
        would parse it as a template once more (see the module docstring), pointless for
        inert JSON and slow for a layer of hundreds of shapes."""
        if self.show:
            self.add_child(ElementAddToElement(element_name=self.get_name(),
                                               element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise ValueError("Une couche ne se dessine que dans une carte.")
        script = self._template.module.__dict__["script"]
        figure.script.add_child(_Text(script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _Text(Element):
    """Text put in a page as it is (never read as a template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


def _check_links(data: Mapping[str, Any], prop: str) -> None:
    """Drop link values whose scheme is not allowed (the browser checks again)."""
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        if prop in props and props[prop] is not None and safe_url(props[prop]) is None:
            props[prop] = None
    column = (data.get("columns") or {}).get(prop)
    for i, value in enumerate(column or []):
        if value is not None and safe_url(value) is None:
            column[i] = None


def feature(geometry: Mapping[str, Any] | None, properties: Mapping[str, Any]) -> dict:
    """One GeoJSON feature with JSON-safe properties."""
    return {"type": "Feature", "geometry": geometry,
            "properties": {k: (v if isinstance(v, dict) else jsonable(v))
                           for k, v in properties.items()}}


def point(lon: float, lat: float) -> dict:
    """A GeoJSON point (lon, lat rounded to 6 decimals, RFC 7946)."""
    return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}


def collection(features: Iterable[Mapping[str, Any]], *, decimals: int | None = None) -> dict:
    """A GeoJSON FeatureCollection; ``decimals``: its geometries are packed with
    :func:`pack_geometries` at that precision (the browser unpacks them)."""
    out: dict[str, Any] = {"type": "FeatureCollection", "features": list(features)}
    if decimals is not None:
        out["quantum"] = 10 ** int(decimals)
    return out


#: shapely type ids → the families packed together (ragged arrays of one kind).
_POINTS, _LINES, _POLYGONS = (0, 4), (1, 5), (3, 6)


def _ring_deltas(q: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each run's first vertex, then the differences to the previous vertex."""
    d = q.copy()
    d[1:] -= q[:-1]
    d[starts] = q[starts]
    return d


def pack_geometries(geometries: Sequence[Any] | np.ndarray, decimals: int = 5
                    ) -> list[dict | None]:
    """Compact GeoJSON geometries for a map (EPSG:4326 shapely geometries in, lon/lat).

    Coordinates are rounded to ``decimals`` (5: about 1 m) and written as integers: the
    first vertex of every ring or line, then the difference to the previous vertex (a
    polygon's closing vertex is dropped), as ``{"type": …, "q": […]}`` with the nesting
    of GeoJSON's ``coordinates``. About three times smaller than GeoJSON text; put in a
    :func:`collection` with the same ``decimals``, a :class:`TextLayer` unpacks them in
    the browser. Only numbers: nothing here is text. Missing or empty geometries → None.
    """
    import shapely

    geoms = np.asarray(geometries, dtype=object)
    out: list[dict | None] = [None] * len(geoms)
    if not len(geoms):
        return out
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = np.full(len(geoms), -1)
    types[present] = shapely.get_type_id(geoms[present])
    scale = 10.0 ** int(decimals)
    for family in (_POINTS, _LINES, _POLYGONS):
        rows = np.flatnonzero(np.isin(types, family))
        if not len(rows):
            continue
        _, coords, offsets = shapely.to_ragged_array(geoms[rows])
        q = np.rint(coords[:, :2] * scale).astype(np.int64)
        single = types[rows] == family[0]
        if family is _POINTS and not len(offsets):  # points only
            for r, (x, y) in zip(rows, q.tolist(), strict=True):
                out[r] = {"type": "Point", "q": [x, y]}
            continue
        if family is _POINTS:  # multipoints (points promoted): one run per geometry
            (geom_off,) = offsets
            d = _ring_deltas(q, geom_off[:-1][np.diff(geom_off) > 0]).ravel().tolist()
            for j, r in enumerate(rows):
                a, b = geom_off[j], geom_off[j + 1]
                flat = d[2 * a:2 * b]
                out[r] = ({"type": "Point", "q": [q[a, 0].item(), q[a, 1].item()]}
                          if single[j] else {"type": "MultiPoint", "q": flat})
            continue
        if family is _LINES:
            line_off = offsets[0]
            geom_off = offsets[1] if len(offsets) > 1 else np.arange(len(rows) + 1)
            keep_from, drop_last = line_off[:-1], False
        else:
            line_off = offsets[0]  # rings
            poly_off = offsets[1]
            geom_off = offsets[2] if len(offsets) > 2 else np.arange(len(rows) + 1)
            keep_from, drop_last = line_off[:-1], True
        d = _ring_deltas(q, keep_from).ravel().tolist()

        def run(i: int, d=d, line_off=line_off, drop_last=drop_last) -> list[int]:
            a, b = line_off[i], line_off[i + 1] - (1 if drop_last else 0)
            return d[2 * a:2 * b]

        for j, r in enumerate(rows):
            if family is _LINES:
                lines = [run(i) for i in range(geom_off[j], geom_off[j + 1])]
                out[r] = ({"type": "LineString", "q": lines[0]} if single[j] else
                          {"type": "MultiLineString", "q": lines})
            else:
                polys = [[run(i) for i in range(poly_off[p], poly_off[p + 1])]
                         for p in range(geom_off[j], geom_off[j + 1])]
                out[r] = ({"type": "Polygon", "q": polys[0]} if single[j] else
                          {"type": "MultiPolygon", "q": polys})
    return out


#: GeoJSON geometry types by the code a :func:`packed_collection` gives them.
SHAPE_TYPES = (None, "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
               "MultiPolygon")


def packed_collection(properties: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
                      geometries: Sequence[Mapping[str, Any] | None], decimals: int
                      ) -> dict[str, Any]:
    """A FeatureCollection written compactly for a map: the properties as columns (each
    key once, not once per feature), the geometries packed (:func:`pack_geometries`) as
    ``[type code, packed]``; the browser (:class:`TextLayer`) rebuilds the features.

    ``properties``: one mapping per geometry, or columns (key → one value per geometry).
    """
    n = len(geometries)
    if isinstance(properties, Mapping):
        columns = {str(k): [jsonable(v) if not isinstance(v, dict) else v for v in values]
                   for k, values in properties.items()}
    else:
        keys = list(dict.fromkeys(k for p in properties for k in p))
        columns = {str(k): [(p.get(k) if isinstance(p.get(k), dict) else jsonable(p.get(k)))
                            for p in properties] for k in keys}
    if any(len(v) != n for v in columns.values()):
        raise ValueError("une valeur par géométrie dans chaque colonne")
    code = {t: i for i, t in enumerate(SHAPE_TYPES) if t}
    shapes = [None if g is None else [code[g["type"]], g["q"]] for g in geometries]
    return {"type": "FeatureCollection", "quantum": 10 ** int(decimals), "columns": columns,
            "shapes": shapes, "features": []}


def unpack_geometry(geometry: Mapping[str, Any] | None, quantum: float
                    ) -> dict[str, Any] | None:
    """The GeoJSON geometry of a packed one (what the browser rebuilds; see
    :func:`pack_geometries`). Plain GeoJSON is returned as it is."""
    if geometry is None or "q" not in geometry:
        return None if geometry is None else dict(geometry)

    def run(a: Sequence[int], close: bool = False) -> list[list[float]]:
        xy = np.cumsum(np.asarray(a, dtype=np.int64).reshape(-1, 2), axis=0) / quantum
        out = xy.tolist()
        return [*out, out[0]] if close and out else out

    t, q = geometry["type"], geometry["q"]
    if t == "Point":
        coords: Any = [q[0] / quantum, q[1] / quantum]
    elif t in ("MultiPoint", "LineString"):
        coords = run(q)
    elif t == "MultiLineString":
        coords = [run(r) for r in q]
    elif t == "Polygon":
        coords = [run(r, True) for r in q]
    else:
        coords = [[run(r, True) for r in p] for p in q]
    return {"type": t, "coordinates": coords}


def unpack_collection(fc: Mapping[str, Any]) -> dict[str, Any]:
    """A :func:`collection` or :func:`packed_collection` rebuilt as plain GeoJSON (what the
    browser draws)."""
    quantum = fc.get("quantum", 1)
    features = list(fc.get("features", []))
    if "shapes" in fc:
        columns = fc.get("columns", {})
        features = [{"type": "Feature",
                     "properties": {k: v[i] for k, v in columns.items()},
                     "geometry": None if s is None else {"type": SHAPE_TYPES[s[0]],
                                                         "q": s[1]}}
                    for i, s in enumerate(fc["shapes"])]
    return {"type": "FeatureCollection", "features": [
        {**f, "geometry": unpack_geometry(f.get("geometry"), quantum)} for f in features]}


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
