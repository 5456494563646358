"""Indicateurs: the five solutions' figures against their targets, by month, commune and EPCI."""

from __future__ import annotations

import math
from datetime import date

import streamlit as st

from analysis import indicators as ind
from geo import basemap, choropleth
from geo.errors import MaillageError
from maillage.indicators import charts, csvio, report, store
from ui import data, maps, signin, widgets
from ui.import_progress import import_bar

ISLAND = "Toute la Martinique"


@st.cache_data(ttl=60, show_spinner="Lecture des indicateurs…")
def _figures():
    """Every figure and target (public aggregates, shared by every visitor)."""
    return store.frame(), store.targets()


def _refresh() -> None:
    _figures.clear()
    st.session_state.pop("ind_report", None)


st.title("Indicateurs des cinq solutions")
st.caption("Ateliers mobiles, points numériques, accompagnement à distance, médiateurs et "
           "équipements reconditionnés : chiffres agrégés, objectifs de la Fédération et "
           "évolution mois par mois. Aucune donnée personnelle.")
actor = signin.box()
editor = actor is not None and actor.can_edit_places

try:
    communes = data.communes()
    df, targets = _figures()
except MaillageError as exc:
    widgets.error(exc)
    st.stop()

today = date.today()
years = sorted({today.year, *df["period"].dt.year.astype(int).tolist(),
                *targets["year"].astype(int).tolist()}, reverse=True)
left, right = st.columns([1, 2])
year = left.selectbox("Année", years)
epci_names = sorted(communes["epci_court"].unique())
scope = right.radio("Territoire", [ISLAND, *epci_names], horizontal=True)
start, end = ind.year_window(year, today)
epci = "" if scope == ISLAND else scope
summary = ind.summary(df, targets, year, epci, communes, today)

if df.empty:
    st.info(
        "**Aucun chiffre enregistré pour l'instant.** Pour commencer : connectez-vous avec un "
        "compte de la Fédération (barre latérale), puis saisissez les chiffres du mois dans "
        "« Saisir des chiffres » ou importez un fichier CSV rempli à partir du modèle de "
        "l'indicateur. En ligne de commande : `maillage indicators template workshops_held` "
        "puis `maillage indicators import FICHIER.csv`. Les lieux labellisés apparaissent dès "
        "qu'un lieu du registre reçoit le label."
    )

# --------------------------------------------------------------------------- per solution
tabs = st.tabs([s.title for s in ind.SOLUTIONS.values()])
for tab, sol in zip(tabs, ind.SOLUTIONS.values(), strict=True):
    with tab:
        specs = ind.of_solution(sol.key)
        rows = summary.set_index("indicator")
        cols = st.columns(min(len(specs), 4))
        for k, spec in enumerate(specs):
            r = rows.loc[spec.key]
            goal = r["target"]
            help_text = spec.help or None
            delta = None
            if math.isfinite(goal):
                p = r["progress"]
                delta = (f"objectif {charts.fmt(goal, spec)}"
                         + (f" · {p:.0f} %" if p is not None and math.isfinite(p) else ""))
            value = charts.fmt(r["value"], spec) if r["has_data"] else "—"
            cols[k % len(cols)].metric(spec.label, value, delta, delta_color="off",
                                       help=help_text)
        shown = [s for s in specs if ind.has_data(df, s.key)]
        if not shown:
            st.caption(f"Aucun chiffre enregistré pour « {sol.title} ».")
            continue
        pair = st.columns(2)
        for k, spec in enumerate(shown):
            months = ind.monthly(df, spec.key, start, end, epci or None, communes)
            goal = rows.loc[spec.key, "target"]
            fig = charts.trend(months, spec, goal if math.isfinite(goal) else None, scope)
            pair[k % 2].plotly_chart(fig, width="stretch",
                                     key=f"trend-{spec.key}")
        for spec in shown:
            if spec.dimensions:
                scoped = df if not epci else ind.with_epci(df, communes).query("epci == @epci")
                values = ind.by_dimension(scoped, spec.key, start, end)
                st.plotly_chart(charts.by_dimension(values, spec, year),
                                width="stretch", key=f"dim-{spec.key}")
                break

