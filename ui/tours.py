"""Pieces of the « Tournées » page (pages/tournees.py), on the tours service and the store.

The page and ``maillage tours`` plan the same :class:`ToursRequest` with the same
:class:`ToursService` and its checks (1 to 10 vans, a lunch break inside the working
day, ranges that do not run backwards…), so the two cannot drift. Sections served:

* « Planifier »: the stops-file template (:func:`template_download`), the saved
  selections offered (:func:`saved_selections`), the inputs form
  (stops from a file, a saved selection or the town halls; vans, weeks, first day,
  solver time, depot, hours, lunch, workdays): :func:`inputs_form` → a
  :class:`ToursRequest` on submit (:func:`chosen_stops` picks the stops); computing:
  :func:`run` (a request) and :func:`resolve` (the problem again, after a pin);
  the metrics, how each van is used, the fixed-day stops and the unserved visits:
  :func:`show_summary`; one week at a time (:func:`week_picker`): the map
  (:func:`show_map`), the timeline (:func:`show_timeline`, French days, hours of the
  day across) and one table per day (:func:`show_days`); the downloads
  (:func:`show_downloads`);
* « Ajuster et publier »: :func:`pin_form`, :func:`show_pins`, :func:`save_and_publish`
  (a confirmation before publishing over a published plan whose dates overlap);
* « Plans enregistrés et présence »: :func:`plans_table`, :func:`attendance_section`
  (any visit of a published plan, a warning for a future one; the indicators read the
  attendance at once);
* the public's next visits: :func:`public_table`.

Only the service (the drive graph, read-only) is cached for the whole process; the
result of a visitor stays in ``st.session_state`` (:data:`STATE`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from analysis import schedule, tours
from analysis.tours import Plan, Stop, Tour
from geo import tours_io, tours_layer
from maillage import fmt, selection_store, settings, tour_store
from maillage.auth import Actor
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
from ui import data, maps, theme, widgets
from ui.import_progress import import_bar

#: Session key of the visitor's plan: ``{"result": ToursResult, "pk": …, "version": …}``.
STATE = "tours"
#: Session key of a publication waiting for its confirmation (the plan's key).
CONFIRM = "tours-confirm-publish"
#: Session key of the last attendance message (shown after the rerun).
FLASH = "tours-attendance-done"
#: Any day of the timeline's x axis (only the time of day is shown).
_REF = datetime(2000, 1, 3)


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


def saved_selections() -> dict[int, str]:
    """The saved stop selections of « Arrêts proposés »: key → « name — author, date (n
    arrêts) » (:func:`maillage.selection_store.label`), newest first."""
    rows = selection_store.list_selections()
    return {int(r["pk"]): selection_store.label(r) for r in rows.to_dict(orient="records")}


def template_download() -> None:
    """The stops-file template (docs/modele-arrets.csv) as a download button."""
    st.download_button("Télécharger le modèle de fichier d'arrêts (CSV)",
                       tours_io.template_csv(), "modele-arrets.csv", "text/csv",
                       help="Colonnes : nom, longitude, latitude, frequence, duree_min, "
                            "fenetres, jour_fixe (ex. « sam » ou « sam 07:00-12:00 » : le "
                            "même jour à chaque visite), adresse, id.", on_click="ignore")


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
                              "duree_min, fenetres, jour_fixe — modèle à télécharger "
                              "ci-dessus)", type=["csv"])
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


# --------------------------------------------------------------------------- summary


def summary_metrics(result: ToursResult) -> list[tuple[str, str]]:
    """(label, value) of the four metrics."""
    s = result.summary
    return [("Visites planifiées", f"{fmt.number(s['visits'])} / {fmt.number(s['required'])}"),
            ("Journées de camion", fmt.number(s["tours"])),
            ("Heures de route", fmt.number(s["drive_h"], 1)),
            ("Calcul", fmt.number(s["solve_s"], 0, "s"))]


def unserved_table(result: ToursResult) -> pd.DataFrame:
    """The visits the plan does not serve, with the reason in French."""
    u = result.plan.unserved
    return pd.DataFrame({"Arrêt": [x.name for x in u],
                         "Période": [f"{fmt.day_short(x.first)} – {fmt.day_short(x.last)}"
                                     for x in u],
                         "Raison": [x.message for x in u]})


def show_summary(result: ToursResult) -> None:
    """The metrics, each van's use, the fixed-day stops, then the unserved visits."""
    for col, (label, value) in zip(st.columns(4), summary_metrics(result), strict=True):
        col.metric(label, value)
    st.markdown("\n".join(f"- {widgets.md(line)}" for line in result.van_usage))
    fixed = result.fixed_days
    if fixed:
        st.markdown("**Jours fixes**\n\n" + "\n".join(f"- {widgets.md(x)}" for x in fixed))
    n = len(result.plan.unserved)
    if n:
        st.warning(f"{fmt.plural(n, 'visite non servie', 'visites non servies')} :")
        st.dataframe(unserved_table(result), hide_index=True, width="stretch")


