"""The public on a phone (375 × 812, touch): from the home page to the nearest help for an
address in two taps, then the way there in the phone's own maps app or OpenStreetMap."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from geo import addresses
from maillage import settings
from tests.browser.pages_walk import wait_settled

TYPED = "12 rue Victor Hugo Fort-de-France"
PHONE_HEIGHT = 812


def _address_point(data_dir: Path) -> tuple[float, float]:
    """Where the address file puts « 12 Rue Victor Hugo, Fort-de-France » (lon, lat)."""
    s = replace(settings.from_env(), data_dir=data_dir, database_url="")
    a = addresses.load(s)
    row = a[(a["numero"] == "12") & (a["voie"] == "Rue Victor Hugo")
            & (a["nom_comm"] == "Fort-de-France")].iloc[0]
    return float(row["lon"]), float(row["lat"])


def _no_horizontal_scroll(pg) -> bool:
    return pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_home_to_results_in_two_taps_then_directions(phone_page, app_server: str,
                                                     browser_data_dir: Path) -> None:
    pg = phone_page
    pg.goto(app_server)
    box = pg.get_by_role("textbox", name="Votre adresse, votre rue ou votre commune")
    box.wait_for()
    wait_settled(pg)  # measured once drawn with the page's own styles
    search = pg.get_by_role("button", name="Chercher")
    # the public's entry is above the fold on the phone
    for element in (pg.get_by_text("Trouver un point numérique près de chez moi"), box, search):
        bb = element.bounding_box()
        assert bb is not None and bb["y"] >= 0 and bb["y"] + bb["height"] <= PHONE_HEIGHT
    assert search.bounding_box()["height"] >= 44  # a big touch target

    box.tap()  # tap 1
    pg.keyboard.type(TYPED, delay=20)
    search.tap()  # tap 2
    pg.wait_for_url(re.compile(r"/trouver\?"))
    pg.get_by_text(re.compile(r"lieux les plus proches")).wait_for(timeout=180_000)
    assert parse_qs(urlparse(pg.url).query)["q"] == [TYPED]
    wait_settled(pg)  # the heading comes before the last cards are drawn
    cards = pg.locator(".trouver-card")
    assert 3 <= cards.count() <= 5
    assert pg.get_by_text(re.compile(r"^Depuis 12 Rue Victor Hugo, 97200 Fort-de-France")
                          ).count() == 1
    assert _no_horizontal_scroll(pg)

    # the detail of the nearest place: directions from the address to the place
    pg.get_by_role("button", name="Voir le détail et l'itinéraire").first.tap()
    pg.get_by_role("button", name="Fermer le détail").wait_for()
    links = pg.locator(".trouver-actions a")
    links.first.wait_for()
    hrefs = [a.get_attribute("href") for a in links.all()]
    geo = [h for h in hrefs if h.startswith("geo:")]
    osm = [h for h in hrefs if h.startswith("https://www.openstreetmap.org/directions?")]
    assert len(geo) == 1 and len(osm) == 2
    m = re.fullmatch(r"geo:(-?[\d.]+),(-?[\d.]+)\?q=\1,\2\((.+)\)", geo[0])
    assert m, geo[0]
    name = unquote(m.group(3))
    assert name == cards.first.locator("h3").inner_text().split(". ", 1)[1]
    engines = set()
    lon0, lat0 = _address_point(browser_data_dir)
    for url in osm:
        q = parse_qs(urlparse(url).query)
        engines.add(q["engine"][0])
        start, end = (tuple(map(float, p.split(","))) for p in q["route"][0].split(";"))
        assert start == (round(lat0, 6), round(lon0, 6))  # from the address asked for
        assert end == (float(m.group(1)), float(m.group(2)))  # to the place
    assert engines == {"fossgis_osrm_foot", "fossgis_osrm_car"}
    for a in links.all():
        assert a.bounding_box()["height"] >= 44
    assert _no_horizontal_scroll(pg)


def test_nothing_found_offers_the_names_of_the_commune(phone_page, app_server: str) -> None:
    pg = phone_page
    pg.goto(f"{app_server}/trouver?q=Zzyzx%20Qwerty%20Le%20Pr%C3%AAcheur")
    pg.get_by_text("Adresse introuvable").first.wait_for(timeout=180_000)
    pg.get_by_text("Rues et lieux au Prêcheur").first.wait_for()
    commune = pg.get_by_role("button", name=re.compile(r"^Le Prêcheur \(commune\)"))
    assert "Départ : mairie du Prêcheur" in commune.inner_text()
    commune.tap()
    pg.get_by_text(re.compile(r"lieux les plus proches")).wait_for()
    pg.get_by_text("Départ : mairie du Prêcheur.").first.wait_for()
    assert parse_qs(urlparse(pg.url).query)["q"] == ["Le Prêcheur (commune)"]
