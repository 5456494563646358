"""Time the coverage engine on the whole island, and print the headline figures.

Run: ``.venv/bin/python -m benchmarks.coverage`` (after ``maillage data``; the registry must
hold its places). Measures, on the configured data folder:

* **full recompute**, per mode: snap the populated cells and the places, nearest-place
  times, the commune/EPCI/island tables at the default thresholds and the white zones
  with their outlines (layers already in memory, graph loaded);
* **one what-if**, per mode: one added point (a town hall) → incremental times, gains and
  losses per commune/EPCI/island, baseline zones compared; and one removal.

Targets on the project machine: < 5 s and < 0.5 s. Prints one JSON line.
"""

from __future__ import annotations

import json
import platform
import statistics
import time

import numpy as np


def _best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    from analysis import coverage, whatif, white_zones
    from geo import communes, graphs, population, supply
    from geo.errors import MaillageError
    from maillage import settings

    s = settings.get()
    start = time.perf_counter()
    grid, com = population.load_grid(s), communes.load(s)
    dem = coverage.demand(grid, com)
    places = supply.places(s)
    if places.empty:
        raise MaillageError("Le registre est vide : lancez d'abord « maillage data » ou "
                            "« maillage places load-initial ».")
    sup_xy = supply.to_xy(places)
    town_halls = supply.to_xy(supply.mairies(s))
    load_s = time.perf_counter() - start
    cell_xy = dem[["x", "y"]].to_numpy()
    result: dict = {"benchmark": "coverage", "machine": f"{platform.machine()}, "
                    f"{__import__('os').cpu_count()} cœurs, Python {platform.python_version()}",
                    "cells": len(dem), "places": len(places), "load_layers_s": round(load_s, 2)}
    for mode in ("walk", "drive"):
        g = graphs.load(mode, s)
        minutes = coverage.DEFAULT_MINUTES[mode]
        t_zone = 15.0 if mode == "walk" else 10.0

        def full(g=g, minutes=minutes, t_zone=t_zone):
            acc = coverage.compute(g, cell_xy, sup_xy, walk_kmh=s.walk_kmh,
                                   max_snap_m=s.max_snap_m)
            tabs = coverage.tables(acc.seconds, dem, minutes)
            zone_of, zones = white_zones.zones(acc.seconds, dem, t_zone)
            shapes = white_zones.shapes(zone_of, zones, dem["cell_id"])
            return acc, tabs, zone_of, zones, shapes

        full_s, (acc, tabs, zone_of, zones, _) = _best(full, 5)

        def one_whatif(g=g, acc=acc, zone_of=zone_of, zones=zones, minutes=minutes,
                       t_zone=t_zone, add=town_halls[:1], remove=()):
            sc = whatif.apply(g, acc, add, remove, s.max_snap_m)
            d = whatif.deltas(acc.seconds, sc.seconds, dem, minutes)
            cmp = white_zones.compare(zone_of, zones, sc.seconds, dem, t_zone)
            return sc, d, cmp

        add_s, _ = _best(one_whatif, 20)
        busiest = int(np.bincount(acc.nearest[acc.nearest >= 0]).argmax())
        remove_s, _ = _best(lambda f=one_whatif, r=busiest: f(add=None, remove=[r]), 20)
        island = tabs[tabs["level"] == "island"].iloc[0]
        gap = coverage.straight_line_gap(g, acc, sup_xy, cell_xy, dem["population"].to_numpy())
        gap30 = coverage.straight_line_gap(g, acc, sup_xy, cell_xy,
                                           dem["population"].to_numpy(), tolerance_s=30.0)
        result[mode] = {
            "full_recompute_s": round(full_s, 3),
            "whatif_add_one_point_s": round(add_s, 3),
            "whatif_remove_one_place_s": round(remove_s, 3),
            "share_population": {f"{m:g}": round(float(island[f"population_{m:g}_share"]), 1)
                                 for m in minutes},
            "median_min": round(float(island["median_min"]), 1),
            "p90_min": round(float(island["p90_min"]), 1),
            "white_zones": len(zones),
            "straight_line_not_fastest_pct_people": round(gap["weight_pct"], 1),
            "straight_line_not_fastest_pct_people_30s": round(gap30["weight_pct"], 1),
            "straight_line_extra_min": round(gap["extra_min"], 1),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
