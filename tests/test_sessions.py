"""Browser sessions (``maillage.sessions``) and their cookie routes (``ui.session_routes``).

The store keeps hashes only; a session ends at its absolute expiry, on sign-out, or as soon
as its account is disabled, removed or given a new password, and a changed role applies at
the next use. Hand-off tickets are used once, within 60 s, by the browser they were made
for. The routes set an HttpOnly cookie, clear it only with a valid ticket or when its
session is over, and never send the browser to another site. Every store test runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete, select, update

from maillage import auth, db, sessions
from maillage import settings as settings_mod
from maillage.db.models import User
from maillage.db.session_models import SessionHandoff, WebSession
from maillage.settings import Settings

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BROWSER = sessions.new_token()  # the binding cookie of "our" browser


@pytest.fixture()
def s(tmp_settings: Settings, store_url: str,
      monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The account "alice" (federation) on SQLite, then on PostgreSQL (cheap argon2)."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                        parallelism=1))
    auth._dummy_hash.cache_clear()
    settings = replace(tmp_settings, database_url=store_url)
    auth.add_user("alice", "federation", PASSWORD, settings)
    yield settings
    auth._dummy_hash.cache_clear()


def _signed_in(s: Settings, now: datetime = T0) -> sessions.Started:
    return sessions.start(auth.sign_in("alice", PASSWORD, s, now=now), s, now=now)


def _rows(s: Settings, model) -> list:
    with db.read_session(s) as session:
        return list(session.scalars(select(model)))


def _set_user(s: Settings, **values) -> None:
    with db.write_session(s) as session:
        session.execute(update(User).where(User.username == "alice").values(**values))


# --- sessions -------------------------------------------------------------------------------

def test_a_session_resolves_to_its_account_and_the_store_keeps_only_a_hash(s) -> None:
    started = _signed_in(s)
    assert len(started.token) >= 43  # 32 random bytes, URL-safe base64
    assert sessions.resolve(started.token, s, now=T0) == auth.Actor("alice", "federation")
    assert started.expires_at == T0 + timedelta(hours=s.session_hours)
    dump = repr(db.dump(s))
    assert started.token not in dump and sessions.digest(started.token) in dump
    # another token, an empty one, a huge one, something else: nobody
    for other in (sessions.new_token(), "", None, "x" * 10_000, 42):
        assert sessions.resolve(other, s, now=T0) is None


def test_a_session_ends_at_its_absolute_expiry_and_is_purged(s) -> None:
    s2 = replace(s, session_hours=2.0)
    started = _signed_in(s2)
    end = T0 + timedelta(hours=2)
    assert started.expires_at == end
    assert started.max_age(T0) == 2 * 3600
    # used all along, it still ends at the same time (no sliding renewal)
    for minutes in range(0, 120, 20):
        assert sessions.resolve(started.token, s2, now=T0 + timedelta(minutes=minutes))
    assert sessions.resolve(started.token, s2, now=end - timedelta(seconds=1))
    assert sessions.resolve(started.token, s2, now=end) is None
    assert len(_rows(s2, WebSession)) == 1  # reading never writes
    sessions.start(auth.Actor("alice", "federation"), s2, now=end + timedelta(seconds=1))
    left = _rows(s2, WebSession)
    assert len(left) == 1 and left[0].token_hash != sessions.digest(started.token)


def test_sign_out_revokes_the_session(s) -> None:
    started, other = _signed_in(s), _signed_in(s)
    assert sessions.revoke(started.token, s, now=T0) is True
    assert sessions.resolve(started.token, s, now=T0) is None
    assert sessions.revoke(started.token, s, now=T0) is False
    assert sessions.resolve(other.token, s, now=T0) is not None  # another sign-in stays


def test_the_role_is_read_from_the_accounts_at_each_use(s) -> None:
    started = _signed_in(s)
    _set_user(s, role="epci")
    assert sessions.resolve(started.token, s, now=T0) == auth.Actor("alice", "epci")
    _set_user(s, role="admin")
    assert sessions.resolve(started.token, s, now=T0) == auth.Actor("alice", "admin")


def test_a_disabled_account_is_signed_out_at_once(s) -> None:
    started = _signed_in(s)
    _set_user(s, active=False)
    assert sessions.resolve(started.token, s, now=T0) is None
    ticket = sessions.signin_handoff(started.token, BROWSER, s, now=T0)
    assert ticket is None
    with pytest.raises(auth.AuthError):
        sessions.start(auth.Actor("alice", "federation"), s, now=T0)


def test_a_removed_account_is_not_brought_back_by_a_new_one_of_the_same_name(s) -> None:
    started = _signed_in(s)
    with db.write_session(s) as session:
        session.execute(delete(User).where(User.username == "alice"))
    assert sessions.resolve(started.token, s, now=T0) is None
    assert _rows(s, WebSession) == []  # the foreign key removed its sessions
    auth.add_user("alice", "admin", PASSWORD, s)
    assert sessions.resolve(started.token, s, now=T0) is None


def test_a_new_password_ends_every_session_of_the_account(s) -> None:
    first, second = _signed_in(s), _signed_in(s)
    auth.set_password("alice", "another horse battery staple", s)
    assert sessions.resolve(first.token, s, now=T0) is None
    assert sessions.resolve(second.token, s, now=T0) is None


def test_only_a_real_account_gets_a_session(s) -> None:
    for nobody in (None, "alice", auth.Actor("mallory", "admin")):
        with pytest.raises(auth.AuthError):
            sessions.start(nobody, s, now=T0)
    assert _rows(s, WebSession) == []


# --- hand-off tickets ----------------------------------------------------------------------

def test_a_signin_ticket_works_once_and_gives_the_cookie_a_new_token(s) -> None:
    started = _signed_in(s)
    ticket = sessions.signin_handoff(started.token, BROWSER, s, now=T0)
    assert ticket is not None and ticket not in repr(db.dump(s))
    cookie = sessions.consume_signin(ticket, BROWSER, s, now=T0 + timedelta(seconds=1))
    assert cookie is not None and cookie.token != started.token
    assert cookie.expires_at == started.expires_at  # same sign-in, same end
    assert sessions.resolve(cookie.token, s, now=T0) == auth.Actor("alice", "federation")
    assert sessions.resolve(started.token, s, now=T0) is None  # the page's token is dead
    assert sessions.consume_signin(ticket, BROWSER, s, now=T0) is None  # used
    assert _rows(s, SessionHandoff) == []
    assert len(_rows(s, WebSession)) == 1


def test_a_signin_ticket_expires_after_a_minute(s) -> None:
    started = _signed_in(s)
    ticket = sessions.signin_handoff(started.token, BROWSER, s, now=T0)
    late = T0 + timedelta(seconds=sessions.HANDOFF_S)
    assert sessions.consume_signin(ticket, BROWSER, s, now=late) is None
    assert _rows(s, SessionHandoff) == []
    assert sessions.resolve(started.token, s, now=late) is not None  # the tab keeps it


def test_a_ticket_made_for_another_browser_is_refused_and_burnt(s) -> None:
    """Login CSRF: a ticket taken from the attacker's own sign-in is useless in the
    victim's browser, and presenting it burns it."""
    started = _signed_in(s)
    ticket = sessions.signin_handoff(started.token, BROWSER, s, now=T0)
    for binding in (sessions.new_token(), None, ""):
        assert sessions.consume_signin(ticket, binding, s, now=T0) is None
    assert sessions.consume_signin(ticket, BROWSER, s, now=T0) is None
    assert sessions.resolve(started.token, s, now=T0) is not None


