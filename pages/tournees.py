"""Tournées: plan, adjust and publish the mobile workshops' tours; record attendance."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import plotly.express as px
import streamlit as st

from analysis import schedule, tours
from geo import tours_io, tours_layer
from geo.errors import MaillageError
from maillage import selection_store, settings, tour_store
from ui import data, maps, signin, widgets
from ui.import_progress import import_bar

st.title("Tournées des ateliers mobiles")
actor = signin.box()


def _public() -> None:
    st.caption("Prochains passages publiés des camions de l'atelier numérique mobile.")
    try:
        nxt = tour_store.next_visits(limit=3)
    except MaillageError as exc:
        widgets.error(exc)
        return
    if nxt.empty:
        st.info("Aucun passage publié à venir.")
        return
    st.dataframe(pd.DataFrame({
        "Arrêt": nxt["stop_name"], "Adresse": nxt["address"],
        "Jour": nxt["starts_at"].dt.strftime("%d/%m/%Y"),
        "Horaires": nxt["starts_at"].dt.strftime("%H:%M") + "–" + nxt["ends_at"].dt.strftime(
            "%H:%M")}), hide_index=True, width="stretch")


if actor is None or actor.role not in ("admin", "federation"):
    if actor is not None:
        st.warning("Votre compte ne permet pas de planifier les tournées.")
    else:
        st.info("Connectez-vous (barre latérale) avec un compte de la Fédération pour planifier.")
    _public()
    st.stop()

state = st.session_state
plan_tab, adjust_tab, stored_tab = st.tabs(["Planifier", "Ajuster et publier",
                                            "Plans enregistrés et présence"])

# --------------------------------------------------------------------------- inputs
with plan_tab, st.form("inputs"):
    up = st.file_uploader("Fichier des arrêts (CSV : nom, longitude, latitude, frequence, "
                          "duree_min, fenetres — voir le modèle)", type=["csv"])
    try:
        saved = selection_store.list_selections().to_dict(orient="records")
    except MaillageError as exc:
        widgets.error(exc)
        saved = []
    saved_labels = {int(r["pk"]): selection_store.label(r) for r in saved}
    picked = st.selectbox("Sélection d'arrêts enregistrée (page Arrêts proposés)",
                          [None, *saved_labels], placeholder="Aucune",
                          format_func=lambda k: "Aucune" if k is None else saved_labels[k])
    use_halls = st.checkbox("Sans fichier ni sélection : les 34 mairies (exemple)",
                            value=up is None)
    c1, c2, c3, c4 = st.columns(4)
    n_vans = c1.number_input("Camions", 1, 3, 2)
    weeks = c2.number_input("Semaines", 1, 12, 4)
    today = date.today()
    start = c3.date_input("Premier jour", today + timedelta(days=7 - today.weekday()),
                          format="DD/MM/YYYY")
    limit = c4.number_input("Temps de calcul (s)", 5, 120, 20)
    halls = tours_io.town_halls()
    depot_name = st.selectbox("Dépôt", [h.name for h in halls],
                              index=[h.key for h in halls].index("mairie-97209"))
    c5, c6, c7, c8 = st.columns(4)
    hours = c5.text_input("Horaires", "08:00-17:00")
    lunch = c6.text_input("Pause (début au plus tôt-au plus tard)", "12:00-13:00")
    lunch_min = c7.number_input("Pause (min)", 0, 120, 60)
    days = c8.multiselect("Jours travaillés", list(range(7)), [0, 1, 2, 3, 4],
                          format_func=lambda d: schedule.WEEKDAY_NAMES[d], placeholder="Choisir…")
    go = st.form_submit_button("Calculer les tournées", type="primary")


def _solve(problem: tours.Problem, limit: float) -> None:
    g = data.road_graph("drive")
    with st.spinner("Temps de trajet entre les arrêts puis calcul des tournées…"):
        tr, pts = tours.travel(g, problem, settings.get().max_snap_m)
        plan = tours.solve(problem, tr, limit)
        lines = {(t.van, t.day): tours.tour_lines(g, pts, problem, t) for t in plan.tours}
    state["tours"] = {"problem": problem, "plan": plan, "lines": lines, "limit": limit,
                      "pk": state.get("tours", {}).get("pk"),
                      "version": state.get("tours", {}).get("version")}


if go:
    try:
        h0, h1 = (schedule.parse_time(x) for x in hours.split("-"))
        l0, l1 = (schedule.parse_time(x) for x in lunch.split("-"))
        if up is not None:
            up.seek(0)  # read as a stream within the import bounds (no copy, no decode)
            with import_bar("le fichier des arrêts") as progress:
                stops = tours_io.read_stops(up, progress=progress)
        elif picked is not None:
            stops = selection_store.get_selection(picked).stops
        elif use_halls:
            stops = halls
        else:
            raise MaillageError("Choisissez un fichier d'arrêts, une sélection enregistrée ou "
                                "l'exemple des mairies.")
        depot = next(h for h in halls if h.name == depot_name)
        vans = [tours.Van(f"Camion {k + 1}", (depot.lon, depot.lat), h0, h1, l0, l1,
                          int(lunch_min) * 60) for k in range(int(n_vans))]
        period = schedule.Period.with_holidays(start, int(weeks), tuple(sorted(days)))
        state.pop("tours", None)
        _solve(tours.Problem(stops, vans, period), float(limit))
    except (MaillageError, ValueError) as exc:
        widgets.error(exc if isinstance(exc, MaillageError) else
                      "Horaires illisibles : écrivez par exemple 08:00-17:00.")

cur = state.get("tours")
if cur is None:
    with plan_tab:
        st.info("Renseignez les camions et les arrêts, puis lancez le calcul.")
    with stored_tab:
        pass
else:
    problem, plan = cur["problem"], cur["plan"]
    with plan_tab:
        s = plan.summary()
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Visites planifiées", f"{s['visits']} / {s['required']}")
        m2.metric("Journées de camion", s["tours"])
        m3.metric("Heures de route", widgets.number(s["drive_h"], 1))
        m4.metric("Calcul", f"{s['solve_s']:.0f} s")
        if plan.unserved:
            st.warning(f"{len(plan.unserved)} visite(s) non servie(s) :")
            st.dataframe(pd.DataFrame({
                "Arrêt": [u.name for u in plan.unserved],
                "Période": [f"{u.first:%d/%m}–{u.last:%d/%m}" for u in plan.unserved],
                "Raison": [u.message for u in plan.unserved]}), hide_index=True,
                width="stretch")
        day_list = sorted({t.day for t in plan.tours})
        m, legend = tours_layer.tours_map(problem, plan, cur["lines"])
        maps.show(m, key="tours-map")
        widgets.swatches(legend)
        rows = [{"Camion · jour": f"{problem.vans[t.van].name} · {t.day:%a %d/%m}",
                 "Arrêt": v.name, "Début": tours.visit_datetimes(t.day, v.start),
                 "Fin": tours.visit_datetimes(t.day, v.end)}
                for t in plan.tours for v in t.visits]
        if rows:
            fig = px.timeline(pd.DataFrame(rows), x_start="Début", x_end="Fin",
                              y="Camion · jour", color="Arrêt", hover_name="Arrêt")
            fig.update_layout(showlegend=False, height=max(300, 26 * len(plan.tours)),
                              xaxis_title=None, yaxis_title=None)
            st.plotly_chart(fig, width="stretch")
        for d in day_list:
            with st.expander(f"{schedule.WEEKDAY_NAMES[d.weekday()]} {d:%d/%m/%Y}"):
                for t in (t for t in plan.tours if t.day == d):
                    st.markdown(f"**{widgets.md(problem.vans[t.van].name)}** — départ "
                                f"{schedule.fmt_time(t.leave)}, retour {schedule.fmt_time(t.back)}"
                                + (f", pause {schedule.fmt_time(t.lunch)}" if t.lunch else ""))
                    st.dataframe(pd.DataFrame({
                        "N°": [v.seq for v in t.visits], "Arrêt": [v.name for v in t.visits],
                        "Arrivée": [schedule.fmt_time(v.arrival) for v in t.visits],
                        "Début": [schedule.fmt_time(v.start) for v in t.visits],
                        "Fin": [schedule.fmt_time(v.end) for v in t.visits],
                        "Trajet (min)": [round(v.drive_s / 60) for v in t.visits]}),
                        hide_index=True, width="stretch")
        d1, d2, d3 = st.columns(3)
        d1.download_button("Calendrier (.ics)", tours_io.plan_ics(plan, problem),
                           "tournees.ics", "text/calendar")
        d2.download_button("Tableau (.csv)", tours_io.plan_csv(plan, problem).encode("utf-8"),
                           "tournees.csv", "text/csv")
        if plan.tours:
            pick = d3.selectbox("Feuille de route", range(len(plan.tours)), format_func=lambda k: (
                f"{problem.vans[plan.tours[k].van].name} {plan.tours[k].day:%d/%m}"))
            t = plan.tours[pick]
            d3.download_button("Feuille imprimable (.html)",
                               tours_io.day_sheet_html(plan, problem, t.van, t.day),
                               f"feuille-{t.day}-{t.van + 1}.html", "text/html")
            for k, v in enumerate(problem.vans):
                st.download_button(f"Calendrier de {v.name} (.ics)",
                                   tours_io.plan_ics(plan, problem, van=k),
                                   f"tournees-camion-{k + 1}.ics", "text/calendar",
                                   key=f"ics-{k}")

    # ----------------------------------------------------------------------- adjust
    with adjust_tab:
        st.caption("Déplacer une visite (ou épingler un arrêt à un jour) puis recalculer ; "
                   "enregistrer en brouillon, puis publier.")
        visits = plan.visits
        if visits:
            with st.form("move"):
                k = st.selectbox("Visite", range(len(visits)), format_func=lambda k: (
                    f"{visits[k].name} — {visits[k].day:%d/%m} "
                    f"{schedule.fmt_time(visits[k].start)} ({problem.vans[visits[k].van].name})"))
                new_day = st.date_input("Nouveau jour", visits[0].day, format="DD/MM/YYYY",
                                        min_value=problem.period.start,
                                        max_value=problem.period.last)
                van_opt = st.selectbox("Camion", [None, *range(len(problem.vans))],
                                       format_func=lambda v: "au choix" if v is None
                                       else problem.vans[v].name)
                if st.form_submit_button("Épingler et recalculer"):
                    v = visits[k]
                    problem.pins[(v.stop, v.occurrence)] = tours.Pin(new_day, van_opt)
                    _solve(problem, cur["limit"])
                    st.rerun()
        if problem.pins:
            st.write("Épingles : " + "; ".join(
                f"{widgets.md(problem.stops[i].name)} n° {o + 1} → {p.day:%d/%m}"
                for (i, o), p in problem.pins.items()))
            if st.button("Retirer les épingles et recalculer"):
                problem.pins.clear()
                _solve(problem, cur["limit"])
                st.rerun()
        name = st.text_input("Nom du plan", f"Tournées du {problem.period.start:%d/%m/%Y}")
        b1, b2 = st.columns(2)
        try:
            if b1.button("Enregistrer en brouillon"):
                if cur.get("pk") is None:
                    cur["pk"], cur["version"] = tour_store.save_plan(actor, problem, plan,
                                                                     name), 1
                else:
                    cur["version"] = tour_store.replace_plan(actor, cur["pk"], cur["version"],
                                                             problem, plan)
                st.success(f"Plan n° {cur['pk']} enregistré (version {cur['version']}).")
            if b2.button("Publier", disabled=cur.get("pk") is None,
                         help="Enregistrez d'abord le brouillon"):
                cur["version"] = tour_store.publish(actor, cur["pk"], cur["version"])
                st.success("Plan publié : les prochains passages sont visibles du public.")
                cur["pk"] = None  # a further change starts a new draft
        except MaillageError as exc:
            widgets.error(exc)

# --------------------------------------------------------------------------- stored plans
with stored_tab:
    try:
        plans = tour_store.list_plans()
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()
    if plans.empty:
        st.info("Aucun plan enregistré.")
        st.stop()
    st.dataframe(plans[["pk", "name", "start_date", "end_date", "status", "visits", "unserved",
                        "drive_h"]].rename(columns={
        "pk": "N°", "name": "Nom", "start_date": "Début", "end_date": "Fin", "status": "Statut",
        "visits": "Visites", "unserved": "Non servies", "drive_h": "Heures de route"}),
        hide_index=True, width="stretch")
    pk = st.selectbox("Plan", plans["pk"], format_func=lambda p: (
        f"n° {p} — {plans.set_index('pk').loc[p, 'name']}"))
    vis = tour_store.visits_frame(int(pk))
    past = vis[vis["visit_date"] <= date.today()]
    st.subheader("Présence aux ateliers")
    if past.empty:
        st.info("Aucune visite passée dans ce plan.")
    else:
        st.dataframe(past[["visit_date", "van", "stop_name", "status", "attendance",
                           "attendance_seniors"]].rename(columns={
            "visit_date": "Jour", "van": "Camion", "stop_name": "Arrêt", "status": "Statut",
            "attendance": "Présents", "attendance_seniors": "dont 65 ans et +"}),
            hide_index=True, width="stretch")
        with st.form("attendance"):
            row = st.selectbox("Visite", past.index, format_func=lambda i: (
                f"{past.loc[i, 'visit_date']:%d/%m} {past.loc[i, 'stop_name']}"))
            c1, c2, c3 = st.columns(3)
            people = c1.number_input("Présents", 0, tour_store.MAX_ATTENDANCE, 0)
            seniors = c2.number_input("dont 65 ans et plus", 0, tour_store.MAX_ATTENDANCE, 0)
            status = c3.selectbox("Statut", ["réalisée", "annulée"])
            if st.form_submit_button("Enregistrer la présence"):
                r = past.loc[row]
                try:
                    tour_store.record_attendance(actor, int(r["pk"]), int(r["version"]),
                                                 int(people), int(seniors), status)
                    st.success("Présence enregistrée.")
                except MaillageError as exc:
                    widgets.error(exc)
