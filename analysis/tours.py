"""Van tours: which stop each mobile workshop serves, on which day, at what time.

Formulation (one multi-day vehicle-routing model with time windows, OR-Tools):

* **vehicles** are the pairs (van, working day) of the period; each starts and
  ends at its van's depot, within the van's working hours, with a lunch break
  (an OR-Tools break interval: it may interrupt driving or waiting, never a
  workshop);
* **visits**: every stop needs one visit per block of its frequency
  (:func:`analysis.schedule.occurrences`); a stop with a fixed weekday
  (``Stop.fixed_day``, a market's Saturday) has a single possible day per block, the
  same weekday every week (or every other week), so the model can only serve it
  that day. A visit whose stop has different
  windows on different weekdays becomes several *alternative* nodes, one per
  set of windows, each restricted to the (van, day) vehicles of those weekdays;
  the alternatives of a visit form one disjunction (at most one is served) with
  a large penalty, so the solver serves as many visits as it can;
* **time**: the transit of an arc is the workshop length at its origin plus the
  drive time of the real road matrix (seconds, rounded up); a node's time is the
  start of its workshop, which must fit in one of its windows;
* **objective**: total drive time plus the penalties of unserved visits.

Every visit the plan does not serve is *explained* (:class:`Unserved`): stop too
far from a road, unreachable, no open day matching its windows, its fixed day
closed that week, window shorter than the workshop, cannot fit in a van's day even
alone, or no room left on the possible days (capacity of the period).
:func:`van_usage` says how each van is used, and why one is not;
:func:`fixed_day_report` whether each fixed-day stop kept its day.
:func:`nearest_neighbour` builds a greedy plan of the same shape as a baseline.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from analysis.schedule import (
    FREQUENCIES,
    WEEKDAYS,
    Occurrence,
    Period,
    Window,
    fixed_label,
    fmt_time,
    occurrences,
)
from maillage import fmt

#: Penalty (seconds of driving) of an unserved visit: larger than any day's driving.
DROP_PENALTY = 10_000_000
#: Drive time standing for "no road path" in the solver (more than a day).
NO_PATH = 1_000_000
DAY = 24 * 3600

# Reason codes of unserved visits.
R_SNAP, R_UNREACHABLE, R_NO_DAY, R_PIN, R_WINDOW, R_ALONE, R_CAPACITY, R_FIXED = (
    "route", "injoignable", "aucun_jour", "jour_impose", "fenetre", "journee", "capacite",
    "jour_fixe")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Stop:
    """A place the van serves: position, frequency, workshop length, time windows.

    ``fixed_day`` (0 = Monday, None = any day): every visit on that weekday, as a market
    (``jour_fixe`` of the stops file); ``windows`` then only hold that day's slots
    (:func:`analysis.schedule.stop_schedule`).
    """

    name: str
    lon: float
    lat: float
    frequency: str = "hebdomadaire"
    duration: int = 2 * 3600  # seconds of workshop
    windows: tuple[Window, ...] = ()
    address: str = ""
    key: str = ""  # stable identifier (the name when empty)
    fixed_day: int | None = None

    @property
    def id(self) -> str:
        return self.key or self.name

    @property
    def fixed_label(self) -> str:
        """« samedi 07:00-12:00 » for a fixed-day stop, else ``""``."""
        return fixed_label(self.fixed_day, self.windows)


@dataclass(frozen=True)
class Van:
    """A van: its depot (lon, lat), working hours and lunch break (seconds since midnight)."""

    name: str
    depot: tuple[float, float]
    start: int = 8 * 3600
    end: int = 17 * 3600
    lunch_earliest: int = 12 * 3600
    lunch_latest: int = 13 * 3600  # latest start of the break
    lunch: int = 3600  # duration; 0 = no break


@dataclass(frozen=True)
class Pin:
    """A visit forced to a day (and optionally a van) by the planner."""

    day: date
    van: int | None = None


@dataclass
class Problem:
    """Everything the solver needs besides the drive-time matrix."""

    stops: list[Stop]
    vans: list[Van]
    period: Period
    #: (stop index, occurrence index) -> pin
    pins: dict[tuple[int, int], Pin] = field(default_factory=dict)

    @property
    def n_locations(self) -> int:
        """Depots (one per van) then stops: the rows of the drive-time matrix."""
        return len(self.vans) + len(self.stops)

    def lonlat(self) -> np.ndarray:
        """Coordinates of the matrix locations: depots first, then stops."""
        return np.array([v.depot for v in self.vans] + [(s.lon, s.lat) for s in self.stops],
                        dtype=np.float64).reshape(-1, 2)

    def occurrences(self) -> list[Occurrence]:
        """All required visits of the period, stop by stop."""
        out = []
        for i, s in enumerate(self.stops):
            pinned = {k: p.day for (si, k), p in self.pins.items() if si == i}
            out.extend(occurrences(i, s.frequency, s.windows, self.period, pinned,
                                   s.fixed_day))
        return out


@dataclass(frozen=True)
class Travel:
    """Drive times between the locations of a :class:`Problem` and how each was snapped."""

    seconds: np.ndarray  # (L, L), inf when no path
    snap_m: np.ndarray  # (L,) metres from each location to the road
    snapped: np.ndarray  # (L,) bool, False when farther than the maximum
    max_snap_m: float = math.inf


def travel(g, problem: Problem, max_snap_m: float) -> tuple[Travel, object]:
    """Snap the depots and stops on the drive graph ``g``; the full drive-time matrix.

    Returns the :class:`Travel` and the :class:`analysis.snap.Snapped` points
    (for drawing the routes).
    """
    from analysis import routing, snap

    pts = snap.snap(g, snap.to_xy(problem.lonlat()), max_snap_m)
    sec = routing.matrix(g, pts, pts)
    np.fill_diagonal(sec, 0.0)
    return Travel(sec, pts.dist.copy(), pts.ok.copy(), max_snap_m), pts


# --------------------------------------------------------------------------- outputs


@dataclass
class Visit:
    """One served visit: times in seconds since midnight of ``day``."""

    stop: int
    key: str
    name: str
    occurrence: int
    van: int
    day: date
    seq: int
    arrival: int
    start: int
    end: int
    drive_s: float  # from the previous location


@dataclass
class Tour:
    """One van's day: leaves the depot, visits in order, lunch, comes back."""

    van: int
    day: date
    leave: int
    back: int
    lunch: int | None  # start of the break, None when none or not needed
    visits: list[Visit]
    drive_s: float  # including the way back


