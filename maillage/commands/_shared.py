"""Helpers shared by the subcommands (no ``register``: not a subcommand itself)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path


def actor(args: argparse.Namespace):
    """Who runs the command: the account given by --as (password asked), else the admin shell.

    The command line runs with the rights of whoever can read the database file, so it
    acts as an administrator named after the system user unless ``--as`` is given.
    """
    from maillage import auth

    if getattr(args, "as_user", None):
        password = (sys.stdin.readline().rstrip("\n") if args.password_stdin
                    else getpass.getpass("Mot de passe : "))
        return auth.sign_in(args.as_user, password)
    return auth.Actor(f"cli:{os.environ.get('USER', 'inconnu')}", "admin")


def read_input(file: str) -> tuple[bytes, str]:
    """The bytes and name of a file given on the command line (French error if missing)."""
    from geo.errors import MaillageError

    path = Path(file)
    if not path.is_file():
        raise MaillageError(f"Fichier introuvable : {path}")
    return path.read_bytes(), path.name
