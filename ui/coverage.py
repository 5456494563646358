"""Pieces of the Couverture page: the shared coverage service and its result shaped for display.

The computation is :class:`maillage.services.coverage.CoverageService`, the one
``maillage coverage`` runs: one service per server process (``st.cache_resource``), whose
own caches keep today's (baseline) coverage per mode and selection of places for every
visitor. A visitor's what-if points live in ``st.session_state`` and go into the request.
The functions below only turn a :class:`CoverageResult` into French tables, captions and
map inputs (they never modify the result: its frames are shared).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from analysis import coverage, whatif, white_zones
from geo import choropleth, geojson, supply
from maillage import csvsafe, fmt, settings
from maillage.errors import MaillageError
from maillage.services.coverage import CoverageResult, CoverageService
from maillage.services.report import CoverageReportRequest, CoverageReportService
from maillage.services.report import file_name as report_file_name
from ui import data, widgets

MODE_TEXT = {"walk": "à pied", "drive": "en voiture"}
#: The shares the page shows, measure → French label.
SHARES = {"population": "Habitants", "seniors": "65 ans et plus", "age_80p": "80 ans et plus",
          "poor_households": "Ménages pauvres"}


@data.announce_rebuilds
@st.cache_resource(show_spinner="Chargement des carreaux, des communes et des lieux…")
def _service(data_dir: str, db_url: str) -> CoverageService:
    return CoverageService.load(settings.get(), graph=data.road_graph)


def service() -> CoverageService:
    """The coverage service of this server process (public data, shared, read-only)."""
    s = settings.get()
    return _service(str(s.data_dir), s.db_url)


#: Session key of this visitor's last answer: ((request, places' fingerprint), result).
RESULT_KEY = "cov_result"


def run(svc: CoverageService, request, places: gpd.GeoDataFrame, progress=None
        ) -> CoverageResult:
    """The service's answer to ``request``; this visitor's last answer again when neither
    the request nor the places changed (a rerun that only changes what is shown, e.g. the
    share on the map). Kept in the visitor's session: the what-if is theirs."""
    from maillage.services.coverage import supply_key

    key = (request, supply_key(places))
    kept = st.session_state.get(RESULT_KEY)
    if kept is not None and kept[0] == key:
        return kept[1]
    res = svc.run(request, progress=progress)
    st.session_state[RESULT_KEY] = (key, res)
    return res


@st.cache_data(show_spinner=False)
def town_halls() -> gpd.GeoDataFrame:
    """The 34 town halls, candidates for a what-if."""
    return supply.mairies(settings.get()).sort_values("commune").reset_index(drop=True)


# ----------------------------------------------------------------------------- inputs


def place_labels(places: gpd.GeoDataFrame) -> dict[str, str]:
    """« Name (commune) » of every selected place, by id (options of the removal list)."""
    return {pid: f"{name} ({commune})" for pid, name, commune in
            zip(places["place_id"], places["name"], places["commune"], strict=True)}


def n_stops(places: gpd.GeoDataFrame) -> int:
    """How many of ``places`` are stops of the mobile workshops."""
    return int((places["source"] == "arrêt").sum())


def points_caption(points: Sequence[tuple[float, float, str]]) -> str:
    """« Points ajoutés : name (lon, lat) ; … » (names shown literally)."""
    return "Points ajoutés : " + " ; ".join(
        f"{widgets.md(name)} ({fmt.number(lon, 4)}, {fmt.number(lat, 4)})"
        for lon, lat, name in points)


# ----------------------------------------------------------------------------- figures


def label(res: CoverageResult) -> str:
    """The threshold shown (that of the white zones), as in the column names: ``15``."""
    return coverage.minute_label(res.zone_minutes)


def headline(res: CoverageResult) -> list[tuple[str, str, str | None]]:
    """(label, value, delta) of the four island shares at the shown threshold."""
    lab = label(res)
    before, after = res.island(after=False), res.island(after=True)
    out = []
    for m, name in SHARES.items():
        b, a = before[f"{m}_{lab}_share"], after[f"{m}_{lab}_share"]
        delta = f"{fmt.number(a - b, 1)} pt" if res.whatif is not None else None
        out.append((name, f"{fmt.number(a, 1)} %", delta))
    return out


def _min(v: float) -> str:
    return fmt.number(v, 1, "min", missing="inatteignable")


