"""`maillage user add NAME --role ROLE`: create accounts (passwords never on the command line)."""

from __future__ import annotations

import argparse
import getpass
import sys

from geo.errors import MaillageError
from maillage.db.models import ROLES


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Confirmez : ") != first:
        raise MaillageError("Les deux mots de passe diffèrent.")
    return first


def _add(args: argparse.Namespace) -> int:
    from maillage import auth

    actor = auth.add_user(args.name, args.role, _read_password(args))
    print(f"Compte « {actor.username} » créé (rôle : {auth.ROLE_LABELS[actor.role]}).")
    return 0


def _list(args: argparse.Namespace) -> int:
    from maillage import auth, db
    from maillage.cli import print_json

    db.migrate()
    users = auth.list_users()
    if args.json:
        print_json(users)
    else:
        for u in users:
            print(f"{u['username']:30} {u['role']:12} {'actif' if u['active'] else 'inactif'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="comptes autorisés à modifier")
    usub = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    q = usub.add_parser("add", help="crée un compte")
    q.add_argument("name", metavar="NOM")
    q.add_argument("--role", required=True, choices=ROLES)
    q.add_argument("--password-stdin", action="store_true",
                   help="lit le mot de passe sur l'entrée standard")
    q.set_defaults(handler=_add)
    q = usub.add_parser("list", help="liste les comptes")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=_list)
