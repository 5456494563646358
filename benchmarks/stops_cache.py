"""First and second run of ``maillage propose-stops``: the instance cache at work.

Run: ``.venv/bin/python -m benchmarks.stops_cache`` (after ``maillage data``, registry
loaded). The cached instance of the request (``data/build/siting/…``) is deleted first,
so the first run builds the candidates (roadside points, names, merging) and their
reach and writes the cache; the second run reads it. Prints ``uptime`` before each run,
the wall time of both and the people reached (the same twice), then the instance step
alone in this process: built again (no write) and read from the cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ARGS = ["propose-stops", "--p", "10", "--minutes", "15", "--mode", "walk", "--weight",
        "seniors", "--scope", "CAP Nord"]


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    from geo import cache, siting_instance
    from maillage import settings

    s = settings.get()
    key = siting_instance.cache_key("walk", 15.0, s, places="all", extra=(), far_m=None)
    path = siting_instance.cache_path(s, "walk", key)
    cache.discard(path)
    script = str(Path(sys.executable).with_name("maillage"))
    for label in ("premier passage (instance construite)", "second passage (instance lue)"):
        print(f"uptime : {_uptime()}")
        t0 = time.perf_counter()
        out = subprocess.run([script, *ARGS, "--json"], capture_output=True, text=True,
                             check=True).stdout
        wall = time.perf_counter() - t0
        doc = json.loads(out)
        best = doc["milp"] or doc["greedy"]
        print(f"{label} : {wall:.1f} s — {doc['n_candidates']} candidats, "
              f"{best['covered']:.1f} personnes de 65 ans et plus nouvellement à portée "
              f"({best['status']}) — cache présent : {path.is_file()}")
    # the instance step alone, in this process (no Python start-up, imports done)
    print(f"uptime : {_uptime()}")
    t0 = time.perf_counter()
    siting_instance.load("walk", 15.0, s)
    read = time.perf_counter() - t0
    t0 = time.perf_counter()
    siting_instance.build("walk", 15.0, s)
    built = time.perf_counter() - t0
    print(f"instance seule : construite en {built:.1f} s, lue depuis le cache en {read:.1f} s")


if __name__ == "__main__":
    main()
