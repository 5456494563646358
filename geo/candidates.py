"""Candidate stops for the mobile workshops: where a van could park and open its doors.

Five sources, one table (:data:`COLUMNS`):

* the 34 town halls (``mairies``, Annuaire de l'administration);
* the bus stops of the Centre network (``bus_stops``, GTFS via MTTracker);
* points of interest of the official OSM extract when it is present
  (marketplaces, community centres, post offices, schools, squares), read with
  pyosmium — ways are placed at the mean of their nodes;
* places of the registry marked as possible stops (``possible_stop``);
* points a planner adds (longitude, latitude, name).

Each candidate gets the commune it stands in (polygon, or nearest commune for a
point just off the simplified coastline). :func:`snap_drive` places them on the
drive network, since the van must reach the stop, and flags those farther than
``max_snap_m`` from any road instead of moving them silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import fetch
from maillage import settings as settings_mod
from maillage.settings import CRS_MEASURE, CRS_STORE, Settings

#: Columns of every candidate table.
COLUMNS = ["cand_id", "nom", "source", "kind", "code_insee", "lon", "lat", "x", "y", "geometry"]

#: Source code → French label.
SOURCES = {
    "mairie": "Mairie",
    "bus": "Arrêt de bus (réseau Centre)",
    "osm": "Point d'intérêt OpenStreetMap",
    "registre": "Lieu du registre (arrêt possible)",
    "ajout": "Point ajouté",
}

#: OSM (key, value) → French kind of place.
OSM_KINDS: dict[tuple[str, str], str] = {
    ("amenity", "marketplace"): "marché",
    ("amenity", "community_centre"): "maison de quartier",
    ("amenity", "post_office"): "bureau de poste",
    ("amenity", "school"): "école",
    ("place", "square"): "place",
}


def _frame(nom: Iterable[str], source: str, kind: Iterable[str] | str, lon: np.ndarray,
           lat: np.ndarray, ids: Iterable[str]) -> gpd.GeoDataFrame:
    """A candidate table (no commune yet) from aligned arrays."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    df = pd.DataFrame({
        "cand_id": [f"{source}:{i}" for i in ids],
        "nom": list(nom),
        "source": source,
        "kind": kind if isinstance(kind, str) else list(kind),
        "code_insee": "",
        "lon": lon,
        "lat": lat,
    })
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=CRS_STORE)
    xy = gdf.geometry.to_crs(CRS_MEASURE)
    gdf["x"], gdf["y"] = xy.x.to_numpy(), xy.y.to_numpy()
    return gdf[COLUMNS]


def empty() -> gpd.GeoDataFrame:
    """A candidate table with no row."""
    return _frame([], "ajout", "", np.zeros(0), np.zeros(0), [])


def mairies(s: Settings | None = None) -> gpd.GeoDataFrame:
    """The 34 town halls."""
    raw = gpd.read_file(fetch.resolve("mairies", s).path)
    raw = raw[raw.geometry.notna() & ~raw.geometry.is_empty]
    return _frame("Mairie de " + raw["commune"].astype(str), "mairie", "mairie",
                  raw.geometry.x.to_numpy(), raw.geometry.y.to_numpy(),
                  raw["code_insee"].astype(str))


def bus_stops(s: Settings | None = None) -> gpd.GeoDataFrame:
    """The served stops of the Centre bus network (one row per distinct position)."""
    raw = pd.read_csv(fetch.resolve("bus_stops", s).path, dtype={"stop_id": str})
    raw = raw.dropna(subset=["stop_lat", "stop_lon"]).drop_duplicates(["stop_lat", "stop_lon"])
    names = "Arrêt " + raw["stop_name"].astype(str).str.strip().str.title()
    kinds = "arrêt de bus (lignes " + raw["routes"].fillna("").astype(str).str.replace(
        ";", ", ") + ")"
    return _frame(names, "bus", kinds, raw["stop_lon"].to_numpy(), raw["stop_lat"].to_numpy(),
                  raw["stop_id"])


