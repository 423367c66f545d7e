"""Every in-app link on every page leads somewhere: no "Page not found" (a hand-built /map?force= once did)."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urljoin, urlparse

import pytest

from tests.apprunner import record_outside_requests

pytestmark = pytest.mark.browser

if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

# Each page as a reader reaches it, with what shows once it has run (the links are drawn by then).
PAGES = [
    ("/?force=E23000006", "Demand beside provision"),
    ("/lottery?q=SO14", "The postcode lottery in numbers"),
    ("/scenarios", "Cost by year."),
    ("/briefing?force=E23000006", "Services listed in the briefing"),
    ("/evidence", "Upload an edited register"),
    ("/methods", "How a force area is classed"),
]


def _in_app_links(page, app_url: str) -> set[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    host = urlparse(app_url).netloc
    links = set()
    for href in hrefs:
        if not href or href.startswith(("#", "mailto:", "tel:")):
            continue
        absolute = urljoin(page.url, href)  # as the browser resolves it: against the page it is on
        parsed = urlparse(absolute)
        if parsed.netloc == host and not parsed.path.startswith(("/app/static", "/media", "/_stcore")):
            links.add(absolute)
    return links


def test_every_in_app_link_on_every_page_opens_a_page(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = record_outside_requests(context, app_url)
    page = context.new_page()
    found: dict[str, str] = {}
    for path, ready in PAGES:
        page.goto(app_url + path)
        page.get_by_text(ready).first.wait_for(timeout=60_000)
        for link in _in_app_links(page, app_url):
            found.setdefault(link, path)
    assert found, "no in-app links were found"
    broken = []
    for link, where in sorted(found.items()):
        page.goto(link)
        page.locator("[data-testid='stMain']").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        if page.get_by_text("Page not found").count():
            broken.append(f"{link} (linked from {where})")
    assert broken == []
    assert outside == []
    context.close()


@pytest.mark.parametrize(
    ("path", "ready", "at_least"),
    [("/?force=E23000006", "Over time.", 2), ("/scenarios", "Cost by year.", 1), ("/lottery?q=SO14", "Gini", 2)],
)
def test_charts_fit_a_phone_screen(app_url, browser, path, ready, at_least):
    """At 390 px every chart on the page is drawn within the screen, not cut off on the right."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(app_url + path)
    page.get_by_text(ready).first.wait_for(timeout=60_000)
    page.wait_for_timeout(2500)
    charts = page.locator(".vega-embed")
    assert charts.count() >= at_least
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, f"chart {index} runs off a 390 px screen"
    context.close()
