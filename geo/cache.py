"""On-disk caches under ``data/``: atomic writes, checked on every read, rebuilt if unreadable.

Every cache file ``X`` has a sidecar ``X.cache.json`` holding its format version, its
size and its sha256. :func:`write` writes the file to a temporary name in the same
folder, moves it into place with :func:`os.replace`, then does the same for the
sidecar, so a reader never sees half a file: a crash between the two steps leaves a
file whose checksum does not match, which is rebuilt.

:func:`read` reads the bytes once, checks them against the sidecar, and hands those
very bytes to the loader (no second read that could see another file). When the cache
is unreadable for any reason (no sidecar, wrong version, checksum mismatch, truncated
zip, bad JSON, a loader error), the file and its sidecar are deleted, a French warning
« Cache illisible (…) : reconstruction. » is logged and emitted (:class:`CacheRebuilt`),
and ``None`` is returned so the caller rebuilds. A cache that is simply absent returns
``None`` without a warning (first build).

Pages collect the warnings of a load with :func:`notices` and show them to the user.

A folder with no write bit for anyone (``chmod -R a-w``: the copy of the prepared data
each replica of ``deploy/up.sh`` reads) is read-only, even for root: a write, or the
deletion of an unreadable cache, is refused there with a French :class:`ReadOnlyData`
instead of changing the copy.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import os
import stat
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from geo.errors import DataError

T = TypeVar("T")

log = logging.getLogger("maillage.cache")
log.addHandler(logging.NullHandler())  # the warning below already reaches stderr

#: Suffix of the sidecar holding the format version and checksum of a cache file.
SIDECAR_SUFFIX = ".cache.json"
#: Failures that mean "this cache cannot be used" (anything else is a real bug).
UNREADABLE = (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError)

_NOTICES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "maillage_cache_notices", default=None)


class CacheRebuilt(UserWarning):
    """A cache file was unreadable: deleted, and rebuilt by the caller."""


class ReadOnlyData(DataError):
    """A cache would be written (or deleted) in a folder marked read-only."""


def read_only_folder(path: Path) -> Path | None:
    """The folder that would receive ``path`` when it is marked read-only (no write bit for
    anyone), else None. That folder is the nearest one that exists."""
    for folder in Path(path).parents:
        try:
            mode = os.stat(folder).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        return folder if stat.S_ISDIR(mode) and not mode & 0o222 else None
    return None


def _refuse_read_only(path: Path, what: str) -> None:
    """Raise :class:`ReadOnlyData` when ``path`` is in a read-only folder; ``what`` says what
    was about to happen, in French."""
    folder = read_only_folder(path)
    if folder is not None:
        raise ReadOnlyData(
            f"Le dossier des données {_display(folder)} est en lecture seule (copie des données "
            f"préparées, celle d'une réplique) : {what} ({Path(path).name}) y est refusé. "
            "Préparez les données à la source (maillage data), puis recopiez-les "
            "(deploy/up.sh).")


class _Unreadable(Exception):
    """Internal: why a cache file cannot be used (French)."""


def sidecar(path: Path) -> Path:
    """The sidecar of cache file ``path``."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _display(path: Path) -> str:
    """The path relative to the working folder when it is inside it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


@contextlib.contextmanager
def notices() -> Iterator[list[str]]:
    """Collect the French warnings of the caches rebuilt inside the block (this thread only)."""
    collected: list[str] = []
    token = _NOTICES.set(collected)
    try:
        yield collected
    finally:
        _NOTICES.reset(token)


def warn(message: str) -> None:
    """Log, emit (:class:`CacheRebuilt`) and hand to :func:`notices` one French warning."""
    log.warning(message)
    warnings.warn(message, CacheRebuilt, stacklevel=3)
    sink = _NOTICES.get()
    if sink is not None:
        sink.append(message)


def discard(path: Path) -> None:
    """Delete a cache file and its sidecar (missing ones are fine)."""
    for p in (path, sidecar(path)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _read_meta(path: Path) -> dict:
    try:
        meta = json.loads(sidecar(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _Unreadable("version de format et empreinte absentes") from exc
    except (OSError, ValueError) as exc:
        raise _Unreadable("fiche de contrôle illisible") from exc
    if not isinstance(meta, dict):
        raise _Unreadable("fiche de contrôle illisible")
    return meta


def _checked_bytes(path: Path, version: int | str) -> bytes:
    """The file's bytes once they match their sidecar (retried if a writer raced us)."""
    for _ in range(3):
        meta = _read_meta(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise _Unreadable("fichier absent") from exc
        if _read_meta(path) != meta:  # replaced meanwhile by a writer: read again
            continue
        if meta.get("version") != version:
            raise _Unreadable(f"version de format {meta.get('version')!r} au lieu de {version!r}")
        if meta.get("bytes") != len(data):
            raise _Unreadable(f"{len(data)} octets au lieu de {meta.get('bytes')} : "
                              "fichier tronqué ou modifié")
        if meta.get("sha256") != hashlib.sha256(data).hexdigest():
            raise _Unreadable("empreinte sha256 différente : fichier endommagé ou modifié")
        return data
    raise _Unreadable("fichier remplacé pendant la lecture")


def read(path: Path, loader: Callable[[bytes], T] | Callable[[Path], T], version: int | str, *,
         what: str = "", errors: tuple[type[BaseException], ...] = (),
         by_path: bool = False) -> T | None:
    """The cache at ``path`` decoded by ``loader(bytes)``, or ``None`` when it must be (re)built.

    ``version`` is the format the caller expects; ``what`` names the cache in the
    French warning (e.g. « graphe voiture »); ``errors`` are more exceptions of the
    loader that mean "unreadable" (e.g. a GDAL error). With ``by_path`` the loader gets
    the path (for readers that need a real file), once its bytes have been checked.
    """
    path = Path(path)
    if not path.exists() and not sidecar(path).exists():
        return None
    try:
        data = _checked_bytes(path, version)
        return loader(path) if by_path else loader(data)  # type: ignore[arg-type]
    except _Unreadable as exc:
        reason = str(exc)
    except UNREADABLE + tuple(errors) as exc:
        reason = f"{type(exc).__name__} : {exc}" if str(exc) else type(exc).__name__
    _refuse_read_only(path, f"cache illisible ({reason}) : le remplacer")
    discard(path)
    label = f"{what}, " if what else ""
    warn(f"Cache illisible ({label}{_display(path)} : {reason}) : reconstruction.")
    return None


def valid(path: Path, version: int | str) -> bool:
    """Whether ``path`` holds a cache of ``version`` matching its checksum (nothing deleted)."""
    try:
        _checked_bytes(Path(path), version)
    except (_Unreadable, OSError):
        return False
    return True


def write(path: Path, payload: bytes | Callable[[Path], None], version: int | str) -> None:
    """Write a cache file atomically with its sidecar.

    ``payload`` is the file's bytes, or a writer called with a temporary path (same
    folder and suffix) that it must fill (for libraries that write files themselves).
    """
    path = Path(path)
    _refuse_read_only(path, "écrire un cache")
    path.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    tmp = path.with_name(f".{path.stem}.{tag}.tmp{path.suffix}")
    tmp_meta = path.with_name(f".{path.name}.{tag}.tmp{SIDECAR_SUFFIX}")
    try:
        if isinstance(payload, bytes | bytearray | memoryview):
            tmp.write_bytes(payload)
        else:
            payload(tmp)
        data = tmp.read_bytes()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        meta = {"version": version, "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, path)
        os.replace(tmp_meta, sidecar(path))
    finally:
        for p in (tmp, tmp_meta):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

