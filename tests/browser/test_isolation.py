"""Two visitors at once on the same server never see each other's what-ifs, filters or search.

Each visitor is its own Playwright browser context (own cookies, own Streamlit session),
both open at the same time on the one server of the test session. Visitor A changes
something; visitor B, loading the same page meanwhile, must see none of it; then B does
something of its own, and A, after a rerun, still sees exactly its own state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from geo import addresses, supply
from maillage import db, settings
from maillage.finder import Finder
from maillage.registry import store
from tests.browser.conftest import _local_only, map_frame

#: Outline colour of the commune choropleth (geo.choropleth.commune_layer).
COMMUNE_STROKE = "#333333"


def _context(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    context.route("**/*", _local_only)
    pg = context.new_page()
    pg.set_default_timeout(180_000)
    return context, pg


@pytest.fixture()
def two_visitors(browser, app_server: str) -> Iterator[tuple]:
    """Two pages in two separate browser contexts (two visitors), open at the same time."""
    ctx_a, a = _context(browser)
    ctx_b, b = _context(browser)
    yield a, b
    ctx_a.close()
    ctx_b.close()


def _settings(data_dir: Path) -> settings.Settings:
    return replace(settings.from_env(), data_dir=data_dir, database_url="")


def _coverage_ready(pg) -> None:
    """The coverage page has run to its end and its choropleth is drawn."""
    pg.locator("p", has_text="Zones blanches aujourd'hui").first.wait_for()
    frame = map_frame(pg)
    frame.wait_for_function(
        f"document.querySelectorAll(\"path[stroke='{COMMUNE_STROKE}']\").length >= 34")


def _pick(pg, label: str, option: str) -> None:
    """Choose ``option`` in the Streamlit select box labelled ``label`` (typed: lists scroll)."""
    pg.get_by_label(label).click()
    pg.keyboard.type(option)
    pg.get_by_role("option", name=option, exact=True).click()


def _added_caption(pg) -> str:
    """Text of the « Points ajoutés » caption ('' when the visitor added nothing)."""
    cap = pg.get_by_text(re.compile(r"^Points ajoutés :"))
    return cap.first.inner_text() if cap.count() else ""


def test_whatif_points_stay_in_their_session(two_visitors, app_server: str,
                                             browser_data_dir: Path) -> None:
    a, b = two_visitors
    halls = supply.mairies(_settings(browser_data_dir)).sort_values("commune")["name"].tolist()
    hall_a, hall_b = halls[0], halls[-1]
    assert hall_a != hall_b

    a.goto(f"{app_server}/couverture")
    _coverage_ready(a)
    _pick(a, "Ajouter une mairie comme point", hall_a)
    a.get_by_role("button", name="Ajouter ce point").click()
    # B opens the page while A's what-if is being computed
    b.goto(f"{app_server}/couverture")
    a.get_by_role("heading", name="Effet des hypothèses").wait_for()
    assert hall_a in _added_caption(a)

    _coverage_ready(b)
    assert _added_caption(b) == ""
    assert b.get_by_role("heading", name="Effet des hypothèses").count() == 0
    assert hall_a not in b.inner_text("body")

    # B adds its own point: it sees its point only
    _pick(b, "Ajouter une mairie comme point", hall_b)
    b.get_by_role("button", name="Ajouter ce point").click()
    b.get_by_role("heading", name="Effet des hypothèses").wait_for()
    b.get_by_text(re.compile(r"^Points ajoutés :")).first.wait_for()
    assert hall_b in _added_caption(b) and hall_a not in _added_caption(b)

    # A reruns (another share shown): still its own point, never B's
    _pick(a, "Part affichée par commune", "65 ans et plus")
    a.locator(".maillage-legend", has_text="65 ans et plus à").first.wait_for()
    a.get_by_role("heading", name="Effet des hypothèses").wait_for()
    caption = _added_caption(a)
    assert hall_a in caption and hall_b not in caption


def _search(pg, text: str) -> None:
    """Type ``text`` in the finder, tap the first suggestion and wait for the results."""
    box = pg.get_by_role("searchbox", name="Votre adresse")
    box.click()
    box.fill(text)
    sugg = pg.locator(".st-key-trouver-sugg button").first
    sugg.wait_for()
    sugg.click()
    pg.locator(".trouver-card").first.wait_for()
    pg.wait_for_function("new URLSearchParams(location.search).get('q')")


def _query(pg) -> str:
    return parse_qs(urlparse(pg.url).query).get("q", [""])[0]


def test_finder_search_stays_in_its_session(two_visitors, app_server: str,
                                            browser_data_dir: Path) -> None:
    a, b = two_visitors
    s = _settings(browser_data_dir)
    sample = addresses.random_sample(addresses.load(s), 40, seed=10)
    finder = Finder.load(s)
    # two real addresses the finder recognises, in two different communes
    first = {q: finder.suggest(q, limit=6) for q in sample["query"]}
    usable = [q for q, hits in first.items() if hits]
    q_a = usable[0]
    label_a = first[q_a][0].label  # what the page offers first, by the same finder
    q_b = next(q for q in usable[1:] if first[q][0].label != label_a)
    label_b = first[q_b][0].label

    a.goto(f"{app_server}/trouver")
    b.goto(f"{app_server}/trouver")  # both visitors on the finder at once
    a.get_by_role("searchbox", name="Votre adresse").wait_for()
    _search(a, q_a)
    assert _query(a) == label_a

    # B, on the same page meanwhile: empty box, no results, no query in its URL
    b.reload()
    b.get_by_role("searchbox", name="Votre adresse").wait_for()
    map_frame(b)
    b.get_by_text("Touchez la carte pour chercher autour").first.wait_for()
    assert b.get_by_role("searchbox", name="Votre adresse").input_value() == ""
    assert b.locator(".trouver-card").count() == 0
    assert _query(b) == ""
    assert label_a not in b.inner_text("body")

    # B searches its own address; A's answer is untouched after a rerun of A
    _search(b, q_b)
    assert _query(b) == label_b and label_a not in b.inner_text("body")
    a.get_by_role("button", name="Voir le détail et l'itinéraire").first.click()
    a.get_by_role("button", name="Fermer le détail").wait_for()
    assert _query(a) == label_a
    assert a.get_by_role("searchbox", name="Votre adresse").input_value() == label_a
    body = a.inner_text("body")
    assert label_a in body and label_b not in body


def _shown(pg) -> tuple[int, int]:
    """(places shown, places in the registry) from « **n lieux affichés** sur N. »."""
    text = pg.get_by_text(re.compile(r"lieux? affichés? sur")).first.inner_text()
    n, total = re.search(r"(\d+)\s*lieux? affichés? sur\s*(\d+)", text).groups()
    return int(n), int(total)


def test_places_filter_stays_in_its_session(two_visitors, app_server: str,
                                            browser_data_dir: Path) -> None:
    a, b = two_visitors
    s = _settings(browser_data_dir)
    try:
        names = store.places_frame(s, public=True)["nom"]
    finally:
        db.engine(s).dispose()
    total = len(names)
    # a word of the names that keeps some places and hides others
    words = sorted({w for n in names for w in re.findall(r"\w{5,}", n)})
    counts = {w: int(names.str.contains(w, case=False, regex=False).sum()) for w in words}
    word = max((w for w in words if 0 < counts[w] < total), key=lambda w: (counts[w], w))
    expected = counts[word]

    a.goto(f"{app_server}/points_numeriques")
    a.get_by_text("lieux affichés").first.wait_for()
    box = a.get_by_label("Rechercher un nom")
    box.fill(word)
    box.press("Enter")
    b.goto(f"{app_server}/points_numeriques")  # B loads while A's filter runs
    a.get_by_text(re.compile(rf"^{expected}\s*lieux? affichés? sur")).first.wait_for()
    assert _shown(a) == (expected, total)

    b.get_by_text("lieux affichés").first.wait_for()
    map_frame(b)
    assert _shown(b) == (total, total)
    assert b.get_by_label("Rechercher un nom").input_value() == ""

    # B filters on a name of its own; A reruns (opens a detail) and keeps its filter
    b_box = b.get_by_label("Rechercher un nom")
    b_box.fill("zzzz-aucun-lieu")
    b_box.press("Enter")
    b.get_by_text(re.compile(r"^0\s*lieu affiché")).first.wait_for()
    a.get_by_label("Fiche détaillée").click()
    a.keyboard.type(word)
    a.get_by_role("option", name=re.compile(re.escape(word), re.I)).first.click()
    a.locator("[data-testid='stTable']").first.wait_for()
    assert _shown(a) == (expected, total)
    assert a.get_by_label("Rechercher un nom").input_value() == word
