"""Stops file, iCalendar, CSV and printable sheets of the van tours."""

from __future__ import annotations

import csv
import io
from datetime import date

import numpy as np
import pytest

from analysis import tours
from analysis.schedule import Period
from analysis.tours import Problem, Stop, Travel, Van
from geo import tours_io
from maillage.settings import ROOT


def _plan(names: list[str]) -> tuple[Problem, tours.Plan]:
    stops = [Stop(n, -61.0 + 0.01 * i, 14.6, "bimensuelle", 3600, address=f"{i} rue {n}")
             for i, n in enumerate(names)]
    vans = [Van("A", (-61.0, 14.6)), Van("B", (-61.0, 14.6))]
    problem = Problem(stops, vans, Period.with_holidays(date(2026, 5, 4), 2))
    n = len(vans) + len(stops)
    rng = np.random.default_rng(3)
    sec = rng.uniform(300, 1500, (n, n))
    np.fill_diagonal(sec, 0)
    return problem, tours.solve(problem, Travel(sec, np.zeros(n), np.ones(n, bool)), 1)


def test_ics_parses_back_and_holds_every_visit():
    from icalendar import Calendar

    problem, plan = _plan([f"Arrêt {i}" for i in range(6)])
    assert plan.visits
    cal = Calendar.from_ical(tours_io.plan_ics(plan, problem))
    events = [e for e in cal.walk("VEVENT")]
    assert len(events) == len(plan.visits)
    got = {(e.decoded("dtstart").date(), str(e.get("summary"))) for e in events}
    want = {(v.day, f"Atelier numérique mobile – {v.name}") for v in plan.visits}
    assert got == want
    for e in events:  # local time of Martinique, one hour per workshop
        start, end = e.decoded("dtstart"), e.decoded("dtend")
        assert start.utcoffset().total_seconds() == -4 * 3600
        assert (end - start).total_seconds() == 3600
    per_van = [Calendar.from_ical(tours_io.plan_ics(plan, problem, van=k)) for k in (0, 1)]
    assert sum(len(c.walk("VEVENT")) for c in per_van) == len(plan.visits)


def test_csv_and_sheet_escape_and_list_every_visit():
    evil = '<script>alert("x")</script>'
    problem, plan = _plan([evil, "Bourg", "Marché & Co"])
    rows = list(csv.DictReader(io.StringIO(tours_io.plan_csv(plan, problem))))
    assert len(rows) == len(plan.visits)
    assert {r["arret"] for r in rows} <= {s.name for s in problem.stops}
    for t in plan.tours:
        page = tours_io.day_sheet_html(plan, problem, t.van, t.day)
        assert "<script>" not in page
        for v in t.visits:
            assert tours_io.html.escape(v.name) in page


def test_template_file_reads():
    stops = tours_io.read_stops(ROOT / "docs" / "modele-arrets.csv")
    assert stops and all(s.name for s in stops)
    assert any(s.windows for s in stops)


def test_bad_rows_are_refused_whole_with_line_numbers(tmp_path):
    f = tmp_path / "arrets.csv"
    f.write_text("nom,longitude,latitude,frequence,duree_min,fenetres\n"
                 "Bon,-61.07,14.61,hebdomadaire,90,sam 07:00-12:00\n"
                 ",-61.07,14.61,,,\n"
                 "Paris,2.35,48.85,,,\n"
                 "Drôle,-61.0,14.6,annuelle,90,\n"
                 "Long,-61.0,14.6,,900,\n"
                 "Fenêtre,-61.0,14.6,,,sam 12:00-07:00\n"
                 "Bon,-61.02,14.62,,,\n", encoding="utf-8")
    with pytest.raises(tours_io.StopsFileError) as err:
        tours_io.read_stops(f)
    lines = {n for n, _ in err.value.problems}
    assert lines == {3, 4, 5, 6, 7, 8}
    assert "ligne 4" in str(err.value) and "hors de la Martinique" in str(err.value)


def test_missing_columns_are_refused(tmp_path):
    f = tmp_path / "arrets.csv"
    f.write_text("nom,lon,lat\nA,-61,14.6\n", encoding="utf-8")
    with pytest.raises(tours_io.StopsFileError, match="longitude"):
        tours_io.read_stops(f)


def test_problem_round_trips():
    problem, _ = _plan(["A", "B"])
    problem.pins = {(0, 1): tours.Pin(date(2026, 5, 13), 1)}
    again = tours_io.problem_from_dict(tours_io.problem_to_dict(problem))
    assert again.stops == problem.stops and again.vans == problem.vans
    assert again.pins == problem.pins and again.period == problem.period


