"""`maillage trouver` on the real island: JSON answer, public fields only, French errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maillage import cli

PRIVATE = {"notes", "origin", "label_status", "label_since", "labelled_on", "version",
           "updated_by", "possible_stop"}


@pytest.fixture(scope="module")
def real_env(real_settings):
    """The real mirror with the registry loaded into the session's private data folder."""
    from geo import communes
    from maillage.registry import initial, store

    mp = pytest.MonkeyPatch()
    mp.setenv("MAILLAGE_DATA_DIR", str(real_settings.data_dir))
    from maillage import settings

    settings.get.cache_clear()
    communes.build(real_settings)
    store.apply_initial(initial.build(real_settings), real_settings)
    yield real_settings
    mp.undo()
    settings.get.cache_clear()


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_answer_is_ranked_by_travel_time_and_public_only(real_env, capsys) -> None:
    code, out, _ = _run(["trouver", "12 rue victr hugo fort de france", "--json",
                         "--nombre", "4", "--ordre", "walk"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["point"]["libelle"].startswith("12 Rue Victor Hugo")
    assert report["classement"] == "walk"
    places = report["lieux"]
    assert len(places) == 4
    walk = [p["a_pied"]["minutes"] for p in places]
    assert walk == sorted(walk)
    for p in places:
        assert not PRIVATE & set(p)
        assert p["en_voiture"]["minutes"] >= 1 and p["a_pied"]["metres"] > 0
        assert p["tel"] == "" or p["tel"].startswith("tel:+")

    # independent check: the engine's own multi-target query over every place
    from analysis import routing, snap
    from geo import graphs, public_places

    g = graphs.load("walk", real_env)
    table = public_places.load(real_env)
    pts = snap.snap(g, snap.to_xy(table[["lon", "lat"]].to_numpy()), real_env.max_snap_m)
    origin = snap.snap(g, snap.to_xy([[report["point"]["lon"], report["point"]["lat"]]]))
    t = routing.times_from(g, origin, pts.edge, pts.ft)
    t[~pts.ok] = np.inf
    expected = table["id"].to_numpy()[np.argsort(t, kind="stable")[:4]]
    assert [p["id"] for p in places] == list(expected)
    assert [p["a_pied"]["minutes"] for p in places] == [
        max(1, int(np.ceil(x / 60))) for x in np.sort(t)[:4]]


def test_text_output_and_point_input(real_env, capsys) -> None:
    code, out, _ = _run(["trouver", "--at", "-61.0707,14.6065", "--nombre", "2"], capsys)
    assert code == 0
    assert "Depuis : Point -61.07070, 14.60650" in out
    assert "1. " in out and "2. " in out and "3. " not in out
    assert "à pied :" in out and "en voiture :" in out


@pytest.mark.parametrize(("args", "message"), [
    (["trouver", "xyzzy qwerty"], "Adresse introuvable"),
    (["trouver", "--at", "-61.5,14.6"], "hors de la Martinique"),
    (["trouver", "--at", "-60.85,14.60"], "en mer"),
    (["trouver"], "Donnez une adresse"),
    (["trouver", "fort de france", "--nombre", "0"], "entre 1 et 10"),
])
def test_errors_exit_2_in_french(real_env, args, message, capsys) -> None:
    code, _, err = _run(args, capsys)
    assert code == 2
    assert message in err
