"""A planner on « Couverture » (desktop, real data): a click inside a white zone adds a point,
the page says how many people it covers, and the tables download for French Excel."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
from pyproj import Transformer
from shapely.geometry import Point

from analysis import coverage
from maillage import settings
from maillage.services.coverage import CoverageRequest, CoverageService
from tests.browser.conftest import _local_only, map_frame

#: The map's Leaflet object and the page position of a (lat, lon) after centring on it.
PROJECT = """([lat, lon]) => {
  const m = Object.keys(window).map(k => window[k]).find(v => v instanceof L.Map);
  m.setView([lat, lon], 15, {animate: false});
  const p = m.latLngToContainerPoint([lat, lon]);
  const r = m.getContainer().getBoundingClientRect();
  return [r.left + p.x, r.top + p.y];
}"""


def _target(data_dir: Path) -> tuple[float, float, object]:
    """Where to click: the centre of the most populated cell of the largest white zone
    the service finds for the page's default request, and that zone's outline."""
    s = replace(settings.from_env(), data_dir=data_dir, database_url="")
    res = CoverageService.load(s).run(CoverageRequest(
        mode="walk", minutes=coverage.DEFAULT_MINUTES["walk"], zone_minutes=15.0,
        by_commune=True))
    assert len(res.zones)
    in_zone = np.flatnonzero(res.zone_of == 1)
    best = in_zone[np.argmax(res.demand["population"].to_numpy()[in_zone])]
    x, y = res.demand[["x", "y"]].to_numpy()[best]
    lon, lat = Transformer.from_crs(settings.CRS_MEASURE, settings.CRS_STORE,
                                    always_xy=True).transform(x, y)
    zone = res.zones.loc[res.zones["zone"] == 1].geometry.iloc[0]
    return lon, lat, zone


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def test_click_inside_a_white_zone_adds_a_point_and_tables_export_for_excel(
        browser, app_server: str, browser_data_dir: Path) -> None:
    lon, lat, zone = _target(browser_data_dir)
    assert zone.contains(Point(lon, lat))  # the click lands inside a white zone

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                  accept_downloads=True)
    context.route("**/*", _local_only)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        pg.goto(f"{app_server}/couverture")
        pg.locator("p", has_text="Zones blanches aujourd'hui").first.wait_for(timeout=240_000)
        frame = map_frame(pg)
        frame.wait_for_function("document.querySelectorAll('path.zone-blanche').length > 0")

        # click mode: the zones stop taking clicks (no popup), so the map gets them
        pg.get_by_text("Ajouter en cliquant sur la carte", exact=True).click()
        pg.get_by_text(re.compile("Cliquez n'importe où sur la carte")).wait_for()
        frame = map_frame(pg)
        frame.wait_for_function(
            "document.querySelectorAll('path.zone-blanche').length > 0 && "
            "document.querySelectorAll('path.zone-blanche.leaflet-interactive').length === 0")
        iframe = pg.locator("iframe[title*='streamlit_folium']").first
        iframe.scroll_into_view_if_needed()
        x, y = frame.evaluate(PROJECT, [lat, lon])
        box = iframe.bounding_box()
        assert 0 < x < box["width"] and 0 < y < box["height"]
        pg.mouse.click(box["x"] + x, box["y"] + y)

        # the what-if: the point is listed where it was clicked, and it covers people
        effect = pg.get_by_role("heading", name="Effet des hypothèses")
        effect.wait_for(timeout=240_000)
        added = pg.get_by_text(re.compile(r"^Points ajoutés : Point 1")).inner_text()
        got = [float(v.replace(",", ".")) for v in re.findall(r"-?\d+,\d+", added)]
        assert abs(got[0] - lon) < 2e-3
        assert abs(got[1] - lat) < 2e-3
        gain = pg.get_by_text(re.compile("habitants nouvellement couverts")).inner_text()
        assert _number(gain.split("habitants nouvellement")[0].split(":")[-1]) > 0

        # the tables for French Excel: « ; », decimal commas, the scenario in the name
        with pg.expect_download() as dl:
            pg.get_by_role("button", name="Télécharger les tableaux (CSV pour Excel)").click()
        download = dl.value
        assert download.suggested_filename == (
            "couverture_a-pied_10-15-20-30min_habitants_avec-1-point-ajoute.csv")
        raw = Path(download.path()).read_bytes()
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""),
                               delimiter=";"))
        header, body = rows[0], rows[1:]
        assert header[0] == "Territoire" and len(body) > 34 and all(len(r) == len(header)
                                                                    for r in body)
        share = header.index("Habitants à 15 min ou moins (%)")
        values = [r[share] for r in body if r[share]]
        assert all(re.fullmatch(r"\d+(,\d)?", v) for v in values), values[:5]
        assert any("," in v for v in values)
        people = header.index("Habitants")
        assert all(r[people].isdigit() for r in body)  # whole numbers of people
    finally:
        context.close()
