"""The ``maillage`` command line.

Each module of :mod:`maillage.commands` adds its subcommands through a
``register(subparsers)`` function, so that every analysis of the dashboard is
scriptable. Handlers return an exit code; errors meant for the user are
:class:`geo.errors.MaillageError` and are printed in French with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from maillage import commands
from maillage.errors import MaillageError

#: Exit code of a refused input or a missing source.
EXIT_USAGE = 2

#: French for the messages argparse prints (it looks them up through gettext).
_ARGPARSE_FR = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "affiche cette aide et quitte",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide : %(value)r (possibles : %(choices)s)",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "expected one argument": "une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s) : %(value)r",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë : %(option)s peut désigner %(matches)s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ignored explicit argument %r": "argument explicite ignoré : %r",
}


def _french(message: str) -> str:
    return _ARGPARSE_FR.get(message, message)


def _french_n(singular: str, plural: str, n: int) -> str:
    return _french(singular if n == 1 else plural)


# argparse resolves its messages at call time through these module globals.
argparse._ = _french  # type: ignore[attr-defined]
argparse.ngettext = _french_n  # type: ignore[attr-defined]


#: Set by :func:`main` when the command line asks for ``--json``: errors are JSON too.
_JSON_ERRORS = False


def error_payload(message: str, details: Sequence[dict] = ()) -> dict[str, Any]:
    """The JSON printed for a refusal in ``--json`` mode: message and, per row, details."""
    return {"erreur": message, "details": list(details)}


class FrenchParser(argparse.ArgumentParser):
    """An argument parser whose errors are French (JSON with ``--json``), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if _JSON_ERRORS:
            print_json(error_payload(f"erreur d'argument : {message}"))
            self.exit(EXIT_USAGE)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"maillage : erreur : {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand of :mod:`maillage.commands`."""
    parser = FrenchParser(
        prog="maillage",
        description="Maillage – couverture de la médiation numérique en Martinique.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=FrenchParser)
    sub.required = True
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def print_json(payload: Any) -> None:
    """Print ``payload`` as UTF-8 JSON (used by every ``--json`` option)."""
    json.dump(payload, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    global _JSON_ERRORS
    words = list(sys.argv[1:] if argv is None else argv)
    _JSON_ERRORS = "--json" in words
    parser = build_parser()
    args = parser.parse_args(words)
    try:
        return int(args.handler(args) or 0)
    except MaillageError as exc:
        if _JSON_ERRORS:
            print_json(error_payload(str(exc), getattr(exc, "details", ())))
        else:
            print(f"maillage : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("maillage : interrompu.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
