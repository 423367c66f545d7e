"""The running app in Debian's Chromium: 43 force shapes, the legend, a click, and no CDN at all."""

from __future__ import annotations

import shutil

import pytest

from tests.apprunner import launch_chromium, record_outside_requests, running_app, wait_for_shapes

pytestmark = pytest.mark.browser

if not shutil.which("chromium") and not __import__("os").path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def app_url():
    with running_app() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def test_map_draws_43_forces_and_legend_without_internet(app_url, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url)
    frame = wait_for_shapes(page)
    assert frame.locator("path.leaflet-interactive").count() == 43
    legend = frame.locator(".atlas-legend")
    legend.wait_for()
    legend_text = legend.inner_text()
    for label in ("Multi-agency stalking unit", "National services only", "Unknown (not searched)"):
        assert label in legend_text
    # The key folds away to show the forces under it, and comes back.
    item = frame.locator(".atlas-legend-item").first
    frame.get_by_role("button", name="Hide key").click()
    item.wait_for(state="hidden")
    frame.get_by_role("button", name="Show key").click()
    item.wait_for(state="visible")
    attribution = frame.locator(".leaflet-control-attribution").inner_text()
    assert "Office for National Statistics" in attribution
    page.get_by_text("All 43 force areas").wait_for()
    page.screenshot(path=str(tmp_path / "map.png"), full_page=True)
    assert outside == [], f"the page tried to reach other hosts: {outside[:5]}"
    context.close()


def test_on_a_narrow_window_the_columns_stack_and_the_key_starts_folded(app_url, browser):
    context = browser.new_context(viewport={"width": 800, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    frame = wait_for_shapes(page)
    frame.get_by_role("button", name="Show key").wait_for(timeout=10_000)
    assert not frame.locator(".atlas-legend-item").first.is_visible()
    # The force table sits below the map, not squeezed beside it.
    map_box = page.locator("iframe").first.bounding_box()
    table_box = page.get_by_text("All 43 force areas").bounding_box()
    assert table_box["y"] > map_box["y"] + map_box["height"]
    frame.get_by_role("button", name="Show key").click()
    frame.locator(".atlas-legend-item").first.wait_for(state="visible")
    context.close()


def test_requests_to_other_hosts_fail_and_are_recorded(app_url, browser):
    # The guard the no-CDN tests rely on: a request for a CDN fails in this browser and is listed.
    context = browser.new_context()
    outside = record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url + "/_stcore/health")
    # no-cors, so only a network failure (not a CORS refusal) can reject the fetch.
    outcome = page.evaluate(
        "fetch('https://unpkg.com/leaflet@1.9.3/dist/leaflet.js', {mode: 'no-cors'})"
        ".then(() => 'reached', () => 'failed')"
    )
    assert outcome == "failed"
    assert outside == ["https://unpkg.com/leaflet@1.9.3/dist/leaflet.js"]
    context.close()


def test_hovering_a_force_names_it_with_its_class_and_population(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    frame = wait_for_shapes(page)
    # Features are drawn in code order; index 5 is E23000006, Cheshire. The event goes to the shape
    # itself: a real pointer at its centre could land on a service badge, which has its own tooltip.
    frame.locator("path.leaflet-interactive").nth(5).dispatch_event("mouseover")
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    text = tooltip.inner_text()
    assert "Cheshire" in text and "Multi-agency stalking unit" in text
    assert "1,119,495" in text  # ONS mid-2023 population, as in data/forces.csv
    context.close()


def test_clicking_a_force_opens_its_profile(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url)
    frame = wait_for_shapes(page)
    # Features are drawn in code order; index 5 is E23000006, Cheshire.
    frame.locator("path.leaflet-interactive").nth(5).dispatch_event("click")
    page.get_by_role("heading", name="Cheshire").wait_for(timeout=20_000)
    page.get_by_text("Cheshire: Multi-agency stalking unit.").wait_for()
    assert "force=E23000006" in page.url
    context.close()


def test_link_with_force_reproduces_the_view(app_url, browser):
    context = browser.new_context()
    record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url + "/?force=E23000034")
    page.get_by_role("heading", name="City of London").wait_for(timeout=30_000)
    page.get_by_text("looked for a stalking-specific local service here and found none").wait_for()
    context.close()


def test_postcode_link_reproduces_the_answer_when_opened_first(browser):
    # A shared link may be the first page anyone opens on a fresh server: it must still run inside the
    # app (sidebar, wide layout), not as a stand-alone page script.
    with running_app() as fresh_url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        outside = record_outside_requests(context, fresh_url)
        page = context.new_page()
        page.goto(fresh_url + "/lottery?q=SO14")
        page.get_by_role("heading", name="Hampshire: Multi-agency stalking unit").wait_for(timeout=30_000)
        page.get_by_text("Data vintage").wait_for(timeout=10_000)
        assert outside == []
        context.close()


@pytest.mark.parametrize(
    "path, ready",
    [
        ("/?force=E23000006", "Demand beside provision"),
        ("/lottery?q=SO14", "The postcode lottery in numbers"),
        ("/scenarios", "Cost by year."),
        ("/briefing?force=E23000006", "Services listed in the briefing"),
        ("/evidence", "Upload an edited register"),
        ("/methods", "How a force area is classed"),
    ],
)
def test_no_serious_accessibility_violations(app_url, browser, path, ready):
    # axe-core's WCAG rules on each page as a visitor sees it. "Minor" findings inside Streamlit's own
    # widgets are left out; anything serious or critical (contrast, names, keyboard access) fails.
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url + path)
    page.get_by_text(ready).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    violations = Axe().run(page).response["violations"]
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious
    context.close()
