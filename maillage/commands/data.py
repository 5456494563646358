"""`maillage data` and `maillage assets`."""

from __future__ import annotations

import argparse
import time

from maillage import settings


def _data(args: argparse.Namespace) -> int:
    from geo import prepare

    start = time.perf_counter()
    prepare.run(settings.get(), print)
    print(f"Données prêtes en {time.perf_counter() - start:.1f} s.")
    return 0


def _assets(args: argparse.Namespace) -> int:
    from geo import assets

    print(f"Fichiers de carte installés dans {assets.install()}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="prépare toutes les données (idempotent)")
    p.set_defaults(handler=_data)
    p = sub.add_parser("assets", help="installe les fichiers de carte servis hors ligne")
    p.set_defaults(handler=_assets)
