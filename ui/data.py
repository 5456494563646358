"""Cached loaders of the layers the pages share (one load per server process).

A loader that found an on-disk cache unreadable (see :mod:`geo.cache`) rebuilt it; the
visitor whose page view did it is told so with a French toast (:func:`announce_rebuilds`).

:func:`start_preload` (called by ``app.py`` once the first page is drawn) loads, in a
background thread, what the other pages need (road graphs, the coverage service and
today's coverage, the isochrone, stops and finder services), through the same cached
loaders: a page opened while it runs waits only for what it needs; :func:`preload_state`
says in French how far it got; at the end the loaded data is frozen out of the garbage
collector's passes (:func:`_freeze_shared_objects`). Modules used only by those loaders
(scipy's road graphs, the finder) are imported inside them, off the home page's first
paint.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis import demography
from geo import cache, choropleth, population
from geo import communes as communes_mod
from maillage import settings

if TYPE_CHECKING:
    from analysis import graph

F = TypeVar("F", bound=Callable)


def announce_rebuilds(loader: F) -> F:
    """Wrap a (cached) loader: every cache it rebuilt is announced with ``st.toast`` in French.

    The wrapper stays outside Streamlit's cache, so only the run that did the rebuild
    shows the message; ``clear`` is passed through.
    """

    @functools.wraps(loader)
    def wrapper(*args, **kwargs):
        with cache.notices() as notes:
            value = loader(*args, **kwargs)
        for note in notes:
            st.toast(f"{note} Les données ont été recalculées ; tout fonctionne normalement.",
                     icon=":material/build:")
        return value

    if hasattr(loader, "clear"):
        wrapper.clear = loader.clear  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


@announce_rebuilds
@st.cache_data(show_spinner="Chargement des communes…")
def communes() -> gpd.GeoDataFrame:
    """The 34 communes (EPSG:4326)."""
    return communes_mod.load()


@st.cache_data(show_spinner="Chargement des EPCI…")
def epci() -> gpd.GeoDataFrame:
    """The 3 EPCI dissolved from the communes."""
    return communes_mod.load_epci(communes())


@announce_rebuilds
@st.cache_data(show_spinner="Chargement des carreaux de 200 m…")
def grid() -> gpd.GeoDataFrame:
    """The populated 200 m cells."""
    return population.load_grid()


@st.cache_data(show_spinner="Chargement de l'indice de fragilité…")
def ifn() -> gpd.GeoDataFrame:
    """IRIS fragility polygons."""
    return population.load_ifn()


@st.cache_data(show_spinner=False)
def commune_profile() -> pd.DataFrame:
    """Population profile of every commune."""
    g = grid()
    return demography.commune_profile(communes(), g, g["fragility"])


@st.cache_resource(show_spinner="Préparation des carreaux de 200 m…")
def grid_geojson(column: str, title: str, unit: str) -> tuple[dict, choropleth.Legend]:
    """The grid shaded by ``column`` as GeoJSON, built once per server (read-only)."""
    return choropleth.grid_geojson(grid(), column, title=title, unit=unit)


@announce_rebuilds
@st.cache_resource(show_spinner="Chargement du réseau routier…")
def road_graph(mode: str) -> graph.Graph:
    """The cached ``mode`` graph with its snapping index built (shared, read-only)."""
    from geo import graphs

    g = graphs.load(mode, settings.get())
    g.tree  # noqa: B018 - build the snapping index once
    return g


@st.cache_resource(show_spinner=False)
def land():
    """Martinique's land (EPSG:5490), to refuse points at sea."""
    from geo import roads

    return roads.island(settings.get())


# ----------------------------------------------------------------------------- preload


def warm_up(timeout_s: float = 120.0) -> None:
    """What the first page needs, at the server's start (``ui/__init__.py`` runs it in a
    thread of the server process): the modules of every page's first paint, then, once
    Streamlit's runtime exists (its caches are the pages' caches), the home page's data.
    The rest of the data waits for the first page (:func:`start_preload`)."""
    import importlib

    from streamlit import runtime

    from geo import basemap, fetch

    def load(names: tuple[str, ...]) -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # the page importing it will say why
                continue

    # Never streamlit-folium (ui.maps): a component registers its files only when imported
    # by a page's run (with a ScriptRunContext), never from another thread.
    load(("sqlalchemy", "argon2", "pyproj", "geo.communes", "geo.population",
          "geo.coverage_layers", "analysis.demography", "ui.widgets", "ui.theme",
          "ui.signin", "ui.trouver"))
    deadline = time.monotonic() + timeout_s
    while not runtime.exists():
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    with fetch.page_mode():
        try:
            communes(), commune_profile()
            basemap._outlines_geojson()
        except Exception:  # the home page shows the error itself
            return


