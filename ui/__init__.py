"""Streamlit helpers shared by the pages (cached loaders, legends, credits).

Only pages import this package; ``geo`` and ``analysis`` never import streamlit.

Importing it also fixes a start-up quirk: on a fresh server, Streamlit runs the
first requested page straight from ``pages/`` (its old multipage mode) until
``app.py`` has called ``st.navigation`` once. A link such as ``/trouver?q=…``
opened first would then run without the app's navigation and show "page not
found". The first import switches that mode off and reruns through ``app.py``.

It also tells :mod:`geo.fetch` that Streamlit's script threads serve pages, so a page
view (callbacks and fragments included) never downloads a missing source; and, in the
web server's process, starts warming up what the first page needs
(:func:`ui.data.warm_up`).
"""

from __future__ import annotations


def _in_page() -> bool:
    """Whether the current thread runs a Streamlit script (a page, a callback, a fragment)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx(suppress_warning=True) is not None


def _register_page_probe() -> None:
    from geo import fetch

    fetch.register_page_probe(_in_page)


def _leave_pages_directory_mode() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        import streamlit as st

        PagesManager.uses_pages_directory = False
        st.rerun()


def _warm_up_in_the_server() -> None:
    """In the web server's process, where ``server.py`` imports this package before the
    server listens: start :func:`ui.data.warm_up` in the background (imports and the home
    page's data while the server starts and the browser loads Streamlit's own scripts).
    Nothing in tests, the CLI or a page's thread (no server mode, or a script running)."""
    import threading

    from streamlit import config
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if getattr(config, "_server_mode", None) is None or get_script_run_ctx(
            suppress_warning=True) is not None:
        return

    def run() -> None:
        from ui import data

        data.warm_up()

    threading.Thread(target=run, name="maillage-warm-up", daemon=True).start()


_register_page_probe()
_leave_pages_directory_mode()
_warm_up_in_the_server()
