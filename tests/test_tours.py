"""Van tours: every visit checked against its window, the van's hours and the matrix.

Matrices are small synthetic ones built here (asymmetric, with a one-way
detour); the checker recomputes every arrival from the matrix independently of
:mod:`analysis.tours`.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

import numpy as np
import pytest

from analysis import schedule, tours
from analysis.schedule import Period, parse_windows
from analysis.tours import Pin, Problem, Stop, Travel, Van

START = date(2026, 5, 4)  # a Monday; 8, 14, 22 and 25 May are holidays in Martinique
BLOCK = {"hebdomadaire": 7, "bimensuelle": 14, "mensuelle": 28}


def _matrix(n: int, seed: int = 1) -> np.ndarray:
    """Drive seconds between n random points at 40 km/h, 15 % slower one way."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 35_000, (n, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.3 / (40 / 3.6)
    d = d * np.where(np.triu(np.ones((n, n)), 1) > 0, 1.15, 1.0)
    return d + rng.uniform(0, 59, (n, n)) * (d > 0)


def _problem(n_stops: int = 12, weeks: int = 2) -> tuple[Problem, Travel]:
    vans = [Van("Nord", (0, 0)), Van("Sud", (0, 0), start=7 * 3600 + 1800, end=16 * 3600,
                                      lunch_earliest=11 * 3600 + 1800, lunch=2700)]
    freqs = ["hebdomadaire", "bimensuelle", "mensuelle"]
    stops = [Stop(f"Arrêt {i}", 0, 0, freqs[i % 3], (60 + 15 * (i % 4)) * 60)
             for i in range(n_stops)]
    stops[1] = Stop("Marché", 0, 0, "hebdomadaire", 7200, parse_windows("sam 06:30-12:00; "
                                                                         "mer 08:00-11:30"))
    stops[2] = Stop("Après-midi", 0, 0, "bimensuelle", 5400, parse_windows("lun-ven 14:00-17:00"))
    stops[3] = Stop("Deux créneaux", 0, 0, "hebdomadaire", 3600,
                    parse_windows("mar,jeu 08:00-09:30; mar,jeu 15:00-16:30"))
    period = Period.with_holidays(START, weeks, workdays=(0, 1, 2, 3, 4, 5))
    n = len(vans) + n_stops
    return Problem(stops, vans, period), Travel(_matrix(n), np.zeros(n), np.ones(n, bool))


def check_plan(problem: Problem, tr: Travel, plan: tours.Plan) -> int:
    """Assert every rule on every tour; return the number of visits checked."""
    n_vans = len(problem.vans)
    sec = tr.seconds
    seen = set()
    for t in plan.tours:
        van = problem.vans[t.van]
        assert t.day.weekday() in problem.period.workdays
        assert t.day not in problem.period.closed, f"visite un jour férié : {t.day}"
        assert problem.period.start <= t.day <= problem.period.last
        assert van.start <= t.leave and t.back <= van.end, "hors des horaires du camion"
        gaps = []  # (free from, free until, drive seconds) of each leg
        prev, free = t.van, t.leave
        for v in t.visits:
            s = problem.stops[v.stop]
            assert v.end - v.start == s.duration
            wins = [w for w in s.windows if w.weekday == t.day.weekday()] if s.windows else [
                schedule.Window(t.day.weekday(), 0, 86400)]
            assert any(w.start <= v.start and v.end <= w.end for w in wins), (
                f"{s.name} hors fenêtre : {v.start}-{v.end} le {t.day}")
            gaps.append((free, v.start, sec[prev, n_vans + v.stop]))
            prev, free = n_vans + v.stop, v.end
            key = (v.stop, v.occurrence)
            assert key not in seen, f"visite en double : {key}"
            seen.add(key)
            first = problem.period.start + timedelta(days=BLOCK[s.frequency] * v.occurrence)
            pin = problem.pins.get(key)
            if pin is None:
                assert first <= t.day < first + timedelta(days=BLOCK[s.frequency])
            else:
                assert t.day == pin.day
        gaps.append((free, t.back, sec[prev, t.van]))
        lunch_leg = None
        if t.lunch is not None:
            lo, hi = t.lunch, t.lunch + van.lunch
            assert van.lunch_earliest <= t.lunch <= van.lunch_latest, "pause hors créneau"
            for v in t.visits:
                assert hi <= v.start or lo >= v.end, "pause pendant un atelier"
            lunch_leg = next((k for k, (a, b, _) in enumerate(gaps) if a <= lo and hi <= b), None)
            assert lunch_leg is not None or hi <= t.leave or lo >= t.back, "pause à cheval"
        for k, (a, b, drive) in enumerate(gaps):
            need = drive + (van.lunch if k == lunch_leg else 0)
            assert b - a >= need - 1e-6, f"trajet trop court : {b - a} < {need}"
    assert len(seen) == len(plan.visits)
    return len(seen)


