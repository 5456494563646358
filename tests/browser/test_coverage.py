"""The coverage page draws the commune choropleth and the white zones, with escaped popups."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from analysis import coverage
from geo import communes
from maillage import settings
from maillage.services.coverage import CoverageRequest, CoverageService
from tests.browser.conftest import map_frame

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: Outline colour of the commune choropleth (geo.choropleth.commune_layer).
COMMUNE_STROKE = "#333333"


def test_coverage_page_draws_choropleth_and_white_zones(page, app_server: str,
                                                        browser_data_dir: Path) -> None:
    s = replace(settings.from_env(), data_dir=browser_data_dir, database_url="")
    # what the service finds for the page's default request: walk, zones beyond 15 min cut
    # at commune limits
    expected = CoverageService.load(s).run(CoverageRequest(
        mode="walk", minutes=coverage.DEFAULT_MINUTES["walk"], zone_minutes=15.0,
        by_commune=True))
    n_zones = len(expected.zones)
    assert n_zones > 0
    page.goto(app_server)
    page.get_by_role("link", name="Couverture").click()
    heading = page.locator("p", has_text="Zones blanches aujourd'hui").first
    heading.wait_for(timeout=180_000)
    shown = int(re.search(r"\((\d+),", heading.inner_text()).group(1))
    assert shown == n_zones
    frame = map_frame(page)
    frame.wait_for_function(
        f"document.querySelectorAll(\"path[stroke='{COMMUNE_STROKE}']\").length >= 34")
    shaded = frame.eval_on_selector_all(f"path[stroke='{COMMUNE_STROKE}']", "els => els.length")
    assert shaded == len(communes.load(s))
    frame.wait_for_function("document.querySelectorAll('path.zone-blanche').length > 0")
    assert frame.eval_on_selector_all("path.zone-blanche", "els => els.length") == n_zones
    # the legend of the choropleth is drawn under the map
    assert page.locator(".maillage-legend").first.inner_text().startswith("Habitants à 15 min")
    # open the popup of a white zone: the layer whose features carry the zone fields
    opened = frame.evaluate("""() => {
        // every Leaflet map of the frame (folium names them map_…), every layer on it —
        // the static ones and those streamlit-folium adds as dynamic feature groups
        for (const k of Object.keys(window)) {
            const map = window[k];
            if (!/^map_/.test(k) || !map || !map.eachLayer) continue;
            let zone = null;
            map.eachLayer(l => {
                if (!zone && l.feature && l.feature.properties
                        && 'communes' in l.feature.properties && l.getPopup && l.getPopup()) {
                    zone = l;
                }
            });
            if (zone) { zone.openPopup(); return true; }
        }
        return false;
    }""")
    assert opened
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "Zone blanche" in text and "Habitants" in text and "Communes" in text
    page.locator("iframe[title*='streamlit_folium']").first.scroll_into_view_if_needed()
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "couverture.png"), full_page=False)
