"""Benchmark the map against the foundation issue's targets; prints a table (and --json).

    python bench/map.py            # everything, including headless Chromium timings
    python bench/map.py --no-browser

Targets: shipped boundaries ≤ 200 KB, ≤ 500 m from the ONS BSC outline, overlap + gap ≤ 0.5 km²;
map HTML ≤ 600 KB; warm rerun of the Map page ≤ 0.3 s server time; 43 shapes visible ≤ 5 s on a
first visit and ≤ 1.5 s on a second visit, with no network beyond the app itself (Chromium refuses
every other host; see tests/apprunner.py for why that is not done with Playwright's routing).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from coverage import paths
from coverage.model import atlas_data
from coverage.model.boundaries import measure_simplification, read_boundaries
from coverage.model.forces import force_names
from coverage.outputs.maps import atlas_map, selected_outline
from coverage.vocabulary import PROVISION_CLASS_LABELS, PROVISION_CLASSES

# The installed package knows where its checkout is (an editable install: pip install -e .).
REPO = paths.REPO_ROOT

SHARED_BSC = REPO.parent / "shared" / "data" / "boundaries" / "original" / "PFA_DEC_2023_EW_BSC.shp"


def boundary_figures() -> dict:
    figures = {"boundary_file_kb": round(paths.BOUNDARIES_GEOJSON.stat().st_size / 1024, 1)}
    if SHARED_BSC.exists():
        import geopandas as gpd

        forces = atlas_data.load_forces()
        original = read_boundaries(SHARED_BSC, force_names(forces)).frame
        shipped = gpd.read_file(paths.BOUNDARIES_GEOJSON)
        quality = measure_simplification(original, shipped)
        figures |= {
            "max_deviation_m": round(quality.max_deviation_m),
            "worst_force": quality.worst_force,
            "overlap_plus_gap_km2": round(quality.overlap_km2 + quality.gap_km2, 3),
            "vertices": quality.vertices,
        }
    return figures


def map_payload_kb() -> float:
    """What st_folium sends: the map script, header and HTML, plus the selected-force layer."""
    from streamlit_folium import _get_feature_group_string, _get_header, _get_html, _get_map_string

    data = atlas_data.load_all()
    table = atlas_data.provision_table(data.forces, data.register)
    labels = {k: PROVISION_CLASS_LABELS[k] for k in PROVISION_CLASSES}
    fmap = atlas_map(data.boundaries, table, labels)
    fmap.get_root().render()
    fmap.render()
    html, header = _get_html(fmap), _get_header(fmap)
    script = _get_map_string(fmap)
    group = _get_feature_group_string(selected_outline(data.boundaries, "E23000006"), map=fmap, idx=0)
    return round(sum(len(part.encode()) for part in (html, header, script, group)) / 1024, 1)


# Switched on a force's profile, warm (each already opened once), as a reader would.
MEASURE_NAMES = ("Stalking (8Q)", "Harassment (8L)", "Stalking and harassment group")
COMPARATORS = ("Its region or country", "England and Wales")


def _apprunner() -> ModuleType:
    """The browser tests' app runner (tests/apprunner.py), loaded by path: the tests are not a package
    the installed atlas ships, and the bench must drive the app exactly as they do."""
    spec = importlib.util.spec_from_file_location("apprunner", REPO / "tests" / "apprunner.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seconds_to_shapes(page, open_page) -> float:
    wait_for_shapes = _apprunner().wait_for_shapes

    start = time.perf_counter()
    open_page()
    wait_for_shapes(page)
    return time.perf_counter() - start


def browser_figures(visits: int = 5, reruns: int = 6) -> dict:
    """Seconds from asking for the page to 43 shapes drawn, in headless Chromium with no network.

    A first visit uses a fresh browser profile (empty cache). A second visit comes back in the
    same profile, measured two ways: reloading the tab, and opening the atlas in a new tab after
    closing the first. Each is the median of `visits` rounds, with the slowest round beside it."""
    from playwright.sync_api import sync_playwright

    runner = _apprunner()
    launch_chromium, record_outside_requests = runner.launch_chromium, runner.record_outside_requests
    running_app, wait_for_shapes = runner.running_app, runner.wait_for_shapes

    log = Path(tempfile.mkdtemp()) / "run_times.tsv"
    os.environ["ATLAS_RUN_TIMES"] = str(log)
    timings: dict[str, list[float]] = {"first_visit": [], "second_visit_reload": [], "second_visit_new_tab": []}
    figures: dict = {}
    with running_app() as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        # Warm the server's caches once, in a throwaway profile: the targets are about the browser.
        warm = browser.new_context()
        page = warm.new_page()
        page.goto(url)
        wait_for_shapes(page)
        warm.close()

        outside: list[str] = []
        for _ in range(visits):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            outside += record_outside_requests(context, url)
            page = context.new_page()
            timings["first_visit"].append(_seconds_to_shapes(page, lambda page=page: page.goto(url)))
            timings["second_visit_reload"].append(_seconds_to_shapes(page, page.reload))
            page.close()
            again = context.new_page()
            timings["second_visit_new_tab"].append(_seconds_to_shapes(again, lambda again=again: again.goto(url)))
            again.close()
            context.close()
        for name, seconds in timings.items():
            figures[f"{name}_s_median"] = round(statistics.median(seconds), 2)
            figures[f"{name}_s_max"] = round(max(seconds), 2)

        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        outside += record_outside_requests(context, url)
        page = context.new_page()
        page.goto(url)
        wait_for_shapes(page)
        select = page.get_by_role("combobox", name="Force area")
        forces = ["Cheshire", "Hampshire", "Durham"]

        def choose_forces(count: int) -> list[float]:
            log.write_text("")
            for index in range(count):
                select.click()
                select.fill(forces[index % len(forces)])
                page.keyboard.press("Enter")
                page.wait_for_timeout(1200)
            runs = [line.split("\t") for line in log.read_text().splitlines()]
            # Complete runs of the Map page only; a run cut short by a newer rerun measures nothing.
            return [float(run[1]) for run in runs if run[0] == "map" and run[-1] == "complete"]

        # The first time a force is opened on this server its ranked chart is built (then cached for
        # every visitor); a warm rerun is every later switch, the case the target is about.
        first_opening = choose_forces(len(forces))
        times = choose_forces(reruns)
        figures["first_opening_of_a_force_server_s_median"] = (
            round(statistics.median(first_opening), 3) if first_opening else None
        )
        figures["warm_rerun_server_s_median"] = round(statistics.median(times), 3) if times else None
        figures["warm_rerun_server_s_max"] = round(max(times), 3) if times else None
        figures["warm_reruns_measured"] = len(times)
        page.get_by_role(
            "heading", name="Specialist stalking provision by police force area"
        ).scroll_into_view_if_needed()
        page.screenshot(path=str(REPO / "docs" / "map.png"))  # the README's picture: before the switches below

        def complete_runs() -> list[float]:
            runs = [line.split("\t") for line in log.read_text().splitlines()]
            return [float(run[1]) for run in runs if run[0] == "map" and run[-1] == "complete"]

        def switch_measures(count: int) -> list[float]:
            log.write_text("")
            box = page.get_by_role("combobox", name="Demand measure")
            for index in range(count):
                box.click()
                box.fill(MEASURE_NAMES[index % len(MEASURE_NAMES)])
                page.keyboard.press("Enter")
                page.wait_for_timeout(1200)
            return complete_runs()

        def switch_comparators(count: int) -> list[float]:
            log.write_text("")
            for index in range(count):
                page.get_by_role("radio", name=COMPARATORS[index % len(COMPARATORS)]).check(force=True)
                page.wait_for_timeout(1200)
            return complete_runs()

        switch_measures(len(MEASURE_NAMES))  # each measure's first opening builds its tables and charts
        measure_times = switch_measures(reruns)
        switch_comparators(len(COMPARATORS))
        comparator_times = switch_comparators(reruns)
        for name, values in (("measure_switch", measure_times), ("comparator_switch", comparator_times)):
            figures[f"{name}_server_s_median"] = round(statistics.median(values), 3) if values else None
            figures[f"{name}_server_s_max"] = round(max(values), 3) if values else None
        figures["outside_requests"] = len(outside)
        browser.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = boundary_figures() | {"map_html_kb": map_payload_kb()}
    if not args.no_browser:
        figures |= browser_figures()
    if args.json:
        print(json.dumps(figures))
    else:
        width = max(map(len, figures))
        for key, value in figures.items():
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
