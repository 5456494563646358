"""Pieces of the « Arrêts proposés » page (pages/arrets_proposes.py), on the stops service.

The page and ``maillage propose-stops`` answer the same :class:`StopsRequest` with the
same :class:`StopsService`, so the figures cannot drift. Sections of the page served:

* inputs (« Nombre d'arrêts », trip time, mode, « Qui compter » with the weighted mix,
  « Territoire »): :func:`request_from_widgets` → a :class:`StopsRequest`; the
  description of each weight: :func:`weight_help`; the equity rules (« Équité entre
  territoires »: stops per commune / EPCI, distance between stops): :func:`equity_widgets`,
  whose values :func:`request_from_widgets` takes as ``equity``;
* the instant answer and « Améliorer avec le solveur (HiGHS) » with its time limit:
  :func:`solver_controls` and :func:`answer` (the solver's answer is kept per visitor in
  ``st.session_state`` for the same request);
* the two reports (greedy, solver), with the equity rules not met: :func:`show_reports`
  (:func:`unmet_lines`);
* comparison with today (3 metrics): :func:`show_metrics`;
* map of the stops and newly covered cells: :func:`show_map`;
* stops table: :func:`stops_table`; « Par commune » expander: :func:`communes_table`;
* the save section: :func:`stop_labels` and :func:`save_params` (what
  :func:`maillage.selection_store.save_selection` takes).

Only the service (public data, read-only instances) is cached, per process and registry
revision.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from analysis import siting
from geo import candidates as cand_mod
from geo import siting_instance, stops_layer
from maillage import fmt, settings
from maillage.services.stops import StopsRequest, StopsResult, StopsService
from ui import maps
from ui.data import announce_rebuilds

#: Longest walk/drive offered on the page (the reach is computed once up to it).
MAX_MINUTES = int(siting_instance.PAGE_REACH_MINUTES)
MODES = {"walk": "À pied", "drive": "En voiture"}
SCOPES = ("Toute l'île", "EPCI", "Communes")
#: Session key of the solver's answer (kept with the request it answers).
MILP_KEY = "arrets-milp"


@announce_rebuilds
@st.cache_resource(show_spinner=False, max_entries=1)
def _service(revision: str) -> StopsService:
    return StopsService.load(settings.get(), reach_minutes=MAX_MINUTES)


def service() -> StopsService:
    """One stops service per server process and registry revision (its instances count the
    registry's fixed places and candidate stops): a place edited on any replica is taken
    into account at the next run. Its instances reach :data:`MAX_MINUTES`."""
    from maillage.registry import store

    return _service(store.revision())


def warm() -> None:
    """Load the service and answer the page's first request on foot and by car (what the
    background loading of ``ui.data`` does, so that the first visit and the first switch
    of mode do not wait for the instances)."""
    svc = service()
    for mode in MODES:
        req = StopsRequest(p=10, minutes=15.0, mode=mode, weights={next(iter(siting.WEIGHTS)):
                                                                    1.0},
                           solver="greedy", places="all")
        svc.run(req)


def weight_help(keys) -> str:
    """French description of the weights ``keys`` (:data:`analysis.siting.WEIGHT_HELP`)."""
    return "\n\n".join(f"**{siting.WEIGHTS[k].capitalize()}** : {siting.WEIGHT_HELP[k]}"
                       for k in keys if k in siting.WEIGHT_HELP)


#: Equity fields of :class:`StopsRequest` → French label of their widget.
EQUITY_LABELS = {
    "min_per_commune": "Au moins … arrêts par commune",
    "max_per_commune": "Au plus … arrêts par commune (0 = sans limite)",
    "min_per_epci": "Au moins … arrêts par EPCI",
    "max_per_epci": "Au plus … arrêts par EPCI (0 = sans limite)",
    "min_distance_m": "Distance minimale entre deux arrêts (m)",
}


def equity_from_values(values: dict[str, float]) -> dict[str, Any]:
    """The equity fields of a request from the widget values (0 for a maximum = none)."""
    out: dict[str, Any] = {}
    for name in EQUITY_LABELS:
        v = values.get(name, 0)
        if name == "min_distance_m":
            out[name] = float(v or 0.0)
        elif name.startswith("max"):
            out[name] = int(v) if v else None
        else:
            out[name] = int(v or 0)
    return out


def equity_widgets(*, expanded: bool = False) -> dict[str, Any]:
    """« Équité entre territoires »: the rules' widgets; returns the request's equity fields."""
    with st.expander("Équité entre territoires", expanded=expanded):
        st.caption("Répartir les arrêts : un minimum par commune ou par EPCI du territoire, "
                   "un maximum, et une distance minimale entre deux arrêts (à vol d'oiseau). "
                   "Les deux réponses respectent ces règles ou disent lesquelles ne peuvent "
                   "pas l'être.")
        c1, c2, c3, c4, c5 = st.columns(5)
        values = {
            "min_per_commune": c1.number_input(EQUITY_LABELS["min_per_commune"], 0, 10, 0, 1),
            "max_per_commune": c2.number_input(EQUITY_LABELS["max_per_commune"], 0, 100, 0, 1),
            "min_per_epci": c3.number_input(EQUITY_LABELS["min_per_epci"], 0, 100, 0, 1),
            "max_per_epci": c4.number_input(EQUITY_LABELS["max_per_epci"], 0, 100, 0, 1),
            "min_distance_m": c5.number_input(EQUITY_LABELS["min_distance_m"], 0, 20_000, 0,
                                              100),
        }
    return equity_from_values(values)


def request_from_widgets(communes: pd.DataFrame,
                         equity: dict[str, Any] | None = None) -> StopsRequest:
    """Draw the inputs and return the request they make (greedy; checked by the service).

    ``equity``: the fields returned by :func:`equity_widgets` (none by default).
    """
    c1, c2, c3, c4 = st.columns(4)
    p = c1.number_input("Nombre d'arrêts", min_value=1, max_value=100, value=10, step=1)
    minutes = c2.slider("Temps de trajet jusqu'à l'arrêt (min)", 5, MAX_MINUTES, 15, step=1)
    mode = c3.radio("Mode", list(MODES), format_func=MODES.get, horizontal=True)
    weight_key = c4.selectbox("Qui compter", [*siting.WEIGHTS, "mix"],
                              format_func=lambda k: "Mélange pondéré" if k == "mix"
                              else siting.WEIGHTS[k].capitalize())
    if weight_key == "mix":
        cols = st.columns(len(siting.WEIGHTS))
        mix = {k: cols[i].number_input(siting.WEIGHTS[k].capitalize(), 0.0, 10.0,
                                       1.0 if k == "seniors" else 0.0, 0.5, key=f"mix-{k}")
               for i, k in enumerate(siting.WEIGHTS)}
        weights: dict[str, float] = {k: float(v) for k, v in mix.items() if v > 0}
    else:
        weights = {weight_key: 1.0}

    s1, s2 = st.columns([1, 3])
    scope_kind = s1.radio("Territoire", list(SCOPES), horizontal=False)
    scope: str | tuple[str, ...] | None = None
    if scope_kind == "EPCI":
        scope = s2.selectbox("EPCI", sorted(communes["epci_court"].unique()))
    elif scope_kind == "Communes":
        names = dict(zip(communes["code_insee"], communes["nom"], strict=True))
        chosen = s2.multiselect("Communes", sorted(names), format_func=names.get,
                                placeholder="Choisir…")
        scope = tuple(sorted(chosen)) or None
        if not chosen:
            s2.info("Choisissez au moins une commune (sinon toute l'île est prise).")
    st.caption(weight_help(weights))
    return StopsRequest(p=int(p), minutes=float(minutes), mode=mode, weights=weights,
                        scope=scope, solver="greedy", time_limit=30.0, places="all",
                        **(equity or {}))


def solver_controls() -> tuple[bool, float]:
    """The « Améliorer avec le solveur » button and its time limit: (clicked, seconds)."""
    b1, b2 = st.columns([1, 2])
    limit = b2.slider("Limite de temps du solveur (s)", 5, 120, 30, step=5)
    clicked = b1.button("Améliorer avec le solveur (HiGHS)", type="primary")
    return clicked, float(limit)


def _greedy_key(request: StopsRequest) -> tuple:
    return replace(request, solver="greedy", time_limit=30.0).key()


def answer(request: StopsRequest, *, improve: bool = False,
           time_limit: float = 30.0) -> StopsResult:
    """The result to show: HiGHS's when asked now or kept for this request, else the greedy.

    Raises :class:`maillage.errors.MaillageError` (French) for a refused request.
    """
    svc = service()
    req = request.validated(svc.communes)
    key = _greedy_key(req)
    kept = st.session_state.get(MILP_KEY)
    if improve:
        with st.spinner("Le solveur cherche une meilleure solution…"):
            result = _run(svc, replace(req, solver="highs", time_limit=time_limit))
        st.session_state[MILP_KEY] = (key, result)
        return result
    if kept is not None and kept[0] == key:
        return kept[1]
    return _run(svc, replace(req, solver="greedy"))


def _run(svc: StopsService, req: StopsRequest) -> StopsResult:
    if svc.has_instance(req.mode, req.places, req.minutes):
        return svc.run(req)
    with st.spinner("Calcul des temps de trajet des carreaux vers les candidats…"):
        return announce_rebuilds(svc.run)(req)


# --------------------------------------------------------------------------- rendering


def report(label: str, sol: siting.Solution, what: str) -> str:
    """One solution in a sentence (markdown-safe: the labels come from the code)."""
    bound = "—" if sol.bound is None else fmt.number(sol.bound)
    gap = "—" if sol.gap is None or not math.isfinite(sol.gap) else siting.pct(sol.gap, 2)
    return (f"**{label}** : {fmt.number(sol.covered)} {what} nouvellement à portée "
            f"({siting.pct(sol.share, 1)} du manque), en {fmt.number(sol.seconds, 2)} s. "
            f"Solution {sol.status_fr} ; meilleure borne {bound} ; écart {gap}.")


def unmet_lines(sol: siting.Solution) -> list[str]:
    """The equity rules ``sol`` does not meet, one French sentence each."""
    return [f"Contrainte non respectée : {text}." for text in sol.unmet_fr]


def show_reports(result: StopsResult) -> None:
    """The greedy answer and, when it ran, the solver's (with the rules they do not meet)."""
    for label, sol in (("Réponse immédiate (gloutonne)", result.greedy),
                       ("Réponse du solveur", result.milp)):
        if sol is None:
            continue
        st.markdown(report(label, sol, result.weight_label))
        for line in unmet_lines(sol):
            st.warning(line)


