"""`maillage indicators …`: import, export, templates, targets, figures and yearly report."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path

from maillage.commands._shared import actor, check_bounds, import_progress, input_path
from maillage.errors import MaillageError


def _write(out: Path, data: bytes) -> None:
    """Write atomically (a crash leaves the old file or the new one, never half)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)


def _import(args: argparse.Namespace) -> int:
    path = input_path(args.file)
    check_bounds(path)  # a hostile file is refused before the store is loaded

    from maillage.cli import print_json
    from maillage.indicators import store

    who = actor(args)
    with import_progress(path.name, enabled=not args.json) as progress:
        result = store.import_csv(who, path, path.name, progress=progress)
    name = path.name
    if args.json:
        print_json(result)
    else:
        print(f"Import de {name} : {result['rows']} chiffres lus, {result['added']} "
              f"ajoutés, {result['updated']} mis à jour, {result['unchanged']} inchangés.")
    return 0


def _export(args: argparse.Namespace) -> int:
    from maillage.indicators import store

    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise MaillageError("Le fichier de sortie doit finir par .csv.")
    data = store.export_csv(computed=args.all)
    _write(out, data)
    n = data.count(b"\n") - 1
    print(f"{n} chiffres écrits dans {out}")
    return 0


def _month(text: str | None) -> date:
    if not text:
        today = date.today()
        return date(today.year, today.month, 1)
    m = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
    if not m:
        raise MaillageError(f"Mois « {text} » : attendu AAAA-MM, par exemple 2026-03.")
    return date(int(m[1]), int(m[2]), 1)


def _template(args: argparse.Namespace) -> int:
    from maillage.indicators import csvio, store

    data = csvio.template(args.key, store.commune_names(), store.labelled_places(),
                          _month(args.month))
    if args.out:
        _write(Path(args.out), data)
        print(f"Modèle « {args.key} » écrit dans {args.out}")
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def _list(args: argparse.Namespace) -> int:
    from analysis import indicators as ind
    from maillage.cli import print_json

    rows = [{"key": i.key, "solution": ind.SOLUTIONS[i.solution].title, "label": i.label,
             "unit": i.unit, "kind": i.kind, "scope": i.scope,
             "dimensions": list(i.dimensions), "recordable": i.recordable}
            for i in ind.INDICATORS.values()]
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        how = "saisi" if r["recordable"] else "calculé"
        dims = f" [{', '.join(r['dimensions'])}]" if r["dimensions"] else ""
        print(f"{r['key']:30} {r['solution']:28} {r['label']} ({r['unit']}, {how}){dims}")
    return 0