# --------------------------------------------------------------------------- map
st.header("Carte")
mappable = list(ind.INDICATORS.values())
m_left, m_right = st.columns([3, 1])
key = m_left.selectbox("Indicateur", [s.key for s in mappable],
                       format_func=lambda k: f"{ind.SOLUTIONS[ind.INDICATORS[k].solution].title}"
                                             f" — {ind.INDICATORS[k].label}")
level = m_right.radio("Par", ["commune", "EPCI"], horizontal=True)
spec = ind.INDICATORS[key]
m = basemap.base_map(credits="Fédération (indicateurs), IGN Admin Express")
if level == "commune":
    areas = ind.by_area(df, key, communes, "commune", start, end)
    shaded = communes.merge(areas[["code_insee", "value"]], on="code_insee")
    fields = {"nom": "Commune", "epci_court": "EPCI", "valeur": spec.label}
    highlight = None if not epci else set(communes.loc[communes["epci_court"] == epci,
                                                       "code_insee"])
else:
    areas = ind.by_area(df, key, communes, "epci", start, end)
    shaded = data.epci().merge(areas, on="epci_court")
    shaded["code_insee"] = shaded["epci_court"]
    fields = {"epci_court": "EPCI", "valeur": spec.label}
    highlight = None if not epci else {epci}
shaded["valeur"] = [charts.fmt(v, spec) for v in shaded["value"]]
layer, legend = choropleth.commune_layer(shaded, shaded["value"],
                                         title=f"{spec.label} ({spec.unit}), {year}",
                                         unit={"%": "%", "/ 5": "score"}.get(spec.unit, ""),
                                         tooltip_fields=fields, highlight=highlight)
layer.add_to(m)
maps.show(m, height=480, key="indicators-map")
widgets.legend(legend)
if spec.scope == "any":
    st.caption("Les chiffres saisis sans commune comptent dans le total de la Martinique, "
               "pas sur la carte.")

# --------------------------------------------------------------------------- per EPCI
st.header("Par EPCI")
table = ind.epci_table(df, communes, year, today)
shown_table = table.copy().astype(object)
for k in table.index:
    shown_table.loc[k] = [charts.fmt(float(v), ind.INDICATORS[k]) for v in table.loc[k]]
shown_table.index = [f"{ind.SOLUTIONS[ind.INDICATORS[k].solution].title} — "
                     f"{ind.INDICATORS[k].label}" for k in table.index]
st.dataframe(shown_table, width="stretch")

# --------------------------------------------------------------------------- downloads
st.header("Télécharger")
d1, d2 = st.columns(2)
d1.download_button("Chiffres (CSV)", csvio.export(df, dict(zip(
    communes["code_insee"], communes["nom"], strict=True))),
    file_name=f"maillage-indicateurs-{today:%Y%m%d}.csv", mime="text/csv",
    help="Tous les chiffres, y compris ceux du registre et des tournées")
if d2.button(f"Préparer le rapport {year} (HTML)"):
    st.session_state["ind_report"] = (year, report.build(df, targets, communes, year, today))
prepared = st.session_state.get("ind_report")
if prepared and prepared[0] == year:
    d2.download_button(f"Télécharger le rapport {year}", prepared[1].encode("utf-8"),
                       file_name=f"maillage-rapport-indicateurs-{year}.html",
                       mime="text/html")

# --------------------------------------------------------------------------- entry
st.header("Saisir des chiffres")
if not editor:
    st.caption("Réservé aux comptes de la Fédération : connectez-vous dans la barre latérale.")
    st.stop()

