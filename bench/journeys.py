"""Each user's job, scripted in a real browser: interactions, waiting time and wall time.

    python bench/journeys.py            # desktop (1440×900) and phone (390×844)
    python bench/journeys.py --json

Starts the app (tests/apprunner.py: loopback only, no internet) and drives Debian's Chromium through:

1. the commissioner: "Does Lincolnshire have anything like Cheshire's unit, and how does it compare with its
   region and with similar forces?" (Map page: choose Lincolnshire, read the summary, compare with its region,
   then with a peer group);
2. "which forces have nothing?" (the Postcode lottery page lists them);
3. someone looking for help: a postcode to an answer with a phone number;
4. the campaigner: the national one-page PDF and the headline chart as PNG (Briefing page);
5. the planner: a unit like Cheshire's in every force without one (Scenario planner).

An interaction is one thing a user does: a click, a choice from a list, or typing and pressing Enter. Waiting
time is the time from an interaction until its answer is on screen; wall time includes the script's own
typing and clicking. Targets (issue 13, this 2-core machine): the commissioner ≤ 6 interactions and ≤ 20 s
of waiting; "which forces have nothing?" ≤ 2 interactions; a postcode to a number ≤ 2 interactions and ≤ 3 s
after typing; the campaigner's PDF ≤ 3 interactions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from coverage import paths

sys.path.insert(0, str(paths.REPO_ROOT))  # tests/apprunner.py is a checkout helper, not part of the package
from tests.apprunner import launch_chromium, running_app

HELPLINE = "0808 802 0300"  # National Stalking Helpline, as the app shows it (data/services/contacts.csv)
TIMEOUT_MS = 60_000
OUT = paths.REPO_ROOT / "bench" / "out" / "journeys.json"


@dataclass
class Journey:
    name: str
    target: str
    interactions: int = 0
    waiting_s: float = 0.0
    wall_s: float = 0.0
    steps: list[str] = field(default_factory=list)
    ok: bool = False
    note: str = ""


class Recorder:
    """Counts interactions and the time spent waiting for each answer."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey

    def act(self, what: str, do: Callable[[], None], answer: Callable[[], None]) -> float:
        """One interaction; waiting runs from its start (typing included, a few tenths of a second) until its
        answer is on screen (for a download: until the file has arrived)."""
        start = time.perf_counter()
        do()
        self.journey.interactions += 1
        answer()
        waited = time.perf_counter() - start
        self.journey.waiting_s += waited
        self.journey.steps.append(f"{what}: {waited:.2f} s")
        return waited


def _choose(page, label: str, option: str) -> None:
    """Choose from a Streamlit select box as a user does: open it, type, press Enter."""
    box = page.get_by_label(label, exact=True).first
    box.click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")


def commissioner(page, base: str) -> Journey:
    j = Journey("commissioner: Lincolnshire vs Cheshire, its region and peers", "≤ 6 interactions, ≤ 20 s waiting")
    r = Recorder(j)
    page.goto(base + "/")
    page.get_by_label("Force area", exact=True).first.wait_for(timeout=TIMEOUT_MS)
    r.act(
        "choose Lincolnshire",
        lambda: _choose(page, "Force area", "Lincolnshire"),
        lambda: page.get_by_text("best-served areas").first.wait_for(timeout=TIMEOUT_MS),
    )
    summary = page.get_by_text("best-served areas").first.inner_text()
    r.act(
        "compare with its region",
        page.get_by_text("Its region or country", exact=True).first.click,
        lambda: page.get_by_text("East Midlands").first.wait_for(timeout=TIMEOUT_MS),
    )
    r.act(
        "compare with a peer group (similar forces)",
        page.get_by_text("A peer group I choose", exact=True).first.click,
        lambda: page.get_by_label("Peer forces").first.wait_for(timeout=TIMEOUT_MS),
    )
    j.ok = "Cheshire" in summary or "multi-agency" in summary
    j.note = summary[:200]
    return j


def forces_with_nothing(page, base: str) -> Journey:
    j = Journey("which forces have nothing?", "≤ 2 interactions")
    r = Recorder(j)
    page.goto(base + "/")
    page.get_by_label("Force area", exact=True).first.wait_for(timeout=TIMEOUT_MS)
    link = page.get_by_role("link", name="Postcode lottery").first
    box = link.bounding_box()
    if box is None or box["x"] < 0:  # on a phone the page list is off screen, behind the sidebar's button
        r.act(
            "open the page list",
            page.get_by_test_id("stExpandSidebarButton").first.click,
            lambda: link.wait_for(timeout=TIMEOUT_MS),
        )
    r.act(
        "open the Postcode lottery page",
        link.click,
        lambda: page.get_by_text("areas with no local specialist service found").first.wait_for(timeout=TIMEOUT_MS),
    )
    listed = page.get_by_text("areas with no local specialist service found").first.inner_text()
    j.ok = True
    j.note = listed[:160]
    return j


