"""The tours service: the CLI and the page check and plan the same request the same way.

The limits are the service's (1 to 10 vans, a lunch break inside the working day,
ranges that do not run backwards…): the console script and
:meth:`ToursRequest.validated` accept and refuse alike, with the same French message,
and ``maillage tours --json`` prints the service's ``to_json()`` for the same request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from analysis import schedule
from analysis.tours import Stop
from maillage import cli
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.services.tours import ToursRequest, ToursService, stops_from_csv

SCRIPT = Path(sys.executable).with_name("maillage")
#: Two stops in Fort-de-France and Le Lamentin (a file read like any user's).
STOPS_CSV = ("nom,longitude,latitude,duree_min\n"
             "Parvis de la mairie,-61.0589,14.6047,60\n"
             "Place du marché,-61.0000,14.6100,60\n")


def _maillage(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture()
def stops_file(tmp_path: Path) -> Path:
    path = tmp_path / "arrets.csv"
    path.write_text(STOPS_CSV, encoding="utf-8")
    return path


def _request(stops_file: Path, args: list[str]) -> ToursRequest:
    """The request the command line builds from ``args`` (its own parser and builder)."""
    from maillage.commands import tours as tours_cmd

    parsed = cli.build_parser().parse_args(
        ["tours", "--stops", str(stops_file), "--out", "plan.json", *args])
    return tours_cmd.request_from_args(parsed)


# --------------------------------------------------------------------------- refusals


REFUSED = [
    ["--vans", "11"], ["--vans", "0"], ["--weeks", "27"], ["--time-limit", "0"],
    ["--start", "2026-13-01"], ["--hours", "17:00-08:00"], ["--hours", "8h-midi"],
    ["--lunch", "13:00-12:00"], ["--lunch", "18:00-19:00"], ["--lunch", "07:00-08:00"],
    ["--lunch", "12:00-16:30"], ["--lunch-min", "-5"], ["--workdays", "lun-xyz"],
    ["--workdays", ""], ["--depot", "-62.5,14.6"],
]


@pytest.mark.parametrize("args", REFUSED)
def test_the_cli_and_the_service_refuse_alike_in_french(stops_file, tmp_path, capsys, args):
    request = ToursRequest(stops=stops_from_csv(stops_file))
    with pytest.raises(MaillageError) as refused:
        _request(stops_file, args).validated()
    out = tmp_path / "plan.json"
    assert cli.main(["tours", "--stops", str(stops_file), "--out", str(out), "--json",
                     *args]) == 2
    printed = capsys.readouterr().out
    assert json.loads(printed)["erreur"] == str(refused.value)
    assert not out.exists()
    assert request.validated().stops == request.stops  # the stops themselves are fine


@pytest.mark.parametrize(("args", "message"), [
    (["--vans", "11"], "Nombre de camions attendu entre 1 et 10."),
    (["--lunch", "18:00-19:00"], "La pause déjeuner doit tenir dans les horaires de travail."),
])
def test_console_script_refusals_are_the_service_messages(stops_file, tmp_path, args, message):
    """11 vans and a lunch outside the day: the same French message from both, in JSON."""
    with pytest.raises(MaillageError) as refused:
        _request(stops_file, args).validated()
    assert str(refused.value) == message
    res = _maillage(["tours", "--stops", str(stops_file), "--out", str(tmp_path / "p.json"),
                     "--json", *args], tmp_path / "vide")
    assert res.returncode == 2
    assert json.loads(res.stdout)["erreur"] == message
    assert not (tmp_path / "p.json").exists()


def test_a_refused_file_is_reported_line_by_line_in_json(tmp_path, capsys):
    bad = tmp_path / "arrets.csv"
    bad.write_text("nom,longitude,latitude\nA,-61.0,14.6\nB,-61.0,abc\n", encoding="utf-8")
    assert cli.main(["tours", "--stops", str(bad), "--out", str(tmp_path / "p.json"),
                     "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    with pytest.raises(MaillageError) as refused:
        stops_from_csv(bad)
    assert doc["erreur"] == str(refused.value) and "ligne 3" in doc["erreur"]


# --------------------------------------------------------------------------- accepted


def test_ten_vans_and_the_page_inputs_make_the_cli_problem(stops_file):
    """The page passes seconds, weekday numbers and a date; the CLI text: same problem."""
    cli_req = _request(stops_file, ["--vans", "10", "--hours", "07:30-16:00", "--lunch",
                                    "11:30-12:30", "--lunch-min", "45", "--workdays",
                                    "lun,mer,ven", "--start", "2026-06-01", "--weeks", "2",
                                    "--depot", "-61.07,14.61"])
    page_req = ToursRequest(
        stops=tuple(stops_from_csv(stops_file)), vans=10, depot=(-61.07, 14.61),
        hours=(schedule.parse_time("07:30"), schedule.parse_time("16:00")),
        lunch=(schedule.parse_time("11:30"), schedule.parse_time("12:30")), lunch_min=45,
        weeks=2, start=date(2026, 6, 1), workdays=(4, 0, 2), time_limit=30)
    assert cli_req.validated() == page_req.validated()
    problem = cli_req.validated().problem((0.0, 0.0))
    assert len(problem.vans) == 10 and {v.depot for v in problem.vans} == {(-61.07, 14.61)}
    assert problem.period.workdays == (0, 2, 4)


def test_default_start_is_next_monday_and_depot_is_left_to_the_service():
    r = ToursRequest(stops=(Stop("A", -61.0, 14.6),)).validated()
    assert r.start.weekday() == 0 and 0 < (r.start - date.today()).days <= 7
    assert r.depot is None
    with pytest.raises(MaillageError, match="Aucun arrêt"):
        ToursRequest().validated()


@pytest.mark.slow
def test_cli_json_is_the_service_plan_with_four_vans(prepared_data_dir, tmp_path, monkeypatch):
    """4 vans accepted by both; the printed plan, the --out file and to_json() agree."""
    from geo import tours_io

    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    s = settings_mod.from_env()
    halls = tours_io.town_halls(s)[10:13]
    stops_file = tmp_path / "mairies.csv"
    stops_file.write_text("nom,longitude,latitude,duree_min\n" + "".join(
        f"{h.name},{h.lon},{h.lat},90\n" for h in halls), encoding="utf-8")
    args = ["--vans", "4", "--weeks", "1", "--start", "2026-06-01", "--time-limit", "2",
            "--lunch", "12:00-13:30", "--lunch-min", "45"]
    out = tmp_path / "plan.json"
    res = _maillage(["tours", "--stops", str(stops_file), "--out", str(out), "--json", *args],
                    prepared_data_dir)
    assert res.returncode == 0, res.stderr
    printed = json.loads(res.stdout)
    assert printed == json.loads(out.read_text(encoding="utf-8"))

    result = ToursService.load(s).run(_request(stops_file, args))
    doc = json.loads(json.dumps(result.to_json(), ensure_ascii=False, default=str))
    for d in (printed, doc):
        d["summary"].pop("solve_s")
    assert printed == doc
    assert len(printed["problem"]["vans"]) == len(result.problem.vans) == 4
    n = sum(len(t["visits"]) for t in printed["tours"])
    assert n + len(printed["unserved"]) == printed["summary"]["required"]
    assert set(result.lines) == {(t.van, t.day) for t in result.plan.tours}
