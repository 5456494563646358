"""Indicators of the five solutions: catalogue and pure aggregation of a long-format table.

Every figure is held as one row of a tidy table (:data:`COLUMNS`): ``indicator`` key,
``period`` (first day of the month), ``code_insee`` (``""`` when the figure is not tied
to a commune), ``place_id`` (a place or stop of the registry, or ``""``), ``dimension``
(channel, employer type, or ``""``) and ``value``. Nothing here is about a person:
only counts, means and shares.

How values add up depends on the indicator's ``kind``:

- ``"flow"``: counted over the period (workshops held, sessions): summed over months
  and over places.
- ``"stock"``: a level at a date (active mediators, labelled places): for each series
  (commune, place, dimension) the last value recorded at or before the end of the
  period, then summed over places. Monthly trends carry the last value forward.
- ``"mean"``: a mean (satisfaction rating) weighted by another indicator recorded for
  the same month, place and dimension (``weight``), 1 when absent.
- ``"ratio"``: derived, never recorded: ``100 × Σ numerator / Σ denominator``.

Totals by EPCI are the sums of their communes; the island total also counts figures
recorded without a commune (remote support, mediators).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

#: Columns of the long-format measurement table.
COLUMNS = ["indicator", "period", "code_insee", "place_id", "dimension", "value"]
#: Channels of remote support.
CHANNELS = ("chat", "vidéo", "téléphone")
#: Employer types of the mediators.
EMPLOYER_TYPES = ("banque", "assurance", "opérateur télécom", "petite entreprise",
                  "indépendant")


@dataclass(frozen=True)
class Solution:
    """One of the five solutions of the plan (``short``: a tab label that fits a phone)."""

    key: str
    title: str
    short: str


@dataclass(frozen=True)
class Indicator:
    """What is measured, how it adds up and how it is recorded.

    ``scope`` says where a figure belongs: ``"commune"`` (INSEE code required, a stop
    may be given), ``"place"`` (a place of the registry, its commune follows),
    ``"any"`` (a commune may be given, or none for the whole island).
    """

    key: str
    solution: str
    label: str
    unit: str
    kind: str = "flow"  # flow, stock, mean, ratio
    scope: str = "commune"
    dimensions: tuple[str, ...] = ()
    integer: bool = True
    maximum: float = 1e6
    minimum: float = 0.0
    weight: str = ""  # for "mean": the indicator that weighs it
    ratio: tuple[str, str] = ("", "")  # for "ratio": numerator, denominator
    computed: bool = False  # computed from another part of Maillage, never typed
    help: str = ""

    @property
    def recordable(self) -> bool:
        """True when people record it (import, form), False when it is derived."""
        return not self.computed and self.kind != "ratio"


SOLUTIONS: dict[str, Solution] = {
    s.key: s
    for s in (
        Solution("mobile", "Ateliers mobiles", "Ateliers"),
        Solution("points", "Points numériques", "Points"),
        Solution("remote", "Accompagnement à distance", "À distance"),
        Solution("mediators", "Médiateurs", "Médiateurs"),
        Solution("devices", "Équipements reconditionnés", "Matériel"),
    )
}

INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator("workshops_held", "mobile", "Ateliers tenus", "ateliers",
                  help="Ateliers de l'atelier mobile tenus, par arrêt et commune"),
        Indicator("workshop_attendance", "mobile", "Participants aux ateliers", "personnes"),
        Indicator("workshop_attendance_seniors", "mobile", "dont seniors (65 ans et plus)",
                  "personnes"),
        Indicator("places_labelled", "points", "Lieux labellisés", "lieux", kind="stock",
                  scope="place", computed=True,
                  help="Calculé depuis le registre des lieux (statut « labellisé »)"),
        Indicator("beneficiaries", "points", "Personnes accompagnées", "personnes",
                  scope="place", help="Par lieu et par mois"),
        Indicator("remote_sessions", "remote", "Séances à distance", "séances", scope="any",
                  dimensions=CHANNELS),
        Indicator("remote_responses", "remote", "Réponses au questionnaire de satisfaction",
                  "réponses", scope="any", dimensions=CHANNELS),
        Indicator("remote_satisfied", "remote", "Répondants satisfaits", "réponses",
                  scope="any", dimensions=CHANNELS),
        Indicator("remote_rating", "remote", "Note de satisfaction", "/ 5", kind="mean",
                  scope="any", dimensions=CHANNELS, integer=False, minimum=1.0, maximum=5.0,
                  weight="remote_responses", help="Note moyenne de 1 à 5"),
        Indicator("remote_satisfied_share", "remote", "Part de satisfaits", "%", kind="ratio",
                  scope="any", dimensions=CHANNELS, integer=False,
                  ratio=("remote_satisfied", "remote_responses")),
        Indicator("mediators_trained", "mediators", "Médiateurs formés", "médiateurs",
                  scope="any", dimensions=EMPLOYER_TYPES),
        Indicator("mediators_active", "mediators", "Médiateurs actifs", "médiateurs",
                  kind="stock", scope="any", dimensions=EMPLOYER_TYPES,
                  help="Nombre de médiateurs en activité à la fin du mois"),
        Indicator("mediator_accompaniments", "mediators", "Accompagnements par les médiateurs",
                  "accompagnements", scope="any", dimensions=EMPLOYER_TYPES),
        Indicator("devices_collected", "devices", "Équipements collectés", "équipements"),
        Indicator("devices_refurbished", "devices", "Équipements reconditionnés",
                  "équipements"),
        Indicator("devices_redistributed", "devices", "Équipements redistribués",
                  "équipements"),
        Indicator("households_equipped", "devices", "Nouveaux foyers équipés", "foyers"),
    )
}

#: Pairs (part, whole) that must hold ``part ≤ whole`` for the same month and place.
PARTS: tuple[tuple[str, str], ...] = (
    ("workshop_attendance_seniors", "workshop_attendance"),
    ("remote_satisfied", "remote_responses"),
)


def of_solution(solution: str) -> list[Indicator]:
    """The indicators of one solution, in catalogue order."""
    return [i for i in INDICATORS.values() if i.solution == solution]


def empty() -> pd.DataFrame:
    """An empty measurement table with the right dtypes."""
    return normalise(pd.DataFrame(columns=COLUMNS))


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """The table with typed columns: periods as month starts, keys as strings."""
    out = df.copy()
    for col in ("code_insee", "place_id", "dimension"):
        out[col] = out[col].fillna("").astype(str) if col in out else ""
    out["indicator"] = out["indicator"].astype(str)
    out["period"] = pd.to_datetime(out["period"]).dt.to_period("M").dt.to_timestamp()
    out["value"] = pd.to_numeric(out["value"]).astype(float)
    return out[COLUMNS + [c for c in out.columns if c not in COLUMNS]]


def year_window(year: int, today: date | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last month of ``year`` (the last is the current month for this year)."""
    today = today or date.today()
    end = 12 if year != today.year else today.month
    return pd.Timestamp(year, 1, 1), pd.Timestamp(year, end, 1)


