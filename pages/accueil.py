"""Accueil: Martinique's communes shaded by a chosen indicator, with key figures."""

from __future__ import annotations

import streamlit as st

from analysis import demography
from geo import basemap, choropleth
from geo.errors import MaillageError
from ui import data, maps, widgets

st.title("Maillage — la médiation numérique de proximité en Martinique")
st.caption(
    "Où vivent les personnes qui ont besoin d'aide avec le numérique, et à quelle distance "
    "d'un point numérique ? Choisissez un indicateur et un EPCI ; cliquez sur une commune."
)

try:
    communes = data.communes()
    profile = data.commune_profile()
except MaillageError as exc:
    widgets.error(exc)
    st.stop()

epci_names = ["Toute la Martinique", *sorted(communes["epci_court"].unique())]
left, mid, right = st.columns([2, 2, 1])
key = left.selectbox(
    "Indicateur par commune",
    options=list(demography.INDICATORS),
    format_func=lambda k: demography.INDICATORS[k].label,
)
epci_choice = mid.selectbox("EPCI", epci_names)
show_grid = right.toggle("Carreaux de 200 m", value=False,
                         help="Population Filosofi 2017 par carreau de 200 m")
indicator = demography.INDICATORS[key]

scope = profile if epci_choice == epci_names[0] else profile[profile["epci_court"] == epci_choice]
figures = demography.island_profile(scope)

st.subheader(epci_choice)
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Population 2023", widgets.number(figures["population"]))
c2.metric("Communes", widgets.number(figures["n_communes"]))
c3.metric("65 ans et plus", f"{widgets.number(figures['share_65p'], 1)} %")
c4.metric("Ménages pauvres", f"{widgets.number(figures['poor_share'], 1)} %")
c5.metric("Fragilité numérique", widgets.number(figures["fragility"], 1),
          help="Indice de fragilité numérique (100 = moyenne de la Martinique)")

shaded = communes.merge(
    profile[["code_insee", "grid_population", "share_65p", "share_80p", "poor_share",
             "fragility"]],
    on="code_insee",
)
shaded["valeur"] = [choropleth.fmt_value(v, indicator.unit) for v in shaded[indicator.column]]
highlight = None if epci_choice == epci_names[0] else set(scope["code_insee"])

m = basemap.base_map(credits="Insee, IGN Admin Express", canvas=show_grid, outlines=False)
layer, legend = choropleth.commune_layer(
    shaded, shaded[indicator.column], title=indicator.label, unit=indicator.unit,
    tooltip_fields={"nom": "Commune", "epci_court": "EPCI", "valeur": indicator.label},
    highlight=highlight,
)
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
code = str((clicked.get("properties") or {}).get("code_insee", ""))
row = profile[profile["code_insee"] == code]
if not row.empty:
    r = row.iloc[0]
    st.markdown(f"### {widgets.md(r['nom'])} ({widgets.md(r['epci_court'])})")
    d1, d2, d3, d4, d5 = st.columns(5)
    d1.metric("Population 2023", widgets.number(r["population"]))
    d2.metric("Densité", f"{widgets.number(r['density'])} hab/km²")
    d3.metric("65 ans et plus", f"{widgets.number(r['share_65p'], 1)} %")
    d4.metric("80 ans et plus", f"{widgets.number(r['share_80p'], 1)} %")
    d5.metric("Ménages pauvres", f"{widgets.number(r['poor_share'], 1)} %")
else:
    st.info("Cliquez sur une commune de la carte pour voir son détail.")

with st.expander("Tableau des communes", expanded=False):
    table = scope[["nom", "epci_court", "population", "density", "share_65p", "share_80p",
                   "poor_share", "fragility"]].rename(columns={
        "nom": "Commune", "epci_court": "EPCI", "population": "Population 2023",
        "density": "Densité (hab/km²)", "share_65p": "65 ans et + (%)",
        "share_80p": "80 ans et + (%)", "poor_share": "Ménages pauvres (%)",
        "fragility": "Fragilité numérique",
    })
    st.dataframe(table.round(1), hide_index=True, use_container_width=True)

widgets.credits(["communes_geo", "communes_table", "population_legale", "filosofi", "ifn"])
