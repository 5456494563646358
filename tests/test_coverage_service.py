"""The coverage service: one answer for ``maillage coverage`` and the Couverture page.

The command line (a real subprocess) prints exactly the service's ``to_json()`` for the
same request, fragility weight and what-ifs included; the page's headline figures are
the service's figures for the page's default request. Requests are checked once, in
French, before anything is loaded.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from analysis import coverage
from geo import population
from maillage import cli, fmt, settings
from maillage.errors import MaillageError
from maillage.services import coverage as service_mod
from maillage.services.coverage import CoverageRequest, CoverageService, parse_minutes
from tests.coverage_fixtures import cells, lattice, lonlat, random_xy

ROOT = Path(__file__).resolve().parents[1]
MAILLAGE = Path(sys.executable).with_name("maillage")
#: A point on land, inland of the Atlantic coast (used by tests/test_cli_coverage.py too).
ON_LAND = (-61.0, 14.7)


# ----------------------------------------------------------------------------- requests


@pytest.mark.parametrize(("request_", "message"), [
    (CoverageRequest(mode="vélo"), "Mode de déplacement inconnu"),
    (CoverageRequest(minutes=(0.0,)), "Seuils invalides"),
    (CoverageRequest(minutes=()), "Seuils invalides"),
    (CoverageRequest(weight="voitures"), "Pondération inconnue"),
    (CoverageRequest(places="certains"), "Sélection de lieux inconnue"),
    (CoverageRequest(connectivity=6), "Voisinage"),
    (CoverageRequest(zone_minutes=500.0), "Seuils invalides"),
    (CoverageRequest(added=((2.35, 48.85, "Paris"),)), "hors de la Martinique"),
    (CoverageRequest(added=(("abc", 14.6, ""),)), "Coordonnées illisibles"),
])
def test_requests_are_refused_in_french(request_: CoverageRequest, message: str) -> None:
    with pytest.raises(MaillageError, match=message):
        request_.validated()


def test_request_is_normalised() -> None:
    req = CoverageRequest(minutes=(20, 10.0, 10), added=((-61.07, 14.61),),
                          removed=("b", "a", "b")).validated()
    assert req.minutes == (10.0, 20.0)
    assert req.zone_minutes == 10.0  # the first threshold when none is given
    assert req.added == ((-61.07, 14.61, ""),)
    assert req.removed == ("b", "a")
    assert req.has_whatif and not CoverageRequest().validated().has_whatif
    assert req.validated() == req


def test_minutes_text() -> None:
    assert parse_minutes("15, 10,15") == (10.0, 15.0)
    with pytest.raises(MaillageError, match="Durée illisible"):
        parse_minutes("quinze")


def test_cli_refuses_before_loading_in_json_too(monkeypatch, capsys) -> None:
    def boom(*_a, **_k):
        raise AssertionError("rien ne doit être chargé pour une requête refusée")

    monkeypatch.setattr(CoverageService, "load", boom)
    code = cli.main(["coverage", "--json", "--minutes", "quinze"])
    assert code == cli.EXIT_USAGE
    assert "Durée illisible" in json.loads(capsys.readouterr().out)["erreur"]
    code = cli.main(["coverage", "--json", "--with", "2.35,48.85"])
    assert code == cli.EXIT_USAGE
    assert "hors de la Martinique" in json.loads(capsys.readouterr().out)["erreur"]


# ----------------------------------------------------------------------------- tiny island


@pytest.fixture()
def tiny(monkeypatch):
    """A service on the test lattice: cells as the grid layer, three places, no registry."""
    g = lattice(oneway_every=3)
    dem = cells(g, seed=4)
    grid = dem.drop(columns=["commune", "epci", "weight"]).copy()
    communes = (dem[["code_insee", "commune", "epci"]].drop_duplicates("code_insee")
                .rename(columns={"commune": "nom", "epci": "epci_court"}))
    xy = random_xy(g, 3, seed=9)
    ll = lonlat(xy)
    places = gpd.GeoDataFrame({
        "place_id": ["p1", "p2", "p3"], "name": ["Un", "Deux", "Trois"], "commune": "",
        "code_insee": "", "kind": "lieu fixe", "label_status": "", "services": [()] * 3,
        "source": "registre"}, geometry=gpd.points_from_xy(ll[:, 0], ll[:, 1]),
        crs="EPSG:4326")
    calls = {"fragility": 0}
    score = pd.Series(50.0 + 25.0 * (np.arange(len(grid)) % 5), index=grid.index)

    def fake_fragility(grid_arg, _ifn):
        calls["fragility"] += 1
        return score.reindex(grid_arg.index)

    monkeypatch.setattr(population, "fragility_by_cell", fake_fragility)
    monkeypatch.setattr(population, "load_ifn", lambda _s=None: None)
    monkeypatch.setattr(service_mod, "_registry_revision", lambda _s: "fixe")
    s = settings.from_env()
    svc = CoverageService(s, grid, communes, places, "fixe", graph=lambda _mode: g)
    return svc, grid, score, calls


def test_fragility_is_joined_once_and_weights_every_answer(tiny) -> None:
    svc, grid, score, calls = tiny
    a = svc.run(CoverageRequest(weight="fragility", minutes=(5,)))
    b = svc.run(CoverageRequest(weight="fragility", minutes=(5, 10), by_commune=True))
    assert calls["fragility"] == 1
    expected = float((grid["population"] * score / 100.0).sum())
    for res in (a, b):
        assert res.island()["weight"] == pytest.approx(expected)
        assert res.demand["weight"].sum() == pytest.approx(expected)


def test_baseline_is_cached_and_a_whatif_leaves_it_alone(tiny) -> None:
    svc, *_ = tiny
    base = svc.run(CoverageRequest(minutes=(3, 6)))
    today = base.baseline_seconds.copy()
    # the place that is the nearest of most cells: removing it must change something
    acc = svc.baseline("walk", base.places)
    busiest = base.places["place_id"].iloc[np.bincount(acc.nearest[acc.nearest >= 0]).argmax()]
    sc = svc.run(CoverageRequest(minutes=(3, 6), removed=(busiest,)))
    assert sc.baseline_seconds is base.baseline_seconds  # reused, not recomputed
    np.testing.assert_array_equal(base.baseline_seconds, today)
    assert (sc.whatif.seconds >= today).all() and (sc.whatif.seconds > today).any()
    assert sc.tables is base.tables
    json.dumps(sc.to_json())  # JSON-ready: no inf, no numpy scalar
    with pytest.raises(MaillageError, match="Lieu à retirer inconnu"):
        svc.run(CoverageRequest(removed=("inexistant",)))


# ----------------------------------------------------------------------------- real island


@pytest.fixture(scope="module")
def real_env(prepared_data_dir: Path):
    """Settings and environment on the prepared data folder (what the subprocess sees)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    settings.get.cache_clear()
    yield settings.get()
    settings.get.cache_clear()
    mp.undo()
    settings.get.cache_clear()