def test_tickets_need_a_live_session_and_a_binding(s) -> None:
    started = _signed_in(s)
    assert sessions.signin_handoff(started.token, None, s, now=T0) is None
    assert sessions.signin_handoff(sessions.new_token(), BROWSER, s, now=T0) is None
    assert sessions.signout_handoff(None, s, now=T0) is None
    ticket = sessions.signin_handoff(started.token, BROWSER, s, now=T0)
    sessions.revoke(started.token, s, now=T0)
    assert sessions.consume_signin(ticket, BROWSER, s, now=T0) is None
    for forged in (None, "", sessions.new_token(), "x" * 10_000):
        assert sessions.consume_signin(forged, BROWSER, s, now=T0) is None


def test_a_ticket_serves_only_its_own_purpose(s) -> None:
    started = _signed_in(s)
    signout = sessions.signout_handoff(BROWSER, s, now=T0)
    assert sessions.consume_signin(signout, BROWSER, s, now=T0) is None
    signin = sessions.signin_handoff(started.token, BROWSER, s, now=T0)
    assert sessions.consume_signout(signin, BROWSER, started.token, s, now=T0) is False
    assert sessions.resolve(started.token, s, now=T0) is not None


def test_a_signout_ticket_revokes_the_cookie_the_browser_holds(s) -> None:
    tab, cookie = _signed_in(s), _signed_in(s)  # e.g. the cookie was set by another tab
    sessions.revoke(tab.token, s, now=T0)
    # no ticket, a forged one, or another browser's: the cookie's session stays
    assert sessions.consume_signout(None, BROWSER, cookie.token, s, now=T0) is False
    assert sessions.consume_signout(sessions.new_token(), BROWSER, cookie.token, s,
                                    now=T0) is False
    other = sessions.signout_handoff(sessions.new_token(), s, now=T0)
    assert sessions.consume_signout(other, BROWSER, cookie.token, s, now=T0) is False
    assert sessions.resolve(cookie.token, s, now=T0) is not None
    ticket = sessions.signout_handoff(BROWSER, s, now=T0)
    assert sessions.consume_signout(ticket, BROWSER, cookie.token, s, now=T0) is True
    assert sessions.resolve(cookie.token, s, now=T0) is None
    assert sessions.consume_signout(ticket, BROWSER, cookie.token, s, now=T0) is False


