"""The Scenario planner in Debian's Chromium: the reported bug (a ramp-up typed before a preset switch moved
the cash total one unrelated click later), the sticky summary at desktop and phone widths, and axe-core.

Screenshots for a human to look at: bench/out/planner_1440.png and bench/out/planner_390.png.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
import yaml

from coverage import paths
from coverage.model import atlas_data
from coverage.outputs.scenario_charts import money
from coverage.planner.costing import run_scenario
from coverage.planner.demand import demand_offences
from coverage.planner.schema import load_preset
from tests.apprunner import record_outside_requests

pytestmark = pytest.mark.browser

if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

CASH = "Total cost, cash (nominal)"
SUMMARY = ".st-key-scn_summary"
OUT = paths.REPO_ROOT / "bench" / "out"
# The preset box shows each preset's name, as written in its file.
PRESET_NAMES = {
    path.stem: yaml.safe_load(path.read_text())["name"]
    for path in sorted((paths.DATA_DIR / "scenarios" / "presets").glob("*.yaml"))
}
IDLE = (
    "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'"
)


def core_cash(preset: str) -> str:
    """A preset's own cash total from the core alone, formatted as the page formats it."""
    atlas = atlas_data.load_all()
    scenario = load_preset(preset)
    existing = atlas_data.forces_with_multi_agency_unit(atlas.forces, atlas.register)
    offences = demand_offences(scenario, atlas.crime, atlas.indicators).offences
    return money(run_scenario(scenario, atlas.forces, offences, existing_units=existing).totals["total_cost_nominal"])


def settle(page) -> None:
    """Wait until the script has stopped running, and is still stopped a moment later."""
    for _ in range(2):
        page.wait_for_timeout(400)
        page.wait_for_function(IDLE, timeout=60_000)


def cash(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=CASH)
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def choose(page, label: str, option: str) -> None:
    """Pick an option of a select box (its list can close again if a rerun redraws the box: open it again)."""
    box = page.get_by_role("combobox", name=label)
    for _ in range(3):
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
        except sync_api.TimeoutError:
            settle(page)
            continue
        return
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def open_planner(browser, app_url: str, viewport: dict):
    context = browser.new_context(viewport=viewport)
    outside = record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url + "/scenarios")
    page.get_by_text("Cost by year.").first.wait_for(timeout=60_000)
    settle(page)
    return context, page, outside


def test_a_ramp_up_typed_before_a_preset_switch_never_moves_the_new_presets_total(app_url, browser):
    context, page, outside = open_planner(browser, app_url, {"width": 1440, "height": 900})
    cheshire = cash(page)
    assert cheshire == core_cash("cheshire_hru_like")

    page.get_by_role("tab", name="Assumptions").click()
    ramp = page.get_by_label(re.compile(r"^Ramp-up"))
    ramp.fill("100")
    ramp.press("Enter")
    settle(page)
    assert cash(page) != cheshire  # the ramp-up was used: fully staffed from year 1 costs more

    choose(page, "Unit model (preset)", PRESET_NAMES["advocacy_only"])
    settle(page)
    switched = cash(page)

    # unrelated clicks: another tab and back (no rerun), then a button that reruns the script, which is when
    # a value left in an old widget would be read back
    page.get_by_role("tab", name="Sensitivity").click()
    settle(page)
    page.get_by_role("tab", name="Results").click()
    settle(page)
    assert cash(page) == switched, "an unrelated click moved the cash total"
    page.get_by_role("tab", name="Compare scenarios").click()
    page.get_by_role("button", name="Add the scenario on screen").click()
    page.get_by_text("to the comparison (1 of 4)").wait_for(timeout=30_000)
    settle(page)
    page.get_by_role("tab", name="Results").click()
    settle(page)
    assert cash(page) == switched, "an unrelated click moved the cash total"
    assert switched == core_cash("advocacy_only")
    page.get_by_role("tab", name="Assumptions").click()
    own = ", ".join(f"{v * 100:g}" for v in load_preset("advocacy_only").unit_models[0].ramp_up.value)
    assert page.get_by_label(re.compile(r"^Ramp-up")).input_value() == own
    assert outside == [], f"the page tried to reach other hosts: {outside[:5]}"
    context.close()


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_summary_stays_in_view_beside_the_roles_table(app_url, browser, width, height):
    context, page, _ = open_planner(browser, app_url, {"width": width, "height": height})
    total = cash(page)
    page.get_by_role("tab", name="Assumptions").click()
    page.get_by_role("heading", name="Roles", exact=True).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    summary = page.locator(SUMMARY)
    assert summary.is_visible()
    box = summary.bounding_box()
    assert box is not None and box["height"] > 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
    title = page.get_by_role("heading", name="Scenario planner", exact=True).bounding_box()
    assert title["y"] + title["height"] < 0, "the page did not scroll past the top"  # so the summary is stuck
    # nothing (the app's header) covers it: the point at its middle belongs to it
    covered = page.evaluate(
        "([x, y]) => !document.elementFromPoint(x, y)?.closest('.st-key-scn_summary')",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert not covered, "the sticky summary is hidden under another element"
    assert f"cash {total}" in summary.inner_text()
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"planner_{width}.png"))
    if width == 1440:
        # As in tests/test_browser.py: axe-core's WCAG rules; anything serious or critical fails.
        from axe_playwright_python.sync_playwright import Axe

        violations = Axe().run(page).response["violations"]
        serious = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], serious
    context.close()