def test_plan_csv_neutralises_formula_cells_and_reads_them_back(tmp_path) -> None:
    """Stop names typed as formulas are written with a leading ' and read back unchanged."""
    import csv
    import io
    from datetime import date

    import numpy as np

    from analysis import tours
    from analysis.schedule import Period
    from analysis.tours import Problem, Stop, Travel, Van
    from geo import tours_io

    names = ["=cmd|' /C calc'!A0", "+33 Place", "@SUM(A1)", "Bourg"]
    stops = [Stop(n, -61.05 + 0.01 * i, 14.62, "hebdomadaire", 3600, key=f"k{i}",
                  address="-rue" if i == 0 else "") for i, n in enumerate(names)]
    problem = Problem(stops, [Van("=Camion", (-61.07, 14.61))],
                      Period.with_holidays(date(2026, 6, 1), 1))
    sec = np.full((5, 5), 600.0)
    np.fill_diagonal(sec, 0)
    plan = tours.solve(problem, Travel(sec, np.zeros(5), np.ones(5, bool)), 1)
    rows = list(csv.DictReader(io.StringIO(tours_io.plan_csv(plan, problem))))
    assert rows, "aucune visite planifiée"
    for r in rows:
        for value in r.values():
            assert value[:1] not in ("=", "+", "@", "-") or value.lstrip("+-").replace(
                ".", "").isdigit(), value
    written = {r["arret"] for r in rows}
    assert {"'" + n for n in names[:3]} <= written
    path = tmp_path / "arrets.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["nom", "longitude", "latitude"])
        w.writerows([[r["arret"], r["longitude"], r["latitude"]] for r in rows
                     if r["date"] == rows[0]["date"]])
    back = {st.name for st in tours_io.read_stops(path)}
    assert back <= set(names) and back & set(names[:3])


def test_jour_fixe_column_reads_checks_and_round_trips(tmp_path):
    f = tmp_path / "arrets.csv"
    f.write_text("nom,longitude,latitude,frequence,fenetres,jour_fixe\n"
                 "Marché,-61.07,14.61,hebdomadaire,,sam 07:00-12:00\n"
                 "Salle,-61.02,14.62,bimensuelle,mer 08:00-12:00; ven 08:00-12:00,mer\n"
                 "Libre,-61.03,14.63,,,\n", encoding="utf-8")
    market, hall, free = tours_io.read_stops(f)
    assert (market.fixed_day, market.fixed_label) == (5, "samedi 07:00-12:00")
    assert (hall.fixed_day, [w.weekday for w in hall.windows]) == (2, [2])
    assert free.fixed_day is None and free.fixed_label == ""
    problem = Problem([market, hall, free], [Van("Camion 1", (-61.0, 14.6))],
                      Period.with_holidays(date(2026, 5, 4), 2))
    again = tours_io.problem_from_dict(tours_io.problem_to_dict(problem))
    assert again.stops == problem.stops
    # a plan stored before the column existed reads back without a fixed day
    old = tours_io.problem_to_dict(problem)
    for s in old["stops"]:
        del s["fixed_day"]
    assert all(s.fixed_day is None for s in tours_io.problem_from_dict(old).stops)

    bad = tmp_path / "mauvais.csv"
    bad.write_text("nom,longitude,latitude,fenetres,jour_fixe\n"
                   "Bon,-61.07,14.61,,sam\n"
                   "Deux jours,-61.07,14.62,,sam-dim\n"
                   "Sans fenêtre,-61.07,14.63,mer 14:00-17:00,sam\n", encoding="utf-8")
    with pytest.raises(tours_io.StopsFileError) as err:
        tours_io.read_stops(bad)
    assert {n for n, _ in err.value.problems} == {3, 4}
    assert "un seul jour" in str(err.value) and "aucune fenêtre" in str(err.value)


def test_template_offers_the_fixed_day_and_the_sheet_reads_in_french():
    text = tours_io.template_csv().decode("utf-8")
    assert text.splitlines()[0].split(",") == [*tours_io.REQUIRED, *tours_io.OPTIONAL]
    assert any(s.fixed_day == 5 for s in tours_io.read_stops(tours_io.TEMPLATE))
    problem, plan = _plan(["Bourg"])
    t = plan.tours[0]
    sheet = tours_io.day_sheet_html(plan, problem, t.van, t.day)
    van = problem.vans[t.van].name
    assert f"<h1>Tournée – {van} – " in sheet and "Tournée du camion" not in sheet
    from maillage import fmt

    assert fmt.day_long(t.day) in sheet
    from icalendar import Calendar

    cal = Calendar.from_ical(tours_io.plan_ics(plan, problem))
    assert all(str(e.get("description")).startswith(f"{problem.vans[0].name}, ")
               or str(e.get("description")).startswith(f"{problem.vans[1].name}, ")
               for e in cal.walk("VEVENT"))
