"""The HTTP side of the sign-in sessions: the routes that set and clear the HttpOnly cookie.

Python code of a Streamlit run talks to the browser over a websocket and cannot set a
cookie; ``server.py`` therefore serves ``app.py`` with ``st.App`` and adds what is here
(:func:`app_options`):

- ``GET /_maillage/connexion?jeton=…&suite=/page``: uses the one-use sign-in ticket the
  page has just made (:func:`maillage.sessions.consume_signin`), sets the session cookie
  (HttpOnly, SameSite=Lax, Path=/, Secure over https, lifetime of the session) and sends
  the browser back to ``suite`` (303). A ticket unknown, used, older than 60 s or made for
  another browser gets a French page and no cookie.
- ``GET /_maillage/deconnexion?jeton=…&suite=/page``: with a valid sign-out ticket, revokes
  the session of the browser's cookie and clears it; without one it only clears a cookie
  whose session is already over (a forged link signs nobody out), then goes back.
- a middleware that gives every browser, on its first page, the random *binding* cookie
  (HttpOnly, for the browser session) to which the tickets are bound.

``suite`` must be a path of this site (:func:`maillage.sessions.safe_next`): the routes
never send anyone elsewhere. Their answers are never cached and send no referrer.
"""

from __future__ import annotations

import html
import os
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from streamlit import config

from maillage import sessions
from maillage.errors import MaillageError

PREFIX = "/_maillage"
SIGNIN_PATH = f"{PREFIX}/connexion"
SIGNOUT_PATH = f"{PREFIX}/deconnexion"
#: Headers of every answer of the routes.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff"}

#: Set by :func:`app_options` to the serving process's id: an environment variable
#: outlives Streamlit's reloading of edited modules, and a child process (another pid)
#: does not inherit the answer.
_INSTALLED_ENV = "MAILLAGE_SESSION_ROUTES_PID"


def installed() -> bool:
    """Whether this process serves the routes (``server.py``); under a bare
    ``streamlit run app.py`` it does not, and sign-ins stay in the browser tab."""
    return os.environ.get(_INSTALLED_ENV) == str(os.getpid())


def _base() -> str:
    """Streamlit's ``server.baseUrlPath`` (``""`` or ``/chemin``): the routes live under it,
    next to the pages."""
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def _url(path: str, ticket: str, suite: str) -> str:
    query = urlencode({"jeton": ticket, "suite": sessions.safe_next(suite)})
    return f"{_base()}{path}?{query}"


def signin_url(ticket: str, suite: str) -> str:
    """Where the page sends the browser to take its session cookie."""
    return _url(SIGNIN_PATH, ticket, suite)


def signout_url(ticket: str, suite: str) -> str:
    """Where the page sends the browser to clear its session cookie."""
    return _url(SIGNOUT_PATH, ticket, suite)


def _cookie_flags() -> dict:
    return {"path": "/", "secure": sessions.secure_cookies(), "httponly": True,
            "samesite": "lax"}


def _page(status: int, title: str, text: str, suite: str) -> HTMLResponse:
    body = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)} – Maillage</title></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
            f'<p><a href="{html.escape(suite, quote=True)}">Revenir au tableau de bord</a>'
            "</p></body></html>")
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def _unavailable(exc: MaillageError, suite: str) -> HTMLResponse:
    return _page(503, "Base de données indisponible", str(exc), suite)


def signin(request: Request) -> Response:
    """``/_maillage/connexion``: ticket → session cookie → back to the page."""
    suite = sessions.safe_next(request.query_params.get("suite"))
    binding = request.cookies.get(sessions.binding_cookie_name())
    try:
        started = sessions.consume_signin(request.query_params.get("jeton"), binding)
    except MaillageError as exc:
        return _unavailable(exc, suite)
    if started is None:
        return _page(400, "Connexion non conservée",
                     "Ce lien de connexion a expiré, a déjà servi ou vient d'un autre "
                     "navigateur : reconnectez-vous dans la barre latérale.", suite)
    response = RedirectResponse(suite, status_code=303, headers=NO_STORE)
    response.set_cookie(sessions.cookie_name(), started.token, max_age=started.max_age(),
                        **_cookie_flags())
    return response


def signout(request: Request) -> Response:
    """``/_maillage/deconnexion``: (ticket →) revoke and clear the cookie → back."""
    suite = sessions.safe_next(request.query_params.get("suite"))
    name = sessions.cookie_name()
    cookie = request.cookies.get(name)
    binding = request.cookies.get(sessions.binding_cookie_name())
    try:
        clear = sessions.consume_signout(request.query_params.get("jeton"), binding, cookie)
        clear = clear or (cookie is not None and sessions.resolve(cookie) is None)
    except MaillageError as exc:
        return _unavailable(exc, suite)
    response = RedirectResponse(suite, status_code=303, headers=NO_STORE)
    if clear:
        response.delete_cookie(name, **_cookie_flags())
    return response


class BindingCookieMiddleware:
    """Sets the binding cookie on HTML pages served to a browser that has none (ASGI)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        name = sessions.binding_cookie_name()
        if Request(scope).cookies.get(name):
            await self.app(scope, receive, send)
            return
        cookie = f"{name}={sessions.new_token()}; Path=/; HttpOnly; SameSite=Lax"
        if sessions.secure_cookies():
            cookie += "; Secure"

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def app_options() -> dict:
    """The ``routes`` and ``middleware`` arguments of ``st.App`` (``server.py``)."""
    os.environ[_INSTALLED_ENV] = str(os.getpid())
    base = _base()
    return {"routes": [Route(base + SIGNIN_PATH, signin, methods=["GET"]),
                       Route(base + SIGNOUT_PATH, signout, methods=["GET"])],
            "middleware": [Middleware(BindingCookieMiddleware)]}
