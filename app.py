"""Maillage – entry point of the dashboard: navigation between the pages.

Served by ``server.py`` (``streamlit run server.py``, or ``make run``, which prepares the
data first), which adds the routes of the sign-in cookie; ``streamlit run app.py`` alone
also works, without them (a sign-in then lasts until the page is reloaded).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo import fetch
from geo.errors import MaillageError
from ui import data, signin, theme

st.set_page_config(
    page_title="Maillage – médiation numérique en Martinique",
    page_icon="🗺️",
    layout="wide",
    initial_sidebar_state="auto",
)

PAGES_DIR = Path(__file__).parent / "pages"

#: Every page of the dashboard, in menu order: (file, French title, icon). The URL of a
#: page is its file name without ``.py`` (e.g. ``/trouver``), the same as Streamlit gives
#: it before ``st.navigation`` first runs (see ``ui/__init__.py``), so links never break.
PAGES = [
    ("accueil.py", "Accueil", ":material/home:"),
    ("couverture.py", "Couverture", ":material/radar:"),
    ("isochrones.py", "Isochrones", ":material/timelapse:"),
    ("points_numeriques.py", "Points numériques", ":material/location_on:"),
    ("candidatures.py", "Candidatures", ":material/inbox:"),
    ("arrets_proposes.py", "Arrêts proposés", ":material/add_location_alt:"),
    ("tournees.py", "Tournées", ":material/local_shipping:"),
    ("trouver.py", "Trouver un point numérique", ":material/search:"),
    ("devenir_point_numerique.py", "Devenir point numérique", ":material/how_to_reg:"),
    ("indicateurs.py", "Indicateurs", ":material/monitoring:"),
]


def _pages() -> list[st.Page]:
    """The pages of :data:`PAGES`; the first one is the home page."""
    return [
        st.Page(str(PAGES_DIR / file), title=title, icon=icon,
                url_path=file.removesuffix(".py"), default=(i == 0))
        for i, (file, title, icon) in enumerate(PAGES)
    ]


# French for what Streamlit writes itself, readable captions (see ``ui/theme.py``).
theme.inject()

# Pages never download a source during a view (``maillage data`` does): a missing one is a
# French error, shown like every error meant for users that a page did not catch itself.
with fetch.page_mode():
    try:
        nav = st.navigation(_pages())
        signin.box_for_every_page()  # the sign-in box in the sidebar of every page
        nav.run()
    except MaillageError as exc:
        st.error(str(exc))

# Once a first page is drawn, the data of the other pages loads in the background (once per
# server process; see ui/data.py); the sidebar says so while it runs.
data.show_preload()
