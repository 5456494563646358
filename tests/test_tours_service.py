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


# --------------------------------------------------------------------------- page pieces


def _result(weeks: int = 2):
    """A plan on a synthetic matrix (no road graph): 2 vans, a fixed-day market."""
    import numpy as np

    from analysis import tours
    from analysis.schedule import Period
    from analysis.tours import Problem, Travel, Van
    from maillage.services.tours import ToursResult

    w, d = schedule.stop_schedule("", "sam 07:00-12:00")
    stops = [Stop("<b>Marché</b>", -61.0, 14.6, "hebdomadaire", 7200, w, fixed_day=d),
             *[Stop(f"Arrêt {i}", -61.0, 14.6, "hebdomadaire", 3600) for i in range(3)]]
    vans = [Van("Camion 1", (-61.0, 14.6)), Van("Camion 2", (-61.0, 14.6))]
    problem = Problem(stops, vans, Period.with_holidays(date(2026, 5, 4), weeks,
                                                        (0, 1, 2, 3, 4, 5)))
    n = len(vans) + len(stops)
    tr = Travel(np.where(np.eye(n) > 0, 0.0, 900.0), np.zeros(n), np.ones(n, bool))
    return ToursResult(problem, tours.solve(problem, tr, 1), 1.0)


def test_the_page_shows_one_week_at_a_time_in_french():
    from maillage import fmt
    from ui import tours as ui

    result = _result()
    weeks = ui.week_starts(result)
    assert weeks == [date(2026, 5, 4), date(2026, 5, 11)]
    assert ui.week_label(result, weeks[1]).startswith(
        "Semaine 2 : du lundi 11 mai 2026 au dimanche 17 mai 2026 (")
    first = ui.in_week(result, weeks[0])
    assert first.tours and all(weeks[0] <= t.day < weeks[1] for t in first.tours)
    assert len(first.visits) + len(ui.in_week(result, weeks[1]).visits) == len(
        result.plan.visits)

    rows = ui.timeline_rows(result, weeks[0])
    assert len(rows[rows["Quoi"] != "pause"]) == len(first.visits)
    fig = ui.timeline(result, weeks[0])
    days = {t.day for t in first.tours}
    labels = {y for trace in fig.data for y in trace.y}
    assert labels == {f"{fmt.day_short(t.day)} · {result.problem.vans[t.van].name}"
                      for t in first.tours}
    assert all(lab.split(" ")[0] in fmt.WEEKDAYS_SHORT for lab in labels)
    assert fig.layout.xaxis.tickformat == "%H:%M"  # hours of the day across, no dates
    texts = {x for trace in fig.data for x in trace.text}
    assert "&lt;b&gt;Marché&lt;/b&gt;" in texts and "<b>Marché</b>" not in texts
    hovers = " ".join(str(c[1]) for trace in fig.data for c in trace.customdata)
    assert all(fmt.day_long(d) in hovers for d in days)
    english = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "May ", "Jan")
    shown = " ".join([*labels, *texts, hovers])
    assert not [w for w in english if w in shown]
    assert ui.timeline(result, date(2026, 6, 1)) is None  # nothing planned that week

    # the market keeps its Saturday; the idle van says why
    assert result.fixed_days[0].endswith("2 visites sur 2 à son jour fixe.")
    assert any("non utilisé — toutes les visites tiennent" in x for x in result.van_usage)


def test_attendance_is_offered_for_any_visit_of_a_published_plan():
    import pandas as pd

    from ui import tours as ui

    today = date(2026, 5, 10)
    vis = pd.DataFrame({"visit_date": [date(2026, 5, 4), date(2026, 5, 16)]})
    assert len(ui.attendance_visits(vis, "publié", today)) == 2
    assert ui.attendance_visits(vis, "brouillon", today)["visit_date"].tolist() == [
        date(2026, 5, 4)]