@dataclass
class Unserved:
    """A required visit that the plan does not serve, and why (French message)."""

    stop: int
    key: str
    name: str
    occurrence: int
    first: date
    last: date
    reason: str
    message: str


@dataclass
class Plan:
    """Tours of every (van, day) with at least one visit, and every unserved visit."""

    tours: list[Tour]
    unserved: list[Unserved]
    method: str = "ortools"
    solve_s: float = 0.0
    status: str = ""

    @property
    def visits(self) -> list[Visit]:
        return [v for t in self.tours for v in t.visits]

    @property
    def drive_s(self) -> float:
        return float(sum(t.drive_s for t in self.tours))

    def summary(self) -> dict:
        """Counts and totals, for reports and benchmarks."""
        n = len(self.visits)
        return {
            "method": self.method, "status": self.status, "solve_s": round(self.solve_s, 2),
            "visits": n, "unserved": len(self.unserved),
            "required": n + len(self.unserved), "tours": len(self.tours),
            "drive_h": round(self.drive_s / 3600, 2),
        }

    def to_dict(self) -> dict:
        """JSON-ready plan (dates as ISO strings)."""
        def conv(obj):
            d = asdict(obj)
            for k, v in list(d.items()):
                if isinstance(v, date):
                    d[k] = v.isoformat()
            return d

        tours = []
        for t in self.tours:
            d = conv(t)
            d["visits"] = [conv(v) for v in t.visits]
            tours.append(d)
        return {"summary": self.summary(), "tours": tours,
                "unserved": [conv(u) for u in self.unserved]}

    @classmethod
    def from_dict(cls, d: dict) -> Plan:
        """Inverse of :meth:`to_dict`."""
        tours = []
        for t in d["tours"]:
            visits = [Visit(**{**v, "day": date.fromisoformat(v["day"])}) for v in t["visits"]]
            tours.append(Tour(**{**t, "day": date.fromisoformat(t["day"]), "visits": visits}))
        unserved = [Unserved(**{**u, "first": date.fromisoformat(u["first"]),
                                "last": date.fromisoformat(u["last"])}) for u in d["unserved"]]
        s = d.get("summary", {})
        return cls(tours, unserved, s.get("method", ""), s.get("solve_s", 0.0),
                   s.get("status", ""))


