"""GeoJSON as the product writes it: RFC 7946 (WGS 84, ring orientation, 6 decimals).

Every GeoJSON file or download goes through :func:`dumps`: exterior rings counter-
clockwise and holes clockwise (RFC 7946 §3.1.6), coordinates rounded to 6 decimals
(about 10 cm, §11.2), no ``crs`` member, properties as given.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

DECIMALS = 6


def rfc7946_geometries(geoms: np.ndarray) -> np.ndarray:
    """Geometries (EPSG:4326) rounded to 6 decimals, then oriented as RFC 7946 asks."""
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, DECIMALS))
    return shapely.orient_polygons(rounded, exterior_cw=False)


def feature_collection(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """``frame`` as an RFC 7946 FeatureCollection dict (reprojected to EPSG:4326)."""
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    geoms = rfc7946_geometries(frame.geometry.to_numpy())
    texts = shapely.to_geojson(geoms)
    props = frame.drop(columns=frame.geometry.name)
    records = json.loads(props.to_json(orient="records", force_ascii=False))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": rec,
         "geometry": json.loads(t) if t is not None else None}
        for rec, t in zip(records, texts, strict=True)]}


def dumps(frame: gpd.GeoDataFrame) -> str:
    """``frame`` as RFC 7946 GeoJSON text (UTF-8, compact)."""
    return json.dumps(feature_collection(frame), ensure_ascii=False, separators=(",", ":"))


def check(text: str) -> list[str]:
    """What is wrong with ``text`` under RFC 7946 (orientation, precision); empty if fine."""
    problems: list[str] = []

    def ring_ok(ring: list, exterior: bool, where: str) -> None:
        xy = np.asarray(ring, dtype=float)
        area2 = float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))
        if (area2 > 0) != exterior:
            problems.append(f"{where} : anneau {'extérieur' if exterior else 'intérieur'} "
                            "mal orienté")

    def coords_ok(coords: Any, where: str) -> None:
        for v in np.asarray(coords, dtype=float).ravel():
            if abs(v - round(v, DECIMALS)) > 1e-12:
                problems.append(f"{where} : plus de {DECIMALS} décimales ({v!r})")
                return

    for i, feat in enumerate(json.loads(text).get("features", [])):
        g = feat.get("geometry")
        if not g:
            continue
        polys = ([g["coordinates"]] if g["type"] == "Polygon" else
                 g["coordinates"] if g["type"] == "MultiPolygon" else [])
        for poly in polys:
            for k, ring in enumerate(poly):
                ring_ok(ring, k == 0, f"entité {i}")
        if g["type"] != "GeometryCollection":
            coords_ok(_flatten(g["coordinates"]), f"entité {i}")
    return problems


def _flatten(coords: Any) -> list[float]:
    if isinstance(coords, int | float):
        return [coords]
    return [v for c in coords for v in _flatten(c)]
