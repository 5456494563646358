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

#: OSM highway values not walked unless the way says so (``foot=yes``, a sidewalk): motorways.
NO_WALK = frozenset({"motorway", "motorway_link"})
#: Mirror class merging OSM motorway and trunk (see :func:`mirror_walkable`).
MIRROR_FAST = "highway"
#: Way names of the motorway in the mirror (Martinique has one: the A1, « L'Autoroute »).
MOTORWAY_NAMES = frozenset({"L'Autoroute"})
#: ``foot`` values that forbid / allow walking on a way of an OSM extract.
FOOT_NO = frozenset({"no", "private", "use_sidepath"})
FOOT_YES = frozenset({"yes", "designated", "permissive"})
#: ``sidewalk`` values saying the way carries a sidewalk (``separate`` means a separate way).
SIDEWALK_YES = frozenset({"both", "left", "right", "yes"})
#: Version of the walking rules above: part of the walk graph's cache key (geo/graphs.py).
WALK_RULES = 2
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


def _sidewalk(tags: dict[str, str]) -> bool:
    """Whether the way carries a sidewalk (``sidewalk=*`` or ``sidewalk:both|left|right=yes``)."""
    if tags.get("sidewalk", "") in SIDEWALK_YES:
        return True
    return any(tags.get(f"sidewalk:{side}", "") == "yes" for side in ("both", "left", "right"))


def _access(tags: dict[str, str]) -> tuple[bool, bool]:
    """(drivable, walkable) from ``highway`` and the access tags of one way.

    Walking: every road and path class except motorways; ``foot=no|private|use_sidepath``
    forbids it, ``foot=yes|designated|permissive`` or a sidewalk allows it (on a motorway
    or a closed road too); ``access=no|private`` closes the way unless ``foot`` says otherwise.
    """
    hw = tags.get("highway", "")
    closed = tags.get("access", "") in _CLOSED
    drive = hw in settings_mod.DRIVE_SPEEDS_KMH and hw not in ("highway", "major", "minor")
    motor = tags.get("motor_vehicle", tags.get("motorcar", ""))
    drive = drive and not closed and motor not in _CLOSED
    road = hw in settings_mod.DRIVE_SPEEDS_KMH or hw in WALK_ONLY
    foot = tags.get("foot", "")
    if foot in FOOT_NO:
        walk = False
    elif foot in FOOT_YES or (road and _sidewalk(tags)):
        walk = road
    else:
        walk = road and hw not in NO_WALK and not closed
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


