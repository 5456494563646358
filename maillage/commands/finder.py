"""`maillage trouver`: the nearest places of help from an address or a point."""

from __future__ import annotations

import argparse
import re

from maillage import fmt
from maillage.errors import MaillageError


def _trouver(args: argparse.Namespace) -> int:
    from analysis import finder as finder_mod
    from analysis import snap
    from maillage import settings
    from maillage.cli import print_json
    from maillage.finder import Finder

    if not args.adresse and not args.at:
        raise MaillageError("Donnez une adresse (maillage trouver \"12 rue Victor Hugo "
                            "Fort-de-France\") ou un point (--at LON,LAT).")
    if not 1 <= args.nombre <= 10:
        raise MaillageError("--nombre doit être compris entre 1 et 10.")
    f = Finder.load(settings.get())
    if args.at:
        lon, lat = snap.parse_lonlat(args.at)
        label = f"Point {lon:.5f}, {lat:.5f}"
    else:
        hit = f.locate(args.adresse)
        lon, lat, label = hit.lon, hit.lat, hit.label
        if hit.note:
            label = f"{label} ({hit.note})"
    answer = f.answer(lon, lat, k=args.nombre, order=args.ordre)
    report = f.report(args.adresse, answer, label)
    if args.json:
        print_json(report)
        return 0
    by = finder_mod.MODE_LABELS[answer.order]
    print(f"Depuis : {label}")
    n = len(report["lieux"])
    what = "Le lieu d'aide au numérique le plus proche" if n == 1 else (
        f"Les {n} lieux d'aide au numérique les plus proches")
    print(f"{what} ({by}) :")
    for p in report["lieux"]:
        state = {True: "ouvert maintenant", False: "fermé maintenant", None: "horaires inconnus"}
        print(f"{p['rang']}. {p['nom']} — {p['adresse']}")
        print(f"   à pied : {fmt.minutes(p['a_pied']['minutes'])} "
              f"({fmt.distance(p['a_pied']['metres'])}) ; en voiture : "
              f"{fmt.minutes(p['en_voiture']['minutes'])} "
              f"({fmt.distance(p['en_voiture']['metres'])}) ; {state[p['ouvert']]}")
        if p["horaires_fr"]:
            print(f"   horaires : {p['horaires_fr']}")
        if p["telephone"]:
            print(f"   téléphone : {p['telephone']}")
        if p["prise_rdv"]:
            print(f"   rendez-vous : {p['prise_rdv']}")
    visits = report["passages_atelier_mobile"]
    if visits:
        print("Prochains passages de l'atelier mobile à proximité :")
        for v in visits:
            print(f"   {v['debut'][:16].replace('T', ' à ')} — {v['lieu']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trouver", help="les lieux d'aide au numérique les plus proches d'une "
                       "adresse (temps à pied et en voiture)")
    p.add_argument("adresse", nargs="?", default="",
                   help="adresse, rue, commune ou nom d'un lieu (fautes de frappe tolérées)")
    p.add_argument("--at", metavar="LON,LAT",
                   help="un point au lieu d'une adresse, par exemple --at -61.07,14.61")
    p.add_argument("--nombre", type=int, default=5, help="nombre de lieux (1 à 10, défaut 5)")
    p.add_argument("--ordre", choices=("auto", "walk", "drive"), default="auto",
                   help="classer à pied (walk), en voiture (drive) ou auto (défaut)")
    p.add_argument("--json", action="store_true", help="sortie JSON")
    p.set_defaults(handler=_trouver)
    # let "--at -61.07,14.61" through: a leading minus followed by digits is a value here
    if hasattr(p, "_negative_number_matcher"):
        p._negative_number_matcher = re.compile(r"^-\d[\d.,]*$")
