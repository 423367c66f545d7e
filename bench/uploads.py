"""Does one visitor's heavy upload slow other visitors' pages? Measured on a running server.

    python bench/uploads.py                # both ways, side by side; prints a table (and --json)
    python bench/uploads.py --switches 8

The app is started twice (tests/apprunner.py): once with ATLAS_PARSE_IN_THREAD=1, so uploads are
parsed in the visitor's script thread as they were before, and once as shipped, parsed in the upload
worker process (ui/session.py, run_bounded). On each server one headless Chromium session switches
the force on the Map page, first alone and then while a second session (its own process and browser)
keeps uploading a heavy but valid 5,000-row register on Edit the evidence: 12 MB, every row listing
many forces with a long note. Each upload differs from the last by one cell, so none is answered
from the session's cache: it is the load of a visitor uploading edited copies one after another
(before this change, of one visitor clicking while a file sat in the box). Reported: the Map page's
server time per run (ATLAS_RUN_TIMES, as bench/map.py), and how long the uploader waited per file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from coverage import paths
from coverage.model import atlas_data
from coverage.model.register import MAX_ROWS, export_register_csv

REPO = paths.REPO_ROOT

sys.path.insert(0, str(REPO))  # tests/apprunner.py (the browser tests' app runner) is a checkout helper
from tests import apprunner  # noqa: E402 - after the path it is found on

IN_THREAD_ENV = "ATLAS_PARSE_IN_THREAD"  # ui.session.IN_THREAD_ENV (the bench does not import Streamlit)
FORCES = ["Cheshire", "Hampshire", "Durham", "Kent"]


def heavy_register() -> bytes:
    """5,000 valid rows (the most an upload may hold): local services each covering 22 or 43 forces,
    citing five sources, with a note of about 1,900 characters."""
    data = atlas_data.load_all()
    local = data.register[data.register["force_codes"] != "ALL"]
    codes = sorted(data.forces["code"])
    sources = sorted(data.sources["source_id"])
    rows = []
    for number in range(MAX_ROWS):
        row = local.iloc[number % len(local)].to_dict()
        row["service_id"] = f"bench-{number}"
        row["force_codes"] = ";".join(codes if number % 2 else codes[number % 21 :][:22])
        row["source_ids"] = ";".join(sources[number % 50 : number % 50 + 5])
        row["notes"] = ("Checked against the provider's published page and the commissioning report. " * 25)[:1900]
        rows.append(row)
    return export_register_csv(pd.DataFrame(rows))


def _variant(content: bytes, number: int) -> bytes:
    return content.replace(b"bench-0,", f"bench-0-{number},".encode(), 1)


def uploader(url: str, stop: Path, out: Path) -> int:
    """The second visitor (run in its own process): upload variants until ``stop`` exists."""
    from playwright.sync_api import sync_playwright

    # The uploader's browser stands for a visitor's own computer, not the server's: at the lowest
    # priority (its Chromium inherits it) it takes as little as it can from the server being measured.
    os.nice(19)
    content = heavy_register()
    folder = Path(tempfile.mkdtemp())
    waits = []
    with sync_playwright() as playwright:
        browser = apprunner.launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/evidence")
        page.get_by_text("Upload an edited register").first.wait_for(timeout=60_000)
        number = 0
        while not stop.exists():
            number += 1
            file = folder / f"heavy-{number}.csv"
            file.write_bytes(_variant(content, number))
            started = time.perf_counter()
            page.locator("input[type=file]").set_input_files(str(file))
            page.get_by_text(f"heavy-{number}.csv: {MAX_ROWS} rows, all valid").wait_for(timeout=120_000)
            waits.append(time.perf_counter() - started)
            out.write_text(json.dumps(waits))
        browser.close()
    return 0


def _map_runs(log: Path) -> list[tuple[float, str]]:
    runs = [line.split("\t") for line in log.read_text().splitlines()]
    return [(float(run[1]), run[2]) for run in runs if run[0] == "map"]


def _switch_forces(page, log: Path, count: int) -> tuple[list[float], int]:
    """Choose ``count`` forces in turn, each time waiting for the Map page's run to be logged."""
    times: list[float] = []
    interrupted = 0
    select = page.get_by_role("combobox", name="Force area")
    for index in range(count):
        before = len(_map_runs(log))
        select.click()
        select.fill(FORCES[index % len(FORCES)])
        page.keyboard.press("Enter")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = _map_runs(log)[before:]
            if any(state == "complete" for _, state in runs):
                break
            time.sleep(0.05)
        runs = _map_runs(log)[before:]
        times += [seconds for seconds, state in runs if state == "complete"]
        interrupted += sum(state != "complete" for _, state in runs)
        page.wait_for_timeout(300)
    return times, interrupted


@contextmanager
def _uploading(url: str):
    folder = Path(tempfile.mkdtemp())
    stop, out = folder / "stop", folder / "waits.json"
    process = subprocess.Popen(
        [sys.executable, __file__, "--uploader", url, "--stop", str(stop), "--out", str(out)], cwd=REPO
    )
    try:
        deadline = time.monotonic() + 120
        while not out.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)  # the first upload is through: the uploads are under way
        yield out
    finally:
        stop.touch()
        try:
            process.wait(180)
        except subprocess.TimeoutExpired:
            process.kill()


