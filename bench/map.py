"""Benchmark the map against its targets, beside a naive folium app and a bare page; prints a table (and --json).

    python bench/map.py               # everything, including headless Chromium timings
    python bench/map.py --rounds 7    # more rounds of each visit (the median is reported)
    python bench/map.py --no-browser
    python bench/map.py --no-pages    # not the per-page first-run timings

Four apps, measured side by side in one run, each on its own server, in headless Chromium with no
network beyond this machine (Chromium refuses every other host; see tests/apprunner.py):

- the atlas (``app.py``, its Map page);
- a naive folium app (``bench/naive_folium_app.py``: folium + streamlit-folium on the ONS boundary
  file as published, ``../shared/data/boundaries`` when it is beside the checkout);
- a bare Streamlit page with one title (``bench/bare_page.py``);
- the floor of the inline map: that title and the atlas's own map, nothing else (``bench/map_only_app.py``).

Three visits of each: the first visit after the server starts (a fresh server and a fresh browser
profile), a new visitor once the server is warm (a fresh profile), and the same browser coming back
(a new tab in that profile, after closing the first). A visit lasts from asking for the page until
all 43 force shapes are in it (for the bare page: until its title is), timed inside the browser.

The map's own cost = (atlas - bare) / (naive - bare), from the medians of one run; targets: ≤ 0.25
for a new visitor and for a returning one. Also: shipped boundaries ≤ 200 KB, ≤ 500 m from the ONS
BSC outline, overlap + gap ≤ 0.5 km²; map data sent ≤ 600 KB; warm rerun of the Map page ≤ 0.3 s
server time.

Each page of the atlas (``/`` the map, ``/lottery``, ``/scenarios``, ``/briefing``, ``/evidence``,
``/methods``) beside the bare page, timed from the navigation's start until the page's first script run
has finished in the browser (the first ``notRunning`` mark Streamlit's front end writes after its first
``running`` one):

- a new visitor on a warm server (each page opened once first, in a throwaway profile), ``--rounds``
  rounds with the pages interleaved; target: every page's median within 1.0 s of the bare page's;
- the first visit after a fresh server starts, one page per server (``--fresh-server-rounds`` each),
  with the server's own time for that run (``ATLAS_RUN_TIMES``); the bare page's too, for scale.

These page servers keep their scenarios in a scratch SQLite file (``ATLAS_SCENARIO_DB``), not the
user's. ``--no-pages`` skips them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from coverage import paths
from coverage.model import atlas_data
from coverage.model.boundaries import measure_simplification, read_boundaries
from coverage.model.forces import force_names
from coverage.outputs import compiled_maps

# The installed package knows where its checkout is (an editable install: pip install -e .).
REPO = paths.REPO_ROOT

sys.path.insert(0, str(REPO))  # tests/apprunner.py (the browser tests' app runner) is a checkout helper
from tests import apprunner  # noqa: E402 - after the path it is found on

COMPONENT_JS = paths.STATIC_DIR / "map_component" / "inline_map.js"  # ui/inline_map.py's
BENCH = REPO / "bench"

SHARED_BSC = REPO.parent / "shared" / "data" / "boundaries" / "original" / "PFA_DEC_2023_EW_BSC.shp"
# What bench/naive_folium_app.py draws: the raw ONS file when it is beside the checkout.
NAIVE_RAW = REPO.parent / "shared" / "data" / "boundaries" / "police_force_areas_dec2023_bsc.geojson"
TITLE = "Police force areas in England and Wales"  # the bare page's and the naive app's


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


def map_payload_kb() -> dict:
    """What the Map page sends for its map: the compiled map (its data, the same every run, so Streamlit
    sends it in full once per visit and then a reference), and with it, once, Leaflet and the module."""
    data = atlas_data.load_all()
    table = atlas_data.provision_table(data.forces, data.register)
    spec = compiled_maps.build_spec(compiled_maps.PROVISION_MAP, data.boundaries, table)
    sent = len(json.dumps({"map": spec, "map_id": compiled_maps.PROVISION_MAP, "height": 620}).encode())
    code = sum(
        path.stat().st_size
        for path in (paths.LEAFLET_DIR / "leaflet.js", paths.LEAFLET_DIR / "leaflet.css", COMPONENT_JS)
    )
    return {"map_data_kb": round(sent / 1024, 1), "map_element_first_run_kb": round((sent + code) / 1024, 1)}


# Switched on a force's profile, warm (each already opened once), as a reader would.
MEASURE_NAMES = ("Stalking (8Q)", "Harassment (8L)", "Stalking and harassment group")
COMPARATORS = ("Its region or country", "England and Wales")


@dataclass(frozen=True)
class App:
    name: str
    script: Path  # the main script, run from a folder holding the atlas's .streamlit and static
    ready: str  # a JavaScript expression, true in some frame of the page once the visit is over


SHAPES_DRAWN = "document.querySelectorAll('path.leaflet-interactive').length >= 43"
APPS = (
    App("atlas", REPO / "app.py", SHAPES_DRAWN),
    App("naive folium", BENCH / "naive_folium_app.py", SHAPES_DRAWN),
    App(
        "bare page",
        BENCH / "bare_page.py",
        f"[...document.querySelectorAll('h1')].some((h) => h.textContent.includes({TITLE!r}))",
    ),
    # The floor of the inline map itself: the bare page's title and the atlas's own map, nothing else.
    App("map only", BENCH / "map_only_app.py", SHAPES_DRAWN),
)


@contextmanager
def serving(app: App, timeout_s: float = 60, env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run`` the app on a free loopback port, as the browser tests run the atlas
    (tests/apprunner.py ``running_app``, its output discarded).

    The bench apps run from a scratch folder that links the atlas's ``.streamlit`` (the same server
    settings for all of them) and ``static`` (Streamlit serves ``static/`` beside the main script)."""
    options = {"log_path": os.devnull, "extra_args": ["--server.enableStaticServing", "true"], "env": env}
    if app.script.parent == REPO:
        with apprunner.running_app(timeout_s, **options) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "app.py").symlink_to(app.script)
        (folder / "static").symlink_to(REPO / "static")
        (folder / ".streamlit").symlink_to(REPO / ".streamlit")
        with apprunner.running_app(timeout_s, cwd=folder, script="app.py", **options) as url:
            yield url


