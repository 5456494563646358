"""The coordinator's journey end to end, in one Chromium page on the running server.

One Fédération account signs in through the sidebar; on « Points numériques » it adds a
place by clicking the map (phone typed « 0596 52 00 00 », no SIRET) and labels it; a
reload keeps it signed in; on « Arrêts proposés » it proposes stops and saves them as a
selection; on « Tournées » it plans two weeks from that selection with its stop fixed on
Saturdays, publishes the plan and records the attendance of a visit; « Indicateurs »
counts the workshop at once, without a reload. (Issue #16, « Must show ».)
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from pathlib import Path

from tests.browser import journey_steps as step

FIXED_DAY = "sam 08:00-12:00"


def test_the_coordinators_journey_end_to_end(page, app_server: str,
                                             browser_data_dir: Path) -> None:
    s = step.settings_for(browser_data_dir)
    username, password = step.new_account(s, "coordinatrice")
    tag = secrets.token_hex(3)
    page.set_default_timeout(120_000)  # a loaded machine: the first views are slow

    # sign in, add a place by a click on the map, label it
    step.open_places(page, app_server)
    step.sign_in(page, username, password)
    place = step.add_place_by_map_click(page, s, f"Atelier privé {tag}", "0596 52 00 00")
    step.label_place(page, s, place, username)

    # a reload: still signed in
    step.reload_still_signed_in(page, username)

    # Arrêts proposés: the fewest stops the page offers, fixed on Saturdays, saved
    step.go(page, "Arrêts proposés", "Arrêts proposés pour les ateliers mobiles")
    selection = step.propose_and_save_stops(page, s, username, f"Arrêts {tag}",
                                            stops=1, fixed_day=FIXED_DAY)
    fixed = selection.stops[0]
    assert fixed.fixed_day == 5, fixed  # samedi, as the planner reads the selection

    # Tournées: plan from that selection (last week, then this one), publish
    today = date.today()
    monday = today - timedelta(days=today.weekday() + 7)
    step.go(page, "Tournées", "Tournées des ateliers mobiles")
    step.plan_tours(page, step.selection_option(s, selection.pk), monday,
                    {fixed.name: fixed.fixed_label})
    plan = step.publish(page, s, f"Tournées {tag}")
    step.assert_fixed_on_saturdays(plan, fixed.key, monday)
    year = plan.visits["visit_date"].iloc[0].year

    # attendance of a visit; Indicateurs counts it without a reload
    before = step.indicators_before(page, browser_data_dir, year)
    step.record_attendance(page, s, plan)
    step.indicators_after(page, browser_data_dir, year, before)
