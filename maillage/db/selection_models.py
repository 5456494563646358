"""Table of the stop selections: stops chosen on « Arrêts proposés », offered to the tours.

A selection keeps the parameters of the proposal it came from (``params_json``: mode,
minutes, weights, scope…) and its stops (``stops_json``: a list of ``{nom, commune,
lon, lat, frequence, duree_min, fenetres, source, id}``), both as JSON text checked by
:mod:`maillage.selection_store` on the way in and on the way out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from maillage.db.models import Base


class StopSelection(Base):
    """A named list of stops saved by a planner (Fédération, EPCI or admin)."""

    __tablename__ = "stop_selections"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    params_json: Mapped[str] = mapped_column(Text)
    stops_json: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
