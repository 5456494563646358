"""`maillage propose-stops` on the real island: French output, JSON, refusals, coverage gain."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from maillage import cli


@pytest.fixture(scope="module")
def island(real_settings, tmp_path_factory):
    """Real settings with a registry loaded from the mirror into a private database."""
    from maillage import db
    from maillage.registry import initial, store

    path = tmp_path_factory.mktemp("stops-db") / "registry.db"
    s = replace(real_settings, database_url=f"sqlite:///{path}")
    db.migrate(s)
    store.apply_initial(initial.build(s), s)
    yield s
    db.engine(s).dispose()


def test_bad_inputs_exit_2_in_french(capsys) -> None:
    for argv, words in ((["--p", "0"], "Nombre d'arrêts"), (["--weight", "chats"], "Pondération"),
                        (["--minutes", "-3"], "Temps de trajet"), (["--mode", "vélo"], "Mode"),
                        (["--model", "pmedian"], "Modèle"), (["--share", "2"], "Part")):
        assert cli.main(["propose-stops", *argv]) == 2
        assert words in capsys.readouterr().err


def test_proposal_gain_equals_the_coverage_module_gain(island, monkeypatch, capsys) -> None:
    """The CLI's claimed gain = coverage recomputed by analysis.coverage with the stops added."""
    from analysis import coverage, siting, snap
    from geo import communes, graphs, population, supply

    monkeypatch.setattr("maillage.settings.get", lambda: island)
    assert cli.main(["propose-stops", "--p", "4", "--minutes", "12", "--weight", "seniors",
                     "--scope", "CACEM", "--time-limit", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["milp"]["status"] in siting.STATUS_FR
    assert out["milp"]["bound"] >= out["milp"]["objective"] - 1e-6
    assert len(out["stops"]) == len(out["milp"]["selected"]) <= 4
    cacem = set(communes.load(island).query("epci_court == 'CACEM'")["code_insee"])
    assert {r["code_insee"] for r in out["stops"]} <= cacem

    # independent recomputation with the coverage engine (#5)
    s = island
    g = graphs.load("walk", s)
    grid = population.load_grid(s)
    dem = coverage.demand(grid, communes.load(s), "seniors")
    fixed = supply.select(supply.places(s), "all", kinds=[siting.FIXED_KIND])
    cell_xy = dem[["x", "y"]].to_numpy()
    kw = {"walk_kmh": s.walk_kmh, "max_snap_m": s.max_snap_m}
    before = coverage.compute(g, cell_xy, supply.to_xy(fixed), **kw).seconds
    stops_xy = snap.to_xy(np.array([[r["lon"], r["lat"]] for r in out["stops"]]))
    after = coverage.compute(g, cell_xy, np.vstack([supply.to_xy(fixed), stops_xy]),
                             **kw).seconds
    in_scope = dem["code_insee"].isin(cacem).to_numpy()
    limit = 12 * 60.0
    gain = float(dem["weight"].to_numpy()[in_scope & (before > limit) & (after <= limit)].sum())
    assert out["milp"]["covered"] == pytest.approx(gain)
    assert sum(r["gain"] for r in out["stops"]) == pytest.approx(gain)
    today = float(dem["weight"].to_numpy()[in_scope & (before <= limit)].sum())
    assert out["covered_today"] == pytest.approx(today)
    assert out["greedy"]["covered"] <= out["milp"]["bound"] + 1e-6

    # the text output says the same in French
    assert cli.main(["propose-stops", "--p", "4", "--minutes", "12", "--weight", "seniors",
                     "--scope", "CACEM", "--greedy-only"]) == 0
    text = capsys.readouterr().out
    assert "Réponse immédiate (gloutonne)" in text and "Arrêts, dans l'ordre" in text

