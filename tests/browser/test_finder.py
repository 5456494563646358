"""« Trouver un point numérique » on a phone (375 × 812): type, pick, read, open, share."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import map_frame

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TYPED = "12 rue victr hugo fort de france"  # a typo on purpose
PICK = re.compile(r"^12 Rue Victor Hugo, 97200 Fort-de-France")
#: Scroll an element to the top of Streamlit's scrolling container, below its header.
SCROLL_UNDER_HEADER = """e => {
  e.scrollIntoView({block: 'start'});
  let p = e.parentElement;
  while (p && p.scrollHeight <= p.clientHeight) p = p.parentElement;
  if (p) p.scrollBy(0, -70);
}"""


def _no_horizontal_scroll(pg) -> bool:
    return pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_phone_search_pick_results_open_and_share(phone_page, app_server: str) -> None:
    pg = phone_page
    pg.goto(f"{app_server}/trouver")
    box = pg.get_by_role("searchbox", name="Votre adresse")
    box.wait_for()

    # suggestions appear while typing (no Enter needed)
    box.click()
    box.press_sequentially(TYPED, delay=30)
    suggestion = pg.get_by_role("button", name=PICK).first
    suggestion.wait_for()
    size = suggestion.bounding_box()
    assert size is not None and size["height"] >= 44 and size["width"] >= 300  # big targets
    suggestion.tap()

    # results: ranked places with walking and driving times
    pg.get_by_text(re.compile(r"lieux les plus proches")).wait_for()
    cards = pg.locator(".trouver-card")
    cards.first.wait_for()
    n = cards.count()
    assert 3 <= n <= 5
    walk = [int(m) for m in re.findall(r"À pied : (\d+) min", pg.inner_text("body"))]
    assert len(walk) == n and walk == sorted(walk)
    assert pg.get_by_text(re.compile(r"En voiture : \d+ min")).count() == n
    assert _no_horizontal_scroll(pg)
    query = parse_qs(urlparse(pg.url).query)
    assert PICK.match(query["q"][0])

    # open the second place: its details, and the route on the map
    opened = cards.nth(1).locator("h3").inner_text()
    pg.get_by_role("button", name="Voir le détail et l'itinéraire").nth(1).tap()
    pg.get_by_role("button", name="Fermer le détail").wait_for()
    assert pg.get_by_text("Horaires", exact=True).count() >= 1
    assert pg.get_by_text("Accessibilité", exact=True).count() >= 1
    frame = map_frame(pg)
    frame.wait_for_selector("path.trouver-route")
    assert "lieu" in parse_qs(urlparse(pg.url).query)
    assert _no_horizontal_scroll(pg)
    pg.locator(".trouver-card").nth(1).evaluate(SCROLL_UNDER_HEADER)
    pg.wait_for_timeout(1000)
    DOCS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(DOCS / "trouver-telephone.png"), full_page=False)

    # the link opens the same answer, with the same place open
    shared = pg.url
    pg.goto("about:blank")
    pg.goto(shared)
    pg.get_by_role("button", name="Fermer le détail").wait_for()
    assert opened in [h.inner_text() for h in pg.locator(".trouver-card h3").all()]
    assert pg.locator(".trouver-detail").count() >= 1
    map_frame(pg).wait_for_selector("path.trouver-route")


def test_phone_unknown_address_says_so(phone_page, app_server: str) -> None:
    pg = phone_page
    pg.goto(f"{app_server}/trouver?q=xyzzy%20qwerty")
    pg.get_by_text("Adresse introuvable").wait_for()
    pg.goto(f"{app_server}/trouver?at=-60.85,14.60")
    pg.get_by_text(re.compile("est en mer")).wait_for()


def test_user_text_is_escaped(phone_page, app_server: str) -> None:
    pg = phone_page
    pg.goto(f"{app_server}/trouver?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    pg.get_by_text("Adresse introuvable").wait_for()
    assert "<img src=x onerror=alert(1)>" in pg.inner_text("body")
    assert pg.locator("img[src='x']").count() == 0