@dataclass
class Preload:
    """The background loading of one server process: steps done, the one running, errors."""

    steps: list[str]
    done: list[str] = field(default_factory=list)
    running: str = ""
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    finished: bool = False
    thread: threading.Thread | None = None


def _coverage_today() -> None:
    """Today's coverage with the page's default request, on foot then by car, with the
    white zones of each default threshold (what « Seuil affiché » offers)."""
    from analysis import coverage
    from maillage.services.coverage import CoverageRequest
    from ui import coverage as cov

    svc = cov.service()
    for mode in ("walk", "drive"):
        minutes = tuple(coverage.DEFAULT_MINUTES[mode])
        first = 15.0 if mode == "walk" and 15.0 in minutes else minutes[0]
        for zone in (first, *(m for m in minutes if m != first)):
            res = svc.run(CoverageRequest(mode=mode, minutes=minutes, zone_minutes=zone,
                                          by_commune=True))
            cov.zones_collection(res)


def _call(module: str, name: str) -> Callable[[], object]:
    """``module.name()``, imported when called (in the loading thread, not in a page's run)."""
    def load() -> object:
        import importlib

        return getattr(importlib.import_module(module), name)()
    return load


#: (French label, loader) of what the pages need, in the order visitors usually go.
PRELOAD_STEPS: list[tuple[str, Callable[[], object]]] = [
    ("communes et carreaux", lambda: (communes(), commune_profile())),
    ("réseau routier à pied", lambda: road_graph("walk")),
    ("couverture d'aujourd'hui", lambda: (road_graph("drive"), _coverage_today())),
    ("adresses et lieux (Trouver)", _call("ui.trouver", "finder")),
    ("isochrones", _call("ui.isochrones", "service")),
    ("arrêts proposés", _call("ui.stops", "warm")),
]


#: Seconds the background loading waits after the first page's run, and between its
#: steps: the server's event loop (same process, same interpreter lock) still has to send
#: that page to the browser and serve its map's files; loading at once delayed them by
#: seconds.
PRELOAD_PAUSE_S = (2.0, 0.2)


def _run_preload(state: Preload, steps: list[tuple[str, Callable[[], object]]]) -> None:
    from geo import fetch

    time.sleep(PRELOAD_PAUSE_S[0])
    t0 = time.perf_counter()
    with fetch.page_mode():  # like a page: never download a missing source
        for label, load in steps:
            time.sleep(PRELOAD_PAUSE_S[1])
            state.running = label
            try:
                load()
            except Exception as exc:  # the page that needs it will say why
                state.errors.append(f"{label} : {exc}")
            state.done.append(label)
    state.running = ""
    _freeze_shared_objects()
    state.seconds = time.perf_counter() - t0
    state.finished = True


def _freeze_shared_objects() -> None:
    """Keep the loaded data out of the cyclic garbage collector's passes.

    Streamlit runs a full ``gc.collect()`` after every run (``runner.postScriptGC``),
    before the browser is told that the run is over: it walked the ~300 000 objects of
    the shared data (frames, geometries, the address index) on every interaction,
    0.2 to 0.4 s each time. :func:`gc.freeze` moves the objects alive now (once the
    garbage is collected) to a generation those passes skip; what later runs create
    is collected as before, and reference counting still frees everything.
    """
    import gc

    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def _preload() -> Preload:
    state = Preload([label for label, _ in PRELOAD_STEPS])
    state.thread = threading.Thread(target=_run_preload, args=(state, PRELOAD_STEPS),
                                    name="maillage-preload", daemon=True)
    state.thread.start()
    return state


def start_preload() -> Preload | None:
    """Start the background loading once per server process (later calls return it);
    never in Streamlit's AppTest (tests load what they use)."""
    from streamlit import config

    if config.get_option("global.appTest"):
        return None
    # streamlit-folium registers its component only when first imported in a page's run:
    # imported here (a run) before the loading thread imports the pages' modules
    from ui import maps  # noqa: F401
    return _preload()


def preload_state(state: Preload | None) -> str:
    """« Préparation des données pour les autres pages : 3 sur 8 (réseau routier en
    voiture…) » while the background loading runs, "" once done (or not started)."""
    if state is None or state.finished:
        return ""
    doing = f" ({state.running}…)" if state.running else ""
    return (f"Préparation des données pour les autres pages : {len(state.done)} sur "
            f"{len(state.steps)}{doing}")


def show_preload() -> None:
    """Start the background loading (see :func:`start_preload`) and say in the sidebar
    how far it got while it runs."""
    text = preload_state(start_preload())
    if text:
        st.sidebar.caption(text)
