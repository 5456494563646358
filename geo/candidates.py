"""Candidate stops for the mobile workshops: where a van could park and open its doors.

Six sources, one table (:data:`COLUMNS`, source codes and French labels in :data:`SOURCES`):

* the 34 town halls (``mairies``, Annuaire de l'administration);
* the bus stops of the Centre network (``bus_stops``, GTFS via MTTracker), their raw
  names made readable (« CROISEE MEYNARD 2Pv » → « Croisée Meynard »,
  :func:`analysis.candidates.clean_stop_name`);
* points of interest of the official OSM extract when it is present
  (marketplaces, community centres, post offices, schools, squares), read with
  pyosmium — ways are placed at the mean of their nodes;
* places of the registry marked as possible stops (``possible_stop``);
* points a planner adds (longitude, latitude, name);
* roadside points where people live (:func:`roadside`): for the populated 200 m cells,
  the nearest point of the **drive** network within ``candidate_road_max_m``, thinned
  to ``candidate_spacing_m`` apart (most populated cells first), named after the road
  they stand on or the nearest street of the address index
  (:func:`analysis.candidates.roadside_names`), never after a cell.

:func:`load` gathers the first five; :func:`build` adds the roadside points and merges
candidates closer than the spacing into the best-ranked one (:data:`RANKS`: registry
places, town halls, named OSM places, bus stops, then roadside points; a planner's
points are always kept). Each candidate gets the commune it stands in (polygon, or
nearest commune for a point just off the simplified coastline). :func:`snap_drive`
places them on the drive network, since the van must reach the stop, and flags those
farther than ``max_snap_m`` from any road instead of moving them silently.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import fetch
from geo.errors import MaillageError
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
    "route": "Bord de route, au plus près des habitants",
}
#: Merge preference (lower first) when candidates are closer than the spacing; an OSM
#: place without a name ranks after the bus stops; planners' points are never merged.
RANKS = {"registre": 0, "mairie": 1, "osm": 2, "bus": 3, "osm_unnamed": 4, "route": 5}
#: Kind of the roadside candidates.
ROADSIDE_KIND = "bord de route (habitations proches)"

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


def spelling(s: Settings | None = None, road_names: Iterable[str] | None = None
             ) -> dict[str, str]:
    """Proper spellings of the words of place names: streets of the address index (BANO),
    road names (``road_names``, read from the roads by default) and commune names (see
    :func:`analysis.candidates.spelling`)."""
    from analysis import candidates as pure
    from geo import addresses, roads

    texts: list[str] = []
    with contextlib.suppress(MaillageError):  # no address file: road names spell most words
        texts += addresses.load(s)["voie"].unique().tolist()
    if road_names is None:
        road_names = roads.named_points(s, step_m=1e9)[1]
    texts += list(dict.fromkeys(road_names))
    texts += pd.read_csv(fetch.resolve("communes_table", s).path, dtype=str)["nom"].tolist()
    return pure.spelling(texts)


def bus_stops(s: Settings | None = None, words: dict[str, str] | None = None
              ) -> gpd.GeoDataFrame:
    """The served stops of the Centre bus network (one row per distinct position).

    Names are cleaned (no « Arrêt », no platform code, French title case with the
    accents of ``words``, by default :func:`spelling`).
    """
    from analysis import candidates as pure

    raw = pd.read_csv(fetch.resolve("bus_stops", s).path, dtype={"stop_id": str})
    raw = raw.dropna(subset=["stop_lat", "stop_lon"]).drop_duplicates(["stop_lat", "stop_lon"])
    words = spelling(s) if words is None else words
    names = [pure.clean_stop_name(n, words) for n in raw["stop_name"].astype(str)]
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
         communes: gpd.GeoDataFrame | None = None,
         words: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Every candidate stop of the island but the roadside ones, located in its commune.

    ``osm_path`` defaults to the official extract (read only when present);
    ``registry=False`` skips the database; ``extra`` are the planner's points; ``words``
    the spellings used to clean the bus stop names (default :func:`spelling`).
    """
    from geo import communes as communes_mod
    from geo import roads

    s = s or settings_mod.get()
    parts = [mairies(s), bus_stops(s, words)]
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


def roadside(grid: pd.DataFrame, drive, *, spacing_m: float,
             max_road_m: float) -> gpd.GeoDataFrame:
    """Points of the drive network next to the populated cells, ``spacing_m`` apart.

    Each populated cell (``population > 0``; centroid ``x, y`` in EPSG:5490) gives the
    nearest point of the drive graph when it lies within ``max_road_m``; the points are
    thinned by :func:`analysis.candidates.thin`, most populated cell first. Names are
    left empty (see :func:`name_roadside`); ids are ``route:<cell id>``.
    """
    from analysis import candidates as pure
    from analysis import snap

    cells = grid[grid["population"] > 0]
    xy = cells[["x", "y"]].to_numpy(dtype=np.float64)
    if not len(xy):
        return empty()
    on = snap.snap(drive, xy, max_road_m)
    ok = np.flatnonzero(on.ok)
    kept = ok[pure.thin(on.xy[ok], cells["population"].to_numpy(dtype=np.float64)[ok],
                        spacing_m)]
    ll = snap.to_lonlat(on.xy[kept]) if len(kept) else np.zeros((0, 2))
    out = _frame([""] * len(kept), "route", ROADSIDE_KIND, ll[:, 0], ll[:, 1],
                 cells["cell_id"].astype(str).to_numpy()[kept])
    out["x"], out["y"] = on.xy[kept, 0], on.xy[kept, 1]  # exactly on the road
    return out


