"""Storage of the van tours: save, adjust, publish, next visits, attendance."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from analysis import tours
from analysis.schedule import Period
from analysis.tours import Problem, Stop, Travel, Van, visit_datetimes
from maillage import auth, tour_store


def _problem_plan():
    stops = [Stop(f"Arrêt {i}", -61.05 + 0.02 * i, 14.62, "hebdomadaire", 3600, key=f"s{i}")
             for i in range(4)]
    problem = Problem(stops, [Van("A", (-61.07, 14.61))], Period.with_holidays(
        date(2026, 6, 1), 2))
    n = 1 + len(stops)
    sec = np.full((n, n), 900.0)
    np.fill_diagonal(sec, 0)
    tr = Travel(sec, np.zeros(n), np.ones(n, bool))
    return problem, tr, tours.solve(problem, tr, 1)


@pytest.fixture()
def store_settings(tmp_settings, store_url):
    """A fresh store on SQLite, then on PostgreSQL."""
    return replace(tmp_settings, database_url=store_url)


@pytest.fixture()
def fed(store_settings):
    auth.add_user("fede", "federation", "camion bleu sous la pluie 97", store_settings)
    auth.add_user("epci", "epci", "camion bleu sous la pluie 97", store_settings)
    return auth.Actor("fede", "federation"), auth.Actor("epci", "epci")


def test_save_publish_next_visits_and_attendance(store_settings, fed):
    s = store_settings
    actor, other = fed
    problem, tr, plan = _problem_plan()
    with pytest.raises(tour_store.TourError):
        tour_store.save_plan(other, problem, plan, s=s)
    with pytest.raises(tour_store.TourError):
        tour_store.save_plan(None, problem, plan, s=s)
    pk = tour_store.save_plan(actor, problem, plan, "Juin", s=s)
    stored = tour_store.visits_frame(pk, s=s)
    assert len(stored) == len(plan.visits)
    p2, plan2, version, status = tour_store.load_plan(pk, s=s)
    assert status == "brouillon" and p2.stops == problem.stops
    assert [(v.key, v.day, v.start) for v in plan2.visits] == [
        (v.key, v.day, v.start) for v in plan.visits]

    after = visit_datetimes(date(2026, 6, 1), 0)
    assert tour_store.next_visits(after, stop_key="s0", s=s).empty  # not published yet
    # an adjustment: pin a visit to another day and re-solve, then publish
    problem.pins = {(0, 0): tours.Pin(date(2026, 6, 5))}
    replan = tours.solve(problem, tr, 1)
    version = tour_store.replace_plan(actor, pk, version, problem, replan, s=s)
    with pytest.raises(tour_store.TourConflictError):
        tour_store.replace_plan(actor, pk, version - 1, problem, replan, s=s)
    version = tour_store.publish(actor, pk, version, s=s)
    nxt = tour_store.next_visits(after, stop_key="s0", s=s)
    assert len(nxt) == 2 and nxt["starts_at"].iloc[0].date() == date(2026, 6, 5)
    near = tour_store.next_visits(after, near=(-61.05, 14.62), radius_m=500, s=s)
    assert set(near["stop_key"]) == {"s0"}

    visits = tour_store.visits_frame(pk, s=s)
    v = visits.iloc[0]
    with pytest.raises(tour_store.TourError):
        tour_store.record_attendance(actor, int(v.pk), int(v.version), 5, 7, s=s)
    new = tour_store.record_attendance(actor, int(v.pk), int(v.version), 12, 5, s=s)
    with pytest.raises(tour_store.TourConflictError):
        tour_store.record_attendance(actor, int(v.pk), int(v.version), 3, 1, s=s)
    assert new == v.version + 1
    att = tour_store.attendance_frame(s=s)
    assert att[["attendance", "attendance_seniors"]].values.tolist() == [[12, 5]]

    # a second published plan over the same dates replaces the first
    pk2 = tour_store.save_plan(actor, problem, replan, s=s)
    tour_store.publish(actor, pk2, 1, s=s)
    plans = tour_store.list_plans(s=s).set_index("pk")
    assert plans.loc[pk, "status"] == "remplacé" and plans.loc[pk2, "status"] == "publié"


def test_indicators_read_the_attendance(store_settings, fed):
    from maillage.indicators import store as ind_store

    s = store_settings
    actor, _ = fed
    problem, _, plan = _problem_plan()
    pk = tour_store.save_plan(actor, problem, plan, s=s)
    v = tour_store.visits_frame(pk, s=s).iloc[0]
    tour_store.record_attendance(actor, int(v.pk), int(v.version), 9, 4, s=s)
    rows = ind_store.from_tours(s)
    got = rows.set_index("indicator")["value"]
    assert got["workshop_attendance"] == 9 and got["workshop_attendance_seniors"] == 4


def test_migration_matches_the_models(store_settings):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from maillage import db
    from maillage.db import tour_models
    from maillage.db.models import Base

    db.migrate(store_settings)
    with db.engine(store_settings).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = {t.name for t in tour_models.Base.metadata.sorted_tables if t.name.startswith("tour")}
    ours = [d for d in diff if any(name in repr(d) for name in mine)]
    assert ours == []


def _plan_from(start: date, weeks: int, fixed: str = ""):
    """Four stops (the first on a fixed day when ``fixed``), one van, Monday to Saturday."""
    from analysis import schedule

    w, d = schedule.stop_schedule("", fixed)
    stops = [Stop(f"Arrêt {i}", -61.05 + 0.02 * i, 14.62, "hebdomadaire", 3600, key=f"s{i}",
                  windows=w if i == 0 else (), fixed_day=d if i == 0 else None)
             for i in range(4)]
    problem = Problem(stops, [Van("Camion 1", (-61.07, 14.61))],
                      Period.with_holidays(start, weeks, (0, 1, 2, 3, 4, 5)))
    n = 1 + len(stops)
    sec = np.full((n, n), 900.0)
    np.fill_diagonal(sec, 0)
    return problem, tours.solve(problem, Travel(sec, np.zeros(n), np.ones(n, bool)), 1)


def test_overlapping_publications_are_listed_and_the_latest_is_public(store_settings, fed):
    s = store_settings
    actor, _ = fed
    june = tour_store.save_plan(actor, *_plan_from(date(2026, 6, 1), 2), "Juin", s=s)  # 1-14
    assert tour_store.overlapping_published(june, s=s).empty
    tour_store.publish(actor, june, 1, s=s)

    later = tour_store.save_plan(actor, *_plan_from(date(2026, 6, 8), 2), "Mi-juin", s=s)
    over = tour_store.overlapping_published(later, s=s)
    assert over[["pk", "name", "first", "last", "replaced"]].values.tolist() == [
        [june, "Juin", date(2026, 6, 8), date(2026, 6, 14), False]]
    message = tour_store.overlap_message(over)
    assert f"le plan n° {june} « Juin »" in message and "par fede" in message
    assert "du 08/06/2026 au 14/06/2026" in message and tour_store.PUBLIC_RULE in message
    assert "reste visible du public sur ses autres jours" in message

    tour_store.publish(actor, later, 1, s=s)
    plans = tour_store.list_plans(s=s).set_index("pk")
    assert plans.loc[june, "status"] == plans.loc[later, "status"] == "publié"
    public = tour_store.visits_frame(published_only=True, s=s)
    by_plan = public.groupby("plan_pk")["visit_date"]
    # the first week from « Juin », from 8 June on only the later publication
    assert by_plan.max()[june] < date(2026, 6, 8) <= by_plan.min()[later]
    every = tour_store.visits_frame(s=s)
    assert (every["plan_pk"] == june).sum() > (public["plan_pk"] == june).sum()
    nxt = tour_store.next_visits(visit_datetimes(date(2026, 6, 9), 0), stop_key="s1", s=s)
    assert set(nxt["starts_at"].dt.date) <= set(public.loc[public["plan_pk"] == later,
                                                           "visit_date"])

    # a plan covering « Mi-juin » entirely replaces it; « Juin » keeps its first week
    again = tour_store.save_plan(actor, *_plan_from(date(2026, 6, 8), 2), "Bis", s=s)
    over = tour_store.overlapping_published(again, s=s)
    assert dict(zip(over["pk"], over["replaced"], strict=True)) == {later: True, june: False}
    assert over["pk"].tolist() == [later, june]  # newest publication first
    assert "sera marqué « remplacé »" in tour_store.overlap_message(over)
    tour_store.publish(actor, again, 1, s=s)
    plans = tour_store.list_plans(s=s).set_index("pk")
    assert (plans.loc[june, "status"], plans.loc[later, "status"],
            plans.loc[again, "status"]) == ("publié", "remplacé", "publié")
    assert set(tour_store.visits_frame(published_only=True, s=s)["plan_pk"]) == {june, again}


def test_a_fixed_weekday_is_stored_kept_or_reported(store_settings, fed):
    s = store_settings
    actor, _ = fed
    problem, plan = _plan_from(date(2026, 6, 1), 2, fixed="sam 08:00-12:00")
    pk = tour_store.save_plan(actor, problem, plan, s=s)
    back, stored, _, _ = tour_store.load_plan(pk, s=s)
    assert back.stops[0].fixed_day == 5
    days = sorted(v.visit_date for v in tour_store.visits_frame(pk, s=s).itertuples()
                  if v.stop_key == "s0")
    assert days == [date(2026, 6, 6), date(2026, 6, 13)]
    # Saturday off: the fixed visits are not moved, and the stored plan says why
    problem.period = Period.with_holidays(date(2026, 6, 1), 2)
    replan = tours.solve(problem, Travel(np.where(np.eye(5) > 0, 0.0, 900.0), np.zeros(5),
                                         np.ones(5, bool)), 1)
    version = tour_store.replace_plan(actor, pk, 1, problem, replan, s=s)
    _, stored, _, _ = tour_store.load_plan(pk, s=s)
    assert version == 2
    assert not [v for v in stored.visits if v.key == "s0"]
    lost = [u for u in stored.unserved if u.key == "s0"]
    assert [u.reason for u in lost] == [tours.R_FIXED, tours.R_FIXED]
    assert "samedi 6 juin 2026" in lost[0].message