# Runs in every frame (the page and any component iframe) from its first byte: the moment the
# visit's condition first holds, and the moment the page's title (its first h1) is there, on the
# browser's clock (ms since the epoch, comparable across frames). An iframe's first document
# (about:blank) gives way to its page in the same window, so the watch follows whichever document
# the window holds.
_READY_WATCH = """(() => {
    const ready = () => { try { return %s; } catch (e) { return false; } };
    const now = () => performance.timeOrigin + performance.now();
    let watched = null, observer = null;
    const check = () => {
        if (window.__benchTitleAt === undefined && document.querySelector('h1')) window.__benchTitleAt = now();
        if (window.__benchReadyAt === undefined && ready()) window.__benchReadyAt = now();
        if (window.__benchReadyAt !== undefined) { clearInterval(timer); if (observer) observer.disconnect(); }
    };
    const watch = () => {
        if (watched !== document) {
            if (observer) observer.disconnect();
            watched = document;
            observer = new MutationObserver(check);
            observer.observe(document, {childList: true, subtree: true, characterData: true});
        }
        check();
    };
    const timer = setInterval(watch, 20);
    watch();
})();"""


@dataclass(frozen=True)
class Visit:
    seconds: float  # from asking for the page to the app's condition (43 shapes; the bare page's title)
    title_s: float  # from asking for the page to its title
    map_work_s: float | None  # the atlas's map, from its mount to its shapes (marks in inline_map.js)


_MAP_WORK = """(() => {
    const at = (name) => (performance.getEntriesByName(name)[0] || {}).startTime;
    const mounted = at('atlas-map:mounted'), drawn = at('atlas-map:drawn');
    return mounted === undefined || drawn === undefined ? null : (drawn - mounted) / 1000;
})()"""


