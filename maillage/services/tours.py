"""« Tournées »: the mobile workshops' tours, shared by the CLI and the page.

:class:`ToursRequest` holds one planning question: the stops (any list of
:class:`analysis.tours.Stop`: a CSV read by :func:`geo.tours_io.read_stops`, the town
halls of :func:`geo.tours_io.town_halls`, or a saved selection), the vans and their
working day, the period and the solver's time. :meth:`ToursRequest.validated` checks
it once, in French, before anything is loaded; :meth:`ToursService.run` plans it on
the drive network and returns a :class:`ToursResult` whose ``to_json()`` is the plan
document that ``maillage tours`` writes to ``--out`` and prints with ``--json``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from analysis import schedule, tours
from analysis.tours import Plan, Problem, Stop, Van
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.settings import Settings

#: Bounds of the request (the page's widgets use them too).
MAX_VANS = 10
MAX_WEEKS = 26
MAX_TIME_LIMIT = 3600.0
MAX_LUNCH_MIN = 240


def next_monday(today: date | None = None) -> date:
    """The Monday after ``today`` (a week later when ``today`` is a Monday)."""
    today = today or date.today()
    return today + timedelta(days=7 - today.weekday())


def time_range(text: str | Sequence[int], what: str) -> tuple[int, int]:
    """``"08:00-17:00"`` (or a pair of seconds) → (start, end) seconds; French errors."""
    if not isinstance(text, str):
        try:
            a, b = (int(x) for x in text)
        except (TypeError, ValueError):
            raise MaillageError(f"{what} illisible : « {text} » (exemple : 08:00-17:00).") from None
        if not (0 <= a <= 24 * 3600 and 0 <= b <= 24 * 3600):
            raise MaillageError(f"{what} : heures hors de la journée (00:00 à 24:00).")
        shown = f"{schedule.fmt_time(a)}-{schedule.fmt_time(b)}"
    else:
        try:
            a, b = (schedule.parse_time(x) for x in text.split("-"))
        except (ValueError, schedule.ScheduleError):
            raise MaillageError(f"{what} illisible : « {text} » (exemple : 08:00-17:00).") from None
        shown = text
    if b < a:
        raise MaillageError(f"{what} : « {shown} » finit avant de commencer.")
    return a, b


def _workdays(days: str | Sequence[int]) -> tuple[int, ...]:
    if isinstance(days, str):
        if not days.strip():
            raise MaillageError("Jours travaillés : choisissez au moins un jour (ex. lun-ven).")
        try:
            return tuple(sorted({w.weekday for w in schedule.parse_windows(
                f"{days} 00:00-01:00")}))
        except schedule.ScheduleError as exc:
            raise MaillageError(f"Jours travaillés : {exc}.") from None
    try:
        out = tuple(sorted({int(d) for d in days}))
    except (TypeError, ValueError):
        raise MaillageError("Jours travaillés illisibles (0 = lundi … 6 = dimanche).") from None
    if not out:
        raise MaillageError("Jours travaillés : choisissez au moins un jour (ex. lun-ven).")
    if out[0] < 0 or out[-1] > 6:
        raise MaillageError("Jours travaillés illisibles (0 = lundi … 6 = dimanche).")
    return out


def _depot(depot: str | Sequence[float] | None) -> tuple[float, float] | None:
    from analysis import snap

    if depot is None or (isinstance(depot, str) and not depot.strip()):
        return None
    if isinstance(depot, str):
        lon, lat = snap.parse_lonlat(depot)
    else:
        try:
            lon, lat = (float(x) for x in depot)
        except (TypeError, ValueError):
            raise MaillageError(f"Dépôt illisible : « {depot} » (LON,LAT).") from None
    snap.check_in_martinique(lon, lat, label="Le dépôt")
    return float(lon), float(lat)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f == int(f) else None


@dataclass(frozen=True)
class ToursRequest:
    """One planning question (inputs only; see :meth:`validated`).

    ``hours`` and ``lunch``: ``"HH:MM-HH:MM"`` or a pair of seconds since midnight
    (``lunch`` is the earliest-latest start of the break, ``lunch_min`` its length);
    ``depot``: ``"LON,LAT"``, a pair, or None (Fort-de-France town hall); ``start``: a
    date, ``"AAAA-MM-JJ"`` or None (next Monday); ``workdays``: ``"lun-ven"``-style text
    or weekday numbers (0 = Monday).
    """

    stops: tuple[Stop, ...] = ()
    vans: int = 1
    depot: str | tuple[float, float] | None = None
    hours: str | tuple[int, int] = "08:00-17:00"
    lunch: str | tuple[int, int] = "12:00-13:00"
    lunch_min: int = 60
    weeks: int = 4
    start: date | str | None = None
    workdays: str | tuple[int, ...] = "lun-ven"
    time_limit: float = 30.0

    def validated(self) -> ToursRequest:
        """The request with parsed fields (seconds, date, weekday numbers), or a French error.

        The checks of ``maillage tours``: 1 to 10 vans, 1 to 26 weeks, a solver time of at
        most an hour, readable dates and hours, ranges that do not end before they start,
        a lunch break that fits the working day, known workdays, a depot in Martinique,
        at least one stop. Nothing is loaded.
        """
        vans = _whole(self.vans)
        if vans is None or not 1 <= vans <= MAX_VANS:
            raise MaillageError(f"Nombre de camions attendu entre 1 et {MAX_VANS}.")
        weeks = _whole(self.weeks)
        if weeks is None or not 1 <= weeks <= MAX_WEEKS:
            raise MaillageError(f"Nombre de semaines attendu entre 1 et {MAX_WEEKS}.")
        try:
            limit = float(self.time_limit)
        except (TypeError, ValueError):
            limit = math.nan
        if not (math.isfinite(limit) and 0 < limit <= MAX_TIME_LIMIT):
            raise MaillageError(f"Temps de calcul attendu entre 1 et {MAX_TIME_LIMIT:g} "
                                "secondes.")
        start = self.start
        if isinstance(start, str) and not start.strip():
            start = None
        if isinstance(start, str):
            try:
                start = date.fromisoformat(start.strip())
            except ValueError:
                raise MaillageError(f"Date de début illisible : « {start} » "
                                    "(AAAA-MM-JJ).") from None
        elif start is not None and not isinstance(start, date):
            raise MaillageError(f"Date de début illisible : « {start} » (AAAA-MM-JJ).")
        start = start or next_monday()
        day = time_range(self.hours, "Horaires")
        lunch = time_range(self.lunch, "Pause déjeuner")
        lunch_min = _whole(self.lunch_min)
        if lunch_min is None or not 0 <= lunch_min <= MAX_LUNCH_MIN:
            raise MaillageError(f"Durée de la pause attendue entre 0 et {MAX_LUNCH_MIN} "
                                "minutes.")
        if not (day[0] <= lunch[0] and lunch[1] + lunch_min * 60 <= day[1]):
            raise MaillageError("La pause déjeuner doit tenir dans les horaires de travail.")
        workdays = _workdays(self.workdays)
        depot = _depot(self.depot)
        stops = tuple(self.stops)
        if not stops:
            raise MaillageError("Aucun arrêt à planifier : donnez un fichier d'arrêts, les "
                                "mairies ou une sélection enregistrée.")
        if not all(isinstance(s, Stop) for s in stops):
            raise TypeError("ToursRequest.stops must hold analysis.tours.Stop")
        return replace(self, stops=stops, vans=vans, depot=depot, hours=day, lunch=lunch,
                       lunch_min=lunch_min, weeks=weeks, start=start, workdays=workdays,
                       time_limit=limit)

    def problem(self, default_depot: tuple[float, float]) -> Problem:
        """The :class:`analysis.tours.Problem` of the request (``depot`` or the default)."""
        r = self.validated()
        depot = r.depot or tuple(default_depot)
        (h0, h1), (l0, l1) = r.hours, r.lunch
        vans = [Van(f"Camion {k + 1}", depot, h0, h1, l0, l1, r.lunch_min * 60)
                for k in range(r.vans)]
        period = schedule.Period.with_holidays(r.start, r.weeks, r.workdays)
        return Problem(list(r.stops), vans, period)


@dataclass
class ToursResult:
    """A plan and what shows it: the problem, the plan, each tour's road lines, the summary."""

    problem: Problem
    plan: Plan
    time_limit: float
    request: ToursRequest | None = None  # None for a problem re-solved as adjusted (pins)
    graph: Any = field(default=None, repr=False)  # the drive graph, for the road lines
    points: Any = field(default=None, repr=False)  # the snapped depots and stops

    @property
    def summary(self) -> dict:
        """Counts and totals (:meth:`analysis.tours.Plan.summary`)."""
        return self.plan.summary()

    @property
    def van_usage(self) -> list[str]:
        """How each van is used, or why it is not (:func:`analysis.tours.van_usage`)."""
        return tours.van_usage(self.problem, self.plan)

    @property
    def fixed_days(self) -> list[str]:
        """Whether each fixed-day stop kept its day (:func:`analysis.tours.fixed_day_report`)."""
        return tours.fixed_day_report(self.problem, self.plan)

    @functools.cached_property
    def lines(self) -> dict[tuple[int, date], list[list[tuple[float, float]]]]:
        """``(van, day)`` → the tour's legs along the roads as (lat, lon) polylines."""
        if self.graph is None:
            return {}
        return {(t.van, t.day): tours.tour_lines(self.graph, self.points, self.problem, t)
                for t in self.plan.tours}

    def to_json(self) -> dict:
        """The plan document: ``problem``, ``summary``, ``tours``, ``unserved``."""
        from geo import tours_io

        return tours_io.plan_json(self.plan, self.problem)

    def csv(self) -> str:
        """One row per visit (:func:`geo.tours_io.plan_csv`)."""
        from geo import tours_io

        return tours_io.plan_csv(self.plan, self.problem)

    def ics(self, van: int | None = None) -> bytes:
        """The calendar of the plan or of one van (:func:`geo.tours_io.plan_ics`)."""
        from geo import tours_io

        return tours_io.plan_ics(self.plan, self.problem, van=van)


