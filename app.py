"""Maillage – entry point of the dashboard: navigation between the pages.

Run with ``streamlit run app.py`` (or ``make run``, which prepares the data first).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

st.set_page_config(
    page_title="Maillage – médiation numérique en Martinique",
    page_icon="🗺️",
    layout="wide",
    initial_sidebar_state="auto",
)

PAGES_DIR = Path(__file__).parent / "pages"

#: Every page of the dashboard, in menu order: (file, French title, icon, url path).
PAGES = [
    ("accueil.py", "Accueil", ":material/home:", "accueil"),
    ("couverture.py", "Couverture", ":material/radar:", "couverture"),
    ("2_Isochrones.py", "Isochrones", ":material/timelapse:", "isochrones"),
    ("3_Points_numeriques.py", "Points numériques", ":material/location_on:", "points"),
    ("arrets_proposes.py", "Arrêts proposés", ":material/add_location_alt:", "arrets"),
    ("tournees.py", "Tournées", ":material/local_shipping:", "tournees"),
    ("trouver.py", "Trouver un point numérique", ":material/search:", "trouver"),
    ("indicateurs.py", "Indicateurs", ":material/monitoring:", "indicateurs"),
]


def _pages() -> list[st.Page]:
    """The pages whose file exists (later features add theirs to PAGES)."""
    return [
        st.Page(str(PAGES_DIR / file), title=title, icon=icon, url_path=url,
                default=(url == "accueil"))
        for file, title, icon, url in PAGES
        if (PAGES_DIR / file).exists()
    ]


st.navigation(_pages()).run()
