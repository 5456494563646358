"""Tables of the indicators: measurements in long format and targets.

Aggregated figures only: a measurement is a count, a mean or a level for one month,
one commune or place, and one dimension (channel, employer type), never a person.
Key columns hold ``""`` rather than NULL so that the unique constraints hold on every
database. Both tables carry a ``version`` column for optimistic locking.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maillage.db.models import Base


class Measurement(Base):
    """One figure of one indicator for one month, commune or place, and dimension."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        UniqueConstraint("indicator", "period", "code_insee", "place_id", "dimension",
                         name="uq_indicator_values_key"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)  # first day of the month
    code_insee: Mapped[str] = mapped_column(String(5), default="")
    place_id: Mapped[str] = mapped_column(String(200), default="")
    dimension: Mapped[str] = mapped_column(String(40), default="")
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Target(Base):
    """The Fédération's target of one indicator for one year (Martinique or one EPCI)."""

    __tablename__ = "indicator_targets"
    __table_args__ = (
        UniqueConstraint("indicator", "year", "scope", name="uq_indicator_targets_key"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(40), default="")  # "" = Martinique, or EPCI
    value: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
