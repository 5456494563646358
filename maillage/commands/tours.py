"""`maillage tours`: plan the mobile workshops' tours from a stops file (see docs/tournees.md)."""

from __future__ import annotations

import argparse
import json
import re
from datetime import date, timedelta
from pathlib import Path

from geo.errors import MaillageError

#: Lets ``--depot -61.07,14.61`` pass a negative coordinate pair as a value, not an option.
_COORDS_ARG = re.compile(r"^-\d+$|^-\d*\.?\d+(,\s*-?\d*\.?\d+)*$")


def _range(text: str, what: str) -> tuple[int, int]:
    from analysis.schedule import ScheduleError, parse_time

    try:
        a, b = (parse_time(x) for x in text.split("-"))
    except (ValueError, ScheduleError):
        raise MaillageError(f"{what} illisible : « {text} » (exemple : 08:00-17:00).") from None
    if b < a:
        raise MaillageError(f"{what} : « {text} » finit avant de commencer.")
    return a, b


def build_problem(args: argparse.Namespace):
    """Check every cheap input, then the :class:`analysis.tours.Problem` (nothing loaded yet)."""
    from analysis import schedule, snap
    from analysis.tours import Problem, Van
    from geo import tours_io

    if not 1 <= args.vans <= 10:
        raise MaillageError("Nombre de camions attendu entre 1 et 10.")
    if not 1 <= args.weeks <= 26:
        raise MaillageError("Nombre de semaines attendu entre 1 et 26.")
    if args.time_limit <= 0 or args.time_limit > 3600:
        raise MaillageError("Temps de calcul attendu entre 1 et 3600 secondes.")
    try:
        start = date.fromisoformat(args.start) if args.start else None
    except ValueError:
        raise MaillageError(f"Date de début illisible : « {args.start} » (AAAA-MM-JJ).") from None
    if start is None:
        today = date.today()
        start = today + timedelta(days=7 - today.weekday())  # next Monday
    day = _range(args.hours, "Horaires")
    lunch = _range(args.lunch, "Pause déjeuner")
    if not (day[0] <= lunch[0] and lunch[1] + args.lunch_min * 60 <= day[1]):
        raise MaillageError("La pause déjeuner doit tenir dans les horaires de travail.")
    try:
        workdays = tuple(sorted({w.weekday for w in schedule.parse_windows(
            f"{args.workdays} 00:00-01:00")}))
    except schedule.ScheduleError as exc:
        raise MaillageError(f"Jours travaillés : {exc}.") from None
    from maillage.commands._shared import import_progress

    with import_progress(Path(args.stops).name, enabled=not args.json) as progress:
        stops = tours_io.read_stops(Path(args.stops), args.frequency, progress=progress)
    if args.depot:
        depot = snap.parse_lonlat(args.depot)
        snap.check_in_martinique(*depot, label="Le dépôt")
    else:
        depot = tours_io.default_depot()
    vans = [Van(f"Camion {k + 1}", depot, day[0], day[1], lunch[0], lunch[1],
                args.lunch_min * 60) for k in range(args.vans)]
    period = schedule.Period.with_holidays(start, args.weeks, workdays)
    return Problem(stops, vans, period)


def _run(args: argparse.Namespace) -> int:
    from analysis import tours
    from analysis.schedule import WEEKDAY_NAMES, fmt_time
    from geo import graphs, tours_io
    from maillage.cli import print_json

    problem = build_problem(args)
    for path in filter(None, (args.out, args.ics, args.csv)):
        if not Path(path).parent.is_dir():
            raise MaillageError(f"Dossier de sortie introuvable : {Path(path).parent}")
    _, _, tr = graphs.on_island(problem)
    plan = tours.solve(problem, tr, args.time_limit)
    doc = tours_io.plan_json(plan, problem)
    Path(args.out).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.ics:
        Path(args.ics).write_bytes(tours_io.plan_ics(plan, problem))
    if args.csv:
        Path(args.csv).write_text(tours_io.plan_csv(plan, problem), encoding="utf-8")
    if args.json:
        print_json({"summary": doc["summary"], "unserved": doc["unserved"]})
        return 0
    s = plan.summary()
    print(f"{s['visits']} visites planifiées sur {s['required']} demandées, {s['tours']} "
          f"journées de camion, {s['drive_h']:.1f} h de route (calcul {s['solve_s']:.1f} s).")
    for t in plan.tours:
        stops = ", ".join(f"{fmt_time(v.start)} {v.name}" for v in t.visits)
        print(f"  {WEEKDAY_NAMES[t.day.weekday()]} {t.day:%d/%m} {problem.vans[t.van].name} "
              f"({fmt_time(t.leave)}-{fmt_time(t.back)}) : {stops}")
    for u in plan.unserved:
        print(f"  NON SERVIE : {u.name} ({u.first:%d/%m}-{u.last:%d/%m}) : {u.message}")
    print(f"Plan écrit dans {args.out}" + (f", calendrier dans {args.ics}" if args.ics else "")
          + (f", tableau dans {args.csv}" if args.csv else "") + ".")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tours", help="planifie les tournées des ateliers mobiles",
                       description="Tournées des camions : jours, ordre et horaires des arrêts "
                       "(voir docs/tournees.md).")
    p._negative_number_matcher = _COORDS_ARG
    p.add_argument("--stops", required=True, metavar="FICHIER.csv",
                   help="arrêts : nom,longitude,latitude[,frequence,duree_min,fenetres,adresse,id]")
    p.add_argument("--vans", type=int, default=1, help="nombre de camions (défaut : 1)")
    p.add_argument("--weeks", type=int, default=4, help="semaines planifiées (défaut : 4)")
    p.add_argument("--out", required=True, metavar="PLAN.json", help="plan écrit en JSON")
    p.add_argument("--ics", metavar="FICHIER.ics", help="calendrier iCalendar de tout le plan")
    p.add_argument("--csv", metavar="FICHIER.csv", help="une ligne par visite")
    p.add_argument("--depot", metavar="LON,LAT",
                   help="dépôt des camions (défaut : mairie de Fort-de-France)")
    p.add_argument("--start", metavar="AAAA-MM-JJ", help="premier jour (défaut : lundi prochain)")
    p.add_argument("--time-limit", type=float, default=30.0, help="secondes de calcul (30)")
    p.add_argument("--hours", default="08:00-17:00", help="horaires des camions (08:00-17:00)")
    p.add_argument("--lunch", default="12:00-13:00",
                   help="début de la pause déjeuner au plus tôt-au plus tard (12:00-13:00)")
    p.add_argument("--lunch-min", type=int, default=60, help="durée de la pause (60 min)")
    p.add_argument("--workdays", default="lun-ven", help="jours travaillés (lun-ven)")
    p.add_argument("--frequency", default="hebdomadaire",
                   help="fréquence des arrêts sans colonne frequence (hebdomadaire)")
    p.add_argument("--json", action="store_true", help="résumé et visites non servies en JSON")
    p.set_defaults(handler=_run)
