"""Small display pieces: legends, source credits, French number formatting."""

from __future__ import annotations

import html
from collections.abc import Iterable

import streamlit as st

from geo import catalog
from geo.choropleth import Legend

OSM_CREDIT = "© les contributeurs d'OpenStreetMap (ODbL)"


def legend(leg: Legend) -> None:
    """Draw a legend (escaped) under a map."""
    rows = "".join(
        f'<span style="display:inline-flex;align-items:center;margin:0 .8em .3em 0">'
        f'<span style="width:1.1em;height:1.1em;background:{color};border:1px solid #666;'
        f'display:inline-block;margin-right:.35em"></span>{html.escape(label)}</span>'
        for color, label in zip(leg.colors, leg.labels, strict=True)
    )
    st.markdown(
        f'<div class="maillage-legend" role="list" aria-label="Légende">'
        f"<strong>{html.escape(leg.title)}</strong><br>{rows}</div>",
        unsafe_allow_html=True,
    )


def credits(names: Iterable[str], *, osm: bool = True) -> None:
    """List the sources shown on the page with their attribution, licence and vintage."""
    lines = [f"- {OSM_CREDIT}"] if osm else []
    seen: set[str] = set()
    for name in names:
        ds = catalog.get(name)
        if ds.attribution in seen:
            continue
        seen.add(ds.attribution)
        lines.append(f"- {ds.attribution} — {ds.vintage} — licence : {ds.licence}")
    with st.expander("Sources et crédits", expanded=False):
        st.markdown("\n".join(lines))


def number(value: float, decimals: int = 0) -> str:
    """French formatting: narrow no-break space for thousands, comma for decimals."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")
