"""Accounts: argon2 hashes, roles, password strength, and sign-in throttled per account name
and per client without telling real accounts from unknown names (by answer or by time)."""

from __future__ import annotations

import io
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import inspect, select

from maillage import auth, cli, db
from maillage.db.models import SigninThrottle, User
from maillage.settings import Settings
from tests.registry_fixtures import settings_with_db

PASSWORD = "correct horse battery"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
#: Samples per timed case, and the largest accepted gap between two medians.
TIMED_RUNS = 15
TIMING_TOLERANCE = 0.20


def _store(tmp_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    settings = settings_with_db(tmp_settings, tmp_path)
    auth.add_user("alice", "federation", PASSWORD, settings)
    yield settings
    db.engine(settings).dispose()


@pytest.fixture()
def real_s(tmp_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A store with the account "alice", hashed with the real argon2 parameters."""
    yield from _store(tmp_settings, tmp_path)


@pytest.fixture()
def s(tmp_settings: Settings, tmp_path: Path,
      monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The same with a cheap argon2: the throttle tests verify hundreds of passwords, and
    their behaviour does not depend on the hash's cost (the timing test uses the real one)."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                        parallelism=1))
    auth._dummy_hash.cache_clear()
    yield from _store(tmp_settings, tmp_path)
    auth._dummy_hash.cache_clear()


def _attempt(s: Settings, name: str, password: str, at: datetime, client: str) -> str:
    """The refusal message of one sign-in, or "ok"."""
    try:
        auth.sign_in(name, password, s, now=at, client=client)
    except auth.AuthError as exc:
        return str(exc)
    return "ok"


def _wait(message: str) -> int:
    """Seconds announced by a throttled refusal (0 when it announces none)."""
    found = re.search(r"réessayez dans (\d+) s", message)
    return int(found.group(1)) if found else 0


def _burst(s: Settings, name: str, n: int, at: datetime,
           client: Callable[[int], str]) -> tuple[datetime, list[str]]:
    """``n`` counted wrong passwords on ``name``, each after the wait the previous one
    announced; the time of the last one and every message."""
    messages = []
    for i in range(n):
        messages.append(_attempt(s, name, "pas le bon mot de passe", at, client(i)))
        if i < n - 1:
            at += timedelta(seconds=_wait(messages[-1]))
    return at, messages


def test_passwords_are_hashed_with_argon2(real_s: Settings) -> None:
    with db.read_session(real_s) as session:
        user = session.scalar(select(User).where(User.username == "alice"))
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert auth.sign_in("alice", PASSWORD, real_s) == auth.Actor("alice", "federation")


def test_bad_roles_duplicates_and_weak_passwords_are_refused_in_french(s: Settings) -> None:
    with pytest.raises(auth.AuthError, match="Rôle inconnu"):
        auth.add_user("bob", "chef", PASSWORD, s)
    with pytest.raises(auth.AuthError, match="existe déjà"):
        auth.add_user("alice", "admin", PASSWORD, s)
    weak = {" " * 10: "espaces", " " * 14: "espaces", "court": "trop court",
            "aaaaaaaaaaaa": "seul caractère répété", "password1234": "facile à deviner",
            "marcelinmarcelin": "facile à deviner", "Marcelin-Marcelin": "facile à deviner",
            "Motdepasse2024!": "facile à deviner",
            "marcelin-Marcelin-1968": "facile à deviner"}
    for password, words in weak.items():
        with pytest.raises(auth.AuthError) as refused:
            auth.add_user("marcelin", "admin", password, s)
        assert words in str(refused.value) and "choisissez" in str(refused.value), password
    assert [u["username"] for u in auth.list_users(s)] == ["alice"]
    strong = "gorille ananas trottinette 7"
    assert auth.add_user("marcelin", "admin", strong, s) == auth.Actor("marcelin", "admin")
    assert auth.sign_in("marcelin", strong, s).role == "admin"


def test_a_password_change_follows_the_same_rules(s: Settings) -> None:
    with pytest.raises(auth.AuthError, match="facile à deviner"):
        auth.set_password("alice", "alicealicealice", s)
    with pytest.raises(auth.AuthError, match="introuvable"):
        auth.set_password("personne", "Dix-sept lucioles sur la Savane", s)
    auth.set_password("alice", "Dix-sept lucioles sur la Savane", s)
    assert _attempt(s, "alice", PASSWORD, T0, "a") == auth.SIGNIN_REFUSED
    assert _attempt(s, "alice", "Dix-sept lucioles sur la Savane", T0, "a") == "ok"


def test_delays_grow_after_the_free_attempts_up_to_short_caps() -> None:
    for delay, free, base, cap in (
            (auth.account_delay, auth.ACCOUNT_FREE_ATTEMPTS, auth.ACCOUNT_BASE_DELAY_S,
             auth.ACCOUNT_MAX_DELAY_S),
            (auth.client_delay, auth.CLIENT_FREE_ATTEMPTS, auth.CLIENT_BASE_DELAY_S,
             auth.CLIENT_MAX_DELAY_S)):
        assert [delay(n) for n in range(free + 1)] == [0.0] * (free + 1)
        assert [delay(free + k) for k in (1, 2, 3)] == [base, 2 * base, 4 * base]
        assert delay(10_000) == cap
    assert auth.ACCOUNT_MAX_DELAY_S < auth.CLIENT_MAX_DELAY_S <= 300


def test_unknown_names_and_wrong_passwords_get_the_same_answers(s: Settings) -> None:
    """Same sequence of attempts, one on a real account, one on an unknown name: the same
    messages, before the throttle, while it holds, and once it has passed."""
    answers = {}
    for name in ("alice", "mallory"):
        client = f"203.0.113.{len(answers) + 1}"
        answers[name] = [_attempt(s, name, "pas le bon mot de passe",
                                  T0 + timedelta(seconds=i), client) for i in range(40)]
    assert answers["alice"] == answers["mallory"]
    messages = answers["alice"]
    assert messages[0] == auth.SIGNIN_REFUSED
    assert messages[auth.ACCOUNT_FREE_ATTEMPTS - 1] == auth.SIGNIN_REFUSED
    throttled = [m for m in messages if _wait(m)]
    assert throttled and all(m.startswith(auth.SIGNIN_REFUSED) for m in throttled)
    # both names have a throttle row (the table cannot tell them apart either)
    with db.read_session(s) as session:
        accounts = session.scalars(select(SigninThrottle).where(
            SigninThrottle.scope == "account")).all()
    assert len(accounts) == 2 and accounts[0].failures == accounts[1].failures > 0


def test_the_right_password_is_refused_like_a_wrong_one_while_throttled(s: Settings) -> None:
    for name, client in (("alice", "x"), ("nobody", "y")):
        last, _ = _burst(s, name, auth.ACCOUNT_FREE_ATTEMPTS + 3, T0, lambda i, c=client: c)
    soon = last + timedelta(seconds=0.5)
    right = _attempt(s, "alice", PASSWORD, soon, "x")
    assert _wait(right) > 0
    assert right == _attempt(s, "alice", "faux", soon, "x") == _attempt(s, "nobody", "faux",
                                                                        soon, "y")


def test_after_a_burst_the_right_password_works_once_the_capped_delay_has_passed(
        s: Settings) -> None:
    last, messages = _burst(s, "alice", 20, T0, lambda i: "198.51.100.7")
    waits = [_wait(m) for m in messages]
    assert max(waits) == auth.CLIENT_MAX_DELAY_S  # the burst reached the cap…
    assert all(w <= auth.CLIENT_MAX_DELAY_S for w in waits)  # …and never went past it
    assert _wait(_attempt(s, "alice", PASSWORD, last + timedelta(seconds=1),
                          "198.51.100.7")) > 0
    # refused attempts during the block are not counted: the block does not grow
    for k in range(2, int(auth.CLIENT_MAX_DELAY_S), 7):
        _attempt(s, "alice", "encore faux", last + timedelta(seconds=k), "198.51.100.7")
    later = last + timedelta(seconds=auth.CLIENT_MAX_DELAY_S)
    assert _attempt(s, "alice", PASSWORD, later, "198.51.100.7") == "ok"
    # the success reset both counters: the next failure is a free one again
    assert _attempt(s, "alice", "faux", later, "198.51.100.7") == auth.SIGNIN_REFUSED
    assert auth.list_users(s)[0]["failed_count"] == 1


def test_a_stranger_cannot_keep_the_owner_out_longer_than_the_account_cap(
        s: Settings) -> None:
    """A stranger's burst, from one client then from many, and attempts all through the
    block: the owner, from their own client, waits at most the per-account cap."""
    last, messages = _burst(s, "alice", 20, T0, lambda i: f"stranger-{i % 4}")
    assert max(_wait(m) for m in messages) == auth.ACCOUNT_MAX_DELAY_S
    owner = "192.0.2.10"
    assert _wait(_attempt(s, "alice", PASSWORD, last + timedelta(seconds=1), owner)) > 0
    for k in range(1, int(auth.ACCOUNT_MAX_DELAY_S)):  # a new client every second
        _attempt(s, "alice", "devine", last + timedelta(seconds=k), f"bot-{k}")
    assert _attempt(s, "alice", PASSWORD, last + timedelta(seconds=auth.ACCOUNT_MAX_DELAY_S),
                    owner) == "ok"


def test_counters_are_forgotten_an_hour_after_the_last_failure(s: Settings) -> None:
    last, _ = _burst(s, "alice", auth.ACCOUNT_FREE_ATTEMPTS + 2, T0, lambda i: "x")
    just_before = last + timedelta(seconds=auth.FORGET_AFTER_S - 1)
    assert _wait(_attempt(s, "alice", "faux", just_before, "y")) > 0  # still counted
    quiet = just_before + timedelta(seconds=auth.FORGET_AFTER_S + 1)
    assert _attempt(s, "mallory", "faux", quiet, "z") == auth.SIGNIN_REFUSED
    with db.read_session(s) as session:  # the old rows were deleted, only mallory's are left
        assert session.scalar(select(SigninThrottle.failures).where(
            SigninThrottle.scope == "account")) == 1
        assert len(session.scalars(select(SigninThrottle)).all()) == 2


@pytest.fixture()
def both(tmp_settings: Settings, store_url: str,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The account "alice" on SQLite, then on PostgreSQL (cheap argon2, as for ``s``)."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                        parallelism=1))
    auth._dummy_hash.cache_clear()
    settings = replace(tmp_settings, database_url=store_url)
    auth.add_user("alice", "federation", PASSWORD, settings)
    yield settings
    auth._dummy_hash.cache_clear()


def test_parallel_attempts_cannot_slip_past_the_throttle(both: Settings) -> None:
    """Attempts are counted before the slow hash: of 24 simultaneous wrong passwords (one
    client each), only the free ones are answered without a wait, on either back-end."""
    def attempt(i: int) -> str:
        return _attempt(both, "alice", "faux", T0, f"parallel-{i}")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(24)))
    assert answers.count(auth.SIGNIN_REFUSED) == auth.ACCOUNT_FREE_ATTEMPTS
    assert all(_wait(a) > 0 for a in answers if a != auth.SIGNIN_REFUSED)
    assert auth.list_users(both)[0]["failed_count"] == auth.ACCOUNT_FREE_ATTEMPTS + 1
    # the same burst on an unknown name answers the same; the owner gets in after the cap
    unknown = [_attempt(both, "mallory", "faux", T0, f"parallel-{i}") for i in range(24)]
    assert sorted(unknown) == sorted(answers)
    after = T0 + timedelta(seconds=auth.ACCOUNT_MAX_DELAY_S)
    assert _attempt(both, "alice", PASSWORD, after, "owner") == "ok"


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _interleaved_medians(*cases: Callable[[int], object]) -> list[float]:
    """Median duration of ``TIMED_RUNS`` calls of each case, the cases taking turns (in a
    rotating order), so that the machine's load weighs on all of them alike."""
    samples: list[list[float]] = [[] for _ in cases]
    for i in range(TIMED_RUNS):
        for k in range(len(cases)):
            j = (i + k) % len(cases)
            samples[j].append(_timed(lambda j=j, i=i: cases[j](i)))
    return [statistics.median(d) for d in samples]


def _gap(a: float, b: float) -> float:
    return abs(a - b) / max(a, b)


def test_unknown_names_and_wrong_passwords_take_the_same_time(real_s: Settings) -> None:
    """Real argon2: wall-clock medians of unknown names vs wrong passwords, free and while
    throttled, measured in turns; the throttled answer costs what a free one does."""
    s = real_s
    auth.add_user("bruno", "epci", "Dix-sept lucioles sur la Savane", s)
    step = timedelta(seconds=auth.FORGET_AFTER_S + 1)  # every free attempt starts afresh
    # "bruno" and "mallory2" are throttled at a time after every free attempt (whose
    # clean-up of old counters therefore never reaches theirs)
    blocked_at = T0 + (TIMED_RUNS + 2) * step
    for name in ("mallory2", "bruno"):
        last, _ = _burst(s, name, auth.ACCOUNT_FREE_ATTEMPTS + 6, blocked_at,
                         lambda i, n=name: f"{n}-{i}")
    during = last + timedelta(seconds=1)

    def unknown(i: int) -> str:
        return _attempt(s, "mallory", "faux", T0 + i * step, "10.0.0.1")

    def wrong(i: int) -> str:
        return _attempt(s, "alice", "faux", T0 + i * step, "10.0.0.2")

    def unknown_blocked(i: int) -> str:
        return _attempt(s, "mallory2", "faux", during, "10.0.0.3")

    def wrong_blocked(i: int) -> str:
        return _attempt(s, "bruno", "faux", during, "10.0.0.4")

    assert unknown(0) == wrong(0) == auth.SIGNIN_REFUSED  # also warms up the dummy hash
    assert _wait(unknown_blocked(0)) > 0 and unknown_blocked(0) == wrong_blocked(0)
    medians = _interleaved_medians(unknown, wrong, unknown_blocked, wrong_blocked)
    free, blocked = medians[:2], medians[2:]
    assert unknown(TIMED_RUNS) == wrong(TIMED_RUNS) == auth.SIGNIN_REFUSED  # still free
    assert _wait(wrong_blocked(0)) > 0  # still throttled
    print("\nmédianes (ms) : inconnu {:.1f}, mauvais mot de passe {:.1f} ; freinés : inconnu "
          "{:.1f}, mauvais mot de passe {:.1f}".format(*(m * 1e3 for m in medians)))
    assert _gap(*free) < TIMING_TOLERANCE, free
    assert _gap(*blocked) < TIMING_TOLERANCE, blocked
    # a throttled answer costs what any other does (one argon2 verification, no shortcut)
    assert _gap(free[1], blocked[1]) < TIMING_TOLERANCE, (free, blocked)


def test_the_migration_moves_the_counters_and_can_be_undone(s: Settings) -> None:
    from alembic import command

    def tables_and_user_columns() -> tuple[set[str], set[str]]:
        with db.engine(s).connect() as conn:
            found = inspect(conn)
            return set(found.get_table_names()), {c["name"] for c in found.get_columns("users")}

    tables, columns = tables_and_user_columns()
    assert "signin_throttles" in tables and "failed_count" not in columns
    cfg = db.alembic_config()
    with db.engine(s).connect() as conn:
        cfg.attributes["connection"] = conn
        revisions = db.known_revisions()  # the one before 0005 (later migrations exist)
        command.downgrade(cfg, revisions[revisions.index("0005_signin_throttles") - 1])
        conn.commit()
    tables, columns = tables_and_user_columns()
    assert "signin_throttles" not in tables and {"failed_count", "locked_until"} <= columns
    with db.engine(s).connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()
    assert auth.sign_in("alice", PASSWORD, s).username == "alice"


def test_cli_user_add_reads_the_password_from_stdin(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from maillage import settings as settings_mod

    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MAILLAGE_DATABASE_URL", raising=False)
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


def _maillage(args: list[str], stdin: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The console script in a new session (no controlling terminal), stdin from a pipe."""
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(tmp_path / "data"),
           "MAILLAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    script = Path(sys.executable).with_name("maillage")
    return subprocess.run([str(script), *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120, start_new_session=True)


def test_cli_user_add_without_a_terminal(tmp_path: Path, tmp_settings: Settings) -> None:
    """The README's command, piped: password from stdin; nothing on stdin: French, code 2."""
    done = _maillage(["user", "add", "marie", "--role", "federation"], PASSWORD + "\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Compte « marie » créé" in done.stdout
    done = _maillage(["user", "add", "paul", "--role", "epci", "--password-stdin"],
                     "gorille ananas trottinette 7\r\n", tmp_path)
    assert done.returncode == 0, done.stderr

    for args, stdin, words in (
            (["user", "add", "zoe", "--role", "admin"], "", "Aucun mot de passe lu"),
            (["user", "password", "marie"], "password1234\n", "facile à deviner")):
        refused = _maillage(args, stdin, tmp_path)
        assert refused.returncode == cli.EXIT_USAGE, (args, refused.stderr)
        assert words in refused.stderr and "Traceback" not in refused.stderr, refused.stderr

    s = replace(tmp_settings, database_url=f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        assert [u["username"] for u in auth.list_users(s)] == ["marie", "paul"]
        assert auth.sign_in("marie", PASSWORD, s).role == "federation"
        assert auth.sign_in("paul", "gorille ananas trottinette 7", s).role == "epci"
    finally:
        db.engine(s).dispose()
