"""A sign-in survives a reload, in an HttpOnly cookie, until sign-out — in Chromium.

An editor signs in on a page; the page sends the browser through ``/_maillage/connexion``,
which sets the session cookie and comes back to the same page. The cookie is HttpOnly
(``document.cookie`` does not show it), SameSite=Lax, for the whole site and for the
configured lifetime; a reload finds the account again. « Se déconnecter » revokes the
session in the store and clears the cookie through ``/_maillage/deconnexion``; a reload
then shows the public page, and the old cookie put back by hand signs nobody in.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from pathlib import Path

from maillage import auth, db, sessions, settings

PAGE = "trouver"


def _settings(data_dir: Path):
    return replace(settings.from_env(), data_dir=data_dir, database_url="")


def _cookie(page, name: str, present: bool = True, timeout: float = 60) -> dict | None:
    """The browser's cookie ``name`` once it is there (or None once it is gone)."""
    deadline = time.monotonic() + timeout
    while True:
        found = next((c for c in page.context.cookies() if c["name"] == name), None)
        if (found is not None) == present or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_sign_in_survives_a_reload_until_sign_out(page, app_server: str,
                                                    browser_data_dir: Path) -> None:
    s = _settings(browser_data_dir)
    username = f"editrice-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16) + "Aa9!"
    try:
        auth.add_user(username, "federation", password, s)
    finally:
        db.engine(s).dispose()
    name = sessions.cookie_name(s)

    page.goto(f"{app_server}/{PAGE}")
    side = page.locator("[data-testid='stSidebar']")
    side.get_by_label("Compte", exact=True).fill(username)
    side.get_by_label("Mot de passe", exact=True).fill(password)
    with page.expect_response(lambda r: "/_maillage/connexion" in r.url,
                              timeout=90_000) as signin:
        side.get_by_role("button", name="Se connecter").click()
    assert signin.value.status == 303, signin.value.status
    assert signin.value.headers["location"] == f"/{PAGE}"
    page.wait_for_load_state()
    assert page.url == f"{app_server}/{PAGE}"  # back on the same page, no ticket left
    side.get_by_text("Connecté").wait_for()

    cookie = _cookie(page, name)
    assert cookie is not None, page.context.cookies()
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/" and cookie["secure"] is False  # the test server is http
    left = cookie["expires"] - time.time()
    assert abs(left - s.session_hours * 3600) < 300, left
    binding = _cookie(page, sessions.binding_cookie_name(s))
    assert binding is not None and binding["httpOnly"] is True
    seen_by_scripts = page.evaluate("document.cookie")
    assert name not in seen_by_scripts and cookie["value"] not in seen_by_scripts
    try:  # the store knows the cookie's session by its hash only
        assert sessions.resolve(cookie["value"], s) == auth.Actor(username, "federation")
        assert cookie["value"] not in repr(db.dump(s))
    finally:
        db.engine(s).dispose()

    page.reload()
    side.get_by_text("Connecté").wait_for()
    assert username in side.inner_text()
    page.goto(f"{app_server}/isochrones")  # any page, a new Streamlit session each time
    side.get_by_text("Connecté").wait_for()

    with page.expect_response(lambda r: "/_maillage/deconnexion" in r.url,
                              timeout=90_000) as signout:
        side.get_by_role("button", name="Se déconnecter").click()
    assert signout.value.status == 303
    page.wait_for_load_state()
    side.get_by_role("button", name="Se connecter").wait_for()
    assert _cookie(page, name, present=False) is None, page.context.cookies()
    try:
        assert sessions.resolve(cookie["value"], s) is None  # revoked in the store
    finally:
        db.engine(s).dispose()

    page.reload()
    side.get_by_role("button", name="Se connecter").wait_for()
    assert side.get_by_text("Connecté").count() == 0

    # the old cookie, put back by hand, is dead
    page.context.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path",
                                                      "expires", "httpOnly", "secure",
                                                      "sameSite")}])
    page.reload()
    side.get_by_text("Session expirée, reconnectez-vous.").wait_for()
    assert side.get_by_text("Connecté").count() == 0
