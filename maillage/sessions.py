"""Browser sessions of signed-in accounts: a row in the store, a random token in a cookie.

No Streamlit here: ``ui/signin.py`` (the sidebar box) and ``ui/session_routes.py`` (the two
HTTP routes that set and clear the cookie) call these functions.

- A successful :func:`maillage.auth.sign_in` is followed by :func:`start`: a random token
  (``secrets.token_urlsafe(32)``) whose SHA-256 only is stored in ``web_sessions``, with
  the account and an **absolute** expiry (``Settings.session_hours``, 12 h by default,
  never extended by use).
- The token reaches the browser only as an HttpOnly cookie, set by an HTTP route (Python
  code of a Streamlit run cannot set headers). The page hands the browser over to that
  route with a one-use ticket (:func:`signin_handoff`, 60 s, stored hashed in
  ``session_handoffs``) bound to the browser's own *binding* cookie: a ticket taken from
  one browser is refused in any other, so nobody can sign someone else in to their own
  account with a forged link (login CSRF). The route (:func:`consume_signin`) deletes the
  ticket, gives the session a new token (the one the page knew is dead from then on) and
  sets it as the cookie.
- Each run of a page resolves the cookie again (:func:`resolve`): the account is read from
  ``users`` each time, so a disabled or removed account, or one whose password changed
  (its ``version``), signs out at once, and a changed role applies at the next click.
- Sign-out deletes the row (:func:`revoke`); its route clears the cookie with a one-use
  ticket too (:func:`signout_handoff`, :func:`consume_signout`), so a forged link cannot
  sign anyone out either.

Expired rows of both tables are deleted by every write of this module (no scheduler).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from maillage import db
from maillage.auth import SIGNIN_REFUSED, Actor, AuthError
from maillage.db.models import User
from maillage.db.session_models import SessionHandoff, WebSession
from maillage.settings import Settings
from maillage.settings import get as get_settings

#: Random bytes of every token (sessions and tickets): 256 bits, URL-safe base64.
TOKEN_BYTES = 32
#: Longest accepted token (anything longer is not one of ours, and is not even hashed).
MAX_TOKEN_CHARS = 128
#: Life of a hand-off ticket, in seconds: the browser uses it within a second.
HANDOFF_S = 60
#: Cookie of the session token, and the one that binds a ticket to its browser. With an
#: ``https`` public address both get the ``__Host-`` prefix (Secure, Path=/, no Domain:
#: no other site or sub-domain can set them).
COOKIE = "maillage_session"
BINDING_COOKIE = "maillage_navigateur"
SIGNIN, SIGNOUT = "connexion", "deconnexion"
#: Longest path a route may send the browser back to.
MAX_NEXT_CHARS = 2000


@dataclass(frozen=True)
class Started:
    """A session token to set as the cookie, and when it ends."""

    token: str
    expires_at: datetime

    def max_age(self, now: datetime | None = None) -> int:
        """Seconds the cookie may live (the session's remaining life, at least 0)."""
        return max(0, int((self.expires_at - (now or _now())).total_seconds()))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite: naive


def _settings(s: Settings | None) -> Settings:
    return s or get_settings()


def secure_cookies(s: Settings | None = None) -> bool:
    """Whether the cookies carry ``Secure`` (the public address is ``https``)."""
    return _settings(s).public_url.lower().startswith("https://")


def cookie_name(s: Settings | None = None) -> str:
    """Name of the session cookie (``__Host-`` prefixed over https)."""
    return f"__Host-{COOKIE}" if secure_cookies(s) else COOKIE


def binding_cookie_name(s: Settings | None = None) -> str:
    """Name of the browser's binding cookie (``__Host-`` prefixed over https)."""
    return f"__Host-{BINDING_COOKIE}" if secure_cookies(s) else BINDING_COOKIE


def lifetime(s: Settings | None = None) -> timedelta:
    """How long a session lasts from its sign-in."""
    return timedelta(hours=_settings(s).session_hours)


def new_token() -> str:
    """A fresh random token (session, ticket or binding cookie)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    """What the store keeps of a token: its SHA-256 (hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _usable(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS


def _purge(session: Session, now: datetime) -> None:
    """Forget expired sessions and tickets (opportunistic: on every write of this module)."""
    session.execute(delete(SessionHandoff).where(SessionHandoff.expires_at <= now))
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))


def _live(session: Session, token: str, now: datetime, lock: bool = False):
    """The session row of ``token`` if it has not expired (locked for update if asked)."""
    query = select(WebSession).where(WebSession.token_hash == digest(token),
                                     WebSession.expires_at > now)
    return session.scalar(query.with_for_update() if lock else query)


def _account(session: Session, row: WebSession) -> User | None:
    """The account of a session row, if it may still use it."""
    user = session.get(User, row.user_pk)
    if user is None or not user.active or user.version != row.user_version:
        return None
    return user


# --- sessions -----------------------------------------------------------------------------

def start(actor: Actor, s: Settings | None = None, now: datetime | None = None) -> Started:
    """A new session for an account that has just signed in (:func:`auth.sign_in`)."""
    if not isinstance(actor, Actor):
        raise AuthError(SIGNIN_REFUSED)
    now = now or _now()
    expires = now + lifetime(s)
    token = new_token()
    db.migrate(s)
    with db.write_session(s) as session:
        _purge(session, now)
        user = session.scalar(select(User).where(User.username == actor.username))
        if user is None or not user.active:
            raise AuthError(SIGNIN_REFUSED)
        session.add(WebSession(token_hash=digest(token), user_pk=user.pk,
                               user_version=user.version, created_at=now, expires_at=expires))
    return Started(token, expires)


def resolve(token: str | None, s: Settings | None = None,
            now: datetime | None = None) -> Actor | None:
    """The account of a session token, read from ``users`` now; None when the token is
    unknown, revoked or expired, or its account disabled, removed or given a new password."""
    if not _usable(token):
        return None
    now = now or _now()
    db.migrate(s)
    with db.read_session(s) as session:
        user = session.scalar(
            select(User).join(WebSession, WebSession.user_pk == User.pk)
            .where(WebSession.token_hash == digest(token), WebSession.expires_at > now,
                   WebSession.user_version == User.version, User.active.is_(True)))
        return Actor(user.username, user.role) if user is not None else None


def revoke(token: str | None, s: Settings | None = None, now: datetime | None = None) -> bool:
    """End a session (sign-out); whether there was one to end."""
    now = now or _now()
    db.migrate(s)
    with db.write_session(s) as session:
        _purge(session, now)
        if not _usable(token):
            return False
        gone = session.execute(delete(WebSession).where(
            WebSession.token_hash == digest(token)))
        return bool(gone.rowcount)


# --- one-use tickets for the cookie routes ------------------------------------------------

def _ticket(session: Session, purpose: str, binding: str, now: datetime,
            session_pk: int | None = None) -> str:
    ticket = new_token()
    session.add(SessionHandoff(token_hash=digest(ticket), purpose=purpose,
                               session_pk=session_pk, binding_hash=digest(binding),
                               expires_at=now + timedelta(seconds=HANDOFF_S)))
    return ticket


def _take(session: Session, ticket: str | None, purpose: str, binding: str | None,
          now: datetime) -> SessionHandoff | None:
    """The ticket if it is fresh, for ``purpose`` and made for this browser; deleted in any
    case (a ticket is presented once: a second use, or a use elsewhere, finds nothing)."""
    if not _usable(ticket):
        return None
    row = session.scalar(select(SessionHandoff)
                         .where(SessionHandoff.token_hash == digest(ticket))
                         .with_for_update())
    if row is None:
        return None
    session.delete(row)
    session.flush()
    if (row.purpose != purpose or _aware(row.expires_at) <= now or not _usable(binding)
            or not hmac.compare_digest(row.binding_hash, digest(binding))):
        return None
    return row


def signin_handoff(token: str | None, binding: str | None, s: Settings | None = None,
                   now: datetime | None = None) -> str | None:
    """A ticket that lets the browser holding ``binding`` take the session of ``token`` as
    its cookie (:func:`consume_signin`); None without a live session or a binding."""
    if not (_usable(token) and _usable(binding)):
        return None
    now = now or _now()
    db.migrate(s)
    with db.write_session(s) as session:
        _purge(session, now)
        row = _live(session, token, now)
        if row is None or _account(session, row) is None:
            return None
        return _ticket(session, SIGNIN, binding, now, row.pk)


def consume_signin(ticket: str | None, binding: str | None, s: Settings | None = None,
                   now: datetime | None = None) -> Started | None:
    """Use a sign-in ticket once: the session gets a new token, returned to be set as the
    cookie. None (and the ticket is gone) when it is unknown, used, expired, made for
    another browser, or its session or account is no longer valid."""
    now = now or _now()
    db.migrate(s)
    with db.write_session(s) as session:
        row = _take(session, ticket, SIGNIN, binding, now)
        _purge(session, now)
        if row is None or row.session_pk is None:
            return None
        web = session.get(WebSession, row.session_pk, with_for_update=True)
        if web is None or _aware(web.expires_at) <= now or _account(session, web) is None:
            return None
        token = new_token()
        web.token_hash = digest(token)  # the token the page knew no longer works
        return Started(token, _aware(web.expires_at))


def signout_handoff(binding: str | None, s: Settings | None = None,
                    now: datetime | None = None) -> str | None:
    """A ticket that lets the browser holding ``binding`` end the session of its cookie and
    clear it (:func:`consume_signout`); None without a binding."""
    if not _usable(binding):
        return None
    now = now or _now()
    db.migrate(s)
    with db.write_session(s) as session:
        _purge(session, now)
        return _ticket(session, SIGNOUT, binding, now)


def consume_signout(ticket: str | None, binding: str | None, cookie: str | None,
                    s: Settings | None = None, now: datetime | None = None) -> bool:
    """Use a sign-out ticket once: revoke the session of ``cookie`` (whichever the browser
    holds now, e.g. set by another tab); whether the ticket was valid (clear the cookie)."""
    now = now or _now()
    db.migrate(s)
    with db.write_session(s) as session:
        row = _take(session, ticket, SIGNOUT, binding, now)
        _purge(session, now)
        if row is None:
            return False
        if _usable(cookie):
            session.execute(delete(WebSession).where(WebSession.token_hash == digest(cookie)))
        return True


# --- where the routes send the browser back -----------------------------------------------

def safe_next(target: object, default: str = "/") -> str:
    """``target`` if it is a path of this site (``/page?query``), else ``default``.

    Refused: anything with a scheme or a host (``https://…``, ``//host``, ``/\\host``,
    which browsers read as ``//host``), backslashes, control characters or spaces, and
    overlong values: a route never sends the browser to another site (open redirect).
    """
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT_CHARS:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 33 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
