"""Every page, on a phone, shows no English nor raw missing values.

What Streamlit writes itself is put into French by ``ui/theme.py``; what stays English
is listed in ``docs/interface.md``. The check (:func:`tests.browser.pages_walk.
french_problems`) reads the visible text, the screen-reader labels (``aria-label``) and
the dropdown of a multiselect once opened. The desktop makes the same check on every
page in the anonymous walk (``test_anonymous_readonly.py``), before and after clicking
everything.
"""

from __future__ import annotations

from tests.browser.conftest import _local_only
from tests.browser.pages_walk import PATHS, french_problems, open_page

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def test_no_english_nor_raw_missing_values_on_a_phone(browser, app_server: str) -> None:
    context = browser.new_context(locale="fr-FR", **PHONE)
    context.route("**/*", _local_only)
    try:
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        found: dict[str, list[str]] = {}
        opened = 0
        for path in PATHS:
            open_page(pg, app_server, path)
            bad, had_multiselect = french_problems(pg)
            opened += had_multiselect
            if bad:
                found[path or "accueil"] = bad
        assert opened, "aucune liste à choix multiples ouverte : le test ne vérifie plus rien"
        assert found == {}
    finally:
        context.close()
