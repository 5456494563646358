"""Plotly figures of the indicators (shared by the page and the yearly report).

Figures take the tables computed by :mod:`analysis.indicators`; every label that
comes from data is HTML-escaped, since plotly renders a subset of HTML in titles,
ticks and hovers.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from analysis import indicators as ind
from maillage import fmt as french

COLOR = "#0b6e4f"
TARGET_COLOR = "#c0392b"
MONTHS_FR = french.MONTHS_SHORT


def fmt(value: float | None, spec: ind.Indicator) -> str:
    """A value written the French way with its unit (« n.d. » when missing)."""
    if spec.unit == "%":
        return french.percent(value, 1)
    if spec.integer:
        return french.count(value, spec.unit)  # « 1 atelier », « 3 ateliers »
    return french.number(value, 1, spec.unit)


def month_label(ts: pd.Timestamp) -> str:
    """« mars 2026 »."""
    return f"{MONTHS_FR[ts.month - 1]} {ts.year}"


def _layout(fig, title: str, height: int = 320):
    fig.update_layout(
        title={"text": html.escape(title), "font": {"size": 15}}, height=height,
        margin={"l": 50, "r": 20, "t": 50, "b": 40}, separators=", ",
        plot_bgcolor="white", showlegend=True,
        legend={"orientation": "h", "y": -0.2}, font={"family": "sans-serif"},
    )
    fig.update_yaxes(gridcolor="#e5e5e5", rangemode="tozero")
    return fig


def trend(months: pd.DataFrame, spec: ind.Indicator, target: float | None = None,
          where: str = "Martinique"):
    """Monthly trend of one indicator: bars (flows) or a line (levels, means), and target.

    For a flow with a yearly target, the cumulative total is drawn against it; for a
    level the target is a horizontal line.
    """
    import plotly.graph_objects as go

    years = sorted({p.year for p in months["period"]})
    labels = ([MONTHS_FR[p.month - 1] for p in months["period"]] if len(years) == 1
              else [month_label(p) for p in months["period"]])
    fig = go.Figure()
    if spec.kind == "flow":
        fig.add_bar(x=labels, y=months["value"], name="Par mois", marker_color=COLOR)
        if target is not None and math.isfinite(target):
            fig.add_scatter(x=labels, y=months["value"].cumsum(), name="Cumul de l'année",
                            mode="lines+markers", line={"color": "#2c7fb8"})
    else:
        fig.add_scatter(x=labels, y=months["value"], name=spec.label, mode="lines+markers",
                        line={"color": COLOR, "width": 3})
    if target is not None and math.isfinite(target):
        fig.add_scatter(x=labels, y=[target] * len(labels), name="Objectif", mode="lines",
                        line={"color": TARGET_COLOR, "dash": "dash"})
    fig.update_yaxes(title_text=html.escape(spec.unit))
    if len(years) == 1:
        fig.update_xaxes(title_text=str(years[0]))
    return _layout(fig, f"{spec.label} — {where}")


def by_dimension(values: pd.DataFrame, spec: ind.Indicator, year: int):
    """Bars of one indicator by channel or employer type."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_bar(x=[html.escape(d) for d in values["dimension"]], y=values["value"],
                marker_color=COLOR, name=spec.label)
    fig.update_yaxes(title_text=html.escape(spec.unit))
    return _layout(fig, f"{spec.label} par {_dimension_name(spec)} — {year}", height=300)


def by_epci(values: pd.DataFrame, spec: ind.Indicator, year: int):
    """Bars of one indicator by EPCI."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_bar(x=[html.escape(e) for e in values["epci_court"]], y=values["value"],
                marker_color=COLOR, name=spec.label)
    fig.update_yaxes(title_text=html.escape(spec.unit))
    return _layout(fig, f"{spec.label} par EPCI — {year}", height=300)


def _dimension_name(spec: ind.Indicator) -> str:
    return "canal" if spec.dimensions == ind.CHANNELS else "type d'employeur"