# --------------------------------------------------------------------------- model pieces


@dataclass(frozen=True)
class _Alt:
    """One way to serve an occurrence: its allowed intervals of workshop start and vehicles."""

    occ: int  # index in the occurrence list
    stop: int
    starts: tuple[tuple[int, int], ...]  # allowed [earliest, latest] workshop starts
    vehicles: tuple[tuple[int, date], ...]  # allowed (van, day)


def _day_intervals(stop: Stop, weekday: int) -> tuple[tuple[int, int], ...]:
    """Allowed workshop-start intervals on a weekday (whole day when no window)."""
    wins = [w for w in stop.windows if w.weekday == weekday] if stop.windows else [
        Window(weekday, 0, DAY)]
    return tuple(sorted((w.start, w.end - stop.duration) for w in wins
                        if w.end - w.start >= stop.duration))


def _alternatives(problem: Problem, occs: list[Occurrence]) -> list[_Alt]:
    """Group each occurrence's possible (van, day) by identical windows."""
    alts = []
    for k, o in enumerate(occs):
        stop = problem.stops[o.stop]
        pin = problem.pins.get((o.stop, o.index))
        vans = [pin.van] if pin is not None and pin.van is not None else range(
            len(problem.vans))
        groups: dict[tuple, list[tuple[int, date]]] = {}
        for d in o.days:
            iv = _day_intervals(stop, d.weekday())
            if iv:
                groups.setdefault(iv, []).extend((v, d) for v in vans)
        alts.extend(_Alt(k, o.stop, iv, tuple(veh)) for iv, veh in groups.items())
    return alts


def _int_matrix(sec: np.ndarray) -> np.ndarray:
    """Drive times rounded up to whole seconds; no path becomes :data:`NO_PATH`."""
    out = np.where(np.isfinite(sec), np.ceil(sec), NO_PATH)
    return np.minimum(out, NO_PATH).astype(np.int64)


