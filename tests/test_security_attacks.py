"""The three attacks of issue #13, each replayed as it was found (fast, no browser).

1. A place whose address is a Jinja expression was evaluated on the server when anyone
   opened « Points numériques » (folium/branca re-parse rendered scripts as templates):
   the quote-free form survived HTML escaping and ran a shell command.
2. An address holding ``{% raw %}`` or a stray ``{{``/``{%`` broke the page for every
   visitor with a traceback.
3. On « Tournées », a stop named ``S1 ${alert(201)}`` or ``S2 `+alert(203)+```` ran in
   the browser: the tooltip text sat inside a JavaScript template literal.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analysis import tours
from analysis.schedule import Period
from analysis.tours import Problem, Stop, Travel, Van
from geo import mapsafe, tours_layer
from maillage import auth, db, settings
from maillage.registry import store
from tests import adversarial as adv
from tests.registry_fixtures import row

ROOT = Path(__file__).resolve().parents[1]
ADMIN = auth.Actor("test", "admin")


def _copy_database(prepared: Path, target: Path) -> str:
    """A private copy of the prepared data step's database (consistent, WAL included)."""
    src = sqlite3.connect(prepared / "maillage.db")
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{target}"


@pytest.fixture()
def page_db(prepared_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings on the prepared data with a private copy of its database (pages use it)."""
    url = _copy_database(prepared_data_dir, tmp_path / "maillage.db")
    canary = tmp_path / "canary" / "canary"
    canary.parent.mkdir()
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", url)
    for name, value in adv.canary_env(canary).items():
        monkeypatch.setenv(name, value)
    settings.get.cache_clear()
    s = replace(settings.from_env(), data_dir=prepared_data_dir, database_url=url)
    yield s, canary
    db.engine(s).dispose()
    settings.get.cache_clear()


def _points_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page("pages/points_numeriques.py")
    at.run()
    return at


def _add_places(s, addresses: list[str]) -> None:
    for k, address in enumerate(addresses):
        store.save_place(ADMIN, row(id=f"attaque-{k}", nom=f"Lieu attaqué {k}", adresse=address,
                                    latitude=f"{14.6065 + 0.001 * k:.4f}"), None, s)


def test_template_in_an_address_is_never_evaluated(page_db) -> None:
    s, canary = page_db
    # Quote-free payloads: HTML escaping left them whole, and the old page ran them.
    _add_places(s, [adv.BY_ID["tpl-canary-env"].text(canary),
                    adv.BY_ID["tpl-canary-set"].text(canary)])
    at = _points_page()
    assert adv.canary_files(canary) == []  # no shell command ran on the server
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value == "Points numériques"
    assert any("lieux affichés" in m.value for m in at.markdown)


@pytest.mark.parametrize("address", ["{% raw %}", "{{", "{%", "{#", "{% endraw %}{{ config }}",
                                     adv.BY_ID["tpl-canary"].raw])
def test_template_delimiters_in_an_address_do_not_break_the_page(page_db, address: str) -> None:
    s, canary = page_db
    _add_places(s, [f"12 rue {address.replace(adv.CANARY, str(canary))} Fort-de-France"])
    at = _points_page()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error]
    assert any("lieux affichés" in m.value for m in at.markdown)
    assert adv.canary_files(canary) == []


def test_stop_names_stay_out_of_javascript_in_the_tours_map() -> None:
    names = ["S1 ${alert(201)}", "S2 `+alert(203)+`"]
    stops = [Stop(n, -61.05 + 0.02 * i, 14.62, "hebdomadaire", 3600, key=f"s{i}")
             for i, n in enumerate(names)]
    problem = Problem(stops, [Van("Camion 1", (-61.07, 14.61))],
                      Period.with_holidays(date(2026, 6, 1), 1))
    sec = np.full((3, 3), 900.0)
    np.fill_diagonal(sec, 0)
    plan = tours.solve(problem, Travel(sec, np.zeros(3), np.ones(3, bool)), 1)
    m, _ = tours_layer.tours_map(problem, plan, {})
    mapsafe.assert_inert(m)
    page = m.get_root().render()
    assert "${alert" not in page
    assert "`+alert" not in page and "+alert(203)+`" not in page
    # The names travel as JSON data and decode back exactly.
    layers = [e for e in _walk(m) if isinstance(e, mapsafe.TextLayer)]
    tips = [f["properties"].get("tip", "") for layer in layers
            for f in json.loads(layer.data_json)["features"]]
    for name in names:
        assert f"{name} (hebdomadaire)" in tips
        assert name not in page  # never as source text


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)
