"""`maillage coverage`: who lives within N minutes of a place, per commune, and what-ifs.

The computation is :class:`maillage.services.coverage.CoverageService`, shared with the
Couverture page; this module turns the arguments into a request and prints the result.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import TYPE_CHECKING

from maillage import fmt

if TYPE_CHECKING:  # the service (numpy, geopandas) is imported when the command runs
    import pandas as pd

    from maillage.services.coverage import CoverageRequest, CoverageResult

MODE_LABEL = {"drive": "en voiture", "walk": "à pied"}
#: Lets ``--with -61.07,14.61`` pass a negative coordinate pair as a value, not an option.
_COORDS_ARG = re.compile(r"^-\d+$|^-\d*\.?\d+(,\s*-?\d*\.?\d+)*$")


def _count(text: str) -> int:
    """A non-negative integer option, with a French message."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu, pas « {text} »") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"nombre positif attendu, pas « {text} »")
    return value


def _minutes_arg(text: str) -> float:
    """A number of minutes, with a French message (range checked by the request)."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre de minutes attendu, pas « {text} »") from None


def request_from_args(args: argparse.Namespace) -> CoverageRequest:
    """The :class:`CoverageRequest` of the command line, checked before anything is loaded."""
    from analysis import snap
    from maillage.services.coverage import CoverageRequest, parse_minutes

    points = tuple((*snap.parse_lonlat(text), "") for text in args.with_points or ())
    return CoverageRequest(
        mode=args.mode, minutes=parse_minutes(args.minutes), weight=args.weight,
        places=args.places, services=tuple(args.service or ()), kinds=tuple(args.kind or ()),
        added=points, removed=tuple(args.without or ()), zone_minutes=args.zone_minutes,
        connectivity=args.connectivity, by_commune=args.by_commune,
        with_stops=args.with_stops,
    ).validated()


def _minutes_text(v: float) -> str:
    return "—" if not math.isfinite(v) else fmt.number(v, 1)


def _num(v: float) -> str:
    return fmt.number(v)


def _pct(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{fmt.number(v, 1)} %"


def print_table(tab: pd.DataFrame, minute: float, title: str) -> None:
    """The commune rows and the island total for one threshold, in French."""
    import pandas as pd

    from analysis import coverage

    lab = coverage.minute_label(minute)
    rows = tab[tab["level"].isin(["commune", "island"])]
    show = pd.DataFrame({
        "Territoire": rows["name"], "EPCI": rows["epci"],
        "Habitants": rows["population"].map(_num),
        f"Hab. ≤ {lab} min": rows[f"population_{lab}"].map(_num),
        "Part hab.": rows[f"population_{lab}_share"].map(_pct),
        "Part 65+": rows[f"seniors_{lab}_share"].map(_pct),
        "Part 80+": rows[f"age_80p_{lab}_share"].map(_pct),
        "Part mén. pauvres": rows[f"poor_households_{lab}_share"].map(_pct),
        "Médiane (min)": rows["median_min"].map(_minutes_text),
        "9e décile (min)": rows["p90_min"].map(_minutes_text),
    })
    print(title)
    print(show.to_string(index=False))


def print_report(res: CoverageResult, zones_listed: int) -> None:
    """The French text report of a coverage result."""
    from analysis import coverage

    req = res.request
    how = MODE_LABEL[req.mode]
    print(f"Couverture {how} — {res.n_places_usable} lieux sur {res.n_places} retenus, "
          f"{res.n_cells} carreaux habités.")
    for m in req.minutes:
        print_table(res.tables, m, f"\nÀ {m:g} minutes ou moins {how} d'un lieu :")
    zones = res.zone_table()
    print(f"\nZones blanches (au-delà de {res.zone_minutes:g} min {how}) : {len(zones)} ; "
          f"les {min(zones_listed, len(zones))} plus peuplées :")
    for z in zones.head(zones_listed).itertuples():
        print(f"  n° {z.zone} : {_num(z.population)} habitants, {_num(z.seniors)} de 65 ans et "
              f"plus, {_num(z.poor_households)} ménages pauvres — {z.communes} — "
              f"lieu le plus proche entre {_minutes_text(z.min_min)} et "
              f"{_minutes_text(z.max_min)} min")
    w = res.whatif
    if w is None:
        return
    print("\nHypothèse : " + ", ".join(
        [f"ajout de {lon:.5f},{lat:.5f}" for lon, lat, _ in w.added]
        + [f"retrait de {p}" for p in w.removed]))
    for m in req.minutes:
        print_table(w.tables, m, f"\nAvec l'hypothèse, à {m:g} minutes ou moins :")
        lab = coverage.minute_label(m)
        d = w.delta
        d = d[(d[f"population_gain_{lab}"] > 0) | (d[f"population_loss_{lab}"] > 0)]
        print(f"\nGagnent / perdent l'accès à {lab} min :")
        for r in d.itertuples():
            print(f"  {r.name} : +{_num(getattr(r, f'population_gain_{lab}'))} / "
                  f"−{_num(getattr(r, f'population_loss_{lab}'))} habitants")
    z = w.zones
    changed = z[z["status"] != "unchanged"]
    print(f"\nZones blanches touchées : {len(changed)} "
          f"({(z['status'] == 'gone').sum()} disparaissent).")


def _coverage(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.services.coverage import CoverageService

    # a refusal is a MaillageError: maillage.cli.main prints it (as JSON with --json), exit 2
    req = request_from_args(args)
    res = CoverageService.load().run(req)
    if args.json:
        print_json(res.to_json(args.zones))
    else:
        print_report(res, args.zones)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="couverture par commune : qui vit à N minutes d'un lieu")
    p.add_argument("--mode", default="walk", metavar="walk|drive",
                   help="walk (à pied, par défaut) ou drive (en voiture)")
    p.add_argument("--minutes", default="15", help="seuil(s) en minutes, par exemple 15 ou 10,20")
    p.add_argument("--weight", default="population", metavar="population|seniors|poor|fragility",
                   help="pondération des temps médians et du rang des zones blanches")
    p.add_argument("--places", default="all", metavar="all|labelled",
                   help="tous les lieux (par défaut) ou les seuls points labellisés")
    p.add_argument("--service", action="append", metavar="SERVICE",
                   help="ne garder que les lieux offrant ce service (répétable)")
    p.add_argument("--kind", action="append", metavar="TYPE",
                   help="ne garder que ce type de lieu, par exemple « lieu fixe » (répétable)")
    p.add_argument("--with-stops", action="store_true",
                   help="compte aussi les arrêts des ateliers mobiles des plans publiés")
    p.add_argument("--with", dest="with_points", action="append", metavar="LON,LAT",
                   help="ajoute un point hypothétique (répétable)")
    p.add_argument("--without", action="append", metavar="ID_LIEU",
                   help="retire un lieu du registre (répétable)")
    p.add_argument("--zones", type=_count, default=10, metavar="N",
                   help="nombre de zones blanches listées (par défaut 10)")
    p.add_argument("--zone-minutes", type=_minutes_arg, default=None, metavar="M",
                   help="seuil des zones blanches en minutes (par défaut le premier seuil)")
    p.add_argument("--connectivity", type=_count, default=8, metavar="4|8",
                   help="voisinage des carreaux des zones blanches (8 par défaut)")
    p.add_argument("--by-commune", action="store_true",
                   help="découpe les zones blanches aux limites des communes")
    p.add_argument("--json", action="store_true", help="sortie JSON")
    p.set_defaults(handler=_coverage)
    p._negative_number_matcher = _COORDS_ARG
