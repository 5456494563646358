"""The map of a tour plan: one coloured line per van-day, the stops as circles.

Stop and van names come from users (uploaded stop lists, saved selections): they reach
the map only as properties of :class:`geo.mapsafe.TextLayer` layers, set as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import folium

from geo import basemap, mapsafe
from maillage import fmt

#: Colours of the vans; each day of a van is a shade of its colour.
VAN_COLOURS = [["#1f4e9c", "#3b6fc4", "#5d8fe0", "#86aef0", "#0e3270"],
               ["#b34700", "#d9661a", "#f08a3c", "#f7ab6e", "#7a3000"],
               ["#2e7d32", "#43a047", "#66bb6a", "#98d49b", "#1b5e20"]]


def tour_colour(van: int, day_index: int) -> str:
    """The colour of van ``van`` on its ``day_index``-th day of the plan."""
    return VAN_COLOURS[van % len(VAN_COLOURS)][day_index % len(VAN_COLOURS[0])]


def tours_map(problem, plan, lines: Mapping[tuple, Sequence[Sequence[Sequence[float]]]],
              ) -> tuple[folium.Map, list[tuple[str, str]]]:
    """The map of ``plan`` and its legend as ``(colour, label)`` pairs.

    ``lines[(van, day)]``: the road lines of that tour as lists of ``[lat, lon]``.
    """
    day_list = sorted({t.day for t in plan.tours})
    m = basemap.base_map(credits="Réseau routier OpenStreetMap, mairies")
    legend: list[tuple[str, str]] = []
    feats = []
    for t in plan.tours:
        colour = tour_colour(t.van, day_list.index(t.day))
        label = f"{problem.vans[t.van].name} – {fmt.day_short(t.day)}"
        for line in lines.get((t.van, t.day), []):
            coords = [[round(float(lon), 6), round(float(lat), 6)] for lat, lon in line]
            if len(coords) >= 2:
                feats.append(mapsafe.feature({"type": "LineString", "coordinates": coords},
                                             {"tip": label, "_style": {"color": colour}}))
        legend.append((colour, label))
    mapsafe.TextLayer(mapsafe.collection(feats), name="Tournées", tooltip="tip",
                      style={"weight": 4, "opacity": 0.8}).add_to(m)
    stops = [mapsafe.feature(mapsafe.point(s.lon, s.lat), {"tip": f"{s.name} ({s.frequency}"
                             + (f", le {s.fixed_label}" if s.fixed_label else "") + ")"})
             for s in problem.stops]
    mapsafe.TextLayer(mapsafe.collection(stops), name="Arrêts", tooltip="tip",
                      style={"radius": 5, "color": "#222222", "fill": True,
                             "fillOpacity": 0.9}).add_to(m)
    return m, legend
