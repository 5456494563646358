"""`maillage coverage`: French tables, JSON that adds up, what-if, and exit 2 on bad input."""

from __future__ import annotations

import json

import pytest

from maillage import cli, settings


@pytest.fixture(scope="module")
def registry_loaded(real_settings):
    from maillage.registry import initial, store

    store.apply_initial(initial.build(real_settings), real_settings)
    return real_settings


@pytest.fixture()
def real_env(registry_loaded, monkeypatch):
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(registry_loaded.data_dir))
    settings.get.cache_clear()
    yield registry_loaded
    settings.get.cache_clear()


@pytest.mark.parametrize("args, message", [
    (["coverage", "--mode", "vélo"], "Mode de déplacement inconnu"),
    (["coverage", "--minutes", "quinze"], "Durée illisible"),
    (["coverage", "--minutes", "0"], "Seuils invalides"),
    (["coverage", "--weight", "voitures"], "Pondération inconnue"),
    (["coverage", "--places", "certains"], "Sélection de lieux inconnue"),
    (["coverage", "--with", "abc"], "Coordonnées illisibles"),
    (["coverage", "--with", "-62.5,14.6"], "hors de la Martinique"),
    (["coverage", "--zones", "dix"], "nombre entier attendu"),
])
def test_bad_input_exits_2_in_french(args, message, capsys):
    try:
        code = cli.main(args)
    except SystemExit as exc:  # refused by the argument parser itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_json_adds_up_and_whatif_gains(real_env, capsys):
    code = cli.main(["coverage", "--minutes", "10,15", "--json", "--zones", "5",
                     "--with", "-61.0,14.7"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["tables"]
    communes = [r for r in rows if r["level"] == "commune"]
    island = next(r for r in rows if r["level"] == "island")
    assert len(communes) == 34
    for col in ("population", "population_15", "seniors_10", "poor_households_15"):
        assert sum(r[col] for r in communes) == pytest.approx(island[col])
    assert island["population_10"] <= island["population_15"] <= island["population"]
    assert len(out["zones"]) == 5 and out["n_zones"] >= 5
    pops = [z["population"] for z in out["zones"]]
    assert pops == sorted(pops, reverse=True)
    w = out["whatif"]
    after = next(r for r in w["tables"] if r["level"] == "island")
    gain = next(r for r in w["delta"] if r["level"] == "island")
    assert after["population_15"] - island["population_15"] == pytest.approx(
        gain["population_gain_15"])
    assert gain["population_loss_15"] == 0


@pytest.mark.slow
def test_text_table_and_removal(real_env, capsys):
    from maillage.registry import store

    first = store.places_frame(real_env)["id"].iloc[0]
    code = cli.main(["coverage", "--mode", "drive", "--minutes", "10", "--without", first])
    text = capsys.readouterr().out
    assert code == 0
    assert "Martinique" in text and "Part hab." in text and "en voiture" in text
    assert "Zones blanches" in text and "perdent" in text
    assert cli.main(["coverage", "--without", "inexistant"]) == 2
    assert "inconnu" in capsys.readouterr().err
    # no place is labelled yet in the initial load: a French message, not a crash
    labelled = (store.places_frame(real_env)["label_status"] == "labellisé").sum()
    assert cli.main(["coverage", "--places", "labelled"]) == (0 if labelled else 2)