recordable = csvio.recordable_keys()
label_of = lambda k: (f"{ind.SOLUTIONS[ind.INDICATORS[k].solution].title} — "  # noqa: E731
                      f"{ind.INDICATORS[k].label}")
names = dict(zip(communes["code_insee"], communes["nom"], strict=True))
with st.expander("Un chiffre", expanded=True):
    k = st.selectbox("Indicateur", recordable, format_func=label_of, key="entry-key")
    spec = ind.INDICATORS[k]
    c1, c2, c3 = st.columns(3)
    month = c1.text_input("Mois (AAAA-MM)", f"{today.year}-{today.month:02d}")
    code, place, dim = "", "", ""
    if spec.scope == "place":
        places = store.labelled_places()
        place = c2.selectbox(
            "Lieu labellisé", list(places),
            format_func=lambda p: f"{places[p][1]} ({names.get(places[p][0], '')})")
        place = place or ""
    else:
        options = ([""] if spec.scope == "any" else []) + sorted(names)
        code = c2.selectbox("Commune", options,
                            format_func=lambda c: names.get(c, "Toute la Martinique"))
    if spec.dimensions:
        dim = c3.selectbox("Dimension", list(spec.dimensions))
    row = {"indicateur": k, "mois": month, "code_insee": code, "lieu": place,
           "dimension": dim}
    found = None
    try:
        probe = csvio.check([{**row, "valeur": str(spec.minimum or 0), "_line": "1"}],
                            store.context())[0]
        found = store.current_value(probe.key)
    except MaillageError:
        probe = None
    if found:
        st.caption(f"Valeur enregistrée : {charts.fmt(found[0], spec)} (version {found[1]}).")
    value = st.number_input(f"Valeur ({spec.unit})", min_value=float(spec.minimum),
                            max_value=float(spec.maximum),
                            value=float(found[0]) if found else float(spec.minimum),
                            step=1.0 if spec.integer else 0.1)
    if st.button("Enregistrer ce chiffre", type="primary"):
        try:
            text = f"{value:.0f}" if spec.integer else f"{value:g}"
            store.save(actor, {**row, "valeur": text}, found[1] if found else None)
            _refresh()
            st.success("Chiffre enregistré.")
        except MaillageError as exc:
            widgets.error(exc)

with st.expander("Importer un fichier CSV"):
    t = st.selectbox("Modèle de l'indicateur", recordable, format_func=label_of, key="tpl")
    st.download_button("Télécharger le modèle", csvio.template(
        t, names, store.labelled_places(), date(today.year, today.month, 1)),
        file_name=f"modele-{t}.csv", mime="text/csv")
    upload = st.file_uploader("Fichier rempli (CSV UTF-8, séparateur virgule)", type=["csv"])
    if upload is not None and st.button("Importer"):
        try:
            upload.seek(0)  # read as a stream within the import bounds (no copy)
            with import_bar("le fichier d'indicateurs") as progress:
                res = store.import_csv(actor, upload, upload.name, progress=progress)
            _refresh()
            st.success(f"{res['rows']} chiffres lus : {res['added']} ajoutés, "
                       f"{res['updated']} mis à jour, {res['unchanged']} inchangés.")
        except MaillageError as exc:
            widgets.error(exc)

with st.expander("Objectifs"):
    t1, t2, t3, t4 = st.columns(4)
    tk = t1.selectbox("Indicateur", list(ind.INDICATORS), format_func=label_of, key="tk")
    ty = t2.number_input("Année", 2000, 2100, year, step=1)
    ts = t3.selectbox("Territoire", ["", *epci_names], format_func=lambda e: e or "Martinique")
    tv = t4.number_input("Objectif", min_value=0.0, value=0.0, step=1.0)
    if st.button("Enregistrer l'objectif"):
        try:
            store.set_target(actor, tk, int(ty), float(tv), ts)
            _refresh()
            st.success("Objectif enregistré.")
        except MaillageError as exc:
            widgets.error(exc)