def victim(page, base: str) -> Journey:
    j = Journey("a postcode to an answer with a phone number", "≤ 2 interactions, ≤ 3 s after typing")
    r = Recorder(j)
    page.goto(base + "/lottery")
    box = page.get_by_label("Postcode, district, council or force")
    box.wait_for(timeout=TIMEOUT_MS)

    def type_postcode() -> None:
        box.click()
        page.keyboard.type("LN1 1AA")
        page.keyboard.press("Enter")

    waited = r.act(
        "type a postcode and press Enter",
        type_postcode,
        lambda: page.get_by_text(HELPLINE).first.wait_for(timeout=TIMEOUT_MS),
    )
    j.ok = waited <= 3.0
    return j


def campaigner(page, base: str) -> Journey:
    j = Journey("campaigner: the national PDF and the headline PNG", "≤ 3 interactions for the PDF")
    r = Recorder(j)
    page.goto(base + "/briefing")
    page.get_by_role("button", name="One-page PDF briefing (A4)").wait_for(timeout=TIMEOUT_MS)
    got: dict[str, str] = {}

    def download(name: str) -> Callable[[], None]:
        def click() -> None:
            with page.expect_download(timeout=TIMEOUT_MS) as info:
                page.get_by_role("button", name=name).first.click()
            info.value.path()  # wait until the file has arrived
            got[name] = info.value.suggested_filename

        return click

    r.act("download the one-page PDF", download("One-page PDF briefing (A4)"), lambda: None)
    png = page.get_by_role("button", name="PNG").first
    png_name = png.get_attribute("aria-label") or png.inner_text()
    r.act(f"download {png_name}", download(png_name), lambda: None)
    j.ok = any(name.endswith(".pdf") for name in got.values())
    j.note = ", ".join(got.values())
    return j


def planner(page, base: str) -> Journey:
    j = Journey("planner: a unit like Cheshire's in every force without one", "no target set")
    r = Recorder(j)
    page.goto(base + "/scenarios")
    page.get_by_text("Is it worth it").first.wait_for(timeout=TIMEOUT_MS)
    r.act(
        "choose 'Every force with no multi-agency unit'",
        page.get_by_text("Every force with no multi-agency unit", exact=True).first.click,
        lambda: page.get_by_text("Kept as a rule").first.wait_for(timeout=TIMEOUT_MS),
    )
    page.wait_for_timeout(500)
    j.note = page.locator(".st-key-scn_summary").first.inner_text()[:200]
    j.ok = "units in" in j.note
    return j


JOURNEYS = (commissioner, forces_with_nothing, victim, campaigner, planner)


def run(width: int, height: int) -> list[Journey]:
    from playwright.sync_api import sync_playwright

    results = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_app(env={"ATLAS_SCENARIO_DB": f"{tmp}/s.sqlite"}) as base,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        for journey in JOURNEYS:
            context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
            page = context.new_page()
            start = time.perf_counter()
            try:
                result = journey(page, base)
            except Exception as error:  # a journey that cannot finish is reported, not fatal
                result = Journey(journey.__name__, "", note=f"failed: {type(error).__name__}: {error}"[:300])
            result.wall_s = round(time.perf_counter() - start, 2)
            result.waiting_s = round(result.waiting_s, 2)
            results.append(result)
            context.close()
        browser.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = {f"{w}x{h}": [asdict(j) for j in run(w, h)] for w, h in ((1440, 900), (390, 844))}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(report))
    else:
        for size, journeys in report.items():
            print(f"\n{size}")
            for j in journeys:
                mark = "ok " if j["ok"] else "NO "
                print(
                    f"  {mark} {j['name'][:58]:58}  {j['interactions']} interactions, waiting {j['waiting_s']:.2f} s, "
                    f"wall {j['wall_s']:.2f} s  (target {j['target']})"
                )
                for step in j["steps"]:
                    print(f"        - {step}")
                if j["note"]:
                    print(f"        note: {j['note'][:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