# --------------------------------------------------------------------------- one week


def week_starts(result: ToursResult) -> list[date]:
    """The first day of each week of the period."""
    p = result.problem.period
    return [p.start + timedelta(days=7 * k) for k in range(p.weeks)]


def week_label(result: ToursResult, start: date) -> str:
    """« Semaine 2 : du lundi 11 mai 2026 au dimanche 17 mai 2026 (6 visites) »."""
    k = week_starts(result).index(start) + 1
    n = len(in_week(result, start).visits)
    return (f"Semaine {k} : du {fmt.day_long(start)} au "
            f"{fmt.day_long(start + timedelta(days=6))} ({fmt.plural(n, 'visite')})")


def week_picker(result: ToursResult, *, key: str = "tours-week") -> date:
    """The week shown by the map, the timeline and the day tables."""
    weeks = week_starts(result)
    if st.session_state.get(key) not in weeks:
        st.session_state.pop(key, None)
    return st.selectbox("Semaine affichée", weeks, key=key,
                        format_func=lambda w: week_label(result, w))


def in_week(result: ToursResult, week: date) -> Plan:
    """The plan cut to the tours of the week starting ``week`` (unserved visits kept)."""
    p = result.plan
    end = week + timedelta(days=7)
    return Plan([t for t in p.tours if week <= t.day < end], p.unserved, p.method,
                p.solve_s, p.status)


def show_map(result: ToursResult, week: date, *, key: str = "tours-map") -> None:
    """The week's tours along the roads (one colour per van, a shade per day) and legend."""
    m, legend = tours_layer.tours_map(result.problem, in_week(result, week), result.lines)
    maps.show(m, key=key)
    widgets.swatches(legend)


def _at(seconds: int) -> datetime:
    return _REF + timedelta(seconds=int(seconds))


def timeline_rows(result: ToursResult, week: date) -> pd.DataFrame:
    """One row per workshop and lunch break of the week: row label, van, what, start, end.

    The row is one van's day (« lun. 04/05 · Camion 1 »); start and end are times of day
    on a reference date, so a workshop is as wide as its hours.
    """
    p = result.problem
    rows = []
    for t in in_week(result, week).tours:
        van = p.vans[t.van]
        row = f"{fmt.day_short(t.day)} · {van.name}"
        day = fmt.day_long(t.day)
        rows.extend({"Journée": row, "Camion": van.name, "Quoi": v.name, "Jour": day,
                     "Début": _at(v.start), "Fin": _at(v.end),
                     "Horaires": f"{schedule.fmt_time(v.start)}–{schedule.fmt_time(v.end)}"}
                    for v in t.visits)
        if t.lunch is not None and van.lunch:
            rows.append({"Journée": row, "Camion": "Pause", "Quoi": "pause", "Jour": day,
                         "Début": _at(t.lunch), "Fin": _at(t.lunch + van.lunch),
                         "Horaires": f"{schedule.fmt_time(t.lunch)}–"
                                     f"{schedule.fmt_time(t.lunch + van.lunch)}"})
    return pd.DataFrame(rows, columns=["Journée", "Camion", "Quoi", "Jour", "Début", "Fin",
                                       "Horaires"])


