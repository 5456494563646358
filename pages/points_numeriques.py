"""Points numériques: the registry of places on a map, filters, list, detail, editing.

A table of contents: :func:`main` calls one function per section. The filters make a
:class:`maillage.services.places.PlacesQuery` that the places service answers, as
``maillage places list`` does; the pieces are in :mod:`ui.places`. Every write goes
through the store, which checks the role itself (this page only hides the forms), and
is followed by a rerun, so the map, the list, the figures and the label history show
it at once.
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from maillage import auth
from maillage.db.models import KINDS, LABEL_STATUSES
from maillage.errors import MaillageError
from maillage.registry import csvio, store
from maillage.services.places import PlacesResult
from ui import maps, sheets, signin, widgets
from ui import places as ui
from ui.import_progress import import_bar


def header() -> None:
    st.title("Points numériques")
    st.caption("Tous les lieux où l'on est aidé avec le numérique en Martinique : France "
               "services, conseillers numériques, CCAS, médiathèques, cyber-bases et points "
               "numériques labellisés par la Fédération.")


def load(editor: bool) -> gpd.GeoDataFrame:
    """The registry (the editor's view has the internal notes), or stop with the error."""
    try:
        return ui.places(public=not editor)
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()


def filters(every: gpd.GeoDataFrame, editor: bool) -> PlacesResult | None:
    """The filters, as a query answered by the places service."""
    opts = ui.filter_options(every)
    c1, c2, c3, c4 = st.columns(4)
    values = {
        "communes": c1.multiselect("Commune", opts["communes"], placeholder="Choisir…"),
        "epcis": c2.multiselect("EPCI", opts["epcis"], placeholder="Choisir…"),
        "services": c3.multiselect("Service", opts["services"], placeholder="Choisir…"),
        "publics": c4.multiselect("Public", opts["publics"], placeholder="Choisir…"),
    }
    c5, c6, c7, c8 = st.columns(4)
    values["statuses"] = c5.multiselect("Statut du label", opts["statuses"],
                                        placeholder="Choisir…")
    values["kinds"] = c6.multiselect("Nature", KINDS, placeholder="Choisir…")
    values["open_now"] = c7.toggle("Ouvert maintenant",
                                   help="Heure de Martinique ; lieux aux horaires connus")
    values["text"] = c8.text_input("Rechercher un nom", placeholder="médiathèque, CCAS…",
                                   max_chars=200)
    try:
        return ui.service().run(ui.query(values, public=not editor), every)
    except MaillageError as exc:
        widgets.error(exc)
        return None


def draw_map(result: PlacesResult, editor: bool) -> None:
    """The places shown, their count and legends; an editor's click places a new point."""
    m = ui.places_map(result.places, st.session_state.get(ui.POINT) if editor else None)
    st.markdown(ui.count_line(result))
    # Only editors place points by clicking; for everyone else a click just opens the popup
    # (returning it would rerun the page and redraw the map, closing the popup). Each has
    # its own key: streamlit-folium keeps what a map returns from its first drawing, so
    # after signing in the same map would go on returning nothing.
    clicked = maps.show(m, key="places_map_editor" if editor else "places_map",
                        returned_objects=["last_clicked"] if editor else [])
    if editor and ui.take_click(clicked):
        st.rerun()
    for legend in ui.legends():
        widgets.legend(legend)


def listing(result: PlacesResult) -> None:
    st.subheader("Liste des lieux")
    st.dataframe(ui.list_table(result.places), hide_index=True, width="stretch")


def detail(result: PlacesResult, every: gpd.GeoDataFrame, editor: bool) -> str | None:
    """The chosen place's every field (and, for editors, its label history)."""
    ids, names = ui.choices(result.places, every)
    chosen = st.selectbox("Fiche détaillée", ids, format_func=names.get, index=None,
                          placeholder="Choisissez un lieu", key=ui.CHOSEN)
    if not chosen:
        return None
    # st.table renders its cells as markdown: every value is escaped by ui.detail_table.
    st.table(ui.detail_table(every.set_index("id").loc[chosen]))
    sheets.sheet_button(chosen)
    if editor:
        st.caption(ui.history_line(store.label_history(chosen)))
    return chosen


def public_download() -> None:
    st.info("Pour ajouter, modifier ou labelliser un lieu, connectez-vous (barre latérale).")
    st.download_button("Télécharger le registre (CSV, standard national)",
                       csvio.write_csv(store.rows(), include_local=False),
                       "lieux-mediation-numerique-martinique.csv", "text/csv", on_click="ignore")


def edit_tab(actor: auth.Actor, every: gpd.GeoDataFrame, chosen: str | None) -> None:
    """Add a place (or edit the chosen one); saved, the page reruns and shows it."""
    target = chosen or "new"
    base = ui.form_base(every, chosen)
    if chosen:
        st.caption(f"Modification de la fiche choisie (version {base['version']}).")
        st.button("Ajouter un nouveau lieu", on_click=ui.choose_none)
    row = ui.place_form(target, base)
    if row is None:
        return
    try:
        saved = store.save_entry(actor, row, int(base["version"]) if chosen else None)
    except MaillageError as exc:
        widgets.error(exc)
        return
    ui.saved_messages(saved)
    ui.after_save(target, saved.id)
    st.rerun()


def label_tab(actor: auth.Actor, every: gpd.GeoDataFrame, chosen: str | None) -> None:
    """Move the chosen place to another label status (kept in its history)."""
    if not chosen:
        st.write("Choisissez d'abord un lieu dans la fiche détaillée.")
        return
    current = every.set_index("id").loc[chosen]
    with st.form("label_form"):
        new = st.selectbox("Nouveau statut", LABEL_STATUSES)
        comment = st.text_input("Commentaire", max_chars=500)
        if not st.form_submit_button("Changer le statut"):
            return
    try:
        store.change_label(actor, chosen, new, int(current["version"]), comment)
    except MaillageError as exc:
        widgets.error(exc)
        return
    ui.flash("success", f"Statut changé en « {new} ».")
    st.rerun()


def files_tab(actor: auth.Actor) -> None:
    """Import a standard CSV (all or nothing), export the registry."""
    upload = st.file_uploader("Importer un CSV au standard national (tout ou rien)", type="csv")
    if upload is not None and st.button("Importer"):
        try:
            upload.seek(0)  # read as a stream within the import bounds (no copy)
            with import_bar("le fichier des lieux") as progress:
                result = store.import_csv(actor, upload, upload.name, progress=progress)
        except MaillageError as exc:
            widgets.error(exc)
        else:
            ui.import_messages(result)
            st.rerun()
    rows = store.rows()
    st.download_button("Exporter en CSV (avec colonnes locales)",
                       csvio.write_csv(rows, include_local=True, private=True),
                       "registre-lieux.csv", "text/csv", on_click="ignore")
    st.download_button("Exporter en GeoJSON", csvio.write_geojson(rows, private=False),
                       "registre-lieux.geojson", "application/geo+json", on_click="ignore")


def report_tab() -> None:
    """The report of the initial load: counts and every issue."""
    rep = store.report()
    if not rep:
        st.write("Aucun import enregistré.")
        return
    st.write(ui.report_line(rep))
    st.dataframe(ui.issues_table(rep), hide_index=True, width="stretch")


def editing(actor: auth.Actor, every: gpd.GeoDataFrame, chosen: str | None) -> None:
    """The signed-in Fédération's tabs."""
    ui.show_flash()
    edit, label, files, report = st.tabs(["Ajouter / modifier", "Label", "Import / export",
                                          "Rapport d'import"])
    with edit:
        edit_tab(actor, every, chosen)
    with label:
        label_tab(actor, every, chosen)
    with files:
        files_tab(actor)
    with report:
        report_tab()


def main() -> None:
    ui.start_run()
    header()
    actor = signin.box()
    editor = actor is not None and actor.can_edit_places
    every = load(editor)
    result = filters(every, editor)
    if result is None:
        st.stop()
    draw_map(result, editor)
    listing(result)
    chosen = detail(result, every, editor)
    if not editor:
        public_download()
        return
    editing(actor, every, chosen)


main()
