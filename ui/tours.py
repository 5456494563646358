"""Pieces of the « Tournées » page (pages/tournees.py), on the tours service.

The page and ``maillage tours`` plan the same :class:`ToursRequest` with the same
:class:`ToursService` and its checks (1 to 10 vans, a lunch break inside the working
day, ranges that do not run backwards…), so the two cannot drift. Sections of the
« Planifier » tab served:

* the inputs form (stops from a file, a saved selection or the town halls; vans,
  weeks, first day, solver time, depot, hours, lunch, workdays): :func:`inputs_form`
  → a :class:`ToursRequest` on submit (:func:`chosen_stops` picks the stops);
* computing: :func:`run` (a request) and :func:`resolve` (the problem again, after the
  planner pinned a visit in « Ajuster et publier »);
* the four metrics and the unserved visits: :func:`show_summary`, :func:`unserved_table`;
* the map with its legend: :func:`show_map`; the timeline: :func:`timeline`;
* one table per day: :func:`show_days` (:func:`tour_table`);
* the calendar, table and printable-sheet downloads: :func:`show_downloads`.

Only the service (the drive graph, read-only) is cached for the whole process; the
result of a visitor stays in ``st.session_state``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from analysis import schedule, tours
from analysis.tours import Stop, Tour
from geo import tours_io, tours_layer
from maillage import fmt, settings
from maillage.errors import MaillageError
from maillage.services.tours import (
    MAX_LUNCH_MIN,
    MAX_VANS,
    MAX_WEEKS,
    ToursRequest,
    ToursResult,
    ToursService,
    next_monday,
    stops_from_csv,
)
from ui import data, maps, widgets
from ui.import_progress import import_bar


@st.cache_resource(show_spinner=False)
def service() -> ToursService:
    """One tours service per server process, on the shared drive graph of :mod:`ui.data`."""
    return ToursService.load(settings.get(), graph=data.road_graph("drive"))


def chosen_stops(upload: Any = None, selection: Sequence[Stop] | None = None,
                 halls: Sequence[Stop] | None = None) -> tuple[Stop, ...]:
    """The stops to plan: an uploaded file first, else a saved selection, else the town halls.

    ``upload`` is the ``st.file_uploader`` value (read as a stream within the import
    bounds); ``selection`` the stops of a saved selection (e.g.
    ``selection_store.get_selection(pk).stops``); ``halls`` the town halls when the
    example is ticked.
    """
    if upload is not None:
        upload.seek(0)
        with import_bar("le fichier des arrêts") as progress:
            return stops_from_csv(upload, progress=progress)
    if selection:
        return tuple(selection)
    if halls:
        return tuple(halls)
    raise MaillageError("Choisissez un fichier d'arrêts, une sélection enregistrée ou "
                        "l'exemple des mairies.")


def inputs_form(halls: Sequence[Stop], saved: dict[int, str] | None = None,
                load_selection=None, *, key: str = "inputs") -> ToursRequest | None:
    """Draw the « Planifier » form; on submit, the request it makes (else None).

    ``saved``: selection id → label (``selection_store.label``); ``load_selection(pk)``
    returns that selection's stops. Reading the stops may raise a French
    :class:`MaillageError` (a refused file); the request itself is checked by the
    service (:meth:`ToursRequest.validated`).
    """
    saved = saved or {}
    with st.form(key):
        up = st.file_uploader("Fichier des arrêts (CSV : nom, longitude, latitude, frequence, "
                              "duree_min, fenetres — voir le modèle)", type=["csv"])
        picked = None
        if saved:
            picked = st.selectbox("Sélection d'arrêts enregistrée (page Arrêts proposés)",
                                  [None, *saved], placeholder="Aucune",
                                  format_func=lambda k: "Aucune" if k is None else saved[k])
        use_halls = st.checkbox("Sans fichier ni sélection : les 34 mairies (exemple)",
                                value=up is None)
        c1, c2, c3, c4 = st.columns(4)
        n_vans = c1.number_input("Camions", 1, MAX_VANS, 2)
        weeks = c2.number_input("Semaines", 1, MAX_WEEKS, 4)
        start = c3.date_input("Premier jour", next_monday(), format="DD/MM/YYYY")
        limit = c4.number_input("Temps de calcul (s)", 5, 120, 20)
        keys = [h.key for h in halls]
        depot_key = st.selectbox("Dépôt", keys, format_func=dict(
            zip(keys, [h.name for h in halls], strict=True)).get,
            index=keys.index(f"mairie-{tours_io.DEFAULT_DEPOT_INSEE}")
            if f"mairie-{tours_io.DEFAULT_DEPOT_INSEE}" in keys else 0)
        c5, c6, c7, c8 = st.columns(4)
        hours = c5.text_input("Horaires", "08:00-17:00")
        lunch = c6.text_input("Pause (début au plus tôt-au plus tard)", "12:00-13:00")
        lunch_min = c7.number_input("Pause (min)", 0, min(120, MAX_LUNCH_MIN), 60)
        days = c8.multiselect("Jours travaillés", list(range(7)), [0, 1, 2, 3, 4],
                              format_func=lambda d: schedule.WEEKDAY_NAMES[d],
                              placeholder="Choisir…")
        go = st.form_submit_button("Calculer les tournées", type="primary")
    if not go:
        return None
    selection = load_selection(picked) if picked is not None and load_selection else None
    stops = chosen_stops(up, selection, halls if use_halls else None)
    depot = next(h for h in halls if h.key == depot_key)
    return ToursRequest(stops=stops, vans=int(n_vans), depot=(depot.lon, depot.lat),
                        hours=hours, lunch=lunch, lunch_min=int(lunch_min), weeks=int(weeks),
                        start=start, workdays=tuple(days), time_limit=float(limit))


def run(request: ToursRequest) -> ToursResult:
    """Plan ``request`` (checked first; French :class:`MaillageError` when refused)."""
    request = request.validated()
    with st.spinner("Temps de trajet entre les arrêts puis calcul des tournées…"):
        result = service().run(request)
        result.lines  # noqa: B018 - draw the road lines now, under the spinner
    return result


def resolve(result: ToursResult) -> ToursResult:
    """Plan ``result.problem`` again (after pins were added or removed), same time limit."""
    with st.spinner("Temps de trajet entre les arrêts puis calcul des tournées…"):
        again = service().solve(result.problem, result.time_limit)
        again.request = result.request
        again.lines  # noqa: B018
    return again


# --------------------------------------------------------------------------- rendering


def summary_metrics(result: ToursResult) -> list[tuple[str, str]]:
    """(label, value) of the four metrics."""
    s = result.summary
    return [("Visites planifiées", f"{s['visits']} / {s['required']}"),
            ("Journées de camion", fmt.number(s["tours"])),
            ("Heures de route", fmt.number(s["drive_h"], 1)),
            ("Calcul", fmt.number(s["solve_s"], 0, "s"))]


def unserved_table(result: ToursResult) -> pd.DataFrame:
    """The visits the plan does not serve, with the reason in French."""
    u = result.plan.unserved
    return pd.DataFrame({"Arrêt": [x.name for x in u],
                         "Période": [f"{x.first:%d/%m}–{x.last:%d/%m}" for x in u],
                         "Raison": [x.message for x in u]})


def show_summary(result: ToursResult) -> None:
    """The four metrics, then the unserved visits when there are any."""
    for col, (label, value) in zip(st.columns(4), summary_metrics(result), strict=True):
        col.metric(label, value)
    if result.plan.unserved:
        st.warning(f"{len(result.plan.unserved)} visite(s) non servie(s) :")
        st.dataframe(unserved_table(result), hide_index=True, width="stretch")


def show_map(result: ToursResult, *, key: str = "tours-map") -> None:
    """The tours along the roads (one colour per van, a shade per day) and the legend."""
    m, legend = tours_layer.tours_map(result.problem, result.plan, result.lines)
    maps.show(m, key=key)
    widgets.swatches(legend)


def timeline(result: ToursResult):
    """The plotly timeline of every visit (None when nothing is planned)."""
    import plotly.express as px

    p, plan = result.problem, result.plan
    rows = [{"Camion · jour": f"{p.vans[t.van].name} · {fmt.day_short(t.day)}",
             "Arrêt": v.name, "Début": tours.visit_datetimes(t.day, v.start),
             "Fin": tours.visit_datetimes(t.day, v.end)}
            for t in plan.tours for v in t.visits]
    if not rows:
        return None
    fig = px.timeline(pd.DataFrame(rows), x_start="Début", x_end="Fin", y="Camion · jour",
                      color="Arrêt", hover_name="Arrêt")
    fig.update_layout(showlegend=False, height=max(300, 26 * len(plan.tours)),
                      xaxis_title=None, yaxis_title=None)
    return fig


def tour_heading(result: ToursResult, tour: Tour) -> str:
    """« **Camion 1** — départ 08:00, retour 16:10, pause 12:00 » (markdown-safe)."""
    return (f"**{widgets.md(result.problem.vans[tour.van].name)}** — départ "
            f"{schedule.fmt_time(tour.leave)}, retour {schedule.fmt_time(tour.back)}"
            + (f", pause {schedule.fmt_time(tour.lunch)}" if tour.lunch else ""))


def tour_table(tour: Tour) -> pd.DataFrame:
    """One van's day: order, stop, arrival, start, end, drive from the previous place."""
    v = tour.visits
    return pd.DataFrame({
        "N°": [x.seq for x in v], "Arrêt": [x.name for x in v],
        "Arrivée": [schedule.fmt_time(x.arrival) for x in v],
        "Début": [schedule.fmt_time(x.start) for x in v],
        "Fin": [schedule.fmt_time(x.end) for x in v],
        "Trajet (min)": [round(x.drive_s / 60) for x in v]})


