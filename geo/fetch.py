"""Get each catalogued source: from the local mirror, else from the cache, else download it.

Every file is checked against the catalogue's sha256 before use; a download is
written to a temporary file, checked, then moved into the cache in one step, so
a failed or interrupted download never leaves a half file behind.

Pages never download: inside :func:`page_mode` (``app.py`` runs every page in it) and
in any thread a registered probe says is serving a page (``ui`` registers Streamlit's
script threads, so callbacks, fragments and a page run without ``app.py`` count too),
a source missing from the mirror and the cache raises a :class:`DataError` saying to
run ``maillage data`` (which downloads) instead of fetching it during a page view.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import hashlib
import io
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tqdm.auto import tqdm

from geo import catalog
from geo.catalog import Dataset
from geo.errors import DataError
from maillage import settings as settings_mod
from maillage.settings import Settings

#: Called with (bytes done, bytes total or None) while downloading.
Progress = Callable[[int, int | None], None]

_CHUNK = 1 << 16
_MANIFEST = "manifest.json"

#: True while a dashboard page runs (this thread only): sources are never downloaded then.
_PAGE_MODE: contextvars.ContextVar[bool] = contextvars.ContextVar("maillage_page_mode",
                                                                  default=False)
#: Callables telling whether the current thread serves a page (``ui`` registers Streamlit's).
_PAGE_PROBES: list[Callable[[], bool]] = []


def register_page_probe(probe: Callable[[], bool]) -> None:
    """Add a test of "this thread runs a page" (callbacks and fragments included)."""
    if probe not in _PAGE_PROBES:
        _PAGE_PROBES.append(probe)


@contextlib.contextmanager
def page_mode() -> Iterator[None]:
    """Inside the block (this thread), a missing source raises instead of being downloaded."""
    token = _PAGE_MODE.set(True)
    try:
        yield
    finally:
        _PAGE_MODE.reset(token)


def downloads_allowed() -> bool:
    """Whether :func:`resolve` may download here: never while a page runs."""
    return not (_PAGE_MODE.get() or any(probe() for probe in _PAGE_PROBES))


def missing_message(ds: Dataset) -> str:
    """What to do when ``ds`` is neither in the mirror nor in the cache (page views)."""
    return (f"Données « {ds.title} » absentes. Lancez `maillage data` (avec le miroir "
            "../shared/data ou une connexion Internet) puis rechargez la page.")


@dataclass(frozen=True)
class Resolved:
    """Where a dataset was found and how it was checked."""

    dataset: Dataset
    path: Path
    origin: str  # "miroir", "cache" or "téléchargement"
    sha256: str


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_path(s: Settings) -> Path:
    return s.cache_dir / _MANIFEST


def read_manifest(s: Settings) -> dict[str, dict]:
    """The record of what was downloaded into the cache (empty when none)."""
    path = _manifest_path(s)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _write_manifest(s: Settings, manifest: dict[str, dict]) -> None:
    path = _manifest_path(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _corrupt_message(ds: Dataset, where: Path, found: str) -> str:
    return (
        f"Le fichier « {ds.title} » ({where}) est corrompu ou a été modifié : son empreinte "
        f"sha256 {found[:12]}… ne correspond pas à celle du catalogue ({ds.sha256[:12]}…). "
        "Restaurez le fichier d'origine dans le miroir, ou videz le réglage "
        "MAILLAGE_DATA_MIRROR pour le télécharger depuis sa source officielle."
    )


def download(url: str, dest: Path, *, timeout: float, progress: Progress | None = None,
             label: str = "") -> None:
    """Download ``url`` to ``dest`` with a progress bar; raises :class:`DataError`."""
    request = urllib.request.Request(url, headers={"User-Agent": "maillage/0.1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp, dest.open("wb") as out:
            total = resp.headers.get("Content-Length")
            total_n = int(total) if total and total.isdigit() else None
            done = 0
            with tqdm(total=total_n, unit="o", unit_scale=True, desc=label or dest.name,
                      leave=False, disable=None) as bar:
                for block in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(block)
                    done += len(block)
                    bar.update(len(block))
                    if progress is not None:
                        progress(done, total_n)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(
            f"Impossible de télécharger « {label or dest.name} » depuis {url} ({reason}). "
            "Vérifiez la connexion à Internet, ou indiquez un miroir local des données "
            "avec le réglage MAILLAGE_DATA_MIRROR."
        ) from exc


def filter_csv_rows(raw: bytes, column: str, values: tuple[str, ...]) -> bytes:
    """Keep the header and the rows whose ``column`` is in ``values``, bytes untouched."""
    lines = raw.splitlines(keepends=True)
    if not lines:
        return raw
    header = lines[0].decode("utf-8-sig")
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = next(csv.reader([header], delimiter=delimiter))
    if column not in names:
        raise DataError(f"Colonne « {column} » absente du fichier amont : format inattendu.")
    index = names.index(column)
    kept = [lines[0]]
    for line in lines[1:]:
        fields = next(csv.reader([line.decode("utf-8")], delimiter=delimiter), [])
        if len(fields) > index and fields[index] in values:
            kept.append(line)
    return b"".join(kept)


def filter_json_records(raw: bytes, column: str, prefixes: tuple[str, ...]) -> bytes:
    """Keep the records whose ``column`` starts with a prefix, written like the mirror."""
    records = json.loads(raw)
    kept = [r for r in records if str(r.get(column, "")).startswith(prefixes)]
    return json.dumps(kept, indent=1, ensure_ascii=False).encode("utf-8")


def _build_from_upstream(ds: Dataset, s: Settings, workdir: Path,
                         progress: Progress | None) -> bytes:
    """Download the upstream file(s) of ``ds`` and turn them into the mirrored file."""
    counter = iter(range(1_000_000))

    def get(url: str) -> bytes:
        target = workdir / f"upstream{next(counter)}"
        download(url, target, timeout=s.http_timeout, progress=progress, label=ds.title)
        return target.read_bytes()

    if ds.method == "derived":
        from geo import derive  # only needed on this path

        content = derive.build(ds, get, workdir)
        if not ds.byte_exact:
            derive.check(ds, content)
        return content
    raw = get(ds.upstream)
    if ds.method == "csv_rows":
        return filter_csv_rows(raw, ds.filter_column, ds.filter_values)
    if ds.method == "json_records":
        return filter_json_records(raw, ds.filter_column, ds.filter_values)
    return raw


def resolve(name: str, s: Settings | None = None, *, progress: Progress | None = None,
            offline: bool = False, allow_download: bool | None = None) -> Resolved:
    """Return a checked local copy of dataset ``name``.

    Order: the mirror (when set and holding the file), then the download cache,
    then the upstream address. ``offline=True`` refuses to download (CLI wording);
    ``allow_download=False`` too, with the page wording (:func:`missing_message`).
    By default downloads are allowed except inside :func:`page_mode`.
    """
    if allow_download is None:
        allow_download = downloads_allowed()
    s = s or settings_mod.get()
    ds = catalog.get(name)
    if s.data_mirror is not None:
        mirrored = s.data_mirror / ds.path
        if mirrored.is_file():
            found = sha256_of(mirrored)
            if found != ds.sha256:
                raise DataError(_corrupt_message(ds, mirrored, found))
            return Resolved(ds, mirrored, "miroir", found)

    cached = s.cache_dir / ds.path
    manifest = read_manifest(s)
    if cached.is_file():
        found = sha256_of(cached)
        recorded = manifest.get(ds.name, {}).get("sha256")
        if found == ds.sha256 or (not ds.byte_exact and found == recorded):
            return Resolved(ds, cached, "cache", found)
        cached.unlink()  # stale or damaged: fetch again

    if offline:
        raise DataError(
            f"« {ds.title} » est introuvable : ni dans le miroir "
            f"({s.data_mirror or 'aucun miroir réglé'}) ni dans le cache ({s.cache_dir}). "
            "Lancez « maillage data » avec un accès à Internet, ou réglez MAILLAGE_DATA_MIRROR."
        )
    if not allow_download:
        raise DataError(missing_message(ds))

    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
        content = _build_from_upstream(ds, s, Path(tmp), progress)
        found = hashlib.sha256(content).hexdigest()
        if ds.byte_exact and found != ds.sha256:
            raise DataError(
                f"Le fichier « {ds.title} » téléchargé depuis {ds.upstream} ne correspond pas "
                f"au catalogue (sha256 {found[:12]}… au lieu de {ds.sha256[:12]}…) : la source "
                "a peut-être changé. Il n'a pas été utilisé ; signalez-le aux mainteneurs."
            )
        staged = Path(tmp) / "result"
        staged.write_bytes(content)
        os.replace(staged, cached)
    manifest[ds.name] = {
        "path": str(cached),
        "sha256": found,
        "upstream": ds.upstream,
        "downloaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "identical_to_catalogue": found == ds.sha256,
    }
    _write_manifest(s, manifest)
    return Resolved(ds, cached, "téléchargement", found)


def path(name: str, s: Settings | None = None) -> Path:
    """Shortcut: the checked local path of dataset ``name``."""
    return resolve(name, s).path


def text(name: str, s: Settings | None = None) -> str:
    """The dataset's content decoded as UTF-8 (BOM tolerated)."""
    return resolve(name, s).path.read_bytes().decode("utf-8-sig")


def csv_bytes_io(name: str, s: Settings | None = None) -> io.BytesIO:
    """The dataset's bytes wrapped for readers that want a file object."""
    return io.BytesIO(resolve(name, s).path.read_bytes())
