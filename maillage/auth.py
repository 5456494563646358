"""Accounts, roles and sign-in (no Streamlit here: pages call these functions).

Passwords are hashed with argon2 (argon2-cffi) and must pass :func:`check_password`
(12 characters or more, not guessable according to zxcvbn).

Sign-in follows the OWASP Authentication Cheat Sheet:

- every failure gets the same French message, whether the account exists or not, and
  every attempt (unknown name, wrong password, throttled) spends exactly one argon2
  verification, so neither the answer nor its duration tells whether a name exists;
- failed attempts are *throttled*, never locked for long: after a few free attempts,
  each failure blocks further attempts for a delay that doubles up to a short cap, counted
  both per account name and per client (IP address, or a per-session id given by the UI).
  The counters live in the ``signin_throttles`` table, so they hold across processes,
  replicas and restarts, and exist for unknown names exactly as for real accounts;
- an attempt made while blocked is refused (its password is still verified, for the
  timing, but the result is thrown away) and is *not* counted: a stranger cannot extend
  the block, so the right password always works once the capped delay has passed;
- a successful sign-in resets the counters of the account and of the client.

Failures are counted *before* the password is verified (and forgotten on success), so
parallel attempts cannot slip past the throttle. The public never signs in: reading
needs no account, editing needs one with an editing role.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from geo.errors import MaillageError
from maillage import db
from maillage.db.models import ROLES, SigninThrottle, User

#: Roles allowed to edit the registry of places.
from maillage.roles import EDITOR_ROLES, ROLE_LABELS
from maillage.settings import Settings

#: Failed attempts on one account name before it is slowed down.
ACCOUNT_FREE_ATTEMPTS = 5
#: Block (seconds) after the first failure past the free ones; doubles at each further one.
ACCOUNT_BASE_DELAY_S = 1.0
#: Longest block of one account name (seconds): the owner never waits longer than this
#: because of failures made from other clients.
ACCOUNT_MAX_DELAY_S = 30.0
#: Failed attempts from one client (all names together) before it is slowed down; higher
#: than per account, as several people may share an office's address.
CLIENT_FREE_ATTEMPTS = 10
#: Block (seconds) of a client after its first failure past the free ones; doubles after.
CLIENT_BASE_DELAY_S = 1.0
#: Longest block of one client (seconds).
CLIENT_MAX_DELAY_S = 300.0
#: A counter is forgotten (and its row deleted) this long after its last failure.
FORGET_AFTER_S = 3600.0
#: Client key of sign-ins that come with none (the command line).
LOCAL_CLIENT = "local"

#: Shortest password accepted.
MIN_PASSWORD = 12
#: Lowest zxcvbn score accepted (0 = very guessable … 4 = very unguessable).
MIN_ZXCVBN_SCORE = 3
#: zxcvbn refuses longer inputs; only that many first characters are scored.
ZXCVBN_MAX_LENGTH = 72
#: Words of this application and common French passwords that zxcvbn's (English)
#: dictionaries do not know; they count as guessable, like the account name.
LOCAL_WORDS = ("maillage", "martinique", "madinina", "matinik", "fédération", "federation",
               "numérique", "numerique", "mediation", "médiation", "motdepasse",
               "mot de passe", "azerty", "soleil", "bonjour", "admin", "administrateur",
               "epci", "cacem", "espace sud", "cap nord", *ROLES)

#: The one answer of every refused sign-in (plus the wait while throttled).
SIGNIN_REFUSED = "Nom de compte ou mot de passe incorrect."

_hasher = PasswordHasher()
#: zxcvbn keeps the user inputs of a call in a module global: one call at a time.
_ZXCVBN_LOCK = threading.Lock()


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


# --- passwords ----------------------------------------------------------------------------

def check_password(password: str, username: str = "") -> None:
    """Refuse (French :class:`AuthError` saying what to do) a password too easy to guess."""
    advice = ("choisissez une phrase de passe d'au moins "
              f"{MIN_PASSWORD} caractères, par exemple trois ou quatre mots sans rapport "
              "entre eux, avec un chiffre ou un signe.")
    if not password.strip():
        raise AuthError(f"Mot de passe vide ou fait seulement d'espaces : {advice}")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"Mot de passe trop court ({len(password)} caractères) : {advice}")
    if len(set(password)) == 1:
        raise AuthError(f"Mot de passe fait d'un seul caractère répété : {advice}")
    name = username.strip()
    # a password built on the account name must be strong even without it
    without_name = (re.sub(re.escape(name), "", password, flags=re.IGNORECASE)
                    if len(name) >= 3 else password)
    if min(_zxcvbn_score(p, name) for p in {password, without_name}) < MIN_ZXCVBN_SCORE:
        raise AuthError("Mot de passe trop facile à deviner (mot courant, suite de touches, "
                        "date, répétition ou nom du compte) : " + advice)


def _zxcvbn_score(password: str, name: str) -> int:
    from zxcvbn import zxcvbn

    if not password.strip():
        return 0
    inputs = [name, *re.split(r"[\W_]+", name), *LOCAL_WORDS]
    with _ZXCVBN_LOCK:
        return int(zxcvbn(password[:ZXCVBN_MAX_LENGTH],
                          user_inputs=[w for w in inputs if w])["score"])


@functools.cache
def _dummy_hash() -> str:
    """A hash with the same parameters as real ones, verified for unknown names."""
    return _hasher.hash("maillage-dummy-password")


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


# --- accounts -----------------------------------------------------------------------------

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
    check_password(password, username)
    db.migrate(s)
    with db.write_session(s) as session:
        if session.scalar(select(User).where(User.username == username)):
            raise AuthError(f"Le compte « {username} » existe déjà.")
        session.add(User(username=username, role=role, password_hash=_hasher.hash(password),
                         created_at=_now(), active=True, version=1))
    return Actor(username, role)


def set_password(username: str, password: str, s: Settings | None = None) -> None:
    """Change an account's password (same rules as at creation); clears its throttle."""
    username = username.strip()
    check_password(password, username)
    db.migrate(s)
    with db.write_session(s) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise AuthError(f"Compte « {username} » introuvable.")
        user.password_hash = _hasher.hash(password)
        user.version += 1
        session.execute(delete(SigninThrottle).where(
            SigninThrottle.key == _throttle_key("account", username)))


