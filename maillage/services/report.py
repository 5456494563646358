"""The coverage report of a territory (an EPCI or the island): one HTML file to hand over.

One service for ``maillage report coverage`` and the Couverture page's download button
(see the package docstring for the pattern). Both build the same
:class:`CoverageReportRequest` and write the same :attr:`CoverageReportResult.html`:
for the same inputs and date the two files are the same bytes (no clock, no random id).

The figures are those of :class:`maillage.services.coverage.CoverageService` for the
requests :meth:`CoverageReportRequest.coverage_request` builds, walking first then
driving: per commune of the territory, the share of people, of people aged 65 and over,
80 and over and of poor households within the chosen minutes; the largest white zones
(cut at the commune limits, so each belongs to one commune and one EPCI); the what-if
when points are added or places removed; and, when asked, the proposed stops of
:class:`maillage.services.stops.StopsService` with their gain and how sure the solver is
of them. The document itself (:func:`render`) is self-contained: inline CSS, maps drawn
as SVG from the project's own layers (:mod:`geo.static_map`), no script, no external
request; it prints to A4 (one section per page) and to PDF from any browser.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import pandas as pd

from analysis import coverage
from maillage import fmt
from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.services import documents
from maillage.services.coverage import (
    CoverageRequest,
    CoverageResult,
    CoverageService,
    Progress,
    records,
)
from maillage.services.documents import esc
from maillage.services.stops import StopsRequest, StopsResult, StopsService
from maillage.settings import Settings

#: Walking first, then driving.
MODES = ("walk", "drive")
MODE_TEXT = {"walk": "à pied", "drive": "en voiture"}
MODE_TITLE = {"walk": "À pied", "drive": "En voiture"}
#: The measures whose share is given per commune → French column header.
SHARES = {"population": "Habitants", "seniors": "65 ans et plus",
          "age_80p": "80 ans et plus", "poor_households": "Ménages pauvres"}
#: How many white zones each mode lists.
ZONES_LISTED = 10
#: Words that name the whole island as a scope.
_ISLAND = ("", "island", "ile", "île", "martinique", "972", "toute l'île")
#: Datasets the report's figures come from (credits, in this order).
SOURCES = ("roads_mirror", "filosofi", "communes_geo", "communes_table", "hub_antilles",
           "france_services", "cnfs_lieux")


def _quiet(_fraction: float, _text: str) -> None:
    pass


def _is_island(scope: str | None) -> bool:
    return scope is None or str(scope).strip().lower() in _ISLAND


def resolve_scope(scope: str | None, communes: pd.DataFrame) -> str | None:
    """``None`` for the island, else the short name of the EPCI that ``scope`` names
    (short name, full name or SIREN, any case), or a French error listing them."""
    if _is_island(scope):
        return None
    text = str(scope).strip().lower()
    cols = [c for c in ("epci_court", "epci_nom", "epci_siren") if c in communes]
    for names in communes[cols].drop_duplicates("epci_court").itertuples(index=False):
        if text in (str(n).lower() for n in names):
            return str(names[0])
    known = ", ".join(sorted(communes["epci_court"].astype(str).unique()))
    raise MaillageError(f"Territoire inconnu : « {scope} ». Donnez un EPCI ({known}) ou "
                        "Martinique pour toute l'île.")


@dataclass(frozen=True)
class CoverageReportRequest:
    """Every input of one report.

    ``scope``: an EPCI (``"CAP Nord"``, its full name or SIREN) or None for the island.
    ``minutes``: the walking threshold, ``drive_minutes`` the driving one (``minutes``
    when None). ``weight``, ``places``, ``added`` and ``removed`` are those of
    :class:`~maillage.services.coverage.CoverageRequest` (the what-if is reported when
    points are added or places removed). ``stops``: a proposed-stops question answered
    in the report (a request without scope takes the report's). ``date``: the date
    printed (today when None, filled in by :meth:`validated`).
    """

    scope: str | None = None
    minutes: float = 15.0
    drive_minutes: float | None = None
    weight: str = "population"
    places: str = "all"
    added: tuple[tuple[float, float, str], ...] = ()
    removed: tuple[str, ...] = ()
    stops: StopsRequest | None = None
    date: date | None = None

    def validated(self, communes: pd.DataFrame | None = None) -> CoverageReportRequest:
        """The same request checked once (French errors) before anything heavy is loaded.

        With ``communes`` (``epci_court, epci_nom, epci_siren``) the scope is resolved to
        the EPCI's short name; the coverage requests of both modes and the stops request
        are checked too.
        """
        minutes = _threshold(self.minutes, "à pied")
        drive = _threshold(self.minutes if self.drive_minutes is None else self.drive_minutes,
                           "en voiture")
        scope = (resolve_scope(self.scope, communes) if communes is not None else
                 None if _is_island(self.scope) else str(self.scope).strip())
        day = self.date or date.today()
        if isinstance(day, datetime):
            day = day.date()
        if not isinstance(day, date):
            raise MaillageError(f"Date du rapport illisible : « {self.date} » "
                                "(écrivez-la AAAA-MM-JJ).")
        out = replace(self, scope=scope, minutes=minutes, drive_minutes=drive, date=day)
        for mode in MODES:
            checked = out.coverage_request(mode).validated()
        out = replace(out, added=checked.added, removed=checked.removed)
        if self.stops is not None:
            stops = self.stops
            if stops.scope is None and scope is not None:
                stops = replace(stops, scope=scope)
            out = replace(out, stops=stops.validated(communes))
        return out

    def minutes_of(self, mode: str) -> float:
        """The threshold of ``mode``."""
        if mode == "drive" and self.drive_minutes is not None:
            return float(self.drive_minutes)
        return float(self.minutes)

    def coverage_request(self, mode: str) -> CoverageRequest:
        """The coverage question of ``mode`` whose figures the report prints."""
        m = self.minutes_of(mode)
        return CoverageRequest(mode=mode, minutes=(m,), weight=self.weight, places=self.places,
                               added=self.added, removed=self.removed, zone_minutes=m,
                               by_commune=True)


def _threshold(value: Any, how: str) -> float:
    try:
        return coverage.check_minutes([float(value)])[0]
    except (TypeError, ValueError, MaillageError):
        raise MaillageError(f"Durée {how} invalide : « {value} ». Donnez des minutes, plus de "
                            "0 et 180 au plus.") from None


@dataclass(frozen=True)
class ModeFigures:
    """What the report prints for one mode.

    ``rows``: the commune rows of the territory then its EPCI row(s) and the island
    (columns of :func:`analysis.coverage.table`); ``zones``: today's white zones of the
    territory (ranked as the service ranks them, outlines in EPSG:4326); ``result``:
    the whole coverage answer.
    """

    mode: str
    minutes: float
    scope: str | None
    result: CoverageResult
    rows: pd.DataFrame
    zones: gpd.GeoDataFrame

    @property
    def label(self) -> str:
        return coverage.minute_label(self.minutes)

    def total(self) -> pd.Series:
        """The territory's row (its EPCI, or the island)."""
        if self.scope is None:
            return self.rows[self.rows["level"] == "island"].iloc[0]
        return self.rows[(self.rows["level"] == "epci")
                         & (self.rows["code"] == self.scope)].iloc[0]


@dataclass(frozen=True)
class CoverageReportResult:
    """The answer to a :class:`CoverageReportRequest`: the figures and the HTML file."""

    request: CoverageReportRequest
    scope_label: str
    codes: tuple[str, ...]
    modes: dict[str, ModeFigures]
    stops: StopsResult | None
    n_places: int
    settings: Settings
    communes: gpd.GeoDataFrame

    @property
    def html(self) -> str:
        """The report as one self-contained HTML document."""
        return render(self)

    def file_name(self) -> str:
        """A file name for the download (:func:`file_name`)."""
        return file_name(self.request)

    def to_json(self) -> dict[str, Any]:
        """The figures of the report (what ``maillage report coverage --json`` prints)."""
        r = self.request
        out: dict[str, Any] = {
            "territoire": self.scope_label, "epci": r.scope, "date": r.date.isoformat(),
            "weight": r.weight, "places": r.places, "n_places": self.n_places,
            "communes": list(self.codes),
        }
        for mode, fig in self.modes.items():
            lab = fig.label
            cols = ["level", "code", "name", "epci", "population",
                    *[f"{m}_{lab}_share" for m in SHARES], "median_min"]
            entry: dict[str, Any] = {
                "minutes": fig.minutes, "rows": records(fig.rows[cols]),
                "n_zones": len(fig.zones),
                "zones": records(pd.DataFrame(fig.zones.drop(columns="geometry"))
                                 .head(ZONES_LISTED)),
            }
            if fig.result.whatif is not None:
                entry["whatif"] = records(_whatif_rows(fig))
            out[mode] = entry
        if self.stops is not None:
            s = self.stops
            out["stops"] = {
                "mode": s.request.mode, "minutes": s.request.minutes,
                "weight_label": s.weight_label, "status": s.best.status,
                "status_fr": stops_status(s), "demand_total": s.demand_total,
                "covered_today": s.covered_today, "covered_with_stops": s.covered_with_stops,
                "stops": records(s.stops[["rang", "nom", "commune", "gain", "cumul", "lon",
                                          "lat"]]),
            }
        return out


def file_name(request: CoverageReportRequest) -> str:
    """``rapport-couverture-cap-nord-2026-12-01.html`` (ASCII, from the scope and the date;
    today when the request has no date yet)."""
    import unicodedata

    raw = unicodedata.normalize("NFKD", "martinique" if _is_island(request.scope)
                                else str(request.scope))
    slug = "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in raw
                            if not unicodedata.combining(c)).lower().split())
    day = request.date or date.today()
    return f"rapport-couverture-{slug or 'territoire'}-{day.isoformat()}.html"


