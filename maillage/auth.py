"""Accounts, roles and sign-in (no Streamlit here: pages call these functions).

Passwords are hashed with argon2 (argon2-cffi). Repeated failed sign-ins lock the
account for an exponentially growing delay stored in the database, so the slowdown
holds across processes and restarts. The public never signs in: reading needs no
account, editing needs one with an editing role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from geo.errors import MaillageError
from maillage import db
from maillage.db.models import ROLES, User
from maillage.settings import Settings

#: Roles allowed to edit the registry of places.
EDITOR_ROLES = frozenset({"admin", "federation"})
#: Failed attempts allowed before the account is slowed down.
FREE_ATTEMPTS = 3
#: First lock (seconds) after the free attempts; doubles at each further failure.
BASE_DELAY_S = 2.0
#: Longest lock (seconds).
MAX_DELAY_S = 900.0
MIN_PASSWORD = 10
ROLE_LABELS = {"admin": "administrateur", "federation": "Fédération", "epci": "EPCI"}

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("maillage-dummy-password")


class AuthError(MaillageError):
    """Sign-in refused, or an action needs a role the user does not have."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in account (the public is ``None``)."""

    username: str
    role: str

    @property
    def can_edit_places(self) -> bool:
        return self.role in EDITOR_ROLES


def require_editor(actor: Actor | None) -> Actor:
    """The actor if they may edit places; else a French refusal."""
    if actor is None:
        raise AuthError("Connectez-vous pour modifier le registre : la consultation est publique, "
                        "la modification est réservée aux comptes de la Fédération.")
    if not actor.can_edit_places:
        role = ROLE_LABELS.get(actor.role, actor.role)
        raise AuthError(f"Le compte « {actor.username} » ({role}) ne peut pas modifier le "
                        "registre des lieux.")
    return actor


def lock_delay(failed: int) -> float:
    """Seconds of lock after ``failed`` consecutive failures (0 while attempts are free)."""
    if failed < FREE_ATTEMPTS:
        return 0.0
    return min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (failed - FREE_ATTEMPTS))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite returns naive datetimes
        return value.replace(tzinfo=UTC)
    return value


def add_user(username: str, role: str, password: str, s: Settings | None = None) -> Actor:
    """Create an account (or refuse with a French reason)."""
    username = username.strip()
    if role not in ROLES:
        raise AuthError(f"Rôle inconnu « {role} » (rôles : {', '.join(ROLES)}).")
    if not username or len(username) > 100:
        raise AuthError("Nom de compte vide ou trop long (100 caractères au plus).")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"Mot de passe trop court : {MIN_PASSWORD} caractères au moins.")
    db.migrate(s)
    with db.write_session(s) as session:
        if session.scalar(select(User).where(User.username == username)):
            raise AuthError(f"Le compte « {username} » existe déjà.")
        session.add(User(username=username, role=role, password_hash=_hasher.hash(password),
                         created_at=_now(), active=True, failed_count=0, version=1))
    return Actor(username, role)


def sign_in(username: str, password: str, s: Settings | None = None,
            now: datetime | None = None) -> Actor:
    """Check the password; count failures and lock the account for a growing delay."""
    now = now or _now()
    with db.write_session(s) as session:
        user = session.scalar(select(User).where(User.username == username.strip()))
        if user is None or not user.active:
            _verify(_DUMMY_HASH, password)  # same cost whether the account exists or not
            raise AuthError("Nom de compte ou mot de passe incorrect.")
        locked = _aware(user.locked_until)
        if locked and locked > now:
            wait = int((locked - now).total_seconds()) + 1
            raise AuthError(f"Trop d'essais manqués : réessayez dans {wait} s.")
        if not _verify(user.password_hash, password):
            user.failed_count += 1
            delay = lock_delay(user.failed_count)
            user.locked_until = now + timedelta(seconds=delay) if delay else None
            failure = AuthError("Nom de compte ou mot de passe incorrect."
                                + (f" Compte bloqué {delay:.0f} s." if delay else ""))
        else:
            user.failed_count = 0
            user.locked_until = None
            user.last_login_at = now
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            return Actor(user.username, user.role)
    raise failure  # raised after the commit, so the failure count is kept


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def list_users(s: Settings | None = None) -> list[dict]:
    """Accounts without their hashes."""
    with db.read_session(s) as session:
        return [{"username": u.username, "role": u.role, "active": u.active,
                 "failed_count": u.failed_count}
                for u in session.scalars(select(User).order_by(User.username))]
