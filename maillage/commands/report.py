"""`maillage report …`: the documents to hand over, as self-contained HTML files (or PDF
when ``--out`` ends with ``.pdf``: WeasyPrint).

* ``maillage report coverage --epci "CAP Nord" --minutes 15 --out rapport.html``: the
  coverage report of an EPCI (or of the island without ``--epci``),
  :class:`maillage.services.report.CoverageReportService`;
* ``maillage report place ID [--from "adresse"] --out fiche.html``: the printable sheet
  of a place, :class:`maillage.services.sheet.SheetService`.

The pages' download buttons call the same services: for the same inputs and ``--date``
the files are the same bytes. ``--json`` prints the figures (and still writes the file).
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path

from geo.errors import MaillageError

#: Lets ``--with -61.07,14.61`` pass a negative coordinate pair as a value, not an option.
_COORDS_ARG = re.compile(r"^-\d+$|^-\d*\.?\d+(,\s*-?\d*\.?\d+)*$")


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MaillageError(f"Date illisible : « {text} » (écrivez-la AAAA-MM-JJ, par exemple "
                            "2026-12-01).") from None


def _out(text: str) -> Path:
    out = Path(text)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise MaillageError(f"Le fichier de sortie doit finir par .html ou .pdf : « {text} ».")
    return out


def write(out: Path, text: str) -> None:
    """Write the document atomically (a crash leaves the old file or the new one): the
    HTML as UTF-8, or its PDF when ``out`` ends with ``.pdf``
    (:func:`maillage.services.documents.pdf`)."""
    if out.suffix.lower() == ".pdf":
        from maillage.services import documents

        data = documents.pdf(text)
    else:
        data = text.encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)


def _minutes(text: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre de minutes attendu, pas « {text} »") from None


def coverage_request_from_args(args: argparse.Namespace):
    """The :class:`CoverageReportRequest` of the command line, checked before any loading."""
    from analysis import snap
    from maillage.services.report import CoverageReportRequest
    from maillage.services.stops import StopsRequest

    points = tuple((*snap.parse_lonlat(text), "") for text in args.with_points or ())
    stops = None
    if args.stops:
        stops = StopsRequest(p=args.stops, minutes=args.stops_minutes or args.minutes,
                             mode=args.stops_mode, weights=args.stops_weight,
                             solver="greedy" if args.greedy_only else "highs",
                             time_limit=args.time_limit, places=args.places)
    return CoverageReportRequest(
        scope=args.epci, minutes=args.minutes, drive_minutes=args.drive_minutes,
        weight=args.weight, places=args.places, added=points,
        removed=tuple(args.without or ()), stops=stops, date=_date(args.date),
    ).validated()


def _coverage(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.services.report import CoverageReportService

    out = _out(args.out)
    req = coverage_request_from_args(args)
    res = CoverageReportService.load().run(req)
    write(out, res.html)
    if args.json:
        print_json({**res.to_json(), "fichier": str(out)})
    else:
        walk, drive = res.modes["walk"], res.modes["drive"]
        from maillage import fmt

        w, d = walk.total(), drive.total()
        print(f"Rapport de couverture — {res.scope_label}, {fmt.day_long(req.date)} : "
              f"{fmt.percent(w[f'population_{walk.label}_share'], 1)} des habitants à "
              f"{walk.label} min ou moins à pied, "
              f"{fmt.percent(d[f'population_{drive.label}_share'], 1)} à {drive.label} min "
              "ou moins en voiture.")
        print(f"Écrit dans {out}" + (" (PDF A4)." if out.suffix.lower() == ".pdf" else
                                      " (HTML autonome, imprimable ; --out rapport.pdf pour un "
                                      "PDF)."))
    return 0


def _place(args: argparse.Namespace) -> int:
    from analysis import snap
    from maillage.cli import print_json
    from maillage.services.sheet import SheetRequest, SheetService

    out = _out(args.out)
    when = _date(args.date)
    if args.at and args.from_address:
        raise MaillageError("Donnez soit une adresse (--from), soit un point (--at), pas les "
                            "deux.")
    origin = None
    label = ""
    if args.at:
        lon, lat = snap.parse_lonlat(args.at)
        origin, label = (lon, lat), "le point choisi"
    SheetRequest(args.place_id, origin, label, when).validated()  # refused before loading
    svc = SheetService.load()
    if args.from_address:
        lon, lat, label = svc.origin_of(args.from_address)
        origin = (lon, lat)
    res = svc.run(SheetRequest(args.place_id, origin, label, when))
    write(out, res.html)
    if args.json:
        print_json({**res.to_json(), "fichier": str(out)})
    else:
        print(f"Fiche de « {res.place['nom']} » écrite dans {out}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="documents à remettre : rapport de couverture, fiche "
                       "d'un lieu (HTML autonome, imprimable)")
    rsub = p.add_subparsers(dest="report_command", metavar="DOCUMENT", required=True,
                            parser_class=type(p))

    c = rsub.add_parser("coverage", help="rapport de couverture d'un EPCI ou de l'île")
    c.add_argument("--epci", default=None, metavar="NOM",
                   help="CACEM, CAP Nord ou Espace Sud (par défaut toute la Martinique)")
    c.add_argument("--minutes", type=_minutes, default=15.0,
                   help="seuil en minutes (à pied ; en voiture aussi sauf --drive-minutes)")
    c.add_argument("--drive-minutes", type=_minutes, default=None, metavar="M",
                   help="seuil en voiture, s'il diffère")
    c.add_argument("--weight", default="population", metavar="population|seniors|poor|fragility",
                   help="pondération des temps médians et du rang des zones blanches")
    c.add_argument("--places", default="all", metavar="all|labelled",
                   help="tous les lieux (par défaut) ou les seuls points labellisés")
    c.add_argument("--with", dest="with_points", action="append", metavar="LON,LAT",
                   help="hypothèse : ajoute un point (répétable)")
    c.add_argument("--without", action="append", metavar="ID_LIEU",
                   help="hypothèse : retire un lieu (répétable)")
    c.add_argument("--stops", type=int, default=0, metavar="N",
                   help="ajoute N arrêts proposés pour l'atelier mobile")
    c.add_argument("--stops-mode", default="walk", metavar="walk|drive",
                   help="mode des arrêts proposés (à pied par défaut)")
    c.add_argument("--stops-minutes", type=_minutes, default=None, metavar="M",
                   help="temps de trajet jusqu'aux arrêts (par défaut --minutes)")
    c.add_argument("--stops-weight", default="population", metavar="POIDS",
                   help="qui compter pour les arrêts (population, seniors, poor, mélange…)")
    c.add_argument("--greedy-only", action="store_true",
                   help="arrêts sans le solveur (instantané, sans garantie d'optimalité)")
    c.add_argument("--time-limit", type=float, default=30.0,
                   help="limite du solveur des arrêts en secondes (30 par défaut)")
    c.add_argument("--date", default=None, metavar="AAAA-MM-JJ",
                   help="date imprimée (aujourd'hui par défaut)")
    c.add_argument("--out", required=True, metavar="FICHIER.html|.pdf",
                   help="fichier écrit : HTML autonome, ou PDF A4 s'il finit par .pdf")
    c.add_argument("--json", action="store_true", help="affiche les chiffres en JSON")
    c.set_defaults(handler=_coverage)
    c._negative_number_matcher = _COORDS_ARG

    f = rsub.add_parser("place", help="fiche imprimable d'un lieu")
    f.add_argument("place_id", metavar="ID", help="identifiant du lieu (maillage places list)")
    f.add_argument("--from", dest="from_address", default=None, metavar="ADRESSE",
                   help="adresse de départ : la fiche donne les temps à pied et en voiture")
    f.add_argument("--at", default=None, metavar="LON,LAT", help="point de départ")
    f.add_argument("--date", default=None, metavar="AAAA-MM-JJ",
                   help="date imprimée, et des prochains passages de l'atelier mobile")
    f.add_argument("--out", required=True, metavar="FICHIER.html|.pdf",
                   help="fichier écrit : HTML autonome, ou PDF A4 s'il finit par .pdf")
    f.add_argument("--json", action="store_true", help="affiche la fiche en JSON")
    f.set_defaults(handler=_place)
    f._negative_number_matcher = _COORDS_ARG
