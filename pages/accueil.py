"""Accueil: the public's way to the nearest help first, then the communes by indicator.

The search box sends the address to « Trouver un point numérique » in the URL
(``/trouver?q=…``): two taps from the home page to the answer on a phone.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import demography
from geo import basemap, choropleth
from geo.errors import MaillageError
from ui import data, maps, widgets
from ui import trouver as trouver_ui

FINDER_PAGE = "pages/trouver.py"
APPLY_PAGE = "pages/devenir_point_numerique.py"
ALL = "Toute la Martinique"


def header() -> None:
    st.markdown(trouver_ui.PHONE_CSS, unsafe_allow_html=True)
    st.title("Maillage — la médiation numérique de proximité en Martinique")


def find_entry() -> None:
    """« Trouver un point numérique près de chez moi »: an address, then the answer."""
    with st.container(border=True, key="home-find"):
        st.subheader("Trouver un point numérique près de chez moi")
        with st.form("home-find-form", border=False):
            query = st.text_input("Votre adresse, votre rue ou votre commune", key="home_q",
                                  placeholder="ex. 12 rue Victor Hugo, Fort-de-France")
            go = st.form_submit_button("Chercher", type="primary", icon=":material/search:",
                                       width="stretch")
        st.page_link(FINDER_PAGE, label="Ou choisir l'endroit sur la carte",
                     icon=":material/map:")
    if go:
        if query.strip():
            st.switch_page(FINDER_PAGE, query_params={"q": query.strip()})
        st.warning("Tapez une adresse, une rue ou une commune, puis « Chercher ».")


def apply_entry() -> None:
    """For a shop, café or association that wants to help: the label application."""
    st.page_link(APPLY_PAGE, label="Votre lieu aide avec le numérique ? Devenez point "
                                   "numérique (candidature au label)",
                 icon=":material/how_to_reg:")


def intro() -> None:
    st.caption(
        "Pour les équipes : où vivent les personnes qui ont besoin d'aide avec le numérique, "
        "et à quelle distance d'un point numérique ? Choisissez un indicateur et un EPCI ; "
        "cliquez sur une commune."
    )


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The communes and their profile, or a French error and stop."""
    try:
        return data.communes(), data.commune_profile()
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()


def choices(communes) -> tuple[demography.Indicator, str, bool]:
    """The indicator, the EPCI and whether to draw the 200 m cells."""
    epci_names = [ALL, *sorted(communes["epci_court"].unique())]
    left, mid, right = st.columns([2, 2, 1])
    key = left.selectbox("Indicateur par commune", options=list(demography.INDICATORS),
                         format_func=lambda k: demography.INDICATORS[k].label)
    epci = mid.selectbox("EPCI", epci_names)
    grid = right.toggle("Carreaux de 200 m", value=False,
                        help="Population Filosofi 2017 par carreau de 200 m")
    return demography.INDICATORS[key], epci, grid


def key_figures(profile: pd.DataFrame, epci: str) -> pd.DataFrame:
    """The figures of the island or of the EPCI; returns the communes in scope."""
    scope = profile if epci == ALL else profile[profile["epci_court"] == epci]
    figures = demography.island_profile(scope)
    st.subheader(epci)
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Population 2023", widgets.number(figures["population"]))
    c2.metric("Communes", widgets.number(figures["n_communes"]))
    c3.metric("65 ans et plus", f"{widgets.number(figures['share_65p'], 1)} %")
    c4.metric("Ménages pauvres", f"{widgets.number(figures['poor_share'], 1)} %")
    c5.metric("Fragilité numérique", widgets.number(figures["fragility"], 1),
              help="Indice de fragilité numérique (100 = moyenne de la Martinique)")
    return scope


def commune_map(communes, profile: pd.DataFrame, scope: pd.DataFrame,
                indicator: demography.Indicator, epci: str, show_grid: bool) -> str:
    """The communes shaded by the indicator; returns the INSEE code of the clicked one."""
    shaded = communes.merge(
        profile[["code_insee", "grid_population", "share_65p", "share_80p", "poor_share",
                 "fragility"]], on="code_insee")
    shaded["valeur"] = [choropleth.fmt_value(v, indicator.unit)
                        for v in shaded[indicator.column]]
    highlight = None if epci == ALL else set(scope["code_insee"])
    m = basemap.base_map(credits="Insee, IGN Admin Express", canvas=show_grid, outlines=False)
    layer, legend = choropleth.commune_layer(
        shaded, shaded[indicator.column], title=indicator.label, unit=indicator.unit,
        tooltip_fields={"nom": "Commune", "epci_court": "EPCI", "valeur": indicator.label},
        highlight=highlight)
    layer.add_to(m)
    grid_legend = None
    if show_grid:
        grid_data, grid_legend = data.grid_geojson("population",
                                                   "Habitants par carreau de 200 m", "hab")
        choropleth.grid_layer(grid_data, grid_legend.title).add_to(m)
    out = maps.show(m, height=560, key="home-map", returned_objects=["last_active_drawing"])
    widgets.legend(legend)
    if grid_legend is not None:
        widgets.legend(grid_legend)
    clicked = (out or {}).get("last_active_drawing") or {}
    return str((clicked.get("properties") or {}).get("code_insee", ""))


def commune_detail(profile: pd.DataFrame, code: str) -> None:
    """The clicked commune's figures, or how to get them."""
    row = profile[profile["code_insee"] == code]
    if row.empty:
        st.info("Cliquez sur une commune de la carte pour voir son détail.")
        return
    r = row.iloc[0]
    st.markdown(f"### {widgets.md(r['nom'])} ({widgets.md(r['epci_court'])})")
    d1, d2, d3, d4, d5 = st.columns(5)
    d1.metric("Population 2023", widgets.number(r["population"]))
    d2.metric("Densité", f"{widgets.number(r['density'])} hab/km²")
    d3.metric("65 ans et plus", f"{widgets.number(r['share_65p'], 1)} %")
    d4.metric("80 ans et plus", f"{widgets.number(r['share_80p'], 1)} %")
    d5.metric("Ménages pauvres", f"{widgets.number(r['poor_share'], 1)} %")


def commune_table(scope: pd.DataFrame) -> None:
    with st.expander("Tableau des communes", expanded=False):
        table = scope[["nom", "epci_court", "population", "density", "share_65p", "share_80p",
                       "poor_share", "fragility"]].rename(columns={
            "nom": "Commune", "epci_court": "EPCI", "population": "Population 2023",
            "density": "Densité (hab/km²)", "share_65p": "65 ans et + (%)",
            "share_80p": "80 ans et + (%)", "poor_share": "Ménages pauvres (%)",
            "fragility": "Fragilité numérique",
        })
        st.dataframe(table.round(1), hide_index=True, width="stretch")


def credits() -> None:
    widgets.credits(["communes_geo", "communes_table", "population_legale", "filosofi", "ifn"])


def main() -> None:
    header()
    find_entry()
    apply_entry()
    intro()
    communes, profile = load()
    indicator, epci, show_grid = choices(communes)
    scope = key_figures(profile, epci)
    code = commune_map(communes, profile, scope, indicator, epci, show_grid)
    commune_detail(profile, code)
    commune_table(scope)
    credits()


main()