def days(result: ToursResult) -> list[date]:
    """The days with at least one tour, in order."""
    return sorted({t.day for t in result.plan.tours})


def show_days(result: ToursResult) -> None:
    """One expander per day with each van's table."""
    for d in days(result):
        with st.expander(f"{schedule.WEEKDAY_NAMES[d.weekday()]} {fmt.day(d)}"):
            for t in (t for t in result.plan.tours if t.day == d):
                st.markdown(tour_heading(result, t))
                st.dataframe(tour_table(t), hide_index=True, width="stretch")


def show_downloads(result: ToursResult) -> None:
    """Whole-plan calendar and table, a printable day sheet, one calendar per van."""
    plan, problem = result.plan, result.problem
    d1, d2, d3 = st.columns(3)
    d1.download_button("Calendrier (.ics)", result.ics(), "tournees.ics", "text/calendar")
    d2.download_button("Tableau (.csv)", result.csv().encode("utf-8"), "tournees.csv",
                       "text/csv")
    if not plan.tours:
        return
    pick = d3.selectbox("Feuille de route", range(len(plan.tours)), format_func=lambda k: (
        f"{problem.vans[plan.tours[k].van].name} {plan.tours[k].day:%d/%m}"))
    t = plan.tours[pick]
    d3.download_button("Feuille imprimable (.html)",
                       tours_io.day_sheet_html(plan, problem, t.van, t.day),
                       f"feuille-{t.day}-{t.van + 1}.html", "text/html")
    for k, v in enumerate(problem.vans):
        st.download_button(f"Calendrier de {v.name} (.ics)", result.ics(van=k),
                           f"tournees-camion-{k + 1}.ics", "text/calendar", key=f"ics-{k}")