def _targets_set(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.indicators import store

    result = store.set_target(actor(args), args.key, args.year, args.value, args.epci or "")
    if args.json:
        print_json(result)
    else:
        where = args.epci or "Martinique"
        print(f"Objectif {args.year} de « {args.key} » ({where}) : {args.value:g}")
    return 0


def _targets_list(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.indicators import store

    t = store.targets()
    if args.year:
        t = t[t["year"] == args.year]
    rows = t.sort_values(["year", "indicator", "scope"]).to_dict(orient="records")
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        print(f"{r['year']} {r['indicator']:30} {r['scope'] or 'Martinique':12} "
              f"{r['value']:>12g}  (par {r['set_by']})")
    print(f"{len(rows)} objectifs")
    return 0


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MaillageError(f"Date « {text} » : attendu AAAA-MM-JJ, par exemple "
                            "2026-03-31.") from None


def request_from_args(args: argparse.Namespace):
    """The :class:`IndicatorsRequest` of ``summary``/``overview`` (checked, EPCI aside)."""
    from maillage.services.indicators import DEFAULT_MAP, IndicatorsRequest

    return IndicatorsRequest(
        args.year, args.epci or "", _day(getattr(args, "today", None)),
        getattr(args, "map_indicator", None) or DEFAULT_MAP,
        getattr(args, "map_level", None) or "commune").validated()


def _run(args: argparse.Namespace):
    """Check the request before loading anything, then run the service."""
    from maillage.services.indicators import IndicatorsService

    request = request_from_args(args)
    return IndicatorsService.load().run(request)


def _print_summary(result) -> None:
    import math

    from analysis import indicators as ind
    from maillage.indicators import charts

    for r in result.summary.itertuples(index=False):
        spec = ind.INDICATORS[r.indicator]
        goal = f" / objectif {charts.fmt(r.target, spec)}" if math.isfinite(r.target) else ""
        value = charts.fmt(r.value, spec) if r.has_data else "aucune donnée"
        print(f"{spec.label:45} {value}{goal}")


def _summary(args: argparse.Namespace) -> int:
    from maillage.cli import print_json

    result = _run(args)
    if args.json:
        print_json(result.summary_rows())
        return 0
    _print_summary(result)
    return 0


def _overview(args: argparse.Namespace) -> int:
    import math

    from analysis import indicators as ind
    from maillage import fmt
    from maillage.cli import print_json
    from maillage.indicators import charts

    result = _run(args)
    if args.json:
        print_json(result.to_json())
        return 0
    req = result.request
    print(f"Indicateurs {req.year} — {req.scope_label} ({fmt.month(result.start)} – "
          f"{fmt.month(result.end)})")
    if not result.has_data:
        print("Aucun chiffre enregistré pour l'instant.")
    for sol in ind.SOLUTIONS.values():
        print(f"\n{sol.title}")
        rows = result.summary[result.summary["solution"] == sol.key]
        for r in rows.itertuples(index=False):
            spec = ind.INDICATORS[r.indicator]
            value = charts.fmt(r.value, spec) if r.has_data else "aucune donnée"
            goal = (f" / objectif {charts.fmt(r.target, spec)}"
                    f" ({fmt.percent(r.progress, 0, missing='—')})"
                    if math.isfinite(r.target) else "")
            print(f"  {spec.label:45} {value}{goal}")
    spec = result.map_spec
    where = "commune" if req.map_level == "commune" else "EPCI"
    print(f"\n{spec.label} par {where} :")
    name = "nom" if req.map_level == "commune" else "epci_court"
    for area, value in zip(result.areas[name], result.areas["value"], strict=True):
        print(f"  {area:30} {charts.fmt(value, spec)}")
    print("\nPar EPCI :")
    cols = list(result.by_epci.columns)
    print(f"  {'':45} " + " ".join(f"{c:>14}" for c in cols))
    for key, row in result.by_epci.iterrows():
        spec = ind.INDICATORS[key]
        print(f"  {spec.label[:45]:45} "
              + " ".join(f"{charts.fmt(float(row[c]), spec):>14}" for c in cols))
    return 0


def _report(args: argparse.Namespace) -> int:
    from geo import communes
    from maillage.indicators import report, store

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise MaillageError("Le rapport s'écrit en HTML : le fichier doit finir par .html.")
    page = report.build(store.frame(), store.targets(), communes.load(), args.year)
    _write(out, page.encode("utf-8"))
    print(f"Rapport {args.year} écrit dans {out} ({len(page) / 1e6:.1f} Mo, lisible hors ligne)")
    return 0


def _auth_args(q: argparse.ArgumentParser) -> None:
    q.add_argument("--as", dest="as_user", metavar="COMPTE",
                   help="agit au nom de ce compte (mot de passe demandé)")
    q.add_argument("--password-stdin", action="store_true")


def _scope_args(q: argparse.ArgumentParser, year: int) -> None:
    q.add_argument("--year", type=int, default=year)
    q.add_argument("--epci", metavar="EPCI", help="CACEM, CAP Nord ou Espace Sud "
                                                  "(défaut : toute la Martinique)")
    q.add_argument("--today", metavar="AAAA-MM-JJ",
                   help="date de fin des chiffres de l'année en cours (défaut : aujourd'hui)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("indicators", help="indicateurs des cinq solutions")
    isub = p.add_subparsers(dest="indicators_command", metavar="ACTION", required=True)
    year = date.today().year

    q = isub.add_parser("import", help="importe un CSV d'indicateurs (tout ou rien)")
    q.add_argument("file", metavar="FICHIER.csv")
    _auth_args(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_import)

    q = isub.add_parser("export", help="exporte les chiffres en CSV")
    q.add_argument("--out", required=True, metavar="FICHIER.csv")
    q.add_argument("--all", action="store_true",
                   help="ajoute les chiffres calculés (registre, tournées)")
    q.set_defaults(handler=_export)

    q = isub.add_parser("template", help="écrit le modèle CSV d'un indicateur")
    q.add_argument("key", metavar="INDICATEUR", help="clé (voir « maillage indicators list »)")
    q.add_argument("--month", metavar="AAAA-MM", help="mois pré-rempli (défaut : ce mois)")
    q.add_argument("--out", metavar="FICHIER.csv", help="défaut : sortie standard")
    q.set_defaults(handler=_template)

    q = isub.add_parser("list", help="liste les indicateurs")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_list)

    q = isub.add_parser("summary", help="valeurs de l'année et objectifs")
    _scope_args(q, year)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_summary)

    q = isub.add_parser("overview", help="tout ce que montre la page Indicateurs : valeurs et "
                                         "objectifs, mois, dimensions, carte, EPCI")
    _scope_args(q, year)
    q.add_argument("--map-indicator", metavar="INDICATEUR",
                   help="indicateur de la carte (défaut : le premier de la liste)")
    q.add_argument("--map-level", metavar="NIVEAU", default="commune",
                   help="commune (défaut) ou epci")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_overview)

    q = isub.add_parser("report", help="rapport annuel HTML avec ses graphiques")
    q.add_argument("--year", type=int, default=year)
    q.add_argument("--out", required=True, metavar="FICHIER.html")
    q.set_defaults(handler=_report)

    t = isub.add_parser("targets", help="objectifs de la Fédération")
    tsub = t.add_subparsers(dest="targets_command", metavar="ACTION", required=True)
    q = tsub.add_parser("set", help="fixe l'objectif d'un indicateur pour une année")
    q.add_argument("key", metavar="INDICATEUR")
    q.add_argument("--year", type=int, required=True)
    q.add_argument("--value", type=float, required=True)
    q.add_argument("--epci", metavar="EPCI", help="objectif d'un EPCI (défaut : Martinique)")
    _auth_args(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_targets_set)
    q = tsub.add_parser("list", help="liste les objectifs")
    q.add_argument("--year", type=int)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_targets_list)
