"""The `maillage traveltime` / `isochrone` / `network` commands, good and bad input."""

from __future__ import annotations

import json

import pytest

from maillage import cli, settings


@pytest.fixture()
def real_env(real_settings, monkeypatch):
    """Point the CLI at the session's private data folder."""
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(real_settings.data_dir))
    settings.get.cache_clear()
    yield real_settings
    settings.get.cache_clear()


@pytest.mark.slow
def test_traveltime_json(real_env, capsys):
    code = cli.main(["traveltime", "--from", "-61.0733,14.6036", "--to", "-60.9976,14.6153",
                     "--mode", "drive", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "drive" and 5 < out["minutes"] < 30
    assert out["distance_m"] > 7_000  # more than the 8.2 km as the crow flies, minus snaps
    assert out["snap_from_m"] >= 0 and out["snap_to_m"] >= 0
    code = cli.main(["traveltime", "--from", "-61.0733,14.6036", "--to", "-60.9976,14.6153"])
    text = capsys.readouterr().out
    assert code == 0 and "à pied" in text and "min" in text


@pytest.mark.slow
def test_isochrone_writes_geojson(real_env, tmp_path, capsys):
    out = tmp_path / "iso.geojson"
    code = cli.main(["isochrone", "--at", "-61.0733,14.6036", "--minutes", "5,10",
                     "--mode", "walk", "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [f["properties"]["to_min"] for f in data["features"]] == [5, 10]
    from shapely.geometry import shape

    lon, lat = shape(data["features"][0]["geometry"]).representative_point().coords[0]
    assert -61.3 < lon < -60.7 and 14.3 < lat < 14.9  # written in EPSG:4326
    assert "habitants" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["traveltime", "--from", "abc", "--to", "-61.07,14.6"], "Coordonnées illisibles"),
    (["traveltime", "--from", "-61.07,14.6", "--to", "-61.0,14.6", "--mode", "vélo"],
     "Mode de déplacement inconnu"),
    (["traveltime", "--from", "-62.5,14.6", "--to", "-61.07,14.6"], "hors de la Martinique"),
    (["traveltime", "--from", "14.6,-61.07", "--to", "-61.07,14.6"], "inversé"),
    (["isochrone", "--at", "-61.07,14.6", "--minutes", "dix", "--out", "x.geojson"],
     "Durées illisibles"),
    (["isochrone", "--at", "-61.07,14.6", "--out", "x.txt"], "extension"),
])
def test_bad_input_exits_2_in_french(args, message, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize("point, message", [
    ("-61.12,14.55", "en mer"),  # the bay of Fort-de-France
    ("-61.0,14.5", "route la plus proche"),  # inland, far from any mirrored road
])
def test_points_at_sea_or_far_from_roads(real_env, point, message, capsys):
    code = cli.main(["traveltime", "--from", point, "--to", "-61.0733,14.6036", "--mode", "drive"])
    assert code == 2
    assert message in capsys.readouterr().err