def timeline(result: ToursResult, week: date):
    """The plotly timeline of the week (None when nothing is planned that week).

    One row per van's day, the hours of the day across (« 08:00 »…), each workshop a bar
    named after its stop; days and hovers in French. Stop names are escaped (plotly reads
    a subset of HTML in texts).
    """
    import plotly.express as px

    rows = timeline_rows(result, week)
    if rows.empty:
        return None
    rows["Texte"] = rows["Quoi"].map(html.escape)
    rows["Survol"] = rows["Jour"] + " · " + rows["Camion"].map(html.escape)
    colours = {v.name: tours_layer.tour_colour(k, 0)
               for k, v in enumerate(result.problem.vans)} | {"Pause": "#c8c8c8"}
    order = list(dict.fromkeys(rows["Journée"]))
    fig = px.timeline(rows, x_start="Début", x_end="Fin", y="Journée", color="Camion",
                      text="Texte", color_discrete_map=colours,
                      category_orders={"Journée": order},
                      custom_data=["Texte", "Survol", "Horaires"])
    fig.update_traces(textposition="inside", insidetextanchor="middle",
                      hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
                                    "%{customdata[2]}<extra></extra>")
    vans = result.problem.vans
    lo, hi = min(v.start for v in vans), max(v.end for v in vans)
    fig.update_xaxes(tickformat="%H:%M", dtick=3600 * 1000, range=[_at(lo), _at(hi)],
                     title=None)
    fig.update_yaxes(title=None, autorange="reversed")
    fig.update_layout(height=120 + 44 * len(order), legend_title_text="",
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
                      margin={"l": 10, "r": 10, "t": 30, "b": 30}, separators=", ",
                      uniformtext={"minsize": 9, "mode": "hide"})
    return fig


def show_timeline(result: ToursResult, week: date) -> None:
    """The week's timeline, or a line saying nothing is planned that week."""
    fig = timeline(result, week)
    if fig is None:
        st.caption("Aucune visite cette semaine.")
        return
    theme.chart(fig, key="tours-timeline")


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


def days(result: ToursResult, week: date | None = None) -> list[date]:
    """The days with at least one tour (of the week starting ``week``), in order."""
    plan = result.plan if week is None else in_week(result, week)
    return sorted({t.day for t in plan.tours})


def show_days(result: ToursResult, week: date) -> None:
    """One expander per day of the week with each van's table."""
    for d in days(result, week):
        with st.expander(fmt.day_long(d).capitalize()):
            for t in (t for t in result.plan.tours if t.day == d):
                st.markdown(tour_heading(result, t))
                st.dataframe(tour_table(t), hide_index=True, width="stretch")


def show_downloads(result: ToursResult) -> None:
    """Whole-plan calendar and table, a printable day sheet, one calendar per van."""
    plan, problem = result.plan, result.problem
    d1, d2, d3 = st.columns(3)
    d1.download_button("Calendrier (.ics)", result.ics(), "tournees.ics", "text/calendar",
                       on_click="ignore")
    d2.download_button("Tableau (.csv)", result.csv().encode("utf-8"), "tournees.csv",
                       "text/csv", on_click="ignore")
    if not plan.tours:
        return
    pick = d3.selectbox("Feuille de route", range(len(plan.tours)), format_func=lambda k: (
        f"{problem.vans[plan.tours[k].van].name} {fmt.day_short(plan.tours[k].day)}"))
    t = plan.tours[pick]
    d3.download_button("Feuille imprimable (.html)",
                       tours_io.day_sheet_html(plan, problem, t.van, t.day),
                       f"feuille-{t.day}-{t.van + 1}.html", "text/html", on_click="ignore")
    for k, v in enumerate(problem.vans):
        st.download_button(f"Calendrier de {v.name} (.ics)", result.ics(van=k),
                           f"tournees-camion-{k + 1}.ics", "text/calendar", key=f"ics-{k}",
                           on_click="ignore")


# --------------------------------------------------------------------------- adjust


def visit_label(result: ToursResult, k: int) -> str:
    """« Marché — sam. 09/05 07:00 (Camion 1) » of the ``k``-th visit of the plan."""
    v = result.plan.visits[k]
    return (f"{v.name} — {fmt.day_short(v.day)} {schedule.fmt_time(v.start)} "
            f"({result.problem.vans[v.van].name})")


def pin_form(result: ToursResult) -> ToursResult | None:
    """« Épingler et recalculer »: a visit moved to a day (and a van); the new result."""
    visits, problem = result.plan.visits, result.problem
    if not visits:
        return None
    with st.form("move"):
        k = st.selectbox("Visite", range(len(visits)),
                         format_func=lambda k: visit_label(result, k))
        new_day = st.date_input("Nouveau jour", visits[0].day, format="DD/MM/YYYY",
                                min_value=problem.period.start, max_value=problem.period.last)
        van = st.selectbox("Camion", [None, *range(len(problem.vans))],
                           format_func=lambda v: "au choix" if v is None
                           else problem.vans[v].name)
        if not st.form_submit_button("Épingler et recalculer"):
            return None
    v = visits[k]
    problem.pins[(v.stop, v.occurrence)] = tours.Pin(new_day, van)
    return resolve(result)


