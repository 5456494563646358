"""`maillage traveltime`, `maillage isochrone`, `maillage network build` and `network export`."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from maillage import settings
from maillage.errors import MaillageError

MODE_LABEL = {"drive": "en voiture", "walk": "à pied"}
#: Lets ``--from -61.07,14.61`` pass a negative coordinate pair as a value, not an option.
_COORDS_ARG = re.compile(r"^-\d+$|^-\d*\.?\d+(,\s*-?\d*\.?\d+)*$")


def _graph(mode: str, graphml: str | None = None):
    """The island's ``mode`` graph, or the one read from an osmnx GraphML file."""
    from analysis import graph
    from geo import graphs

    mode = graph.check_mode(mode)
    if graphml:
        from geo import osmnx_io

        return osmnx_io.load_graphml(graphml, mode, settings.get())
    return graphs.load(mode, settings.get())


def _snap(g, text: str, label: str):
    from analysis import snap
    from geo import roads

    lonlat = snap.parse_lonlat(text)
    return snap.snap_checked(g, lonlat, settings.get().max_snap_m, land=roads.island(),
                             label=label)


def _traveltime(args: argparse.Namespace) -> int:
    from analysis import graph, routing, snap
    from maillage.cli import print_json

    mode = graph.check_mode(args.mode)
    snap.parse_lonlat(args.origin)  # refuse malformed input before loading anything
    snap.parse_lonlat(args.destination)
    g = _graph(mode, args.graph)
    src = _snap(g, args.origin, "Le départ")
    dst = _snap(g, args.destination, "L'arrivée")
    trip = routing.trip(g, src, dst)
    reachable = bool(math.isfinite(trip.seconds))
    payload = {
        "mode": mode,
        "from": list(snap.parse_lonlat(args.origin)),
        "to": list(snap.parse_lonlat(args.destination)),
        "minutes": round(trip.seconds / 60, 2) if reachable else None,
        "seconds": round(trip.seconds, 1) if reachable else None,
        "distance_m": round(trip.metres, 1) if reachable else None,
        "snap_from_m": round(float(src.dist[0]), 1),
        "snap_to_m": round(float(dst.dist[0]), 1),
        "graph": args.graph,
    }
    if args.json:
        print_json(payload)
        return 0
    if not reachable:
        print(f"Aucun trajet {MODE_LABEL[mode]} entre ces deux points sur le réseau routier.")
        return 0
    print(f"Trajet {MODE_LABEL[mode]} : {payload['minutes']:.1f} min, "
          f"{trip.metres / 1000:.2f} km (départ à {payload['snap_from_m']:.0f} m de la route, "
          f"arrivée à {payload['snap_to_m']:.0f} m).")
    return 0


def _isochrone(args: argparse.Namespace) -> int:
    from geo import geojson
    from maillage import fmt
    from maillage.cli import print_json
    from maillage.services.isochrones import IsochroneRequest, IsochroneService

    request = IsochroneRequest.from_text(args.at, args.minutes, args.mode)
    out = Path(args.out)
    if out.suffix.lower() not in (".geojson", ".json"):
        raise MaillageError(f"Fichier de sortie « {out} » : l'extension doit être .geojson.")
    result = IsochroneService.load(settings.get(), modes=(request.mode,)).run(request)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(geojson.dumps(result.frame()), encoding="utf-8")
    except OSError as exc:
        raise MaillageError(f"Impossible d'écrire « {out} » : {exc.strerror}.") from None
    if args.json:
        print_json({**result.to_json(), "out": str(out)})
        return 0
    print(f"Isochrones {MODE_LABEL[request.mode]} écrites dans {out} :")
    for r in result.rows():
        print(f"  {fmt.number(r['from_min'], 1 if r['from_min'] % 1 else 0)} à "
              f"{fmt.number(r['to_min'], 1 if r['to_min'] % 1 else 0)} min : "
              f"{fmt.number(r['area_km2'], 2)} km², {fmt.number(r['population'])} habitants "
              f"(cumul {fmt.number(r['population_cum'])})")
    return 0


def _build(args: argparse.Namespace) -> int:
    from geo import graphs

    graphs.build_all(settings.get(), print, rebuild=args.rebuild)
    return 0


def _export(args: argparse.Namespace) -> int:
    from analysis import graph
    from geo import osmnx_io
    from maillage.cli import print_json

    mode = graph.check_mode(args.mode)
    out = Path(args.graphml)
    if out.suffix.lower() != ".graphml":
        raise MaillageError(f"Fichier de sortie « {out} » : l'extension doit être .graphml.")
    G = osmnx_io.export_graphml(_graph(mode), out)
    payload = {"mode": mode, "graphml": str(out), "crs": G.graph["crs"],
               "nodes": G.number_of_nodes(), "edges": G.number_of_edges()}
    if args.json:
        print_json(payload)
        return 0
    print(f"Graphe {MODE_LABEL[mode]} écrit dans {out} (GraphML d'osmnx, "
          f"osmnx.load_graphml le relit) : {payload['nodes']} nœuds, "
          f"{payload['edges']} tronçons orientés.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("traveltime", help="temps de trajet entre deux points (minutes, distance)")
    p.add_argument("--from", dest="origin", required=True, metavar="LON,LAT",
                   help="point de départ, par exemple -61.07,14.61")
    p.add_argument("--to", dest="destination", required=True, metavar="LON,LAT",
                   help="point d'arrivée")
    p.add_argument("--mode", default="walk", metavar="drive|walk",
                   help="walk (à pied, par défaut) ou drive (en voiture)")
    p.add_argument("--graph", metavar="FICHIER.graphml",
                   help="réseau lu dans un fichier GraphML d'osmnx au lieu du réseau de l'île "
                        "(voir maillage network export)")
    p.add_argument("--json", action="store_true", help="sortie JSON")
    p.set_defaults(handler=_traveltime)
    p._negative_number_matcher = _COORDS_ARG

    p = sub.add_parser("isochrone", help="zones atteintes en N minutes, écrites en GeoJSON")
    p.add_argument("--at", action="append", required=True, metavar="LON,LAT",
                   help="origine (répétez --at pour plusieurs origines)")
    p.add_argument("--minutes", default="5,10,15", help="seuils en minutes, par exemple 5,10,15")
    p.add_argument("--mode", default="walk", metavar="drive|walk",
                   help="walk (à pied, par défaut) ou drive (en voiture)")
    p.add_argument("--out", required=True, metavar="FICHIER.geojson", help="fichier écrit")
    p.add_argument("--json", action="store_true", help="résumé JSON")
    p.set_defaults(handler=_isochrone)
    p._negative_number_matcher = _COORDS_ARG

    p = sub.add_parser("network", help="réseau routier (graphes voiture et piéton)")
    nsub = p.add_subparsers(dest="network_command", metavar="ACTION", parser_class=type(p))
    nsub.required = True
    b = nsub.add_parser("build", help="construit (ou réutilise) les graphes en cache")
    b.add_argument("--rebuild", action="store_true", help="reconstruit même si le cache est à jour")
    b.set_defaults(handler=_build)
    x = nsub.add_parser("export", help="écrit un graphe au format GraphML d'osmnx")
    x.add_argument("--mode", default="walk", metavar="drive|walk",
                   help="walk (à pied, par défaut) ou drive (en voiture)")
    x.add_argument("--graphml", required=True, metavar="FICHIER.graphml",
                   help="fichier écrit, lisible par osmnx.load_graphml")
    x.add_argument("--json", action="store_true", help="résumé JSON")
    x.set_defaults(handler=_export)
