"""Pieces of the Indicateurs page: the shared service, cached figures, small render helpers.

The figures come from :class:`maillage.services.indicators.IndicatorsService` (the one
``maillage indicators overview`` uses); this module only caches them for a minute and
draws them: metrics, plotly charts, the map (or its empty state), the table by EPCI and
the commune or place picker of the entry form.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import streamlit as st

from analysis import indicators as ind
from geo import basemap, choropleth
from maillage import fmt, settings
from maillage.indicators import charts
from maillage.indicators import store as indicators_store
from maillage.services.indicators import (
    DEFAULT_MAP,
    LEVELS,
    Figures,
    IndicatorsRequest,
    IndicatorsResult,
    IndicatorsService,
)
from maillage.settings import Settings
from ui import maps, theme, widgets
from ui.data import announce_rebuilds

#: Session keys of the map's widgets (read before they are drawn, see :func:`map_choice`).
MAP_KEY, MAP_LEVEL = "ind-map-key", "ind-map-level"
LEVEL_LABELS = {"commune": "commune", "epci": "EPCI"}
#: How long figures read from the store are reused (every write clears them at once).
TTL_S = 60


@st.cache_resource(show_spinner="Chargement des communes…")
def _service(s: Settings) -> IndicatorsService:
    return IndicatorsService.load(s)


@announce_rebuilds
def service() -> IndicatorsService:
    """One service per server process and settings (communes and EPCI, read-only)."""
    return _service(settings.get())


@st.cache_data(ttl=TTL_S, show_spinner="Lecture des indicateurs…")
def _figures(s: Settings, today: date, revision: str) -> Figures:
    return _service(s).figures(today)


def _revision(s: Settings) -> str:
    """The revision of everything the figures read (:func:`maillage.indicators.store.revision`:
    figures, targets, the registry's labels, the tours' workshops): a figure saved or a
    label changed on any replica shows here at the next run, not a minute later."""
    return indicators_store.revision(s)


def figures(today: date) -> Figures:
    """Every figure and target (public aggregates, shared by every visitor)."""
    s = settings.get()
    return _figures(s, today, _revision(s))


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def _result(s: Settings, request: IndicatorsRequest, revision: str) -> IndicatorsResult:
    return _service(s).run(request, _figures(s, request.today, revision))


def result(request: IndicatorsRequest) -> IndicatorsResult:
    """The service's answer to ``request`` (computed once per minute and request)."""
    s = settings.get()
    return _result(s, request, _revision(s))


def refresh() -> None:
    """Forget the figures read (after a write), and the report prepared from them."""
    _figures.clear()
    _result.clear()
    st.session_state.pop("ind_report", None)


def label_of(key: str) -> str:
    """« Solution — indicator », for the lists of indicators."""
    spec = ind.INDICATORS[key]
    return f"{ind.SOLUTIONS[spec.solution].title} — {spec.label}"


# --------------------------------------------------------------------------- per solution


def metric_texts(result: IndicatorsResult, spec: ind.Indicator) -> tuple[str, str | None]:
    """The value and the « objectif … · … % » line of one indicator's metric."""
    r = result.row(spec.key)
    value = charts.fmt(r["value"], spec) if r["has_data"] else "—"
    goal = r["target"]
    if not math.isfinite(goal):
        return value, None
    p = r["progress"]
    share = (f" · {fmt.percent(p, 0)}"
             if p is not None and math.isfinite(p) else "")
    return value, f"objectif {charts.fmt(goal, spec)}{share}"


def metrics(result: IndicatorsResult, sol: ind.Solution) -> None:
    """One metric per indicator of the solution (value, target and progress)."""
    specs = ind.of_solution(sol.key)
    cols = st.columns(min(len(specs), 4))
    for k, spec in enumerate(specs):
        value, delta = metric_texts(result, spec)
        cols[k % len(cols)].metric(spec.label, value, delta, delta_color="off",
                                   help=spec.help or None)


def charted(result: IndicatorsResult, sol: ind.Solution) -> list[ind.Indicator]:
    """The solution's indicators that have figures (and so a monthly chart)."""
    return [s for s in ind.of_solution(sol.key) if s.key in result.monthly]


def trends(result: IndicatorsResult, specs: list[ind.Indicator]) -> None:
    """The monthly trend of each indicator, two per row, with its target."""
    pair = st.columns(2)
    where = result.request.scope_label
    for k, spec in enumerate(specs):
        goal = result.row(spec.key)["target"]
        fig = charts.trend(result.monthly[spec.key], spec,
                           goal if math.isfinite(goal) else None, where)
        theme.chart(fig, key=f"trend-{spec.key}", where=pair[k % 2])


