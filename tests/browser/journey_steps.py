"""Steps of the coordinator's journeys in a real browser, shared by the journey tests.

Each step drives one page of the running server (Playwright ``page``) like a person does,
then checks what it wrote against the store and what the page shows against the values
the code computes (never results written by hand). Used by
``test_coordinator_journey.py`` (the whole journey in one page) and
``test_tours_journey.py`` (tours from a selection saved through the store).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import expect

from analysis import indicators as ind
from maillage import auth, db, fmt, selection_store, settings, tour_store
from maillage.indicators import charts
from maillage.registry import entry, standard, store
from tests.browser.conftest import ROOT, map_frame
from tests.browser.pages_walk import wait_settled

SIDEBAR = "[data-testid='stSidebar']"
HELD = ind.INDICATORS["workshops_held"]


# --------------------------------------------------------------------------- set-up


def settings_for(data_dir: Path):
    """The settings of the server's data folder (its own SQLite database)."""
    return replace(settings.from_env(), data_dir=data_dir, database_url="")


def new_account(s, prefix: str, role: str = "federation") -> tuple[str, str]:
    """A fresh account of ``role`` in the server's store: (username, password)."""
    username = f"{prefix}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16) + "Aa9!"
    try:
        auth.add_user(username, role, password, s)
    finally:
        db.engine(s).dispose()
    return username, password


# --------------------------------------------------------------------------- waiting, moving