def metrics(result: StopsResult) -> list[dict[str, Any]]:
    """The three comparison metrics (label, value, help, delta) of :func:`show_metrics`."""
    what, minutes = result.weight_label, fmt.number(result.request.minutes)
    return [
        {"label": f"Aujourd'hui à {minutes} min ou moins d'un lieu fixe",
         "value": siting.pct(result.share(result.covered_today), 1),
         "help": f"{fmt.number(result.covered_today)} {what}", "delta": None},
        {"label": f"Avec les {len(result.best.selected)} arrêts",
         "value": siting.pct(result.share(result.covered_with_stops), 1),
         "help": f"{fmt.number(result.covered_with_stops)} {what}",
         "delta": f"+{fmt.number(result.covered_with_stops - result.covered_today)} {what}"},
        {"label": "Encore hors de portée", "value": fmt.number(result.still_out_of_reach),
         "help": what, "delta": None},
    ]


def show_metrics(result: StopsResult) -> None:
    """« Aujourd'hui », « Avec les N arrêts », « Encore hors de portée »."""
    for col, m in zip(st.columns(3), metrics(result), strict=True):
        col.metric(m["label"], m["value"], delta=m["delta"], help=m["help"])


def show_map(result: StopsResult, *, key: str = "arrets-map", height: int = 540) -> None:
    """The stops (numbered by what they add) and the cells they bring within reach."""
    gains = [f"+{fmt.number(v)} {result.weight_label}" for v in result.stops["gain"]]
    cells = result.new_cells[["lon", "lat"]].to_numpy(dtype=float)
    m, layers = stops_layer.stops_map(result.stops, cells, gains)
    maps.show(m, key=key, height=height, layers=layers)
    st.caption("Cercles rouges : arrêts proposés (numérotés dans l'ordre de ce qu'ils "
               "apportent). Points bleus : carreaux de 200 m qui passent à portée grâce aux "
               "arrêts.")


