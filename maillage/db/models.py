"""Tables of the store: places of the registry, their label history, accounts and their
sign-in throttles, import reports.

A place holds the 32 fields of the national standard "lieux de médiation numérique"
v1.0.2 as the standard writes them (multi-valued fields joined with ``|``), so that
export and import are lossless, plus the Fédération's local fields. Every mutable
table carries a ``version`` column for optimistic locking.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Label statuses of the Fédération's "points numériques" workflow (None: not in it).
LABEL_STATUSES = ("candidat", "labellisé", "suspendu", "retiré")
#: What a place is for the Fédération.
KINDS = ("lieu fixe", "arrêt de l'atelier mobile")
#: Who hosts the place.
HOST_TYPES = (
    "association", "commerce", "café", "salle de sport", "tiers-lieu",
    "entreprise", "service public", "autre",
)
#: Where a place's coordinates come from (None: as given by its source or file).
COORD_SOURCES = ("saisie", "clic sur la carte", "adresse géocodée")
#: The sources of :data:`COORD_SOURCES` that only approximate the place's position.
APPROXIMATE_SOURCES = ("clic sur la carte", "adresse géocodée")
#: Roles of accounts.
from maillage.roles import ROLES  # noqa: E402,F401  (re-exported)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Place(Base):
    """One place of the registry: the national standard plus local fields."""

    __tablename__ = "places"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    # --- the 32 fields of the national standard, in schema order ---
    id: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    pivot: Mapped[str] = mapped_column(String(14))
    nom: Mapped[str] = mapped_column(Text)
    commune: Mapped[str] = mapped_column(String(200))
    code_postal: Mapped[str] = mapped_column(String(5))
    code_insee: Mapped[str | None] = mapped_column(String(5), index=True)
    adresse: Mapped[str] = mapped_column(Text)
    complement_adresse: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    typologie: Mapped[str | None] = mapped_column(Text)
    telephone: Mapped[str | None] = mapped_column(String(20))
    courriels: Mapped[str | None] = mapped_column(Text)
    site_web: Mapped[str | None] = mapped_column(Text)
    horaires: Mapped[str | None] = mapped_column(Text)
    presentation_resume: Mapped[str | None] = mapped_column(Text)
    presentation_detail: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    itinerance: Mapped[str | None] = mapped_column(String(40))
    structure_parente: Mapped[str | None] = mapped_column(Text)
    date_maj: Mapped[date] = mapped_column(Date)
    services: Mapped[str | None] = mapped_column(Text)
    publics_specifiquement_adresses: Mapped[str | None] = mapped_column(Text)
    prise_en_charge_specifique: Mapped[str | None] = mapped_column(Text)
    frais_a_charge: Mapped[str | None] = mapped_column(Text)
    dispositif_programmes_nationaux: Mapped[str | None] = mapped_column(Text)
    formations_labels: Mapped[str | None] = mapped_column(Text)
    autres_formations_labels: Mapped[str | None] = mapped_column(Text)
    modalites_acces: Mapped[str | None] = mapped_column(Text)
    modalites_accompagnement: Mapped[str | None] = mapped_column(Text)
    fiche_acces_libre: Mapped[str | None] = mapped_column(Text)
    prise_rdv: Mapped[str | None] = mapped_column(Text)
    # --- local fields ---
    label_status: Mapped[str | None] = mapped_column(String(20), index=True)
    label_since: Mapped[date | None] = mapped_column(Date)
    labelled_on: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(40), default="lieu fixe")
    host_type: Mapped[str] = mapped_column(String(40), default="autre")
    possible_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)  # internal, never public
    origin: Mapped[str | None] = mapped_column(Text)  # source records merged into this place
    coord_source: Mapped[str | None] = mapped_column(String(40))  # one of COORD_SOURCES
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(100))

    label_events: Mapped[list[LabelEvent]] = relationship(
        back_populates="place", cascade="all, delete-orphan", order_by="LabelEvent.pk"
    )


class LabelEvent(Base):
    """One change of a place's label status: who, when, from → to, why."""

    __tablename__ = "label_events"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    place_pk: Mapped[int] = mapped_column(
        ForeignKey("places.pk", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)

    place: Mapped[Place] = relationship(back_populates="label_events")


class User(Base):
    """An account allowed to edit; the public never signs in."""

    __tablename__ = "users"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class SigninThrottle(Base):
    """Recent failed sign-ins of one account name or one client (see :mod:`maillage.auth`).

    Rows exist for unknown names exactly as for real accounts, so that throttling never
    tells them apart; ``key`` is a SHA-256 of the scope and the name or client address.
    """

    __tablename__ = "signin_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # "account" or "client"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportRun(Base):
    """One import into the registry (initial load or CSV) and its counts."""

    __tablename__ = "import_runs"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "initial" or "csv"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    n_input: Mapped[int] = mapped_column(Integer, default=0)
    n_imported: Mapped[int] = mapped_column(Integer, default=0)
    n_updated: Mapped[int] = mapped_column(Integer, default=0)
    n_merged: Mapped[int] = mapped_column(Integer, default=0)
    n_rejected: Mapped[int] = mapped_column(Integer, default=0)
    n_corrected: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str | None] = mapped_column(Text)

    issues: Mapped[list[ImportIssue]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ImportIssue.pk"
    )


class ImportIssue(Base):
    """One rejected, corrected or merged record of an import, field by field."""

    __tablename__ = "import_issues"
    __table_args__ = (UniqueConstraint("run_pk", "seq"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_pk: Mapped[int] = mapped_column(
        ForeignKey("import_runs.pk", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # rejeté, corrigé, fusionné, averti
    source: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(60))
    original: Mapped[str | None] = mapped_column(Text)
    kept: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)

    run: Mapped[ImportRun] = relationship(back_populates="issues")
