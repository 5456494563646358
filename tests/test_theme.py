"""ui.theme: plotly figures in French (separators, date axes) and the French locale."""

from __future__ import annotations

from datetime import datetime

import plotly.graph_objects as go

from maillage import fmt
from ui import theme


def test_french_sets_separators_and_numeric_dates_on_date_axes() -> None:
    fig = go.Figure(go.Scatter(x=[datetime(2026, 12, 11), datetime(2026, 12, 12)], y=[1, 2]))
    theme.french(fig)
    assert fig.layout.separators == "," + fmt.NNBSP
    assert fig.layout.xaxis.tickformat == "%d/%m/%Y"
    assert "%b" not in fig.layout.xaxis.hoverformat and "%a" not in fig.layout.xaxis.hoverformat


def test_french_keeps_an_axis_format_of_its_own_and_leaves_numbers_alone() -> None:
    fig = go.Figure(go.Bar(x=[datetime(2026, 1, 1, 8)], y=[1]))
    fig.update_xaxes(tickformat="%H:%M")
    theme.french(fig)
    assert (fig.layout.xaxis.tickformat, fig.layout.xaxis.hoverformat) == ("%H:%M", "%H:%M")
    numbers = theme.french(go.Figure(go.Bar(x=[1, 2], y=[3, 4])))
    assert numbers.layout.xaxis.tickformat is None


def test_plotly_locale_uses_the_french_names_of_maillage_fmt() -> None:
    f = theme.PLOTLY_CONFIG["locales"][theme.PLOTLY_CONFIG["locale"]]["format"]
    assert f["months"] == list(fmt.MONTHS) and f["shortMonths"] == list(fmt.MONTHS_SHORT)
    assert f["days"][0] == "dimanche" and f["days"][1] == "lundi"  # d3 starts on Sunday
    assert f["decimal"] == ","


def test_the_translation_script_carries_only_module_constants() -> None:
    script = theme.script()
    assert "Tout sélectionner" in script and "%(" not in script
