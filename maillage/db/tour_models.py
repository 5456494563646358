"""Tables of the van tours: vans, plans, tours (a van's day) and visits with their attendance.

Mutable tables carry a ``version`` column for optimistic locking. ``tour_visits``
holds what the indicators (#9) read: ``visit_date``, ``place_id`` (the stop's
key), ``code_insee``, ``attendance``, ``attendance_seniors`` and ``status``
(``prévue``, ``réalisée``, ``annulée``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.db.models import Base

#: Statuses of a plan.
PLAN_STATUSES = ("brouillon", "publié", "remplacé")
#: Statuses of a visit.
VISIT_STATUSES = ("prévue", "réalisée", "annulée")


class TourVan(Base):
    """A van of the fleet: depot and usual working hours (seconds since midnight)."""

    __tablename__ = "tour_vans"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    depot_lon: Mapped[float] = mapped_column(Float)
    depot_lat: Mapped[float] = mapped_column(Float)
    day_start: Mapped[int] = mapped_column(Integer)
    day_end: Mapped[int] = mapped_column(Integer)
    lunch_earliest: Mapped[int] = mapped_column(Integer)
    lunch_latest: Mapped[int] = mapped_column(Integer)
    lunch_s: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(100))


class TourPlan(Base):
    """A plan of the period: its inputs (JSON), summary, unserved visits and status."""

    __tablename__ = "tour_plans"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="brouillon", index=True)
    problem_json: Mapped[str] = mapped_column(Text)
    summary_json: Mapped[str] = mapped_column(Text)
    unserved_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)

    tours: Mapped[list[TourDay]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="TourDay.pk")


class TourDay(Base):
    """One van's day in a plan (times in seconds since midnight, local time)."""

    __tablename__ = "tours"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_pk: Mapped[int] = mapped_column(ForeignKey("tour_plans.pk", ondelete="CASCADE"),
                                         index=True)
    van_pk: Mapped[int] = mapped_column(ForeignKey("tour_vans.pk"))
    van_index: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    leave_s: Mapped[int] = mapped_column(Integer)
    back_s: Mapped[int] = mapped_column(Integer)
    lunch_s: Mapped[int | None] = mapped_column(Integer)
    drive_s: Mapped[float] = mapped_column(Float)

    plan: Mapped[TourPlan] = relationship(back_populates="tours")
    visits: Mapped[list[TourVisit]] = relationship(
        back_populates="tour", cascade="all, delete-orphan", order_by="TourVisit.seq")


class TourVisit(Base):
    """One workshop of a tour, and afterwards its attendance."""

    __tablename__ = "tour_visits"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    tour_pk: Mapped[int] = mapped_column(ForeignKey("tours.pk", ondelete="CASCADE"), index=True)
    plan_pk: Mapped[int] = mapped_column(ForeignKey("tour_plans.pk", ondelete="CASCADE"),
                                         index=True)
    seq: Mapped[int] = mapped_column(Integer)
    stop_index: Mapped[int] = mapped_column(Integer)
    occurrence: Mapped[int] = mapped_column(Integer)
    place_id: Mapped[str] = mapped_column(String(200), index=True)
    stop_name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    code_insee: Mapped[str | None] = mapped_column(String(5))
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    arrival_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="prévue")
    attendance: Mapped[int | None] = mapped_column(Integer)
    attendance_seniors: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)

    tour: Mapped[TourDay] = relationship(back_populates="visits")