def _visit(context, url: str, timeout_s: float = 60):
    """Open ``url`` in a new tab of ``context``; the page and how long it took (a ``Visit``)."""
    page = context.new_page()
    page.goto(url, wait_until="commit")
    started = page.evaluate("performance.timeOrigin")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                ready_at = frame.evaluate("window.__benchReadyAt")
            except Exception:  # a frame still navigating answers nothing yet
                continue
            if ready_at:
                title_at = page.evaluate("window.__benchTitleAt")
                if page.evaluate("!performance.getEntriesByName('atlas-map:drawn').length"):
                    page.wait_for_timeout(50)  # the mark follows the shapes within the same task's end
                work = page.evaluate(_MAP_WORK)
                return page, Visit((ready_at - started) / 1000, (title_at - started) / 1000, work)
        time.sleep(0.02)
    raise TimeoutError(f"{url} never became ready")


def _context(browser, app: App, outside: list[str], url: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(_READY_WATCH % app.ready)
    outside += apprunner.record_outside_requests(context, url)
    return context


VISITS = ("first_visit", "new_visitor", "returning")
# A reader stays on the page a moment (what it loads after the map is in the cache too), and comes back
# later: the server has finished the visit's run and the browser has closed its tab before the next visit.
SETTLE_S = 1.5


def _settle(page) -> None:
    page.wait_for_timeout(SETTLE_S * 1000)


def visit_figures(browser, rounds: int) -> tuple[dict, list[str]]:
    """Seconds to ready for each app and visit, over ``rounds`` rounds (apps interleaved)."""
    visits: dict[str, dict[str, list[Visit]]] = {app.name: {visit: [] for visit in VISITS} for app in APPS}
    outside: list[str] = []
    for index in range(rounds):
        for app in APPS[index % len(APPS) :] + APPS[: index % len(APPS)]:
            with serving(app) as url:
                context = _context(browser, app, outside, url)
                page, visit = _visit(context, url)
                visits[app.name]["first_visit"].append(visit)
                _settle(page)
                context.close()
    with ExitStack() as stack:
        urls = {app.name: stack.enter_context(serving(app)) for app in APPS}
        for app in APPS:  # warm each server once, in a throwaway profile
            context = _context(browser, app, outside, urls[app.name])
            page, _ = _visit(context, urls[app.name])
            _settle(page)
            context.close()
        idle = browser.new_context().new_page()  # for waiting while no tab of the visitor is open
        for index in range(rounds):
            for app in APPS[index % len(APPS) :] + APPS[: index % len(APPS)]:
                url = urls[app.name]
                context = _context(browser, app, outside, url)
                page, visit = _visit(context, url)
                visits[app.name]["new_visitor"].append(visit)
                _settle(page)
                page.close()
                _settle(idle)
                page, visit = _visit(context, url)
                visits[app.name]["returning"].append(visit)
                _settle(page)
                context.close()
        idle.context.close()
    figures: dict = {}
    medians = {
        (app.name, visit): statistics.median(v.seconds for v in visits[app.name][visit])
        for app in APPS
        for visit in VISITS
    }
    for app in APPS:
        for visit in VISITS:
            values = visits[app.name][visit]
            figures[f"{app.name}: {visit} s (median)"] = round(medians[app.name, visit], 3)
            figures[f"{app.name}: {visit} s (all)"] = [round(v.seconds, 2) for v in values]
            if app is APPS[0]:
                figures[f"{app.name}: {visit}, its title s (median)"] = round(
                    statistics.median(v.title_s for v in values), 3
                )
                work = [v.map_work_s for v in values if v.map_work_s is not None]
                if work:
                    figures[f"{app.name}: {visit}, map from mount to shapes s (median)"] = round(
                        statistics.median(work), 3
                    )
    for visit in VISITS:
        atlas, naive, bare, floor = (medians[app.name, visit] for app in APPS)
        figures[f"map's own cost, {visit}"] = round((atlas - bare) / (naive - bare), 2) if naive > bare else None
        # The same ratio for the map with nothing else on the page: what the inline component itself costs.
        figures[f"map only's own cost, {visit}"] = round((floor - bare) / (naive - bare), 2) if naive > bare else None
    return figures, outside


# The atlas's pages by URL path ("/" is the Map page; app.py logs it as "map"), and what each is called
# in ATLAS_RUN_TIMES.
PAGE_PATHS = {"/": "map", "/lottery": "lottery", "/scenarios": "scenarios", "/briefing": "briefing"}
PAGE_PATHS |= {"/evidence": "evidence", "/methods": "methods"}
BARE_PATH = "/"
PAGE_WITHIN_S = 1.0  # target: every page's first run finished for a new visitor ≤ this after the bare page's

# When the page's first script run finished in the browser, in seconds from the navigation's start, or
# null while it has not: Streamlit's front end marks each change of its script run state with the state's
# name (a fresh load writes notRunning, running, notRunning).
_FIRST_RUN_END = """(() => {
    const running = performance.getEntriesByName('running', 'mark')[0];
    const done = running && performance.getEntriesByName('notRunning', 'mark').find(
        (mark) => mark.startTime >= running.startTime);
    return done ? done.startTime / 1000 : null;
})()"""


def _page_app(app: App) -> App:
    """``app`` with its visit over once its first run has finished (so the ready watch stops there)."""
    return replace(app, ready=f"{_FIRST_RUN_END} !== null")


def _first_run(context, url: str, timeout_s: float = 60):
    """Open ``url`` in a new tab of ``context``; the page and seconds from the navigation's start until
    its first script run had finished in the browser."""
    page = context.new_page()
    page.goto(url, wait_until="commit")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            finished = page.evaluate(_FIRST_RUN_END)
        except Exception:  # the document is still being replaced: ask again
            finished = None
        if finished is not None:
            return page, finished
        time.sleep(0.02)
    raise TimeoutError(f"{url}: its first script run never finished")


def _page_visit(browser, app: App, base: str, path: str, outside: list[str]) -> float:
    """A new visitor (a fresh profile) opens ``path``; seconds until its first run had finished."""
    url = base + path
    context = _context(browser, _page_app(app), outside, url)
    page, seconds = _first_run(context, url)
    _settle(page)
    context.close()
    return seconds


def page_figures(browser, rounds: int, fresh_rounds: int = 1) -> tuple[dict, list[str]]:
    """The first script run of every atlas page, and of the bare page: for a new visitor on a warm
    server (``rounds`` rounds, pages interleaved) and for the first visitor of a fresh server."""
    atlas, bare = APPS[0], APPS[2]
    targets = [(atlas, path) for path in PAGE_PATHS] + [(bare, BARE_PATH)]
    outside: list[str] = []
    warm: dict[tuple[str, str], list[float]] = {(app.name, path): [] for app, path in targets}
    fresh: dict[tuple[str, str], list[float]] = {(app.name, path): [] for app, path in targets}
    server: dict[tuple[str, str], list[float | None]] = {(app.name, path): [] for app, path in targets}
    scratch = Path(tempfile.mkdtemp())
    log = scratch / "run_times.tsv"
    env = {"ATLAS_SCENARIO_DB": str(scratch / "scenarios.sqlite"), "ATLAS_RUN_TIMES": str(log)}
    with ExitStack() as stack:
        urls = {app.name: stack.enter_context(serving(app, env=env)) for app in (atlas, bare)}
        for app, path in targets:  # warm each page once, in a throwaway profile
            _page_visit(browser, app, urls[app.name], path, outside)
        for index in range(rounds):
            shift = index % len(targets)
            for app, path in targets[shift:] + targets[:shift]:
                warm[app.name, path].append(_page_visit(browser, app, urls[app.name], path, outside))
    for _ in range(fresh_rounds):
        for app, path in targets:
            log.write_text("")
            with serving(app, env=env) as url:
                fresh[app.name, path].append(_page_visit(browser, app, url, path, outside))
            if app is atlas:  # the bare page logs nothing; app.py logs each run as it ends
                runs = [line.split("\t") for line in log.read_text().splitlines()]
                first = next((run for run in runs if run[0] == PAGE_PATHS[path]), None)
                # None when no run of the page was logged, or its first was cut short by a rerun
                complete = first is not None and first[-1] == "complete"
                server[app.name, path].append(float(first[1]) if complete else None)

    def median(values: list) -> float | None:
        values = [value for value in values if value is not None]
        return round(statistics.median(values), 3) if values else None

    figures: dict = {}
    bare_median = median(warm[bare.name, BARE_PATH])
    for app, path in targets:
        key = f"page {path}" if app is atlas else bare.name
        values = warm[app.name, path]
        figures[f"{key}: new visitor, run finished s (median)"] = median(values)
        figures[f"{key}: new visitor, run finished s (all)"] = [round(value, 2) for value in values]
        if app is atlas and values and bare_median is not None:
            difference = round(median(values) - bare_median, 3)
            figures[f"{key}: minus bare page s"] = difference
            figures[f"{key}: within {PAGE_WITHIN_S} s of the bare page"] = difference <= PAGE_WITHIN_S
    for app, path in targets:
        key = f"page {path}" if app is atlas else bare.name
        figures[f"{key}: first run on a fresh server s"] = median(fresh[app.name, path])
        if fresh_rounds > 1:
            figures[f"{key}: first run on a fresh server s (all)"] = [round(v, 2) for v in fresh[app.name, path]]
        if app is atlas:
            figures[f"{key}: first run on a fresh server, server s"] = median(server[app.name, path])
    return figures, outside


def rerun_figures(browser, reruns: int = 6) -> tuple[dict, list[str]]:
    """Server time of warm reruns of the Map page (ATLAS_RUN_TIMES), and the README's picture."""
    log = Path(tempfile.mkdtemp()) / "run_times.tsv"
    os.environ["ATLAS_RUN_TIMES"] = str(log)
    figures: dict = {}
    outside: list[str] = []
    with apprunner.running_app() as url:
        context = _context(browser, APPS[0], outside, url)
        page, _ = _visit(context, url)
        _settle(page)
        select = page.get_by_role("combobox", name="Force area")
        forces = ["Cheshire", "Hampshire", "Durham"]

        def complete_runs() -> list[float]:
            runs = [line.split("\t") for line in log.read_text().splitlines()]
            # Complete runs of the Map page only; a run cut short by a newer rerun measures nothing.
            return [float(run[1]) for run in runs if run[0] == "map" and run[-1] == "complete"]

        def choose_forces(count: int) -> list[float]:
            log.write_text("")
            for index in range(count):
                select.click()
                select.fill(forces[index % len(forces)])
                page.keyboard.press("Enter")
                page.wait_for_timeout(1200)
            return complete_runs()

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

        log.write_text("")
        basemap_switch = page.get_by_role("switch", name="OpenStreetMap basemap")
        basemap_switch.check(force=True)  # its tiles fail to load: there is no network here
        page.wait_for_timeout(1200)
        basemap_switch.uncheck(force=True)
        page.wait_for_timeout(1200)
        basemap = complete_runs()
        figures["basemap_switch_server_s_median"] = round(statistics.median(basemap), 3) if basemap else None
        choose_forces(1)  # Cheshire, as the README's picture says
        page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring in it
        page.get_by_role(
            "heading", name="Specialist stalking provision by police force area"
        ).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(REPO / "docs" / "map.png"))  # the README's picture: before the switches below

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
        context.close()
    return figures, outside


