"""Commune choropleth and 200 m grid layers for the home map.

Colours come from quantile classes computed here; the legend is returned as
data so pages draw it in Streamlit (no branca colormap: it loads scripts from CDNs).
Every text value placed in a tooltip is HTML-escaped first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import mapsafe
from maillage import fmt

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
    gdf = communes[["code_insee", *tooltip_fields, "geometry"]].copy()
    for col in tooltip_fields:
        gdf[col] = gdf[col].map(mapsafe.plain)
    on = [highlight is None or c in highlight for c in gdf["code_insee"]]
    gdf["_style"] = [{"fillColor": c, "fillOpacity": 0.75 if o else 0.15,
                      "weight": 1.2 if o else 0.5} for c, o in zip(colors, on, strict=True)]
    data = json.loads(gdf.drop(columns="_style").to_json(drop_id=True))
    for feat, style in zip(data["features"], gdf["_style"], strict=True):
        feat["properties"]["_style"] = style
    layer = mapsafe.TextLayer(
        data, name=title, style={"color": "#333333"},
        highlight={"weight": 3, "color": "#000000"},
        tooltip_fields=list(tooltip_fields.items()), tooltip_options={"sticky": True},
    )
    return layer, legend


def grid_geojson(grid: gpd.GeoDataFrame, column: str, *, title: str, unit: str,
                 ) -> tuple[dict, Legend]:
    """The 200 m cells as GeoJSON with a fill colour per cell (coordinates to ~1 m)."""
    colors, legend = colors_for(grid[column], title, unit)
    geoms = shapely.set_precision(grid.to_crs("EPSG:4326").geometry.to_numpy(), 1e-5)
    gdf = gpd.GeoDataFrame({"_fill": colors}, geometry=geoms, crs="EPSG:4326")
    return json.loads(gdf.to_json(drop_id=True)), legend


def grid_layer(data: dict, title: str) -> folium.GeoJson:
    """A non-interactive layer of coloured cells (draw it on a canvas map)."""
    return folium.GeoJson(
        data,
        name=title,
        style_function=lambda f: {
            "fillColor": f["properties"]["_fill"], "fillOpacity": 0.7, "stroke": False,
        },
        interactive=False,
    )