def measure(in_thread: bool, switches: int) -> dict:
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.mkdtemp()) / "run_times.tsv"
    log.write_text("")
    saved = {name: os.environ.get(name) for name in ("ATLAS_RUN_TIMES", IN_THREAD_ENV)}
    os.environ["ATLAS_RUN_TIMES"] = str(log)
    if in_thread:
        os.environ[IN_THREAD_ENV] = "1"
    else:
        os.environ.pop(IN_THREAD_ENV, None)
    figures: dict = {}
    try:
        with apprunner.running_app() as url, sync_playwright() as playwright:
            browser = apprunner.launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            # The force selector, not the map's shapes: the server's run times are what is measured here.
            page.get_by_role("combobox", name="Force area").wait_for(timeout=120_000)
            _switch_forces(page, log, len(FORCES))  # each force's first opening builds its charts
            alone, _ = _switch_forces(page, log, switches)
            with _uploading(url) as waits_file:
                loaded, interrupted = _switch_forces(page, log, switches)
            waits = json.loads(waits_file.read_text()) if waits_file.exists() else []
            browser.close()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    for name, values in (("alone", alone), ("while_uploading", loaded)):
        figures[f"map_rerun_{name}_s_median"] = round(statistics.median(values), 3) if values else None
        figures[f"map_rerun_{name}_s_max"] = round(max(values), 3) if values else None
    figures["map_reruns_measured"] = f"{len(alone)} + {len(loaded)}"
    figures["map_reruns_interrupted"] = interrupted
    figures["uploads_checked"] = len(waits)
    figures["upload_wait_s_median"] = round(statistics.median(waits), 2) if waits else None
    return figures


def in_process(reruns: int) -> dict:
    """The same question without a browser: the Map page rerun by AppTest in this process while a
    thread checks heavy registers one after another, in that thread or through the upload worker.
    AppTest runs the page's script in a thread of this process, as the server runs a session's."""
    import logging
    import threading

    sys.path.insert(0, str(REPO))
    # Quiet Streamlit's notes that this thread runs no script (the pages' modules are imported here).
    logging.disable(logging.WARNING)
    from streamlit.testing.v1 import AppTest

    from coverage.model.register import check_upload
    from ui import session

    data = atlas_data.load_all()
    content = heavy_register()
    arguments = {
        "force_codes": frozenset(data.forces["code"]),
        "source_ids": frozenset(data.sources["source_id"]),
        "name": "heavy.csv",
    }
    codes = ["E23000006", "E23000030", "E23000008", "E23000032"]  # Cheshire, Hampshire, Durham, Kent
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    for code in codes:  # each force's first opening builds its charts
        app.selectbox(key="force").set_value(code).run()

    def map_reruns() -> list[float]:
        times = []
        for index in range(reruns):
            started = time.perf_counter()
            app.selectbox(key="force").set_value(codes[index % len(codes)]).run()
            times.append(time.perf_counter() - started)
        return times

    def parsing(how: str, stop: threading.Event, took: list[float]) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            variant = _variant(content, number)
            started = time.perf_counter()
            if how == "worker":
                session.run_bounded(check_upload, variant, **arguments)
            else:
                check_upload(variant, **arguments)
            took.append(time.perf_counter() - started)

    session.run_bounded(os.getpid)  # the worker is up before it is measured
    figures: dict = {}
    for how in ("alone", "thread", "worker"):
        stop, took = threading.Event(), []
        parser = threading.Thread(target=parsing, args=(how, stop, took)) if how != "alone" else None
        if parser:
            parser.start()
            time.sleep(0.5)
        times = map_reruns()
        stop.set()
        if parser:
            parser.join()
        label = {"alone": "alone", "thread": "parse_in_thread", "worker": "parse_in_worker"}[how]
        figures[f"appt_map_rerun_{label}_s_median"] = round(statistics.median(times), 3)
        figures[f"appt_map_rerun_{label}_s_max"] = round(max(times), 3)
        if took:
            figures[f"appt_{label}_checks"] = len(took)
            figures[f"appt_{label}_check_s_median"] = round(statistics.median(took), 2)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=12, help="force switches on the server, each way")
    parser.add_argument("--reruns", type=int, default=40, help="Map page reruns in process (AppTest), each way")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-browser", action="store_true", help="only the in-process (AppTest) measurement")
    parser.add_argument("--no-in-process", action="store_true", help="only the measurement on a running server")
    parser.add_argument("--uploader", help=argparse.SUPPRESS)
    parser.add_argument("--stop", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.uploader:
        return uploader(args.uploader, Path(args.stop), Path(args.out))
    size = len(heavy_register())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results: dict = {}
    if not args.no_browser:
        results["in the script thread (before)"] = measure(True, args.switches)
        results["in the worker process (now)"] = measure(False, args.switches)
    apptest = {} if args.no_in_process else in_process(args.reruns)
    if args.json:
        print(json.dumps({"register_mb": round(size / 1e6, 1), "server": results, "in_process": apptest}))
        return 0
    print(f"heavy register: {MAX_ROWS:,} rows, {size / 1e6:.1f} MB; {os.cpu_count()} CPUs, load average {load}")
    if results:
        keys = list(next(iter(results.values())))
        width = max(map(len, keys))
        print(f"{'':<{width}}  " + "  ".join(f"{mode:>30}" for mode in results))
        for key in keys:
            print(f"{key:<{width}}  " + "  ".join(f"{figures[key]!s:>30}" for figures in results.values()))
    for key, value in apptest.items():
        print(f"{key:<44}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
