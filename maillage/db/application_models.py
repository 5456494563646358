"""Tables of the label applications: « Devenir point numérique », its review, its outbox.

An application (:class:`Application`) holds the place a visitor proposes as a row of the
national standard (``place_json``, validated by the registry's rules when it is filed)
and the applicant's contact. It is **not** a place of the registry: nothing of it is
public. Only when the Fédération labels it does the registry get a place (``place_pk``),
with its label history. Every step is an :class:`ApplicationEvent` (who, when, what);
every decision writes the message to the applicant in :class:`OutboxMail`, in the same
transaction (no mail server: a sender reads the messages « à envoyer »).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maillage.db.models import Base

#: Statuses of an application: filed (« candidat », as in the label workflow), waiting
#: for the applicant (« à compléter »), then decided.
APPLICATION_STATUSES = ("candidat", "à compléter", "labellisé", "refusé")
#: Statuses still in the Fédération's review queue.
PENDING_STATUSES = ("candidat", "à compléter")
#: Decisions of a review.
DECISIONS = ("labellisé", "refusé", "à compléter")
#: Statuses of a message of the outbox.
OUTBOX_STATUSES = ("à envoyer", "envoyé")


class Application(Base):
    """One application for the label, filed by anyone (no account needed)."""

    __tablename__ = "applications"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Reference given to the applicant (« CAND-7F3A9C21 »).
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    nom: Mapped[str] = mapped_column(String(200))
    commune: Mapped[str] = mapped_column(String(200))
    #: The proposed place: every standard and local field, as strings (JSON object).
    place_json: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    #: Why the place applies, in the applicant's words.
    motivation: Mapped[str | None] = mapped_column(Text)
    #: SHA-256 of the client that filed it (rate limit; the address itself is not kept).
    client_key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    filed_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    #: Codes of the label's criteria found met at the last review (JSON list).
    checklist_json: Mapped[str | None] = mapped_column(Text)
    #: The place created when it was labelled.
    place_pk: Mapped[int | None] = mapped_column(
        ForeignKey("places.pk", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", cascade="all, delete-orphan",
        order_by="ApplicationEvent.pk")


class ApplicationEvent(Base):
    """One step of an application: filed, reviewed, decided (who, when, from → to, why)."""

    __tablename__ = "application_events"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_pk: Mapped[int] = mapped_column(
        ForeignKey("applications.pk", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    checklist_json: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship(back_populates="events")


class OutboxMail(Base):
    """A message to send (no mail server in the product: a sender reads « à envoyer »)."""

    __tablename__ = "mail_outbox"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    application_pk: Mapped[int | None] = mapped_column(
        ForeignKey("applications.pk", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True, default="à envoyer")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
