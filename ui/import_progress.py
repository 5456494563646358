"""Progress bar of the CSV imports on the pages (places, indicators, tour stops).

The imports read their file through :mod:`maillage.bounded_csv`, which calls
``progress(done_rows, bytes_read, total_bytes)`` every thousand rows; this turns it into
an ``st.progress`` bar: the reading fills the first half, then the bar says the rows
are being checked and saved (all or nothing)::

    with import_bar() as progress:
        store.import_csv(actor, upload, upload.name, progress=progress)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from maillage.bounded_csv import fmt_int

#: Share of the bar the reading fills (checking and saving take the rest).
READ_SHARE = 0.5


@contextmanager
def import_bar(what: str = "le fichier") -> Iterator[Callable[[int, int, int], None]]:
    """An ``st.progress`` bar fed by the import's progress callback, removed at the end."""
    bar = st.progress(0.0, text=f"Lecture de {what}…")

    def update(rows: int, done: int, total: int) -> None:
        if total and done >= total:
            bar.progress(READ_SHARE, text=f"{fmt_int(rows)} lignes lues : vérification et "
                                          "enregistrement (tout ou rien)…")
            return
        share = min(done / total, 1.0) if total else 0.0
        bar.progress(READ_SHARE * share, text=f"Lecture de {what} : {fmt_int(rows)} lignes "
                                              f"({round(100 * share)} %)")

    try:
        yield update
    finally:
        bar.empty()