def list_users(s: Settings | None = None) -> list[dict]:
    """Accounts without their hashes; ``failed_count``: recent failures on that name."""
    db.migrate(s)
    with db.read_session(s) as session:
        failures = dict(session.execute(
            select(SigninThrottle.key, SigninThrottle.failures)
            .where(SigninThrottle.scope == "account")).all())
        return [{"username": u.username, "role": u.role, "active": u.active,
                 "failed_count": failures.get(_throttle_key("account", u.username), 0)}
                for u in session.scalars(select(User).order_by(User.username))]


# --- throttled sign-in --------------------------------------------------------------------

def _delay(failures: int, free: int, base: float, cap: float) -> float:
    if failures <= free:
        return 0.0
    return min(cap, base * 2 ** min(failures - free - 1, 64))


def account_delay(failures: int) -> float:
    """Seconds one account name is blocked after ``failures`` recent failures."""
    return _delay(failures, ACCOUNT_FREE_ATTEMPTS, ACCOUNT_BASE_DELAY_S, ACCOUNT_MAX_DELAY_S)


def client_delay(failures: int) -> float:
    """Seconds one client is blocked after ``failures`` recent failures."""
    return _delay(failures, CLIENT_FREE_ATTEMPTS, CLIENT_BASE_DELAY_S, CLIENT_MAX_DELAY_S)


_DELAYS = {"account": account_delay, "client": client_delay}


def _throttle_key(scope: str, value: str) -> str:
    """Row key of a name or a client: hashed, so names typed by strangers (sometimes a
    password typed in the wrong field) are not kept in clear."""
    if scope == "account":
        value = value.strip().casefold()
    return hashlib.sha256(f"{scope}\x00{value}".encode()).hexdigest()


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(SigninThrottle)


