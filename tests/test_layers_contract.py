"""The layers of the code are enforced: the import contract holds and can fail; pages stay thin.

``lint-imports`` (import-linter) checks the contracts of ``pyproject.toml``; CI runs it
too. These tests prove the contract is live (a wrong import in a copy is rejected) and
check what a contract cannot: no folium, HTML building or row loops in pages, and no
file or database access in ``analysis/``.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("analysis", "geo", "maillage", "ui")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    dest.mkdir()
    for name in PACKAGES:
        shutil.copytree(ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_the_layer_contract_holds() -> None:
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize(("module", "wrong"), [
    ("analysis/coverage.py", "import ui.widgets  # noqa"),            # analysis → ui
    ("analysis/routing.py", "import sqlalchemy  # noqa"),             # analysis → database
    ("geo/communes.py", "import maillage.services  # noqa"),          # data → services
    ("maillage/registry/store.py", "import maillage.commands  # noqa"),  # store → CLI
    ("maillage/services/__init__.py", "import streamlit  # noqa"),    # service → UI toolkit
])
def test_a_wrong_import_is_rejected(tmp_path: Path, module: str, wrong: str) -> None:
    repo = _copy(tmp_path)
    target = repo / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{wrong}\n", encoding="utf-8")
    out = _lint(repo)
    assert out.returncode != 0, out.stdout
    assert "BROKEN" in out.stdout or "broken" in out.stdout


def _calls(path: Path) -> list[ast.AST]:
    return list(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def test_pages_have_no_folium_html_or_row_loops() -> None:
    found = []
    for page in sorted((ROOT / "pages").glob("*.py")):
        for node in _calls(page):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "folium":
                found.append(f"{page.name}: folium.{node.attr}")
            if isinstance(node, ast.Attribute) and node.attr in ("iterrows", "itertuples"):
                found.append(f"{page.name}: {node.attr}")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(n.split(".")[0] in ("folium", "streamlit_folium", "html") for n in names):
                    found.append(f"{page.name}: import {names}")
    assert not found, found


#: Calls that read or write files, databases or the network.
_IO_NAMES = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "read_file",
             "to_file", "read_csv", "to_csv", "read_parquet", "to_parquet", "load", "save",
             "savez", "savez_compressed", "connect", "create_engine", "urlopen", "unlink",
             "mkdir", "replace", "read_json", "to_json_file", "dump"}
#: ``load``/``save``/``replace``/``dump`` are I/O only on these objects.
_IO_OWNERS = {"np", "numpy", "json", "pickle", "os", "sqlite3", "pd", "gpd", "shutil"}


def test_analysis_modules_open_no_file_or_database() -> None:
    found = []
    for path in sorted((ROOT / "analysis").glob("*.py")):
        for node in _calls(path):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            devnull = bool(node.args) and ast.unparse(node.args[0]) == "os.devnull"
            if isinstance(f, ast.Name) and f.id == "open" and not devnull:  # fd silencing ok
                found.append(f"{path.name}:{node.lineno} open()")
            elif isinstance(f, ast.Attribute) and f.attr in _IO_NAMES:
                owner = f.value.id if isinstance(f.value, ast.Name) else None
                generic = f.attr in ("load", "save", "replace", "dump", "connect", "mkdir")
                if not generic or owner in _IO_OWNERS:
                    found.append(f"{path.name}:{node.lineno} {owner}.{f.attr}()")
    assert not found, found