def mirror_walkable(classes: np.ndarray, names: np.ndarray, node_id: np.ndarray,
                    offsets: np.ndarray) -> np.ndarray:
    """Walk flag of every way of the mirror, whose ``highway`` class merges motorway and trunk.

    Rule (the mirror keeps only the class and the name of each way): every way is walked
    except the motorway, i.e. the ways named in :data:`MOTORWAY_NAMES` (« L'Autoroute »)
    and the *unnamed* ``highway`` ways joined to them through unnamed ``highway`` ways only
    (slip roads, carriageway pieces, bridges and tunnels of the motorway, which OSM leaves
    unnamed). Named trunk roads (Route Nationale 5, Boulevard Patrice Lumumba, Tunnel de
    Maternité…) and unnamed ``highway`` ways that do not touch the motorway are walked.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    classes = np.asarray(classes, dtype=str)
    names = np.asarray([str(n).strip() for n in names], dtype=str)
    n = len(classes)
    motorway = np.isin(names, list(MOTORWAY_NAMES))
    unnamed_fast = (classes == MIRROR_FAST) & (names == "")
    if not motorway.any():
        return ~motorway
    way_of = np.repeat(np.arange(n), np.diff(offsets))
    _, vert = np.unique(node_id, return_inverse=True)
    vert = vert.ravel()
    # way × vertex incidence of the unnamed fast ways and the motorway; components of
    # the unnamed ones joined through shared vertices, seeded by the motorway's vertices
    member = unnamed_fast | motorway
    keep = member[way_of]
    inc = sparse.csr_matrix((np.ones(int(keep.sum())), (way_of[keep], vert[keep])),
                            shape=(n, int(vert.max()) + 1 if len(vert) else 0))
    mot_vert = np.zeros(inc.shape[1], dtype=bool)
    mot_vert[vert[motorway[way_of]]] = True
    links = inc[unnamed_fast]
    adj = (links @ links.T).tocsr()
    _, comp = connected_components(adj, directed=False)
    touches = np.asarray(links[:, mot_vert].sum(axis=1)).ravel() > 0
    hit = np.zeros(comp.max() + 1 if len(comp) else 0, dtype=bool)
    hit[comp[touches]] = True
    forbidden = motorway.copy()
    forbidden[np.flatnonzero(unnamed_fast)[hit[comp]]] = True
    return ~forbidden


def read_mirror(path: Path) -> Ways:
    """Read the mirrored 3-class road layer (gzip GeoJSON, no oneway, no maxspeed).

    Vertices with the same coordinates (7 decimals, as in OSM) are one junction.
    Walking follows :func:`mirror_walkable` (everything but the motorway).
    """
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    lines = [np.asarray(f["geometry"]["coordinates"], dtype=np.float64) for f in features]
    keep = [i for i, line in enumerate(lines) if len(line) >= 2]
    lines = [lines[i] for i in keep]
    classes = np.asarray([features[i]["properties"]["roadClass"] for i in keep], dtype=str)
    names = np.asarray([features[i]["properties"].get("name") or "" for i in keep], dtype=str)
    lonlat = np.concatenate(lines)[:, :2]
    key = np.round(lonlat * 1e7).astype(np.int64)
    _, node_id = np.unique(key, axis=0, return_inverse=True)
    node_id = node_id.astype(np.int64).ravel()
    offsets = np.concatenate([[0], np.cumsum([len(line) for line in lines])]).astype(np.int64)
    n = len(classes)
    return Ways(
        lonlat=lonlat,
        node_id=node_id,
        offsets=offsets,
        highway=classes,
        oneway=np.zeros(n, dtype=np.int8),
        maxspeed=np.full(n, np.nan),
        drive=np.ones(n, dtype=bool),
        walk=mirror_walkable(classes, names, node_id, offsets),
        source="mirror",
        sha256=fetch.sha256_of(path),
    )


def _named_lines(kind: str, path: Path) -> tuple[list[np.ndarray], list[str]]:
    """(lon/lat vertices, name) of every named road way of the input."""
    lines: list[np.ndarray] = []
    names: list[str] = []
    if kind == "pbf":
        import osmium

        for obj in osmium.FileProcessor(str(path)).with_locations():
            if not obj.is_way() or "highway" not in obj.tags or "name" not in obj.tags:
                continue
            pts = [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
            if len(pts) >= 2:
                lines.append(np.asarray(pts, dtype=np.float64))
                names.append(obj.tags["name"])
        return lines, names
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    for f in features:
        name = (f["properties"].get("name") or "").strip()
        coords = f["geometry"]["coordinates"]
        if name and len(coords) >= 2:
            lines.append(np.asarray(coords, dtype=np.float64)[:, :2])
            names.append(name)
    return lines, names


def named_points(s: Settings | None = None, step_m: float = 20.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step_m`` metres along the named roads: (xy in EPSG:5490, names).

    From the official extract when present (``name`` of ``highway`` ways), else from the
    mirror's ``name`` property. Names start with a capital (« chemin X » → « Chemin X »).
    """
    from pyproj import Transformer

    kind, path = source_path(s)
    lines, names = _named_lines(kind, path)
    if not lines:
        return np.zeros((0, 2)), np.zeros(0, dtype=object)
    counts = np.array([len(line) for line in lines])
    ll = np.concatenate(lines)
    tr = Transformer.from_crs(settings_mod.CRS_STORE, settings_mod.CRS_MEASURE, always_xy=True)
    xy = np.column_stack(tr.transform(ll[:, 0], ll[:, 1]))
    line_of = np.repeat(np.arange(len(lines)), counts)
    same = line_of[1:] == line_of[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    seg_line = line_of[:-1][same]
    k = np.maximum(np.ceil(np.hypot(*(b - a).T) / step_m).astype(np.int64), 1)
    seg = np.repeat(np.arange(len(a)), k)
    frac = (np.arange(len(seg)) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k, k)
    pts = a[seg] + (b[seg] - a[seg]) * frac[:, None]
    ends = np.flatnonzero(np.r_[line_of[1:] != line_of[:-1], True])
    pts = np.vstack([pts, xy[ends]])
    label = np.array([n[:1].upper() + n[1:] for n in names], dtype=object)
    return pts, np.concatenate([label[seg_line[seg]], label[line_of[ends]]])


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