def _whatif_rows(fig: ModeFigures) -> pd.DataFrame:
    """The what-if's gains and losses for the territory's rows (communes, EPCI, island)."""
    d = fig.result.whatif.delta
    keys = fig.rows[["level", "code"]]
    return keys.merge(d, on=["level", "code"], how="left")


def stops_status(res: StopsResult) -> str:
    """How sure the solver is of the stops, in plain French."""
    sol = res.best
    if sol.status == "optimal" or (sol.gap is not None and sol.gap == 0):
        return "solution optimale"
    if sol.status == "infeasible":
        return sol.status_fr
    bound, obj = sol.bound, sol.objective
    if bound is None or not math.isfinite(bound) or not bound:
        return "bonne solution, sans garantie d'optimalité (méthode gloutonne)"
    if sol.model == "lscp":  # fewest stops: the bound is a lower one
        excess = max(obj - bound, 0.0) / bound
        return (f"bonne solution, au plus {fmt.percent(excess, 1, share=True)} au-dessus de "
                "l'optimum")
    below = max(bound - obj, 0.0) / bound  # most covered: the bound is an upper one
    return f"bonne solution, au plus {fmt.percent(below, 1, share=True)} sous l'optimum"


class CoverageReportService:
    """Reports on one coverage service (and a stops service, created when first asked)."""

    def __init__(self, coverage_service: CoverageService,
                 stops: StopsService | Callable[[], StopsService] | None = None):
        self.coverage = coverage_service
        self.settings = coverage_service.settings
        self._stops = stops
        self._lock = threading.Lock()

    @classmethod
    def load(cls, s: Settings | None = None) -> CoverageReportService:
        """The coverage service of the island (road graphs read when first used)."""
        s = s or settings_mod.get()
        return cls(CoverageService.load(s))

    def stops_service(self) -> StopsService:
        """The stops service (built on the coverage service's communes when first asked)."""
        with self._lock:
            svc = self._stops
            if svc is None:
                svc = StopsService(self.settings, self.coverage.communes)
            elif not isinstance(svc, StopsService):
                svc = svc()
            self._stops = svc
            return svc

    def run(self, request: CoverageReportRequest, progress: Progress | None = None
            ) -> CoverageReportResult:
        """Answer ``request`` (checked first); ``progress`` is told each step in French."""
        say = progress or _quiet
        communes = self.coverage.communes
        req = request.validated(communes)
        in_scope = (communes["epci_court"] == req.scope if req.scope is not None
                    else pd.Series(True, index=communes.index))
        codes = tuple(sorted(communes.loc[in_scope, "code_insee"].astype(str)))
        modes: dict[str, ModeFigures] = {}
        for i, mode in enumerate(MODES):
            say(0.4 * i, f"Couverture {MODE_TEXT[mode]}…")
            res = self.coverage.run(req.coverage_request(mode))
            modes[mode] = _figures(res, req, codes)
        stops = None
        if req.stops is not None:
            say(0.8, "Arrêts proposés…")
            stops = self.stops_service().run(req.stops)
        say(1.0, "Terminé.")
        places = modes["walk"].result.places
        n_places = int(places["code_insee"].astype(str).isin(codes).sum())
        label = "Martinique" if req.scope is None else req.scope
        return CoverageReportResult(req, label, codes, modes, stops, n_places, self.settings,
                                    communes)