def stops_table(result: StopsResult) -> pd.DataFrame:
    """The stops as the page shows them (French headers)."""
    s = result.stops
    return pd.DataFrame({
        "Rang": s["rang"], "Arrêt": s["nom"], "Commune": s["commune"],
        "Source": s["source"].map(cand_mod.SOURCES).fillna(s["source"]),
        f"Ajoute ({result.weight_label})": s["gain"].round(1), "Cumul": s["cumul"].round(1),
        "Distance à la route (m)": s["snap_drive_m"].round(0),
        "Longitude": s["lon"].round(5), "Latitude": s["lat"].round(5),
    })


def communes_table(result: StopsResult) -> pd.DataFrame:
    """Per commune of the scope: shares within the trip time today and with the stops."""
    c = result.communes
    lab = fmt.number(result.request.minutes)
    return pd.DataFrame({
        "Commune": c["commune"], "EPCI": c["epci"], "Habitants": c["population"].round(0),
        f"Part à {lab} min aujourd'hui (%)": c["population_today_pct"].round(1),
        f"Part à {lab} min avec les arrêts (%)": c["population_with_stops_pct"].round(1),
        f"65 ans et + à {lab} min aujourd'hui (%)": c["seniors_today_pct"].round(1),
        "65 ans et + avec les arrêts (%)": c["seniors_with_stops_pct"].round(1),
        f"{result.weight_label.capitalize()} aujourd'hui (%)": c["demand_today_pct"].round(1),
        f"{result.weight_label.capitalize()} avec les arrêts (%)":
            c["demand_with_stops_pct"].round(1),
    })


def stop_labels(result: StopsResult) -> dict[int, str]:
    """Rank → « 3. Arrêt Solidarité (Fort-de-France) », for « Arrêts à garder »."""
    s = result.stops
    return {int(r): f"{r}. {n} ({c})"
            for r, n, c in zip(s["rang"], s["nom"], s["commune"], strict=True)}


def save_params(result: StopsResult) -> dict[str, Any]:
    """The proposal's parameters kept with a saved selection (``selection_store.PARAM_KEYS``)."""
    r = result.request
    return {"mode": r.mode, "minutes": r.minutes, "weights": dict(r.weights),
            "scope": result.scope, "p": r.p,
            "method": "HiGHS" if result.best is result.milp else "glouton"}