def _required(problem: Problem) -> int:
    days = problem.period.n_days
    return sum(math.ceil(days / BLOCK[s.frequency]) for s in problem.stops)


def test_every_visit_respects_windows_hours_and_matrix():
    problem, tr = _problem()
    plan = tours.solve(problem, tr, time_limit=2)
    n = check_plan(problem, tr, plan)
    assert n > 0
    assert n + len(plan.unserved) == _required(problem), "visite perdue sans explication"
    # the drive time reported is the matrix's along each tour
    for t in plan.tours:
        chain = [t.van] + [len(problem.vans) + v.stop for v in t.visits] + [t.van]
        assert t.drive_s == pytest.approx(sum(
            tr.seconds[a, b] for a, b in itertools.pairwise(chain)))


def test_baseline_follows_the_same_rules_and_costs_no_less():
    problem, tr = _problem()
    greedy = tours.nearest_neighbour(problem, tr)
    check_plan(problem, tr, greedy)
    assert len(greedy.visits) + len(greedy.unserved) == _required(problem)
    best = tours.solve(problem, tr, time_limit=2)
    # the solver serves at least as many visits, and when it serves as many, drives no more
    assert len(best.visits) >= len(greedy.visits)
    if len(best.visits) == len(greedy.visits):
        assert best.drive_s <= greedy.drive_s + 1


def test_impossible_stops_are_reported_with_their_reason():
    problem, tr = _problem(n_stops=8, weeks=1)
    n_vans = len(problem.vans)
    stops = [
        *problem.stops,
        Stop("Fenêtre trop courte", 0, 0, "hebdomadaire", 7200, parse_windows("lun 08:00-09:00")),
        Stop("Trop loin", 0, 0, "hebdomadaire", 3600),
        Stop("En mer", 0, 0, "hebdomadaire", 3600),
        Stop("Dimanche seulement", 0, 0, "hebdomadaire", 3600, parse_windows("dim 09:00-12:00")),
    ]
    n = n_vans + len(stops)
    sec = np.full((n, n), 600.0)
    sec[: tr.seconds.shape[0], : tr.seconds.shape[1]] = tr.seconds
    far = n_vans + len(stops) - 3
    sec[far, :] = sec[:, far] = 5 * 3600.0  # 5 h each way: no room for a workshop
    np.fill_diagonal(sec, 0)
    snapped = np.ones(n, bool)
    snapped[far + 1] = False
    dist = np.where(snapped, 5.0, 2400.0)
    problem = Problem(stops, problem.vans, problem.period)
    tr = Travel(sec, dist, snapped, 500.0)
    plan = tours.solve(problem, tr, time_limit=1)
    check_plan(problem, tr, plan)
    reasons = {u.name: u.reason for u in plan.unserved}
    assert reasons["Fenêtre trop courte"] == tours.R_WINDOW
    assert reasons["Trop loin"] == tours.R_ALONE
    assert reasons["En mer"] == tours.R_SNAP
    assert reasons["Dimanche seulement"] == tours.R_NO_DAY
    assert all(u.message for u in plan.unserved)


def test_capacity_of_the_period_is_reported():
    vans = [Van("Seul", (0, 0), lunch=0)]
    stops = [Stop(f"S{i}", 0, 0, "hebdomadaire", 3 * 3600) for i in range(8)]
    period = Period(START + timedelta(days=21), 1, (0, 1))  # two open days
    problem = Problem(stops, vans, period)
    n = 1 + len(stops)
    tr = Travel(np.where(np.eye(n) > 0, 0.0, 900.0), np.zeros(n), np.ones(n, bool))
    plan = tours.solve(problem, tr, time_limit=1)
    check_plan(problem, tr, plan)
    assert len(plan.visits) + len(plan.unserved) == len(stops)
    assert plan.unserved and {u.reason for u in plan.unserved} == {tours.R_CAPACITY}


