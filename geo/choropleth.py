"""Commune choropleth and 200 m grid layers for the home map.

Colours come from quantile classes computed here; the legend is returned as
data so pages draw it in Streamlit (no branca colormap: it loads scripts from CDNs).
Every text value placed in a tooltip is HTML-escaped first.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import basemap, mapsafe
from maillage import fmt

#: Communes are looked at from the whole island to a few neighbourhoods (zoom 10 to 12).
COMMUNES_ZOOM = 12

#: Sequential palette (light → dark), ColorBrewer "YlGnBu", 5 classes.
PALETTE = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]
NO_DATA = "#cccccc"


@dataclass(frozen=True)
class Legend:
    """Class breaks and their colours, for a legend drawn by the page."""

    title: str
    colors: list[str]
    labels: list[str]


def fmt_value(value: float, unit: str) -> str:
    """A value formatted the French way (space thousands, comma decimals)."""
    if unit == "%":
        return fmt.percent(value, 1)
    if unit == "score":
        return fmt.number(value, 1)
    return fmt.number(value, 0, unit)


def classify(values: pd.Series, n: int = len(PALETTE)) -> tuple[np.ndarray, np.ndarray]:
    """Quantile class of each value (-1 for missing) and the class edges."""
    clean = values.dropna().to_numpy(dtype=float)
    if clean.size == 0:
        return np.full(len(values), -1), np.array([])
    edges = np.unique(np.quantile(clean, np.linspace(0, 1, n + 1)))
    if edges.size < 2:
        edges = np.array([clean.min(), clean.max() + 1e-9])
    cls = np.clip(np.searchsorted(edges, values.to_numpy(dtype=float), side="right") - 1,
                  0, edges.size - 2)
    cls = np.where(values.isna().to_numpy(), -1, cls)
    return cls, edges


def colors_for(values: pd.Series, title: str, unit: str) -> tuple[list[str], Legend]:
    """A colour per value and the matching legend."""
    cls, edges = classify(values)
    k = max(edges.size - 1, 1)
    palette = PALETTE if k >= len(PALETTE) else PALETTE[-k:]
    colors = [palette[c] if c >= 0 else NO_DATA for c in cls]
    labels = [
        f"{fmt_value(edges[i], unit)} – {fmt_value(edges[i + 1], unit)}"
        for i in range(edges.size - 1)
    ]
    return colors, Legend(title, list(palette[: len(labels)]), labels)


def commune_layer(communes: gpd.GeoDataFrame, values: pd.Series, *, title: str, unit: str,
                  tooltip_fields: dict[str, str], highlight: set[str] | None = None,
                  ) -> tuple[mapsafe.TextLayer, Legend]:
    """Communes shaded by ``values`` with a text-only tooltip.

    ``tooltip_fields`` maps column → French label; ``highlight`` holds the INSEE
    codes drawn opaque (the others are faded, e.g. outside the chosen EPCI).
    """
    colors, legend = colors_for(values, title, unit)
    codes = communes["code_insee"].astype(str).tolist()
    texts = {col: communes[col].map(mapsafe.plain).tolist() for col in tooltip_fields}
    on = [highlight is None or c in highlight for c in codes]
    props = [{"code_insee": code, **{col: texts[col][i] for col in tooltip_fields},
              "_style": {"fillColor": c, "fillOpacity": 0.75 if o else 0.15,
                         "weight": 1.2 if o else 0.5}}
             for i, (code, c, o) in enumerate(zip(codes, colors, on, strict=True))]
    data = basemap.feature_collection(props, communes.geometry, COMMUNES_ZOOM)
    layer = mapsafe.TextLayer(
        data, name=title, style={"color": "#333333"},
        highlight={"weight": 3, "color": "#000000"},
        tooltip_fields=list(tooltip_fields.items()), tooltip_options={"sticky": True},
    )
    return layer, legend


def cells_collection(grid: gpd.GeoDataFrame, colours: list[str] | np.ndarray) -> dict:
    """The 200 m cells of ``grid`` coloured by ``colours``, packed for a map.

    One feature per colour: the cells' centres as a packed multipoint (about 1 m), drawn
    as squares of the cells' size by :func:`cells_layer`; ``half`` holds that half-size
    in degrees (lon, lat). A tenth of the cells' polygons as GeoJSON.
    """
    shown = grid.to_crs("EPSG:4326") if grid.crs is not None else grid
    geoms = shown.geometry.to_numpy()
    centres = shapely.get_coordinates(shapely.centroid(geoms))
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    half = [float(np.median(x1 - x0)) / 2, float(np.median(y1 - y0)) / 2]
    colours = np.asarray(colours, dtype=object)
    order = np.lexsort((centres[:, 0], centres[:, 1]))  # row by row: small steps
    feats, decimals = [], 5
    for colour in dict.fromkeys(colours[order].tolist()):
        rows = order[colours[order] == colour]
        point = shapely.multipoints(centres[rows])
        feats.append({"type": "Feature", "properties": {"_style": {"fillColor": colour}},
                      "geometry": mapsafe.pack_geometries([point], decimals)[0]})
    out = mapsafe.collection(feats, decimals=decimals)
    out["half"] = half
    return out


def cells_layer(data: dict, title: str, *, opacity: float = 0.7) -> mapsafe.TextLayer:
    """A non-interactive layer of coloured cells (:func:`cells_collection`; draw it on a
    canvas map)."""
    return mapsafe.TextLayer(data, name=title, square=tuple(data["half"]), interactive=False,
                             style={"fillOpacity": opacity, "stroke": False, "fill": True})


def grid_geojson(grid: gpd.GeoDataFrame, column: str, *, title: str, unit: str,
                 ) -> tuple[dict, Legend]:
    """The 200 m cells coloured by ``column`` (:func:`cells_collection`) and the legend."""
    colors, legend = colors_for(grid[column], title, unit)
    return cells_collection(grid, colors), legend


def grid_layer(data: dict, title: str) -> mapsafe.TextLayer:
    """A non-interactive layer of coloured cells (draw it on a canvas map)."""
    return cells_layer(data, title)
