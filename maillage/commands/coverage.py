"""`maillage coverage`: who lives within N minutes of a place, per commune, and what-ifs."""

from __future__ import annotations

import argparse
import math
import re

import numpy as np
import pandas as pd

from geo.errors import MaillageError
from maillage import settings

MODE_LABEL = {"drive": "en voiture", "walk": "à pied"}
#: Lets ``--with -61.07,14.61`` pass a negative coordinate pair as a value, not an option.
_COORDS_ARG = re.compile(r"^-\d+$|^-\d*\.?\d+(,\s*-?\d*\.?\d+)*$")


def parse_minutes(text: str) -> list[float]:
    """``"15"`` or ``"10,15"`` to minutes, with a French error."""
    from analysis import coverage

    try:
        values = [float(x) for x in str(text).replace(" ", "").split(",") if x]
    except ValueError:
        raise MaillageError(f"Durée illisible : « {text} ». Écrivez des minutes, par exemple "
                            "15 ou 10,15,20.") from None
    return coverage.check_minutes(values)


def _count(text: str) -> int:
    """A non-negative integer option, with a French message."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu, pas « {text} »") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"nombre positif attendu, pas « {text} »")
    return value


def _check_args(args: argparse.Namespace) -> tuple[str, list[float], list[tuple[float, float]]]:
    """Validate the cheap inputs before loading anything."""
    from analysis import coverage, graph, snap

    mode = graph.check_mode(args.mode)
    minutes = parse_minutes(args.minutes)
    if args.weight not in coverage.WEIGHTS:
        raise MaillageError(f"Pondération inconnue : « {args.weight} ». Choisissez parmi : "
                            f"{', '.join(coverage.WEIGHTS)}.")
    if args.places not in ("all", "labelled"):
        raise MaillageError(f"Sélection de lieux inconnue : « {args.places} » "
                            "(all ou labelled).")
    if args.connectivity not in (4, 8):
        raise MaillageError("Voisinage des zones blanches : 4 ou 8.")
    points = []
    for i, text in enumerate(args.with_points or [], start=1):
        lon, lat = snap.parse_lonlat(text)
        snap.check_in_martinique(lon, lat, label=f"Le point ajouté n° {i}")
        points.append((lon, lat))
    return mode, minutes, points


def run(mode: str, minutes: list[float], weight: str = "population", places: str = "all",
        services: tuple[str, ...] = (), kinds: tuple[str, ...] = (),
        with_points: list[tuple[float, float]] | None = None, without: tuple[str, ...] = (),
        zone_minutes: float | None = None, connectivity: int = 8, by_commune: bool = False,
        with_stops: bool = False, s: settings.Settings | None = None) -> dict:
    """Compute the coverage (and the what-if when asked) on the real data; plain dict out."""
    from analysis import coverage, snap, whatif, white_zones
    from geo import communes as communes_mod
    from geo import graphs, population, roads, supply

    s = s or settings.get()
    g = graphs.load(mode, s)
    grid = population.load_grid(s)
    com = communes_mod.load(s)
    frag = (population.fragility_by_cell(grid, population.load_ifn(s))
            if weight == "fragility" else None)
    dem = coverage.demand(grid, com, weight, frag)
    sup = supply.select(supply.places(s), places, services, kinds)
    if with_stops:
        sup = pd.concat([sup, supply.workshop_stops(s)], ignore_index=True)
    if sup.empty and places == "labelled":
        raise MaillageError("Le registre ne compte encore aucun point numérique labellisé : "
                            "calculez la couverture de tous les lieux (--places all).")
    unknown = sorted(set(without) - set(sup["place_id"]))
    if unknown:
        raise MaillageError(f"Lieu à retirer inconnu dans la sélection : {', '.join(unknown)} "
                            "(voir « maillage places list »).")
    acc = coverage.compute(g, dem[["x", "y"]].to_numpy(), supply.to_xy(sup),
                           walk_kmh=s.walk_kmh, max_snap_m=s.max_snap_m)
    t_zone = zone_minutes if zone_minutes is not None else minutes[0]
    zone_of, zones = white_zones.zones(acc.seconds, dem, t_zone, connectivity, by_commune)
    out = {
        "mode": mode, "minutes": minutes, "weight": weight, "places": places,
        "n_places": len(sup), "n_places_usable": int(acc.usable.sum()),
        "n_cells": len(dem),
        "tables": coverage.tables(acc.seconds, dem, minutes),
        "zones_minutes": t_zone, "zones": zones,
    }
    if with_points or without:
        land = roads.island(s) if with_points else None
        for i, (lon, lat) in enumerate(with_points or [], start=1):
            snap.check_in_martinique(lon, lat, land, label=f"Le point ajouté n° {i}")
        add_xy = snap.to_xy(np.asarray(with_points)) if with_points else None
        rows = np.flatnonzero(sup["place_id"].isin(without).to_numpy())
        sc = whatif.apply(g, acc, add_xy, rows, s.max_snap_m)
        out["whatif"] = {
            "added": [list(p) for p in with_points or []],
            "removed": list(without),
            "tables": coverage.tables(sc.seconds, dem, minutes),
            "delta": whatif.deltas(acc.seconds, sc.seconds, dem, minutes),
            "zones": white_zones.compare(zone_of, zones, sc.seconds, dem, t_zone),
        }
    return out


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (inf and NaN become null)."""
    rows = df.to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else
                 (v.item() if isinstance(v, np.generic) else v))
             for k, v in r.items()} for r in rows]


