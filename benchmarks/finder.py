"""Latency of « Trouver un point numérique »: typed address → ranked places with both times.

Run: ``.venv/bin/python -m benchmarks.finder [--n 100] [--seed 0]`` on a prepared data
folder (``maillage data``: registry and graphs). After a warm-up, each of ``n`` real BANO
addresses drawn at random is typed as « numéro voie commune », and one query is timed
from the text to the results ready to show: search → best match → one Dijkstra per mode →
5 places with times, distances, opening state and public details → route of the first.
Prints JSON (median, p95, max per stage and in total) and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np


def _stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values) * 1000.0
    return {"median_ms": round(float(np.median(a)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1),
            "max_ms": round(float(a.max()), 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100, help="addresses timed (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from geo import addresses
    from maillage import settings
    from maillage.finder import Finder

    s = settings.get()
    t0 = time.perf_counter()
    f = Finder.load(s)
    load_s = time.perf_counter() - t0
    sample = addresses.random_sample(addresses.load(s), args.n + 5, args.seed)
    queries = sample["query"].tolist()

    def one(q: str) -> tuple[float, float, float, bool]:
        a = time.perf_counter()
        hit = f.suggest(q, limit=6)[0]
        b = time.perf_counter()
        answer = f.answer(hit.lon, hit.lat, k=5)
        f.results(answer)
        f.route(answer, answer.options[0].place, answer.order)
        c = time.perf_counter()
        return b - a, c - b, c - a, hit.kind == "address"

    for q in queries[:5]:  # warm-up (first calls allocate and fill caches)
        one(q)
    search, answer, total, exact = [], [], [], 0
    for q in queries[5:]:
        s_, a_, t_, ok = one(q)
        search.append(s_)
        answer.append(a_)
        total.append(t_)
        exact += ok
    report = {
        "queries": len(total),
        "exact_address_found": exact,
        "load_s": round(load_s, 2),
        "index": {"entries": len(f.index), "addresses": f.index.n_addresses,
                  "places": len(f.places)},
        "search": _stats(search),
        "places_and_route": _stats(answer),
        "total": _stats(total),
        "target_ms": 300,
        "machine": {"cpus": os.cpu_count(), "machine": platform.machine(),
                    "python": platform.python_version(),
                    "load_avg": [round(x, 1) for x in os.getloadavg()]},
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return report


if __name__ == "__main__":
    main()
