"""Van tours on real points: 40 stops, 2 vans, 4 weeks — OR-Tools against nearest neighbour.

Stops: the 34 town halls plus 6 bus stops of the Centre network (every 20th of the
file), frequencies and workshop lengths set by position (a third weekly, a third
fortnightly, a third monthly; 90 or 120 min), four of them with market-morning
windows. Period: 4 weeks from Monday 4 May 2026 (four public holidays of
Martinique in it). Depot: Fort-de-France town hall.

Run: ``.venv/bin/python -m benchmarks.tours [--time-limit 30]``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import time
from datetime import date

from analysis import schedule, tours
from analysis.tours import Problem, Stop, Van
from geo import fetch, graphs, tours_io

FREQS = ("hebdomadaire", "bimensuelle", "mensuelle")
MARKETS = {3: "sam 06:30-12:00", 11: "mer 07:00-12:00", 19: "ven 07:00-12:00",
           27: "mar 07:00-12:00"}


def stops() -> list[Stop]:
    """40 real points: 34 town halls and 6 bus stops, with frequencies and windows."""
    points = [(s.name, s.lon, s.lat, s.address) for s in tours_io.town_halls()]
    with fetch.resolve("bus_stops").path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows[::20][:40 - len(points)]:
        points.append((f"Arrêt de bus {r['stop_name'].title()}", float(r["stop_lon"]),
                       float(r["stop_lat"]), ""))
    return [Stop(n, lon, lat, FREQS[i % 3], (90 if i % 2 else 120) * 60,
                 schedule.parse_windows(MARKETS.get(i)), addr)
            for i, (n, lon, lat, addr) in enumerate(points)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=30.0)
    args = ap.parse_args()
    depot = tours_io.default_depot()
    vans = [Van(f"Camion {k + 1}", depot) for k in range(2)]
    period = schedule.Period.with_holidays(date(2026, 5, 4), 4, (0, 1, 2, 3, 4, 5))
    problem = Problem(stops(), vans, period)
    t0 = time.perf_counter()
    _, _, tr = graphs.on_island(problem)
    matrix_s = time.perf_counter() - t0
    best = tours.solve(problem, tr, args.time_limit)
    greedy = tours.nearest_neighbour(problem, tr)
    b, g = best.summary(), greedy.summary()
    per_visit = {k: round(p.drive_s / 60 / max(1, len(p.visits)), 1)
                 for k, p in (("ortools", best), ("nearest_neighbour", greedy))}
    reasons: dict[str, int] = {}
    for u in best.unserved:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    print(json.dumps({
        "benchmark": "tours", "stops": len(problem.stops), "vans": len(vans), "weeks": 4,
        "required_visits": b["required"], "time_limit_s": args.time_limit,
        "graph_and_matrix_s": round(matrix_s, 2),
        "ortools": {**b, "drive_min_per_visit": per_visit["ortools"]},
        "nearest_neighbour": {**g, "drive_min_per_visit": per_visit["nearest_neighbour"]},
        "drive_saved_pct": round(100 * (1 - best.drive_s / greedy.drive_s), 1)
        if greedy.drive_s else None,
        "unserved_reasons": reasons,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine()},
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
