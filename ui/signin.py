"""Sign-in box for pages (Streamlit side); the logic lives in :mod:`maillage.auth`."""

from __future__ import annotations

import streamlit as st

from maillage import auth

_KEY = "maillage_actor"


def current() -> auth.Actor | None:
    """The signed-in account of this browser session (None for the public)."""
    return st.session_state.get(_KEY)


def box() -> auth.Actor | None:
    """Sidebar form to sign in or out; returns the current account."""
    actor = current()
    with st.sidebar:
        if actor is not None:
            st.caption(f"Connecté : {actor.username} ({auth.ROLE_LABELS.get(actor.role, '')})")
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
                    st.session_state[_KEY] = auth.sign_in(name, password)
                    st.rerun()
                except auth.AuthError as exc:
                    st.error(str(exc))
    return None
