"""The Fédération's tour journey in a real browser, on the running server.

A signed-in Fédération account plans two weeks of tours from a saved stop selection
(one stop fixed on Saturdays), publishes the plan, records the attendance of a visit,
and the Indicateurs page counts the workshop at once (no restart, no waiting for the
figures' cache).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from analysis import indicators as ind
from geo import tours_io
from maillage import auth, db, fmt, selection_store, settings, tour_store
from maillage.indicators import charts
from tests.browser.conftest import ROOT

SIDEBAR = "[data-testid='stSidebar']"
HELD = ind.INDICATORS["workshops_held"]


def _settle(pg) -> None:
    """Wait until Streamlit has finished the current run."""
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
        ".includes('Running')", timeout=180_000)
    pg.wait_for_timeout(300)


def _choose(pg, label: str, option: str) -> None:
    pg.get_by_label(label, exact=True).click()
    pg.get_by_role("option", name=option, exact=True).click()
    _settle(pg)


def _go(pg, link: str, title: str) -> None:
    """Follow a sidebar link (the same session: the account stays signed in)."""
    pg.locator(SIDEBAR).get_by_role("link", name=link, exact=True).click()
    pg.get_by_role("heading", name=title).first.wait_for()
    _settle(pg)


def _visit_option(v) -> str:
    """The visit's line in « Visite à renseigner » (a row of ``tour_store.visits_frame``)."""
    return (f"{fmt.day_short(v['visit_date'])} {v['starts_at']:%H:%M} — {v['stop_name']} "
            f"({v['van']})")


