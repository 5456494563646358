"""Small display pieces: legends, source credits, French number formatting."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable

import streamlit as st

from geo import catalog, mapsafe
from geo.choropleth import Legend
from maillage.fmt import number  # noqa: F401  (pages call widgets.number)

OSM_CREDIT = "© les contributeurs d'OpenStreetMap (ODbL)"


def _swatch_list(title: str, items: Iterable[tuple[str, str]], *, line: bool = False) -> str:
    """A titled list of colour swatches as HTML; every label escaped (no role misuse)."""
    shape = "width:1.6em;height:.4em" if line else "width:1.1em;height:1.1em;border:1px solid #666"
    rows = "".join(
        f'<li style="display:inline-flex;align-items:center;margin:0 .8em .3em 0">'
        f'<span aria-hidden="true" style="{shape};background:{html.escape(colour)};'
        f'display:inline-block;margin-right:.35em"></span>{md_html(label)}</li>'
        for colour, label in items
    )
    head = f"<strong>{md_html(title)}</strong>" if title else ""
    return (f'<div class="maillage-legend">{head}'
            f'<ul style="list-style:none;padding:0;margin:.2em 0">{rows}</ul></div>')


def legend(leg: Legend) -> None:
    """Draw a legend (escaped) under a map."""
    st.markdown(_swatch_list(leg.title, zip(leg.colors, leg.labels, strict=True)),
                unsafe_allow_html=True)


def swatches(items: Iterable[tuple[str, str]], title: str = "") -> None:
    """Draw line swatches ``(colour, label)`` (e.g. one per tour) under a map."""
    st.markdown(_swatch_list(title, items, line=True), unsafe_allow_html=True)


def md_html(value: object) -> str:
    """Text inside an HTML block of ``st.markdown``: HTML-escaped, on one line.

    Markdown does not parse the inside of an HTML block, which ends at a blank line:
    line breaks become spaces so the text can never end the block and turn into
    markdown (links, images, maths).
    """
    text = " ".join(mapsafe.plain(value).split())
    return html.escape(text, quote=True)


#: ASCII punctuation that markdown (and Streamlit's extensions: ``$`` maths,
#: ``:emoji:``, ``:red[…]``) may read as syntax; a backslash makes each literal.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~$:&"})


def md(value: object) -> str:
    """Text for ``st.markdown``/captions shown literally: no image, maths, HTML or link syntax.

    One thing escaping cannot stop: GitHub markdown turns a bare ``http(s)://…``,
    ``www.…`` or e-mail address of the *text* into a link (the text itself is unchanged,
    the target is that http(s)/mailto address, never ``javascript:``). Where even that
    is unwanted, put the text in an HTML block with :func:`md_html` instead.
    """
    text = mapsafe.plain(value).replace("\r", " ").replace("\n", " ")
    return text.translate(_MD_SPECIAL)


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


def error(message: object) -> None:
    """``st.error`` of a message that may quote user text (shown literally, no markdown)."""
    st.error(md(message))


def warning(message: object) -> None:
    """``st.warning`` of a message that may quote user text (shown literally)."""
    st.warning(md(message))


def pdf_button(where, build_html: Callable[[], bytes], html_name: str, *, key: str) -> None:
    """« PDF » next to a document's HTML button: the same document laid out as A4 PDF by
    :func:`maillage.services.documents.pdf`, built only when clicked. Where WeasyPrint
    cannot run (no Pango), a caption says how to get a PDF from the HTML instead."""
    from maillage.services import documents

    if not documents.pdf_available():
        where.caption("PDF : ouvrez le fichier HTML dans un navigateur, puis Imprimer → "
                      "« Enregistrer au format PDF ».")
        return

    def build() -> bytes:
        return documents.pdf(build_html().decode("utf-8"))

    where.download_button("PDF (A4)", build, file_name=html_name.rsplit(".", 1)[0] + ".pdf",
                          mime="application/pdf", key=key, on_click="ignore",
                          icon=":material/picture_as_pdf:",
                          help="Le même document, mis en page A4 (WeasyPrint).")
