"""Devenir point numérique: a private place (shop, café, association…) applies for the label.

A table of contents: :func:`main` calls one function per section; the pieces are in
:mod:`ui.applications`. No account is needed: filing is the one write an anonymous
visitor makes, and the store bounds it (every field checked before anything is written,
a limit per client and per hour). The application is never public: the place appears
on the map and in the finder only once the Fédération has labelled it.
"""

from __future__ import annotations

import streamlit as st

from maillage.errors import MaillageError
from maillage.registry import applications as store
from ui import applications as ui
from ui import signin, widgets

FINDER_PAGE = "pages/trouver.py"


def header() -> None:
    st.title("Devenir point numérique")
    st.write("Commerce, café, association, salle de sport, tiers-lieu… Votre lieu aide déjà "
             "des personnes avec le numérique, ou veut le faire ? Demandez le label « point "
             "numérique » de la Fédération du Numérique : votre lieu sera signalé sur la "
             "carte publique et dans « Trouver un point numérique ». La candidature est "
             "gratuite et ne demande pas de compte.")


def criteria() -> None:
    with st.expander("Les critères du label", expanded=True):
        st.caption("La Fédération vérifie chacun d'eux, souvent par un appel ou une visite :")
        ui.criteria_list()


def position() -> None:
    st.subheader("Où est votre lieu ?")
    st.caption("Cliquez sur la carte pour placer votre lieu (facultatif : sans clic, il est "
               "placé d'après son adresse). La commune et le code postal se remplissent "
               "d'après le point.")
    ui.point_map()
    ui.position_line()


def form() -> None:
    """The form; sent, the application is filed or every problem shown (values kept)."""
    typed = ui.application_form()
    if typed is None:
        return
    try:
        done = store.file_application(signin.current(), typed, signin.client_key())
    except MaillageError as exc:
        widgets.error(exc)
        return
    ui.filed(done, typed.contact_email)
    st.rerun()


def after() -> None:
    st.page_link(FINDER_PAGE, label="Trouver un point numérique près de chez moi",
                 icon=":material/search:")


def main() -> None:
    ui.start_run()
    header()
    criteria()
    if ui.confirmation():
        after()
        return
    position()
    form()
    after()


main()