def _minutes_text(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{v:.1f}".replace(".", ",")


def _num(v: float) -> str:
    return f"{v:,.0f}".replace(",", "\u202f")


def _pct(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{v:.1f} %".replace(".", ",")


def print_table(tab: pd.DataFrame, minute: float, title: str) -> None:
    """The commune rows and the island total for one threshold, in French."""
    from analysis import coverage

    lab = coverage.minute_label(minute)
    rows = tab[tab["level"].isin(["commune", "island"])]
    show = pd.DataFrame({
        "Territoire": rows["name"], "EPCI": rows["epci"],
        "Habitants": rows["population"].map(_num),
        f"Hab. ≤ {lab} min": rows[f"population_{lab}"].map(_num),
        "Part hab.": rows[f"population_{lab}_share"].map(_pct),
        "Part 65+": rows[f"seniors_{lab}_share"].map(_pct),
        "Part 80+": rows[f"age_80p_{lab}_share"].map(_pct),
        "Part mén. pauvres": rows[f"poor_households_{lab}_share"].map(_pct),
        "Médiane (min)": rows["median_min"].map(_minutes_text),
        "9e décile (min)": rows["p90_min"].map(_minutes_text),
    })
    print(title)
    print(show.to_string(index=False))


def _coverage(args: argparse.Namespace) -> int:
    from maillage.cli import print_json

    mode, minutes, points = _check_args(args)
    res = run(mode, minutes, args.weight, args.places, tuple(args.service or ()),
              tuple(args.kind or ()), points, tuple(args.without or ()),
              connectivity=args.connectivity, by_commune=args.by_commune,
              with_stops=args.with_stops)
    if args.json:
        payload = {k: v for k, v in res.items() if k not in ("tables", "zones", "whatif")}
        payload["tables"] = _records(res["tables"])
        payload["zones"] = _records(res["zones"].head(args.zones))
        payload["n_zones"] = len(res["zones"])
        if "whatif" in res:
            w = res["whatif"]
            payload["whatif"] = {"added": w["added"], "removed": w["removed"],
                                 "tables": _records(w["tables"]),
                                 "delta": _records(w["delta"]),
                                 "zones": _records(w["zones"][w["zones"]["status"] != "unchanged"])}
        print_json(payload)
        return 0
    how = MODE_LABEL[mode]
    print(f"Couverture {how} — {res['n_places_usable']} lieux sur {res['n_places']} retenus, "
          f"{res['n_cells']} carreaux habités.")
    for m in minutes:
        print_table(res["tables"], m, f"\nÀ {m:g} minutes ou moins {how} d'un lieu :")
    zones = res["zones"]
    print(f"\nZones blanches (au-delà de {res['zones_minutes']:g} min {how}) : {len(zones)} ; "
          f"les {min(args.zones, len(zones))} plus peuplées :")
    for z in zones.head(args.zones).itertuples():
        print(f"  n° {z.zone} : {_num(z.population)} habitants, {_num(z.seniors)} de 65 ans et "
              f"plus, {_num(z.poor_households)} ménages pauvres — {z.communes} — "
              f"lieu le plus proche entre {_minutes_text(z.min_min)} et "
              f"{_minutes_text(z.max_min)} min")
    if "whatif" in res:
        w = res["whatif"]
        print("\nHypothèse : " + ", ".join(
            [f"ajout de {lon:.5f},{lat:.5f}" for lon, lat in w["added"]]
            + [f"retrait de {p}" for p in w["removed"]]))
        for m in minutes:
            print_table(w["tables"], m, f"\nAvec l'hypothèse, à {m:g} minutes ou moins :")
            lab = f"{m:g}"
            d = w["delta"]
            d = d[(d[f"population_gain_{lab}"] > 0) | (d[f"population_loss_{lab}"] > 0)]
            print(f"\nGagnent / perdent l'accès à {lab} min :")
            for r in d.itertuples():
                print(f"  {r.name} : +{_num(getattr(r, f'population_gain_{lab}'))} / "
                      f"−{_num(getattr(r, f'population_loss_{lab}'))} habitants")
        z = w["zones"]
        changed = z[z["status"] != "unchanged"]
        print(f"\nZones blanches touchées : {len(changed)} "
              f"({(z['status'] == 'gone').sum()} disparaissent).")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="couverture par commune : qui vit à N minutes d'un lieu")
    p.add_argument("--mode", default="walk", metavar="walk|drive",
                   help="walk (à pied, par défaut) ou drive (en voiture)")
    p.add_argument("--minutes", default="15", help="seuil(s) en minutes, par exemple 15 ou 10,20")
    p.add_argument("--weight", default="population", metavar="population|seniors|poor|fragility",
                   help="pondération des temps médians et du rang des zones blanches")
    p.add_argument("--places", default="all", metavar="all|labelled",
                   help="tous les lieux (par défaut) ou les seuls points labellisés")
    p.add_argument("--service", action="append", metavar="SERVICE",
                   help="ne garder que les lieux offrant ce service (répétable)")
    p.add_argument("--kind", action="append", metavar="TYPE",
                   help="ne garder que ce type de lieu, par exemple « lieu fixe » (répétable)")
    p.add_argument("--with-stops", action="store_true",
                   help="compte aussi les arrêts des ateliers mobiles des plans publiés")
    p.add_argument("--with", dest="with_points", action="append", metavar="LON,LAT",
                   help="ajoute un point hypothétique (répétable)")
    p.add_argument("--without", action="append", metavar="ID_LIEU",
                   help="retire un lieu du registre (répétable)")
    p.add_argument("--zones", type=_count, default=10, metavar="N",
                   help="nombre de zones blanches listées (par défaut 10)")
    p.add_argument("--connectivity", type=_count, default=8, metavar="4|8",
                   help="voisinage des carreaux des zones blanches (8 par défaut)")
    p.add_argument("--by-commune", action="store_true",
                   help="découpe les zones blanches aux limites des communes")
    p.add_argument("--json", action="store_true", help="sortie JSON")
    p.set_defaults(handler=_coverage)
    p._negative_number_matcher = _COORDS_ARG