def summary(res: CoverageResult) -> str:
    """The caption under the headline figures: median, 9th decile, places and cells."""
    w = res.request.weight
    isl = res.island(after=True)
    who = "des habitants" if w == "population" else f"pondéré ({coverage.WEIGHTS[w]})"
    return (f"Temps médian {who} : {_min(isl['median_min'])} ; 9e décile : "
            f"{_min(isl['p90_min'])}. {fmt.plural(res.n_places, 'lieu retenu', 'lieux retenus')} "
            f"({fmt.number(res.n_places_usable)} à moins de "
            f"{fmt.number(settings.get().max_snap_m)} m d'une route), "
            f"{fmt.plural(res.n_cells, 'carreau habité', 'carreaux habités')}. Temps = marche "
            "du centre du carreau jusqu'à la route, puis trajet par le réseau routier.")


# ----------------------------------------------------------------------------- map


def share_title(res: CoverageResult, measure: str) -> str:
    return (f"{SHARES[measure]} à {label(res)} min ou moins "
            f"{MODE_TEXT[res.request.mode]} (%)")


def commune_rows(res: CoverageResult) -> pd.DataFrame:
    """The commune rows of the tables (with the what-if when there is one)."""
    tab = res.tables_after
    return tab[tab["level"] == "commune"]


def map_inputs(res: CoverageResult, svc: CoverageService, measure: str, communes_view: bool
               ) -> dict:
    """The keyword arguments of :func:`geo.coverage_layers.coverage_map` for this result
    (today's white zones prepared once per set of zones, see :func:`zones_collection`)."""
    value_col = f"{measure}_{label(res)}_share"
    shaded = svc.communes.merge(commune_rows(res)[["code", value_col]],
                                left_on="code_insee", right_on="code", how="left")
    shaded["valeur"] = [choropleth.fmt_value(v, "%") for v in shaded[value_col]]
    grid = None if communes_view else svc.grid
    cell_minutes = (None if grid is None else
                    pd.Series(res.seconds_after / 60.0, index=res.demand["cell_id"])
                    .reindex(grid["cell_id"]).to_numpy())
    added = res.request.added
    points = (supply.points([(lon, lat) for lon, lat, _ in added], [n for _, _, n in added])
              if added else None)
    return {"communes_view": communes_view, "shaded": shaded, "value_col": value_col,
            "share_title": share_title(res, measure), "zones": res.zones,
            "communes": svc.communes, "grid": grid, "cell_minutes": cell_minutes,
            "mode": res.request.mode, "places": res.places, "added": points,
            "zones_data": zones_collection(res) if communes_view and len(res.zones) else None}


def zones_collection(res: CoverageResult) -> dict:
    """Today's white zones of ``res`` as the map draws them (public data: built once per
    mode, places, weight and zone rules for every visitor)."""
    r = res.request
    return _zones_collection(r.mode, res.supply_key, r.weight, r.zone_minutes,
                             r.connectivity, r.by_commune, res.zones)


@st.cache_data(show_spinner=False, max_entries=32)
def _zones_collection(mode: str, key: str, weight: str, minutes: float, connectivity: int,
                      by_commune: bool, _zones: gpd.GeoDataFrame) -> dict:
    from geo import coverage_layers

    return coverage_layers.zones_collection(_zones)


def map_caption(res: CoverageResult, clickable: bool = False) -> str:
    how = ("Cliquez n'importe où sur la carte, même dans une zone blanche, pour y ajouter un "
           "point." if clickable else "Cliquez sur une zone blanche pour son détail.")
    return (f"Zones blanches (aplat orange) : carreaux habités à plus de {label(res)} min "
            f"{MODE_TEXT[res.request.mode]} du lieu le plus proche, aujourd'hui. Points bleus : "
            f"lieux ; points roses : points ajoutés. {how}")


# ----------------------------------------------------------------------------- what-if


def whatif_summary(res: CoverageResult) -> str:
    """« À 15 min à pied : **n** habitants nouvellement couverts, **m** qui perdent l'accès. »"""
    lab = label(res)
    d = res.whatif.delta
    isl = d[d["level"] == "island"].iloc[0]
    return (f"À {lab} min {MODE_TEXT[res.request.mode]} : "
            f"**{fmt.number(isl[f'population_gain_{lab}'])}** habitants nouvellement couverts, "
            f"**{fmt.number(isl[f'population_loss_{lab}'])}** qui perdent l'accès.")


