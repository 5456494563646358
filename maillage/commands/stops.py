"""`maillage propose-stops`: where the mobile workshops should stop (MCLP or set covering).

The request is built from the arguments and answered by
:class:`maillage.services.stops.StopsService`, the same service as the page « Arrêts
proposés »; ``--json`` prints :meth:`~maillage.services.stops.StopsResult.to_json`.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the service (numpy, scipy…) is imported when the command runs
    from maillage.services.stops import StopsRequest, StopsResult


def _num(v: float) -> str:
    return f"{v:,.0f}".replace(",", "\u202f")


def request_from_args(args: argparse.Namespace) -> StopsRequest:
    """The request of the command line (checked with :meth:`StopsRequest.validated`)."""
    from maillage.services.stops import StopsRequest

    return StopsRequest(p=args.p, minutes=args.minutes, mode=args.mode, weights=args.weight,
                        scope=args.scope, model=args.model, share=args.share,
                        solver="greedy" if args.greedy_only else "highs",
                        time_limit=args.time_limit, places=args.places,
                        min_per_commune=args.min_per_commune,
                        max_per_commune=args.max_per_commune, min_per_epci=args.min_per_epci,
                        max_per_epci=args.max_per_epci, min_distance_m=args.min_distance)


def _print(res: StopsResult) -> None:
    from analysis.siting import pct
    from maillage.services.stops import MODE_LABEL, MODEL_LABEL

    r = res.request
    how = MODE_LABEL[r.mode]
    what = res.weight_label
    print(f"Arrêts proposés ({MODEL_LABEL[r.model]}) — {r.minutes:g} min {how}, "
          f"pondération : {what} — territoire : {res.scope_label}.")
    print(f"{res.n_usable} candidats utilisables sur {res.n_candidates}, "
          f"{res.n_cells} carreaux habités.")
    rules = _rules_text(r)
    if rules:
        print(f"Règles d'équité : {rules}.")
    total = res.demand_total
    print(f"Aujourd'hui : {_num(res.covered_today)} {what} sur {_num(total)} sont à "
          f"{r.minutes:g} min ou moins d'un lieu fixe ; "
          f"{_num(total - res.covered_today)} ne le sont pas.")
    for label, sol in (("Réponse immédiate (gloutonne)", res.greedy),
                       ("Réponse du solveur (HiGHS)", res.milp)):
        if sol is None:
            continue
        obj = (f"{_num(sol.covered)} {what} nouvellement couverts" if sol.model == "mclp"
               else f"{len(sol.selected)} arrêts, {_num(sol.covered)} {what} couverts")
        bound = "—" if sol.bound is None else _num(sol.bound)
        gap = "—" if sol.gap is None or not math.isfinite(sol.gap) else pct(sol.gap, 2)
        print(f"\n{label} : {obj} ({pct(sol.share, 1)} du manque) en {sol.seconds:.2f} s.")
        print(f"  Solution {sol.status_fr} ; meilleure borne : {bound} ; écart : {gap}.")
        for text in sol.unmet_fr:
            print(f"  Contrainte non respectée : {text}.")
    print(f"\nAvec les {len(res.best.selected)} arrêts : {_num(res.covered_with_stops)} {what} "
          f"({pct(res.share(res.covered_with_stops), 1)}) ; encore hors de portée : "
          f"{_num(res.still_out_of_reach)}.")
    print("\nArrêts, dans l'ordre de ce que chacun ajoute :")
    for s in res.stops.itertuples():
        print(f"  {s.rang:>3}. {s.nom} ({s.commune}) — +{_num(s.gain)} {what} "
              f"(cumul {_num(s.cumul)}) — {s.lon:.5f},{s.lat:.5f}")


def _rules_text(r) -> str:
    """The equity rules of a request in French (empty without any)."""
    parts = []
    for level, label in (("commune", "par commune"), ("epci", "par EPCI")):
        lo, hi = getattr(r, f"min_per_{level}"), getattr(r, f"max_per_{level}")
        if lo:
            parts.append(f"au moins {lo} arrêt(s) {label}")
        if hi is not None:
            parts.append(f"au plus {hi} arrêt(s) {label}")
    if r.min_distance_m:
        parts.append(f"arrêts à {_num(r.min_distance_m)} m au moins les uns des autres")
    return ", ".join(parts)


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu, pas « {text} »") from None


def _metres(text: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"distance en mètres attendue, pas « {text} »") \
            from None


def _propose(args: argparse.Namespace) -> int:
    from maillage import settings
    from maillage.cli import print_json
    from maillage.services.stops import StopsService

    request = request_from_args(args).validated()  # before anything is loaded
    res = StopsService.load(settings.get()).run(request)
    if args.json:
        print_json(res.to_json())
    else:
        _print(res)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("propose-stops", help="propose les arrêts des ateliers mobiles")
    p.add_argument("--p", type=int, default=10, help="nombre d'arrêts (modèle mclp)")
    p.add_argument("--minutes", type=float, default=15.0,
                   help="temps de trajet jusqu'à l'arrêt (défaut : 15)")
    p.add_argument("--mode", default="walk", help="walk (à pied, défaut) ou drive")
    p.add_argument("--weight", default="population",
                   help="population, seniors, age_80p, poor, fragility, far (loin de tout) ou "
                   "un mélange (ex. seniors=2,poor=1)")
    p.add_argument("--scope", default=None,
                   help="EPCI (CACEM, CAP Nord, Espace Sud) ou codes INSEE séparés par des "
                   "virgules (défaut : toute l'île)")
    p.add_argument("--model", default="mclp",
                   help="mclp (p arrêts, le plus de demande) ou lscp (le moins d'arrêts pour "
                   "une part de la demande)")
    p.add_argument("--share", type=float, default=0.8,
                   help="part de la demande non couverte à couvrir (modèle lscp)")
    p.add_argument("--time-limit", type=float, default=30.0,
                   help="limite de temps du solveur en secondes (défaut : 30)")
    p.add_argument("--places", default="all",
                   help="lieux fixes qui couvrent déjà : all (défaut) ou labelled")
    p.add_argument("--min-per-commune", type=_count, default=0,
                   help="au moins N arrêts dans chaque commune du territoire")
    p.add_argument("--max-per-commune", type=_count, default=None,
                   help="au plus N arrêts par commune")
    p.add_argument("--min-per-epci", type=_count, default=0,
                   help="au moins N arrêts dans chaque EPCI du territoire")
    p.add_argument("--max-per-epci", type=_count, default=None, help="au plus N arrêts par EPCI")
    p.add_argument("--min-distance", type=_metres, default=0.0,
                   help="distance minimale entre deux arrêts, en mètres (à vol d'oiseau)")
    p.add_argument("--greedy-only", action="store_true", help="sans le solveur (instantané)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_propose)