def _figures(res: CoverageResult, req: CoverageReportRequest, codes: tuple[str, ...]
             ) -> ModeFigures:
    tab = res.tables
    communes = tab[(tab["level"] == "commune") & tab["code"].astype(str).isin(codes)]
    if req.scope is None:
        totals = tab[tab["level"].isin(["epci", "island"])]
    else:
        totals = tab[((tab["level"] == "epci") & (tab["code"] == req.scope))
                     | (tab["level"] == "island")]
    rows = pd.concat([communes, totals]).reset_index(drop=True)
    zones = res.zones
    if req.scope is not None:
        zones = zones[zones["epci"] == req.scope]
    return ModeFigures(res.request.mode, res.zone_minutes, req.scope, res, rows,
                       zones.reset_index(drop=True))


# =============================================================================== HTML

_CSS = """
.entete{border-bottom:3px solid var(--vert);margin-bottom:.6rem}
.entete p{margin:.1rem 0}
table.couverture td:first-child,table.hypothese td:first-child{white-space:nowrap}
.carte-bloc{max-width:44rem;margin:0 auto}
@media print{.carte-bloc{max-width:16.5cm} table{font-size:8.5pt}}
"""


def _pct(v: float) -> str:
    return fmt.percent(v, 1, missing="—")


def _int(v: float) -> str:
    return fmt.number(v, missing="—")


