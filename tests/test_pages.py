"""Every page of the dashboard runs on the real data without an exception (Streamlit AppTest).

The browser tests drive the public pages in Chromium; this checks every page's script,
including the planners' ones, in the test process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from maillage import settings

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture()
def app_env(prepared_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILLAGE_DATA_DIR", str(prepared_data_dir))
    settings.get.cache_clear()
    yield
    settings.get.cache_clear()


def test_every_page_is_in_the_navigation() -> None:
    import ast

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    listed = {
        node.elts[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Constant)
        and str(node.elts[0].value).endswith(".py")
    }
    assert listed == set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(page: str, app_env) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert not errors, errors
    assert at.title, "la page n'affiche pas de titre"