def pins_text(result: ToursResult) -> str:
    """« Épingles : Marché n° 2 → sam. 16/05 ; … » (markdown-safe), or ``""``."""
    p = result.problem
    if not p.pins:
        return ""
    return "Épingles : " + " ; ".join(
        f"{widgets.md(p.stops[i].name)} n° {o + 1} → {fmt.day_short(pin.day)}"
        for (i, o), pin in p.pins.items())


def show_pins(result: ToursResult) -> ToursResult | None:
    """The pins, and « Retirer les épingles et recalculer »: the new result when clicked."""
    text = pins_text(result)
    if not text:
        return None
    st.markdown(text)
    if not st.button("Retirer les épingles et recalculer"):
        return None
    result.problem.pins.clear()
    return resolve(result)


def _publish(actor: Actor, cur: dict) -> None:
    cur["version"] = tour_store.publish(actor, cur["pk"], cur["version"])
    st.session_state.pop(CONFIRM, None)
    st.success(f"Plan n° {cur['pk']} publié : ses passages sont visibles du public. "
               f"{tour_store.PUBLIC_RULE}")
    cur["pk"] = None  # a further change starts a new draft


def save_and_publish(actor: Actor, cur: dict) -> None:
    """Name, « Enregistrer en brouillon », « Publier » (confirmed when it overlaps a plan).

    ``cur`` is the session's plan (:data:`STATE`): its ``pk`` and ``version`` follow the
    saves. Publishing over a published plan whose dates overlap first shows which one
    the public will see and waits for « Publier quand même ».
    """
    result = cur["result"]
    name = st.text_input("Nom du plan",
                         f"Tournées du {fmt.day(result.problem.period.start)}")
    b1, b2 = st.columns(2)
    try:
        if b1.button("Enregistrer en brouillon"):
            if cur.get("pk") is None:
                cur["pk"] = tour_store.save_plan(actor, result.problem, result.plan, name)
                cur["version"] = 1
            else:
                cur["version"] = tour_store.replace_plan(actor, cur["pk"], cur["version"],
                                                         result.problem, result.plan)
            st.session_state.pop(CONFIRM, None)
            st.success(f"Plan n° {cur['pk']} enregistré (version {cur['version']}).")
        if b2.button("Publier", disabled=cur.get("pk") is None,
                     help="Enregistrez d'abord le brouillon"):
            if tour_store.overlapping_published(cur["pk"]).empty:
                _publish(actor, cur)
            else:
                st.session_state[CONFIRM] = cur["pk"]
        if cur.get("pk") is not None and st.session_state.get(CONFIRM) == cur["pk"]:
            overlaps = tour_store.overlapping_published(cur["pk"])
            if overlaps.empty:
                st.session_state.pop(CONFIRM, None)
                return
            widgets.warning(tour_store.overlap_message(overlaps))
            c1, c2 = st.columns(2)
            if c1.button("Publier quand même", type="primary"):
                _publish(actor, cur)
            elif c2.button("Ne pas publier"):
                st.session_state.pop(CONFIRM, None)
                st.rerun()
    except MaillageError as exc:
        widgets.error(exc)


# --------------------------------------------------------------------------- stored plans

STATUS_LABEL = {"brouillon": "brouillon", "publié": "publié", "remplacé": "remplacé"}


def plans_table(plans: pd.DataFrame, public: pd.DataFrame) -> pd.DataFrame:
    """The stored plans as shown, with how many of their visits the public sees.

    ``public``: :func:`maillage.tour_store.visits_frame` with ``published_only``.
    """
    seen = public.groupby("plan_pk").size() if len(public) else pd.Series(dtype=int)
    shown = plans["pk"].map(seen).fillna(0).astype(int)
    return pd.DataFrame({
        "N°": plans["pk"], "Nom": plans["name"],
        "Début": [fmt.day(d) for d in plans["start_date"]],
        "Fin": [fmt.day(d) for d in plans["end_date"]],
        "Statut": plans["status"].map(STATUS_LABEL).fillna(plans["status"]),
        "Visites": plans["visits"], "Non servies": plans["unserved"],
        "Vues du public": [f"{fmt.number(n)}" if st_ == "publié" else "—"
                           for n, st_ in zip(shown, plans["status"], strict=True)],
        "Heures de route": [fmt.number(h, 1) for h in plans["drive_h"]]})


def plan_label(plans: pd.DataFrame, pk: int) -> str:
    """« n° 3 — Tournées de juin (publié) »."""
    row = plans.set_index("pk").loc[pk]
    return f"n° {pk} — {row['name']} ({row['status']})"


