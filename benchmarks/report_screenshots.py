"""Screenshots of the documents of issue #20, as a reader sees them printed or on a phone.

Run: ``.venv/bin/python -m benchmarks.report_screenshots`` on a prepared data folder
(``maillage data``). Builds, with the same services as ``maillage report``:

* the coverage report of CAP Nord (15 minutes, five proposed stops) and takes the first
  A4 page of its print preview → ``docs/screenshots/rapport-couverture-cap-nord.png``;
* the sheet of a France services place reached from an address of Fort-de-France, its
  A4 print preview → ``docs/screenshots/fiche-lieu-a4.png`` and its phone view (375 × 812)
  → ``docs/screenshots/fiche-lieu-telephone.png``.

Print previews: Debian chromium (headless, Playwright) with print media emulated and an
A4 viewport (794 × 1123 px at 96 dpi); the page margins of ``@page`` (which a screenshot
does not apply) are drawn as padding. The HTML files are kept next to the screenshots
only with ``--keep-html``. Prints the sizes and the requests the pages made (none).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
A4 = {"width": 794, "height": 1123}
PHONE = {"width": 375, "height": 812}
#: ``@page`` margins of maillage/services/documents.py (14 mm 13 mm 15 mm) at 96 dpi.
MARGINS = "body{padding:53px 49px 57px !important}"
DAY = date(2026, 12, 1)
PLACE = "fs-2288"  # France services de Fort-de-France - Terres Sainville
FROM = "12 rue Victor Hugo Fort-de-France"


def _shoot(browser, html: str, path: Path, viewport: dict, *, print_media: bool,
           mobile: bool = False) -> list[str]:
    ctx = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=mobile,
                              has_touch=mobile, device_scale_factor=2 if mobile else 1)
    page = ctx.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.set_content(html, wait_until="load")
    if print_media:
        page.emulate_media(media="print")
        page.add_style_tag(content=MARGINS)
    page.screenshot(path=str(path))
    ctx.close()
    return [u for u in asked if not u.startswith(("data:", "about:"))]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help="dossier des captures")
    parser.add_argument("--keep-html", action="store_true", help="garde aussi les fichiers HTML")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from maillage.services.report import CoverageReportRequest, CoverageReportService
    from maillage.services.sheet import SheetRequest, SheetService
    from maillage.services.stops import StopsRequest

    t0 = time.perf_counter()
    reports = CoverageReportService.load()
    report = reports.run(CoverageReportRequest(
        scope="CAP Nord", minutes=15, date=DAY,
        stops=StopsRequest(p=5, minutes=15, solver="highs", time_limit=30))).html
    sheets = SheetService.load()
    lon, lat, label = sheets.origin_of(FROM)
    sheet = sheets.run(SheetRequest(PLACE, (lon, lat), label, DAY)).html
    built_s = time.perf_counter() - t0

    args.out.mkdir(parents=True, exist_ok=True)
    if args.keep_html:
        (args.out / "rapport-couverture-cap-nord.html").write_text(report, encoding="utf-8")
        (args.out / "fiche-lieu.html").write_text(sheet, encoding="utf-8")
    shots = {"rapport-couverture-cap-nord.png": (report, A4, True, False),
             "fiche-lieu-a4.png": (sheet, A4, True, False),
             "fiche-lieu-telephone.png": (sheet, PHONE, False, True)}
    external: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                     args=["--no-sandbox", "--disable-gpu",
                                           "--disable-background-networking"])
        try:
            for name, (html, viewport, print_media, mobile) in shots.items():
                external[name] = _shoot(browser, html, args.out / name, viewport,
                                        print_media=print_media, mobile=mobile)
        finally:
            browser.close()
    out = {"built_s": round(built_s, 1),
           "report_kB": round(len(report.encode()) / 1024, 1),
           "sheet_kB": round(len(sheet.encode()) / 1024, 1),
           "screenshots": [str((args.out / n).relative_to(ROOT)) if args.out.is_relative_to(ROOT)
                           else str(args.out / n) for n in shots],
           "external_requests": external}
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return out


if __name__ == "__main__":
    main()