def test_pinned_visit_lands_on_its_day_and_closed_pin_is_explained():
    problem, tr = _problem(n_stops=6, weeks=2)
    day = START + timedelta(days=9)  # Wednesday of week 2
    holiday = date(2026, 5, 14)
    problem.pins = {(0, 1): Pin(day, 1), (4, 0): Pin(holiday)}
    plan = tours.solve(problem, tr, time_limit=1)
    check_plan(problem, tr, plan)
    pinned = [(v.day, v.van) for v in plan.visits if (v.stop, v.occurrence) == (0, 1)]
    assert pinned == [(day, 1)]
    assert [u.reason for u in plan.unserved if (u.stop, u.occurrence) == (4, 0)] == [
        tours.R_PIN]


def test_holidays_of_martinique_include_abolition_day():
    days = schedule.holidays_972(date(2026, 1, 1), date(2026, 12, 31))
    assert date(2026, 5, 22) in days
    assert date(2026, 5, 22) not in Period.with_holidays(date(2026, 5, 18), 1).days()


def test_windows_parse_and_refuse():
    ws = parse_windows("sam 07:00-12:00; lun-mer 14h00-17h30")
    assert {w.weekday for w in ws} == {5, 0, 1, 2}
    assert all(w.end > w.start for w in ws)
    for bad in ("sam 12:00-07:00", "xyz 08:00-09:00", "8-9"):
        with pytest.raises(schedule.ScheduleError):
            parse_windows(bad)


def test_plan_round_trips_through_json():
    problem, tr = _problem(n_stops=5, weeks=1)
    plan = tours.solve(problem, tr, time_limit=1)
    again = tours.Plan.from_dict(plan.to_dict())
    assert again.to_dict()["tours"] == plan.to_dict()["tours"]
    assert len(again.unserved) == len(plan.unserved)


def test_upcoming_visits_of_a_stop_and_near_a_point():
    import pandas as pd

    from analysis.tours import visit_datetimes

    rows = []
    for k, (name, lon, lat) in enumerate([("Bourg", -61.0, 14.6), ("Loin", -60.85, 14.8)]):
        for w in range(3):
            day = START + timedelta(days=7 * w + k)
            rows.append({"stop_key": name, "stop_name": name, "lon": lon, "lat": lat,
                         "starts_at": visit_datetimes(day, 9 * 3600),
                         "ends_at": visit_datetimes(day, 11 * 3600)})
    df = pd.DataFrame(rows)
    after = visit_datetimes(START + timedelta(days=3), 0)
    mine = tours.upcoming(df, after, stop_key="Bourg")
    assert list(mine["stop_key"].unique()) == ["Bourg"] and len(mine) == 2
    assert (mine["starts_at"] >= pd.Timestamp(after)).all()
    near = tours.upcoming(df, after, near=(-61.001, 14.601), radius_m=2000)
    assert set(near["stop_key"]) == {"Bourg"} and (near["distance_m"] < 2000).all()


def test_real_town_halls_on_the_drive_network():
    """Six real town halls, one van, one week: checked against the real drive matrix."""
    from geo import graphs, tours_io

    halls = tours_io.town_halls()[:6]
    problem = Problem(halls, [Van("Camion", tours_io.default_depot())],
                      Period.with_holidays(START, 1))
    g, pts, tr = graphs.on_island(problem)
    assert tr.snapped.all() and np.isfinite(tr.seconds).all()
    plan = tours.solve(problem, tr, time_limit=2)
    assert check_plan(problem, tr, plan) + len(plan.unserved) == _required(problem)
    lines = tours.tour_lines(g, pts, problem, plan.tours[0])
    assert len(lines) == len(plan.tours[0].visits) + 1
    for line in lines:  # along the roads: more vertices than a straight segment
        assert len(line) > 2


# --------------------------------------------------------------------------- fixed weekday


