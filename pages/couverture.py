"""Couverture: how far people live from a place, the white zones, what a new point changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from analysis import coverage, snap, whatif, white_zones
from geo import choropleth, coverage_layers, supply
from geo.errors import MaillageError
from maillage import csvsafe, settings
from ui import coverage as cov
from ui import data, maps, widgets

MODES = {"À pied": "walk", "En voiture": "drive"}
MODE_TEXT = {"walk": "à pied", "drive": "en voiture"}
SHARES = {"population": "Habitants", "seniors": "65 ans et plus", "age_80p": "80 ans et plus",
          "poor_households": "Ménages pauvres"}
STATE = "cov_points"  # this visitor's hypothetical points: list of (lon, lat, name)

st.title("Couverture")
st.caption("Qui vit à quelques minutes d'un lieu de médiation numérique, où sont les zones "
           "blanches, et ce que changerait un nouveau point. À pied d'abord : les personnes les "
           "plus concernées (aînés, ménages pauvres) n'ont souvent pas de voiture.")
st.session_state.setdefault(STATE, [])



def _clear() -> None:
    """Forget this visitor's hypotheses (runs before the widgets are drawn again)."""
    st.session_state[STATE] = []
    st.session_state.pop("cov_last_click", None)
    st.session_state["cov_removed"] = []


# ----------------------------------------------------------------------------- choices
c1, c2, c3, c4 = st.columns([1, 1.4, 1, 1.4])
mode = MODES[c1.radio("Mode", list(MODES), key="cov_mode")]
default = ",".join(f"{m:g}" for m in coverage.DEFAULT_MINUTES[mode])
minutes_text = c2.text_input("Seuils (minutes)", value=default, key=f"cov_minutes_{mode}",
                             help="Plusieurs seuils séparés par des virgules.")
try:
    minutes = coverage.check_minutes(
        [float(x) for x in minutes_text.replace(" ", "").split(",") if x])
except (ValueError, MaillageError):
    st.error(f"Seuils illisibles : « {widgets.md(minutes_text)} ». Écrivez des minutes "
             "séparées par des "
             "virgules, par exemple 10,15,20,30.")
    st.stop()
first = 15.0 if mode == "walk" and 15.0 in minutes else minutes[0]
threshold = c3.selectbox("Seuil affiché", minutes, index=minutes.index(first),
                         format_func=lambda m: f"{m:g} min", key=f"cov_t_{mode}")
measure = c4.selectbox("Part affichée par commune", list(SHARES),
                       format_func=lambda k: SHARES[k], key="cov_measure")

try:
    all_places = cov.places()
    halls = cov.town_halls()
    communes = data.communes()
except MaillageError as exc:
    widgets.error(exc)
    st.stop()

with st.expander("Lieux pris en compte et options", expanded=False):
    o1, o2, o3 = st.columns(3)
    scope = o1.radio("Lieux", list(supply.SCOPES), format_func=supply.SCOPES.get,
                     key="cov_scope")
    services = o2.multiselect("Services offerts (au moins un)", supply.services_of(all_places),
                              key="cov_services", placeholder="Tous les services")
    kinds = o3.multiselect("Types de lieu", sorted(all_places["kind"].unique()),
                           key="cov_kinds", placeholder="Tous les types")
    w1, w2, w3 = st.columns(3)
    weight = w1.selectbox("Pondération (temps médians, rang des zones)", list(coverage.WEIGHTS),
                          format_func=coverage.WEIGHTS.get, key="cov_weight")
    connectivity = w2.radio("Carreaux voisins d'une zone blanche", [8, 4], horizontal=True,
                            format_func=lambda k: "côtés et coins" if k == 8 else "côtés seuls",
                            key="cov_conn")
    by_commune = w3.toggle("Couper les zones aux limites des communes", value=True,
                           key="cov_by_commune",
                           help="À pied, les carreaux non couverts de l'agglomération forment "
                                "sinon une seule très grande zone.")
    with_stops = st.toggle("Compter aussi les arrêts des ateliers mobiles (plans publiés)",
                           key="cov_stops")

