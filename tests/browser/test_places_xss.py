"""A place named like an HTML injection shows as plain text in its popup; no script runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from maillage import auth, db, settings
from maillage.registry import store
from tests.browser.conftest import map_frame
from tests.registry_fixtures import row

NAME = "<img src=x onerror=alert(1)>"


def test_place_name_is_plain_text_in_popup(page, app_server: str,
                                           browser_data_dir: Path) -> None:
    s = replace(settings.from_env(), data_dir=browser_data_dir, database_url="")
    admin = auth.Actor("test", "admin")
    try:
        store.save_place(admin, row(id="xss-1", nom=NAME, latitude="14.6065",
                                    longitude="-61.0695"), None, s)
    finally:
        db.engine(s).dispose()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{app_server}/points_numeriques")
    page.get_by_text("lieux affichés").wait_for()
    map_frame(page)
    search = page.get_by_label("Rechercher un nom")
    search.click()
    search.fill("onerror")
    search.press("Enter")
    page.get_by_text("1 lieu affiché sur", exact=False).wait_for()
    page.wait_for_timeout(3000)  # let streamlit-folium replace the map of the previous run
    page.screenshot(path=str(browser_data_dir / "points.png"))
    frame = map_frame(page)
    frame.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length >= 1")
    markers = frame.locator("path.leaflet-interactive")
    markers.last.click(force=True)
    popup = frame.locator(".leaflet-popup-content .place-name")
    popup.wait_for()
    assert popup.inner_text() == NAME  # shown as text, not parsed as an element
    assert frame.locator(".leaflet-popup-content img").count() == 0
    assert frame.evaluate("window.__xss === undefined")
    page.wait_for_timeout(500)
    assert dialogs == []  # alert(1) never ran
