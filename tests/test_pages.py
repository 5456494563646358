"""Every page of the dashboard runs on the real data without an exception (Streamlit AppTest).

The browser tests drive the public pages in Chromium; this checks every page's script,
including the planners' ones, in the test process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from maillage import settings

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture()
def app_env(prepared_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    settings.get.cache_clear()
    yield
    settings.get.cache_clear()


def test_every_page_is_in_the_navigation() -> None:
    import ast

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    listed = {
        node.elts[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Constant)
        and str(node.elts[0].value).endswith(".py")
    }
    assert listed == set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(page: str, app_env) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert not errors, errors
    assert at.title, "la page n'affiche pas de titre"


@pytest.fixture()
def private_store(prepared_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings on the prepared data with a copy of its database (pages read the env)."""
    from dataclasses import replace

    from maillage import db
    from maillage.db import backup

    shared = replace(settings.from_env(), data_dir=prepared_data_dir, database_url="")
    backup.backup(tmp_path / "copie.db", shared)
    db.engine(shared).dispose()
    url = f"sqlite:///{tmp_path / 'copie.db'}"
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", url)
    settings.get.cache_clear()
    yield replace(shared, database_url=url)
    settings.get.cache_clear()
    db.dispose_all()


def _signed_in(page: str, actor) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["maillage_actor"] = actor
    at.run()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_both_planning_pages_run_signed_in_and_tours_plan_publish_and_record(
        private_store) -> None:
    """A Fédération account: « Arrêts proposés » runs; « Tournées » plans a saved selection
    with a fixed Saturday, saves, publishes and records the attendance of a visit."""
    from datetime import date

    import pandas as pd

    from geo import tours_io
    from maillage import auth, selection_store, tour_store

    s = private_store
    fede = auth.Actor("fede", "federation")
    stops = _signed_in("arrets_proposes.py", fede)
    assert not stops.error, [e.value for e in stops.error]
    assert _by_label(stops.button, "Enregistrer la sélection")
    assert _by_label(stops.text_input, "Jour fixe (facultatif)")

    halls = [h for h in tours_io.town_halls(s) if h.key in (
        "mairie-97209", "mairie-97213", "mairie-97229")]
    rows = pd.DataFrame({"nom": [h.name for h in halls], "lon": [h.lon for h in halls],
                         "lat": [h.lat for h in halls], "id": [h.key for h in halls],
                         "duree_min": 90, "jour_fixe": ["sam 08:00-12:00", "", ""]})
    sel = selection_store.save_selection(fede, "Trois mairies", rows, None, s)

    at = _signed_in("tournees.py", fede)
    assert [t.label for t in at.tabs] == ["Planifier", "Ajuster et publier",
                                         "Plans enregistrés et présence"]
    _by_label(at.selectbox, "Sélection d'arrêts enregistrée (page Arrêts proposés)").select(
        sel.pk)
    _by_label(at.number_input, "Camions").set_value(2)
    _by_label(at.number_input, "Semaines").set_value(1)
    _by_label(at.number_input, "Temps de calcul (s)").set_value(5)
    _by_label(at.date_input, "Premier jour").set_value(date(2026, 6, 1))  # no holiday
    _by_label(at.multiselect, "Jours travaillés").set_value([0, 1, 2, 3, 4, 5])
    _by_label(at.button, "Calculer les tournées").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Visites planifiées"] == "3 / 3"
    text = " ".join(m.value for m in at.markdown)
    assert "Camion 2 : non utilisé" in text.replace("\\", "")
    assert "1 visite sur 1 à son jour fixe" in text.replace("\\", "")
    assert _by_label(at.selectbox, "Semaine affichée").value is not None

    _by_label(at.button, "Enregistrer en brouillon").click().run()
    assert any("enregistré" in m.value for m in at.success)
    _by_label(at.button, "Publier").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("publié" in m.value for m in at.success)
    plans = tour_store.list_plans(s)
    assert plans["status"].tolist() == ["publié"]

    at.run()
    _by_label(at.number_input, "Présents").set_value(7)
    _by_label(at.number_input, "dont 65 ans et plus").set_value(3)
    _by_label(at.button, "Enregistrer la présence").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Présence enregistrée" in m.value for m in at.success)
    held = tour_store.attendance_frame(s)
    assert held[["attendance", "attendance_seniors"]].values.tolist() == [[7, 3]]