places = supply.select(all_places, scope, services, kinds)
if with_stops:
    stops = cov.workshop_stops()
    if stops.empty:
        st.info("Aucun plan de tournées publié : pas d'arrêt d'atelier mobile à ajouter.")
    places = pd.concat([places, stops], ignore_index=True)
if places.empty:
    st.warning("Aucun lieu ne correspond à cette sélection"
               + (" : le registre ne compte encore aucun point labellisé." if scope == "labelled"
                  else ".") + " Élargissez les filtres.")
    st.stop()

# ----------------------------------------------------------------------------- what-if inputs
st.subheader("Et si… ?")
h1, h2, h3 = st.columns([1.3, 1.6, 1])
hall_name = h1.selectbox("Ajouter une mairie comme point", ["—", *halls["name"]],
                         key="cov_hall")
if h1.button("Ajouter ce point", disabled=hall_name == "—"):
    row = halls[halls["name"] == hall_name].iloc[0]
    st.session_state[STATE].append((float(row.geometry.x), float(row.geometry.y), hall_name))
labels = {pid: f"{name} ({commune})" for pid, name, commune in
          zip(places["place_id"], places["name"], places["commune"], strict=True)}
removed_ids = h2.multiselect("Retirer des lieux existants", list(labels),
                             format_func=labels.get, key="cov_removed",
                             placeholder="Aucun lieu retiré")
click_mode = h3.toggle("Ajouter en cliquant sur la carte", key="cov_click")
h3.button("Effacer les hypothèses", on_click=_clear)
points = list(st.session_state[STATE])
if points:
    st.caption("Points ajoutés : " + " ; ".join(
        f"{widgets.md(name)} ({widgets.number(lon, 4)}, {widgets.number(lat, 4)})"
        for lon, lat, name in points))

# ----------------------------------------------------------------------------- computing
progress = st.progress(0.0, text="Chargement du réseau routier…")
try:
    g = cov.road_graph(mode)
    progress.progress(0.2, text="Temps jusqu'au lieu le plus proche, pour chaque carreau…")
    dem = cov.demand(weight)
    key = cov.supply_key(places)
    acc = cov.baseline(mode, key, places)
    progress.progress(0.5, text="Tableaux par commune et EPCI…")
    tabs = cov.baseline_tables(mode, key, weight, tuple(minutes), acc)
    progress.progress(0.65, text="Zones blanches…")
    zone_of, zones = cov.baseline_zones(mode, key, weight, threshold, connectivity, by_commune,
                                        acc)
    scenario = None
    if points or removed_ids:
        progress.progress(0.8, text="Effet des hypothèses…")
        for lon, lat, name in points:
            snap.check_in_martinique(lon, lat, cov.land(), label=f"Le point « {name} »")
        add_xy = snap.to_xy(np.array([(lon, lat) for lon, lat, _ in points])) if points else None
        rows = np.flatnonzero(places["place_id"].isin(removed_ids).to_numpy())
        scenario = whatif.apply(g, acc, add_xy, rows, settings.get().max_snap_m)
except MaillageError as exc:
    progress.empty()
    widgets.error(exc)
    if points:
        st.session_state[STATE] = points[:-1]  # drop the point that was refused
        st.info("Le dernier point ajouté a été retiré ; choisissez-en un autre.")
    st.stop()
progress.progress(1.0, text="Terminé.")
progress.empty()

after = scenario.seconds if scenario is not None else acc.seconds
tabs_after = coverage.tables(after, dem, minutes) if scenario is not None else tabs
lab = coverage.minute_label(threshold)
island = tabs[tabs["level"] == "island"].iloc[0]
island_after = tabs_after[tabs_after["level"] == "island"].iloc[0]

