"""Address points of Martinique (BANO, March 2015) and the search index built on them.

The index (:class:`analysis.geocode.Index`) holds one entry per street (distinct
street and commune, at the address nearest the median of its points), per named
road of OpenStreetMap the addresses lack (:func:`road_names`), per commune (at its
town hall, from the ``mairies`` source, else inside its outline:
:func:`analysis.geocode.commune_start`) and per place of the registry, plus every
numbered address point of each street.
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
    """Where a search for each commune starts: its town hall, else a point inside it.

    The rule is :func:`analysis.geocode.commune_start` (a town hall outside its commune
    is not used). Columns ``code_insee, nom, lon, lat, town_hall`` (the town hall is the
    start) and ``note`` (« Départ : mairie du Prêcheur »).
    """
    try:
        with open(fetch.resolve("mairies", s).path, encoding="utf-8") as fh:
            feats = json.load(fh)["features"]
        halls = {f["properties"]["code_insee"]: f["geometry"]["coordinates"][:2] for f in feats
                 if f.get("geometry") and f["geometry"].get("type") == "Point"}
    except (DataError, OSError, KeyError, ValueError):
        halls = {}
    outlines = communes.to_crs("EPSG:4326").geometry
    rows = []
    for code, nom, outline in zip(communes["code_insee"], communes["nom"], outlines,
                                  strict=True):
        lon, lat, at_hall, note = geocode.commune_start(nom, halls.get(code), outline)
        rows.append({"code_insee": code, "nom": nom, "lon": lon, "lat": lat,
                     "town_hall": at_hall, "note": note})
    return pd.DataFrame(rows, columns=["code_insee", "nom", "lon", "lat", "town_hall", "note"])


def road_names(communes: gpd.GeoDataFrame, known: pd.DataFrame | None = None,
               s: Settings | None = None) -> pd.DataFrame:
    """Named roads of OpenStreetMap that the addresses do not have, one per commune.

    Lanes, « habitations » and sections the 2015 address file lacks (« Habitation Céron »
    at Le Prêcheur): one row per (commune, name) at the road's point nearest the median
    of its points, ``code_insee, nom, lon, lat``. ``known``: ``code_insee, voie`` of the
    streets already indexed (same name, accents and case aside, left out). Empty when
    the roads cannot be read.
    """
    from pyproj import Transformer

    from geo import roads
    from maillage.settings import CRS_MEASURE, CRS_STORE

    cols = ["code_insee", "nom", "lon", "lat"]
    try:
        xy, names = roads.named_points(s, step_m=50.0)
    except (DataError, OSError):
        return pd.DataFrame(columns=cols)
    if not len(xy):
        return pd.DataFrame(columns=cols)
    # one point per name and 100 m square is plenty to place a name in its commune
    cells = pd.DataFrame({"nom": np.asarray(names, dtype=object), "x": xy[:, 0], "y": xy[:, 1],
                          "gx": (xy[:, 0] // 100).astype(np.int64),
                          "gy": (xy[:, 1] // 100).astype(np.int64)})
    cells = cells.drop_duplicates(["nom", "gx", "gy"])
    tr = Transformer.from_crs(CRS_MEASURE, CRS_STORE, always_xy=True)
    lon, lat = tr.transform(cells["x"].to_numpy(), cells["y"].to_numpy())
    pts = gpd.GeoDataFrame({"nom": cells["nom"].to_numpy(), "lon": lon, "lat": lat},
                           geometry=gpd.points_from_xy(lon, lat), crs=CRS_STORE)
    inside = gpd.sjoin(pts, communes.to_crs(CRS_STORE)[["code_insee", "geometry"]],
                       how="inner", predicate="within")
    df = pd.DataFrame(inside[["code_insee", "nom", "lon", "lat"]])
    keys = {n: geocode.normalize(n) for n in df["nom"].unique()}
    df["key"] = df["nom"].map(keys)
    df = df[df["key"] != ""]
    if known is not None and len(known):
        seen = set(zip(known["code_insee"], (geocode.normalize(v) for v in known["voie"]),
                       strict=True))
        df = df[[(c, k) not in seen for c, k in zip(df["code_insee"], df["key"], strict=True)]]
    if df.empty:
        return pd.DataFrame(columns=cols)
    med = df.groupby(["code_insee", "key"])[["lon", "lat"]].transform("median")
    df = df.assign(_d=(df["lon"] - med["lon"]) ** 2 + (df["lat"] - med["lat"]) ** 2)
    rep = df.sort_values(["code_insee", "key", "_d"]).drop_duplicates(["code_insee", "key"])
    return rep[cols].reset_index(drop=True)


def entries(addr: pd.DataFrame, halls: pd.DataFrame,
            places: pd.DataFrame | None = None, roads: pd.DataFrame | None = None,
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Entries and numbered points of the index (see :func:`analysis.geocode.build`).

    ``places`` (optional): columns ``id``, ``nom``, ``commune``, ``lon``, ``lat`` (and
    ``code_insee``). ``roads`` (optional): named roads without addresses
    (:func:`road_names`). Every entry carries its commune (for the fallback of
    :func:`analysis.geocode.fallback`); a commune carries the sentence of its start.
    """
    st = streets(addr)
    names = dict(zip(halls["code_insee"], halls["nom"], strict=True))
    town = st["code_post"] + " " + st["nom_comm"]
    street_rows = pd.DataFrame({
        "label": st["voie"] + ", " + town,
        "text": st["voie"], "context": st["nom_comm"],
        "kind": "street", "lon": st["lon"], "lat": st["lat"], "ref": "",
        "weight": st["n"].astype(float),
        "commune": st["code_insee"].map(names).fillna(st["nom_comm"]), "note": "",
    })
    commune_rows = pd.DataFrame({
        "label": halls["nom"] + " (commune)",
        "text": halls["nom"],
        "context": np.where(halls["town_hall"], "mairie hôtel de ville", ""),
        "kind": "commune", "lon": halls["lon"], "lat": halls["lat"], "ref": "",
        "weight": 0.0, "commune": halls["nom"],
        "note": halls.get("note", ""),
    })
    frames = [street_rows, commune_rows]
    if places is not None and len(places):
        p = places.dropna(subset=["lon", "lat"])
        commune = p["commune"].astype(str)
        if "code_insee" in p:
            commune = p["code_insee"].map(names).fillna(commune)
        frames.append(pd.DataFrame({
            "label": p["nom"].astype(str) + " — " + p["commune"].astype(str),
            "text": p["nom"].astype(str), "context": p["commune"].astype(str),
            "kind": "place", "lon": p["lon"].astype(float), "lat": p["lat"].astype(float),
            "ref": p["id"].astype(str), "weight": 0.0, "commune": commune, "note": "",
        }))
    if roads is not None and len(roads):
        commune = roads["code_insee"].map(names)
        frames.append(pd.DataFrame({
            "label": roads["nom"] + ", " + commune, "text": roads["nom"], "context": commune,
            "kind": "street", "lon": roads["lon"].astype(float),
            "lat": roads["lat"].astype(float), "ref": "", "weight": 0.0, "commune": commune,
            "note": "",
        }).dropna(subset=["label"]))
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
          communes: gpd.GeoDataFrame | None = None, *, roads: bool = False) -> geocode.Index:
    """The search index of the island (addresses, streets, communes and ``places``).

    ``roads``: add the named roads of OpenStreetMap the addresses lack (the public
    finder does; the registry's geocoding keeps to the address file).
    """
    from geo import communes as communes_mod

    addr = load(s)
    comm = communes if communes is not None else communes_mod.load(s)
    halls = town_halls(comm, s)
    named = road_names(comm, addr[["code_insee", "voie"]].drop_duplicates(), s) if roads else None
    ent, numbers = entries(addr, halls, places, named)
    return geocode.build(ent, numbers)


def random_sample(addr: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` address points drawn at random (for benchmarks), with a query text."""
    rng = np.random.default_rng(seed)
    rows = addr.iloc[rng.choice(len(addr), size=min(n, len(addr)), replace=False)].copy()
    rows["query"] = rows["numero"] + " " + rows["voie"] + " " + rows["nom_comm"]
    return rows.reset_index(drop=True)