def _min(v: float) -> str:
    return fmt.number(v, 1, "min", missing="hors de portée")


def _cell(column: str, value: float) -> str:
    """How the report writes ``value`` of the coverage table's ``column``."""
    if column.endswith("_share"):
        return _pct(value)
    if column in ("median_min", "p90_min"):
        return _min(value)
    return _int(value)


def _row_name(r: pd.Series) -> str:
    if r["level"] == "island":
        return "Martinique"
    if r["level"] == "epci":
        return f"Total {r['name']}"
    return str(r["name"])


def _coverage_table(fig: ModeFigures) -> str:
    lab = fig.label
    cols = ["population", *[f"{m}_{lab}_share" for m in SHARES], "median_min"]
    headers = ["Territoire", "Habitants", *[f"Part des {name.lower()}" for name in
                                            SHARES.values()], "Temps médian"]
    rows, attrs = [], []
    for _, r in fig.rows.iterrows():
        rows.append([("name", _row_name(r)), *[(c, _cell(c, r[c])) for c in cols]])
        cls = ' class="total"' if r["level"] != "commune" else ""
        attrs.append(f'data-level="{esc(r["level"])}" data-code="{esc(r["code"])}"{cls}')
    return documents.table(headers, rows, attrs=f'data-mode="{fig.mode}" class="couverture"',
                           row_attrs=attrs)


