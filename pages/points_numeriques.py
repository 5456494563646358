"""Points numériques: the registry of places on a map, filters, list, detail, editing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo import basemap, places_layer
from geo.errors import MaillageError
from maillage.db.models import HOST_TYPES, KINDS, LABEL_STATUSES
from maillage.registry import csvio, standard, store
from ui import maps, signin, widgets
from ui.import_progress import import_bar

st.title("Points numériques")
st.caption("Tous les lieux où l'on est aidé avec le numérique en Martinique : France services, "
           "conseillers numériques, CCAS, médiathèques, cyber-bases et points numériques "
           "labellisés par la Fédération.")

actor = signin.box()
editor = actor is not None and actor.can_edit_places


@st.cache_data(max_entries=4, show_spinner="Chargement du registre…")
def load(public: bool, revision: str):
    """Places of the registry, reloaded whenever its ``revision`` changes."""
    return store.places_frame(public=public)


try:
    places = load(not editor, store.revision())
except MaillageError as exc:
    widgets.error(exc)
    st.stop()


# --- filters -----------------------------------------------------------------------
c1, c2, c3, c4 = st.columns(4)
communes = c1.multiselect("Commune", sorted(places["commune"].unique()), placeholder="Choisir…")
epcis = c2.multiselect("EPCI", sorted(x for x in places["epci_court"].unique() if x),
                       placeholder="Choisir…")
services = c3.multiselect("Service", standard.vocabularies()["services"], placeholder="Choisir…")
publics = c4.multiselect("Public", standard.vocabularies()["publics_specifiquement_adresses"],
                         placeholder="Choisir…")
c5, c6, c7, c8 = st.columns(4)
statuses = c5.multiselect("Statut du label", ["hors labellisation", *LABEL_STATUSES],
                          placeholder="Choisir…")
kinds = c6.multiselect("Nature", KINDS, placeholder="Choisir…")
open_now = c7.toggle("Ouvert maintenant", help="Heure de Martinique ; lieux aux horaires connus")
query = c8.text_input("Rechercher un nom", placeholder="médiathèque, CCAS…")

mask = pd.Series(True, index=places.index)
if communes:
    mask &= places["commune"].isin(communes)
if epcis:
    mask &= places["epci_court"].isin(epcis)
for values, column in ((services, "services"), (publics, "publics_specifiquement_adresses")):
    if values:
        mask &= places[column].map(lambda v, vals=values: bool(set(standard.split(v)) & set(vals)))
if statuses:
    status = places["label_status"].replace("", "hors labellisation")
    mask &= status.isin(statuses)
if kinds:
    mask &= places["kind"].isin(kinds)
if open_now:
    mask &= places["open_now"].eq(True)
if query:
    mask &= places["nom"].str.contains(query, case=False, regex=False)
shown = places[mask]

# --- map and legend ----------------------------------------------------------------
m = basemap.base_map(credits="Registre Maillage (Hub Antilles, ANCT France services, "
                             "conseillers numériques)")
places_layer.add_places(m, shown)
st.write(f"**{len(shown)}** lieux affichés sur {len(places)}.")
# Only editors place points by clicking; for everyone else a click just opens the popup
# (returning it would rerun the page and redraw the map, closing the popup).
clicked = maps.show(m, key="places_map", returned_objects=["last_clicked"] if editor else [])
widgets.legend(places_layer.status_legend())
widgets.legend(places_layer.kind_legend())

# --- list and detail ---------------------------------------------------------------
st.subheader("Liste des lieux")
st.dataframe(shown[["nom", "commune", "epci_court", "label_status", "kind", "services"]]
             .rename(columns={"nom": "Nom", "commune": "Commune", "epci_court": "EPCI",
                              "label_status": "Label", "kind": "Nature",
                              "services": "Services"}),
             hide_index=True, width="stretch")
ids = shown["id"].tolist()
names = dict(zip(shown["id"], shown["nom"] + " — " + shown["commune"], strict=True))
chosen = st.selectbox("Fiche détaillée", ids, format_func=names.get, index=None,
                      placeholder="Choisissez un lieu")
if chosen:
    place = places.set_index("id").loc[chosen]
    titles = {f["name"]: f["title"] for f in standard.schema()["fields"]}
    local_titles = {
        "label_status": "Statut du label", "label_since": "Depuis le",
        "labelled_on": "Labellisé le", "kind": "Nature", "host_type": "Type d'accueil",
        "possible_stop": "Arrêt possible de l'atelier mobile", "notes": "Notes internes",
        "origin": "Fiches d'origine", "open_now": "Ouvert maintenant",
    }
    detail = [(titles.get(k, local_titles.get(k, k)), place.get(k, "")) for k in
              [*standard.fields(), *local_titles] if k in place.index]
    # st.table renders its cells as markdown: every value goes through widgets.md.
    st.table(pd.DataFrame([(widgets.md(t), widgets.md("" if v is None else
                                                      str(v).replace("|", ", ")))
                           for t, v in detail], columns=["Champ", "Valeur"]))
    if editor:
        st.caption("Historique du label : " + (" ; ".join(widgets.md(
            f"{h['at']} {h['by']} : {h['from'] or '—'} → {h['to'] or '—'} {h['comment']}")
            for h in store.label_history(chosen)) or "aucun changement"))

# --- editing (signed-in Fédération) ------------------------------------------------
if not editor:
    st.info("Pour ajouter, modifier ou labelliser un lieu, connectez-vous (barre latérale).")
    st.download_button("Télécharger le registre (CSV, standard national)",
                       csvio.write_csv(store.rows(), include_local=False),
                       "lieux-mediation-numerique-martinique.csv", "text/csv")
    st.stop()

edit, label, files, report = st.tabs(["Ajouter / modifier", "Label", "Import / export",
                                      "Rapport d'import"])
with edit:
    base = places.set_index("id").loc[chosen].to_dict() if chosen else {}
    base["id"] = chosen or ""
    version = int(base["version"]) if chosen else None
    point = (clicked or {}).get("last_clicked") or {}
    st.caption("Cliquez sur la carte pour placer le lieu." if not chosen else
               f"Modification de la fiche (version {version}).")
    with st.form("place_form"):
        row = {k: str(base.get(k, "") or "") for k in [*standard.fields(), *standard.LOCAL_FIELDS]}
        row["id"] = st.text_input("Identifiant", row["id"], disabled=bool(chosen)) or row["id"]
        for key in ("nom", "pivot", "adresse", "commune", "code_postal", "code_insee",
                    "telephone", "horaires", "date_maj", "services", "typologie"):
            row[key] = st.text_input(standard.field(key)["title"], row[key])
        row["latitude"] = st.text_input("Latitude", str(point.get("lat", row["latitude"])))
        row["longitude"] = st.text_input("Longitude", str(point.get("lng", row["longitude"])))
        row["kind"] = st.selectbox("Nature", KINDS, index=KINDS.index(row["kind"])
                                   if row["kind"] in KINDS else 0)
        row["host_type"] = st.selectbox("Type d'accueil", HOST_TYPES,
                                        index=HOST_TYPES.index(row["host_type"])
                                        if row["host_type"] in HOST_TYPES else len(HOST_TYPES) - 1)
        stop = st.checkbox("Arrêt possible de l'atelier mobile",
                           row["possible_stop"] in ("True", "oui"))
        row["possible_stop"] = "oui" if stop else "non"
        row["notes"] = st.text_area("Notes internes (jamais publiées)", row["notes"])
        if st.form_submit_button("Enregistrer"):
            try:
                store.save_place(actor, row, version)
                st.success("Fiche enregistrée.")
            except MaillageError as exc:
                widgets.error(exc)

with label:
    if not chosen:
        st.write("Choisissez d'abord un lieu dans la fiche détaillée.")
    else:
        current = places.set_index("id").loc[chosen]
        with st.form("label_form"):
            new = st.selectbox("Nouveau statut", LABEL_STATUSES)
            comment = st.text_input("Commentaire")
            if st.form_submit_button("Changer le statut"):
                try:
                    store.change_label(actor, chosen, new, int(current["version"]), comment)
                    st.success(f"Statut changé en « {new} ».")
                except MaillageError as exc:
                    widgets.error(exc)

with files:
    upload = st.file_uploader("Importer un CSV au standard national (tout ou rien)", type="csv")
    if upload is not None and st.button("Importer"):
        try:
            upload.seek(0)  # read as a stream within the import bounds (no copy)
            with import_bar("le fichier des lieux") as progress:
                result = store.import_csv(actor, upload, upload.name, progress=progress)
            st.success(f"{result['imported']} lieux ajoutés, {result['updated']} mis à jour.")
            for w in result["warnings"]:
                widgets.warning(w)
        except MaillageError as exc:
            widgets.error(exc)
    rows = store.rows()
    st.download_button("Exporter en CSV (avec colonnes locales)",
                       csvio.write_csv(rows, include_local=True, private=True),
                       "registre-lieux.csv", "text/csv")
    st.download_button("Exporter en GeoJSON", csvio.write_geojson(rows, private=False),
                       "registre-lieux.geojson", "application/geo+json")

with report:
    rep = store.report()
    if rep:
        st.write(f"Import du {rep['at']} : {rep['input']} fiches lues, {rep['imported']} lieux, "
                 f"{rep['merged']} doublons fusionnés, {rep['rejected']} rejetées, "
                 f"{rep['corrected']} fiches corrigées.")
        st.dataframe(pd.DataFrame(rep["issues"]), hide_index=True, width="stretch")
    else:
        st.write("Aucun import enregistré.")