def _held_by_store(data_dir: Path, year: int) -> float:
    """The workshops held in ``year`` as the store computes them (``maillage`` CLI)."""
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    env.pop("MAILLAGE_DATABASE_URL", None)  # the server's own database
    out = subprocess.run([sys.executable, "-m", "maillage.cli", "indicators", "summary",
                          "--year", str(year), "--json"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=300).stdout
    return float({r["indicator"]: r for r in json.loads(out)}["workshops_held"]["value"] or 0)


def _held_on_page(pg, year: int) -> str:
    """The « Ateliers tenus » metric of ``year`` on the Indicateurs page."""
    _choose(pg, "Année", str(year))
    metric = pg.locator('[data-testid="stMetric"]').filter(has_text=HELD.label).first
    metric.wait_for()
    return metric.inner_text()


def test_a_federation_account_plans_publishes_and_records_a_tour(page, app_server: str,
                                                                 browser_data_dir: Path
                                                                 ) -> None:
    s = replace(settings.from_env(), data_dir=browser_data_dir, database_url="")
    user = f"tournees-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(16) + "Aa9!"
    fede = auth.Actor(user, "federation")
    try:
        auth.add_user(user, "federation", password, s)
        halls = {h.key: h for h in tours_io.town_halls(s)}
        keys = ("mairie-97209", "mairie-97213", "mairie-97229")
        rows = pd.DataFrame({"nom": [halls[k].name for k in keys],
                             "lon": [halls[k].lon for k in keys],
                             "lat": [halls[k].lat for k in keys], "id": list(keys),
                             "duree_min": 90, "jour_fixe": ["sam 08:00-12:00", "", ""]})
        selection = selection_store.save_selection(fede, f"Parcours {user}", rows, None, s)
        listed = selection_store.list_selections(s)
        option = selection_store.label(listed[listed["pk"] == selection.pk].iloc[0])
    finally:
        db.engine(s).dispose()
    today = date.today()
    monday = today - timedelta(days=today.weekday() + 7)  # last week, then this one
    fixed_name = halls[keys[0]].name

    pg = page
    pg.set_default_timeout(120_000)  # a loaded machine: the first views are slow
    pg.goto(f"{app_server}/tournees")
    pg.get_by_role("heading", name="Tournées des ateliers mobiles").wait_for(timeout=180_000)
    side = pg.locator(SIDEBAR)
    side.get_by_label("Compte", exact=True).fill(user)
    side.get_by_label("Mot de passe", exact=True).fill(password)
    side.get_by_role("button", name="Se connecter").click()
    side.get_by_text("Connecté").wait_for()
    _settle(pg)

    # « Planifier »: the template is offered; plan the saved selection, Monday to Saturday
    pg.get_by_role("button", name="Télécharger le modèle de fichier d'arrêts (CSV)").wait_for()
    _choose(pg, "Sélection d'arrêts enregistrée (page Arrêts proposés)", option)
    pg.get_by_label("Camions").fill("2")
    pg.get_by_label("Semaines").fill("2")
    pg.get_by_label("Temps de calcul (s)").fill("5")
    pg.get_by_role("spinbutton", name="day, Premier jour").click()  # day, month, year
    pg.keyboard.type(f"{monday:%d%m%Y}")
    days = pg.get_by_label("Jours travaillés", exact=True)
    days.click()
    pg.get_by_role("option", name="samedi", exact=True).click()
    pg.keyboard.press("Escape")
    pg.get_by_role("button", name="Calculer les tournées").click()
    pg.get_by_text("Visites planifiées").wait_for(timeout=240_000)
    _settle(pg)
    body = pg.inner_text("body")
    assert not pg.locator("[data-testid='stException']").count()
    assert f"{fixed_name} — samedi 08:00-12:00, chaque semaine : 2 visites sur 2 à son jour " \
           "fixe." in body
    assert re.search(r"Camion 2 : (non utilisé — |\d+ journée)", body), body[:2000]
    # one week per view, French days on the timeline's rows, hours across
    assert pg.get_by_label("Semaine affichée", exact=True).count() == 1
    chart = pg.locator("[data-testid='stPlotlyChart']").first
    chart.wait_for()
    ticks = chart.locator(".ytick text").all_text_contents()
    assert ticks and all(t.split(" ")[0] in fmt.WEEKDAYS_SHORT for t in ticks), ticks
    hours = chart.locator(".xtick text").all_text_contents()
    assert hours and all(re.fullmatch(r"\d\d:\d\d", h) for h in hours), hours

    # « Ajuster et publier »: save the draft, publish (confirming over an overlapping plan)
    pg.get_by_role("tab", name="Ajuster et publier").click()
    name = f"Tournées {user}"
    pg.get_by_label("Nom du plan").fill(name)
    pg.get_by_label("Nom du plan").press("Enter")
    _settle(pg)
    pg.get_by_role("button", name="Enregistrer en brouillon").click()
    pg.get_by_text(re.compile(r"Plan n° \d+ enregistré \(version 1\)")).wait_for()
    pg.get_by_role("button", name="Publier", exact=True).click()
    _settle(pg)
    again = pg.get_by_role("button", name="Publier quand même")
    if again.count():
        assert "le public verra ce plan-ci" in pg.inner_text("body")
        again.click()
    pg.get_by_text(re.compile(r"Plan n° \d+ publié")).wait_for()
    plans = tour_store.list_plans(s)
    mine = plans[plans["name"] == name]
    assert mine["status"].tolist() == ["publié"]
    pk = int(mine["pk"].iloc[0])
    visits = tour_store.visits_frame(pk, s=s)
    saturdays = visits[visits["stop_key"] == keys[0]]["visit_date"].tolist()
    assert saturdays == [monday + timedelta(days=5), monday + timedelta(days=12)]
    held_day = visits["visit_date"].iloc[0]
    year = held_day.year

    # the Indicateurs page read before the attendance is recorded (figures cached)
    before = _held_by_store(browser_data_dir, year)
    _go(pg, "Indicateurs", "Indicateurs des cinq solutions")
    if year == today.year:  # (a past year is only offered once it has figures)
        shown_before = _held_on_page(pg, year)
        assert charts.fmt(before, HELD) in shown_before if before else "—" in shown_before

    # « Plans enregistrés et présence »: the first visit of the plan (last week)
    _go(pg, "Tournées", "Tournées des ateliers mobiles")
    pg.get_by_role("tab", name="Plans enregistrés et présence").click()
    pg.get_by_label("Plan", exact=True).wait_for()
    _choose(pg, "Plan", f"n° {pk} — {name} (publié)")
    future = visits[visits["visit_date"] > today]
    if len(future):  # a later visit may be entered too, with a warning
        v = future.iloc[-1]
        _choose(pg, "Visite à renseigner", _visit_option(v))
        pg.get_by_text("après aujourd'hui").wait_for()
    v = visits.iloc[0]
    _choose(pg, "Visite à renseigner", _visit_option(v))
    form = pg.locator("[data-testid='stForm']").filter(has_text="Enregistrer la présence")
    form.get_by_label("Présents").fill("6")
    form.get_by_label("dont 65 ans et plus").fill("2")
    form.get_by_label("dont 65 ans et plus").press("Tab")  # commit the value before submitting
    form.get_by_role("button", name="Enregistrer la présence").click()
    pg.get_by_text("Présence enregistrée").wait_for()
    held = tour_store.attendance_frame(s)
    assert held[(held["stop_key"] == v["stop_key"]) & (held["visit_date"] == held_day)][
        ["attendance", "attendance_seniors"]].values.tolist() == [[6, 2]]

    # the Indicateurs page counts the workshop at once
    after = _held_by_store(browser_data_dir, year)
    assert after == before + 1
    _go(pg, "Indicateurs", "Indicateurs des cinq solutions")
    shown = _held_on_page(pg, year)
    assert charts.fmt(after, HELD) in shown, shown
