"""The coordinator's place journey on Points numériques, in Chromium, from start to end.

A Fédération account signs in, places a new, private place by clicking the map, types
its phone as people write it (« 0596 52 00 00 ») and no SIRET, saves it, labels it, and
sees it at once — in the detail, the label history and the list — without reloading.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import expect

from maillage import auth, db, settings
from maillage.registry import standard, store
from tests.browser.conftest import map_frame


def _settings(data_dir: Path):
    return replace(settings.from_env(), data_dir=data_dir, database_url="")


def _quiet_spot(s) -> tuple[float, float]:
    """(lat, lon) inside a commune and as far as can be from every place of the registry
    (a click there lands on the map, not on a marker)."""
    import numpy as np

    from geo import communes
    from maillage.settings import CRS_MEASURE, CRS_STORE

    inside = communes.load(s).to_crs(CRS_MEASURE).representative_point()
    places = store.places_frame(s).to_crs(CRS_MEASURE).geometry
    places = places[~(places.isna() | places.is_empty)]
    far = int(np.argmax([places.distance(p).min() for p in inside]))
    spot = inside.iloc[[far]].to_crs(CRS_STORE).iloc[0]
    return spot.y, spot.x


def _settle(page) -> None:
    """Wait until Streamlit has finished its current run (no « Running » indicator)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
        ".includes('Running')", timeout=120_000)


def _click_map(page, lat: float, lon: float, filled) -> None:
    """Click the map at (lat, lon) until the form shows the point (``filled``).

    The map is drawn again after the sign-in (the editor's map returns its clicks); a
    click on the copy being replaced is lost, so it is repeated on the new one.
    """
    for _attempt in range(3):
        _settle(page)
        frame = map_frame(page)
        x, y = frame.evaluate("([lat, lon]) => { const p = window.map"
                              ".latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
                              [lat, lon])
        frame.locator(".leaflet-container").click(position={"x": x, "y": y})
        try:
            expect(filled).not_to_have_value("", timeout=20_000)
            return
        except AssertionError:
            continue
    expect(filled).not_to_have_value("")


def _sign_in(page, username: str, password: str) -> None:
    side = page.locator("[data-testid='stSidebar']")
    side.get_by_label("Compte", exact=True).fill(username)
    side.get_by_label("Mot de passe", exact=True).fill(password)
    side.get_by_role("button", name="Se connecter").click()
    side.get_by_text("Connecté").wait_for()


def test_a_coordinator_adds_a_place_from_the_map_and_labels_it(page, app_server: str,
                                                                browser_data_dir: Path) -> None:
    s = _settings(browser_data_dir)
    username = f"coordinatrice-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16) + "Aa9!"
    name = f"Atelier privé {secrets.token_hex(3)}"
    try:
        auth.add_user(username, "federation", password, s)
        before = {r["id"] for r in store.rows(s)}
        lat, lon = _quiet_spot(s)
    finally:
        db.engine(s).dispose()

    page.goto(f"{app_server}/points_numeriques")
    page.get_by_text("lieux affichés").first.wait_for()
    _sign_in(page, username, password)
    page.get_by_role("tab", name="Ajouter / modifier").click()
    form = page.locator("[data-testid='stForm']").filter(has_text="SIRET ou RNA ou RIDET")
    latitude = form.get_by_label("Latitude", exact=True)
    expect(latitude).to_have_value("")

    # a click on the map, away from the markers, fills latitude, longitude and commune
    _click_map(page, lat, lon, latitude)
    expect(latitude).to_have_value(re.compile(r"^1[45]\.\d{6}$"))
    clicked = (float(latitude.input_value()),
               float(form.get_by_label("Longitude", exact=True).input_value()))
    assert abs(clicked[0] - lat) < 0.01 and abs(clicked[1] - lon) < 0.01, (clicked, lat, lon)
    expect(form.get_by_label("Code postal", exact=True)).to_have_value(re.compile(r"^972\d\d$"))

    form.get_by_label("Nom", exact=True).fill(name)
    form.get_by_label("Adresse", exact=True).fill("Rue des Flamboyants")
    form.get_by_label("Numéro de téléphone", exact=True).fill("0596 52 00 00")
    form.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Fiche enregistrée").first.wait_for()

    # stored as the standard wants it, flagged where it needs completing
    try:
        added = [r for r in store.rows(s) if r["id"] not in before]
    finally:
        db.engine(s).dispose()
    assert len(added) == 1, added
    place = added[0]
    assert place["nom"] == name and place["id"].startswith("fed-")
    assert place["telephone"] == "+596596520000"
    assert place["pivot"] == standard.PIVOT_UNKNOWN
    assert place["coord_source"] == "clic sur la carte"
    assert f"{float(place['latitude']):.6f}" == latitude.input_value()

    # shown at once: the new place is the one in the detail, flagged « SIRET à compléter »
    detail = page.locator("[data-testid='stTable']").first
    expect(detail).to_contain_text(name)
    expect(detail).to_contain_text("SIRET à compléter")
    expect(detail).to_contain_text("approximative (clic sur la carte)")
    history = page.get_by_text("Historique du label")
    expect(history).to_contain_text("aucun changement")

    # labelled: the history says so without a reload
    page.get_by_role("tab", name="Label").click()
    label_form = page.locator("[data-testid='stForm']").filter(has_text="Nouveau statut")
    label_form.get_by_label("Nouveau statut").click()
    page.get_by_role("option", name="labellisé", exact=True).click()
    label_form.get_by_label("Commentaire").fill("visite du 4 décembre")
    label_form.get_by_role("button", name="Changer le statut").click()
    page.get_by_text("Statut changé en « labellisé »").wait_for()
    expect(history).to_contain_text("→ labellisé")
    expect(history).to_contain_text(username)
    expect(history).not_to_contain_text("aucun changement")

    # and in the list: the name search finds exactly it
    search = page.get_by_label("Rechercher un nom")
    search.fill(name)
    search.press("Enter")
    page.get_by_text(re.compile(r"^1 lieu affiché sur \d+")).first.wait_for()
    try:
        labelled = {r["id"]: r for r in store.rows(s)}[place["id"]]
    finally:
        db.engine(s).dispose()
    assert labelled["label_status"] == "labellisé"
