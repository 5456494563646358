"""Arrêts proposés: where the mobile workshops should stop to reach people with no place nearby.

A table of contents: :func:`main` calls one function per section. The answer comes from
:class:`maillage.services.stops.StopsService` (the same as ``maillage propose-stops``),
the drawing from :mod:`ui.stops`, the printable report from
:class:`maillage.services.report.CoverageReportService`; a planner saves the stops as a
selection for the tours (:mod:`maillage.selection_store` checks the account's role again).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import streamlit as st

from maillage import fmt, selection_store
from maillage.auth import Actor
from maillage.errors import MaillageError
from maillage.services.report import CoverageReportRequest
from maillage.services.stops import StopsRequest, StopsResult
from ui import coverage as coverage_ui
from ui import data, signin, widgets
from ui import stops as ui

FREQUENCIES = ["hebdomadaire", "bimensuelle", "mensuelle"]


def header() -> Actor | None:
    """Title, what the page answers, and the sign-in box; returns the account."""
    st.title("Arrêts proposés pour les ateliers mobiles")
    actor = signin.box()
    st.caption(
        "Où les camions doivent-ils s'arrêter pour aider le plus de personnes qui n'ont aucun "
        "lieu de médiation numérique à proximité ? On y vient à pied : la demande qui compte "
        "est celle qui n'est pas déjà à portée d'un lieu fixe."
    )
    return actor


def inputs() -> StopsRequest:
    """How many stops, how far, whom to count, where, and the equity rules."""
    return ui.request_from_widgets(data.communes(), ui.equity_widgets())


def compute(request: StopsRequest) -> StopsResult | None:
    """The greedy answer at once, HiGHS's when asked (kept for the same request)."""
    improve, limit = ui.solver_controls()
    try:
        return ui.answer(request, improve=improve, time_limit=limit)
    except MaillageError as exc:
        widgets.error(exc)
        return None


def results(result: StopsResult) -> None:
    """The reports, today versus with the stops, the map, the tables."""
    ui.show_reports(result)
    ui.show_metrics(result)
    ui.show_map(result)
    st.dataframe(ui.stops_table(result), hide_index=True, width="stretch")
    with st.expander("Par commune : aujourd'hui et avec les arrêts", expanded=False):
        st.dataframe(ui.communes_table(result), hide_index=True, width="stretch")


def _where(request: StopsRequest, result: StopsResult) -> str:
    """« toute l'île », the EPCI's name or « 3 communes », for the selection's name."""
    if result.scope is None:
        return "toute l'île"
    if isinstance(request.scope, str):
        return request.scope
    return fmt.plural(len(result.scope), "commune")


def save_section(actor: Actor | None, request: StopsRequest, result: StopsResult) -> None:
    """Signed-in planners save the stops kept as a selection for the « Tournées » page."""
    st.subheader("Enregistrer comme liste d'arrêts des tournées")
    if actor is None or actor.role not in selection_store.SAVE_ROLES:
        if actor is None:
            st.info("Pour enregistrer ces arrêts comme sélection des tournées, connectez-vous "
                    "(barre latérale) avec un compte de la Fédération ou d'un EPCI.")
        else:
            st.warning("Votre compte ne permet pas d'enregistrer une sélection d'arrêts.")
        return
    labels = ui.stop_labels(result)
    keep = st.multiselect("Arrêts à garder", list(labels), default=list(labels),
                          format_func=labels.get, placeholder="Choisir…")
    f1, f2, f3, f4 = st.columns(4)
    freq = f1.selectbox("Fréquence", FREQUENCIES)
    duree = f2.number_input("Durée de l'atelier (min)", 15, 480, 120, step=15)
    fen = f3.text_input("Créneaux (facultatif)", placeholder="sam 07:00-12:00; mer 14:00-17:00")
    fixed = f4.text_input("Jour fixe (facultatif)", placeholder="sam ou sam 07:00-12:00",
                          help="Le même jour de la semaine à chaque visite, comme un marché "
                               "(avec un créneau si besoin) : chaque semaine en hebdomadaire, "
                               "une semaine sur deux en bimensuelle.")
    mode = ui.MODES[result.request.mode].lower()
    today = datetime.now(ZoneInfo("America/Martinique")).date()
    sel_name = st.text_input(
        "Nom de la sélection",
        f"{fmt.plural(len(keep), 'arrêt')}, {fmt.number(result.request.minutes)} min {mode}, "
        f"{_where(request, result)} ({fmt.day(today)})", max_chars=selection_store.MAX_NAME)
    if not st.button("Enregistrer la sélection", disabled=not keep):
        return
    chosen = result.stops[result.stops["rang"].isin(keep)].assign(
        frequence=freq, duree_min=int(duree), fenetres=fen.strip(), jour_fixe=fixed.strip())
    try:
        saved = selection_store.save_selection(actor, sel_name, chosen, ui.save_params(result))
    except MaillageError as exc:
        widgets.error(exc)
        return
    st.success(f"Sélection « {widgets.md(saved.name)} » enregistrée "
               f"({fmt.plural(len(saved.rows), 'arrêt')}) : elle est proposée dans la page "
               "Tournées.")


def report_section(result: StopsResult) -> None:
    """« Télécharger le rapport »: the coverage report of the proposal's territory with
    these stops, their gain and status (the same document as Couverture's and
    ``maillage report coverage --stops …``)."""
    st.subheader("Rapport à imprimer")
    req = result.request
    walk = req.mode == "walk"
    coverage_ui.report_button(CoverageReportRequest(
        scope=req.scope if isinstance(req.scope, str) else None,
        minutes=req.minutes if walk else 15.0, drive_minutes=None if walk else req.minutes,
        stops=req), key="stops-report")
    st.caption("Un fichier HTML autonome (cartes comprises) qui s'imprime en A4, ou le même "
               "en PDF : la couverture du territoire à pied puis en voiture, et ces arrêts "
               "avec ce qu'ils apportent.")


@st.fragment
def proposal(actor: Actor | None) -> None:
    """Inputs, answer, map, tables and saving: every change of the inputs reruns this
    section alone (the title, the sign-in box and the credits stay)."""
    request = inputs()
    result = compute(request)
    if result is None:
        return
    results(result)
    report_section(result)
    save_section(actor, request, result)


def main() -> None:
    actor = header()
    proposal(actor)
    widgets.credits(["filosofi", "mairies", "bus_stops", "communes_geo", "ifn"])


main()