def whatif_changes(res: CoverageResult) -> pd.DataFrame:
    """The territories that gain or lose, French headers."""
    lab = label(res)
    d = res.whatif.delta
    changed = d[(d[f"population_gain_{lab}"] > 0) | (d[f"population_loss_{lab}"] > 0)]
    return whatif.french(changed, res.request.minutes)


def touched_zones(res: CoverageResult) -> pd.DataFrame:
    """Today's white zones the what-if changes, French headers (empty when none)."""
    cmp = res.whatif.zones
    touched = cmp[cmp["status"] != "unchanged"].copy()
    touched["Devenir"] = touched["status"].map(white_zones.STATUSES)
    return touched.rename(columns={
        "zone": "Zone", "communes": "Communes", "population": "Habitants avant",
        "population_after": "Habitants après", "covered": "Habitants couverts",
    })[["Zone", "Communes", "Habitants avant", "Habitants après", "Habitants couverts",
        "Devenir"]].round(0)


# ----------------------------------------------------------------------------- charts


def curve(res: CoverageResult) -> pd.DataFrame:
    """Share of the people reached by minute, per EPCI and island, today and with the what-if."""
    steps = np.arange(1, (60 if res.request.mode == "walk" else 30) + 1)

    def one(seconds: np.ndarray, situation: str) -> pd.DataFrame:
        out = pd.concat([coverage.curve(seconds, res.demand, steps, "epci"),
                         coverage.curve(seconds, res.demand, steps, "island")])
        out["Situation"] = situation
        return out

    parts = [one(res.baseline_seconds, "aujourd'hui")]
    if res.whatif is not None:
        parts.append(one(res.whatif.seconds, "avec les hypothèses"))
    return pd.concat(parts)


def bars(res: CoverageResult, measure: str) -> pd.DataFrame:
    """The communes' share of ``measure`` at the shown threshold, smallest first."""
    col = f"{measure}_{label(res)}_share"
    out = commune_rows(res)[["name", "epci", col]].rename(columns={col: "share"})
    return out.sort_values("share")


#: Colours of the territories in the charts (plotly's default sequence).
_CHART_COLOURS = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3",
                  "#ff6692", "#b6e880", "#ff97ff", "#fecb52"]
_DASHES = {"aujourd'hui": "solid", "avec les hypothèses": "dot"}


def curve_figure(res: CoverageResult):
    """« Part de la population atteinte selon le temps »: one line per territory (dotted:
    with the what-if). The traces are given to plotly as plain dicts (a fifteenth of the
    time of adding them one by one, and of plotly express)."""
    import plotly.graph_objects as go

    data = curve(res)
    x_title = f"Minutes {MODE_TEXT[res.request.mode]}"
    two = data["Situation"].nunique() > 1
    traces = []
    for i, (name, part) in enumerate(data.groupby("name", sort=False)):
        for situation, rows in part.groupby("Situation", sort=False):
            traces.append({
                "type": "scatter", "mode": "lines", "x": rows["minutes"].to_numpy(),
                "y": rows["share"].to_numpy(),
                "name": f"{name}, {situation}" if two else str(name), "legendgroup": str(name),
                "line": {"color": _CHART_COLOURS[i % len(_CHART_COLOURS)],
                         "dash": _DASHES.get(situation, "solid")},
                "hovertemplate": ("%{fullData.name}<br>" + x_title + " : %{x}<br>Habitants "
                                  "atteints : %{y:.1f} %<extra></extra>")})
    return go.Figure(data=traces, layout={
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": "Habitants atteints (%)"}, "range": [0, 100]},
        "legend": {"title": {"text": "Territoire"}}})


def bars_figure(res: CoverageResult, measure: str):
    """The communes' shares at the shown threshold, one colour per EPCI (horizontal bars)."""
    import plotly.graph_objects as go

    data = bars(res, measure)
    title = share_title(res, measure)
    traces = [{"type": "bar", "orientation": "h", "x": rows["share"].to_numpy(),
               "y": rows["name"].to_numpy(), "name": str(epci),
               "marker": {"color": _CHART_COLOURS[i % len(_CHART_COLOURS)]},
               "hovertemplate": "%{y}<br>" + title + " : %{x:.1f}<extra>%{fullData.name}</extra>"}
              for i, (epci, rows) in enumerate(data.groupby("epci", sort=False))]
    return go.Figure(data=traces, layout={
        "xaxis": {"title": {"text": title}},
        "yaxis": {"title": {"text": "Commune"}, "categoryorder": "array",
                  "categoryarray": list(data["name"])},
        "legend": {"title": {"text": "EPCI"}}, "height": 760, "barmode": "relative"})