def _zones_table(fig: ModeFigures) -> str:
    top = fig.zones.head(ZONES_LISTED)
    headers = ["Rang", "Zone n°", "Communes", "Habitants", "65 ans et plus", "80 ans et plus",
               "Ménages pauvres", "Temps jusqu'au lieu le plus proche"]
    rows = []
    for rank, z in enumerate(top.itertuples(index=False), start=1):
        span = (f"{fmt.number(z.min_min, 0)} à {fmt.number(z.max_min, 0)} min"
                if math.isfinite(z.max_min) else f"{fmt.number(z.min_min, 0)} min ou plus")
        rows.append([("rank", str(rank)), ("zone", str(z.zone)), ("communes", z.communes),
                     ("population", _int(z.population)), ("seniors", _int(z.seniors)),
                     ("age_80p", _int(z.age_80p)),
                     ("poor_households", _int(z.poor_households)), ("time", span)])
    return documents.table(headers, rows, attrs=f'data-mode="{fig.mode}" class="zones"',
                           text_cols=(2, 7))


def _map(result: CoverageReportResult, fig: ModeFigures | None, title: str,
         stops: pd.DataFrame | None = None) -> str:
    from geo import static_map as sm

    comm = result.communes
    inside = comm["code_insee"].astype(str).isin(result.codes)
    layers = [
        sm.layer(comm[~inside], sm.Style(fill=sm.LAND_CONTEXT, stroke=sm.OUTLINE, width=0.5)),
        sm.layer(comm[inside], sm.Style(fill=sm.LAND, stroke="#5f5f5f", width=0.8),
                 "Communes du territoire" if result.request.scope else "Communes"),
    ]
    if fig is not None:
        zones = fig.zones
        zstyle = sm.Style(fill=sm.ZONE, stroke=sm.ZONE, width=0.6, opacity=0.4)
        top = zones.head(ZONES_LISTED)
        layers.append(sm.layer(zones.iloc[ZONES_LISTED:], zstyle))
        layers.append(sm.layer(top, replace(zstyle, opacity=0.6),
                               f"Zones blanches (au-delà de {fig.label} min "
                               f"{MODE_TEXT[fig.mode]}) ; numéros : rang dans le tableau",
                               numbers=range(1, len(top) + 1)))
        places = fig.result.places
        removed = places["place_id"].isin(fig.result.request.removed)
        layers.append(sm.layer(places[~removed], sm.Style(fill=sm.PLACE, stroke="#fff",
                                                          width=0.6, radius=2.6),
                               "Lieux d'aide au numérique"))
        if removed.any():
            layers.append(sm.layer(places[removed], sm.Style(fill="#fff", stroke=sm.PLACE,
                                                             width=1.2, radius=3.2),
                                   "Lieux retirés (hypothèse)"))
        added = fig.result.request.added
        if added:
            layers.append(sm.points([(lon, lat) for lon, lat, _ in added],
                                    sm.Style(fill=sm.WHATIF, stroke="#fff", width=0.8,
                                             marker="star", radius=5),
                                    "Points ajoutés (hypothèse)"))
    if stops is not None and len(stops):
        lay = sm.points(stops[["lon", "lat"]].to_numpy(),
                        sm.Style(fill=sm.STOP_FILL, stroke=sm.STOP, width=1.2,
                                 marker="diamond", radius=4.5),
                        "Arrêts proposés ; numéros : rang dans le tableau")
        layers.append(replace(lay, numbers=tuple(int(x) for x in stops["rang"])))
    extent = sm.extent_of(comm[inside].to_crs(settings_mod.CRS_MEASURE).geometry, pad=0.03)
    svg = sm.render(layers, extent, title=title, width=680, max_height=780)
    return (f'<figure class="carte-bloc">{svg}<figcaption>{sm.legend_html(layers)}'
            f"{esc(documents.OSM_CREDIT)} ; Insee ; registre Maillage.</figcaption></figure>")


