"""`maillage data`: fetch every source and build every derived layer, idempotently.

Each step is a function ``(settings, report) -> None``; later features append
their own step to :data:`STEPS` (road graphs, registry load, …). ``report`` is
called with one French line per thing done, so the CLI and the dashboard can
show progress.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from geo import cache, catalog, fetch
from maillage import fmt
from maillage.registry import initial as registry_initial
from maillage.settings import Settings

Report = Callable[[str], None]
Step = Callable[[Settings, Report], None]


def fetch_sources(s: Settings, report: Report) -> None:
    """Resolve every catalogued dataset and say where each came from."""
    for ds in catalog.DATASETS:
        found = fetch.resolve(ds.name, s)
        report(f"{ds.title} : {found.origin} ({found.path}), sha256 {found.sha256[:12]}… vérifié")


#: Bump when the way layers are built changes, so stale builds are redone.
LAYERS_VERSION = "1"
_LAYER_SOURCES = ("communes_geo", "communes_table", "population_legale", "filosofi", "ifn")


def _layers_stamp(s: Settings) -> str:
    shas = [fetch.resolve(name, s).sha256 for name in _LAYER_SOURCES]
    return json.dumps({"version": LAYERS_VERSION, "sources": shas})


def build_layers(s: Settings, report: Report) -> None:
    """Build the commune, EPCI and population layers (skipped when already up to date)."""
    from geo import communes, population

    stamp_path = s.build_dir / "layers.stamp"
    stamp = _layers_stamp(s)
    built = cache.read(stamp_path, lambda b: b.decode("utf-8"), LAYERS_VERSION,
                       what="empreinte des couches")
    if built == stamp and cache.valid(communes.layer_path(s), communes.LAYER_VERSION) \
            and cache.valid(population.grid_path(s), population.GRID_VERSION):
        report("Communes et carreaux de 200 m : déjà à jour")
        return
    c = communes.build(s)
    report(f"Communes : {len(c)} communes écrites dans {communes.layer_path(s)}")
    g = population.build(s)
    people = fmt.number(g["population"].sum())
    report(f"Carreaux de 200 m : {len(g)} carreaux, {people} habitants")
    cache.write(stamp_path, stamp.encode("utf-8"), LAYERS_VERSION)


def install_assets(s: Settings, report: Report) -> None:
    """Copy Leaflet's files from their package so maps work without Internet."""
    from geo import assets

    target = assets.install()
    report(f"Fichiers de carte (Leaflet) installés dans {target}")


def build_graphs(s: Settings, report: Report) -> None:
    """Build (or load from the cache) the drive and walk graphs of the island."""
    from geo import graphs

    graphs.build_all(s, report)


def build_stop_instances(s: Settings, report: Report) -> None:
    """Build (or check) the proposed-stops instances the page uses, for both modes.

    Done here so that a visitor's page view reads them and never writes a file.
    """
    from geo import siting_instance

    for mode in ("walk", "drive"):
        inst = siting_instance.load(mode, siting_instance.PAGE_REACH_MINUTES, s, places="all")
        report(f"Arrêts proposés ({'à pied' if mode == 'walk' else 'en voiture'}) : "
               f"{fmt.number(len(inst.candidates))} emplacements possibles")


STEPS: list[tuple[str, Step]] = [
    ("Sources", fetch_sources),
    ("Couches", build_layers),
    ("Cartes hors ligne", install_assets),
    ("Registre des lieux", registry_initial.step),
    ("Réseau routier", build_graphs),
    ("Arrêts proposés", build_stop_instances),
]


def run(s: Settings, report: Report) -> dict[str, float]:
    """Run every step in order; returns the seconds each step took."""
    took: dict[str, float] = {}
    for title, step in STEPS:
        report(f"== {title}")
        start = time.perf_counter()
        step(s, report)
        took[title] = time.perf_counter() - start
        report(f"   ({fmt.number(took[title], 1)} s)")
    return took