# ----------------------------------------------------------------------------- tables


def tables_fr(res: CoverageResult) -> pd.DataFrame:
    """The commune, EPCI and island tables with French headers (with the what-if)."""
    return coverage.french(res.tables_after, res.request.minutes, res.request.weight)


def zones_heading(res: CoverageResult) -> str:
    return (f"**Zones blanches aujourd'hui** ({len(res.zones)}, au-delà de {label(res)} min "
            f"{MODE_TEXT[res.request.mode]}, les plus peuplées d'abord)")


def zones_fr(res: CoverageResult, limit: int = 50) -> pd.DataFrame:
    """Today's white zones with French headers, the ``limit`` first."""
    return res.zone_table().rename(columns={
        "zone": "Zone", "n_cells": "Carreaux", "population": "Habitants",
        "seniors": "65 ans et plus", "age_80p": "80 ans et plus",
        "poor_households": "Ménages pauvres", "communes": "Communes", "epci": "EPCI",
        "min_min": "Temps min. (min)", "median_min": "Temps médian (min)",
        "max_min": "Temps max. (min)",
    }).drop(columns=["weight"]).round(1).head(limit)


#: What each property of the white zones' GeoJSON holds (documented on the page and in
#: ``docs/couverture.md``): key → (French description, decimals).
ZONE_KEYS: dict[str, tuple[str, int]] = {
    "zone": ("numéro de la zone (1 = la plus lourde selon la pondération choisie)", 0),
    "carreaux": ("nombre de carreaux habités de 200 m", 0),
    "habitants": ("habitants", 0),
    "plus_65_ans": ("habitants de 65 ans et plus", 0),
    "plus_80_ans": ("habitants de 80 ans et plus", 0),
    "menages_pauvres": ("ménages sous le seuil de pauvreté", 0),
    "poids": ("valeur de la pondération choisie (rang des zones)", 0),
    "communes": ("communes touchées, les plus peuplées d'abord", 0),
    "epci": ("EPCI", 0),
    "temps_min_min": ("temps jusqu'au lieu le plus proche, minimum (minutes ; vide : "
                      "inatteignable)", 1),
    "temps_median_min": ("temps médian pondéré (minutes)", 1),
    "temps_max_min": ("temps maximum (minutes)", 1),
}
_ZONE_COLUMNS = {"zone": "zone", "n_cells": "carreaux", "population": "habitants",
                 "seniors": "plus_65_ans", "age_80p": "plus_80_ans",
                 "poor_households": "menages_pauvres", "weight": "poids",
                 "communes": "communes", "epci": "epci", "min_min": "temps_min_min",
                 "median_min": "temps_median_min", "max_min": "temps_max_min"}
_WEIGHT_SLUGS = {"population": "habitants", "seniors": "65-ans-et-plus",
                 "poor": "menages-pauvres", "fragility": "fragilite"}


def scenario_slug(res: CoverageResult, *, zones: bool = False) -> str:
    """The scenario a download holds, for its file name: mode, minutes, weight, what-if.

    « a-pied_10-15-20-30min_habitants_avec-2-points-ajoutes » (tables), or for today's
    white zones (``zones``) the zones' threshold and « aujourdhui ».
    """
    r = res.request
    mode = "a-pied" if r.mode == "walk" else "en-voiture"
    minutes = label(res) if zones else "-".join(coverage.minute_label(m) for m in r.minutes)
    parts = [mode, f"{minutes}min", _WEIGHT_SLUGS.get(r.weight, r.weight)]
    if r.places == "labelled":
        parts.append("lieux-labellises")
    if r.services or r.kinds:
        parts.append("lieux-filtres")
    if r.with_stops:
        parts.append("avec-arrets-mobiles")
    if zones or res.whatif is None:
        parts.append("aujourdhui")
    else:
        what = []
        if r.added:
            what.append(f"{len(r.added)}-point{'s' if len(r.added) > 1 else ''}-"
                        f"ajoute{'s' if len(r.added) > 1 else ''}")
        if r.removed:
            what.append(f"{len(r.removed)}-lieu{'x' if len(r.removed) > 1 else ''}-"
                        f"retire{'s' if len(r.removed) > 1 else ''}")
        parts.append("avec-" + "-".join(what))
    return "_".join(parts)


