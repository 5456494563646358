"""The Fédération's tour journey in a real browser, on the running server.

A signed-in Fédération account plans two weeks of tours from a saved stop selection of
three town halls, one of them fixed on Saturdays (a selection the « Arrêts proposés »
form cannot make: its « Jour fixe » goes to every stop kept, so it is saved through the
store), publishes the plan, records the attendance of a visit, and the Indicateurs page
counts the workshop at once (no restart, no waiting for the figures' cache). The same
steps run from a selection saved through the page in ``test_coordinator_journey.py``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from geo import tours_io
from maillage import auth, db, selection_store
from tests.browser import journey_steps as step


def test_a_federation_account_plans_publishes_and_records_a_tour(page, app_server: str,
                                                                 browser_data_dir: Path
                                                                 ) -> None:
    s = step.settings_for(browser_data_dir)
    user, password = step.new_account(s, "tournees")
    try:
        halls = {h.key: h for h in tours_io.town_halls(s)}
        keys = ("mairie-97209", "mairie-97213", "mairie-97229")
        rows = pd.DataFrame({"nom": [halls[k].name for k in keys],
                             "lon": [halls[k].lon for k in keys],
                             "lat": [halls[k].lat for k in keys], "id": list(keys),
                             "duree_min": 90, "jour_fixe": ["sam 08:00-12:00", "", ""]})
        selection = selection_store.save_selection(auth.Actor(user, "federation"),
                                                   f"Parcours {user}", rows, None, s)
    finally:
        db.engine(s).dispose()
    fixed = selection.stops[0]
    today = date.today()
    monday = today - timedelta(days=today.weekday() + 7)  # last week, then this one

    page.set_default_timeout(120_000)  # a loaded machine: the first views are slow
    page.goto(f"{app_server}/tournees")
    page.get_by_role("heading", name="Tournées des ateliers mobiles").wait_for(timeout=180_000)
    step.sign_in(page, user, password)
    step.settle(page)

    step.plan_tours(page, step.selection_option(s, selection.pk), monday,
                    {fixed.name: fixed.fixed_label})
    plan = step.publish(page, s, f"Tournées {user}")
    step.assert_fixed_on_saturdays(plan, keys[0], monday)
    year = plan.visits["visit_date"].iloc[0].year

    before = step.indicators_before(page, browser_data_dir, year)
    step.record_attendance(page, s, plan)
    step.indicators_after(page, browser_data_dir, year, before)
