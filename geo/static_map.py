"""Static maps as inline SVG, drawn offline from the project's own layers.

For documents that must open and print anywhere without a network (the coverage report,
the sheet of a place): no tile server, no script, no external file. Layers (commune
outlines, white zones, places, stops, roads, a route) are projected to EPSG:5490,
clipped to the frame, simplified to well under a pixel and written with coordinates
rounded to a tenth of a pixel, so the same layers always give the same bytes.

Only numbers and colours of this module's own palette go into the drawing; the one text
that can come from the caller (the map's title, the legend labels) is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from maillage import fmt
from maillage.settings import CRS_MEASURE, CRS_STORE

#: The palette of the dashboard's maps (geo/coverage_layers.py, geo/stops_layer.py).
SEA = "#eaf3fa"
LAND = "#fbfaf6"
OUTLINE = "#8c8c8c"
LAND_CONTEXT = "#f1f0ec"
ZONE = "#d95f02"  # orange, as the Couverture page now draws them
PLACE = "#084081"
WHATIF = "#e7298a"
STOP = "#b30000"
STOP_FILL = "#fc8d59"
ROAD = "#c9c3b8"
ROUTE = "#1a9850"
ORIGIN = "#d7301f"
#: Nice lengths for the scale bar (metres).
_SCALE_STEPS = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000)


@dataclass(frozen=True)
class Style:
    """How one layer is drawn (colours are this module's constants, never data).

    ``marker``: how points are drawn (``circle``, ``square``, ``diamond`` or ``star``),
    ``radius`` in pixels. ``width`` is the stroke width in pixels.
    """

    fill: str = "none"
    stroke: str = OUTLINE
    width: float = 0.8
    opacity: float = 1.0
    marker: str = "circle"
    radius: float = 3.0
    dash: str = ""


@dataclass(frozen=True)
class Layer:
    """Geometries in EPSG:5490 drawn with one style; ``label`` names it in the legend
    (empty: not listed); ``numbers`` writes a number at each geometry (e.g. zone ranks)."""

    geometries: tuple[BaseGeometry, ...]
    style: Style
    label: str = ""
    numbers: tuple[int, ...] = ()


def layer(data: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[BaseGeometry], style: Style,
          label: str = "", *, crs: str | None = None, numbers: Sequence[int] = ()) -> Layer:
    """A :class:`Layer` from a GeoDataFrame/GeoSeries (any CRS) or geometries in ``crs``
    (EPSG:5490 when not given). Empty and missing geometries are dropped."""
    if isinstance(data, gpd.GeoDataFrame):
        data = data.geometry
    if isinstance(data, gpd.GeoSeries):
        series = data.to_crs(CRS_MEASURE) if data.crs is not None else data
    else:
        series = gpd.GeoSeries(list(data), crs=crs or CRS_MEASURE).to_crs(CRS_MEASURE)
    geoms = tuple(g for g in series if g is not None and not g.is_empty)
    nums = tuple(int(n) for n in numbers)
    if nums and len(nums) != len(geoms):
        raise ValueError("numbers: un nombre par géométrie")
    return Layer(geoms, style, label, nums)


def points(lonlat: Iterable[tuple[float, float]], style: Style, label: str = "") -> Layer:
    """Points given as (lon, lat) rows (EPSG:4326)."""
    rows = np.asarray(list(lonlat), dtype=np.float64).reshape(-1, 2)
    series = gpd.GeoSeries(gpd.points_from_xy(rows[:, 0], rows[:, 1]), crs=CRS_STORE)
    return layer(series, style, label)


def line(lonlat: np.ndarray, style: Style, label: str = "") -> Layer:
    """One line given as (lon, lat) rows (nothing drawn with fewer than two)."""
    rows = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    if len(rows) < 2:
        return Layer((), style, label)
    series = gpd.GeoSeries([shapely.LineString(rows)], crs=CRS_STORE)
    return layer(series, style, label)


def graph_lines(g, extent: tuple[float, float, float, float]) -> list[BaseGeometry]:
    """The road edges of graph ``g`` (:class:`analysis.graph.Graph`) that enter ``extent``
    (EPSG:5490), as lines in EPSG:5490 in edge order."""
    x0, y0, x1, y1 = extent
    xy = np.asarray(g.geom_xy, dtype=np.float64)
    off = np.asarray(g.geom_off, dtype=np.int64)
    if len(off) < 2:
        return []
    inside = ((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    # an edge is kept when one of its vertices is inside (short edges: good enough at
    # map scale; the frame's margin hides the rest)
    counts = np.add.reduceat(inside.astype(np.int64), off[:-1]) if len(xy) else np.zeros(0)
    counts = np.where(np.diff(off) > 0, counts, 0)
    keep = np.flatnonzero(counts > 0)
    return [shapely.LineString(xy[off[e]:off[e + 1]]) for e in keep if off[e + 1] - off[e] >= 2]


def extent_of(geoms: Iterable[BaseGeometry], pad: float = 0.04, min_size_m: float = 0.0
              ) -> tuple[float, float, float, float]:
    """The bounding box of ``geoms`` (EPSG:5490), padded by ``pad`` of its size and at
    least ``min_size_m`` wide and high (around its centre)."""
    bounds = np.array([g.bounds for g in geoms if g is not None and not g.is_empty])
    if not len(bounds):
        raise ValueError("aucune géométrie pour cadrer la carte")
    x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
    x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
    w = max(x1 - x0, min_size_m)
    h = max(y1 - y0, min_size_m)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _num(v: float) -> str:
    """A pixel coordinate, a tenth of a pixel at most (``12``, ``12.3``, never ``-0``)."""
    r = round(v, 1)
    if r == 0:
        return "0"
    text = f"{r:.1f}"
    return text[:-2] if text.endswith(".0") else text


class _Frame:
    """Metres (EPSG:5490) to pixels of the drawing."""

    def __init__(self, extent: tuple[float, float, float, float], width: float,
                 max_height: float):
        x0, y0, x1, y1 = extent
        dx, dy = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        self.scale = min(width / dx, max_height / dy)
        self.x0, self.y1 = x0, y1
        self.width = dx * self.scale
        self.height = dy * self.scale
        self.extent = extent

    def px(self, coords: np.ndarray) -> np.ndarray:
        c = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        return np.column_stack([(c[:, 0] - self.x0) * self.scale,
                                (self.y1 - c[:, 1]) * self.scale])

    def ring(self, coords: np.ndarray, close: bool) -> str:
        p = np.round(self.px(coords), 1)
        if len(p) > 1:  # drop points that round onto the previous one
            keep = np.concatenate([[True], np.any(np.diff(p, axis=0) != 0, axis=1)])
            p = p[keep]
        if len(p) < (3 if close else 2):
            return ""
        if close and len(p) > 1 and np.array_equal(p[0], p[-1]):
            p = p[:-1]
        body = " ".join(f"{_num(x)},{_num(y)}" for x, y in p)
        return f"M{body}{'Z' if close else ''}"


def _parts(g: BaseGeometry) -> Iterable[BaseGeometry]:
    if hasattr(g, "geoms"):
        for part in g.geoms:
            yield from _parts(part)
    else:
        yield g


def _path_data(frame: _Frame, geom: BaseGeometry) -> tuple[str, list[np.ndarray]]:
    """SVG path data of the polygons and lines of ``geom``, and its points."""
    d: list[str] = []
    pts: list[np.ndarray] = []
    for part in _parts(geom):
        kind = part.geom_type
        if kind == "Polygon":
            for ring in (part.exterior, *part.interiors):
                d.append(frame.ring(np.asarray(ring.coords), close=True))
        elif kind in ("LineString", "LinearRing"):
            d.append(frame.ring(np.asarray(part.coords), close=False))
        elif kind == "Point":
            pts.append(np.asarray(part.coords)[0])
    return "".join(x for x in d if x), pts


def _marker(style: Style, x: float, y: float) -> str:
    r = style.radius
    common = (f'fill="{style.fill}" stroke="{style.stroke}" '
              f'stroke-width="{_num(style.width)}"')
    if style.marker == "square":
        return (f'<rect x="{_num(x - r)}" y="{_num(y - r)}" width="{_num(2 * r)}" '
                f'height="{_num(2 * r)}" {common}/>')
    if style.marker == "diamond":
        return (f'<path d="M{_num(x)},{_num(y - r * 1.3)} {_num(x + r * 1.3)},{_num(y)} '
                f'{_num(x)},{_num(y + r * 1.3)} {_num(x - r * 1.3)},{_num(y)}Z" {common}/>')
    if style.marker == "star":
        corners = []
        for k in range(10):
            a = math.pi / 2 + k * math.pi / 5
            rr = r * 1.5 if k % 2 == 0 else r * 0.65
            corners.append(f"{_num(x + rr * math.cos(a))},{_num(y - rr * math.sin(a))}")
        return f'<path d="M{" ".join(corners)}Z" {common}/>'
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}" {common}/>'


def _style_attrs(style: Style, filled: bool) -> str:
    attrs = [f'fill="{style.fill if filled else "none"}"', f'stroke="{style.stroke}"',
             f'stroke-width="{_num(style.width)}"']
    if style.opacity < 1:
        attrs.append(f'fill-opacity="{style.opacity:g}"')
    if style.dash:
        attrs.append(f'stroke-dasharray="{style.dash}"')
    return " ".join(attrs)


def _scale_bar(frame: _Frame) -> str:
    """A scale bar at the bottom left, about a fifth of the width."""
    target = frame.width / 5 / frame.scale
    metres = max((s for s in _SCALE_STEPS if s <= target), default=_SCALE_STEPS[0])
    px = metres * frame.scale
    x, y = 10.0, frame.height - 12.0
    label = html.escape(fmt.distance(int(metres)))
    return (f'<g font-size="11" font-family="sans-serif" fill="#333">'
            f'<rect x="{_num(x - 4)}" y="{_num(y - 16)}" width="{_num(px + 8)}" height="22" '
            f'fill="#fff" fill-opacity="0.8"/>'
            f'<path d="M{_num(x)},{_num(y - 4)} {_num(x)},{_num(y)} {_num(x + px)},{_num(y)} '
            f'{_num(x + px)},{_num(y - 4)}" fill="none" stroke="#333" stroke-width="1.5"/>'
            f'<text x="{_num(x + px / 2)}" y="{_num(y - 5)}" text-anchor="middle">{label}'
            "</text></g>")


def _north(frame: _Frame) -> str:
    x, y = frame.width - 16.0, 14.0
    return (f'<g font-size="11" font-family="sans-serif" fill="#333" text-anchor="middle">'
            f'<path d="M{_num(x)},{_num(y)} {_num(x + 5)},{_num(y + 14)} {_num(x)},'
            f'{_num(y + 10)} {_num(x - 5)},{_num(y + 14)}Z" fill="#333"/>'
            f'<text x="{_num(x)}" y="{_num(y + 26)}">N</text></g>')


def render(layers: Sequence[Layer], extent: tuple[float, float, float, float], *,
           title: str, width: float = 680.0, max_height: float = 760.0,
           simplify_px: float = 0.5, scale_bar: bool = True) -> str:
    """The layers drawn in order (first at the bottom) in ``extent`` (EPSG:5490) as one
    ``<svg>`` element, ``width`` pixels wide at most, scalable (``viewBox``).

    ``title`` (escaped) is the drawing's accessible name.
    """
    frame = _Frame(extent, width, max_height)
    tol = simplify_px / frame.scale
    x0, y0, x1, y1 = extent
    margin = 4 * tol + 10 / frame.scale
    box = shapely.box(x0 - margin, y0 - margin, x1 + margin, y1 + margin)
    w, h = _num(frame.width), _num(frame.height)
    out = [f'<svg viewBox="0 0 {w} {h}" '
           f'class="carte" role="img" aria-label="{html.escape(title, quote=True)}">',
           f"<title>{html.escape(title)}</title>",
           f'<rect x="0" y="0" width="{w}" height="{h}" fill="{SEA}"/>']
    for lay in layers:
        st = lay.style
        paths: list[str] = []
        marks: list[str] = []
        labels: list[str] = []
        for i, geom in enumerate(lay.geometries):
            if geom.geom_type in ("Point", "MultiPoint"):
                for p in _parts(geom):
                    c = np.asarray(p.coords)[0]
                    if x0 - margin <= c[0] <= x1 + margin and y0 - margin <= c[1] <= y1 + margin:
                        px, py = frame.px(c)[0]
                        marks.append(_marker(st, px, py))
                        if lay.numbers:
                            labels.append(f'<text x="{_num(px + st.radius + 7)}" '
                                          f'y="{_num(py + 4)}">{lay.numbers[i]}</text>')
                continue
            if not geom.intersects(box):
                continue
            g = shapely.clip_by_rect(geom, *box.bounds)
            if tol > 0:
                g = g.simplify(tol, preserve_topology=True)
            d, _ = _path_data(frame, g)
            if d:
                paths.append(d)
            if lay.numbers:
                at = geom.representative_point()
                if box.contains(at):
                    px, py = frame.px(np.asarray(at.coords)[0])[0]
                    labels.append(
                        f'<text x="{_num(px)}" y="{_num(py + 4)}">{lay.numbers[i]}</text>')
        if paths:
            filled = st.fill != "none"
            out.append(f'<path {_style_attrs(st, filled)} fill-rule="evenodd" '
                       f'stroke-linejoin="round" stroke-linecap="round" d="{"".join(paths)}"/>')
        out.extend(marks)
        if labels:
            out.append('<g font-size="11" font-weight="bold" font-family="sans-serif" '
                       f'fill="{st.stroke}" stroke="#fff" stroke-width="3" paint-order="stroke" '
                       f'text-anchor="middle">{"".join(labels)}</g>')
    if scale_bar:
        out.append(_scale_bar(frame))
        out.append(_north(frame))
    out.append("</svg>")
    return "".join(out)


def _swatch(style: Style, kind: str) -> str:
    """A 22 × 14 px sample of a style for the legend."""
    if kind == "point":
        body = _marker(replace(style, radius=min(style.radius, 5.0)), 11, 7)
    elif kind == "line":
        body = (f'<path d="M1,7 21,7" fill="none" stroke="{style.stroke}" '
                f'stroke-width="{_num(max(style.width, 1.5))}"'
                + (f' stroke-dasharray="{style.dash}"' if style.dash else "") + "/>")
    else:
        body = (f'<rect x="1" y="1" width="20" height="12" '
                f'{_style_attrs(style, style.fill != "none")}/>')
    return (f'<svg width="22" height="14" '
            f'viewBox="0 0 22 14" aria-hidden="true">{body}</svg>')


def legend_html(layers: Sequence[Layer]) -> str:
    """A legend (HTML list, labels escaped) of the layers that have a label."""
    items = []
    for lay in layers:
        if not lay.label:
            continue
        types = {g.geom_type for g in lay.geometries}
        kind = ("point" if types <= {"Point", "MultiPoint"} and types else
                "line" if types and types <= {"LineString", "MultiLineString"} else "area")
        if not types:
            kind = "line" if lay.style.fill == "none" else "area"
        items.append(f"<li>{_swatch(lay.style, kind)} {html.escape(lay.label)}</li>")
    return f'<ul class="legende">{"".join(items)}</ul>' if items else ""
