"""The Postcode lottery in Debian's Chromium: type a postcode, see who to call, keep keyboard focus, pass axe."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.apprunner import record_outside_requests

pytestmark = pytest.mark.browser

if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

ANSWER = ".st-key-lottery_answer"


def _lottery(browser, app_url, path: str = "/lottery"):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url + path)
    page.get_by_text("The postcode lottery in numbers").wait_for(timeout=60_000)
    return context, page, outside


def test_typing_a_postcode_shows_999_and_the_helpline_number(app_url, browser):
    context, page, outside = _lottery(browser, app_url)
    box = page.get_by_label("Postcode, district, council or force")
    box.fill("SO14 3JA")
    box.press("Enter")
    answer = page.locator(ANSWER)
    answer.get_by_role("heading", name="Hampshire: Multi-agency stalking unit").wait_for(timeout=30_000)
    answer.get_by_text("0808 802 0300", exact=True).wait_for(timeout=10_000)
    text = answer.inner_text()
    assert "999" in text and "101" in text
    assert text.index("999") < text.index("0808 802 0300")  # the emergency number comes first
    helpline = answer.get_by_role("link", name="www.suzylamplugh.org")
    assert helpline.get_attribute("href") == "https://www.suzylamplugh.org/"
    # The profile link is the navigation's page link to the Map with ?force=. Streamlit 1.67 writes the
    # default page's address as "" so the href is the relative "?force=…": a click goes to the Map (next
    # test), but a copied link would resolve against /lottery. Pinned so a fix upstream is noticed.
    profile = answer.get_by_role("link", name="Open the Hampshire profile on the map")
    assert profile.get_attribute("href") == "?force=E23000030"
    assert "q=SO14+3JA" in page.url or "q=SO14%203JA" in page.url
    assert outside == [], f"the page tried to reach other hosts: {outside[:5]}"
    context.close()


# True once the page's script has finished its latest run (Streamlit marks each change of run state).
_IDLE = """() => {
    const marks = performance.getEntriesByType('mark').filter((m) => m.name === 'running' || m.name === 'notRunning');
    return marks.length > 1 && marks[marks.length - 1].name === 'notRunning';
}"""


def test_the_profile_link_opens_the_force_on_the_map(app_url, browser):
    context, page, _ = _lottery(browser, app_url, "/lottery?q=SO14")
    # As a reader would: once the answer has finished arriving (a click on a link while the page is
    # still running can be overtaken by that run's end).
    page.wait_for_function(_IDLE, timeout=60_000)
    page.get_by_role("link", name="Open the Hampshire profile on the map").click()
    page.wait_for_url("**/?force=E23000030", timeout=30_000)
    page.get_by_text("Demand beside provision").first.wait_for(timeout=60_000)  # the Map's force profile
    assert "/lottery" not in page.url
    assert page.get_by_role("heading", name="Hampshire", exact=True).count() >= 1
    context.close()


def test_a_scottish_postcode_gets_police_scotland_and_no_england_and_wales_services(app_url, browser):
    context, page, _ = _lottery(browser, app_url, "/lottery?q=EH1%201YZ")
    answer = page.locator(ANSWER)
    answer.get_by_role("heading", name="Who to contact in Scotland").wait_for(timeout=30_000)
    text = answer.inner_text()
    assert "Police Scotland" in text and "999" in text
    assert "0808 802 0300" not in text and "Paladin" not in text
    context.close()


def test_choosing_a_suggestion_by_keyboard_puts_focus_in_the_answer(app_url, browser):
    context, page, _ = _lottery(browser, app_url, "/lottery?q=EC2")
    button = page.get_by_role("button", name="EC2A")
    button.wait_for(timeout=30_000)
    button.focus()
    page.keyboard.press("Enter")
    page.locator(ANSWER).get_by_text("0808 802 0300", exact=True).wait_for(timeout=30_000)
    page.wait_for_function(
        f"document.activeElement && document.activeElement.closest('{ANSWER}') !== null", timeout=10_000
    )
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Your answer"
    # The next Tab goes on into the answer (its first link), not back to the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate(f"document.activeElement.closest('{ANSWER}') !== null")
    context.close()


@pytest.mark.parametrize(
    "path, ready",
    [
        ("/lottery?q=CH1%202AB", "Which force?"),  # two cards side by side, contacts, sources
        ("/lottery?q=EH1%201YZ", "Who to contact in Scotland"),
        ("/lottery?q=IM1%201AA", "Who to contact in the Isle of Man"),
    ],
)
def test_the_answer_has_no_serious_accessibility_violations(app_url, browser, path, ready):
    # As in tests/test_browser.py: axe-core's WCAG rules; anything serious or critical fails.
    from axe_playwright_python.sync_playwright import Axe

    context, page, _ = _lottery(browser, app_url, path)
    page.get_by_text(ready).first.wait_for(timeout=60_000)
    page.get_by_text("Where these numbers and addresses come from").first.click()  # open the sources too
    page.wait_for_timeout(1500)
    violations = Axe().run(page).response["violations"]
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious
    context.close()
