"""Road ways of Martinique, read from an OSM PBF/XML extract or from the mirrored road layer.

Both readers return the same :class:`Ways` arrays (one row per OSM way, vertices
concatenated), so the graph builder in :mod:`analysis.graph` never cares where
the roads came from. Ways are connected later only where they share a vertex:
the OSM node id in an extract, the exact coordinate (7 decimals) in the mirror.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from geo import catalog, fetch
from geo.errors import DataError, MaillageError
from maillage import settings as settings_mod
from maillage.settings import Settings

#: Highway values never walked (motorways, and the mirror's class that holds them).
NO_WALK = frozenset({"motorway", "motorway_link", "highway"})
#: Highway values walked but never driven (paths and pedestrian ways of an extract).
WALK_ONLY = frozenset({
    "footway", "path", "pedestrian", "steps", "cycleway", "bridleway", "corridor",
})
#: Values of ``access``-like tags that close a way.
_CLOSED = frozenset({"no", "private"})
#: Implicit French limits (``maxspeed=FR:...``) in km/h.
_FR_ZONES = {"urban": 50.0, "rural": 80.0, "motorway": 130.0, "walk": 6.0, "zone30": 30.0}
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_REV = frozenset({"-1", "reverse"})


@dataclass(frozen=True)
class Ways:
    """Road ways as flat arrays: way ``i`` has vertices ``offsets[i]:offsets[i+1]``."""

    lonlat: np.ndarray  # (N, 2) float64, EPSG:4326
    node_id: np.ndarray  # (N,) int64, same id = same junction vertex
    offsets: np.ndarray  # (W + 1,) int64
    highway: np.ndarray  # (W,) str: OSM highway value or mirror class
    oneway: np.ndarray  # (W,) int8: 0 both ways, 1 along the way, -1 against it (driving)
    maxspeed: np.ndarray  # (W,) float64 km/h, NaN when untagged
    drive: np.ndarray  # (W,) bool
    walk: np.ndarray  # (W,) bool
    source: str  # "pbf" or "mirror"
    sha256: str  # of the input file

    @property
    def n_ways(self) -> int:
        return len(self.offsets) - 1


def pbf_path(s: Settings | None = None) -> Path:
    """Where the official extract is looked for (``data/sources/martinique-latest.osm.pbf``)."""
    s = s or settings_mod.get()
    return s.cache_dir / catalog.OSM_PBF_NAME


def parse_maxspeed(value: str | None) -> float:
    """A ``maxspeed`` tag in km/h (mph converted, ``FR:urban`` style zones), NaN if unusable."""
    if not value:
        return float("nan")
    value = value.strip().lower()
    if ":" in value:
        return _FR_ZONES.get(value.split(":", 1)[1], float("nan"))
    match = re.match(r"^(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?$", value)
    if not match:
        return float("nan")
    speed = float(match.group(1))
    return speed * 1.609344 if match.group(2) == "mph" else speed


def _oneway(tags: dict[str, str]) -> int:
    value = tags.get("oneway", "").lower()
    if value in _ONEWAY_YES:
        return 1
    if value in _ONEWAY_REV:
        return -1
    if value == "no":
        return 0
    implied = tags.get("junction") in ("roundabout", "circular") or tags.get("highway") in (
        "motorway", "motorway_link")
    return 1 if implied else 0


def _access(tags: dict[str, str]) -> tuple[bool, bool]:
    """(drivable, walkable) from ``highway`` and the access tags of one way."""
    hw = tags.get("highway", "")
    closed = tags.get("access", "") in _CLOSED
    drive = hw in settings_mod.DRIVE_SPEEDS_KMH and hw not in ("highway", "major", "minor")
    motor = tags.get("motor_vehicle", tags.get("motorcar", ""))
    drive = drive and not closed and motor not in _CLOSED
    walk = (hw in settings_mod.DRIVE_SPEEDS_KMH or hw in WALK_ONLY) and hw not in NO_WALK
    foot = tags.get("foot", "")
    walk = (walk and not closed and foot not in _CLOSED) or foot in ("yes", "designated")
    if tags.get("area") == "yes":
        return False, False
    return drive, walk


def read_osm(path: Path) -> Ways:
    """Read every ``highway`` way of an OSM file (PBF or XML) with pyosmium, tags included."""
    import osmium

    coords: list[tuple[float, float]] = []
    ids: list[int] = []
    offsets = [0]
    highway, oneway, maxspeed, drive, walk = [], [], [], [], []
    processor = osmium.FileProcessor(str(path)).with_locations()
    for obj in processor:
        if not obj.is_way() or "highway" not in obj.tags:
            continue
        tags = {t.k: t.v for t in obj.tags}
        can_drive, can_walk = _access(tags)
        if not (can_drive or can_walk) or len(obj.nodes) < 2:
            continue
        for n in obj.nodes:
            if not n.location.valid():
                raise DataError(f"Le fichier OSM {path} est incomplet : le nœud {n.ref} "
                                "d'une route n'a pas de position.")
            coords.append((n.location.lon, n.location.lat))
            ids.append(n.ref)
        offsets.append(len(ids))
        highway.append(tags["highway"])
        oneway.append(_oneway(tags))
        maxspeed.append(parse_maxspeed(tags.get("maxspeed")))
        drive.append(can_drive)
        walk.append(can_walk)
    if not highway:
        raise DataError(f"Le fichier OSM {path} ne contient aucune route.")
    return Ways(
        lonlat=np.asarray(coords, dtype=np.float64),
        node_id=np.asarray(ids, dtype=np.int64),
        offsets=np.asarray(offsets, dtype=np.int64),
        highway=np.asarray(highway, dtype=str),
        oneway=np.asarray(oneway, dtype=np.int8),
        maxspeed=np.asarray(maxspeed, dtype=np.float64),
        drive=np.asarray(drive, dtype=bool),
        walk=np.asarray(walk, dtype=bool),
        source="pbf",
        sha256=fetch.sha256_of(path),
    )


def read_mirror(path: Path) -> Ways:
    """Read the mirrored 3-class road layer (gzip GeoJSON, no oneway, no maxspeed).

    Vertices with the same coordinates (7 decimals, as in OSM) are one junction.
    """
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    lines = [np.asarray(f["geometry"]["coordinates"], dtype=np.float64) for f in features]
    keep = [i for i, line in enumerate(lines) if len(line) >= 2]
    lines = [lines[i] for i in keep]
    classes = np.asarray([features[i]["properties"]["roadClass"] for i in keep], dtype=str)
    lonlat = np.concatenate(lines)[:, :2]
    key = np.round(lonlat * 1e7).astype(np.int64)
    _, node_id = np.unique(key, axis=0, return_inverse=True)
    n = len(classes)
    return Ways(
        lonlat=lonlat,
        node_id=node_id.astype(np.int64).ravel(),
        offsets=np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(np.int64),
        highway=classes,
        oneway=np.zeros(n, dtype=np.int8),
        maxspeed=np.full(n, np.nan),
        drive=np.ones(n, dtype=bool),
        walk=~np.isin(classes, list(NO_WALK)),
        source="mirror",
        sha256=fetch.sha256_of(path),
    )


def source_path(s: Settings | None = None) -> tuple[str, Path]:
    """The road input in use: ("pbf", path) when the official extract is there, else the mirror."""
    s = s or settings_mod.get()
    pbf = pbf_path(s)
    if pbf.is_file():
        return "pbf", pbf
    return "mirror", fetch.resolve("roads_mirror", s).path


def load(s: Settings | None = None) -> Ways:
    """The road ways of the island from the best available input."""
    kind, path = source_path(s)
    return read_osm(path) if kind == "pbf" else read_mirror(path)


@lru_cache(maxsize=2)
def island(s: Settings | None = None):
    """The land of Martinique (union of the 34 communes) in EPSG:5490, for clipping."""
    import geopandas as gpd
    import shapely

    s = s or settings_mod.get()
    try:
        from geo import communes

        frame = communes.load(s)
    except (ImportError, MaillageError, OSError):  # no commune layer: read the source
        frame = gpd.read_file(fetch.resolve("communes_geo", s).path)
    geom = frame.to_crs(settings_mod.CRS_MEASURE).geometry
    return shapely.make_valid(shapely.union_all(shapely.set_precision(geom.values, 0.01)))
