"""The adversarial corpus against a fresh server: the results table of docs/securite.md.

Run: ``.venv/bin/python -m benchmarks.adversarial_report [--data-dir DIR] [--json FILE]``.
Everything stays on 127.0.0.1: the data step prepares a temporary data folder from the
local mirror (or ``--data-dir``, copied, never written), the corpus of
``tests/adversarial.py`` goes in through every entry path (registry CSV import, label
changes, stops file → published plan, indicators import and form, a hostile editor
account), a Streamlit server runs on the copy, and headless Debian chromium opens every
page (a visitor and a signed-in editor at the same time) and every export
(``tests/browser/adversarial_run.py``, the same code as the browser test).

Prints the markdown tables on stdout (surfaces × payload categories: payloads shown
literally / looked for, JavaScript dialogs, canary files, rendering; then each category
with the entries that rightly refused some of it), a French summary on stderr, and
writes the full JSON with ``--json``. Exit code 1 if anything was not inert.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _prepare(data_dir: Path) -> float:
    """Run the data step on ``data_dir`` (local mirror only); returns its duration."""
    t = time.perf_counter()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    env.pop("MAILLAGE_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "maillage.cli", "data"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=900)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path,
                        help="prepared data folder to copy (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="write the full results there")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Chromium introuvable : installez le paquet Debian « chromium ».", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    from tests.browser import adversarial_run as run

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="maillage-adverse-") as tmp:
        work = Path(tmp)
        prepared = args.data_dir
        if prepared is None:
            prepared = work / "prepared"
            print(f"Préparation des données ({_prepare(prepared):.0f} s)…", file=sys.stderr)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=run.LAUNCH_ARGS)
            try:
                result = run.run_all(browser, prepared, work / "run")
            finally:
                browser.close()
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                         "system": platform.platform(), "seconds": round(
                             time.perf_counter() - started)}
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1),
                             encoding="utf-8")
    print(run.markdown_tables(result))
    t = result["totals"]
    bad = [s["title"] for s in result["surfaces"] if not s["ok"]]
    print(f"{t['payloads']} charges, {t['surfaces']} surfaces, {t['checks']} vérifications "
          f"({t['literal']} littérales), {t['dialogs']} alerte(s) JavaScript, "
          f"{len(t['canary'])} évaluation(s) de gabarit, {t['failed_renders']} rendu(s) en "
          f"échec, {t['tiles_requested']} tuiles demandées (hors ligne) ; "
          f"{result['machine']['seconds']} s." + (f" EN ÉCHEC : {', '.join(bad)}" if bad
                                                 else ""), file=sys.stderr)
    return 1 if bad or t["canary"] or t["dialogs"] else 0


if __name__ == "__main__":
    sys.exit(main())
