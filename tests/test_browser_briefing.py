"""The Briefing page in Debian's Chromium: every download button has an accessible name of its own
(what a screen reader announces, read from the browser's accessibility tree), and axe-core finds
nothing serious on the national pack (tests/test_browser.py checks a force's)."""

from __future__ import annotations

import os
import re
import shutil

import pytest

pytestmark = pytest.mark.browser

if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

READY = "Services listed in the briefing"


def _open(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.get_by_text(READY).first.wait_for(timeout=90_000)
    page.wait_for_timeout(1000)
    return context, page


def _accessible_names(page) -> list[str]:
    """The accessible name of every download button, as the accessibility tree gives it."""
    buttons = page.locator('[data-testid="stDownloadButton"] button[data-testid^="stBaseButton"]:visible')
    names = []
    for i in range(buttons.count()):
        snapshot = buttons.nth(i).aria_snapshot()  # '- button "Ranked chart, PNG":' and the label's paragraph
        found = re.match(r'- button "(.*)":?$', snapshot.splitlines()[0])
        assert found, snapshot
        names.append(found.group(1))
    return names


def test_every_download_button_has_an_accessible_name_of_its_own(app_url, browser):
    context, page = _open(browser, app_url + "/briefing?force=E23000006&scenario=cheshire_hru_like")
    names = _accessible_names(page)
    assert len(names) == 2 + 5 * 4 + 2 + 2  # zip, PDF; five charts' PNG, SVG, CSV, XLSX; sharing; services
    assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)
    assert not {"PNG", "SVG", "CSV", "XLSX"} & set(names)
    for name in (
        "Ranked chart, PNG",
        "Ranked chart, SVG",
        "Ranked chart data, CSV",
        "Ranked chart data, XLSX",
        "Ranked chart, square PNG (1080×1080)",
        "Ranked chart, landscape PNG (1200×675)",
        "Map, PNG",
        "Scenario cost chart data, XLSX",
        "One-page PDF briefing (A4)",
    ):
        assert name in names
        # Found by that name, as assistive technology finds it, exactly once.
        assert page.get_by_role("button", name=name, exact=True).count() == 1, name
    context.close()


def test_the_national_pack_has_no_serious_accessibility_violations(app_url, browser):
    from axe_playwright_python.sync_playwright import Axe

    context, page = _open(browser, app_url + "/briefing")
    page.get_by_text("Preview the images for sharing").first.click()  # the sharing images and their alt text
    page.wait_for_timeout(1000)
    names = _accessible_names(page)
    assert "Coverage chart, square PNG (1080×1080)" in names and len(set(names)) == len(names)
    images = page.locator('[data-testid="stExpander"] img')
    assert images.count() == 2
    assert all((images.nth(i).get_attribute("alt") or "").startswith("Three 100% stacked") for i in range(2))
    violations = Axe().run(page).response["violations"]
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious
    context.close()
