"""Indicateurs: the five solutions' figures against their targets, by month, commune and EPCI.

A table of contents: :func:`main` calls one function per section. The figures come from
:class:`maillage.services.indicators.IndicatorsService` (the same as ``maillage
indicators overview``), the drawing from :mod:`ui.indicators`; writes go through the
service to the store, which checks the account's role.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from analysis import indicators as ind
from maillage import fmt
from maillage.auth import Actor
from maillage.errors import MaillageError
from maillage.indicators import charts, csvio
from maillage.services.indicators import ISLAND, IndicatorsRequest, IndicatorsResult
from maillage.services.indicators import IndicatorsService as Service
from ui import indicators as ui
from ui import signin, widgets
from ui.import_progress import import_bar


def header() -> Actor | None:
    """Title, what the page is about, and the sign-in box; returns the account."""
    st.title("Indicateurs des cinq solutions")
    st.caption("Ateliers mobiles, points numériques, accompagnement à distance, médiateurs et "
               "équipements reconditionnés : chiffres agrégés, objectifs de la Fédération et "
               "évolution mois par mois. Aucune donnée personnelle.")
    return signin.box()


def scope(service: Service, today: date) -> IndicatorsRequest:
    """Year and territory (the map's choice comes from its own widgets, lower down)."""
    years = service.years(ui.figures(today), today)
    left, right = st.columns([1, 2])
    year = left.selectbox("Année", years)
    epci = right.radio("Territoire", ["", *service.epci_names], horizontal=True,
                       format_func=lambda e: widgets.md(e) if e else ISLAND)
    key, level = ui.map_choice()
    return IndicatorsRequest(year, epci, today, key, level)


def empty_state(result: IndicatorsResult) -> None:
    """What to do first, when nothing is recorded yet."""
    if result.has_data:
        return
    st.info(
        "**Aucun chiffre enregistré pour l'instant.** Pour commencer : connectez-vous avec un "
        "compte de la Fédération (barre latérale), puis saisissez les chiffres du mois dans "
        "« Saisir des chiffres » ou importez un fichier CSV rempli à partir du modèle de "
        "l'indicateur. En ligne de commande : `maillage indicators template workshops_held` "
        "puis `maillage indicators import FICHIER.csv`. Les lieux labellisés apparaissent dès "
        "qu'un lieu du registre reçoit le label."
    )


def solution(result: IndicatorsResult, sol: ind.Solution) -> None:
    """One solution's tab: its metrics, monthly trends and values by dimension."""
    st.subheader(sol.title)
    ui.metrics(result, sol)
    specs = ui.charted(result, sol)
    if not specs:
        st.caption(f"Aucun chiffre enregistré pour « {sol.title} ».")
        return
    ui.trends(result, specs)
    ui.dimension_chart(result, specs)


def solution_tabs(result: IndicatorsResult) -> None:
    """One tab per solution, with short labels that fit on a phone."""
    tabs = st.tabs([s.short for s in ind.SOLUTIONS.values()])
    for tab, sol in zip(tabs, ind.SOLUTIONS.values(), strict=True):
        with tab:
            solution(result, sol)


def map_section(result: IndicatorsResult) -> None:
    """The chosen indicator by commune or EPCI (or why there is no map yet)."""
    st.header("Carte")
    ui.map_inputs()
    ui.draw_map(result)
    if result.map_spec.scope == "any":
        st.caption("Les chiffres saisis sans commune comptent dans le total de la Martinique, "
                   "pas sur la carte.")


def epci_section(result: IndicatorsResult) -> None:
    """Every indicator by EPCI, and for the whole island."""
    st.header("Par EPCI")
    st.dataframe(ui.epci_table(result), width="stretch")


def downloads(service: Service, result: IndicatorsResult) -> None:
    """Every figure as CSV, and the yearly HTML report (prepared on demand)."""
    st.header("Télécharger")
    year, today = result.request.year, result.request.today
    d1, d2 = st.columns(2)
    d1.download_button("Chiffres (CSV)", service.export_csv(result),
                       file_name=f"maillage-indicateurs-{today:%Y%m%d}.csv", mime="text/csv",
                       help="Tous les chiffres, y compris ceux du registre et des tournées",
                       on_click="ignore")
    if d2.button(f"Préparer le rapport {year} (HTML)"):
        st.session_state["ind_report"] = (year, service.report(result))
    prepared = st.session_state.get("ind_report")
    if prepared and prepared[0] == year:
        d2.download_button(f"Télécharger le rapport {year}", prepared[1].encode("utf-8"),
                           file_name=f"maillage-rapport-indicateurs-{year}.html",
                           mime="text/html", on_click="ignore")


def entry_form(service: Service, actor: Actor, today: date) -> None:
    """One figure typed by hand: no commune is chosen in advance."""
    with st.expander("Un chiffre", expanded=True):
        key = st.selectbox("Indicateur", csvio.recordable_keys(), format_func=ui.label_of,
                           key="entry-key")
        spec = ind.INDICATORS[key]
        c1, c2, c3 = st.columns(3)
        month = c1.text_input("Mois (AAAA-MM)", f"{today:%Y-%m}")
        code, place = ui.where_input(c2, spec, service)
        dim = c3.selectbox("Dimension", list(spec.dimensions)) if spec.dimensions else ""
        row = {"indicateur": key, "mois": month, "code_insee": code, "lieu": place,
               "dimension": dim}
        found = service.current(row, today)
        if found:
            st.caption(f"Valeur enregistrée : {charts.fmt(found[0], spec)} "
                       f"(version {found[1]}).")
        value = st.number_input(f"Valeur ({spec.unit})", min_value=float(spec.minimum),
                                max_value=float(spec.maximum),
                                value=float(found[0]) if found else float(spec.minimum),
                                step=1.0 if spec.integer else 0.1)
        if st.button("Enregistrer ce chiffre", type="primary"):
            text = f"{value:.0f}" if spec.integer else f"{value:g}"
            try:
                service.record(actor, {**row, "valeur": text}, found[1] if found else None,
                               today)
                ui.refresh()
                st.success("Chiffre enregistré.")
            except MaillageError as exc:
                widgets.error(exc)


def import_form(service: Service, actor: Actor, today: date) -> None:
    """A filled template imported all or nothing, with a progress bar."""
    with st.expander("Importer un fichier CSV"):
        key = st.selectbox("Modèle de l'indicateur", csvio.recordable_keys(),
                           format_func=ui.label_of, key="tpl")
        st.download_button("Télécharger le modèle",
                           service.template(key, date(today.year, today.month, 1)),
                           file_name=f"modele-{key}.csv", mime="text/csv", on_click="ignore")
        upload = st.file_uploader("Fichier rempli (CSV UTF-8, séparateur virgule)",
                                  type=["csv"])
        if upload is not None and st.button("Importer"):
            try:
                upload.seek(0)  # read as a stream within the import bounds (no copy)
                with import_bar("le fichier d'indicateurs") as progress:
                    res = service.import_csv(actor, upload, upload.name, progress=progress)
                ui.refresh()
                st.success(f"{fmt.number(res['rows'])} chiffres lus : "
                           f"{fmt.number(res['added'])} ajoutés, "
                           f"{fmt.number(res['updated'])} mis à jour, "
                           f"{fmt.number(res['unchanged'])} inchangés.")
            except MaillageError as exc:
                widgets.error(exc)


def targets_form(service: Service, actor: Actor, year: int) -> None:
    """The Fédération's yearly target of one indicator, for Martinique or one EPCI."""
    with st.expander("Objectifs"):
        t1, t2, t3, t4 = st.columns(4)
        key = t1.selectbox("Indicateur", list(ind.INDICATORS), format_func=ui.label_of,
                           key="tk")
        target_year = t2.number_input("Année", 2000, 2100, year, step=1)
        epci = t3.selectbox("Territoire", ["", *service.epci_names],
                            format_func=lambda e: e or "Martinique")
        value = t4.number_input("Objectif", min_value=0.0, value=0.0, step=1.0)
        if st.button("Enregistrer l'objectif"):
            try:
                service.set_target(actor, key, int(target_year), float(value), epci)
                ui.refresh()
                st.success("Objectif enregistré.")
            except MaillageError as exc:
                widgets.error(exc)


def editing(service: Service, actor: Actor | None, result: IndicatorsResult) -> None:
    """The forms, for Fédération accounts (the store checks the role again)."""
    st.header("Saisir des chiffres")
    if actor is None or not actor.can_edit_places:
        st.caption("Réservé aux comptes de la Fédération : connectez-vous dans la barre "
                   "latérale.")
        return
    today = result.request.today
    entry_form(service, actor, today)
    import_form(service, actor, today)
    targets_form(service, actor, result.request.year)


def main() -> None:
    actor = header()
    today = date.today()
    try:
        service = ui.service()
        result = ui.result(scope(service, today))
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()
    empty_state(result)
    solution_tabs(result)
    map_section(result)
    epci_section(result)
    downloads(service, result)
    editing(service, actor, result)


main()
