"""`maillage user add NAME --role ROLE`: create accounts (passwords never on the command line).

The password is asked twice on the terminal (hidden); when the standard input is not a
terminal (a pipe, a script, a container without tty), or with ``--password-stdin``, it is
the first line of the standard input.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from maillage.errors import MaillageError
from maillage.roles import ROLES

_STDIN_HELP = ("lit le mot de passe sur la première ligne de l'entrée standard (c'est "
               "aussi le cas, sans cette option, quand l'entrée standard n'est pas un "
               "terminal) : echo \"$MOT_DE_PASSE\" | maillage user add …")


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def _read_password(args: argparse.Namespace) -> str:
    """The new password: first line of stdin when asked or without a terminal, else getpass."""
    if args.password_stdin or not _stdin_is_terminal():
        line = sys.stdin.readline() if sys.stdin is not None else ""
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise MaillageError(
                "Aucun mot de passe lu sur l'entrée standard : donnez-le sur la première "
                "ligne (par exemple : echo \"$MOT_DE_PASSE\" | maillage user add NOM --role "
                "federation --password-stdin), ou lancez la commande dans un terminal pour "
                "le saisir.")
        return password
    try:
        first = getpass.getpass("Mot de passe : ")
        second = getpass.getpass("Confirmez : ")
    except EOFError:
        raise MaillageError("Saisie du mot de passe interrompue : aucun compte modifié.") \
            from None
    if second != first:
        raise MaillageError("Les deux mots de passe diffèrent : recommencez.")
    return first


def _add(args: argparse.Namespace) -> int:
    from maillage import auth

    actor = auth.add_user(args.name, args.role, _read_password(args))
    print(f"Compte « {actor.username} » créé (rôle : {auth.ROLE_LABELS[actor.role]}).")
    return 0


def _password(args: argparse.Namespace) -> int:
    from maillage import auth

    auth.set_password(args.name, _read_password(args))
    print(f"Mot de passe du compte « {args.name.strip()} » changé.")
    return 0


def _list(args: argparse.Namespace) -> int:
    from maillage import auth
    from maillage.cli import print_json

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
    q = usub.add_parser("add", help="crée un compte (mot de passe : 12 caractères au moins, "
                                    "difficile à deviner)")
    q.add_argument("name", metavar="NOM")
    q.add_argument("--role", required=True, choices=ROLES)
    q.add_argument("--password-stdin", action="store_true", help=_STDIN_HELP)
    q.set_defaults(handler=_add)
    q = usub.add_parser("password", help="change le mot de passe d'un compte")
    q.add_argument("name", metavar="NOM")
    q.add_argument("--password-stdin", action="store_true", help=_STDIN_HELP)
    q.set_defaults(handler=_password)
    q = usub.add_parser("list", help="liste les comptes")
    q.add_argument("--json", action="store_true", help="sortie JSON")
    q.set_defaults(handler=_list)
