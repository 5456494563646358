"""Helpers shared by the subcommands (no ``register``: not a subcommand itself)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def actor(args: argparse.Namespace):
    """Who runs the command: the account given by --as (password asked), else the admin shell.

    The command line runs with the rights of whoever can read the database file, so it
    acts as an administrator named after the system user unless ``--as`` is given.
    """
    from maillage import auth

    if getattr(args, "as_user", None):
        from maillage.errors import MaillageError

        if args.password_stdin or not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            try:
                password = getpass.getpass("Mot de passe : ")
            except EOFError:
                password = ""
        if not password:
            raise MaillageError("Mot de passe vide : tapez-le quand il est demandé, ou "
                                "passez-le sur l'entrée standard (--password-stdin).")
        return auth.sign_in(args.as_user, password)
    return auth.Actor(f"cli:{os.environ.get('USER', 'inconnu')}", "admin")


def read_input(file: str) -> tuple[bytes, str]:
    """The bytes and name of a file given on the command line (French error if missing)."""
    from geo.errors import MaillageError

    path = Path(file)
    if not path.is_file():
        raise MaillageError(f"Fichier introuvable : {path}")
    return path.read_bytes(), path.name


def input_path(file: str) -> Path:
    """A file given on the command line, checked to exist (French error if missing).

    Imports read it themselves within the import bounds (:mod:`maillage.bounded_csv`
    measures it before reading anything), so it is never loaded whole here.
    """
    from geo.errors import MaillageError

    path = Path(file)
    if not path.is_file():
        raise MaillageError(f"Fichier introuvable : {path}")
    return path


def check_bounds(path: Path) -> None:
    """Refuse at once a file over the import bounds, before the store is even loaded.

    A quick pass of :func:`maillage.bounded_csv.open_csv` over the file (nothing kept):
    a hostile file costs the command's start-up and a few milliseconds, not the loading
    of the store and the island. Rows left out for a long cell are not refused here: the
    import itself lists them with every other problem of the file.
    """
    from maillage import bounded_csv
    from maillage.registry.errors import ValidationError

    with bounded_csv.open_csv(path, error=ValidationError) as reader:
        for _ in reader.rows():
            pass


@contextmanager
def import_progress(name: str, enabled: bool = True) -> Iterator[Callable | None]:
    """Progress of a long import on stderr: a bar while the file is read, then a line.

    Yields the ``progress(done_rows, bytes_read, total_bytes)`` callback of
    :func:`maillage.bounded_csv.open_csv` (None when ``enabled`` is false, e.g. with
    ``--json``). Nothing shows for a file read in less than half a second.
    """
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    from maillage import bounded_csv

    bar = tqdm(total=None, unit="o", unit_scale=True, unit_divisor=1024, file=sys.stderr,
               desc=f"Lecture de {name}", delay=0.5, dynamic_ncols=True)

    def update(rows: int, done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.set_postfix_str(f"{bounded_csv.fmt_int(rows)} lignes", refresh=False)
        bar.update(done - bar.n)
        if total and done >= total and rows >= bounded_csv.PROGRESS_EVERY:
            bar.close()  # the file is read: what follows is checking and writing
            print(f"{name} : {bounded_csv.fmt_int(rows)} lignes lues ; vérification et "
                  "enregistrement (tout ou rien)…", file=sys.stderr)

    try:
        yield update
    finally:
        bar.close()