def _throttles(session: Session, keys: dict[str, str], now: datetime) -> list[SigninThrottle]:
    """The rows of ``keys`` (scope → key), created if missing, locked for this transaction."""
    session.execute(delete(SigninThrottle).where(
        SigninThrottle.last_failure_at < now - timedelta(seconds=FORGET_AFTER_S)))
    session.execute(_insert(session).values(
        [{"key": key, "scope": scope, "failures": 0, "last_failure_at": now}
         for scope, key in sorted(keys.items(), key=lambda kv: kv[1])]
    ).on_conflict_do_nothing(index_elements=["key"]))
    return list(session.scalars(select(SigninThrottle)
                                .where(SigninThrottle.key.in_(keys.values()))
                                .order_by(SigninThrottle.key).with_for_update()
                                .execution_options(populate_existing=True)))


def _remaining(rows: list[SigninThrottle], now: datetime) -> float:
    until = [_aware(r.blocked_until) for r in rows if r.blocked_until is not None]
    return max([(u - now).total_seconds() for u in until] + [0.0])


def _refused(wait: float) -> AuthError:
    if wait > 0:
        return AuthError(f"{SIGNIN_REFUSED} Trop d'essais manqués : réessayez dans "
                         f"{math.ceil(wait)} s.")
    return AuthError(SIGNIN_REFUSED)


def sign_in(username: str, password: str, s: Settings | None = None,
            now: datetime | None = None, client: str | None = None) -> Actor:
    """The account if the password is right and no throttle applies; else one French refusal.

    ``client`` identifies where the attempt comes from (the IP address, or a per-session
    id when there is none); the command line passes nothing (:data:`LOCAL_CLIENT`).
    """
    now = now or _now()
    name = username.strip()
    keys = {"account": _throttle_key("account", name),
            "client": _throttle_key("client", client or LOCAL_CLIENT)}
    db.migrate(s)
    with db.write_session(s) as session:
        rows = _throttles(session, keys, now)
        wait = after = _remaining(rows, now)
        if not wait:  # count the attempt as failed now; a success forgets it below
            for r in rows:
                r.failures += 1
                r.last_failure_at = now
                delay = _DELAYS[r.scope](r.failures)
                r.blocked_until = now + timedelta(seconds=delay) if delay else None
            after = _remaining(rows, now)
        user = session.scalar(select(User).where(User.username == name))
        hashed = user.password_hash if user is not None and user.active else None
    # Exactly one argon2 verification on every path, outside the transaction.
    right = _verify(hashed or _dummy_hash(), password) and hashed is not None
    if wait:
        raise _refused(wait)  # the right password too: the block is short and not extended
    if not right:
        raise _refused(after)
    with db.write_session(s) as session:
        session.execute(delete(SigninThrottle).where(SigninThrottle.key.in_(keys.values())))
        user = session.scalar(select(User).where(User.username == name))
        if user is None or not user.active:  # removed or disabled meanwhile
            raise _refused(0)
        user.last_login_at = now
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return Actor(user.username, user.role)


# --- roles of the writes ------------------------------------------------------------------

def require_role(actor: Actor | None, roles: frozenset[str] | set[str] | tuple[str, ...],
                 action_fr: str) -> Actor:
    """The actor if their role is one of ``roles``; else a French :class:`AuthError`.

    The check every write of a store or service makes itself (pages only hide their
    forms): the public (``None``, or anything that is not an :class:`Actor`) and the
    other roles are refused. ``action_fr`` completes « Connectez-vous pour … »,
    e.g. ``"enregistrer une sélection d'arrêts"``.
    """
    names = [ROLE_LABELS.get(r, r) for r in ROLES if r in roles]
    allowed = " ou ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    if not isinstance(actor, Actor):
        raise AuthError(f"Connectez-vous pour {action_fr} : la consultation est publique, "
                        f"cette action demande un compte {allowed}.")
    if actor.role not in roles:
        role = ROLE_LABELS.get(actor.role, actor.role)
        raise AuthError(f"Le compte « {actor.username} » ({role}) ne peut pas {action_fr} : "
                        f"cette action demande un compte {allowed}.")
    return actor
