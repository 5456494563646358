"""`maillage backup FICHIER` and `maillage restore FICHIER`: the store, copied and put back."""

from __future__ import annotations

import argparse

from maillage import settings


def _backup(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.db import backup

    result = backup.backup(args.file, settings.get())
    if args.json:
        print_json(result)
    else:
        rows = sum(result.get("rows", {}).values())
        print(f"Sauvegarde écrite dans {result['file']} ({result['backend']}, migration "
              f"{result['revision']}" + (f", {rows} lignes" if rows else "") + ").")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from maillage.cli import print_json
    from maillage.db import backup

    result = backup.restore(args.file, settings.get())
    if args.json:
        print_json(result)
    else:
        safety = result.get("safety_copy")
        print(f"Base restaurée depuis {result['file']} (migration {result['revision']})."
              + (f" L'ancienne base est gardée dans {safety}." if safety else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="sauvegarde cohérente de la base, même en service",
                       description="Copie cohérente de la base (API de sauvegarde de SQLite, "
                       "ou pg_dump pour PostgreSQL), utilisable pendant que l'application "
                       "tourne.")
    p.add_argument("file", metavar="FICHIER", help="fichier de sauvegarde à écrire")
    p.add_argument("--json", action="store_true", help="résultat en JSON")
    p.set_defaults(handler=_backup)
    r = sub.add_parser("restore", help="remet une sauvegarde à la place de la base",
                       description="Vérifie la sauvegarde (base Maillage, migration connue), "
                       "garde une copie de la base actuelle, puis la remplace en une seule "
                       "transaction.")
    r.add_argument("file", metavar="FICHIER", help="sauvegarde à restaurer")
    r.add_argument("--json", action="store_true", help="résultat en JSON")
    r.set_defaults(handler=_restore)