def test_a_ticket_presented_many_times_at_once_works_once(s) -> None:
    started = _signed_in(s)
    ticket = sessions.signin_handoff(started.token, BROWSER, s, now=T0)
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda _: sessions.consume_signin(ticket, BROWSER, s, now=T0),
                            range(12)))
    won = [g for g in got if g is not None]
    assert len(won) == 1, got
    assert sessions.resolve(won[0].token, s, now=T0) is not None


# --- where the routes go back to -------------------------------------------------------------

HOST = "https://maillage.example"
SAME_SITE = ["/", "/trouver", "/trouver?q=Le+Robert&at=-60.9%2C14.6", "/points_numeriques#x",
             "/%2F%2Fevil.example", "/trouver?suite=https://evil.example"]
ELSEWHERE = ["https://evil.example/", "http://evil.example", "//evil.example/x",
             "///evil.example", "/\\evil.example", "\\\\evil.example", "\\/evil.example",
             "javascript:alert(1)", "data:text/html,x", "evil.example", "trouver",
             " /trouver", "/tr ouver", "/x\r\nSet-Cookie: a=b", "/x\ty", "/x\x00",
             "/" + "a" * sessions.MAX_NEXT_CHARS, "", None, 42, ["/"]]


@pytest.mark.parametrize("target", SAME_SITE + ELSEWHERE)
def test_the_routes_only_go_back_to_this_site(target) -> None:
    got = sessions.safe_next(target)
    assert urlsplit(urljoin(HOST + "/page", got)).netloc == "maillage.example"
    assert got.startswith("/") and not got.startswith("//") and "\\" not in got
    assert got == (target if target in SAME_SITE else "/")


def test_cookie_names_and_secure_flag_follow_the_public_address(tmp_settings) -> None:
    http = replace(tmp_settings, public_url="http://localhost:8501")
    https = replace(tmp_settings, public_url="https://maillage.example")
    assert not sessions.secure_cookies(http) and sessions.secure_cookies(https)
    assert sessions.cookie_name(http) == "maillage_session"
    assert sessions.cookie_name(https) == "__Host-maillage_session"
    assert sessions.binding_cookie_name(https) == "__Host-maillage_navigateur"


@pytest.mark.parametrize("value", ["0", "-1", "douze", "nan"])
def test_a_wrong_session_lifetime_fails_loudly(monkeypatch, value: str) -> None:
    monkeypatch.setenv("MAILLAGE_SESSION_HOURS", value)
    with pytest.raises(ValueError, match="MAILLAGE_SESSION_HOURS"):
        settings_mod.from_env()
    monkeypatch.setenv("MAILLAGE_SESSION_HOURS", "8")
    assert settings_mod.from_env().session_hours == 8.0


# --- the routes (ASGI, as served by st.App) -------------------------------------------------

