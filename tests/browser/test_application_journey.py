"""The label application from start to end, in Chromium, on the running server.

An anonymous visitor applies on « Devenir point numérique » (no account). The place is
then nowhere public — not on the Points numériques map nor in its list, not in « Trouver
un point numérique » — only in the Fédération's queue. A coordinator signs in on
« Candidatures », checks the label's criteria and labels it; without a server restart
(the pages' caches are keyed on the registry's revision) the place is on the public map,
in the list and in the finder, and the message to the applicant is in the outbox.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import expect

from maillage import auth, db
from maillage.registry import applications, store
from tests.browser.conftest import map_frame
from tests.browser.journey_steps import settings_for as _settings
from tests.browser.journey_steps import settle as _settle
from tests.browser.journey_steps import sign_in as _sign_in

#: Longest wait for a page that (re)builds a shared cache (the finder after a label).
SLOW_MS = 240_000
#: Features of the places map whose properties name the place.
COUNT_ON_MAP = """(name) => { let n = 0; window.map.eachLayer(l => {
    if (l.feature && l.feature.properties && l.feature.properties.nom === name) n++; });
    return n; }"""


def _pick(page, scope, label: str, option: str, multi: bool = False) -> None:
    """Choose ``option`` in the selectbox (or multiselect) labelled ``label``: typed, then
    Enter (a click on an option of a long list may land outside the viewport)."""
    box = scope.get_by_label(label, exact=True)
    box.click()
    box.press_sequentially(option, delay=10)
    page.get_by_role("option", name=option, exact=True).wait_for()
    page.keyboard.press("Enter")
    if multi:  # a multiselect stays open
        page.keyboard.press("Escape")


def _on_public_map(page, app_server: str, name: str) -> tuple[int, str]:
    """(markers named ``name`` on the whole public map, the list's count after a search)."""
    page.goto(f"{app_server}/points_numeriques")
    page.get_by_text("lieux affichés").first.wait_for(timeout=SLOW_MS)
    _settle(page)
    frame = map_frame(page)
    markers = frame.evaluate(COUNT_ON_MAP, name)
    search = page.get_by_label("Rechercher un nom")
    search.fill(name)
    search.press("Enter")
    line = page.get_by_text(re.compile(r"^[01] lieu affiché sur \d+")).first  # searched
    line.wait_for(timeout=60_000)
    _settle(page)
    return markers, line.inner_text()


def _in_finder(page, app_server: str, name: str) -> list[str]:
    """The titles (« 1. Nom ») of the places « Trouver » answers for a search of ``name``."""
    page.goto(f"{app_server}/trouver?q={quote(name)}")
    page.locator(".trouver-card, [data-testid='stAlert']").first.wait_for(timeout=SLOW_MS)
    _settle(page)
    return [h.inner_text() for h in page.locator(".trouver-card h3").all()]


def test_an_anonymous_application_is_reviewed_labelled_and_then_public(
        page, app_server: str, browser_data_dir: Path) -> None:
    journey(page, app_server, _settings(browser_data_dir))


def journey(page, app_server: str, s) -> None:
    """The whole journey on the server at ``app_server`` whose store is that of ``s``."""
    username = f"coordinatrice-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16) + "Aa9!"
    name = f"Cafe Candidat {secrets.token_hex(3)}"
    email = f"gerant-{secrets.token_hex(3)}@exemple.fr"
    try:
        auth.add_user(username, "federation", password, s)
        places_before = {r["id"] for r in store.rows(s)}
    finally:
        db.engine(s).dispose()

    # --- an anonymous visitor applies (the home page leads there)
    page.goto(app_server)
    page.get_by_role("link", name=re.compile("Devenez point numérique")).click()
    page.get_by_role("heading", name="Devenir point numérique").wait_for(timeout=SLOW_MS)
    expect(page.get_by_text(applications.CRITERIA[0][1])).to_be_visible()
    form = page.locator("[data-testid='stForm']").filter(has_text="Votre lieu")
    form.get_by_label("Nom du lieu", exact=True).fill(name)
    _pick(page, form, "Type de lieu", "café")
    form.get_by_label("Adresse", exact=True).fill("12 rue Victor Hugo")
    _pick(page, form, "Commune", "Fort-de-France")
    _pick(page, form, "Services proposés", "Accès internet et matériel informatique",
          multi=True)
    form.get_by_label("Votre nom", exact=True).fill("Gérant du café")
    form.get_by_label("Votre courriel", exact=True).fill("pas-une-adresse")
    form.get_by_text("J'accepte que la Fédération").click()
    form.get_by_role("button", name="Envoyer ma candidature").click()
    # a mistake is said in French and nothing typed is lost
    expect(page.get_by_text(re.compile("La candidature est refusée"))).to_be_visible(
        timeout=SLOW_MS)
    expect(page.get_by_text(re.compile("n'est pas une adresse électronique"))).to_be_visible()
    expect(form.get_by_label("Nom du lieu", exact=True)).to_have_value(name)
    form.get_by_label("Votre courriel", exact=True).fill(email)
    form.get_by_role("button", name="Envoyer ma candidature").click()
    done = page.get_by_text(re.compile(r"Candidature enregistrée, merci ! Votre référence : "
                                       r"CAND-[0-9A-F]{8}"))
    done.wait_for(timeout=SLOW_MS)
    ref = re.search(r"CAND-[0-9A-F]{8}", done.inner_text()).group()
    expect(page.get_by_text(re.compile("n'apparaît ni sur la carte publique"))).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    try:
        filed = {a["ref"]: a for a in applications.list_applications(
            auth.Actor("test", "admin"), s)}[ref]
        assert filed["nom"] == name and filed["status"] == "candidat"
        assert filed["place"]["coord_source"] == "adresse géocodée"
        assert {r["id"] for r in store.rows(s)} == places_before  # not in the registry
    finally:
        db.engine(s).dispose()

    # --- nowhere public: not on the map, not in the list, not in the finder
    markers, line = _on_public_map(page, app_server, name)
    assert markers == 0 and line.startswith("0 "), (markers, line)
    assert not [t for t in _in_finder(page, app_server, name) if name in t]

    # --- the coordinator finds it in the queue, checks the criteria and labels it
    page.goto(f"{app_server}/candidatures")
    expect(page.get_by_text("réservée à la Fédération")).to_be_visible(timeout=SLOW_MS)
    _sign_in(page, username, password)
    queue = page.locator("[data-testid='stDataFrame']").first
    queue.wait_for(timeout=SLOW_MS)
    _pick(page, page, "Candidature à examiner", f"{ref} — {name} (Fort-de-France)")
    _settle(page)
    expect(page.locator("[data-testid='stTable']").first).to_contain_text(email)
    decision = page.locator("[data-testid='stForm']").filter(has_text="Critères du label")
    for _, label in applications.CRITERIA:
        decision.get_by_text(label, exact=True).click()
    decision.get_by_text("labellisé", exact=True).click()
    decision.get_by_label(re.compile("Message au candidat")).fill("Bienvenue dans le réseau !")
    decision.get_by_role("button", name="Enregistrer la décision").click()
    page.get_by_text(re.compile(f"Décision enregistrée pour {ref} : labellisé")).wait_for(
        timeout=SLOW_MS)
    expect(page.get_by_text(re.compile("est ajouté au registre"))).to_be_visible()
    page.get_by_role("tab", name="Messages à envoyer").click()
    outbox = page.locator("[data-testid='stDataFrame']").last
    expect(outbox).to_be_visible()
    try:
        mails = [m for m in applications.outbox(auth.Actor("test", "admin"), s)
                 if m["application"] == ref]
        added = [r for r in store.rows(s) if r["id"] not in places_before]
        steps = applications.history(auth.Actor("test", "admin"), ref, s)
    finally:
        db.engine(s).dispose()
    assert len(mails) == 1 and mails[0]["recipient"] == email
    assert mails[0]["status"] == "à envoyer" and "Bienvenue dans le réseau !" in mails[0]["body"]
    assert [(a["nom"], a["label_status"]) for a in added] == [(name, "labellisé")]
    assert [(h["by"], h["to"]) for h in steps] == [("public", "candidat"),
                                                   (username, "labellisé")]

    # --- now public, without a restart: on the map, in the list, in the finder
    markers, line = _on_public_map(page, app_server, name)
    assert markers == 1 and line.startswith("1 lieu affiché"), (markers, line)
    found = _in_finder(page, app_server, name)
    assert len([t for t in found if name in t]) == 1, found