def dimension_chart(result: IndicatorsResult, specs: list[ind.Indicator]) -> None:
    """The first of ``specs`` with dimensions, by channel or employer type."""
    spec = next((s for s in specs if s.key in result.dimensions), None)
    if spec is not None:
        theme.chart(charts.by_dimension(result.dimensions[spec.key], spec,
                                        result.request.year), key=f"dim-{spec.key}")


# --------------------------------------------------------------------------- map


def map_choice() -> tuple[str, str]:
    """The map's indicator and level as chosen (the widgets sit lower on the page).

    Streamlit keeps a widget's value in the session between runs, so the request can
    carry them before :func:`map_inputs` draws the widgets again.
    """
    key = st.session_state.get(MAP_KEY, DEFAULT_MAP)
    level = st.session_state.get(MAP_LEVEL, LEVELS[0])
    return (key if key in ind.INDICATORS else DEFAULT_MAP,
            level if level in LEVELS else LEVELS[0])


def map_inputs() -> None:
    """The map's indicator and level (their values go into the next request)."""
    left, right = st.columns([3, 1])
    left.selectbox("Indicateur", list(ind.INDICATORS), key=MAP_KEY, format_func=label_of)
    right.radio("Par", list(LEVELS), key=MAP_LEVEL, horizontal=True,
                format_func=LEVEL_LABELS.get)


def draw_map(result: IndicatorsResult) -> None:
    """The shaded communes or EPCI with their legend, or a French empty state."""
    req, spec = result.request, result.map_spec
    if not result.map_has_data:
        where = "commune" if req.map_level == "commune" else "EPCI"
        st.info(f"Pas de carte pour « {spec.label} » en {req.year} : aucun chiffre par "
                f"{where} n'est enregistré. Elle s'affichera dès le premier chiffre saisi "
                "ou importé pour une commune.")
        return
    shaded = result.areas.copy()
    shaded["valeur"] = [charts.fmt(v, spec) for v in shaded["value"]]
    if req.map_level == "commune":
        fields = {"nom": "Commune", "epci_court": "EPCI", "valeur": spec.label}
        highlight = (None if not req.epci
                     else set(shaded.loc[shaded["epci_court"] == req.epci, "code_insee"]))
    else:
        shaded["code_insee"] = shaded["epci_court"]
        fields = {"epci_court": "EPCI", "valeur": spec.label}
        highlight = None if not req.epci else {req.epci}
    m = basemap.base_map(credits="Fédération (indicateurs), IGN Admin Express")
    layer, legend = choropleth.commune_layer(
        shaded, shaded["value"], title=f"{spec.label} ({spec.unit}), {req.year}",
        unit={"%": "%", "/ 5": "score"}.get(spec.unit, ""), tooltip_fields=fields,
        highlight=highlight)
    layer.add_to(m)
    maps.show(m, height=480, key="indicators-map")
    widgets.legend(legend)


# --------------------------------------------------------------------------- per EPCI


def epci_table(result: IndicatorsResult) -> pd.DataFrame:
    """The table by EPCI as shown: French values, one row per « solution — indicator »."""
    table = result.by_epci
    shown = pd.DataFrame(
        [[charts.fmt(float(v), ind.INDICATORS[k]) for v in table.loc[k]] for k in table.index],
        columns=[str(c) for c in table.columns])
    shown.index = [label_of(k) for k in table.index]
    return shown


# --------------------------------------------------------------------------- entry form


def where_input(column, spec: ind.Indicator, svc: IndicatorsService) -> tuple[str | None, str]:
    """The commune (or labelled place) of a typed figure: none is chosen in advance.

    Returns ``(code_insee, place_id)``: ``code_insee`` is None until a commune is picked
    (« Toute la Martinique » gives ``""`` for the indicators that allow it), so the store
    refuses the figure rather than filing it under the first commune of the list.
    """
    names = svc.commune_names
    if spec.scope == "place":
        places = svc.labelled_places()
        place = column.selectbox(
            "Lieu labellisé", list(places), index=None,
            placeholder="Choisissez un lieu labellisé",
            format_func=lambda p: f"{places[p][1]} ({names.get(places[p][0], '')})")
        return "", place or ""
    options = ([""] if spec.scope == "any" else []) + sorted(names)
    code = column.selectbox("Commune", options, index=None,
                            placeholder="Choisissez une commune",
                            format_func=lambda c: names.get(c, "Toute la Martinique"))
    return code, ""
