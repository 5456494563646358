"""Greedy and MILP siting on the whole island: all candidates × all populated cells.

Run: ``.venv/bin/python -m benchmarks.siting`` (needs the registry: ``maillage places
load-initial``, or ``MAILLAGE_DATABASE_URL`` pointing at a loaded store). Prints one
Markdown row per run: model, weight, time, objective, bound, gap, status.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from analysis import siting
from geo import siting_instance

RUNS = [
    ("mclp", "population", {"p": 10}),
    ("mclp", "seniors", {"p": 10}),
    ("mclp", "poor", {"p": 30}),
    ("mclp", "seniors=2,poor=1,fragility=0.5", {"p": 50}),
    ("lscp", "population", {"share": 0.3}),
]


def main(minutes: float = 15.0, time_limit: float = 60.0) -> None:
    t0 = time.perf_counter()
    inst = siting_instance.load("walk", minutes)
    prep = time.perf_counter() - t0
    print(f"Machine : {platform.processor() or platform.machine()}, {os.cpu_count()} cœurs, "
          f"Python {platform.python_version()}")
    print(f"Préparation (couches, graphes en cache, temps actuels, matrice candidats × carreaux "
          f"≤ {minutes:g} min à pied) : {prep:.1f} s — {len(inst.candidates)} candidats, "
          f"{len(inst.dem)} carreaux habités, {inst.reach.cand.size} couples à portée")
    print("\n| modèle | pondération | méthode | temps (s) | objectif | borne | écart | état |")
    print("|---|---|---|---|---|---|---|---|")
    for model, weight, kw in RUNS:
        prob = inst.problem(model, minutes, siting.parse_weight(weight), **kw)
        label = f"{model} p={kw['p']}" if model == "mclp" else f"{model} part={kw['share']}"
        for solver in (siting.Greedy(), siting.Highs(time_limit=time_limit)):
            t = time.perf_counter()
            sol = prob.solve(solver)
            wall = time.perf_counter() - t
            gap = "—" if sol.gap is None or not np.isfinite(sol.gap) else f"{100 * sol.gap:.2f} %"
            bound = "—" if sol.bound is None else f"{sol.bound:,.1f}"
            print(f"| {label} | {weight} | {sol.method} | {wall:.3f} | {sol.objective:,.1f} | "
                  f"{bound} | {gap} | {sol.status} |")


if __name__ == "__main__":
    main()
