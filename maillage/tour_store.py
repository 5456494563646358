"""Reads and writes of the van tours in the database.

Every write runs in one transaction (:func:`maillage.db.write_session`) and edits
check the ``version`` the planner started from (:class:`TourConflictError` on a
stale save). Planning, publishing and recording attendance need a signed-in
Fédération (or admin) account; reading the published visits is public.

What the public sees (:data:`PUBLIC_RULE`): on each day, the visits of the most recently
published plan among the published plans covering that day. Publishing a plan marks the
published plans it covers entirely as « remplacé »; one it only partly overlaps stays
published and keeps its other days. :func:`overlapping_published` lists them before a
publication, so the page can ask for a confirmation (:func:`overlap_message`).

For other features::

    from maillage import tour_store
    tour_store.next_visits(near=(lon, lat), radius_m=5000)   # the finder (#8)
    tour_store.next_visits(stop_key="mairie-97209")           # a stop's next visits
    tour_store.attendance_frame()                              # the indicators (#9)
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import delete, func, select, update

from geo import tours_io
from geo.errors import MaillageError
from maillage import db
from maillage.auth import EDITOR_ROLES, ROLE_LABELS, Actor, AuthError
from maillage.db.tour_models import TourDay, TourPlan, TourVan, TourVisit
from maillage.settings import Settings

#: Most people a single workshop can record (a typing guard).
MAX_ATTENDANCE = 500
#: Which published plan the public sees on a day several published plans cover.
PUBLIC_RULE = ("Le public voit, pour chaque jour, le plan publié le plus récemment parmi les "
               "plans publiés qui couvrent ce jour.")


class TourError(MaillageError):
    """A refused action on the tours (rights, status, values)."""


class TourConflictError(TourError):
    """Someone changed the plan or the visit since it was opened."""


class TourRightsError(TourError, AuthError):
    """Signed out, or an account whose role may not plan tours (an :class:`AuthError`)."""


def _now() -> datetime:
    return datetime.now(UTC)


def require_planner(actor: Actor | None) -> Actor:
    """The actor if they may plan tours; else a French refusal."""
    if not isinstance(actor, Actor):
        raise TourRightsError("Connectez-vous avec un compte de la Fédération pour planifier "
                              "les tournées : la consultation des passages publiés est libre.")
    if actor.role not in EDITOR_ROLES:
        role = ROLE_LABELS.get(actor.role, actor.role)
        raise TourRightsError(f"Le compte « {actor.username} » ({role}) ne peut pas "
                              "planifier les tournées.")
    return actor


def _communes_of(lonlat: list[tuple[float, float]]) -> list[str | None]:
    """INSEE code of the commune under each point (None when unknown or layer missing)."""
    try:
        import geopandas as gpd

        from geo import communes

        com = communes.load()[["code_insee", "geometry"]]
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*zip(*lonlat, strict=True)),
                               crs=com.crs)
        joined = gpd.sjoin(pts, com, how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        return [c if isinstance(c, str) else None for c in joined["code_insee"]]
    except (MaillageError, OSError, ValueError):
        return [None] * len(lonlat)


def _upsert_vans(session, problem, by: str) -> list[int]:
    pks = []
    for v in problem.vans:
        row = session.scalar(select(TourVan).where(TourVan.name == v.name))
        values = dict(depot_lon=v.depot[0], depot_lat=v.depot[1], day_start=v.start,
                      day_end=v.end, lunch_earliest=v.lunch_earliest,
                      lunch_latest=v.lunch_latest, lunch_s=v.lunch)
        if row is None:
            row = TourVan(name=v.name, **values, version=1, updated_at=_now(), updated_by=by)
            session.add(row)
            session.flush()
        elif any(getattr(row, k) != val for k, val in values.items()):
            for k, val in values.items():
                setattr(row, k, val)
            row.version += 1
            row.updated_at, row.updated_by = _now(), by
        pks.append(row.pk)
    return pks


def _write_tours(session, plan_row: TourPlan, problem, plan, van_pks: list[int]) -> None:
    from analysis.tours import visit_datetimes

    def utc(day: date, seconds: int) -> datetime:  # stored in UTC (SQLite drops the zone)
        return visit_datetimes(day, seconds).astimezone(UTC)

    communes = _communes_of([(s.lon, s.lat) for s in problem.stops]) if problem.stops else []
    for t in plan.tours:
        day = TourDay(plan_pk=plan_row.pk, van_pk=van_pks[t.van], van_index=t.van, day=t.day,
                      leave_s=t.leave, back_s=t.back, lunch_s=t.lunch, drive_s=t.drive_s)
        session.add(day)
        session.flush()
        for v in t.visits:
            s = problem.stops[v.stop]
            session.add(TourVisit(
                tour_pk=day.pk, plan_pk=plan_row.pk, seq=v.seq, stop_index=v.stop,
                occurrence=v.occurrence, place_id=s.id, stop_name=s.name,
                address=s.address or None, lon=s.lon, lat=s.lat, code_insee=communes[v.stop],
                visit_date=t.day, arrival_at=utc(t.day, v.arrival),
                starts_at=utc(t.day, v.start), ends_at=utc(t.day, v.end),
                status="prévue", version=1))


def _plan_texts(problem, plan) -> dict[str, str]:
    d = tours_io.plan_json(plan, problem)
    return {"problem_json": json.dumps(d["problem"], ensure_ascii=False),
            "summary_json": json.dumps(d["summary"], ensure_ascii=False),
            "unserved_json": json.dumps(d["unserved"], ensure_ascii=False)}


def save_plan(actor: Actor | None, problem, plan, name: str = "",
              s: Settings | None = None) -> int:
    """Store a new draft plan with its tours and visits; return its key."""
    actor = require_planner(actor)
    db.migrate(s)
    with db.write_session(s) as session:
        van_pks = _upsert_vans(session, problem, actor.username)
        now = _now()
        row = TourPlan(name=name.strip() or f"Tournées du {problem.period.start:%d/%m/%Y}",
                       start_date=problem.period.start, end_date=problem.period.last,
                       status="brouillon", created_at=now, created_by=actor.username,
                       updated_at=now, updated_by=actor.username, version=1,
                       **_plan_texts(problem, plan))
        session.add(row)
        session.flush()
        _write_tours(session, row, problem, plan, van_pks)
        return row.pk


def replace_plan(actor: Actor | None, plan_pk: int, expected_version: int, problem, plan,
                 s: Settings | None = None) -> int:
    """Replace a draft's tours after an adjustment (pins, moves); return the new version."""
    actor = require_planner(actor)
    with db.write_session(s) as session:
        row = _versioned(session, plan_pk, expected_version, actor.username,
                         **_plan_texts(problem, plan))
        if row.status != "brouillon":
            raise TourError("Ce plan est publié : dupliquez-le en brouillon pour le modifier.")
        session.execute(delete(TourVisit).where(TourVisit.plan_pk == plan_pk))
        session.execute(delete(TourDay).where(TourDay.plan_pk == plan_pk))
        _write_tours(session, row, problem, plan, _upsert_vans(session, problem,
                                                               actor.username))
        return expected_version + 1


