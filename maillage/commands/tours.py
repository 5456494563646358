"""`maillage tours`: plan the mobile workshops' tours from a stops file (see docs/tournees.md).

The request is built from the arguments and planned by
:class:`maillage.services.tours.ToursService`, the same service as the page « Tournées »;
``--out`` and ``--json`` both get :meth:`~maillage.services.tours.ToursResult.to_json`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from maillage.errors import MaillageError

#: Lets ``--depot -61.07,14.61`` pass a negative coordinate pair as a value, not an option.
_COORDS_ARG = re.compile(r"^-\d+$|^-\d*\.?\d+(,\s*-?\d*\.?\d+)*$")


def request_from_args(args: argparse.Namespace):
    """The :class:`maillage.services.tours.ToursRequest` of the command line (stops file read)."""
    from maillage.services import tours as tours_service

    return tours_service.ToursRequest(
        stops=tours_service.stops_from_csv(Path(args.stops), args.frequency), vans=args.vans,
        depot=args.depot, hours=args.hours, lunch=args.lunch, lunch_min=args.lunch_min,
        weeks=args.weeks, start=args.start, workdays=args.workdays, time_limit=args.time_limit)


def _run(args: argparse.Namespace) -> int:
    from analysis.schedule import WEEKDAY_NAMES, fmt_time
    from maillage import settings
    from maillage.cli import print_json
    from maillage.services.tours import ToursService

    request = request_from_args(args).validated()  # before the road network is loaded
    for path in filter(None, (args.out, args.ics, args.csv)):
        if not Path(path).parent.is_dir():
            raise MaillageError(f"Dossier de sortie introuvable : {Path(path).parent}")
    res = ToursService.load(settings.get()).run(request)
    doc = res.to_json()
    Path(args.out).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.ics:
        Path(args.ics).write_bytes(res.ics())
    if args.csv:
        Path(args.csv).write_text(res.csv(), encoding="utf-8")
    if args.json:
        print_json(doc)
        return 0
    plan, problem = res.plan, res.problem
    s = res.summary
    print(f"{s['visits']} visites planifiées sur {s['required']} demandées, {s['tours']} "
          f"journées de camion, {s['drive_h']:.1f} h de route (calcul {s['solve_s']:.1f} s).")
    for t in plan.tours:
        stops = ", ".join(f"{fmt_time(v.start)} {v.name}" for v in t.visits)
        print(f"  {WEEKDAY_NAMES[t.day.weekday()]} {t.day:%d/%m} {problem.vans[t.van].name} "
              f"({fmt_time(t.leave)}-{fmt_time(t.back)}) : {stops}")
    for line in res.van_usage + res.fixed_days:
        print(f"  {line}")
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
                   help="arrêts : nom,longitude,latitude[,frequence,duree_min,fenetres,"
                        "jour_fixe,adresse,id]")
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
    p.add_argument("--json", action="store_true",
                   help="le plan en JSON (le même document que --out)")
    p.set_defaults(handler=_run)
