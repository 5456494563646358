"""The proposed-stops service: one request, one answer, for the CLI and the page.

The command line's ``--json`` is the service's ``to_json()`` for the same request, and
« covered today », « with the stops » and « still out of reach » follow one definition
(checked on a small city against both former formulas, and on the real island).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import graph as graph_mod
from analysis import siting
from maillage import cli
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.services.stops import StopsRequest, StopsService
from maillage.settings import DRIVE_SPEEDS_KMH
from tests.network_fixtures import make_ways

WALK_KMH = 4.5
SCRIPT = Path(sys.executable).with_name("maillage")


def _maillage(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=600)


def _untimed(doc):
    """``doc`` without the wall-clock fields (the only ones two runs may differ in)."""
    if isinstance(doc, dict):
        return {k: _untimed(v) for k, v in doc.items() if k not in ("seconds", "solve_s")}
    if isinstance(doc, list):
        return [_untimed(v) for v in doc]
    return doc


def _as_printed(doc: dict) -> dict:
    """The document as ``print_json`` writes it and a reader gets it back."""
    return json.loads(json.dumps(doc, ensure_ascii=False, default=str))


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(("argv", "kwargs"), [
    (["--p", "0"], {"p": 0}),
    (["--p", "501"], {"p": 501}),
    (["--minutes", "-3"], {"minutes": -3.0}),
    (["--minutes", "61"], {"minutes": 61.0}),
    (["--mode", "vélo"], {"mode": "vélo"}),
    (["--model", "pmedian"], {"model": "pmedian"}),
    (["--share", "2"], {"share": 2.0}),
    (["--weight", "chats"], {"weights": "chats"}),
    (["--weight", "seniors=-1"], {"weights": "seniors=-1"}),
    (["--time-limit", "0"], {"time_limit": 0.0}),
    (["--places", "certains"], {"places": "certains"}),
])
def test_bad_requests_are_refused_alike_by_the_cli_and_the_service(argv, kwargs, capsys):
    with pytest.raises(MaillageError) as refused:
        StopsRequest(**kwargs).validated()
    assert cli.main(["propose-stops", *argv, "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["erreur"] == str(refused.value)
    assert "Traceback" not in err
    assert cli.main(["propose-stops", *argv]) == 2  # the same words without --json
    assert str(refused.value) in capsys.readouterr().err


def test_the_console_script_refuses_before_loading_anything(tmp_path):
    """No data folder at all: the refusal comes from the request check, in JSON and French."""
    with pytest.raises(MaillageError) as refused:
        StopsRequest(p=0).validated()
    res = _maillage(["propose-stops", "--p", "0", "--json"], tmp_path / "vide")
    assert res.returncode == 2
    assert json.loads(res.stdout)["erreur"] == str(refused.value)
    assert not (tmp_path / "vide").exists()


def test_request_normalises_weights_and_scope():
    communes = pd.DataFrame({"code_insee": ["97209", "97213", "97230"],
                             "nom": ["Fort-de-France", "Le Lamentin", "Le Robert"],
                             "epci_court": ["CACEM", "CACEM", "CAP Nord"],
                             "epci_siren": ["200041788", "200041788", "249720061"]})
    r = StopsRequest(weights="seniors=2, poor=1", scope=["97213", "97209", "97213"]).validated()
    assert r.weights == siting.parse_weight({"seniors": 2, "poor": 1})
    assert r.scope == ("97209", "97213")
    cacem = tuple(sorted(communes.loc[communes["epci_court"] == "CACEM", "code_insee"]))
    assert StopsRequest(scope="cacem").validated(communes).scope == cacem
    assert StopsRequest(scope="CACEM").validated().scope == "CACEM"  # resolved by run()
    for island in (None, "", "Martinique", []):
        assert StopsRequest(scope=island).validated(communes).scope is None
    with pytest.raises(MaillageError, match="Territoire inconnu"):
        StopsRequest(scope=["12345"]).validated()
    with pytest.raises(MaillageError, match="Territoire inconnu"):
        StopsRequest(scope=["97201"]).validated(communes)
    with pytest.raises(MaillageError, match="Solveur inconnu"):
        StopsRequest(solver="cplex").validated()
    assert r.validated() == r  # checking twice changes nothing


# --------------------------------------------------------------------------- one definition


def _grid_ways(k: int = 6, step: float = 0.002):
    lines = [[(i * step, j * step) for j in range(k)] for i in range(k)]
    lines += [[(i * step, j * step) for i in range(k)] for j in range(k)]
    return make_ways(lines, ["residential"] * len(lines))


@pytest.fixture(scope="module")
def small_city():
    """A 6 × 6 street grid, 40 cells in two communes, one fixed place, 8 candidate stops."""
    from analysis import snap

    g = graph_mod.build(_grid_ways(), "walk", DRIVE_SPEEDS_KMH, WALK_KMH)
    lo, hi = g.node_xy.min(axis=0), g.node_xy.max(axis=0)
    rng = np.random.default_rng(11)
    cell_xy = lo + rng.random((40, 2)) * (hi - lo)
    west = cell_xy[:, 0] < (lo[0] + hi[0]) / 2
    dem = pd.DataFrame({
        "cell_id": [f"c{i}" for i in range(40)],
        "code_insee": np.where(west, "97209", "97213"),
        "commune": np.where(west, "Fort-de-France", "Le Lamentin"), "epci": "CACEM",
        "population": rng.integers(1, 60, 40).astype(float),
        "seniors": rng.integers(0, 15, 40).astype(float),
        "age_80p": rng.integers(0, 5, 40).astype(float),
        "poor_households": rng.integers(0, 10, 40).astype(float),
        "x": cell_xy[:, 0], "y": cell_xy[:, 1],
    })
    dem["fragility_weight"] = dem["population"] * rng.uniform(0.8, 1.3, 40)
    cand_xy = lo + rng.random((8, 2)) * (hi - lo)
    lonlat = snap.to_lonlat(cand_xy)
    cands = pd.DataFrame({
        "cand_id": [f"ajout:{i}" for i in range(8)], "nom": [f"Arrêt {i}" for i in range(8)],
        "source": "ajout", "kind": "point ajouté",
        "code_insee": np.where(cand_xy[:, 0] < (lo[0] + hi[0]) / 2, "97209", "97213"),
        "lon": lonlat[:, 0], "lat": lonlat[:, 1], "x": cand_xy[:, 0], "y": cand_xy[:, 1],
    })
    inst = siting.prepare(g, dem, np.array([lo + 0.1 * (hi - lo)]), cands, max_minutes=20,
                          walk_kmh=WALK_KMH, max_snap_m=500)
    communes = pd.DataFrame({"code_insee": ["97209", "97213"],
                             "nom": ["Fort-de-France", "Le Lamentin"],
                             "epci_court": ["CACEM", "CACEM"],
                             "epci_siren": ["200041788", "200041788"]})
    return inst, communes


def _service(small_city, calls: list | None = None) -> StopsService:
    inst, communes = small_city

    def loader(mode, cutoff, s, places="all"):
        if calls is not None:
            calls.append((mode, places, cutoff))
        return inst

    return StopsService(settings_mod.Settings(), communes, loader=loader)


@pytest.mark.parametrize(("minutes", "weights", "scope", "solver"), [
    (6, "population", None, "highs"), (8, "seniors=2,poor=1", ["97209"], "greedy"),
    (10, "fragility", "CACEM", "highs")])
def test_today_with_stops_and_out_of_reach_follow_one_definition(small_city, minutes, weights,
                                                                 scope, solver):
    inst, _ = small_city
    res = _service(small_city).run(StopsRequest(p=2, minutes=minutes, weights=weights,
                                                scope=scope, solver=solver, time_limit=10))
    best = res.best
    w = siting.demand(inst.dem, res.request.weights)
    codes = res.scope
    in_scope = (inst.dem["code_insee"].isin(codes).to_numpy() if codes is not None
                else np.ones(len(inst.dem), dtype=bool))
    limit = minutes * 60.0
    # the two former formulas of « covered today » (CLI and page) agree with the service's
    assert res.covered_today == pytest.approx(float(w[in_scope][~inst.uncovered(minutes)[
        in_scope]].sum()))
    assert res.covered_today == pytest.approx(float(w[in_scope & (inst.base.seconds
                                                                  <= limit)].sum()))
    # ... and with the model: what it calls uncovered today is the rest of the scope
    assert res.demand_total - res.covered_today == pytest.approx(best.total)
    assert res.covered_with_stops - res.covered_today == pytest.approx(best.covered)
    after = inst.seconds_with(best.selected)
    assert res.covered_with_stops == pytest.approx(float(w[in_scope & (after <= limit)].sum()))
    assert res.still_out_of_reach == pytest.approx(res.demand_total - res.covered_with_stops)
    assert res.new_cells["weight"].sum() == pytest.approx(best.covered)
    # the per-commune table adds up to the same totals
    for col, total in (("demand", res.demand_total), ("demand_today", res.covered_today),
                       ("demand_with_stops", res.covered_with_stops)):
        assert res.communes[col].sum() == pytest.approx(total)
    assert res.stops["gain"].sum() == pytest.approx(best.covered)
    assert (res.milp is None) == (solver == "greedy")
    json.dumps(res.to_json(), allow_nan=False)  # plain, valid JSON


def test_instances_are_loaded_once_per_mode_and_places(small_city):
    calls: list = []
    svc = _service(small_city, calls)
    for minutes in (6, 10, 8):
        svc.run(StopsRequest(p=1, minutes=minutes, solver="greedy"))
    assert [c[:2] for c in calls] == [("walk", "all")]
    svc.run(StopsRequest(p=1, minutes=6, solver="greedy", places="labelled"))
    assert [c[:2] for c in calls] == [("walk", "all"), ("walk", "labelled")]
    assert svc.has_instance("walk", "all", 10) and not svc.has_instance("drive", "all")


# --------------------------------------------------------------------------- real island


def test_cli_arguments_make_the_request():
    from maillage.commands import stops as stops_cmd

    args = cli.build_parser().parse_args(["propose-stops", "--p", "4", "--mode", "drive",
                                          "--weight", "seniors=2", "--scope", "CACEM",
                                          "--greedy-only"])
    assert stops_cmd.request_from_args(args) == StopsRequest(
        p=4, mode="drive", weights="seniors=2", scope="CACEM", solver="greedy")
    args = cli.build_parser().parse_args(["propose-stops"])
    assert stops_cmd.request_from_args(args).solver == "highs"


@pytest.mark.slow
def test_cli_json_is_the_service_answer(prepared_data_dir, monkeypatch):
    """One real request through the console script and through the service (HiGHS, CACEM)."""
    from maillage.commands import stops as stops_cmd

    argv = ["--p", "3", "--minutes", "12", "--weight", "seniors=2,poor=1", "--scope", "CACEM",
            "--time-limit", "120"]
    res = _maillage(["propose-stops", *argv, "--json"], prepared_data_dir)
    assert res.returncode == 0, res.stderr
    printed = json.loads(res.stdout)

    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    s = settings_mod.from_env()
    args = cli.build_parser().parse_args(["propose-stops", *argv])
    request = stops_cmd.request_from_args(args)
    svc = StopsService.load(s)
    result = svc.run(request)
    assert _untimed(printed) == _untimed(_as_printed(result.to_json()))

    # « covered today » on the real island, as the page computed it (times ≤ the limit)
    req = result.request
    inst = svc.instance(req.mode, req.places, req.minutes)
    w = siting.demand(inst.dem, req.weights)
    in_scope = (inst.dem["code_insee"].isin(result.scope).to_numpy() if result.scope
                else np.ones(len(inst.dem), dtype=bool))
    today = float(w[in_scope & (inst.base.seconds <= req.minutes * 60.0)].sum())
    assert printed["covered_today"] == pytest.approx(today)
    best = printed["milp"] or printed["greedy"]
    assert printed["demand_total"] - printed["covered_today"] == pytest.approx(best["total"])
    assert printed["covered_with_stops"] - printed["covered_today"] == pytest.approx(
        best["covered"])
    assert printed["still_out_of_reach"] == pytest.approx(
        printed["demand_total"] - printed["covered_with_stops"])
