"""`maillage data` prepares everything; a corrupt source ends in French, exit 2, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from geo import catalog

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "maillage.cli", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=600)


def test_corrupt_mirror_file_stops_the_data_step(tmp_path: Path, mirror: Path) -> None:
    copy = tmp_path / "mirror"
    shutil.copytree(mirror, copy)
    target = copy / catalog.get("filosofi").path
    target.chmod(0o644)
    target.write_bytes(target.read_bytes()[:-10])
    result = _run(["data"], {"MAILLAGE_DATA_MIRROR": str(copy),
                             "MAILLAGE_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2
    assert "Carreaux de 200 m (Filosofi)" in result.stderr
    assert "corrompu" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_subcommand_is_refused_in_french() -> None:
    result = _run(["nimporte"], {})
    assert result.returncode == 2
    assert "erreur" in result.stderr