def town_hall_xy(halls: pd.DataFrame, codes: Sequence[str]) -> np.ndarray:
    """EPSG:5490 position of the town hall of each commune code (NaN when unknown)."""
    where = {c[-5:]: (x, y) for c, x, y in zip(halls["cand_id"], halls["x"], halls["y"],
                                                strict=True)}
    return np.array([where.get(str(c), (np.nan, np.nan)) for c in codes], dtype=np.float64
                    ).reshape(-1, 2)


def name_roadside(cands: gpd.GeoDataFrame, communes: pd.DataFrame, halls: pd.DataFrame,
                  s: Settings | None = None, *,
                  roads_named: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> gpd.GeoDataFrame:
    """Readable French names for located roadside candidates (« Rue X, Commune »).

    From the named roads (:func:`geo.roads.named_points`) and the streets of the address
    index (BANO, :func:`geo.addresses.load`), see
    :func:`analysis.candidates.roadside_names`.
    """
    from analysis import candidates as pure
    from analysis import snap
    from geo import addresses, roads

    out = cands.copy()
    if out.empty:
        return out
    try:
        addr = addresses.load(s)
        street_xy = snap.to_xy(addr[["lon", "lat"]].to_numpy(dtype=np.float64))
        street_names = addr["voie"].astype(str).to_numpy(dtype=object)
    except MaillageError:
        street_xy, street_names = np.zeros((0, 2)), np.zeros(0, dtype=object)
    named = roads_named if roads_named is not None else roads.named_points(s)
    names = communes.set_index("code_insee")["nom"]
    commune = out["code_insee"].map(names).fillna("Martinique").astype(str).to_list()
    out["nom"] = pure.roadside_names(
        out[["x", "y"]].to_numpy(dtype=np.float64), commune,
        town_hall_xy(halls, out["code_insee"].tolist()), roads=named,
        streets=(street_xy, street_names))
    return out


def rank_of(cands: pd.DataFrame) -> np.ndarray:
    """Merge rank of each candidate (:data:`RANKS`; planners' points rank first)."""
    src = cands["source"].astype(str)
    unnamed = (src == "osm") & (cands["nom"].astype(str).str.lower()
                                == cands["kind"].astype(str).str.lower())
    rank = src.map(RANKS).fillna(-1.0).to_numpy(dtype=np.float64)
    rank[unnamed.to_numpy()] = RANKS["osm_unnamed"]
    return rank


def dedupe(cands: gpd.GeoDataFrame, spacing_m: float) -> gpd.GeoDataFrame:
    """Candidates closer than ``spacing_m`` merged into the best-ranked one (:func:`rank_of`).

    Adds ``merged`` (how many candidates each kept one absorbed) and ``merged_ids``
    (their ids, ``|``-separated); planners' points (``ajout``) are always kept as given.
    """
    from analysis import candidates as pure

    out = cands.reset_index(drop=True)
    owner = pure.merge(out[["x", "y"]].to_numpy(dtype=np.float64), rank_of(out), spacing_m,
                       fixed=(out["source"] == "ajout").to_numpy())
    keep = owner == np.arange(len(out))
    absorbed = pd.Series(out["cand_id"].to_numpy()[~keep]).groupby(owner[~keep]).agg("|".join)
    out["merged"] = np.bincount(owner, minlength=len(out)) - 1
    out["merged_ids"] = absorbed.reindex(np.arange(len(out))).fillna("").to_numpy()
    return gpd.GeoDataFrame(out[keep].reset_index(drop=True), geometry="geometry",
                            crs=CRS_STORE)


def build(s: Settings | None = None, drive=None, *, grid: pd.DataFrame | None = None,
          communes: gpd.GeoDataFrame | None = None,
          extra: Sequence[tuple[float, float, str]] = (), osm_path: Path | None = None,
          registry: bool = True) -> gpd.GeoDataFrame:
    """The island's candidate stops: :func:`load`, the roadside points, merged (:func:`dedupe`).

    ``drive`` defaults to the cached drive graph, ``grid`` to the 200 m cells; spacing
    and road distance come from the settings (``candidate_spacing_m``,
    ``candidate_road_max_m``).
    """
    from geo import communes as communes_mod
    from geo import graphs, population, roads

    s = s or settings_mod.get()
    communes = communes if communes is not None else communes_mod.load(s)
    drive = drive if drive is not None else graphs.load("drive", s)
    grid = grid if grid is not None else population.load_grid(s)
    named = roads.named_points(s)
    base = load(s, extra=extra, osm_path=osm_path, registry=registry, communes=communes,
                words=spelling(s, named[1]))
    side = locate(roadside(grid, drive, spacing_m=s.candidate_spacing_m,
                           max_road_m=s.candidate_road_max_m), communes)
    side = name_roadside(side, communes, base[base["source"] == "mairie"], s,
                         roads_named=named)
    cands = pd.concat([p for p in (base, side) if not p.empty], ignore_index=True)
    return dedupe(gpd.GeoDataFrame(cands, geometry="geometry", crs=CRS_STORE),
                  s.candidate_spacing_m)


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