def tables_csv_builder(res: CoverageResult):
    """A function that writes :func:`tables_csv` when called (a download built on click)."""
    return lambda: tables_csv(res)


def zones_geojson_builder(res: CoverageResult):
    """A function that writes :func:`zones_geojson` when called (a download built on click)."""
    return lambda: zones_geojson(res)


def tables_csv(res: CoverageResult) -> bytes:
    """The tables as French Excel opens them (``;``, decimal comma, whole numbers of
    people; see :func:`maillage.csvsafe.french_excel`)."""
    return csvsafe.french_excel(tables_fr(res),
                                whole=coverage.french_counts(res.request.minutes,
                                                             res.request.weight),
                                decimals=1)


def tables_file_name(res: CoverageResult) -> str:
    return f"couverture_{scenario_slug(res)}.csv"


def zones_file_name(res: CoverageResult) -> str:
    return f"zones-blanches_{scenario_slug(res, zones=True)}.geojson"


def zones_keys_caption() -> str:
    """The caption under the GeoJSON download: what each property holds."""
    return ("Propriétés du fichier : " + " ; ".join(
        f"`{k}` : {text}" for k, (text, _) in ZONE_KEYS.items()) + ".")


def zones_geojson(res: CoverageResult) -> str:
    """Today's white zones as GeoJSON text for the download: the French keys of
    :data:`ZONE_KEYS`, rounded values, infinite times as null (RFC 7946)."""
    r = res.request
    return _zones_geojson(r.mode, res.supply_key, r.weight, r.zone_minutes, r.connectivity,
                          r.by_commune, res.zones)


@st.cache_data(show_spinner=False, max_entries=32)
def _zones_geojson(mode: str, key: str, weight: str, minutes: float, connectivity: int,
                   by_commune: bool, _zones: gpd.GeoDataFrame) -> str:
    out = _zones.rename(columns=_ZONE_COLUMNS)
    out = out[[*(k for k in ZONE_KEYS if k in out.columns), out.geometry.name]].copy()
    for key, (_, decimals) in ZONE_KEYS.items():
        if key in out.columns and pd.api.types.is_numeric_dtype(out[key]):
            values = out[key].astype(float).replace([np.inf, -np.inf], np.nan).round(decimals)
            out[key] = values.astype("Int64") if decimals == 0 else values
    return geojson.dumps(out)


# ----------------------------------------------------------------------------- report


def report_bytes(svc: CoverageService, request: CoverageReportRequest) -> bytes:
    """The coverage report of ``request`` as the file's bytes (what ``maillage report
    coverage`` writes for the same request and date)."""
    from ui import stops as stops_ui

    reports = CoverageReportService(svc, stops=stops_ui.service)
    return reports.run(request).html.encode("utf-8")


def epci_names() -> list[str]:
    """The three EPCI's short names, sorted (the report's territories)."""
    return sorted(service().communes["epci_court"].unique())


def report_button(request: CoverageReportRequest, *, key: str = "cov-report") -> None:
    """« Télécharger le rapport »: the self-contained HTML report of ``request``.

    Built only when clicked (in Streamlit's download thread, never downloading a source)
    by the page's own coverage service; the date is fixed now so the file name and the
    document agree. A refused request shows its French error instead of the button.
    """
    from dataclasses import replace
    from datetime import date

    from geo import fetch

    svc = service()
    try:
        req = replace(request, date=request.date or date.today()).validated(svc.communes)
    except MaillageError as exc:
        widgets.error(exc)
        return

    def build() -> bytes:
        with fetch.page_mode():
            return report_bytes(svc, req)

    html_col, pdf_col = st.columns(2)
    html_col.download_button(
        "Télécharger le rapport", build, file_name=report_file_name(req), mime="text/html",
        key=key, on_click="ignore", icon=":material/description:",
        help="Rapport autonome (HTML) : à pied puis en voiture, par commune, zones blanches, "
             "cartes ; s'ouvre dans un navigateur, même sans Internet.")
    widgets.pdf_button(pdf_col, build, report_file_name(req), key=f"{key}-pdf")