def _window(df: pd.DataFrame, key: str, start: pd.Timestamp | None,
            end: pd.Timestamp | None, stock: bool) -> pd.DataFrame:
    sub = df[df["indicator"] == key]
    if end is not None:
        sub = sub[sub["period"] <= end]
    if start is not None and not stock:
        sub = sub[sub["period"] >= start]
    return sub


_SERIES = ["code_insee", "place_id", "dimension"]


def _grouped(df: pd.DataFrame, key: str, by: list[str], start: pd.Timestamp | None = None,
             end: pd.Timestamp | None = None) -> pd.Series:
    """Values of ``key`` over [start, end], one per group of ``by`` (``[]``: one total)."""
    ind = INDICATORS[key]
    if ind.kind == "ratio":
        num, den = ind.ratio
        n = _grouped(df, num, by, start, end)
        d = _grouped(df, den, by, start, end)
        n, d = n.align(d, fill_value=0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (100.0 * n / d.where(d > 0)).astype(float)
    sub = _window(df, key, start, end, stock=ind.kind == "stock")
    if ind.kind == "stock":
        # A series whose last value is older than the window still counts (a level).
        sub = sub.sort_values("period").groupby(_SERIES, as_index=False).last()
    if ind.kind == "mean":
        w = _window(df, ind.weight, start, end, stock=False)
        keys = ["period", *_SERIES]
        sub = sub.merge(w[[*keys, "value"]].rename(columns={"value": "_w"}), on=keys,
                        how="left")
        sub["_w"] = sub["_w"].fillna(1.0)
        sub["_vw"] = sub["value"] * sub["_w"]
        if not by:
            total_w = sub["_w"].sum()
            return pd.Series([sub["_vw"].sum() / total_w if total_w > 0 else np.nan])
        g = sub.groupby(by)
        return (g["_vw"].sum() / g["_w"].sum().where(lambda x: x > 0)).astype(float)
    if not by:
        return pd.Series([float(sub["value"].sum())])
    return sub.groupby(by)["value"].sum().astype(float)


def total(df: pd.DataFrame, key: str, start: pd.Timestamp | None = None,
          end: pd.Timestamp | None = None) -> float:
    """The island value of ``key`` over [start, end] (NaN when a mean has no data)."""
    return float(_grouped(df, key, [], start, end).iloc[0])


def has_data(df: pd.DataFrame, key: str) -> bool:
    """True when ``key`` (or the parts of a ratio) has at least one recorded row."""
    ind = INDICATORS[key]
    keys = set(ind.ratio) if ind.kind == "ratio" else {key}
    return bool(df["indicator"].isin(keys).any())


def with_epci(df: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """The table with an ``epci`` column (short name) from each row's commune."""
    epci = dict(zip(communes["code_insee"], communes["epci_court"], strict=True))
    out = df.copy()
    out["epci"] = out["code_insee"].map(epci).fillna("")
    return out


def by_area(df: pd.DataFrame, key: str, communes: pd.DataFrame, level: str = "commune",
            start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
            ) -> pd.DataFrame:
    """Values of ``key`` by commune or EPCI, every area listed (0 or NaN where none).

    ``level`` is ``"commune"`` (columns ``code_insee, nom, epci_court, value``) or
    ``"epci"`` (``epci_court, value``). Figures without a commune are left out here.
    """
    ind = INDICATORS[key]
    tagged = with_epci(df, communes)
    tagged = tagged[tagged["code_insee"] != ""]
    fill = np.nan if ind.kind in ("mean", "ratio") else 0.0
    if level == "commune":
        values = _grouped(tagged, key, ["code_insee"], start, end)
        out = communes[["code_insee", "nom", "epci_court"]].copy()
        out["value"] = out["code_insee"].map(values).astype(float)
    elif level == "epci":
        values = _grouped(tagged, key, ["epci"], start, end)
        out = pd.DataFrame({"epci_court": sorted(communes["epci_court"].unique())})
        out["value"] = out["epci_court"].map(values).astype(float)
    else:
        raise ValueError(f"unknown level {level!r}")
    out["value"] = out["value"].fillna(fill)
    return out.reset_index(drop=True)


def by_dimension(df: pd.DataFrame, key: str, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Values of ``key`` by dimension (channel, employer type), every value listed."""
    ind = INDICATORS[key]
    values = _grouped(df, key, ["dimension"], start, end)
    out = pd.DataFrame({"dimension": list(ind.dimensions)})
    out["value"] = out["dimension"].map(values).astype(float)
    if ind.kind not in ("mean", "ratio"):
        out["value"] = out["value"].fillna(0.0)
    return out


def monthly(df: pd.DataFrame, key: str, start: pd.Timestamp, end: pd.Timestamp,
            epci: str | None = None, communes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The trend of ``key``: one row per month of [start, end] (``period, value``).

    Flows are the month's figure, stocks the level at the end of the month, means and
    ratios the month's. With ``epci`` (and ``communes``), only that EPCI's communes.
    """
    if epci is not None:
        if communes is None:
            raise ValueError("communes are needed to filter by EPCI")
        df = with_epci(df, communes)
        df = df[df["epci"] == epci]
    months = pd.date_range(start, end, freq="MS")
    ind = INDICATORS[key]
    if ind.kind == "stock":
        sub = _window(df, key, None, end, stock=True)
        if sub.empty:
            values = pd.Series(0.0, index=months)
        else:
            wide = sub.pivot_table(index="period", columns=_SERIES, values="value",
                                   aggfunc="last")
            full = wide.reindex(wide.index.union(months)).sort_index().ffill()
            values = full.reindex(months).sum(axis=1, min_count=0).astype(float)
    else:
        values = _grouped(df, key, ["period"], start, end).reindex(months)
        if ind.kind == "flow":
            values = values.fillna(0.0)
    return pd.DataFrame({"period": months, "value": values.to_numpy(dtype=float)})


def progress(value: float, target: float | None) -> float | None:
    """``value`` as a percentage of ``target`` (None without a positive target)."""
    if target is None or not np.isfinite(target) or target <= 0 or not np.isfinite(value):
        return None
    return 100.0 * value / target


def summary(df: pd.DataFrame, targets: pd.DataFrame, year: int, scope: str = "",
            communes: pd.DataFrame | None = None, today: date | None = None) -> pd.DataFrame:
    """One row per indicator for ``year``: value, target and progress.

    ``scope`` is ``""`` (Martinique) or an EPCI short name (then ``communes`` is needed
    and only that EPCI's figures count). ``targets`` has ``indicator, year, scope, value``.
    """
    start, end = year_window(year, today)
    if scope:
        if communes is None:
            raise ValueError("communes are needed for an EPCI summary")
        tagged = with_epci(df, communes)
        df = tagged[tagged["epci"] == scope]
    goal = targets[(targets["year"] == year) & (targets["scope"] == scope)]
    goal_by_key = dict(zip(goal["indicator"], goal["value"], strict=True))
    rows = []
    for ind in INDICATORS.values():
        value = total(df, ind.key, start, end)
        target = goal_by_key.get(ind.key)
        rows.append({
            "indicator": ind.key, "solution": ind.solution, "label": ind.label,
            "unit": ind.unit, "kind": ind.kind, "value": value,
            "target": float(target) if target is not None else np.nan,
            "progress": progress(value, target), "has_data": has_data(df, ind.key),
        })
    return pd.DataFrame(rows)


def epci_table(df: pd.DataFrame, communes: pd.DataFrame, year: int,
               today: date | None = None) -> pd.DataFrame:
    """Every indicator (rows) by EPCI (columns) for ``year``, plus ``Martinique``."""
    start, end = year_window(year, today)
    table = {}
    for ind in INDICATORS.values():
        areas = by_area(df, ind.key, communes, "epci", start, end)
        row = dict(zip(areas["epci_court"], areas["value"], strict=True))
        row["Martinique"] = total(df, ind.key, start, end)
        table[ind.key] = row
    return pd.DataFrame.from_dict(table, orient="index")


# --------------------------------------------------------------------------- registry


def labelled_series(places: pd.DataFrame, events: pd.DataFrame,
                    today: date | None = None) -> pd.DataFrame:
    """The « lieux labellisés » stock as measurement rows, from the registry.

    ``places``: ``place_id, code_insee, label_status, since`` (the date the current status
    began, or any date when unknown); ``events``: ``place_id, at, to_status`` (label
    history). Each place gets a 1/0 row at every month its status changed, and a last
    row for the current month with its current status, so that the current total is
    exactly the registry's count of « labellisé » places.
    """
    today = today or date.today()
    now = pd.Timestamp(today.year, today.month, 1)
    hist: dict[str, dict[pd.Timestamp, float]] = {}
    if not events.empty:
        ev = events.sort_values("at", kind="stable")
        months = pd.to_datetime(ev["at"], utc=True).dt.tz_localize(None)
        months = months.dt.to_period("M").dt.to_timestamp()
        for pid, month, status in zip(ev["place_id"], months, ev["to_status"], strict=True):
            hist.setdefault(pid, {})[month] = float(status == "labellisé")
    rows = []
    for pid, code, status, since in zip(places["place_id"], places["code_insee"],
                                        places["label_status"], places["since"], strict=True):
        current = float(status == "labellisé")
        series = dict(hist.get(pid, {}))
        if not series and current:
            start = pd.Timestamp(since) if pd.notna(since) else now
            series[min(pd.Timestamp(start.year, start.month, 1), now)] = 1.0
        series[now] = current
        for month, value in series.items():
            rows.append({"indicator": "places_labelled", "period": month,
                         "code_insee": code or "", "place_id": pid, "dimension": "",
                         "value": value})
    if not rows:
        return empty()
    return normalise(pd.DataFrame(rows, columns=COLUMNS))