@pytest.fixture(scope="module")
def service(real_env) -> CoverageService:
    return CoverageService.load(real_env)


def _cli_json(args: list[str], data_dir: Path) -> dict:
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    proc = subprocess.run([str(MAILLAGE), "coverage", "--json", *args], capture_output=True,
                          text=True, env=env, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _plain(payload: dict) -> dict:
    """``payload`` as it reads back from the JSON the command line prints."""
    return json.loads(json.dumps(payload, ensure_ascii=False, default=str))


def _busiest(service: CoverageService, request: CoverageRequest, n: int) -> list[str]:
    """The ``n`` places that are the nearest of the most cells today."""
    sup = service.supply(request.validated())
    acc = service.baseline(request.mode, sup)
    counts = np.bincount(acc.nearest[acc.nearest >= 0], minlength=len(sup))
    return sup["place_id"].iloc[np.argsort(counts)[::-1][:n]].tolist()


@pytest.mark.slow
@pytest.mark.parametrize(("args", "request_"), [
    ([], CoverageRequest()),
    (["--weight", "fragility", "--minutes", "10,15", "--by-commune"],
     CoverageRequest(weight="fragility", minutes=(10, 15), by_commune=True)),
    (["--mode", "drive", "--minutes", "10,20", "--zone-minutes", "20", "--weight", "poor",
      "--connectivity", "4", "--zones", "3"],
     CoverageRequest(mode="drive", minutes=(10, 20), zone_minutes=20, weight="poor",
                     connectivity=4)),
])
def test_cli_json_is_the_service_result(service, real_env, prepared_data_dir, args,
                                        request_) -> None:
    listed = int(args[args.index("--zones") + 1]) if "--zones" in args else 10
    cli_out = _cli_json(args, prepared_data_dir)
    assert cli_out == _plain(service.run(request_).to_json(listed))
    assert len(cli_out["tables"]) == 34 + 3 + 1


@pytest.mark.slow
@pytest.mark.parametrize("weight", ["fragility", "population"])
def test_cli_whatif_is_the_service_whatif(service, real_env, prepared_data_dir,
                                          weight) -> None:
    base = CoverageRequest(mode="walk", minutes=(10, 15), weight=weight, by_commune=True)
    removed = _busiest(service, base, 2)
    request = CoverageRequest(mode="walk", minutes=(10, 15), weight=weight, by_commune=True,
                              added=((*ON_LAND, ""),), removed=tuple(removed))
    args = ["--minutes", "10,15", "--weight", weight, "--by-commune",
            "--with", f"{ON_LAND[0]},{ON_LAND[1]}"]
    for pid in removed:
        args += ["--without", pid]
    cli_out = _cli_json(args, prepared_data_dir)
    result = service.run(request)
    assert cli_out == _plain(result.to_json())
    # the what-if is not empty: people gain (the added point) and lose (the removed places)
    island = next(r for r in cli_out["whatif"]["delta"] if r["level"] == "island")
    assert island["population_gain_15"] > 0 and island["population_loss_15"] > 0
    assert cli_out["whatif"]["removed"] == removed


@pytest.mark.slow
def test_page_headline_is_the_service_result(service, real_env) -> None:
    from streamlit.testing.v1 import AppTest

    from ui.coverage import SHARES

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/couverture.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]

    # the page's defaults: on foot, the default thresholds, 15 min shown, zones cut by commune
    request = CoverageRequest(mode="walk", minutes=coverage.DEFAULT_MINUTES["walk"],
                              zone_minutes=15.0, by_commune=True)
    res = service.run(request)
    island = res.island()
    expected = [(label, f"{fmt.number(island[f'{m}_15_share'], 1)} %")
                for m, label in SHARES.items()]
    assert [(m.label, m.value) for m in at.metric] == expected
    heading = next(m.value for m in at.markdown if "Zones blanches aujourd'hui" in m.value)
    assert int(re.search(r"\((\d+),", heading).group(1)) == len(res.zones)
    summary = next(c.value for c in at.caption if c.value.startswith("Temps médian"))
    assert f"Temps médian des habitants : {fmt.number(island['median_min'], 1)} min" in summary

    # the fragility weight: the page's weighted median is the service's (and so the CLI's)
    at.selectbox(key="cov_weight").set_value("fragility").run()
    assert not at.exception and not at.error
    frag = service.run(CoverageRequest(mode="walk", minutes=coverage.DEFAULT_MINUTES["walk"],
                                       zone_minutes=15.0, by_commune=True,
                                       weight="fragility")).island()
    summary = next(c.value for c in at.caption if c.value.startswith("Temps médian"))
    assert (f"{fmt.number(frag['median_min'], 1)} min ; 9e décile : "
            f"{fmt.number(frag['p90_min'], 1)} min") in summary