def osm_pois(path: Path) -> gpd.GeoDataFrame:
    """Marketplaces, community centres, post offices, schools and squares of an OSM file.

    Reads PBF or XML with pyosmium; nodes at their position, ways at the mean of
    their nodes. Unnamed objects are named after their kind.
    """
    import osmium

    names: list[str] = []
    kinds: list[str] = []
    lon: list[float] = []
    lat: list[float] = []
    ids: list[str] = []
    for obj in osmium.FileProcessor(str(path)).with_locations():
        if not (obj.is_node() or obj.is_way()):
            continue
        kind = next((k for (key, value), k in OSM_KINDS.items()
                     if obj.tags.get(key) == value), None)
        if kind is None:
            continue
        if obj.is_node():
            if not obj.location.valid():
                continue
            x, y = obj.location.lon, obj.location.lat
            ref = f"n{obj.id}"
        else:
            pts = np.array([(n.location.lon, n.location.lat) for n in obj.nodes
                            if n.location.valid()])
            if not len(pts):
                continue
            x, y = pts.mean(axis=0)
            ref = f"w{obj.id}"
        name = obj.tags.get("name") or kind.capitalize()
        names.append(name)
        kinds.append(kind)
        lon.append(x)
        lat.append(y)
        ids.append(ref)
    return _frame(names, "osm", kinds, np.array(lon), np.array(lat), ids)


def registry_stops(s: Settings | None = None) -> gpd.GeoDataFrame:
    """Places of the registry marked as possible stops, with coordinates."""
    from maillage.registry import store

    places = store.places_frame(s)
    places = places[places["possible_stop"].astype(bool)]
    lon = pd.to_numeric(places["longitude"], errors="coerce")
    lat = pd.to_numeric(places["latitude"], errors="coerce")
    ok = lon.notna() & lat.notna()
    places = places[ok]
    return _frame(places["nom"].astype(str), "registre", places["kind"].astype(str),
                  lon[ok].to_numpy(), lat[ok].to_numpy(), places["id"].astype(str))


def added(points: Sequence[tuple[float, float, str]]) -> gpd.GeoDataFrame:
    """Points a planner adds: (longitude, latitude, name)."""
    if not points:
        return empty()
    lon, lat, names = zip(*points, strict=True)
    names = [str(n).strip() or f"Point ajouté {i + 1}" for i, n in enumerate(names)]
    return _frame(names, "ajout", "point ajouté", np.array(lon), np.array(lat),
                  [str(i + 1) for i in range(len(names))])


def locate(cands: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill ``code_insee`` with the commune holding each candidate (nearest one off the coast)."""
    if cands.empty:
        return cands
    com = communes[["code_insee", "geometry"]].to_crs(CRS_MEASURE)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(cands["x"], cands["y"]),
                           index=cands.index, crs=CRS_MEASURE)
    joined = gpd.sjoin_nearest(pts, com, how="left")
    joined = joined[~joined.index.duplicated()]
    out = cands.copy()
    out["code_insee"] = joined["code_insee"].reindex(out.index).fillna("").astype(str)
    return out


def load(s: Settings | None = None, *, extra: Sequence[tuple[float, float, str]] = (),
         osm_path: Path | None = None, registry: bool = True,
         communes: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Every candidate stop of the island, located in its commune.

    ``osm_path`` defaults to the official extract (read only when present);
    ``registry=False`` skips the database; ``extra`` are the planner's points.
    """
    from geo import communes as communes_mod
    from geo import roads

    s = s or settings_mod.get()
    parts = [mairies(s), bus_stops(s)]
    osm = osm_path if osm_path is not None else roads.pbf_path(s)
    if osm.is_file():
        parts.append(osm_pois(osm))
    if registry:
        parts.append(registry_stops(s))
    parts.append(added(extra))
    parts = [p for p in parts if not p.empty]
    cands = pd.concat(parts, ignore_index=True) if parts else empty()
    cands = gpd.GeoDataFrame(cands, geometry="geometry", crs=CRS_STORE)
    return locate(cands, communes if communes is not None else communes_mod.load(s))


def snap_drive(cands: gpd.GeoDataFrame, drive, max_snap_m: float) -> gpd.GeoDataFrame:
    """Add ``snap_m`` (metres to the drive network) and ``far`` (beyond ``max_snap_m``)."""
    from analysis import snap

    out = cands.copy()
    if out.empty:
        out["snap_m"] = np.zeros(0)
        out["far"] = np.zeros(0, dtype=bool)
        return out
    snapped = snap.snap(drive, out[["x", "y"]].to_numpy(), max_snap_m)
    out["snap_m"] = snapped.dist
    out["far"] = ~snapped.ok
    return out