def test_fixed_day_parses_alone_or_with_a_slot_and_refuses_in_french():
    assert schedule.parse_fixed_day("") == (None, ())
    assert schedule.parse_fixed_day("Samedi") == (5, ())
    day, slots = schedule.parse_fixed_day("sam 07:00-12:00")
    assert day == 5 and slots == parse_windows("sam 07:00-12:00")
    for bad, word in (("sam-dim", "un seul jour"), ("07:00-12:00", "jour avant"),
                      ("sam 07:00-12:00; mer 14:00-17:00", "un seul jour"),
                      ("xyz", "inconnu"), ("sam 12:00-07:00", "fin doit suivre")):
        with pytest.raises(schedule.ScheduleError, match=word):
            schedule.parse_fixed_day(bad)
    # the slot is cut to the stop's windows of that day; nothing left is refused
    windows, fixed = schedule.stop_schedule("sam 06:30-10:00; mer 14:00-17:00",
                                            "sam 08:00-12:00")
    assert fixed == 5 and windows == parse_windows("sam 08:00-10:00")
    assert schedule.stop_schedule("mer 14:00-17:00", "") == (parse_windows("mer 14:00-17:00"),
                                                            None)
    with pytest.raises(schedule.ScheduleError, match="aucune fenêtre"):
        schedule.stop_schedule("mer 14:00-17:00", "sam")
    with pytest.raises(schedule.ScheduleError, match="ne recoupe"):
        schedule.stop_schedule("sam 06:30-08:00", "sam 09:00-12:00")


def _fixed_problem(workdays=(0, 1, 2, 3, 4, 5), weeks: int = 4, start: date = START,
                   extra: list[Stop] | None = None) -> tuple[Problem, Travel]:
    market_w, market_d = schedule.stop_schedule("", "sam 07:00-12:00")
    fort_w, fort_d = schedule.stop_schedule("mer 08:00-12:00; ven 08:00-12:00", "mer")
    stops = [Stop("Marché", 0, 0, "hebdomadaire", 7200, market_w, fixed_day=market_d),
             Stop("Quinzaine", 0, 0, "bimensuelle", 3600, fort_w, fixed_day=fort_d),
             *[Stop(f"Libre {i}", 0, 0, "hebdomadaire", 3600) for i in range(4)],
             *(extra or [])]
    vans = [Van("Camion 1", (0, 0)), Van("Camion 2", (0, 0))]
    n = len(vans) + len(stops)
    problem = Problem(stops, vans, Period.with_holidays(start, weeks, workdays=workdays))
    return problem, Travel(_matrix(n, seed=3), np.zeros(n), np.ones(n, bool))


def test_fixed_day_stops_keep_their_weekday_every_week_or_every_other_week():
    problem, tr = _fixed_problem()
    plan = tours.solve(problem, tr, time_limit=2)
    check_plan(problem, tr, plan)
    market = sorted(v.day for v in plan.visits if v.name == "Marché")
    fortnight = sorted(v.day for v in plan.visits if v.name == "Quinzaine")
    # every Saturday of the four weeks, and the Wednesdays of weeks 1 and 3
    assert market == [START + timedelta(days=5 + 7 * k) for k in range(4)]
    assert fortnight == [START + timedelta(days=2), START + timedelta(days=16)]
    assert all(v.start >= 7 * 3600 and v.end <= 12 * 3600 for v in plan.visits
               if v.name == "Marché")
    assert not [u for u in plan.unserved if u.name in ("Marché", "Quinzaine")]
    report = tours.fixed_day_report(problem, plan)
    assert report == [
        "Marché — samedi 07:00-12:00, chaque semaine : 4 visites sur 4 à son jour fixe.",
        "Quinzaine — mercredi 08:00-12:00, une semaine sur deux : 2 visites sur 2 à son "
        "jour fixe."]
    # the greedy baseline follows the same rule
    greedy = tours.nearest_neighbour(problem, tr)
    check_plan(problem, tr, greedy)
    assert {v.day.weekday() for v in greedy.visits if v.name == "Marché"} <= {5}


