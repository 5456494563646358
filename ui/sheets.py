"""The « Fiche imprimable » download buttons of the pages (Trouver, Points numériques).

A :class:`maillage.services.sheet.SheetService` on the Finder the Trouver page already
shares for the whole process (``ui.trouver.finder``) and the commune outlines: the file
is the one ``maillage report place`` writes for the same place, start point and date.
The sheet is built only when the button is clicked (Streamlit's download thread), so
showing the button costs nothing.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from geo import fetch
from maillage import settings
from maillage.errors import MaillageError
from maillage.services.sheet import SheetRequest, SheetService, file_name
from ui import data, widgets
from ui.trouver import finder


def service() -> SheetService:
    """A sheet service on this process's shared Finder and the commune outlines (a thin
    wrapper: nothing of its own to cache)."""
    return SheetService(finder(), data.communes(), settings.get())


def sheet_bytes(svc: SheetService, request: SheetRequest) -> bytes:
    """The sheet of ``request`` as the file's bytes (what the command line writes)."""
    return svc.run(request).html.encode("utf-8")


def sheet_button(place_id: str, origin: tuple[float, float, str] | None = None, *,
                 key: str | None = None, label: str = "Fiche imprimable") -> None:
    """A download button for the printable sheet of ``place_id``.

    ``origin`` is the searched address (lon, lat, label): the sheet then gives the
    walking and driving times from it. A place the Finder does not know (no position, or
    not a fixed place) gets a short note instead of a button.
    """
    try:
        svc = service()
    except MaillageError as exc:
        widgets.error(exc)
        return
    if place_id not in set(svc.finder.places["id"]):
        st.caption("Fiche imprimable indisponible : ce lieu n'a pas de position sur la carte.")
        return
    point = None if origin is None else (float(origin[0]), float(origin[1]))
    req = SheetRequest(place_id, point, "" if origin is None else str(origin[2]), date.today())
    try:
        req = req.validated()
    except MaillageError as exc:
        widgets.error(exc)
        return

    def build() -> bytes:
        with fetch.page_mode():
            return sheet_bytes(svc, req)

    html_col, pdf_col = st.columns(2)
    html_col.download_button(
        label, build, file_name=file_name(place_id), mime="text/html",
        key=key or f"fiche-{place_id}", on_click="ignore", icon=":material/print:",
        help="Une page à imprimer (A4) ou à garder sur le téléphone : adresse, horaires, "
             "plan, services, QR code vers la page du lieu.")
    widgets.pdf_button(pdf_col, build, file_name(place_id),
                       key=f"{key or f'fiche-{place_id}'}-pdf")
