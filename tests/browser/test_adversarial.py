"""The adversarial corpus, in through every entry path, is inert on every page and export.

One batch: every payload of :mod:`tests.adversarial` becomes a place (CSV import, label
change with the payload as comment), a stop of a published tour plan and an indicator
row, written by an editor account whose name is hostile too. Then a visitor and a
signed-in editor open every page at the same time in Chromium (see
:mod:`tests.browser.adversarial_run`): no JavaScript dialog, no canary file, no page
that fails to render, no request to another host than the server (map tiles aside),
and the payloads shown literally.

The server is a private one on a copy of the prepared data (the corpus must not leak
into the other browser tests, which share ``app_server``). The results, payload by
field by surface, are written as JSON in the pytest temporary folder
(``adversarial-results.json``); ``benchmarks/adversarial_report.py`` prints them as
the table of ``docs/securite.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import adversarial as adv
from tests.browser import adversarial_run as run

#: Every surface visited; each must be in the results.
SURFACES = {
    "accueil", "couverture", "isochrones", "points-public", "export-registre-csv", "arrets",
    "tournees-public", "trouver", "indicateurs-public", "points-editeur", "tournees-editeur",
    "export-tournees-ics", "export-tournees-csv", "tournees-plans", "indicateurs-editeur",
    "feuille", "rapport", "export-registre-geojson", "export-indicateurs-csv",
}
#: Surfaces showing text of the corpus: each must have checked some of it.
WITH_TEXT = SURFACES - {"accueil", "isochrones", "arrets", "tournees-public",
                        "indicateurs-public", "rapport"}


@pytest.mark.browser
def test_corpus_is_inert_on_every_page_and_export(browser, browser_data_dir: Path,
                                                  tmp_path_factory: pytest.TempPathFactory
                                                  ) -> None:
    work = tmp_path_factory.mktemp("adversarial")
    result = run.run_all(browser, browser_data_dir, work)
    out = tmp_path_factory.getbasetemp() / "adversarial-results.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\n{run.markdown_tables(result)}\n(résultats : {out})")

    surfaces = {s["key"]: s for s in result["surfaces"]}
    problems = {k: {"rendu": s["rendered"], "alertes": s["dialogs"], "échecs": s["failures"],
                    "canari": s["canary"],
                    "non littéral": [(c["payload"], c["field"], c["shown"])
                                     for c in s["checks"] if not c["literal"]]}
                for k, s in surfaces.items() if not s["ok"]}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    assert set(surfaces) == SURFACES, sorted(set(surfaces) ^ SURFACES)
    assert result["totals"]["canary"] == []
    assert result["totals"]["dialogs"] == 0 and result["totals"]["failed_renders"] == 0
    unchecked = sorted(k for k in WITH_TEXT if not surfaces[k]["checks"])
    assert not unchecked, f"surfaces sans vérification : {unchecked}"

    # Every payload went in through every entry path, except what a field rightly refuses.
    entries = result["entries"]
    assert entries["registry"]["refused"] == ["long-5000"]
    assert entries["registry"]["accepted"] == len(adv.PAYLOADS) - 1
    assert entries["tours"]["refused"] == ["long-5000"]
    # an indicator cell holds at most 200 characters, never a control character
    assert set(entries["indicators"]["refused"]) == {
        "long-450", "control-chars", "newline", "blank-lines", "crlf", "md-reference"}
    # Every accepted payload was looked for on at least three surfaces.
    seen: dict[str, set[str]] = {}
    for s in result["surfaces"]:
        for c in s["checks"]:
            seen.setdefault(c["payload"], set()).add(s["key"])
    thin = sorted(p.id for p in adv.PAYLOADS if p.id != "long-5000"
                  and len(seen.get(p.id, ())) < 3)
    assert not thin, thin
