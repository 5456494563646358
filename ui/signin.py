"""Sign-in box for pages (Streamlit side); the logic lives in :mod:`maillage.auth` and
:mod:`maillage.sessions`, the cookie routes in :mod:`ui.session_routes`.

A sign-in is a session of the store (:func:`maillage.sessions.start`). This browser tab
keeps its token in ``st.session_state`` (server side); when the server runs the cookie
routes (``server.py``), the page then sends the browser through
``/_maillage/connexion`` with a one-use ticket, which sets the HttpOnly session cookie and
comes back to the same page: a reload, or another tab, finds the account again through
``st.context.cookies``. Each run resolves the token or the cookie against the store, so a
session revoked or expired, or an account disabled, signs out at the next click
(« Session expirée, reconnectez-vous. »).
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode, urlsplit

import streamlit as st

from maillage import auth, sessions, settings
from ui import session_routes, widgets

#: An :class:`auth.Actor` put here by server code (the AppTest tests sign in this way).
_KEY = "maillage_actor"
_CLIENT_KEY = "maillage_signin_client"
#: This tab's session token (a sign-in made in this tab).
_TOKEN = "maillage_session_token"
#: (run id, account) resolved for the current run (one store read per run).
_RESOLVED = "maillage_signin_resolved"
#: The tab signed out: the cookie its websocket was opened with no longer counts.
_SIGNED_OUT = "maillage_signed_out"
#: A cookie already found dead (not looked up again at every run).
_DEAD = "maillage_dead_cookie"
#: The session ended by itself (expired or revoked): say so above the form.
_EXPIRED = "maillage_session_expired"
#: Where to send the browser at the next run (a cookie route with its ticket).
_PENDING = "maillage_signin_pending"

EXPIRED_FR = "Session expirée, reconnectez-vous."


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


def _cookie(name: str) -> str | None:
    """A cookie of the request that opened this page's websocket."""
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) and value else None


def _resolve() -> auth.Actor | None:
    state = st.session_state
    token = state.get(_TOKEN)
    if token is not None:
        actor = sessions.resolve(token)
        if actor is None:
            del state[_TOKEN]
            state[_EXPIRED] = True
        return actor
    injected = state.get(_KEY)
    if isinstance(injected, auth.Actor):
        return injected
    if state.get(_SIGNED_OUT):
        return None
    cookie = _cookie(sessions.cookie_name())
    if cookie is None or state.get(_DEAD) == cookie:
        return None
    actor = sessions.resolve(cookie)
    if actor is None:
        state[_DEAD] = cookie
        state[_EXPIRED] = True
    return actor


def current() -> auth.Actor | None:
    """The signed-in account of this browser session (None for the public), read from the
    store once per run: this tab's sign-in, else the session cookie."""
    run = st.session_state.get(_RUN)
    memo = st.session_state.get(_RESOLVED)
    if run is not None and memo is not None and memo[0] == run:
        return memo[1]
    actor = _resolve()
    if run is not None:
        st.session_state[_RESOLVED] = (run, actor)
    return actor


def _here() -> str:
    """The path and query of the page being shown (where the cookie routes come back to)."""
    url = st.context.url
    path = urlsplit(url).path if url else "/"
    query = st.query_params.to_dict()
    if query:
        path += "?" + urlencode(query)
    return sessions.safe_next(path)


def _go(url: str) -> None:
    """Send the browser to ``url`` (a path of this site), replacing this history entry."""
    target = json.dumps(url).replace("<", "\\u003c")
    st.html(f"<script>window.location.replace({target});</script>",
            unsafe_allow_javascript=True)


def _signed_in(actor: auth.Actor) -> None:
    """Open the session of an account that has just signed in, and plan the cookie."""
    started = sessions.start(actor)
    state = st.session_state
    for key in (_EXPIRED, _SIGNED_OUT, _DEAD, _RESOLVED):
        state.pop(key, None)
    state[_TOKEN] = started.token
    if session_routes.installed():
        ticket = sessions.signin_handoff(started.token,
                                         _cookie(sessions.binding_cookie_name()))
        if ticket is not None:
            state[_PENDING] = session_routes.signin_url(ticket, _here())


def _sign_out() -> None:
    """Revoke this tab's session and the cookie's, then plan the cookie's clearing."""
    state = st.session_state
    for token in (state.pop(_TOKEN, None), _cookie(sessions.cookie_name())):
        if token is not None:
            sessions.revoke(token)
    for key in (_KEY, _RESOLVED, _EXPIRED, _DEAD):
        state.pop(key, None)
    state[_SIGNED_OUT] = True
    if session_routes.installed():
        ticket = sessions.signout_handoff(_cookie(sessions.binding_cookie_name()))
        if ticket is not None:
            state[_PENDING] = session_routes.signout_url(ticket, _here())


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
        pending = st.session_state.pop(_PENDING, None)
        if pending is not None:
            _go(pending)
        if actor is not None:
            st.caption(f"Connecté : {widgets.md(actor.username)} "
                       f"({auth.ROLE_LABELS.get(actor.role, '')})")
            if st.button("Se déconnecter"):
                _sign_out()
                st.rerun()
            return actor
        if st.session_state.get(_EXPIRED):
            st.info(EXPIRED_FR)
        with st.form("signin", clear_on_submit=True):
            st.caption("Espace Fédération (la consultation est libre)")
            name = st.text_input("Compte")
            password = st.text_input("Mot de passe", type="password")
            if st.form_submit_button("Se connecter"):
                try:
                    _signed_in(auth.sign_in(name, password, client=client_key()))
                    st.rerun()
                except auth.AuthError as exc:
                    widgets.error(exc)
    return None
