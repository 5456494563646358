"""Maillage – the web server: ``app.py`` (the dashboard) served by ``st.App``, plus the two
HTTP routes of the sign-in sessions (``ui/session_routes.py``: they set and clear the
HttpOnly session cookie, which a Streamlit run cannot do over its websocket).

Run with ``streamlit run server.py`` (``make run``; every ``--server.*`` option works as
for ``app.py``). ``streamlit run app.py`` still serves the dashboard, without the routes:
a sign-in then lasts until the page is reloaded.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui import session_routes

# app.py lists its pages with st.navigation: never Streamlit's old mode that runs files of
# pages/ directly. (ui/__init__.py leaves that mode at the first run when app.py is served
# alone; here ``ui`` is imported before any run, so the mode is set off before it starts.)
PagesManager.uses_pages_directory = False

app = st.App("app.py", **session_routes.app_options())