def _mode_section(result: CoverageReportResult, fig: ModeFigures, number: int) -> str:
    lab = fig.label
    how = MODE_TEXT[fig.mode]
    total = fig.total()
    where = result.scope_label
    n_zones = len(fig.zones)
    shown = min(ZONES_LISTED, n_zones)
    weight = fig.result.request.weight
    ranked = ("les plus peuplées" if weight == "population" else
              f"celles qui pèsent le plus ({coverage.WEIGHTS[weight].lower()})")
    parts = [
        f'<section class="saut" data-mode="{fig.mode}">',
        f"<h2>{number}. {MODE_TITLE[fig.mode]} : qui vit à {esc(lab)} minutes ou moins "
        "d'un lieu ?</h2>",
        f"<p>{esc(where)} : <b>{esc(_pct(total[f'population_{lab}_share']))}</b> des "
        f"habitants vivent à {esc(lab)} minutes ou moins {how} d'un lieu d'aide au numérique "
        f"({esc(_int(total[f'population_{lab}']))} sur {esc(_int(total['population']))}) ; "
        f"{esc(_pct(total[f'seniors_{lab}_share']))} des 65 ans et plus, "
        f"{esc(_pct(total[f'age_80p_{lab}_share']))} des 80 ans et plus et "
        f"{esc(_pct(total[f'poor_households_{lab}_share']))} des ménages pauvres.</p>",
        f"<h3>Par commune</h3><p class=\"note\">Part de chaque public vivant à {esc(lab)} "
        f"minutes ou moins {how} d'un lieu ; temps médian des habitants jusqu'au lieu le plus "
        "proche.</p>", _coverage_table(fig),
        _map(result, fig, f"Carte {how} : {where}, zones blanches au-delà de {lab} minutes"),
        f"<h3>Zones blanches {how}</h3>",
    ]
    if n_zones:
        parts.append(
            f"<p>{esc(fmt.plural(n_zones, 'zone blanche', 'zones blanches'))} : carreaux "
            f"habités contigus à plus de {esc(lab)} minutes {how} du lieu le plus proche, "
            f"découpés aux limites des communes. Les {shown} {ranked} :</p>")
        parts.append(_zones_table(fig))
    else:
        parts.append(f"<p>Aucune zone blanche : tous les carreaux habités du territoire sont "
                     f"à {esc(lab)} minutes ou moins {how} d'un lieu.</p>")
    parts.append("</section>")
    return "".join(parts)


def _point_name(i: int, name: str) -> str:
    return name if name else f"Point ajouté n° {i}"


def _whatif_section(result: CoverageReportResult, number: int) -> str:
    req = result.request
    walk = result.modes["walk"].result
    names = dict(zip(walk.places["place_id"], walk.places["name"], strict=False))
    items = [f"<li>Ajout : {esc(_point_name(i, n))} ({esc(fmt.number(lat, 5))} N, "
             f"{esc(fmt.number(-lon, 5))} O)</li>"
             for i, (lon, lat, n) in enumerate(req.added, start=1)]
    items += [f"<li>Retrait : {esc(names.get(pid, pid))}</li>" for pid in req.removed]
    parts = [f'<section class="saut" data-section="hypothese"><h2>{number}. Hypothèse en '
             "cours</h2>", f"<ul>{''.join(items)}</ul>"]
    for mode in MODES:
        fig = result.modes[mode]
        lab = fig.label
        delta = _whatif_rows(fig)
        after = fig.result.whatif.tables
        after_rows = fig.rows[["level", "code"]].merge(after, on=["level", "code"], how="left")
        headers = ["Territoire", f"Habitants à {lab} min ou moins, aujourd'hui",
                   "avec l'hypothèse", "Nouvellement à portée", "Perdent l'accès",
                   "dont 65 ans et plus (gain)", "dont ménages pauvres (gain)"]
        rows, attrs = [], []
        for i, r in fig.rows.iterrows():
            d, a = delta.iloc[i], after_rows.iloc[i]
            if r["level"] == "commune" and not (d[f"population_gain_{lab}"] > 0
                                                or d[f"population_loss_{lab}"] > 0):
                continue  # only the communes the what-if changes, then the totals
            rows.append([("name", _row_name(r)),
                         (f"population_{lab}_share", _pct(r[f"population_{lab}_share"])),
                         (f"population_{lab}_share_after", _pct(a[f"population_{lab}_share"])),
                         (f"population_gain_{lab}", _int(d[f"population_gain_{lab}"])),
                         (f"population_loss_{lab}", _int(d[f"population_loss_{lab}"])),
                         (f"seniors_gain_{lab}", _int(d[f"seniors_gain_{lab}"])),
                         (f"poor_households_gain_{lab}", _int(d[f"poor_households_gain_{lab}"]))])
            cls = ' class="total"' if r["level"] != "commune" else ""
            attrs.append(f'data-level="{esc(r["level"])}" data-code="{esc(r["code"])}"{cls}')
        total = fig.total()
        t = delta[(delta["level"] == total["level"]) & (delta["code"] == total["code"])].iloc[0]
        cmp = fig.result.whatif.zones
        gone = int((cmp["zone"].isin(fig.zones["zone"]) & (cmp["status"] == "gone")).sum())
        parts.append(
            f"<h3>{MODE_TITLE[mode]}, {esc(lab)} minutes</h3>"
            f"<p>Gain pour {esc(result.scope_label)} : <b>{esc(_int(t[f'population_gain_{lab}']))}"
            f"</b> habitants nouvellement à {esc(lab)} minutes ou moins {MODE_TEXT[mode]}, "
            f"{esc(_int(t[f'population_loss_{lab}']))} qui perdent l'accès ; "
            f"{esc(fmt.plural(gone, 'zone blanche disparaît', 'zones blanches disparaissent'))}"
            ".</p><p class=\"note\">Les communes qui gagnent ou perdent des habitants à "
            "portée, puis les totaux :</p>")
        parts.append(documents.table(headers, rows, attrs=f'data-mode="{mode}" class="hypothese"',
                                     row_attrs=attrs))
    parts.append("</section>")
    return "".join(parts)


