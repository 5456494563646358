"""« Arrêts proposés » saves a selection for signed-in planners only; « Tournées » offers it.

The pages run in Streamlit's AppTest on the prepared island, on a private copy of the
prepared database (the session's data folder is shared with the browser tests).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from maillage import auth, db, selection_store, settings
from maillage.db import backup

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def private_store(prepared_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings on the prepared data with a copy of its database (pages read the env)."""
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


def _page(name: str, actor: auth.Actor | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    if actor is not None:
        at.session_state["maillage_actor"] = actor
    at.run()
    at.switch_page(f"pages/{name}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_only_planners_see_the_form_and_the_tours_offer_their_selection(private_store) -> None:
    s = private_store
    anonymous = _page("arrets_proposes.py", None)
    assert not [b for b in anonymous.button if b.label == "Enregistrer la sélection"]
    assert any("connectez-vous" in i.value for i in anonymous.info)
    assert selection_store.list_selections(s).empty

    at = _page("arrets_proposes.py", auth.Actor("planif-sud", "epci"))
    name = next(t for t in at.text_input if t.label == "Nom de la sélection")
    name.input("Sélection de test").run()
    next(b for b in at.button if b.label == "Enregistrer la sélection").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Sélection de test" in m.value for m in at.success)
    listed = selection_store.list_selections(s)
    assert listed["name"].tolist() == ["Sélection de test"]
    assert listed["created_by"].tolist() == ["planif-sud"]
    saved = selection_store.get_selection(int(listed["pk"].iloc[0]), s)
    assert saved.params["mode"] == "walk" and len(saved.stops) == listed["n_stops"].iloc[0] > 0

    tours = _page("tournees.py", auth.Actor("fede", "federation"))
    box = next(b for b in tours.selectbox
               if b.label.startswith("Sélection d'arrêts enregistrée"))
    assert selection_store.label(listed.iloc[0].to_dict()) in box.options
