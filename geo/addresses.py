"""Address points of Martinique (BANO, March 2015) and the search index built on them.

The index (:class:`analysis.geocode.Index`) holds one entry per street (distinct
street and commune, at the address nearest the median of its points), per commune
(at its town hall, from the ``mairies`` source, else inside its outline) and per
place of the registry, plus every numbered address point of each street.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis import geocode
from geo import fetch
from geo.errors import DataError
from maillage.settings import Settings

COLUMNS = ("id", "numero", "voie", "code_post", "nom_comm", "source", "lat", "lon")


def load(s: Settings | None = None) -> pd.DataFrame:
    """The BANO address points with ``code_insee`` (first 5 characters of the id)."""
    path = fetch.resolve("addresses", s).path
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = set(COLUMNS) - set(df.columns)
    if missing:
        raise DataError(f"Fichier d'adresses {path} incomplet : colonnes manquantes "
                        f"{', '.join(sorted(missing))}.")
    df["lat"] = pd.to_numeric(df["lat"], errors="coerce")
    df["lon"] = pd.to_numeric(df["lon"], errors="coerce")
    df = df.dropna(subset=["lat", "lon"])
    df = df[(df["voie"].str.strip() != "") & (df["numero"].str.strip() != "")].copy()
    df["code_insee"] = df["id"].str[:5]
    return df.reset_index(drop=True)


def streets(addr: pd.DataFrame) -> pd.DataFrame:
    """Distinct (commune, street) with a representative point and the number of addresses.

    The point is the street's address nearest to the median of its points, so it
    lies on the street even when the street bends.
    """
    a = addr.copy()
    a["street"] = a.groupby(["code_insee", "voie"], sort=True).ngroup()
    med = a.groupby("street")[["lon", "lat"]].transform("median")
    a["_d"] = (a["lon"] - med["lon"]) ** 2 + (a["lat"] - med["lat"]) ** 2
    rep = a.sort_values(["street", "_d"]).drop_duplicates("street")
    out = rep[["street", "code_insee", "voie", "code_post", "nom_comm", "lon", "lat"]].copy()
    out["n"] = a.groupby("street").size().reindex(out["street"]).to_numpy()
    return out.sort_values("street").reset_index(drop=True)


def town_halls(communes: gpd.GeoDataFrame, s: Settings | None = None) -> pd.DataFrame:
    """One point per commune: its town hall, else a point inside its outline."""
    try:
        with open(fetch.resolve("mairies", s).path, encoding="utf-8") as fh:
            feats = json.load(fh)["features"]
        halls = {f["properties"]["code_insee"]: f["geometry"]["coordinates"][:2] for f in feats
                 if f.get("geometry") and f["geometry"].get("type") == "Point"}
    except (DataError, OSError, KeyError, ValueError):
        halls = {}
    inside = communes.geometry.representative_point()
    rows = []
    for code, nom, pt in zip(communes["code_insee"], communes["nom"], inside, strict=True):
        lon, lat = halls.get(code, (pt.x, pt.y))
        rows.append({"code_insee": code, "nom": nom, "lon": float(lon), "lat": float(lat),
                     "town_hall": code in halls})
    return pd.DataFrame(rows)


def entries(addr: pd.DataFrame, halls: pd.DataFrame,
            places: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Entries and numbered points of the index (see :func:`analysis.geocode.build`).

    ``places`` (optional): columns ``id``, ``nom``, ``commune``, ``lon``, ``lat``.
    """
    st = streets(addr)
    town = st["code_post"] + " " + st["nom_comm"]
    street_rows = pd.DataFrame({
        "label": st["voie"] + ", " + town,
        "text": st["voie"], "context": st["nom_comm"],
        "kind": "street", "lon": st["lon"], "lat": st["lat"], "ref": "",
        "weight": st["n"].astype(float),
    })
    commune_rows = pd.DataFrame({
        "label": halls["nom"] + " (commune)",
        "text": halls["nom"],
        "context": np.where(halls["town_hall"], "mairie hôtel de ville", ""),
        "kind": "commune", "lon": halls["lon"], "lat": halls["lat"], "ref": "",
        "weight": 0.0,
    })
    frames = [street_rows, commune_rows]
    if places is not None and len(places):
        p = places.dropna(subset=["lon", "lat"])
        frames.append(pd.DataFrame({
            "label": p["nom"].astype(str) + " — " + p["commune"].astype(str),
            "text": p["nom"].astype(str), "context": p["commune"].astype(str),
            "kind": "place", "lon": p["lon"].astype(float), "lat": p["lat"].astype(float),
            "ref": p["id"].astype(str), "weight": 0.0,
        }))
    ent = pd.concat(frames, ignore_index=True)
    a = addr.merge(st[["street", "code_insee", "voie"]], on=["code_insee", "voie"])
    numbers = pd.DataFrame({
        "entry": a["street"].to_numpy(),  # streets come first in ``ent``, in street order
        "numero": a["numero"],
        "lon": a["lon"], "lat": a["lat"],
        "label": a["numero"] + " " + a["voie"] + ", " + a["code_post"] + " " + a["nom_comm"],
    })
    return ent, numbers


def index(s: Settings | None = None, places: pd.DataFrame | None = None,
          communes: gpd.GeoDataFrame | None = None) -> geocode.Index:
    """The search index of the island (addresses, streets, communes and ``places``)."""
    from geo import communes as communes_mod

    addr = load(s)
    halls = town_halls(communes if communes is not None else communes_mod.load(s), s)
    ent, numbers = entries(addr, halls, places)
    return geocode.build(ent, numbers)


def random_sample(addr: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` address points drawn at random (for benchmarks), with a query text."""
    rng = np.random.default_rng(seed)
    rows = addr.iloc[rng.choice(len(addr), size=min(n, len(addr)), replace=False)].copy()
    rows["query"] = rows["numero"] + " " + rows["voie"] + " " + rows["nom_comm"]
    return rows.reset_index(drop=True)
