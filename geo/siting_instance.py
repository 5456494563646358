"""The island's siting instance, assembled from the data layers (the file side of siting).

:func:`analysis.siting.prepare` is the pure constructor; this module reads what it
needs (grid, communes, IRIS fragility, registry places, candidates, road graphs) and
keeps the result on disk: one ``.npz`` per set of inputs under
``settings.build_dir / "siting"``, named after a key hashing everything the instance
depends on (:func:`cache_key`: the sources' sha256, the graphs' cache keys, the
registry's revision, the settings and :data:`FORMAT_VERSION`), written and checked
through :mod:`geo.cache`. A second ``maillage propose-stops`` with the same inputs
reads it instead of computing the candidates and their reach again. In a read-only data
folder (a replica's copy, see ``deploy/``), nothing is written: the instance is built in
memory (the stops service of each process keeps it).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import coverage
from analysis.graph import check_mode
from analysis.siting import FIXED_KIND, Instance, Reach, SitingError, prepare
from analysis.snap import Snapped
from geo import cache, fetch
from maillage import settings as settings_mod
from maillage.settings import Settings

#: Bump when the instance's content or how it is built changes (part of the cache key).
FORMAT_VERSION = 1
#: Instance files kept per folder (the oldest are dropped beyond).
KEEP_FILES = 6
#: Sources the instance is built from (their catalog sha256 enter the key).
SOURCES = ("communes_geo", "communes_table", "filosofi", "ifn", "mairies", "bus_stops",
           "addresses")
_SNAPPED = ("edge", "ft", "fl", "xy", "dist", "ok")


#: Longest walk/drive offered by the Arrêts proposés page: its instances reach this far
#: (built by ``maillage data`` so that page views only read them).
PAGE_REACH_MINUTES = 30.0

def cache_key(mode: str, max_minutes: float, s: Settings, *, places: str, extra: tuple,
              far_m: float | None) -> str:
    """Hash of everything the instance depends on (see the module docstring)."""
    from geo import catalog, graphs, roads

    payload: dict[str, Any] = {
        "v": FORMAT_VERSION, "mode": mode, "minutes": float(max_minutes), "places": places,
        "extra": [list(map(str, e)) for e in extra], "far_m": far_m,
        "walk_kmh": s.walk_kmh, "max_snap_m": s.max_snap_m,
        "spacing": s.candidate_spacing_m, "road_max": s.candidate_road_max_m,
        "sources": {n: catalog.get(n).sha256 for n in SOURCES},
        "graphs": sorted({graphs.path_for("drive", s).name, graphs.path_for(mode, s).name}),
        "osm_pois": roads.pbf_path(s).is_file(),  # the extract's sha is in the graph keys
        "registry": _registry_revision(s),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def cache_path(s: Settings, mode: str, key: str) -> Path:
    """Where the instance of key ``key`` is cached."""
    return s.build_dir / "siting" / f"{mode}-{key}.npz"


def _registry_revision(s: Settings) -> str:
    from maillage.registry import store

    return store.revision(s)


# --------------------------------------------------------------------------- (de)serialise


def _frame_arrays(prefix: str, df: pd.DataFrame, arrays: dict[str, np.ndarray]) -> list:
    """Columns of ``df`` into ``arrays`` (strings as unicode arrays); their (name, kind) list."""
    cols = []
    for i, name in enumerate(df.columns):
        if name == "geometry":
            continue
        values = df[name]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            arr, kind = np.asarray(values.fillna("").astype(str).to_numpy(), dtype=str), "str"
        else:
            arr, kind = values.to_numpy(), "num"
        arrays[f"{prefix}{i}"] = arr
        cols.append([str(name), kind, f"{prefix}{i}"])
    return cols


def _frame(npz, cols: list) -> pd.DataFrame:
    return pd.DataFrame({name: (npz[key].astype(object) if kind == "str" else npz[key])
                         for name, kind, key in cols})


def to_bytes(inst: Instance) -> bytes:
    """The instance as one uncompressed ``.npz`` (no pickles)."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {
        "mode": inst.mode, "dem": _frame_arrays("dem_", inst.dem, arrays),
        "cands": _frame_arrays("cand_", inst.candidates, arrays),
        "reach": [inst.reach.n_cand, inst.reach.n_cell, inst.reach.cutoff],
        "base_mode": inst.base.mode, "walk_mps": inst.base.walk_mps,
    }
    for name in ("cand", "cell", "seconds"):
        arrays[f"reach_{name}"] = getattr(inst.reach, name)
    for name in ("seconds", "nearest", "access_s", "usable"):
        arrays[f"base_{name}"] = getattr(inst.base, name)
    for owner, snapped in (("cells", inst.base.cells), ("supply", inst.base.supply),
                           ("candsnap", inst.cand_snap)):
        for name in _SNAPPED:
            arrays[f"{owner}_{name}"] = getattr(snapped, name)
    arrays["usable"] = inst.usable
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    return buf.getvalue()


