"""The yearly report of the indicators: one self-contained HTML file with its charts.

plotly.js is embedded once (``include_plotlyjs=True``), so the file opens offline and
loads nothing from a CDN. Every text taken from data is escaped.
"""

from __future__ import annotations

import html
import math
from datetime import date, datetime

import pandas as pd

from analysis import indicators as ind
from maillage import fmt
from maillage.indicators import charts

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{color:#0b6e4f} h2{border-bottom:2px solid #0b6e4f;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #ccc;padding:.35em .6em;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#f0f5f3}
.note{color:#555;font-size:.9em} .charts{display:grid;grid-template-columns:1fr 1fr;gap:1em}
@media print{.charts{grid-template-columns:1fr}}
"""


def _progress(p: float | None) -> str:
    return fmt.percent(p, 0, missing="—")


def _summary_table(rows: pd.DataFrame) -> str:
    head = ("<tr><th>Indicateur</th><th>Valeur</th><th>Objectif</th>"
            "<th>Avancement</th></tr>")
    body = []
    for r in rows.itertuples(index=False):
        spec = ind.INDICATORS[r.indicator]
        target = charts.fmt(r.target, spec) if math.isfinite(r.target) else "—"
        value = charts.fmt(r.value, spec) if r.has_data else "aucune donnée"
        body.append(f"<tr><td>{html.escape(spec.label)}</td><td>{html.escape(value)}</td>"
                    f"<td>{html.escape(target)}</td><td>{_progress(r.progress)}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _epci_table(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    head = "<tr><th>Indicateur</th>" + "".join(f"<th>{html.escape(str(c))}</th>"
                                                for c in cols) + "</tr>"
    body = []
    for key, row in table.iterrows():
        spec = ind.INDICATORS[key]
        cells = "".join(f"<td>{html.escape(charts.fmt(float(row[c]), spec))}</td>"
                        for c in cols)
        body.append(f"<tr><td>{html.escape(spec.label)}</td>{cells}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def build(df: pd.DataFrame, targets: pd.DataFrame, communes: pd.DataFrame, year: int,
          today: date | None = None, generated: datetime | None = None) -> str:
    """The HTML report of ``year``: per solution, figures vs targets and monthly charts."""
    today = today or date.today()
    start, end = ind.year_window(year, today)
    summary = ind.summary(df, targets, year, today=today)
    first = True
    parts: list[str] = []

    def embed(fig) -> str:
        nonlocal first
        out = fig.to_html(full_html=False, include_plotlyjs=first,
                          config={"displaylogo": False, "responsive": True})
        first = False
        return out

    for sol in ind.SOLUTIONS.values():
        rows = summary[summary["solution"] == sol.key]
        parts.append(f"<h2>{html.escape(sol.title)}</h2>{_summary_table(rows)}")
        figs = []
        for spec in ind.of_solution(sol.key):
            if not ind.has_data(df, spec.key):
                continue
            goal = rows.loc[rows["indicator"] == spec.key, "target"].iloc[0]
            months = ind.monthly(df, spec.key, start, end)
            figs.append(embed(charts.trend(months, spec, goal if math.isfinite(goal)
                                           else None)))
        if figs:
            parts.append('<div class="charts">' + "".join(f"<div>{f}</div>" for f in figs)
                         + "</div>")
        else:
            parts.append('<p class="note">Aucun chiffre enregistré pour cette solution '
                         f"en {year}.</p>")
    stamp = (generated or datetime.now()).strftime("%d/%m/%Y %H:%M")
    period = f"janvier – {charts.MONTHS_FR[end.month - 1]} {year}"
    return (
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
        f"<title>Maillage — indicateurs {year}</title><style>{_CSS}</style></head><body>"
        f"<h1>Indicateurs de la médiation numérique en Martinique — {year}</h1>"
        f'<p class="note">Période : {html.escape(period)}. Rapport produit par Maillage le '
        f"{html.escape(stamp)}. Chiffres agrégés (aucune donnée personnelle). Les lieux "
        "labellisés viennent du registre des lieux ; les cumuls par EPCI sont les sommes de "
        "leurs communes, le total de la Martinique compte aussi les chiffres saisis sans "
        "commune.</p>"
        + "".join(parts)
        + "<h2>Par EPCI</h2>"
        + _epci_table(ind.epci_table(df, communes, year, today))
        + "</body></html>"
    )
