"""Candidatures: the Fédération's review of the label applications.

A table of contents: :func:`main` calls one function per section; the pieces are in
:mod:`ui.applications`, the reads in :class:`maillage.services.applications.
ApplicationsService` (as ``maillage applications list|show|outbox``). Reading and
deciding need a reviewing account, checked by the store itself (this page only hides
what others may not see). A decision reruns the page: the queue, the history and the
outbox show it at once, and a labelled place is on the public map and in the finder.
"""

from __future__ import annotations

import streamlit as st

from maillage import auth
from maillage.db.application_models import APPLICATION_STATUSES
from maillage.errors import MaillageError
from maillage.registry import applications as store
from maillage.services.applications import ApplicationsQuery, OutboxQuery
from ui import applications as ui
from ui import maps, signin, widgets

APPLY_PAGE = "pages/devenir_point_numerique.py"


def header() -> None:
    st.title("Candidatures au label")
    st.caption("Les candidatures déposées sur « Devenir point numérique » : examen au regard "
               "des critères du label, décision, message au candidat et historique.")


def reserved() -> None:
    st.info("Cette page est réservée à la Fédération du Numérique : connectez-vous dans la "
            "barre latérale. Rien d'une candidature n'est public avant la labellisation.")
    st.page_link(APPLY_PAGE, label="Déposer une candidature (Devenir point numérique)",
                 icon=":material/how_to_reg:")


def detail(actor: auth.Actor, app: dict) -> None:
    """One application: its details, its position, its history."""
    st.table(ui.detail_table(app))
    maps.show(ui.position_map(app), key=f"cand_map_{app['ref']}", height=320)
    st.markdown("**Historique de la candidature**")
    st.dataframe(ui.history_table(ui.service().detail(actor, app["ref"]).history),
                 hide_index=True, width="stretch")


def queue(actor: auth.Actor) -> None:
    """The pending applications, the chosen one's details and the decision."""
    result = ui.service().queue(actor)
    st.markdown(ui.count_line(result.by_status))
    if not result.applications:
        st.write("Aucune candidature en attente.")
        return
    st.dataframe(ui.queue_table(result.applications), hide_index=True, width="stretch")
    labels = ui.choice_labels(result.applications)
    ref = st.selectbox("Candidature à examiner", list(labels), format_func=labels.get,
                       key="cand_chosen")
    app = ui.by_ref(result.applications, ref)
    detail(actor, app)
    sent = ui.decision_form(app)
    if sent is None:
        return
    try:
        ui.decide(actor, app, *sent)
    except MaillageError as exc:
        widgets.error(exc)
        return
    st.rerun()


def every(actor: auth.Actor) -> None:
    """Every application, any status, and the history of the chosen one."""
    statuses = st.multiselect("Statut", APPLICATION_STATUSES, placeholder="Tous")
    result = ui.service().run(actor, ApplicationsQuery(tuple(statuses)))
    st.dataframe(ui.queue_table(result.applications), hide_index=True, width="stretch")
    labels = ui.choice_labels(result.applications)
    ref = st.selectbox("Voir une candidature", list(labels), format_func=labels.get,
                       index=None, placeholder="Choisissez une candidature", key="cand_any")
    if ref:
        detail(actor, ui.by_ref(result.applications, ref))


def outbox(actor: auth.Actor) -> None:
    """The messages to the applicants, written with each decision."""
    result = ui.service().outbox(actor, OutboxQuery())
    st.caption("Messages écrits avec chaque décision, à envoyer par la messagerie de la "
               f"Fédération ({result.to_json()['a_envoyer']} à envoyer). En ligne de "
               "commande : maillage applications outbox --json.")
    st.dataframe(ui.outbox_table(result.messages), hide_index=True, width="stretch")
    labels = ui.message_labels(result.messages)
    pk = st.selectbox("Lire un message", list(labels), format_func=labels.get, index=None,
                      placeholder="Choisissez un message", key="cand_mail")
    if pk is not None:
        st.code(ui.body_of(result.messages, pk), language=None, wrap_lines=True)


def main() -> None:
    header()
    actor = signin.box()
    if actor is None or actor.role not in store.REVIEW_ROLES:
        reserved()
        return
    ui.show_flash()
    pending, everything, mails = st.tabs(["À examiner", "Toutes les candidatures",
                                          "Messages à envoyer"])
    try:
        with pending:
            queue(actor)
        with everything:
            every(actor)
        with mails:
            outbox(actor)
    except MaillageError as exc:
        widgets.error(exc)


main()