def test_a_fixed_day_that_cannot_be_kept_is_reported_not_moved():
    # Saturday is not worked: no market visit is moved to another day, each one explained
    problem, tr = _fixed_problem(workdays=(0, 1, 2, 3, 4))
    plan = tours.solve(problem, tr, time_limit=1)
    check_plan(problem, tr, plan)
    assert not [v for v in plan.visits if v.name == "Marché"]
    lost = [u for u in plan.unserved if u.name == "Marché"]
    assert len(lost) == 4 and {u.reason for u in lost} == {tours.R_FIXED}
    assert "samedi 9 mai 2026" in lost[0].message
    assert "n'est pas un jour travaillé" in lost[0].message
    assert "0 visite sur 4" in tours.fixed_day_report(problem, plan)[0]
    # holidays on the fixed day (Fridays 8 and 22 May) are named; the other Fridays kept
    w, d = schedule.stop_schedule("", "ven")
    problem, tr = _fixed_problem(extra=[Stop("Vendredi", 0, 0, "hebdomadaire", 3600, w,
                                             fixed_day=d)])
    plan = tours.solve(problem, tr, time_limit=1)
    check_plan(problem, tr, plan)
    friday = [u for u in plan.unserved if u.name == "Vendredi"]
    assert [u.reason for u in friday] == [tours.R_FIXED, tours.R_FIXED]
    for u, holiday in zip(friday, (date(2026, 5, 8), date(2026, 5, 22)), strict=True):
        assert f"vendredi {holiday.day} mai 2026" in u.message
        assert problem.period.closed[holiday] in u.message
    assert sorted(v.day for v in plan.visits if v.name == "Vendredi") == [
        date(2026, 5, 15), date(2026, 5, 29)]


def test_a_full_fixed_day_is_reported_with_the_day():
    """Two 3-hour markets on the same Saturday morning and one van: one cannot be kept."""
    w, d = schedule.stop_schedule("", "sam 08:00-13:00")
    stops = [Stop(f"Marché {k}", 0, 0, "hebdomadaire", 3 * 3600, w, fixed_day=d)
             for k in range(2)]
    problem = Problem(stops, [Van("Camion 1", (0, 0), lunch=0)],
                      Period.with_holidays(START, 1, workdays=(5,)))
    tr = Travel(np.where(np.eye(3) > 0, 0.0, 600.0), np.zeros(3), np.ones(3, bool))
    plan = tours.solve(problem, tr, time_limit=1)
    check_plan(problem, tr, plan)
    assert len(plan.visits) == 1 and len(plan.unserved) == 1
    u = plan.unserved[0]
    assert u.reason == tours.R_CAPACITY
    assert "samedi 9 mai 2026, jour fixe de l'arrêt" in u.message


def test_van_usage_says_why_a_van_is_not_used():
    vans = [Van("Camion 1", (0, 0)), Van("Camion 2", (0, 0))]
    stops = [Stop(f"S{i}", 0, 0, "hebdomadaire", 3600) for i in range(3)]
    problem = Problem(stops, vans, Period.with_holidays(START + timedelta(days=21), 1))
    n = len(vans) + len(stops)
    tr = Travel(np.where(np.eye(n) > 0, 0.0, 900.0), np.zeros(n), np.ones(n, bool))
    plan = tours.solve(problem, tr, time_limit=1)
    used = {t.van for t in plan.tours}
    lines = tours.van_usage(problem, plan)
    assert len(lines) == 2 and not plan.unserved
    idle = [line for line, v in zip(lines, (0, 1), strict=True) if v not in used]
    busy = [line for line, v in zip(lines, (0, 1), strict=True) if v in used]
    assert busy and all(" h de route." in x and "visite" in x for x in busy)
    other = problem.vans[next(iter(used))].name.split()[-1]
    for line in idle:  # the solver drives least with one van: the other one is said idle
        assert "non utilisé — toutes les visites tiennent dans les journées du camion " \
               f"{other} ; réduire les journées ou ajouter des arrêts l'occuperait." in line
    # a day too short for all the visits: both vans are used, and none is said idle
    busy_stops = [Stop(f"S{i}", 0, 0, "hebdomadaire", 3 * 3600) for i in range(8)]
    problem = Problem(busy_stops, vans, Period.with_holidays(START + timedelta(days=21), 1,
                                                             workdays=(0, 1)))
    n = len(vans) + len(busy_stops)
    tr = Travel(np.where(np.eye(n) > 0, 0.0, 900.0), np.zeros(n), np.ones(n, bool))
    plan = tours.solve(problem, tr, time_limit=1)
    assert {t.van for t in plan.tours} == {0, 1}
    assert not [x for x in tours.van_usage(problem, plan) if "non utilisé" in x]