def settle(page, timeout: float = 180_000) -> None:
    """Wait until Streamlit has finished its current run and drawn it
    (:func:`tests.browser.pages_walk.wait_settled`: script stopped, nothing stale, main
    area unchanged for a moment). The status widget's « Running » text is no test: the
    theme puts it into French."""
    page.wait_for_timeout(300)  # let a run the last action asked for start
    wait_settled(page, int(timeout), calm_ms=600)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select box ``label``."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def go(page, link: str, title: str) -> None:
    """Follow a sidebar link (the same session: the account stays signed in)."""
    page.locator(SIDEBAR).get_by_role("link", name=link, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for()
    settle(page)


def sign_in(page, username: str, password: str) -> None:
    """Sign in through the sidebar form; wait for « Connecté : <name> »."""
    side = page.locator(SIDEBAR)
    side.get_by_label("Compte", exact=True).fill(username)
    side.get_by_label("Mot de passe", exact=True).fill(password)
    side.get_by_role("button", name="Se connecter").click()
    assert_signed_in(page, username)


def assert_signed_in(page, username: str) -> None:
    """The sidebar names the account (« Connecté : <name> (…) »)."""
    side = page.locator(SIDEBAR)
    side.get_by_text(f"Connecté : {username}").wait_for()
    expect(side.get_by_role("button", name="Se déconnecter")).to_have_count(1)
    expect(side.get_by_role("button", name="Se connecter")).to_have_count(0)


def reload_still_signed_in(page, username: str) -> None:
    """A browser reload (a new Streamlit session) finds the account again (cookie)."""
    page.reload()
    assert_signed_in(page, username)
    settle(page)


# --------------------------------------------------------------------------- places


def quiet_spot(s) -> tuple[float, float]:
    """(lat, lon) inside a commune and as far as can be from every place of the registry
    (a click there lands on the map, not on a marker)."""
    import numpy as np

    from geo import communes
    from maillage.settings import CRS_MEASURE, CRS_STORE

    try:
        inside = communes.load(s).to_crs(CRS_MEASURE).representative_point()
        places = store.places_frame(s).to_crs(CRS_MEASURE).geometry
    finally:
        db.engine(s).dispose()
    places = places[~(places.isna() | places.is_empty)]
    far = int(np.argmax([places.distance(p).min() for p in inside]))
    spot = inside.iloc[[far]].to_crs(CRS_STORE).iloc[0]
    return spot.y, spot.x


def _click_map(page, lat: float, lon: float, filled) -> None:
    """Click the map at (lat, lon) until the form shows the point (``filled``).

    The map is drawn again after the sign-in (the editor's map returns its clicks); a
    click on the copy being replaced is lost, so it is repeated on the new one.
    """
    for _attempt in range(3):
        settle(page)
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


def _place_ids(s) -> set[str]:
    try:
        return {r["id"] for r in store.rows(s)}
    finally:
        db.engine(s).dispose()


def open_places(page, app_server: str) -> None:
    """« Points numériques », once its list is drawn."""
    page.goto(f"{app_server}/points_numeriques")
    page.get_by_text("lieux affichés").first.wait_for(timeout=180_000)


def add_place_by_map_click(page, s, name: str, phone: str = "0596 52 00 00") -> dict:
    """On « Points numériques » (signed in): « Ajouter / modifier », a click on the map
    away from the markers, a name, an address, ``phone`` as typed and no SIRET; saved.

    Checks the stored row (one new place, phone in the standard's form, SIRET flagged
    unknown, coordinates from the click) and the detail shown at once; returns the row.
    """
    lat, lon = quiet_spot(s)
    before = _place_ids(s)
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
    expect(form.get_by_label("SIRET ou RNA ou RIDET", exact=True)).to_have_value("")

    form.get_by_label("Nom", exact=True).fill(name)
    form.get_by_label("Adresse", exact=True).fill("Rue des Flamboyants")
    form.get_by_label("Numéro de téléphone", exact=True).fill(phone)
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
    normalised = entry.phone(phone)  # what the form's code makes of it
    assert normalised.startswith("+596") and place["telephone"] == normalised, (
        place["telephone"], normalised)
    assert place["pivot"] == standard.PIVOT_UNKNOWN
    assert place["coord_source"] == "clic sur la carte"
    assert f"{float(place['latitude']):.6f}" == f"{clicked[0]:.6f}"  # as the click filled it

    # shown at once: the new place is the one in the detail, flagged « SIRET à compléter »
    detail = page.locator("[data-testid='stTable']").first
    expect(detail).to_contain_text(name)
    expect(detail).to_contain_text("SIRET à compléter")
    expect(detail).to_contain_text("approximative (clic sur la carte)")
    expect(page.get_by_text("Historique du label")).to_contain_text("aucun changement")
    return place


def label_place(page, s, place: dict, username: str, status: str = "labellisé") -> None:
    """« Label »: the new status with a comment; the history shows it without a reload,
    the list's name search finds exactly the place, the store holds the status."""
    history = page.get_by_text("Historique du label")
    page.get_by_role("tab", name="Label").click()
    label_form = page.locator("[data-testid='stForm']").filter(has_text="Nouveau statut")
    label_form.get_by_label("Nouveau statut").click()
    page.get_by_role("option", name=status, exact=True).click()
    label_form.get_by_label("Commentaire").fill("visite du 4 décembre")
    label_form.get_by_role("button", name="Changer le statut").click()
    page.get_by_text(f"Statut changé en « {status} »").wait_for()
    expect(history).to_contain_text(f"→ {status}")
    expect(history).to_contain_text(username)
    expect(history).not_to_contain_text("aucun changement")

    # and in the list: the name search finds exactly it
    search = page.get_by_label("Rechercher un nom")
    search.fill(place["nom"])
    search.press("Enter")
    page.get_by_text(re.compile(r"^1 lieu affiché sur \d+")).first.wait_for()
    try:
        labelled = {r["id"]: r for r in store.rows(s)}[place["id"]]
    finally:
        db.engine(s).dispose()
    assert labelled["label_status"] == status


# --------------------------------------------------------------------------- stops


def _number_input(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    settle(page)
    expect(field).to_have_value(str(value))


def _text_input(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    settle(page)
    expect(field).to_have_value(value)


def propose_and_save_stops(page, s, username: str, name: str, *, stops: int = 1,
                           fixed_day: str = "") -> selection_store.Selection:
    """« Arrêts proposés » (signed in): ``stops`` stops proposed at once (the instant
    answer, walking, the page's default trip time), all kept, saved under ``name`` with
    ``fixed_day`` as « Jour fixe ». Checks the store holds the selection by ``username``
    with the stops the page listed; returns it."""
    page.get_by_role("heading", name="Arrêts proposés pour les ateliers mobiles").wait_for(
        timeout=180_000)
    page.get_by_text("Réponse immédiate (gloutonne)").first.wait_for(timeout=240_000)
    _number_input(page, "Nombre d'arrêts", stops)
    page.get_by_text(f"Avec les {stops} arrêts").first.wait_for(timeout=240_000)
    page.get_by_role("heading", name="Enregistrer comme liste d'arrêts des tournées").wait_for()
    if fixed_day:
        _text_input(page, "Jour fixe (facultatif)", fixed_day)
    _text_input(page, "Nom de la sélection", name)
    kept = page.get_by_label("Arrêts à garder", exact=True)
    before = set(selection_store.list_selections(s)["pk"])
    page.get_by_role("button", name="Enregistrer la sélection").click()
    page.get_by_text(f"Sélection « {name} » enregistrée").wait_for(timeout=120_000)
    settle(page)
    assert not page.locator("[data-testid='stException']").count()

    try:
        listed = selection_store.list_selections(s)
        new = listed[~listed["pk"].isin(before)]
        assert new["name"].tolist() == [name], new
        assert new["created_by"].tolist() == [username]
        saved = selection_store.get_selection(int(new["pk"].iloc[0]), s)
    finally:
        db.engine(s).dispose()
    assert len(saved.rows) == int(new["n_stops"].iloc[0]) == stops
    assert saved.params["mode"] == "walk"
    assert {r.get("jour_fixe", "") for r in saved.rows} == {fixed_day}
    # the message counts the stops saved; the form listed each of them
    page.get_by_text(f"({fmt.plural(len(saved.rows), 'arrêt')})").first.wait_for()
    shown = kept.locator("xpath=ancestor::div[@data-testid='stMultiSelect']").inner_text()
    for r in saved.rows:
        assert r["nom"] in shown, (r["nom"], shown)
    return saved


def selection_option(s, pk: int) -> str:
    """The selection's line in « Sélection d'arrêts enregistrée » (``selection_store.label``)."""
    try:
        listed = selection_store.list_selections(s)
    finally:
        db.engine(s).dispose()
    return selection_store.label(listed[listed["pk"] == pk].iloc[0])


# --------------------------------------------------------------------------- tours


@dataclass(frozen=True)
class Published:
    """A plan published from the page: its key, name and visits as stored."""

    pk: int
    name: str
    visits: object  # pandas.DataFrame of tour_store.visits_frame


def plan_tours(page, option: str, monday: date, fixed: dict[str, str]) -> None:
    """« Tournées » › « Planifier » (signed in): the saved selection ``option``, 2 vans,
    2 weeks from ``monday``, Monday to Saturday, 5 s; calculated.

    ``fixed``: each fixed-day stop's name → its fixed-day label (« samedi 08:00-12:00 »);
    the summary says each kept its day every week. Checks the week view and timeline.
    """
    page.get_by_role("heading", name="Tournées des ateliers mobiles").wait_for(timeout=180_000)
    page.get_by_role("button", name="Télécharger le modèle de fichier d'arrêts (CSV)").wait_for()
    choose(page, "Sélection d'arrêts enregistrée (page Arrêts proposés)", option)
    page.get_by_label("Camions").fill("2")
    page.get_by_label("Semaines").fill("2")
    page.get_by_label("Temps de calcul (s)").fill("5")
    page.get_by_role("spinbutton", name="day, Premier jour").click()  # day, month, year
    page.keyboard.type(f"{monday:%d%m%Y}")
    days = page.get_by_label("Jours travaillés", exact=True)
    days.click()
    page.get_by_role("option", name="samedi", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Calculer les tournées").click()
    page.get_by_text("Visites planifiées").wait_for(timeout=240_000)
    settle(page)
    body = page.inner_text("body")
    assert not page.locator("[data-testid='stException']").count()
    for stop, label in fixed.items():
        assert f"{stop} — {label}, chaque semaine : 2 visites sur 2 à son jour fixe." in body, \
            body[:3000]
    assert re.search(r"Camion 2 : (non utilisé — |\d+ journée)", body), body[:2000]
    # one week per view, French days on the timeline's rows, hours across
    assert page.get_by_label("Semaine affichée", exact=True).count() == 1
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.wait_for()
    ticks = chart.locator(".ytick text").all_text_contents()
    assert ticks and all(t.split(" ")[0] in fmt.WEEKDAYS_SHORT for t in ticks), ticks
    hours = chart.locator(".xtick text").all_text_contents()
    assert hours and all(re.fullmatch(r"\d\d:\d\d", h) for h in hours), hours


def publish(page, s, name: str) -> Published:
    """« Ajuster et publier »: named, saved as a draft, published (confirming over an
    overlapping published plan); the store lists it as published."""
    page.get_by_role("tab", name="Ajuster et publier").click()
    page.get_by_label("Nom du plan").fill(name)
    page.get_by_label("Nom du plan").press("Enter")
    settle(page)
    page.get_by_role("button", name="Enregistrer en brouillon").click()
    page.get_by_text(re.compile(r"Plan n° \d+ enregistré \(version 1\)")).wait_for()
    page.get_by_role("button", name="Publier", exact=True).click()
    done = page.get_by_text(re.compile(r"Plan n° \d+ publié"))
    again = page.get_by_role("button", name="Publier quand même")
    done.or_(again).first.wait_for()  # over an overlapping published plan: confirm first
    if not done.count():
        assert "le public verra ce plan-ci" in page.inner_text("body")
        again.click()
        done.wait_for()
    try:
        plans = tour_store.list_plans(s)
        mine = plans[plans["name"] == name]
        assert mine["status"].tolist() == ["publié"]
        pk = int(mine["pk"].iloc[0])
        visits = tour_store.visits_frame(pk, s=s)
    finally:
        db.engine(s).dispose()
    page.get_by_text(f"Plan n° {pk} publié").wait_for()
    return Published(pk, name, visits)


def assert_fixed_on_saturdays(plan: Published, stop_key: str, monday: date) -> None:
    """The fixed stop's visits, as stored, are the two Saturdays of the period."""
    saturdays = plan.visits[plan.visits["stop_key"] == stop_key]["visit_date"].tolist()
    assert saturdays == [monday + timedelta(days=5), monday + timedelta(days=12)], saturdays


def _visit_option(v) -> str:
    """The visit's line in « Visite à renseigner » (a row of ``tour_store.visits_frame``)."""
    return (f"{fmt.day_short(v['visit_date'])} {v['starts_at']:%H:%M} — {v['stop_name']} "
            f"({v['van']})")


def held_by_store(data_dir: Path, year: int) -> float:
    """The workshops held in ``year`` as the store computes them (``maillage`` CLI)."""
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    env.pop("MAILLAGE_DATABASE_URL", None)  # the server's own database
    out = subprocess.run([sys.executable, "-m", "maillage.cli", "indicators", "summary",
                          "--year", str(year), "--json"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=300).stdout
    return float({r["indicator"]: r for r in json.loads(out)}["workshops_held"]["value"] or 0)


def held_on_page(page, year: int) -> str:
    """The « Ateliers tenus » metric of ``year`` on the Indicateurs page."""
    page.get_by_role("combobox", name="Année", exact=True).click()  # not the objectives'
    page.get_by_role("option", name=str(year), exact=True).click()
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=HELD.label).first
    metric.wait_for()
    return metric.inner_text()


def indicators_before(page, data_dir: Path, year: int) -> float:
    """The Indicateurs page read before the attendance is recorded (its figures cached):
    it shows the store's count of workshops held. Returns that count."""
    before = held_by_store(data_dir, year)
    go(page, "Indicateurs", "Indicateurs des cinq solutions")
    if year == date.today().year:  # (a past year is only offered once it has figures)
        shown = held_on_page(page, year)
        assert charts.fmt(before, HELD) in shown if before else "—" in shown, shown
    return before


def record_attendance(page, s, plan: Published, present: int = 6, seniors: int = 2):
    """« Plans enregistrés et présence »: the plan's first visit gets ``present`` people,
    ``seniors`` of them 65 or older (a later visit, when there is one, warns first).
    Checks the store; returns the visit (a row of ``tour_store.visits_frame``)."""
    go(page, "Tournées", "Tournées des ateliers mobiles")
    page.get_by_role("tab", name="Plans enregistrés et présence").click()
    page.get_by_label("Plan", exact=True).wait_for()
    choose(page, "Plan", f"n° {plan.pk} — {plan.name} (publié)")
    visits = plan.visits
    future = visits[visits["visit_date"] > date.today()]
    if len(future):  # a later visit may be entered too, with a warning
        choose(page, "Visite à renseigner", _visit_option(future.iloc[-1]))
        page.get_by_text("après aujourd'hui").wait_for()
    v = visits.iloc[0]
    choose(page, "Visite à renseigner", _visit_option(v))
    form = page.locator("[data-testid='stForm']").filter(has_text="Enregistrer la présence")
    fields = {form.get_by_label("Présents", exact=True): str(present),
              form.get_by_label("dont 65 ans et plus", exact=True): str(seniors)}
    # the choice of the visit reruns the page, which draws the form again (empty): fill
    # it until both values stay
    for _attempt in range(4):
        for field, value in fields.items():
            field.fill(value)
            field.press("Tab")  # commit the value before submitting (Enter would submit)
        settle(page)
        page.wait_for_timeout(1000)
        if all(f.input_value() == value for f, value in fields.items()):
            break
    for field, value in fields.items():
        expect(field).to_have_value(value)
    form.get_by_role("button", name="Enregistrer la présence").click()
    page.get_by_text(f"Présence enregistrée : {v['stop_name']}, {fmt.day_long(v['visit_date'])}"
                     f" ({fmt.plural(present, 'présent')}).").wait_for()
    try:
        held = tour_store.attendance_frame(s)
    finally:
        db.engine(s).dispose()
    assert held[(held["stop_key"] == v["stop_key"]) & (held["visit_date"] == v["visit_date"])][
        ["attendance", "attendance_seniors"]].values.tolist() == [[present, seniors]], held
    return v


def indicators_after(page, data_dir: Path, year: int, before: float) -> None:
    """The Indicateurs page counts the recorded workshop at once (no reload, no restart)."""
    after = held_by_store(data_dir, year)
    assert after == before + 1, (before, after)
    go(page, "Indicateurs", "Indicateurs des cinq solutions")
    shown = held_on_page(page, year)
    assert charts.fmt(after, HELD) in shown, shown
