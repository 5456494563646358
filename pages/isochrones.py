"""Isochrones: click on the map (or pick a town hall) to see the areas reached in N minutes."""

from __future__ import annotations

import html
import json

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from analysis import isochrone, snap
from geo import basemap, fetch, population
from geo.errors import MaillageError
from maillage import settings
from ui import data

COLORS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"]
MODES = {"À pied": "walk", "En voiture": "drive"}

st.title("Isochrones")
st.caption("Jusqu'où va-t-on en quelques minutes, à pied ou en voiture, par les routes ? "
           "Cliquez sur la carte ou choisissez une mairie. Réseau routier © les contributeurs "
           "d'OpenStreetMap (ODbL) ; population : Insee, Filosofi 2017 (carreaux de 200 m).")


@st.cache_data(show_spinner="Chargement des carreaux de population…")
def load_grid() -> pd.DataFrame:
    return pd.DataFrame(population.load_grid(settings.get())[["x", "y", "population"]])


@st.cache_data(show_spinner=False)
def load_town_halls() -> pd.DataFrame:
    feats = json.loads(fetch.resolve("mairies").path.read_text(encoding="utf-8"))["features"]
    return pd.DataFrame({
        "commune": [f["properties"]["commune"] for f in feats],
        "lon": [f["geometry"]["coordinates"][0] for f in feats],
        "lat": [f["geometry"]["coordinates"][1] for f in feats],
    }).sort_values("commune")


c1, c2, c3 = st.columns([1, 2, 2])
mode = MODES[c1.radio("Mode", list(MODES), horizontal=False)]
default = "5,10,15" if mode == "walk" else "10,20,30"
minutes_text = c2.text_input("Seuils (minutes)", value=default, key=f"minutes_{mode}")
halls = load_town_halls()
hall = c3.selectbox("Ou partir d'une mairie", ["—", *halls["commune"]])

if hall != "—" and st.session_state.get("hall") != hall:
    row = halls[halls["commune"] == hall].iloc[0]
    st.session_state["origin"] = (float(row["lon"]), float(row["lat"]))
st.session_state["hall"] = hall

origin = st.session_state.get("origin")
bands = None
if origin is not None:
    try:
        minutes = isochrone.parse_minutes(minutes_text)
        g = data.road_graph(mode)
        land = data.land()
        o = snap.snap_checked(g, origin, settings.get().max_snap_m, land=land)
        with st.spinner("Calcul des isochrones…"):
            bands = isochrone.isochrones(g, o, minutes, land=land, grid=load_grid())
    except MaillageError as exc:
        st.error(str(exc))

m = basemap.base_map(credits="Insee, Filosofi 2017")
if bands is not None:
    shown = bands.to_crs(settings.CRS_STORE)
    for k in range(len(shown) - 1, -1, -1):
        row = shown.iloc[k]
        color = COLORS[min(k, len(COLORS) - 1)]
        label = html.escape(f"{row['from_min']:g}–{row['to_min']:g} min")
        folium.GeoJson(row.geometry.__geo_interface__, tooltip=label,
                       style_function=lambda _f, c=color: {"color": c, "weight": 1,
                                                          "fillColor": c, "fillOpacity": 0.45},
                       ).add_to(m)
if origin is not None:
    folium.CircleMarker([origin[1], origin[0]], radius=6, color="#000", fill=True,
                        fill_opacity=1, tooltip="Départ").add_to(m)
    m.location = [origin[1], origin[0]]

clicked = st_folium(m, height=560, use_container_width=True, returned_objects=["last_clicked"],
                    key="iso_map")
if clicked and clicked.get("last_clicked"):
    point = (clicked["last_clicked"]["lng"], clicked["last_clicked"]["lat"])
    if point != st.session_state.get("clicked"):
        st.session_state["clicked"] = point
        st.session_state["origin"] = point
        st.rerun()

if bands is not None:
    table = pd.DataFrame({
        "Couleur": [COLORS[min(k, len(COLORS) - 1)] for k in range(len(bands))],
        "Temps": [f"{a:g} à {b:g} min" for a, b in zip(bands["from_min"], bands["to_min"],
                                                        strict=True)],
        "Surface (km²)": bands["area_km2"].round(2),
        "Habitants dans la bande": bands["population"].round(0).astype(int),
        "Habitants cumulés": bands["population_cum"].round(0).astype(int),
    })
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"Couleur": st.column_config.TextColumn(width="small")})
    st.caption("Population : carreaux de 200 m dont le centre est dans la bande. Zone atteinte : "
               f"routes parcourues à temps, élargies de {isochrone.BUFFER_M[mode]:.0f} m. "
               f"Vitesses : voir docs/calibration.md ; à pied {settings.get().walk_kmh:g} km/h.")
    st.download_button("Télécharger (GeoJSON)", bands.to_crs(settings.CRS_STORE).to_json(),
                       file_name="isochrones.geojson", mime="application/geo+json")
elif origin is None:
    st.info("Cliquez sur la carte ou choisissez une mairie pour tracer les isochrones.")