@pytest.fixture()
def routes_env(s: Settings, monkeypatch: pytest.MonkeyPatch):
    """The process settings on ``s``'s store (the routes read them like the server)."""
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", s.database_url)
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("MAILLAGE_SESSION_ROUTES_PID", "")  # restored after app_options()
    settings_mod.get.cache_clear()
    yield s
    settings_mod.get.cache_clear()


def _app():
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from ui import session_routes

    options = session_routes.app_options()
    pages = [Route("/trouver", lambda r: HTMLResponse("<p>page</p>")),
             Route("/data.json", lambda r: JSONResponse({}))]
    return Starlette(routes=options["routes"] + pages, middleware=options["middleware"])


def _get(app, url: str, cookies: dict[str, str] | None = None):
    """One GET through the ASGI app: (status, headers as (name, value) pairs, body)."""
    path, _, query = url.partition("?")
    headers = [(b"host", b"maillage.example")]
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "headers": headers, "root_path": "",
             "client": ("127.0.0.1", 1), "server": ("maillage.example", 80)}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return (start["status"], [(k.decode(), v.decode()) for k, v in start["headers"]],
            body.decode())


def _set_cookies(headers) -> dict[str, dict]:
    """Set-Cookie headers by cookie name: {"value", and each attribute in lower case}."""
    found = {}
    for name, value in headers:
        if name == "set-cookie":
            jar = SimpleCookie()
            jar.load(value)
            for key, morsel in jar.items():
                flags = {k.lower() for k in value.split(";")[1:] if "=" not in k}
                found[key] = {"value": morsel.value, **{k: v for k, v in morsel.items() if v},
                              **{f.strip(): True for f in flags}}
    return found


def _header(headers, name: str) -> str | None:
    return next((v for k, v in headers if k == name), None)


def test_the_signin_route_sets_an_httponly_cookie_and_comes_back(routes_env) -> None:
    s = routes_env
    app = _app()
    now = datetime.now(UTC)
    started = sessions.start(auth.sign_in("alice", PASSWORD, s), s)
    ticket = sessions.signin_handoff(started.token, BROWSER, s)
    from ui.session_routes import signin_url

    status, headers, _ = _get(app, signin_url(ticket, "/trouver?q=Le+Robert"),
                              {sessions.BINDING_COOKIE: BROWSER})
    assert status == 303
    assert _header(headers, "location") == "/trouver?q=Le+Robert"
    assert _header(headers, "cache-control") == "no-store"
    assert _header(headers, "referrer-policy") == "no-referrer"
    cookie = _set_cookies(headers)[sessions.COOKIE]
    assert cookie["httponly"] is True and cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/" and "secure" not in cookie  # the public URL is http here
    remaining = (started.expires_at - now).total_seconds()
    assert abs(int(cookie["max-age"]) - remaining) <= 5
    assert sessions.resolve(cookie["value"], s) == auth.Actor("alice", "federation")
    assert cookie["value"] != started.token

    # the same link again, or with another browser's binding: a French page, no cookie
    again = _get(app, signin_url(ticket, "/trouver"), {sessions.BINDING_COOKIE: BROWSER})
    assert again[0] == 400 and "reconnectez-vous" in again[2]
    assert sessions.COOKIE not in _set_cookies(again[1])


def test_the_signin_route_is_secure_over_https_and_never_leaves_the_site(
        routes_env, monkeypatch) -> None:
    s = routes_env
    monkeypatch.setenv("MAILLAGE_PUBLIC_URL", "https://maillage.example")
    settings_mod.get.cache_clear()
    app = _app()
    binding = f"__Host-{sessions.BINDING_COOKIE}"
    started = sessions.start(auth.Actor("alice", "federation"), s)
    ticket = sessions.signin_handoff(started.token, BROWSER, s)
    status, headers, _ = _get(app, f"/_maillage/connexion?jeton={ticket}"
                              "&suite=https://evil.example/", {binding: BROWSER})
    assert status == 303 and _header(headers, "location") == "/"
    cookie = _set_cookies(headers)[f"__Host-{sessions.COOKIE}"]
    assert cookie["secure"] is True and cookie["httponly"] is True and cookie["path"] == "/"
    assert "domain" not in cookie


