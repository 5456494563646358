"""Tables of the browser sessions of signed-in accounts (see :mod:`maillage.sessions`).

Neither table holds a usable secret: a session row keeps the SHA-256 of the random token
that the browser holds in its HttpOnly cookie, a hand-off row the SHA-256 of its one-use
token and of the binding cookie of the browser it was made for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from maillage.db.models import Base


class WebSession(Base):
    """One sign-in, valid until ``expires_at`` (absolute) unless revoked (row deleted).

    ``user_version`` is the account's ``version`` at sign-in: a new password (which bumps
    it) ends every session of the account; the account's role and ``active`` flag are read
    from ``users`` at each use, never copied here.
    """

    __tablename__ = "web_sessions"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.pk", ondelete="CASCADE"),
                                         index=True)
    user_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SessionHandoff(Base):
    """A one-use, short-lived ticket that lets the browser's next request through the
    cookie routes: ``connexion`` (set the cookie of ``session_pk``) or ``deconnexion``
    (revoke the cookie's session and clear it). Deleted as soon as it is presented."""

    __tablename__ = "session_handoffs"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "connexion" or "deconnexion"
    session_pk: Mapped[int | None] = mapped_column(
        ForeignKey("web_sessions.pk", ondelete="CASCADE"), index=True)
    binding_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