def from_bytes(data: bytes) -> Instance:
    """An instance written by :func:`to_bytes` (raises on a damaged or foreign file)."""
    import geopandas as gpd

    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        dem = _frame(npz, meta["dem"])
        cands = _frame(npz, meta["cands"])
        cands = gpd.GeoDataFrame(cands, geometry=gpd.points_from_xy(cands["lon"], cands["lat"]),
                                 crs=settings_mod.CRS_STORE)

        def snapped(owner: str) -> Snapped:
            return Snapped(*(npz[f"{owner}_{name}"] for name in _SNAPPED))

        n_cand, n_cell, cutoff = meta["reach"]
        reach = Reach(npz["reach_cand"], npz["reach_cell"], npz["reach_seconds"], int(n_cand),
                      int(n_cell), float(cutoff))
        base = coverage.Access(meta["base_mode"], npz["base_seconds"], npz["base_nearest"],
                               npz["base_access_s"], snapped("cells"), snapped("supply"),
                               npz["base_usable"], float(meta["walk_mps"]))
        return Instance(meta["mode"], dem, cands, base, reach, npz["usable"].copy(),
                        snapped("candsnap"))


# --------------------------------------------------------------------------- load


def build(mode: str = "walk", max_minutes: float = 30.0, s: Settings | None = None, *,
          places: str = "all", extra: tuple = (), far_m: float | None = None) -> Instance:
    """Assemble the island instance from the data layers (no cache)."""
    from geo import candidates as cand_mod
    from geo import communes as communes_mod
    from geo import graphs, population, supply

    s = s or settings_mod.get()
    mode = check_mode(mode)
    communes = communes_mod.load(s)
    grid = population.load_grid(s)
    dem = coverage.demand(grid, communes, "population")
    frag = population.fragility_by_cell(grid, population.load_ifn(s))
    dem["fragility_weight"] = coverage.demand(grid, communes, "fragility", frag)["weight"]
    fixed = supply.select(supply.places(s), places, kinds=[FIXED_KIND])
    if fixed.empty:
        raise SitingError("Aucun lieu fixe dans le registre : chargez-le avec « maillage places "
                          "load-initial » (ou élargissez la sélection des lieux).")
    drive = graphs.load("drive", s)
    cands = cand_mod.build(s, drive, grid=grid, communes=communes, extra=extra)
    cands = cand_mod.snap_drive(cands, drive, s.max_snap_m if far_m is None else far_m)
    g = drive if mode == "drive" else graphs.load(mode, s)
    return prepare(g, dem, supply.to_xy(fixed), cands, max_minutes=max_minutes,
                   walk_kmh=s.walk_kmh, max_snap_m=s.max_snap_m)


def load(mode: str = "walk", max_minutes: float = 30.0, s: Settings | None = None, *,
         places: str = "all", extra: tuple = (), far_m: float | None = None,
         rebuild: bool = False) -> Instance:
    """The island instance: read from the cache when its inputs are unchanged, else built.

    Fixed places: the registry's ``lieu fixe`` places (``places="labelled"``: labelled
    only). Candidates: :func:`geo.candidates.build` (town halls, bus stops, OSM places,
    registry stops, the roadside points where people live, merged) plus ``extra``
    points, snapped to the drive network and flagged beyond ``far_m`` (default: the
    ``max_snap_m`` setting). A damaged cache file is deleted and rebuilt (French warning).
    """
    s = s or settings_mod.get()
    mode = check_mode(mode)
    path = cache_path(s, mode, cache_key(mode, max_minutes, s, places=places,
                                         extra=tuple(extra), far_m=far_m))
    if not rebuild:
        inst = cache.read(path, from_bytes, FORMAT_VERSION, what="instance des arrêts proposés")
        if inst is not None:
            return inst
    inst = build(mode, max_minutes, s, places=places, extra=extra, far_m=far_m)
    # In memory only on a replica's read-only copy, and during a page view: a visitor's
    # page never writes to the data folder (``maillage data`` builds the instances the page
    # uses; one rebuilt after a registry edit stays in this process's memory).
    if cache.read_only_folder(path) is None and fetch.downloads_allowed():
        cache.write(path, to_bytes(inst), FORMAT_VERSION)
        _prune(path.parent)
    return inst


def _prune(folder: Path) -> None:
    """Keep the :data:`KEEP_FILES` most recent instance files of ``folder``."""
    files = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP_FILES:]:
        cache.discard(old)
