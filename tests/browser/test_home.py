"""The home page opens in a real browser with the 34 communes drawn, offline."""

from __future__ import annotations

from pathlib import Path

from geo import communes
from maillage import settings
from tests.browser.conftest import map_frame

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_home_map_draws_every_commune(page, app_server: str, monkeypatch,
                                      browser_data_dir: Path) -> None:
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(browser_data_dir))
    remote: list[str] = []
    page.on("requestfailed", lambda r: remote.append(r.url))
    page.goto(app_server)
    page.get_by_text("la médiation numérique de proximité en Martinique").wait_for()
    frame = map_frame(page)
    frame.wait_for_function(
        "document.querySelectorAll('path.leaflet-interactive').length >= 34"
    )
    shapes = frame.eval_on_selector_all("path.leaflet-interactive", "els => els.length")
    assert shapes == len(communes.load(settings.from_env()))
    attribution = frame.inner_text(".leaflet-control-attribution")
    assert "OpenStreetMap" in attribution
    # Leaflet came from the app itself: no script or stylesheet request left 127.0.0.1.
    assert not [u for u in remote if u.endswith((".js", ".css"))]
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "accueil.png"), full_page=False)
