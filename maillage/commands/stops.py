"""`maillage propose-stops`: where the mobile workshops should stop (MCLP or set covering)."""

from __future__ import annotations

import argparse
import math
from typing import Any

from geo.errors import MaillageError
from maillage import settings

MODE_LABEL = {"drive": "en voiture", "walk": "à pied"}
MODEL_LABEL = {"mclp": "couverture maximale", "lscp": "couverture d'une part de la demande"}
#: Longest trip a stop may be credited with (minutes).
MAX_MINUTES = 60.0


def _num(v: float) -> str:
    return f"{v:,.0f}".replace(",", "\u202f")


def check_args(args: argparse.Namespace) -> dict[str, Any]:
    """Validate the cheap inputs before loading anything (French errors)."""
    from analysis import graph, siting

    mode = graph.check_mode(args.mode)
    if args.model not in MODEL_LABEL:
        raise MaillageError(f"Modèle inconnu : « {args.model} » (mclp ou lscp).")
    if args.p < 1 or args.p > 500:
        raise MaillageError(f"Nombre d'arrêts invalide : {args.p} (entre 1 et 500).")
    if not (math.isfinite(args.minutes) and 0 < args.minutes <= MAX_MINUTES):
        raise MaillageError(f"Temps de trajet invalide : {args.minutes:g} min (plus de 0 et "
                            f"{MAX_MINUTES:g} au plus).")
    if not (math.isfinite(args.share) and 0 < args.share <= 1):
        raise MaillageError(f"Part à couvrir invalide : {args.share:g} (entre 0 et 1, ex. 0.8).")
    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise MaillageError("La limite de temps du solveur doit être un nombre de secondes "
                            "positif.")
    if args.places not in ("all", "labelled"):
        raise MaillageError(f"Sélection de lieux inconnue : « {args.places} » (all ou labelled).")
    return {"mode": mode, "mix": siting.parse_weight(args.weight)}


def run(mode: str, minutes: float, mix: dict[str, float], *, model: str = "mclp", p: int = 10,
        share: float = 0.8, scope: str | None = None, time_limit: float = 30.0,
        places: str = "all", milp: bool = True, s: settings.Settings | None = None
        ) -> dict[str, Any]:
    """Greedy then MILP proposal on the real data; a plain dict (see ``--json``)."""
    from analysis import siting
    from geo import communes as communes_mod

    s = s or settings.get()
    codes = siting.resolve_scope(scope, communes_mod.load(s))
    inst = siting.load_instance(mode, minutes, s, places=places)
    prob = inst.problem(model, minutes, mix, codes, p=p, share=share)
    greedy = prob.solve(siting.Greedy())
    best = prob.solve(siting.Highs(time_limit=time_limit)) if milp else greedy
    names = inst.dem.drop_duplicates("code_insee").set_index("code_insee")["commune"]
    stops = inst.stops(best)
    stops["commune"] = stops["code_insee"].map(names).fillna(stops["code_insee"])
    in_scope = (inst.dem["code_insee"].isin(codes).to_numpy() if codes is not None
                else slice(None))
    w = siting.demand(inst.dem, mix)[in_scope]
    today = float(w[~inst.uncovered(minutes)[in_scope]].sum())
    return {
        "mode": mode, "minutes": minutes, "weight": mix, "weight_label": siting.weight_label(mix),
        "model": model, "p": p, "share": share, "scope": codes, "places": places,
        "n_candidates": len(inst.candidates), "n_usable": int(inst.usable.sum()),
        "n_cells": len(inst.dem), "demand_total": float(w.sum()), "covered_today": today,
        "greedy": greedy, "best": best, "stops": stops,
    }


def _as_json(res: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in res.items() if k not in ("greedy", "best", "stops")}
    out["greedy"] = res["greedy"].as_dict()
    out["milp"] = res["best"].as_dict() if res["best"] is not res["greedy"] else None
    cols = ["rang", "cand_id", "nom", "source", "kind", "code_insee", "commune", "lon", "lat",
            "gain", "cumul", "snap_drive_m"]
    out["stops"] = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                    for r in res["stops"][cols].to_dict(orient="records")]
    return out


def _print(res: dict[str, Any]) -> None:
    from analysis.siting import pct

    how = MODE_LABEL[res["mode"]]
    what = res["weight_label"]
    scope = "toute la Martinique" if res["scope"] is None else ", ".join(res["scope"])
    print(f"Arrêts proposés ({MODEL_LABEL[res['model']]}) — {res['minutes']:g} min {how}, "
          f"pondération : {what} — territoire : {scope}.")
    print(f"{res['n_usable']} candidats utilisables sur {res['n_candidates']}, "
          f"{res['n_cells']} carreaux habités.")
    total = res["demand_total"]
    print(f"Aujourd'hui : {_num(res['covered_today'])} {what} sur {_num(total)} sont à "
          f"{res['minutes']:g} min ou moins d'un lieu fixe ; "
          f"{_num(total - res['covered_today'])} ne le sont pas.")
    for label, sol in (("Réponse immédiate (gloutonne)", res["greedy"]),
                       ("Réponse du solveur (HiGHS)", res["best"])):
        if label.startswith("Réponse du") and sol is res["greedy"]:
            continue
        obj = (f"{_num(sol.covered)} {what} nouvellement couverts" if sol.model == "mclp"
               else f"{len(sol.selected)} arrêts, {_num(sol.covered)} {what} couverts")
        bound = "—" if sol.bound is None else _num(sol.bound)
        gap = "—" if sol.gap is None or not math.isfinite(sol.gap) else pct(sol.gap, 2)
        print(f"\n{label} : {obj} ({pct(sol.share, 1)} du manque) en {sol.seconds:.2f} s.")
        print(f"  Solution {sol.status_fr} ; meilleure borne : {bound} ; écart : {gap}.")
    print("\nArrêts, dans l'ordre de ce que chacun ajoute :")
    for r in res["stops"].itertuples():
        print(f"  {r.rang:>3}. {r.nom} ({r.commune}) — +{_num(r.gain)} {what} "
              f"(cumul {_num(r.cumul)}) — {r.lon:.5f},{r.lat:.5f}")


def _propose(args: argparse.Namespace) -> int:
    from maillage.cli import print_json

    checked = check_args(args)
    res = run(checked["mode"], args.minutes, checked["mix"], model=args.model, p=args.p,
              share=args.share, scope=args.scope, time_limit=args.time_limit,
              places=args.places, milp=not args.greedy_only)
    if args.json:
        print_json(_as_json(res))
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
                   help="population, seniors, age_80p, poor, fragility ou un mélange "
                   "(ex. seniors=2,poor=1)")
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
    p.add_argument("--greedy-only", action="store_true", help="sans le solveur (instantané)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_propose)
