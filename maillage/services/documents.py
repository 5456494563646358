"""Pieces shared by the documents Maillage hands over (coverage report, sheet of a place).

A document is **one self-contained HTML file**: inline CSS, drawings as inline SVG, no
script, no external file, so it opens offline, makes no network request and prints
from any browser (to paper or to PDF; :func:`pdf` makes the PDF itself). Everything
written here that comes from data or from a visitor goes through :func:`esc`; data never
goes into ``<style>`` or ``<script>`` (there is no script at all). Nothing depends on the
clock: a document's date is the one its request carries.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Iterable, Sequence

from geo import catalog

#: What every map of OpenStreetMap data must say (plain text; the address is not a link).
OSM_CREDIT = ("© les contributeurs d'OpenStreetMap (ODbL 1.0), "
              "www.openstreetmap.org/copyright")

#: Print and screen rules shared by every document (A4, readable on a phone).
BASE_CSS = """
:root{--vert:#0b6e4f;--gris:#555;--trait:#c9d3cf}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font-family:"DejaVu Sans",system-ui,sans-serif;color:#1d1d1d;line-height:1.4;
max-width:60rem;margin:0 auto;padding:1rem 1.2rem;font-size:15px}
h1{color:var(--vert);font-size:1.6rem;margin:.2rem 0 .4rem}
h2{color:var(--vert);font-size:1.25rem;border-bottom:2px solid var(--vert);
padding-bottom:.15rem;margin:1.4rem 0 .6rem;break-after:avoid}
h3{font-size:1.05rem;margin:1rem 0 .4rem;break-after:avoid}
p{margin:.35rem 0}
.note{color:var(--gris);font-size:.88em}
table{border-collapse:collapse;width:100%;margin:.5rem 0 .8rem;font-size:.86em}
th,td{border:1px solid var(--trait);padding:.22rem .4rem;text-align:right;vertical-align:top}
th:first-child,td:first-child,td.texte,th.texte{text-align:left}
th{background:#eef4f1;font-weight:600}
tr.total td{font-weight:700;background:#f6f8f7}
thead{display:table-header-group}
tr{break-inside:avoid}
figure{margin:.6rem 0;break-inside:avoid}
figcaption{font-size:.85em;color:var(--gris)}
svg.carte{width:100%;height:auto;display:block;border:1px solid var(--trait)}
ul.legende{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.2rem 1rem;
font-size:.85em}
ul.legende li{display:inline-flex;align-items:center;gap:.3rem}
.chiffres{display:grid;grid-template-columns:repeat(auto-fit,minmax(7.5rem,1fr));gap:.5rem;
margin:.6rem 0}
.chiffres div{border:1px solid var(--trait);border-radius:.3rem;padding:.35rem .6rem}
.chiffres b{display:block;font-size:1.3em;color:var(--vert)}
.credits{font-size:.8em;color:var(--gris)}
@page{size:A4;margin:14mm 13mm 15mm}
@media print{
body{max-width:none;padding:0;font-size:10pt}
h1{font-size:17pt} h2{font-size:13pt}
.saut{break-before:page}
a{color:inherit;text-decoration:none}
}
"""


def esc(value: object) -> str:
    """``value`` as HTML text or attribute value: ``""`` for None/NaN, else escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def document(title: str, body: str, css: str = "") -> str:
    """A whole HTML document (French, UTF-8) around ``body`` (already escaped HTML)."""
    return ("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{BASE_CSS}{css}</style></head>"
            f"<body>{body}</body></html>\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[tuple[str, str]]], *,
          attrs: str = "", row_attrs: Sequence[str] | None = None,
          text_cols: Sequence[int] = (0,)) -> str:
    """An HTML table: ``headers`` (escaped), rows of ``(data-col, text)`` cells (escaped).

    ``attrs`` is added to ``<table>`` and ``row_attrs[i]`` to the ``i``-th ``<tr>``
    (both written by the caller from escaped values).
    """
    texte = ' class="texte"'
    head = "".join(f'<th scope="col"{texte if i in text_cols else ""}>{esc(h)}</th>'
                   for i, h in enumerate(headers))
    body = []
    for i, row in enumerate(rows):
        extra = f" {row_attrs[i]}" if row_attrs and row_attrs[i] else ""
        cells = "".join(
            f'<td data-col="{esc(col)}"{texte if j in text_cols else ""}>'
            f"{esc(text)}</td>" for j, (col, text) in enumerate(row))
        body.append(f"<tr{extra}>{cells}</tr>")
    return (f"<table{' ' + attrs if attrs else ''}><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def sources(names: Iterable[str], *, osm: bool = True) -> str:
    """The datasets ``names`` of :mod:`geo.catalog` as an HTML list: title, attribution,
    vintage and licence (plain text), OpenStreetMap first."""
    items = [f"<li>{esc(OSM_CREDIT)}</li>"] if osm else []
    seen: set[str] = set()
    for name in names:
        ds = catalog.get(name)
        if ds.name in seen:
            continue
        seen.add(ds.name)
        items.append(f"<li><b>{esc(ds.title)}</b> — {esc(ds.attribution)} — millésime : "
                     f"{esc(ds.vintage)} — licence : {esc(ds.licence)}</li>")
    return f"<ul>{''.join(items)}</ul>"


def sources_inline(names: Iterable[str], *, osm: bool = True) -> str:
    """The same credits as :func:`sources` on one paragraph (for a one-page document)."""
    parts = [OSM_CREDIT] if osm else []
    seen: set[str] = set()
    for name in names:
        ds = catalog.get(name)
        if ds.name not in seen:
            seen.add(ds.name)
            parts.append(f"{ds.attribution} ({ds.vintage}, {ds.licence})")
    return f"<p>Sources : {esc(' ; '.join(parts))}.</p>"


# ----------------------------------------------------------------------------- PDF


def _no_fetch(url: str, *args, **kwargs) -> dict:
    """WeasyPrint's resource fetcher for the documents: nothing is ever fetched (they are
    self-contained; a URL in them can only come from data, and stays unread)."""
    raise ValueError(f"ressource externe refusée : {url[:80]}")


@functools.cache
def pdf_available() -> bool:
    """Whether :func:`pdf` can work here: WeasyPrint installed and Pango on the system
    (looked up, not imported: a page asks this before anyone wants a PDF)."""
    import ctypes.util
    import importlib.util

    return (importlib.util.find_spec("weasyprint") is not None
            and ctypes.util.find_library("pango-1.0") is not None)


def pdf(document: str) -> bytes:
    """The same document as PDF, laid out by WeasyPrint from its own print rules (A4,
    margins and page breaks of :data:`BASE_CSS`), with no network access.

    WeasyPrint (a well-kept HTML/CSS-to-PDF library on PyPI) draws with Pango, a
    system library Debian installs with Chromium; without it the error says so in French.
    """
    from maillage.errors import MaillageError

    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # Pango missing: OSError from cffi
        raise MaillageError("PDF indisponible sur cette machine (bibliothèque WeasyPrint ou "
                            f"Pango absente : {exc}). Le fichier HTML s'imprime en PDF depuis "
                            "un navigateur.") from exc
    return HTML(string=document, url_fetcher=_no_fetch).write_pdf()
