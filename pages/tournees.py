"""Tournées: plan, adjust and publish the mobile workshops' tours; record attendance.

A table of contents: :func:`main` calls one function per section. The plan comes from
:class:`maillage.services.tours.ToursService` (the same as ``maillage tours``), the
drawing from :mod:`ui.tours`; writes go to :mod:`maillage.tour_store`, which checks the
account's role. The public sees the next published visits only.
"""

from __future__ import annotations

import streamlit as st

from maillage import selection_store, tour_store
from maillage.auth import Actor
from maillage.errors import MaillageError
from maillage.services.tours import ToursResult, town_halls
from ui import signin, widgets
from ui import tours as ui

PLANNERS = ("admin", "federation")


def header() -> Actor | None:
    """Title and the sign-in box; returns the account."""
    st.title("Tournées des ateliers mobiles")
    return signin.box()


def public() -> None:
    """The next published visits (what everybody sees)."""
    st.caption("Prochains passages publiés des camions de l'atelier numérique mobile.")
    try:
        nxt = tour_store.next_visits(limit=3)
    except MaillageError as exc:
        widgets.error(exc)
        return
    if nxt.empty:
        st.info("Aucun passage publié à venir.")
        return
    st.dataframe(ui.public_table(nxt), hide_index=True, width="stretch")


def gate(actor: Actor | None) -> bool:
    """True for planners; others read why, then the public visits."""
    if actor is not None and actor.role in PLANNERS:
        return True
    if actor is not None:
        st.warning("Votre compte ne permet pas de planifier les tournées.")
    else:
        st.info("Connectez-vous (barre latérale) avec un compte de la Fédération pour planifier.")
    public()
    return False


def saved_selections() -> dict[int, str]:
    """The saved stop selections (« Arrêts proposés »): key → label."""
    try:
        return ui.saved_selections()
    except MaillageError as exc:
        widgets.error(exc)
        return {}


def plan_inputs() -> None:
    """The template, the form; on submit, the new plan in the session."""
    ui.template_download()
    try:
        request = ui.inputs_form(town_halls(), saved_selections(),
                                 lambda pk: selection_store.get_selection(pk).stops)
        if request is not None:
            st.session_state.pop(ui.STATE, None)
            st.session_state.pop(ui.CONFIRM, None)
            st.session_state[ui.STATE] = {"result": ui.run(request), "pk": None,
                                          "version": None}
    except MaillageError as exc:
        widgets.error(exc)


def plan_view(result: ToursResult) -> None:
    """Summary, then one week at a time: map, timeline, days; then the downloads."""
    ui.show_summary(result)
    week = ui.week_picker(result)
    ui.show_map(result, week)
    ui.show_timeline(result, week)
    ui.show_days(result, week)
    ui.show_downloads(result)


def adjust(actor: Actor, cur: dict) -> None:
    """Pin a visit (or remove the pins) and plan again; save as a draft; publish."""
    st.caption("Déplacer une visite (ou épingler un arrêt à un jour) puis recalculer ; "
               "enregistrer en brouillon, puis publier.")
    try:
        again = ui.pin_form(cur["result"]) or ui.show_pins(cur["result"])
    except MaillageError as exc:
        widgets.error(exc)
        again = None
    if again is not None:
        cur["result"] = again
        st.rerun()
    ui.save_and_publish(actor, cur)


def stored(actor: Actor) -> None:
    """The stored plans, what the public sees of them, and the attendance of one."""
    try:
        plans = tour_store.list_plans()
        seen = tour_store.visits_frame(published_only=True)
    except MaillageError as exc:
        widgets.error(exc)
        return
    if plans.empty:
        st.info("Aucun plan enregistré.")
        return
    st.dataframe(ui.plans_table(plans, seen), hide_index=True, width="stretch")
    st.caption(tour_store.PUBLIC_RULE)
    pk = st.selectbox("Plan", plans["pk"], format_func=lambda p: ui.plan_label(plans, p))
    try:
        ui.attendance_section(actor, plans, int(pk))
    except MaillageError as exc:
        widgets.error(exc)


def main() -> None:
    actor = header()
    if not gate(actor):
        return
    plan_tab, adjust_tab, stored_tab = st.tabs(["Planifier", "Ajuster et publier",
                                                "Plans enregistrés et présence"])
    with plan_tab:
        plan_inputs()
    cur = st.session_state.get(ui.STATE)
    with plan_tab:
        if cur is None:
            st.info("Renseignez les camions et les arrêts, puis lancez le calcul.")
        else:
            plan_view(cur["result"])
    with adjust_tab:
        if cur is None:
            st.info("Calculez d'abord des tournées dans « Planifier ».")
        else:
            adjust(actor, cur)
    with stored_tab:
        stored(actor)


main()