def _solve_model(problem: Problem, T: np.ndarray, alts: list[_Alt],
                 vehicles: list[tuple[int, date]], time_limit: float,
                 mandatory: bool = False):
    """Build and solve the routing model; return (routes, status name) or (None, status).

    ``routes`` maps a vehicle position to its list of (alt index, workshop start)
    and its (leave, back, lunch start or None).
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n_vans = len(problem.vans)
    n_nodes = n_vans + len(alts)
    loc = np.array(list(range(n_vans)) + [n_vans + a.stop for a in alts], dtype=np.int64)
    service = np.array([0] * n_vans + [problem.stops[a.stop].duration for a in alts],
                       dtype=np.int64)
    drive = T[np.ix_(loc, loc)]
    starts = [v for v, _ in vehicles]
    manager = pywrapcp.RoutingIndexManager(n_nodes, len(vehicles), starts, starts)
    routing = pywrapcp.RoutingModel(manager)
    cost_cb = routing.RegisterTransitMatrix(drive.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    time_cb = routing.RegisterTransitMatrix((drive + service[:, None]).tolist())
    routing.AddDimension(time_cb, DAY, DAY, False, "temps")
    dim = routing.GetDimensionOrDie("temps")
    solver = routing.solver()

    vehicle_of = {veh: i for i, veh in enumerate(vehicles)}
    for k, a in enumerate(alts):
        index = manager.NodeToIndex(n_vans + k)
        cumul = dim.CumulVar(index)
        cumul.SetRange(a.starts[0][0], a.starts[-1][1])
        for (_, hi), (lo, _) in zip(a.starts[:-1], a.starts[1:], strict=True):
            if lo - hi > 1:
                cumul.RemoveInterval(hi + 1, lo - 1)
        allowed = [vehicle_of[v] for v in a.vehicles if v in vehicle_of]
        routing.VehicleVar(index).SetValues([-1, *allowed])  # -1: unserved
    if not mandatory:
        by_occ: dict[int, list[int]] = {}
        for k, a in enumerate(alts):
            by_occ.setdefault(a.occ, []).append(manager.NodeToIndex(n_vans + k))
        for nodes in by_occ.values():
            routing.AddDisjunction(nodes, DROP_PENALTY, 1)
    elif len(alts) > 1:
        routing.AddDisjunction([manager.NodeToIndex(n_vans + k) for k in range(len(alts))],
                               DROP_PENALTY * 100, 1)

    visit_transit = [int(service[manager.IndexToNode(i)]) for i in range(routing.Size())]
    breaks = {}
    for vi, (v, _day) in enumerate(vehicles):
        van = problem.vans[v]
        dim.CumulVar(routing.Start(vi)).SetRange(van.start, van.end)
        dim.CumulVar(routing.End(vi)).SetRange(van.start, van.end)
        routing.AddVariableMaximizedByFinalizer(dim.CumulVar(routing.Start(vi)))
        routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(vi)))
        if van.lunch > 0:
            brk = solver.FixedDurationIntervalVar(van.lunch_earliest, van.lunch_latest,
                                                  van.lunch, False, f"pause-{vi}")
            breaks[vi] = brk
            dim.SetBreakIntervalsOfVehicle([brk], vi, visit_transit)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.time_limit.FromMilliseconds(max(100, int(time_limit * 1000)))
    solution = routing.SolveWithParameters(params)
    status = routing.status()
    names = {0: "non résolu", 1: "solution", 2: "aucune solution", 3: "temps écoulé",
             4: "modèle invalide", 5: "optimal", 6: "infaisable"}
    status_name = names.get(int(status), str(status))
    if solution is None:
        return None, status_name
    routes = {}
    for vi in range(len(vehicles)):
        index = routing.Start(vi)
        leave = solution.Min(dim.CumulVar(index))
        seq = []
        index = solution.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            seq.append((manager.IndexToNode(index) - n_vans, solution.Min(dim.CumulVar(index))))
            index = solution.Value(routing.NextVar(index))
        if not seq:
            continue
        lunch = solution.StartValue(breaks[vi]) if vi in breaks else None
        routes[vi] = (seq, leave, solution.Min(dim.CumulVar(index)), lunch)
    return routes, status_name


def _tour(problem: Problem, tr: Travel, van: int, day: date, seq: list[tuple[int, int]],
          leave: int, lunch: int | None) -> Tour:
    """A :class:`Tour` from a sequence of (stop, workshop start): arrival times recomputed.

    On each leg the van drives first; when the lunch break falls inside the leg it
    interrupts the drive (arrival delayed by its length).
    """
    v = problem.vans[van]
    n_vans = len(problem.vans)
    if lunch is not None and lunch < leave < lunch + v.lunch:  # lunch at the depot first
        leave = lunch + v.lunch
    prev, depart, visits, drive = van, leave, [], 0.0

    def arrive(depart: int, t: float, nxt: int) -> int:
        arr = depart + math.ceil(t)
        if lunch is not None and depart <= lunch and lunch + v.lunch <= nxt and arr > lunch:
            arr += v.lunch
        return arr

    for seq_no, (stop, start) in enumerate(seq):
        t = float(tr.seconds[prev, n_vans + stop])
        s = problem.stops[stop]
        visits.append(Visit(stop, s.id, s.name, -1, van, day, seq_no + 1,
                             int(arrive(depart, t, start)), int(start),
                             int(start + s.duration), t))
        drive += t
        prev, depart = n_vans + stop, start + s.duration
    t = float(tr.seconds[prev, van])
    drive += t
    return Tour(van, day, int(leave), int(arrive(depart, t, DAY)),
                lunch if v.lunch > 0 else None, visits, drive)


# --------------------------------------------------------------------------- solving


def _plan_from_routes(problem: Problem, tr: Travel, occs: list[Occurrence], alts: list[_Alt],
                      routes: dict, vehicles: list[tuple[int, date]]) -> list[Tour]:
    tours = []
    for vi, (seq, leave, _back, lunch) in sorted(routes.items(),
                                                 key=lambda r: (vehicles[r[0]][1], r[0])):
        van, day = vehicles[vi]
        tour = _tour(problem, tr, van, day, [(alts[k].stop, s) for k, s in seq], leave, lunch)
        for visit, (k, _s) in zip(tour.visits, seq, strict=True):
            visit.occurrence = occs[alts[k].occ].index
        tours.append(tour)
    return tours


def solve(problem: Problem, tr: Travel, time_limit: float = 30.0) -> Plan:
    """Plan the tours of the period (see the module docstring); every unserved visit explained."""
    t0 = time.perf_counter()
    T = _int_matrix(tr.seconds)
    occs = problem.occurrences()
    usable = _usable_stops(problem, tr)
    alts = [a for a in _alternatives(problem, occs) if usable[a.stop]]
    vehicles = sorted({veh for a in alts for veh in a.vehicles}, key=lambda x: (x[1], x[0]))
    tours: list[Tour] = []
    status = "rien à planifier"
    if alts:
        routes, status = _solve_model(problem, T, alts, vehicles, time_limit)
        if routes is not None:
            tours = _plan_from_routes(problem, tr, occs, alts, routes, vehicles)
    served = {(v.stop, v.occurrence) for t in tours for v in t.visits}
    unserved = explain(problem, tr, occs, served)
    return Plan(tours, unserved, "ortools", time.perf_counter() - t0, status)


def _usable_stops(problem: Problem, tr: Travel) -> np.ndarray:
    """Stops snapped on the road and reachable both ways from at least one depot."""
    n_vans = len(problem.vans)
    out = np.zeros(len(problem.stops), dtype=bool)
    for i in range(len(problem.stops)):
        j = n_vans + i
        out[i] = bool(tr.snapped[j]) and any(
            tr.snapped[v] and np.isfinite(tr.seconds[v, j]) and np.isfinite(tr.seconds[j, v])
            for v in range(n_vans))
    return out


# --------------------------------------------------------------------------- explanations


def _fits_alone(problem: Problem, T: np.ndarray, alt: _Alt, van: int) -> bool:
    """Whether one van can serve this visit alone in a day (exact, tiny model)."""
    day = next((d for v, d in alt.vehicles if v == van), None)
    if day is None:
        return False
    routes, _ = _solve_model(problem, T, [alt], [(van, day)], 0.5, mandatory=True)
    return bool(routes)


def explain(problem: Problem, tr: Travel, occs: list[Occurrence],
            served: set[tuple[int, int]]) -> list[Unserved]:
    """An :class:`Unserved` with a French reason for every required visit not in ``served``."""
    T = _int_matrix(tr.seconds)
    n_vans = len(problem.vans)
    alts = _alternatives(problem, occs)
    by_occ: dict[int, list[_Alt]] = {}
    for a in alts:
        by_occ.setdefault(a.occ, []).append(a)
    alone_cache: dict[tuple[int, tuple, int], bool] = {}
    out = []
    for k, o in enumerate(occs):
        if (o.stop, o.index) in served:
            continue
        s = problem.stops[o.stop]
        j = n_vans + o.stop
        span = f"du {o.first:%d/%m} au {o.last:%d/%m}"
        pin = problem.pins.get((o.stop, o.index))
        if not tr.snapped[j]:
            code, msg = R_SNAP, (f"L'arrêt est à {tr.snap_m[j]:.0f} m de la route la plus proche "
                                 f"(maximum {tr.max_snap_m:.0f} m) : vérifiez ses coordonnées.")
        elif not any(tr.snapped[v] and np.isfinite(tr.seconds[v, j])
                     and np.isfinite(tr.seconds[j, v]) for v in range(n_vans)):
            code, msg = R_UNREACHABLE, ("Aucun trajet routier entre un dépôt et l'arrêt "
                                        "(aller et retour).")
        elif not o.days and pin is not None:
            code, msg = R_PIN, (f"Le jour imposé ({pin.day:%d/%m/%Y}) est fermé (férié, hors "
                                "des jours travaillés) ou hors des fenêtres de l'arrêt"
                                + (f" (jour fixe : {s.fixed_label} ; épinglez-le un "
                                   f"{fmt.WEEKDAYS[s.fixed_day]})"
                                   if s.fixed_day is not None else "") + ".")
        elif not o.days and o.fixed is not None:
            code, msg = R_FIXED, _fixed_closed(problem, s, o.fixed)
        elif not o.days:
            wins = ", ".join(sorted({WEEKDAYS[w.weekday] for w in s.windows})) or "aucun"
            closed = [f"{d:%d/%m} ({n})" for d, n in problem.period.closed.items()
                      if o.first <= d <= o.last]
            msg = (f"Aucun jour travaillé {span} ne correspond aux jours de l'arrêt ({wins})"
                   + (f" ; jours fermés : {', '.join(closed)}" if closed else "") + ".")
            code = R_NO_DAY
        elif k not in by_occ:
            wins = "; ".join(w.label() for w in s.windows)
            code, msg = R_WINDOW, (f"Ses fenêtres ({wins}) sont plus courtes que l'atelier "
                                   f"({s.duration // 60} min).")
        else:
            fits = False
            for a in by_occ[k]:
                for v in sorted({v for v, _ in a.vehicles}):
                    key = (a.stop, a.starts, v)
                    if key not in alone_cache:
                        alone_cache[key] = _fits_alone(problem, T, a, v)
                    fits = fits or alone_cache[key]
            if not fits:
                go = min(tr.seconds[v, j] for v in range(n_vans)) / 60
                back = min(tr.seconds[j, v] for v in range(n_vans)) / 60
                wins = "; ".join(w.label() for w in s.windows) or "aucune"
                hours = ", ".join(f"{v.name} {fmt_time(v.start)}-{fmt_time(v.end)}"
                                  for v in problem.vans)
                code, msg = R_ALONE, (
                    f"Même seul dans la journée, le camion ne peut pas le servir : aller "
                    f"{go:.0f} min + atelier {s.duration // 60} min + retour {back:.0f} min, "
                    f"avec la pause déjeuner, dans les horaires ({hours}) et les fenêtres "
                    f"({wins}).")
            elif o.fixed is not None:
                code, msg = R_CAPACITY, (
                    f"Plus de place le {fmt.day_long(o.fixed)}, jour fixe de l'arrêt "
                    f"({s.fixed_label}) : les camions sont pleins ce jour-là. Ajoutez un "
                    "camion, allongez les journées, ou épinglez ailleurs des visites d'autres "
                    "arrêts de ce jour.")
            else:
                n_days = len({d for a in by_occ[k] for _, d in a.vehicles})
                code, msg = R_CAPACITY, (
                    f"Plus de place {span} : les camions sont pleins "
                    + ("le seul jour possible" if n_days == 1
                       else f"les {fmt.plural(n_days, 'jour')} possibles")
                    + ". Ajoutez un camion, allongez les journées, réduisez la fréquence "
                    "ou la durée des ateliers.")
        out.append(Unserved(o.stop, s.id, s.name, o.index, o.first, o.last, code, msg))
    return out


def _fixed_closed(problem: Problem, stop: Stop, day: date) -> str:
    """Why a fixed-day stop cannot be visited on ``day`` (closed, or not a working day)."""
    head = (f"Jour fixe ({stop.fixed_label}) non tenu le {fmt.day_long(day)} : ")
    name = fmt.WEEKDAYS[day.weekday()]
    if day in problem.period.closed:
        return (head + f"jour fermé ({problem.period.closed[day]}). La visite n'est pas "
                "déplacée à un autre jour ; épinglez-la ailleurs si besoin.")
    if day.weekday() not in problem.period.workdays:
        return head + (f"le {name} n'est pas un jour travaillé de la période ; ajoutez-le "
                       "aux jours travaillés.")
    return head + "aucune fenêtre de l'arrêt ce jour-là."


def van_usage(problem: Problem, plan: Plan) -> list[str]:
    """One French sentence per van: its days, visits and driving, or why it is not used.

    « Camion 2 : non utilisé — toutes les visites tiennent dans les journées du camion 1 ;
    réduire les journées ou ajouter des arrêts l'occuperait. »
    """
    n_vans = len(problem.vans)
    days = {v: sorted({t.day for t in plan.tours if t.van == v}) for v in range(n_vans)}
    used = [v for v in range(n_vans) if days[v]]
    reasons = {u.reason for u in plan.unserved}
    out = []
    for v, van in enumerate(problem.vans):
        if days[v]:
            visits = sum(len(t.visits) for t in plan.tours if t.van == v)
            drive = sum(t.drive_s for t in plan.tours if t.van == v) / 3600
            out.append(f"{van.name} : {fmt.plural(len(days[v]), 'journée')}, "
                       f"{fmt.plural(visits, 'visite')}, {fmt.number(drive, 1)} h de route.")
            continue
        others = [problem.vans[u].name for u in used]
        if not others:
            why = ("aucune visite n'a pu être planifiée (voir les visites non servies)"
                   if plan.unserved else "aucune visite à planifier")
        elif R_CAPACITY in reasons:
            why = ("des visites manquent pourtant de place : relancez le calcul avec plus "
                   "de temps, le solveur n'a pas fini")
        elif plan.unserved:
            why = (f"les visites non servies ne le seraient pas davantage avec ce camion "
                   f"(raisons ci-dessous) et les autres tiennent dans les journées "
                   f"{_of_vans(others)}")
        else:
            why = (f"toutes les visites tiennent dans les journées {_of_vans(others)} ; "
                   "réduire les journées ou ajouter des arrêts l'occuperait")
        out.append(f"{van.name} : non utilisé — {why}.")
    return out


def _of_vans(names: list[str]) -> str:
    """« du camion 1 », « des camions 1 et 2 » (names « Camion k » shortened)."""
    short = [n[len("Camion "):] if n.startswith("Camion ") else n for n in names]
    plain = all(n != s for n, s in zip(names, short, strict=True))
    if len(names) == 1:
        return f"du camion {short[0]}" if plain else f"de « {names[0]} »"
    listed = ", ".join(short[:-1]) + " et " + short[-1]
    return f"des camions {listed}" if plain else f"de {', '.join(names)}"


def fixed_day_report(problem: Problem, plan: Plan) -> list[str]:
    """One French sentence per fixed-day stop: visits kept on its day, and those not kept."""
    served = {(v.stop, v.occurrence): v for v in plan.visits}
    missing = {(u.stop, u.occurrence): u for u in plan.unserved}
    out = []
    for i, s in enumerate(problem.stops):
        if s.fixed_day is None:
            continue
        pinned = {k: p.day for (si, k), p in problem.pins.items() if si == i}
        occs = occurrences(i, s.frequency, s.windows, problem.period, pinned, s.fixed_day)
        kept = [o for o in occs if (i, o.index) in served
                and served[(i, o.index)].day.weekday() == s.fixed_day]
        freq = {"hebdomadaire": "chaque semaine", "bimensuelle": "une semaine sur deux",
                "mensuelle": "toutes les quatre semaines"}.get(s.frequency, s.frequency)
        line = (f"{s.name} — {s.fixed_label}, {freq} : {len(kept)} visite"
                f"{'s' if len(kept) > 1 else ''} sur {len(occs)} à son jour fixe")
        lost = [fmt.day_short(o.fixed or o.first) for o in occs if (i, o.index) in missing]
        if lost:
            line += (f" ; non tenue{'s' if len(lost) > 1 else ''} : {', '.join(lost)} "
                     "(raison dans les visites non servies)")
        out.append(line + ".")
    return out


# --------------------------------------------------------------------------- baseline


def nearest_neighbour(problem: Problem, tr: Travel) -> Plan:
    """Greedy baseline: each day, each van goes to the nearest visit it can still serve.

    Lunch is taken at the current place as soon as its earliest start has passed;
    a visit is only chosen when the van can still take lunch in time and come back
    before the end of its day.
    """
    t0 = time.perf_counter()
    T = _int_matrix(tr.seconds)
    occs = problem.occurrences()
    usable = _usable_stops(problem, tr)
    alts = [a for a in _alternatives(problem, occs) if usable[a.stop]]
    n_vans = len(problem.vans)
    done: set[int] = set()
    tours = []
    for day in problem.period.days():
        for vi, v in enumerate(problem.vans):
            cand = [a for a in alts if (vi, day) in a.vehicles]
            t, loc, seq, leave = v.start, vi, [], v.start
            lunch = None if v.lunch > 0 else -1
            while True:
                best = None
                for a in cand:
                    if a.occ in done:
                        continue
                    s = problem.stops[a.stop]
                    arr = t + T[loc, n_vans + a.stop]
                    start = next((max(arr, lo) for lo, hi in a.starts if max(arr, lo) <= hi),
                                 None)
                    if start is None:
                        continue
                    end = start + s.duration
                    if lunch is None and end > v.lunch_latest:
                        continue
                    home = max(end, v.lunch_earliest) + v.lunch if lunch is None else end
                    if home + T[n_vans + a.stop, vi] > v.end:
                        continue
                    score = (T[loc, n_vans + a.stop], start)
                    if best is None or score < best[0]:
                        best = (score, a, start)
                if best is None:
                    if lunch is None and max(t, v.lunch_earliest) <= v.lunch_latest:
                        lunch = max(t, v.lunch_earliest)
                        t = lunch + v.lunch
                        continue
                    break
                _, a, start = best
                if not seq:  # leave as late as possible, after a lunch taken at the depot
                    leave = max(t, start - T[vi, n_vans + a.stop])
                done.add(a.occ)
                seq.append((a, start))
                t, loc = start + problem.stops[a.stop].duration, n_vans + a.stop
            if seq:
                tour = _tour(problem, tr, vi, day, [(a.stop, s) for a, s in seq], int(leave),
                             lunch if lunch is not None and lunch >= 0 else None)
                for visit, (a, _s) in zip(tour.visits, seq, strict=True):
                    visit.occurrence = occs[a.occ].index
                tours.append(tour)
    served = {(v.stop, v.occurrence) for t in tours for v in t.visits}
    return Plan(tours, explain(problem, tr, occs, served), "plus proche voisin",
                time.perf_counter() - t0, "glouton")


# --------------------------------------------------------------------------- public side


def visit_datetimes(day: date, seconds: int, tz: str = "America/Martinique") -> datetime:
    """A local, time-zone-aware datetime from a day and seconds since midnight."""
    from zoneinfo import ZoneInfo

    return datetime.combine(day, datetime.min.time(), ZoneInfo(tz)) + timedelta(seconds=seconds)


def upcoming(visits, after: datetime, *, stop_key: str | None = None,
             near: tuple[float, float] | None = None, radius_m: float = 5000.0,
             limit: int = 5):
    """Next visits after ``after``: of one stop, or within ``radius_m`` (straight line) of a point.

    ``visits`` is a DataFrame with at least ``stop_key, stop_name, lon, lat, starts_at,
    ends_at`` (tz-aware datetimes), e.g. :func:`maillage.tour_store.published_visits`.
    Returns the matching rows sorted by start, with a ``distance_m`` column when
    ``near`` is given, at most ``limit`` per stop.
    """
    import pandas as pd

    from analysis.snap import to_xy

    df = visits[visits["starts_at"] >= pd.Timestamp(after)].copy()
    if stop_key is not None:
        df = df[df["stop_key"] == stop_key]
    if near is not None and len(df):
        xy = to_xy(df[["lon", "lat"]].to_numpy())
        p = to_xy([near])[0]
        df["distance_m"] = np.hypot(xy[:, 0] - p[0], xy[:, 1] - p[1])
        df = df[df["distance_m"] <= radius_m]
    df = df.sort_values(["starts_at", "stop_key"])
    return df.groupby("stop_key", sort=False).head(limit).reset_index(drop=True)


# --------------------------------------------------------------------------- geometry


def leg_xy(g, pts, a: int, b: int) -> np.ndarray:
    """Road geometry (EPSG:5490 vertices) of the fastest trip between snapped points a → b.

    :func:`analysis.routing.trip_geometry`: every vertex of the path's roads, from the
    snapped origin to the snapped destination (a straight segment when unreachable).
    """
    from analysis import routing

    return routing.trip_geometry(g, pts.take(slice(a, a + 1)), pts.take(slice(b, b + 1)))


def tour_lines(g, pts, problem: Problem, tour: Tour) -> list[list[tuple[float, float]]]:
    """(lat, lon) polylines of a tour's legs along the roads (depot → stops → depot)."""
    from analysis.snap import to_lonlat

    n_vans = len(problem.vans)
    chain = [tour.van] + [n_vans + v.stop for v in tour.visits] + [tour.van]
    lines = []
    for a, b in itertools.pairwise(chain):
        ll = to_lonlat(leg_xy(g, pts, a, b))
        lines.append([(float(lat), float(lon)) for lon, lat in ll])
    return lines


def frequency_days(freq: str) -> int:
    """Block length in days of a frequency name."""
    return FREQUENCIES[freq]
