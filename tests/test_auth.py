"""Accounts: argon2 hashes, roles, and failed sign-ins slowed down per account."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maillage import auth, cli, db
from maillage.db.models import User
from maillage.settings import Settings
from tests.registry_fixtures import settings_with_db

PASSWORD = "correct horse battery"


@pytest.fixture()
def s(tmp_settings: Settings, tmp_path: Path) -> Settings:
    settings = settings_with_db(tmp_settings, tmp_path)
    auth.add_user("alice", "federation", PASSWORD, settings)
    yield settings
    db.engine(settings).dispose()


def test_passwords_are_hashed_with_argon2(s: Settings) -> None:
    with db.read_session(s) as session:
        user = session.scalar(select(User).where(User.username == "alice"))
    assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash
    assert auth.sign_in("alice", PASSWORD, s) == auth.Actor("alice", "federation")


def test_bad_roles_duplicates_and_short_passwords_are_refused(s: Settings) -> None:
    with pytest.raises(auth.AuthError):
        auth.add_user("bob", "chef", PASSWORD, s)
    with pytest.raises(auth.AuthError):
        auth.add_user("alice", "admin", PASSWORD, s)
    with pytest.raises(auth.AuthError):
        auth.add_user("bob", "admin", "court", s)


def test_repeated_failures_lock_the_account_for_a_growing_delay(s: Settings) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    for _ in range(auth.FREE_ATTEMPTS):
        with pytest.raises(auth.AuthError, match="incorrect"):
            auth.sign_in("alice", "wrong", s, now=t0)
    with pytest.raises(auth.AuthError, match="réessayez"):
        auth.sign_in("alice", PASSWORD, s, now=t0)  # even the right password waits
    later = t0 + timedelta(seconds=auth.lock_delay(auth.FREE_ATTEMPTS) + 1)
    assert auth.sign_in("alice", PASSWORD, s, now=later).username == "alice"
    assert [auth.lock_delay(n) for n in range(auth.FREE_ATTEMPTS, auth.FREE_ATTEMPTS + 3)] == [
        auth.BASE_DELAY_S, 2 * auth.BASE_DELAY_S, 4 * auth.BASE_DELAY_S]
    assert auth.lock_delay(100) == auth.MAX_DELAY_S


def test_unknown_accounts_get_the_same_message(s: Settings) -> None:
    with pytest.raises(auth.AuthError, match="incorrect"):
        auth.sign_in("mallory", PASSWORD, s)


def test_cli_user_add_reads_the_password_from_stdin(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from maillage import settings as settings_mod

    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(tmp_path))
    settings_mod.get.cache_clear()
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    try:
        assert cli.main(["user", "add", "carole", "--role", "epci", "--password-stdin"]) == 0
        assert auth.sign_in("carole", PASSWORD).role == "epci"
        monkeypatch.setattr(sys, "stdin", io.StringIO("court\n"))
        assert cli.main(["user", "add", "dan", "--role", "epci", "--password-stdin"]) == 2
    finally:
        db.dispose_all()
        settings_mod.get.cache_clear()