def _versioned(session, plan_pk: int, expected: int, by: str, **values) -> TourPlan:
    result = session.execute(
        update(TourPlan).where(TourPlan.pk == plan_pk, TourPlan.version == expected)
        .values(**values, version=expected + 1, updated_at=_now(), updated_by=by)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        who = session.scalar(select(TourPlan.updated_by).where(TourPlan.pk == plan_pk))
        if who is None:
            raise TourError(f"Plan n° {plan_pk} introuvable.")
        raise TourConflictError(f"Ce plan a été modifié par {who} depuis que vous l'avez ouvert :"
                                " rechargez-le avant de recommencer.")
    return session.get(TourPlan, plan_pk, populate_existing=True)


def publish(actor: Actor | None, plan_pk: int, expected_version: int,
            s: Settings | None = None) -> int:
    """Publish a plan (its visits become public); return the new version.

    Published plans whose dates it covers entirely become « remplacé »; those it only
    partly overlaps stay published, and on the shared days the public sees this one
    (:data:`PUBLIC_RULE`). :func:`overlapping_published` tells which, beforehand.
    """
    actor = require_planner(actor)
    with db.write_session(s) as session:
        now = _now()
        row = _versioned(session, plan_pk, expected_version, actor.username, status="publié",
                         published_at=now, published_by=actor.username)
        session.execute(
            update(TourPlan).where(TourPlan.pk != plan_pk, TourPlan.status == "publié",
                                   TourPlan.start_date >= row.start_date,
                                   TourPlan.end_date <= row.end_date)
            .values(status="remplacé", version=TourPlan.version + 1, updated_at=now,
                    updated_by=actor.username)
            .execution_options(synchronize_session=False))
        return expected_version + 1


_OVERLAP_COLS = ["pk", "name", "start_date", "end_date", "published_at", "published_by",
                 "first", "last", "replaced"]


def overlapping_published(plan_pk: int, s: Settings | None = None) -> pd.DataFrame:
    """The published plans whose dates overlap plan ``plan_pk``'s (itself left out).

    Columns: ``pk, name, start_date, end_date, published_at, published_by``, the shared
    days ``first``–``last``, and ``replaced`` (True when ``plan_pk`` covers it entirely:
    publishing ``plan_pk`` marks it « remplacé »; otherwise it stays public on its other
    days). Newest publication first. Public (reading only).
    """
    db.migrate(s)
    with db.read_session(s) as session:
        row = session.get(TourPlan, plan_pk)
        if row is None:
            raise TourError(f"Plan n° {plan_pk} introuvable.")
        start, end = row.start_date, row.end_date
        others = session.scalars(
            select(TourPlan).where(TourPlan.pk != plan_pk, TourPlan.status == "publié",
                                   TourPlan.start_date <= end, TourPlan.end_date >= start)
        ).all()
        out = [{"pk": o.pk, "name": o.name, "start_date": o.start_date,
                "end_date": o.end_date, "published_at": _aware(o.published_at or o.updated_at),
                "published_by": o.published_by or o.updated_by,
                "first": max(o.start_date, start), "last": min(o.end_date, end),
                "replaced": start <= o.start_date and o.end_date <= end} for o in others]
    out.sort(key=lambda r: (r["published_at"], r["pk"]), reverse=True)
    return pd.DataFrame(out, columns=_OVERLAP_COLS)


def overlap_message(overlaps: pd.DataFrame) -> str:
    """The French warning shown before publishing over ``overlaps`` (empty: ``""``)."""
    from maillage import fmt

    if overlaps.empty:
        return ""
    parts = []
    for pk, name, at, by, first, last, replaced in zip(
            overlaps["pk"], overlaps["name"], overlaps["published_at"],
            overlaps["published_by"], overlaps["first"], overlaps["last"],
            overlaps["replaced"], strict=True):
        when = pd.Timestamp(at).tz_convert("America/Martinique")
        span = (f"le {fmt.day(first)}" if first == last
                else f"du {fmt.day(first)} au {fmt.day(last)}")
        fate = ("il est entièrement couvert et sera marqué « remplacé »" if replaced else
                "il reste visible du public sur ses autres jours")
        parts.append(f"le plan n° {pk} « {name} », publié le {fmt.day(when.date())} par "
                     f"{by}, couvre aussi {span} : {fate}")
    n = len(parts)
    head = ("Un plan déjà publié chevauche ces dates" if n == 1
            else f"{n} plans déjà publiés chevauchent ces dates")
    return (f"{head} : " + " ; ".join(parts) + ". Après publication, le public verra ce plan-ci "
            f"sur les jours communs. {PUBLIC_RULE}")


def revision(s: Settings | None = None) -> str:
    """A fingerprint of the tours that changes with every write (a plan saved, replaced or
    published, attendance recorded), for display caches: two aggregates, cheap. Keyed on
    it, a cache shows a change made by any server process (another replica, the command
    line) at its next run."""
    db.migrate(s)
    with db.read_session(s) as session:
        plans = session.execute(select(func.count(TourPlan.pk), func.max(TourPlan.updated_at),
                                       func.sum(TourPlan.version))).one()
        visits = session.execute(select(func.count(TourVisit.pk),
                                        func.sum(TourVisit.version))).one()
    return ":".join(str(v) for v in (*plans, *visits))


def list_plans(s: Settings | None = None) -> pd.DataFrame:
    """Every plan, newest first: key, name, dates, status, version, summary figures."""
    db.migrate(s)
    with db.read_session(s) as session:
        rows = session.scalars(select(TourPlan).order_by(TourPlan.pk.desc())).all()
        out = []
        for r in rows:
            summary = json.loads(r.summary_json)
            summary["solver_status"] = summary.pop("status", "")
            out.append({**summary, "pk": r.pk, "name": r.name, "start_date": r.start_date,
                        "end_date": r.end_date, "status": r.status, "version": r.version,
                        "updated_by": r.updated_by,
                        "published_at": _aware(r.published_at) if r.published_at else None})
        return pd.DataFrame(out)


def load_plan(plan_pk: int, s: Settings | None = None):
    """(problem, plan, version, status) of a stored plan."""
    from analysis.tours import Plan

    with db.read_session(s) as session:
        row = session.get(TourPlan, plan_pk)
        if row is None:
            raise TourError(f"Plan n° {plan_pk} introuvable.")
        problem = tours_io.problem_from_dict(json.loads(row.problem_json))
        tours = []
        for t in row.tours:
            tours.append({"van": t.van_index, "day": t.day.isoformat(), "leave": t.leave_s,
                          "back": t.back_s, "lunch": t.lunch_s, "drive_s": t.drive_s,
                          "visits": [_visit_dict(v, t) for v in t.visits]})
        plan = Plan.from_dict({"tours": tours, "unserved": json.loads(row.unserved_json),
                               "summary": json.loads(row.summary_json)})
        return problem, plan, row.version, row.status


def _visit_dict(v: TourVisit, t: TourDay) -> dict:
    def secs(dt: datetime) -> int:
        from analysis.tours import visit_datetimes

        return int((dt - visit_datetimes(t.day, 0)).total_seconds())

    return {"stop": v.stop_index, "key": v.place_id, "name": v.stop_name,
            "occurrence": v.occurrence, "van": t.van_index, "day": t.day.isoformat(),
            "seq": v.seq, "arrival": secs(_aware(v.arrival_at)),
            "start": secs(_aware(v.starts_at)), "end": secs(_aware(v.ends_at)),
            "drive_s": 0.0}


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_VISIT_COLS = ("pk", "plan_pk", "seq", "place_id", "stop_name", "address", "lon", "lat",
               "code_insee", "visit_date", "starts_at", "ends_at", "status", "attendance",
               "attendance_seniors", "version")


def visits_frame(plan_pk: int | None = None, published_only: bool = False,
                 s: Settings | None = None) -> pd.DataFrame:
    """Stored visits (one plan, or what the public sees) with van names and attendance.

    ``published_only``: the visits of published plans the public sees, i.e. on each day
    those of the most recently published plan covering it (:data:`PUBLIC_RULE`).

    Columns: ``pk, plan_pk, van, seq, stop_key, stop_name, address, lon, lat, code_insee,
    visit_date, starts_at, ends_at`` (local time, tz-aware), ``status, attendance,
    attendance_seniors, version``.
    """
    from zoneinfo import ZoneInfo

    from analysis.schedule import TIMEZONE

    db.migrate(s)
    q = (select(TourVisit, TourVan.name).join(TourDay, TourVisit.tour_pk == TourDay.pk)
         .join(TourVan, TourDay.van_pk == TourVan.pk))
    if plan_pk is not None:
        q = q.where(TourVisit.plan_pk == plan_pk)
    if published_only:
        q = q.join(TourPlan, TourVisit.plan_pk == TourPlan.pk).where(TourPlan.status == "publié")
    tz = ZoneInfo(TIMEZONE)
    with db.read_session(s) as session:
        rows = [{**{c: getattr(v, c) for c in _VISIT_COLS}, "van": van}
                for v, van in session.execute(q.order_by(TourVisit.starts_at, TourVisit.pk))]
        plans = _published(session) if published_only else None
    df = pd.DataFrame(rows, columns=[*_VISIT_COLS, "van"])
    if plans is not None and len(df):
        df = df[_public_mask(df, plans)].reset_index(drop=True)
    for c in ("starts_at", "ends_at"):
        df[c] = pd.to_datetime(df[c], utc=True).dt.tz_convert(tz)
    return df.rename(columns={"place_id": "stop_key"})


def _published(session) -> pd.DataFrame:
    """Published plans: ``pk, start_date, end_date, rank`` (higher = published later)."""
    rows = session.execute(select(TourPlan.pk, TourPlan.start_date, TourPlan.end_date,
                                  TourPlan.published_at, TourPlan.updated_at)
                           .where(TourPlan.status == "publié")).all()
    df = pd.DataFrame([(pk, a, b, _aware(p or u)) for pk, a, b, p, u in rows],
                      columns=["pk", "start_date", "end_date", "at"])
    df = df.sort_values(["at", "pk"]).reset_index(drop=True)
    df["rank"] = range(len(df))
    return df


def _public_mask(visits: pd.DataFrame, plans: pd.DataFrame):
    """Visits the public sees (:data:`PUBLIC_RULE`): no later-published plan covers their day."""
    rank = dict(zip(plans["pk"], plans["rank"], strict=True))
    mine = visits["plan_pk"].map(rank).fillna(-1).to_numpy()[:, None]
    day = pd.to_datetime(visits["visit_date"]).to_numpy()[:, None]
    start = pd.to_datetime(plans["start_date"]).to_numpy()[None, :]
    end = pd.to_datetime(plans["end_date"]).to_numpy()[None, :]
    later = plans["rank"].to_numpy()[None, :] > mine
    return ~((start <= day) & (day <= end) & later).any(axis=1)


def next_visits(after: datetime | None = None, *, stop_key: str | None = None,
                near: tuple[float, float] | None = None, radius_m: float = 5000.0,
                limit: int = 3, s: Settings | None = None) -> pd.DataFrame:
    """Next published visits of a stop, or of the stops within ``radius_m`` of (lon, lat).

    Public (no account needed). Returns ``stop_key, stop_name, address, lon, lat, van,
    starts_at, ends_at`` (+ ``distance_m`` with ``near``), sorted by start, at most
    ``limit`` per stop. Cancelled visits are left out, and so are the days a
    later-published plan covers (:data:`PUBLIC_RULE`).
    """
    from analysis.tours import upcoming

    df = visits_frame(published_only=True, s=s)
    df = df[df["status"] != "annulée"]
    return upcoming(df, after or _now(), stop_key=stop_key, near=near, radius_m=radius_m,
                    limit=limit)


def record_attendance(actor: Actor | None, visit_pk: int, expected_version: int,
                      people: int | None, seniors: int | None, status: str = "réalisée",
                      s: Settings | None = None) -> int:
    """Record how many came to a visit (of whom 65 and over) or cancel it; new version."""
    actor = require_planner(actor)
    if status not in ("réalisée", "annulée", "prévue"):
        raise TourError(f"Statut « {status} » inconnu (réalisée, annulée, prévue).")
    if status == "réalisée":
        if people is None or not 0 <= people <= MAX_ATTENDANCE:
            raise TourError(f"Nombre de participants attendu entre 0 et {MAX_ATTENDANCE}.")
        if seniors is None or not 0 <= seniors <= people:
            raise TourError("Le nombre de personnes de 65 ans et plus doit être entre 0 et le "
                            "nombre de participants.")
    else:
        people = seniors = None
    with db.write_session(s) as session:
        result = session.execute(
            update(TourVisit).where(TourVisit.pk == visit_pk,
                                    TourVisit.version == expected_version)
            .values(attendance=people, attendance_seniors=seniors, status=status,
                    recorded_at=_now(), recorded_by=actor.username,
                    version=expected_version + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            who = session.scalar(select(TourVisit.recorded_by).where(TourVisit.pk == visit_pk))
            if who is None and session.get(TourVisit, visit_pk) is None:
                raise TourError(f"Visite n° {visit_pk} introuvable.")
            raise TourConflictError(f"Cette visite a été modifiée par {who or 'quelqu’un'} "
                                    "depuis votre lecture : rechargez avant de saisir.")
        return expected_version + 1


def attendance_frame(s: Settings | None = None, until: date | None = None) -> pd.DataFrame:
    """Visits held, with attendance (for the indicators): one row per visit recorded.

    Columns: ``visit_date, stop_key, stop_name, code_insee, van, attendance,
    attendance_seniors``.
    """
    df = visits_frame(s=s)
    df = df[df["status"] == "réalisée"]
    if until is not None:
        df = df[df["visit_date"] <= until]
    return df[["visit_date", "stop_key", "stop_name", "code_insee", "van", "attendance",
               "attendance_seniors"]].reset_index(drop=True)
