"""Sign-in box for pages (Streamlit side); the logic lives in :mod:`maillage.auth`."""

from __future__ import annotations

import secrets

import streamlit as st

from maillage import auth, settings
from ui import widgets

_KEY = "maillage_actor"
_CLIENT_KEY = "maillage_signin_client"


def client_key() -> str:
    """Who signs in, for the throttle of :func:`maillage.auth.sign_in`: the visitor's IP
    address, else (local visits, where Streamlit gives none) a random id kept for this
    browser session."""
    try:
        ip = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For", "")
    except AttributeError:  # a Streamlit without st.context.ip_address
        ip, forwarded = None, ""
    if forwarded and settings.get().trust_proxy:
        # Behind our own reverse proxy every visitor comes from the proxy's address: the
        # proxy appends the client's address last, the only entry a client cannot forge.
        ip = forwarded.split(",")[-1].strip() or ip
    if isinstance(ip, str) and ip:
        return ip
    if _CLIENT_KEY not in st.session_state:
        st.session_state[_CLIENT_KEY] = f"session-{secrets.token_hex(16)}"
    return st.session_state[_CLIENT_KEY]


def current() -> auth.Actor | None:
    """The signed-in account of this browser session (None for the public)."""
    return st.session_state.get(_KEY)


_RUN = "maillage_signin_run"
_DRAWN = "maillage_signin_drawn"


def box_for_every_page() -> auth.Actor | None:
    """Draw the box from ``app.py`` for whichever page runs; pages' own ``box()`` then
    return the account without drawing it twice."""
    st.session_state[_RUN] = secrets.token_hex(8)
    return box()


def box() -> auth.Actor | None:
    """Sidebar form to sign in or out (once per run); returns the current account."""
    run = st.session_state.get(_RUN)
    if run is not None and st.session_state.get(_DRAWN) == run:
        return current()
    st.session_state[_DRAWN] = run
    actor = current()
    with st.sidebar:
        if actor is not None:
            st.caption(f"Connecté : {widgets.md(actor.username)} "
                       f"({auth.ROLE_LABELS.get(actor.role, '')})")
            if st.button("Se déconnecter"):
                del st.session_state[_KEY]
                st.rerun()
            return actor
        with st.form("signin", clear_on_submit=True):
            st.caption("Espace Fédération (la consultation est libre)")
            name = st.text_input("Compte")
            password = st.text_input("Mot de passe", type="password")
            if st.form_submit_button("Se connecter"):
                try:
                    st.session_state[_KEY] = auth.sign_in(name, password, client=client_key())
                    st.rerun()
                except auth.AuthError as exc:
                    widgets.error(exc)
    return None