def test_the_signout_route_clears_the_cookie_only_with_a_ticket_or_when_it_is_dead(
        routes_env) -> None:
    s = routes_env
    app = _app()
    started = sessions.start(auth.Actor("alice", "federation"), s)
    jar = {sessions.BINDING_COOKIE: BROWSER, sessions.COOKIE: started.token}

    # a forged link (no ticket, or a made-up one) signs nobody out
    for url in ("/_maillage/deconnexion?suite=/trouver",
                f"/_maillage/deconnexion?jeton={sessions.new_token()}&suite=/trouver"):
        status, headers, _ = _get(app, url, jar)
        assert status == 303 and _header(headers, "location") == "/trouver"
        assert sessions.COOKIE not in _set_cookies(headers)
    assert sessions.resolve(started.token, s) is not None

    from ui.session_routes import signout_url

    ticket = sessions.signout_handoff(BROWSER, s)
    status, headers, _ = _get(app, signout_url(ticket, "/trouver"), jar)
    assert status == 303
    cleared = _set_cookies(headers)[sessions.COOKIE]
    assert cleared["value"] == "" and int(cleared["max-age"]) == 0
    assert sessions.resolve(started.token, s) is None

    # a cookie whose session is over is cleared without a ticket
    _, headers, _ = _get(app, "/_maillage/deconnexion", jar)
    assert int(_set_cookies(headers)[sessions.COOKIE]["max-age"]) == 0


def test_every_browser_gets_a_binding_cookie_with_its_first_page(routes_env) -> None:
    app = _app()
    _, headers, _ = _get(app, "/trouver")
    binding = _set_cookies(headers)[sessions.BINDING_COOKIE]
    assert binding["httponly"] is True and binding["samesite"].lower() == "lax"
    assert len(binding["value"]) >= 43 and "max-age" not in binding  # browser session
    _, again, _ = _get(app, "/trouver", {sessions.BINDING_COOKIE: binding["value"]})
    assert sessions.BINDING_COOKIE not in _set_cookies(again)
    _, other, _ = _get(app, "/data.json")  # only HTML pages carry it
    assert sessions.BINDING_COOKIE not in _set_cookies(other)


def test_the_routes_count_as_installed_only_in_the_serving_process(monkeypatch) -> None:
    from ui import session_routes

    monkeypatch.delenv("MAILLAGE_SESSION_ROUTES_PID", raising=False)
    assert not session_routes.installed()  # a bare `streamlit run app.py`
    monkeypatch.setenv("MAILLAGE_SESSION_ROUTES_PID", "")
    session_routes.app_options()
    assert session_routes.installed()
    assert os.environ["MAILLAGE_SESSION_ROUTES_PID"] == str(os.getpid())
    monkeypatch.setenv("MAILLAGE_SESSION_ROUTES_PID", str(os.getpid() + 1))  # a child's view
    assert not session_routes.installed()


# --- the sidebar box (AppTest: no cookie routes, the sign-in stays in the tab) -------------

def _box_script() -> None:
    from ui import signin

    signin.box_for_every_page()


def test_the_box_signs_in_and_out_and_says_when_the_session_ended(routes_env) -> None:
    from streamlit.testing.v1 import AppTest

    s = routes_env
    at = AppTest.from_function(_box_script, default_timeout=60)
    at.run()

    def sign_in() -> None:
        at.sidebar.text_input[0].input("alice")
        at.sidebar.text_input[1].input(PASSWORD)
        next(b for b in at.sidebar.button if b.label == "Se connecter").click()
        at.run()
        assert not at.exception, at.exception
        assert any("Connecté" in c.value for c in at.sidebar.caption)

    def captions() -> str:
        return " ".join(c.value for c in at.sidebar.caption)

    sign_in()
    assert "alice" in captions()
    assert len(_rows(s, WebSession)) == 1  # the tab's sign-in is a session of the store

    # the session ends behind the tab's back (revoked elsewhere): signed out at once
    with db.write_session(s) as session:
        session.execute(delete(WebSession))
    at.run()
    assert "Connecté" not in captions()
    assert [i.value for i in at.sidebar.info] == ["Session expirée, reconnectez-vous."]

    sign_in()
    assert not at.sidebar.info
    _set_user(s, role="epci")  # a new role shows at the next run
    at.run()
    assert f"({auth.ROLE_LABELS['epci']})" in captions(), captions()
    next(b for b in at.sidebar.button if b.label == "Se déconnecter").click()
    at.run()
    assert "Connecté" not in captions() and not at.sidebar.info
    assert _rows(s, WebSession) == []  # revoked
