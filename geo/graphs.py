"""The drive and walk graphs of the island: built by :mod:`analysis.graph`, cached on disk here.

Each graph is one uncompressed ``.npz`` under ``settings.build_dir / "graphs"``, named
after a key hashing the road source's sha256, the speeds, the densification spacing,
:data:`analysis.graph.FORMAT_VERSION` and, for the walk graph, the walking rules
(:data:`geo.roads.WALK_RULES`), so it is rebuilt only when one of those changes.
The file goes through :mod:`geo.cache` (format version + sha256 sidecar, atomic write):
a truncated, damaged or foreign file is deleted and rebuilt with a French warning.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from functools import cache as memo
from pathlib import Path

import numpy as np

from analysis import graph as graph_mod
from analysis.graph import MODES, Graph, check_mode, describe
from geo import cache, fetch, roads
from maillage import settings as settings_mod
from maillage.settings import Settings

#: What the French messages call each graph.
LABELS = {"drive": "graphe voiture", "walk": "graphe à pied"}


def cache_key(source_sha256: str, mode: str, speeds: dict[str, float], walk_kmh: float) -> str:
    """Hash of everything a graph depends on."""
    payload = {
        "v": graph_mod.FORMAT_VERSION, "sha": source_sha256, "mode": mode,
        "spacing": graph_mod.SPACING_M,
        "speeds": dict(sorted(speeds.items())) if mode == "drive" else None,
        "walk": walk_kmh if mode == "walk" else None,
    }
    if mode == "walk":  # the walking rules of geo.roads (motorway, foot/sidewalk tags)
        payload["walk_rules"] = roads.WALK_RULES
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def cache_path(build_dir: Path, mode: str, key: str) -> Path:
    """Where the ``mode`` graph of key ``key`` is cached."""
    return build_dir / "graphs" / f"{mode}-{key}.npz"


def to_bytes(g: Graph) -> bytes:
    """The graph as one uncompressed ``.npz`` (fast to load)."""
    buf = io.BytesIO()
    np.savez(buf, mode=np.array(g.mode), meta=np.array(json.dumps(g.meta)), **g.arrays())
    return buf.getvalue()


def from_bytes(data: bytes) -> Graph:
    """A graph written by :func:`to_bytes` (raises on a damaged or foreign file)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in graph_mod.ARRAYS}
        return Graph(mode=str(npz["mode"]), meta=json.loads(str(npz["meta"])), **arrays)


def write(g: Graph, path: Path) -> None:
    """Write ``g`` to ``path`` through the checked cache (atomic, with its sidecar)."""
    cache.write(path, to_bytes(g), graph_mod.FORMAT_VERSION)


def read(path: Path, what: str = "") -> Graph | None:
    """The graph cached at ``path``, ``None`` when absent or unreadable (then deleted)."""
    return cache.read(path, from_bytes, graph_mod.FORMAT_VERSION, what=what)


def path_for(mode: str, s: Settings | None = None) -> Path:
    """The cache file of the ``mode`` graph for the current roads and speeds."""
    mode = check_mode(mode)
    s = s or settings_mod.get()
    kind, src = roads.source_path(s)
    sha = fetch.resolve("roads_mirror", s).sha256 if kind == "mirror" else fetch.sha256_of(src)
    key = cache_key(sha, mode, settings_mod.DRIVE_SPEEDS_KMH, s.walk_kmh)
    return cache_path(s.build_dir, mode, key)


def load(mode: str, s: Settings | None = None, *, rebuild: bool = False,
         read_ways: Callable[[], roads.Ways] | None = None) -> Graph:
    """The cached ``mode`` graph of the island, built first when missing, stale or unreadable.

    ``read_ways`` (a callable returning :class:`geo.roads.Ways`) lets callers read
    the roads once for both modes.
    """
    mode = check_mode(mode)
    s = s or settings_mod.get()
    path = path_for(mode, s)
    if not rebuild:
        g = read(path, LABELS[mode])
        if g is not None:
            return g
    ways = read_ways() if read_ways is not None else roads.load(s)
    g = graph_mod.build(ways, mode, settings_mod.DRIVE_SPEEDS_KMH, s.walk_kmh)
    if path.parent.is_dir():  # older keys (other speeds, sources or versions) are dropped
        for old in path.parent.glob(f"{mode}-*.npz"):
            if old != path:
                cache.discard(old)
    write(g, path)
    return g


def build_all(s: Settings | None = None, report=print, *,
              rebuild: bool = False) -> dict[str, Graph]:
    """Build (or reuse) both graphs, reading the roads at most once; report each one."""
    s = s or settings_mod.get()
    read_ways = memo(lambda: roads.load(s))
    graphs = {}
    for mode in MODES:
        graphs[mode] = load(mode, s, rebuild=rebuild, read_ways=read_ways)
        report(describe(graphs[mode]))
    return graphs


def on_island(problem, s: Settings | None = None):
    """The drive graph, the snapped points and the travel times (:func:`analysis.tours.travel`)."""
    from analysis import tours

    s = s or settings_mod.get()
    g = load("drive", s)
    tr, pts = tours.travel(g, problem, s.max_snap_m)
    return g, pts, tr