def browser_figures(rounds: int, *, reruns: bool = True, pages: bool = True, fresh_rounds: int = 1) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = apprunner.launch_chromium(playwright)
        figures, outside = visit_figures(browser, rounds)
        if pages:  # before the reruns, which leave ATLAS_RUN_TIMES set for every later server
            more_figures, more = page_figures(browser, rounds, fresh_rounds)
            figures, outside = figures | more_figures, outside + more
        if reruns:
            more_figures, more = rerun_figures(browser)
            figures, outside = figures | more_figures, outside + more
        browser.close()
    return figures | {"outside_requests": len(outside)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each visit (default 5)")
    parser.add_argument("--no-reruns", action="store_true", help="not the warm reruns of the Map page")
    parser.add_argument("--no-pages", action="store_true", help="not the first script run of each page")
    parser.add_argument(
        "--fresh-server-rounds", type=int, default=1, help="fresh servers per page for its first run (default 1)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    naive = "the raw ONS file, ../shared/data/boundaries" if NAIVE_RAW.exists() else "data/boundaries (simplified)"
    figures = boundary_figures() | map_payload_kb() | {"naive_app_boundaries": naive}
    if not args.no_browser:
        figures |= browser_figures(
            args.rounds, reruns=not args.no_reruns, pages=not args.no_pages, fresh_rounds=args.fresh_server_rounds
        )
    if args.json:
        print(json.dumps(figures))
    else:
        width = max(map(len, figures))
        for key, value in figures.items():
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