def _stops_section(result: CoverageReportResult, number: int) -> str:
    s = result.stops
    r = s.request
    how = MODE_TEXT[r.mode]
    what = s.weight_label.lower()
    lab = fmt.number(r.minutes, 0) if float(r.minutes).is_integer() else fmt.number(r.minutes, 1)
    share_today, share_after = s.share(s.covered_today), s.share(s.covered_with_stops)
    stops = s.stops
    rows = [[("rang", str(int(x.rang))), ("nom", x.nom), ("commune", x.commune),
             ("gain", _int(x.gain)), ("cumul", _int(x.cumul))]
            for x in stops.itertuples(index=False)]
    table = documents.table(["Rang", "Arrêt proposé", "Commune", f"Gain ({what})",
                             "Cumul"], rows, attrs='class="arrets"', text_cols=(1, 2))
    return (
        f'<section class="saut" data-section="arrets"><h2>{number}. Arrêts proposés pour '
        "l'atelier mobile</h2>"
        f"<p>{esc(fmt.plural(len(stops), 'arrêt', 'arrêts'))} à {esc(lab)} minutes {how}, "
        f"pondération : {esc(what)}. Aujourd'hui, {esc(_int(s.covered_today))} sur "
        f"{esc(_int(s.demand_total))} ({esc(fmt.percent(share_today, 1, share=True))}) sont à "
        f"{esc(lab)} minutes ou moins d'un lieu fixe ; avec ces arrêts, "
        f"<b>{esc(_int(s.covered_with_stops))}</b> "
        f"({esc(fmt.percent(share_after, 1, share=True))}), soit "
        f"{esc(_int(s.covered_with_stops - s.covered_today))} de plus.</p>"
        f'<p>Qualité de la réponse : <b data-status="{esc(s.best.status)}">'
        f"{esc(stops_status(s))}</b>.</p>"
        + table
        + _map(result, result.modes[r.mode], f"Carte des arrêts proposés : {result.scope_label}",
               stops)
        + "</section>")