def attendance_visits(vis: pd.DataFrame, status: str, today: date) -> pd.DataFrame:
    """The visits whose attendance may be entered: all of a published plan, else past ones."""
    if status == "publié":
        return vis
    return vis[vis["visit_date"] <= today]


def attendance_table(vis: pd.DataFrame) -> pd.DataFrame:
    """The visits with their recorded attendance (French dates)."""
    return pd.DataFrame({
        "Jour": [fmt.day_short(d) for d in vis["visit_date"]],
        "Horaires": [f"{a:%H:%M}–{b:%H:%M}" for a, b in zip(vis["starts_at"], vis["ends_at"],
                                                           strict=True)],
        "Camion": vis["van"], "Arrêt": vis["stop_name"], "Statut": vis["status"],
        "Présents": vis["attendance"], "dont 65 ans et +": vis["attendance_seniors"]})


def _visit_choice(vis: pd.DataFrame, i: int) -> str:
    r = vis.loc[i]
    return (f"{fmt.day_short(r['visit_date'])} {r['starts_at']:%H:%M} — {r['stop_name']} "
            f"({r['van']})")


def attendance_section(actor: Actor, plans: pd.DataFrame, pk: int,
                       today: date | None = None) -> None:
    """« Présence aux ateliers » of plan ``pk``: the table, then one visit's attendance.

    Every visit of a published plan can be entered (a future one with a warning); of
    another plan, the past ones. Saving clears the indicators' figures, so the
    Indicateurs page counts the workshop at once.
    """
    from ui import indicators as indicators_ui

    today = today or date.today()
    st.subheader("Présence aux ateliers")
    done = st.session_state.pop(FLASH, None)
    if done:
        st.success(widgets.md(done))  # quotes the stop's name (user text): shown literally
    status = plans.set_index("pk").loc[pk, "status"]
    vis = attendance_visits(tour_store.visits_frame(int(pk)), status, today)
    if vis.empty:
        st.info("Aucune visite passée dans ce plan." if status != "publié"
                else "Aucune visite dans ce plan.")
        return
    if status != "publié":
        st.caption("Plan non publié : seules les visites passées sont proposées.")
    st.dataframe(attendance_table(vis), hide_index=True, width="stretch")
    row = st.selectbox("Visite à renseigner", vis.index,
                       format_func=lambda i: _visit_choice(vis, i),
                       key=f"attendance-visit-{pk}")
    r = vis.loc[row]
    if r["visit_date"] > today:
        st.warning(f"Cette visite est prévue le {fmt.day_long(r['visit_date'])}, après "
                   "aujourd'hui : n'enregistrez la présence qu'une fois l'atelier tenu.")
    with st.form("attendance"):
        c1, c2, c3 = st.columns(3)
        people = c1.number_input("Présents", 0, tour_store.MAX_ATTENDANCE,
                                 int(r["attendance"]) if pd.notna(r["attendance"]) else 0)
        seniors = c2.number_input("dont 65 ans et plus", 0, tour_store.MAX_ATTENDANCE,
                                  int(r["attendance_seniors"])
                                  if pd.notna(r["attendance_seniors"]) else 0)
        status_in = c3.selectbox("Statut", ["réalisée", "annulée"])
        if not st.form_submit_button("Enregistrer la présence"):
            return
    try:
        tour_store.record_attendance(actor, int(r["pk"]), int(r["version"]), int(people),
                                     int(seniors), status_in)
    except MaillageError as exc:
        widgets.error(exc)
        return
    indicators_ui.refresh()  # the Indicateurs page reads the attendance at once
    st.session_state[FLASH] = (f"Présence enregistrée : {r['stop_name']}, "
                               f"{fmt.day_long(r['visit_date'])} "
                               f"({fmt.plural(int(people), 'présent')}).")
    st.rerun()


# --------------------------------------------------------------------------- public


def public_table(nxt: pd.DataFrame) -> pd.DataFrame:
    """The next published visits as the public reads them (French days)."""
    return pd.DataFrame({
        "Arrêt": nxt["stop_name"].map(fmt.text), "Adresse": nxt["address"].map(fmt.text),
        "Jour": [fmt.day_long(d.date()) for d in nxt["starts_at"]],
        "Horaires": [f"{a:%H:%M}–{b:%H:%M}" for a, b in zip(nxt["starts_at"], nxt["ends_at"],
                                                           strict=True)]})