class ToursService:
    """Plans tours on the island's drive network (loaded once; read-only, shareable)."""

    def __init__(self, s: Settings, graph: Any) -> None:
        self.settings = s
        self.graph = graph

    @classmethod
    def load(cls, s: Settings | None = None, graph: Any = None) -> ToursService:
        """The service with the drive graph (``graph`` reuses one already loaded)."""
        from geo import graphs

        s = s or settings_mod.get()
        return cls(s, graph if graph is not None else graphs.load("drive", s))

    def default_depot(self) -> tuple[float, float]:
        """Fort-de-France town hall (:func:`geo.tours_io.default_depot`)."""
        from geo import tours_io

        return tours_io.default_depot(self.settings)

    def problem(self, request: ToursRequest) -> Problem:
        """The problem of ``request`` (checked), the default depot filled in."""
        req = request.validated()
        return req.problem(req.depot or self.default_depot())

    def run(self, request: ToursRequest) -> ToursResult:
        """Check ``request``, then plan it (drive times, OR-Tools, unserved visits explained)."""
        req = request.validated()
        result = self.solve(req.problem(req.depot or self.default_depot()), req.time_limit)
        result.request = req
        return result

    def solve(self, problem: Problem, time_limit: float = 30.0) -> ToursResult:
        """Plan ``problem`` as it is (e.g. with pins added by the planner)."""
        if not (math.isfinite(time_limit) and 0 < time_limit <= MAX_TIME_LIMIT):
            raise MaillageError(f"Temps de calcul attendu entre 1 et {MAX_TIME_LIMIT:g} "
                                "secondes.")
        tr, pts = tours.travel(self.graph, problem, self.settings.max_snap_m)
        plan = tours.solve(problem, tr, time_limit)
        return ToursResult(problem, plan, float(time_limit), graph=self.graph, points=pts)


def stops_from_csv(source: Any, default_frequency: str = "hebdomadaire", **kwargs) -> tuple[
        Stop, ...]:
    """The stops of a CSV file (path, bytes or stream; :func:`geo.tours_io.read_stops`)."""
    from geo import tours_io

    return tuple(tours_io.read_stops(source, default_frequency, **kwargs))


def town_halls(s: Settings | None = None) -> tuple[Stop, ...]:
    """The 34 town halls as stops (:func:`geo.tours_io.town_halls`)."""
    from geo import tours_io

    return tuple(tours_io.town_halls(s))