def _method_section(result: CoverageReportResult, number: int) -> str:
    s = result.settings
    req = result.request
    pace = fmt.number(s.walk_kmh, 1, "km/h")
    which = ("tous les lieux du registre" if req.places == "all"
             else "les seuls points numériques labellisés")
    weight = coverage.WEIGHTS[req.weight].lower()
    stops = ""
    if result.stops is not None:
        stops = ("<li>Arrêts proposés : parmi des emplacements candidats (mairies, arrêts de "
                 "bus, bords de route près des carreaux habités), ceux qui mettent le plus de "
                 "monde à portée en plus des lieux fixes (modèle de couverture maximale), "
                 "choisis un à un puis améliorés par un solveur (HiGHS) quand il a été "
                 "lancé.</li>")
    return (
        f'<section class="saut" data-section="methode"><h2>{number}. Méthode</h2><ul>'
        "<li>Temps de trajet calculés sur le réseau routier d'OpenStreetMap : à pied à "
        f"{esc(pace)}, en voiture selon le type de route (vitesses calibrées, sans "
        "embouteillages).</li>"
        "<li>Population : carreaux de 200 m de l'Insee (Filosofi 2017). Le temps d'un carreau "
        "habité est la marche de son centre à la route la plus proche, puis le trajet jusqu'au "
        "lieu le plus proche ; les 65 ans et plus, 80 ans et plus et ménages pauvres sont les "
        "estimations carroyées de l'Insee.</li>"
        f"<li>Lieux comptés : {esc(which)} ; un lieu à plus de "
        f"{esc(fmt.number(s.max_snap_m))} m d'une route n'est pas compté.</li>"
        "<li>Zones blanches : carreaux habités voisins (8 voisins) tous au-delà du seuil, "
        f"découpés aux limites des communes, rangés par {esc(weight)}.</li>"
        f"{stops}</ul></section>")


def _credits_section(result: CoverageReportResult, number: int) -> str:
    names = list(SOURCES)
    if result.request.weight == "fragility":
        names.append("ifn")
    if result.stops is not None:
        names += ["mairies", "bus_stops"]
    return (f'<section data-section="sources"><h2>{number}. Sources et crédits</h2>'
            f'<div class="credits">{documents.sources(names)}'
            "<p>Rapport produit par Maillage à partir des données ouvertes ci-dessus et du "
            "registre des lieux de la médiation numérique en Martinique. Chiffres agrégés, "
            "aucune donnée personnelle.</p></div></section>")


def render(result: CoverageReportResult) -> str:
    """The report as one self-contained HTML document (see the module docstring)."""
    req = result.request
    where = result.scope_label
    walk, drive = result.modes["walk"], result.modes["drive"]
    wt, dt = walk.total(), drive.total()
    figures = [
        ("Habitants", _int(wt["population"])),
        (f"à {walk.label} min ou moins à pied", _pct(wt[f"population_{walk.label}_share"])),
        (f"à {drive.label} min ou moins en voiture",
         _pct(dt[f"population_{drive.label}_share"])),
        ("lieux d'aide au numérique", _int(result.n_places)),
        ("zones blanches à pied", _int(len(walk.zones))),
    ]
    boxes = "".join(f'<div data-figure="{i}"><b>{esc(v)}</b>{esc(k)}</div>'
                    for i, (k, v) in enumerate(figures))
    n_communes = fmt.plural(len(result.codes), "commune")
    if req.scope is None:
        scope_text = f"toute la Martinique ({n_communes})"
    else:
        comm = result.communes
        full = comm.loc[comm["epci_court"] == req.scope, "epci_nom"] if "epci_nom" in comm else []
        scope_text = (f"{where} ({full.iloc[0]}, {n_communes})" if len(full)
                      else f"{where} ({n_communes})")
    number = 1
    sections = []
    for mode in MODES:
        sections.append(_mode_section(result, result.modes[mode], number))
        number += 1
    if req.added or req.removed:
        sections.append(_whatif_section(result, number))
        number += 1
    if result.stops is not None:
        sections.append(_stops_section(result, number))
        number += 1
    sections.append(_method_section(result, number))
    sections.append(_credits_section(result, number + 1))
    body = (
        '<header class="entete">'
        f"<h1>Couverture de la médiation numérique — {esc(where)}</h1>"
        f"<p>Rapport du {esc(fmt.day_long(req.date))}, pour {esc(scope_text)}.</p>"
        f'<p class="note">Qui vit à {esc(walk.label)} minutes ou moins à pied, et à '
        f"{esc(drive.label)} minutes ou moins en voiture, d'un lieu où l'on est aidé avec le "
        "numérique ; où sont les zones blanches.</p></header>"
        f'<div class="chiffres">{boxes}</div>'
        + "".join(sections))
    return documents.document(f"Couverture de la médiation numérique — {where} — "
                              f"{fmt.day(req.date)}", body, _CSS)
