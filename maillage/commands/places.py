"""`maillage places …`: initial load, import, export, report and list of the registry."""

from __future__ import annotations

import argparse
from pathlib import Path

from maillage import fmt, settings
from maillage.commands._shared import actor, check_bounds, import_progress, input_path
from maillage.errors import MaillageError


def _load_initial(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.registry import initial, store

    s = settings.get()
    result = store.apply_initial(initial.build(s), s, force=args.force)
    if args.json:
        print_json(result)
    else:
        print(_summary(result))
    return 0


def _summary(r: dict) -> str:
    head = ("déjà chargé (sources inchangées)" if r.get("skipped")
            else f"{r.get('added', 0)} lieux ajoutés")
    return (f"Registre des lieux : {head} — {r['input']} fiches lues, {r['imported']} lieux, "
            f"{r['merged']} doublons fusionnés, {r['rejected']} rejetées, "
            f"{r['corrected']} fiches corrigées (rapport : maillage places report).")


def _import(args: argparse.Namespace) -> int:
    path = input_path(args.file)
    check_bounds(path)  # a hostile file is refused before the store is loaded

    from maillage.cli import print_json
    from maillage.registry import store

    who = actor(args)
    with import_progress(path.name, enabled=not args.json) as progress:
        result = store.import_csv(who, path, path.name, progress=progress)
    name = path.name
    if args.json:
        print_json(result)
    else:
        placed = len(result.get("geocoded", []))
        print(f"Import de {name} : {result['imported']} lieux ajoutés, {result['updated']} "
              f"mis à jour, {result['unchanged']} inchangés"
              + (f" ; {fmt.plural(placed, 'lieu placé', 'lieux placés')} d'après l'adresse "
                 "(position approximative, voir ci-dessous)" if placed else "") + ".")
        for w in result["warnings"]:
            print(f"  attention : {w}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from maillage.registry import csvio, store

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".geojson", ".json"):
        raise MaillageError("Le fichier de sortie doit finir par .csv ou .geojson.")
    rows = store.rows()
    include_local = not args.standard
    write = csvio.write_csv if suffix == ".csv" else csvio.write_geojson
    data = write(rows, include_local=include_local, private=include_local and not args.public)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    print(f"{len(rows)} lieux écrits dans {out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.registry import store

    rep = store.report(kind=args.kind)
    if not rep:
        raise MaillageError("Aucun rapport d'import : lancez « maillage places load-initial » "
                            "ou « maillage data ».")
    if args.json:
        print_json(rep)
        return 0
    print(f"Import du {rep['at']} ({rep['sources']}) : {rep['input']} fiches lues, "
          f"{rep['imported']} lieux, {rep['updated']} mis à jour, {rep['merged']} doublons "
          f"fusionnés, {rep['rejected']} rejetées, {rep['corrected']} fiches corrigées.")
    for i in rep["issues"]:
        if args.action and i["action"] != args.action:
            continue
        print(f"[{i['action']}] {i['source']} {i['record_id']} · {i['field']} : "
              f"« {i['original']} » → « {i['kept']} » — {i['reason']}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.services.places import PlacesQuery, PlacesService

    query = PlacesQuery(communes=tuple(args.commune or ()), epcis=tuple(args.epci or ()),
                        services=tuple(args.service or ()), publics=tuple(args.public or ()),
                        statuses=tuple(args.status or ()), kinds=tuple(args.kind or ()),
                        open_now=args.open_now, text=args.text or "")
    result = PlacesService().run(query)
    if args.json:
        print_json(result.to_json())
        return 0
    for r in result.listing().to_dict(orient="records"):
        print(f"{r['id']:40.40} {r['nom']:50.50} {r['commune']:20.20} "
              f"{r['label_status'] or '-'}")
    print(f"{len(result.places)} lieux sur {result.total}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("places", help="registre des lieux de médiation numérique")
    psub = p.add_subparsers(dest="places_command", metavar="ACTION", required=True)

    q = psub.add_parser("load-initial", help="charge les inventaires du miroir (idempotent)")
    q.add_argument("--force", action="store_true", help="recharge même si les sources sont "
                   "inchangées (les lieux existants sont conservés)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_load_initial)

    q = psub.add_parser("import", help="importe un CSV au standard national (tout ou rien)")
    q.add_argument("file", metavar="FICHIER.csv")
    q.add_argument("--as", dest="as_user", metavar="COMPTE",
                   help="agit au nom de ce compte (mot de passe demandé)")
    q.add_argument("--password-stdin", action="store_true")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_import)

    q = psub.add_parser("export", help="exporte le registre en CSV ou GeoJSON")
    q.add_argument("--out", required=True, metavar="FICHIER.csv|FICHIER.geojson")
    q.add_argument("--standard", action="store_true",
                   help="seulement les 32 colonnes du standard")
    q.add_argument("--public", action="store_true",
                   help="sans les colonnes internes (notes, origine)")
    q.set_defaults(handler=_export)

    q = psub.add_parser("report", help="affiche le rapport du dernier import")
    q.add_argument("--kind", choices=("initial", "csv"), default="initial")
    q.add_argument("--action", choices=("rejeté", "corrigé", "fusionné", "averti"))
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_report)

    q = psub.add_parser("list", help="liste les lieux (mêmes filtres que la page)")
    q.add_argument("--commune", action="append", metavar="NOM", help="répétable")
    q.add_argument("--epci", action="append", metavar="EPCI", help="CACEM, CAP Nord, Espace Sud")
    q.add_argument("--service", action="append", metavar="SERVICE")
    q.add_argument("--public", action="append", metavar="PUBLIC")
    q.add_argument("--status", action="append", metavar="STATUT",
                   help="hors labellisation, candidat, labellisé, suspendu, retiré")
    q.add_argument("--kind", action="append", metavar="NATURE")
    q.add_argument("--open-now", action="store_true", help="ouverts maintenant")
    q.add_argument("--text", metavar="TEXTE", help="recherche dans le nom")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_list)