# ----------------------------------------------------------------------------- key figures
st.subheader(f"Martinique : à {lab} min ou moins {MODE_TEXT[mode]} d'un lieu")
k = st.columns(4)
for col, (m, label) in zip(k, SHARES.items(), strict=True):
    before_v = island[f"{m}_{lab}_share"]
    after_v = island_after[f"{m}_{lab}_share"]
    delta = (f"{widgets.number(after_v - before_v, 1)} pt" if scenario is not None else None)
    col.metric(label, f"{widgets.number(after_v, 1)} %", delta=delta)


def _min(v: float) -> str:
    return f"{widgets.number(v, 1)} min" if np.isfinite(v) else "inatteignable"


who = "des habitants" if weight == "population" else f"pondéré ({coverage.WEIGHTS[weight]})"
st.caption(f"Temps médian {who} : {_min(island_after['median_min'])} ; 9e décile : "
           f"{_min(island_after['p90_min'])}. {len(places)} lieux retenus "
           f"({int(acc.usable.sum())} à moins de {settings.get().max_snap_m:.0f} m d'une route), "
           f"{len(dem)} carreaux habités. Temps = marche du centre du carreau jusqu'à la route, "
           "puis trajet par le réseau routier.")

# ----------------------------------------------------------------------------- map
view = st.radio("Carte", ["Communes et zones blanches", "Carreaux : temps de trajet"],
                horizontal=True, key="cov_view")
commune_rows = tabs_after[tabs_after["level"] == "commune"]
shaded = communes.merge(commune_rows[["code", f"{measure}_{lab}_share"]],
                        left_on="code_insee", right_on="code", how="left")
value_col = f"{measure}_{lab}_share"
shaded["valeur"] = [choropleth.fmt_value(v, "%") for v in shaded[value_col]]
share_title = f"{SHARES[measure]} à {lab} min ou moins {MODE_TEXT[mode]} (%)"
grid = None if view.startswith("Communes") else data.grid()
cell_minutes = (None if grid is None else pd.Series(after / 60.0, index=dem["cell_id"])
                .reindex(grid["cell_id"]).to_numpy())
added = (supply.points([(lon, lat) for lon, lat, _ in points], [n for _, _, n in points])
         if points else None)
m, legends = coverage_layers.coverage_map(
    communes_view=view.startswith("Communes"), shaded=shaded, value_col=value_col,
    share_title=share_title, zones=zones, communes=communes, grid=grid,
    cell_minutes=cell_minutes, mode=mode, places=places, added=added)
out = maps.show(m, height=600, returned_objects=["last_clicked"], key=f"cov_map_{view[:4]}")
for leg in legends:
    widgets.legend(leg)
st.caption(f"Zones blanches (contour violet) : carreaux habités à plus de {lab} min "
           f"{MODE_TEXT[mode]} du lieu le plus proche, aujourd'hui. Points bleus : lieux ; "
           "points roses : points ajoutés.")
click = (out or {}).get("last_clicked")
if click_mode and click:
    pt = (round(click["lng"], 6), round(click["lat"], 6))
    if pt != st.session_state.get("cov_last_click"):
        st.session_state["cov_last_click"] = pt
        st.session_state[STATE].append((pt[0], pt[1], f"Point {len(points) + 1}"))
        st.rerun()

# ----------------------------------------------------------------------------- what-if results
if scenario is not None:
    st.subheader("Effet des hypothèses")
    d = whatif.deltas(acc.seconds, after, dem, minutes)
    gain, loss = d[f"population_gain_{lab}"], d[f"population_loss_{lab}"]
    isl = d[d["level"] == "island"].iloc[0]
    st.markdown(
        f"À {lab} min {MODE_TEXT[mode]} : **{widgets.number(isl[f'population_gain_{lab}'])}** "
        f"habitants nouvellement couverts, **{widgets.number(isl[f'population_loss_{lab}'])}** "
        "qui perdent l'accès.")
    changed = d[(gain > 0) | (loss > 0)]
    st.dataframe(whatif.french(changed, minutes), hide_index=True, width="stretch")
    cmp = white_zones.compare(zone_of, zones, after, dem, threshold)
    touched = cmp[cmp["status"] != "unchanged"].copy()
    if len(touched):
        touched["Devenir"] = touched["status"].map(white_zones.STATUSES)
        st.dataframe(touched.rename(columns={
            "zone": "Zone", "communes": "Communes", "population": "Habitants avant",
            "population_after": "Habitants après", "covered": "Habitants couverts",
        })[["Zone", "Communes", "Habitants avant", "Habitants après", "Habitants couverts",
            "Devenir"]].round(0), hide_index=True, width="stretch")
    else:
        st.info("Aucune zone blanche d'aujourd'hui ne change avec ces hypothèses.")

# ----------------------------------------------------------------------------- charts
st.subheader("Part de la population atteinte selon le temps")
max_m = 60 if mode == "walk" else 30
steps = np.arange(1, max_m + 1)
curve = pd.concat([coverage.curve(acc.seconds, dem, steps, "epci"),
                   coverage.curve(acc.seconds, dem, steps, "island")])
curve["Situation"] = "aujourd'hui"
if scenario is not None:
    extra = pd.concat([coverage.curve(after, dem, steps, "epci"),
                       coverage.curve(after, dem, steps, "island")])
    extra["Situation"] = "avec les hypothèses"
    curve = pd.concat([curve, extra])
fig = px.line(curve, x="minutes", y="share", color="name", line_dash="Situation",
              labels={"minutes": f"Minutes {MODE_TEXT[mode]}", "share": "Habitants atteints (%)",
                      "name": "Territoire"})
fig.update_yaxes(range=[0, 100])
st.plotly_chart(fig)

bars = commune_rows[["name", "epci", f"{measure}_{lab}_share"]].rename(
    columns={f"{measure}_{lab}_share": "share"})
bars = bars.sort_values("share")
fig2 = px.bar(bars, x="share", y="name", color="epci", orientation="h",
              labels={"share": share_title, "name": "Commune", "epci": "EPCI"}, height=760)
st.plotly_chart(fig2)

# ----------------------------------------------------------------------------- tables
st.subheader("Tableaux")
fr = coverage.french(tabs_after, minutes, weight)
st.dataframe(fr, hide_index=True, width="stretch")
st.download_button("Télécharger les tableaux (CSV)", csvsafe.frame_csv(fr),
                   file_name=f"couverture-{mode}.csv", mime="text/csv")
st.markdown(f"**Zones blanches aujourd'hui** ({len(zones)}, au-delà de {lab} min "
            f"{MODE_TEXT[mode]}, les plus peuplées d'abord)")
if len(zones):
    show = zones.drop(columns="geometry").rename(columns={
        "zone": "Zone", "n_cells": "Carreaux", "population": "Habitants",
        "seniors": "65 ans et plus", "age_80p": "80 ans et plus",
        "poor_households": "Ménages pauvres", "communes": "Communes", "epci": "EPCI",
        "min_min": "Temps min. (min)", "median_min": "Temps médian (min)",
        "max_min": "Temps max. (min)",
    }).drop(columns=["weight"]).round(1)
    st.dataframe(show.head(50), hide_index=True, width="stretch")
    st.download_button("Télécharger les zones blanches (GeoJSON)",
                       cov.zones_geojson(mode, key, weight, threshold, connectivity,
                                         by_commune, zones),
                       file_name=f"zones-blanches-{mode}-{lab}min.geojson",
                       mime="application/geo+json")

widgets.credits(["communes_geo", "filosofi", "ifn", "roads_mirror", "mairies", "hub_antilles",
                 "france_services", "cnfs_lieux"])
