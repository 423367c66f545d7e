"""Benchmark briefing packs; prints a table (and --json).

    python bench/briefing.py
    python bench/briefing.py --json
    python bench/briefing.py --scenario cheshire_hru_like

Targets: one force's full pack (charts, PDF, data files, zip, written to disk) ≤ 5 s from a cold
start of the work (data loaded, nothing rendered yet); all 43 forces' packs ≤ 2 minutes, in one
loop that shares the national work. It also reports how long the drawings took (Vega-Lite → SVG,
and SVG → PNG, by vl-convert in its own process: coverage/outputs/renderer.py), and, side by side,
the longest pause of another thread of this process while one force's pack is built with the
charts drawn in that process and drawn here (what every other visitor of a Streamlit server waits).

With a browser (``--no-server`` skips it): the same side by side on a real ``streamlit run app.py``,
drawing in its own process and with ``ATLAS_DRAW_IN_PROCESS=1``: headless Chromium opens the Briefing
page for a force on a fresh server while another client asks the server's health endpoint every 20 ms,
as every other visitor's browser talks to it; reported: the slowest and the 95th-percentile answer while
the page was being drawn, and how long the page took.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from coverage import paths
from coverage.model import atlas_data
from coverage.outputs import briefing, renderer

# The installed package knows where its checkout is (an editable install: pip install -e .).
REPO = paths.REPO_ROOT

TARGET_ONE_S = 5.0
TARGET_ALL_S = 120.0
FORCE = "E23000006"


class _Timer:
    """Adds up the time the packs' drawings take (each call waits for vl-convert's process)."""

    def __init__(self) -> None:
        self.seconds = {"vegalite_to_svg": 0.0, "svg_to_png": 0.0}
        self.calls = {"vegalite_to_svg": 0, "svg_to_png": 0}

    def install(self) -> None:
        for name in self.seconds:
            original = getattr(renderer, name)

            def timed(*args, _original=original, _name=name, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds[_name] += time.perf_counter() - start
                    self.calls[_name] += 1

            setattr(renderer, name, timed)

    def reset(self) -> None:
        for name in self.seconds:
            self.seconds[name], self.calls[name] = 0.0, 0

    def total(self) -> float:
        return sum(self.seconds.values())


def _longest_pause(work) -> tuple[float, float]:
    """Seconds ``work()`` took, and the longest another thread of this process waited to run meanwhile
    (it asks to wake every millisecond)."""
    gaps: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        last = time.perf_counter()
        while not stop.wait(0.001):
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    start = time.perf_counter()
    try:
        work()
    finally:
        took = time.perf_counter() - start
        stop.set()
        ticker.join()
    return took, max(gaps, default=took)


SERVER_FORCE = "E23000010"  # a pack nothing else in the run has drawn on that server


def _health_waits_while_briefing(browser, runner, env: dict[str, str]) -> tuple[float, list[float]]:
    """On a fresh server with ``env``: seconds until the Briefing page of SERVER_FORCE has every chart,
    and the sorted waits for the health endpoint, asked every 20 ms meanwhile."""
    waits: list[float] = []
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as scratch:
        env = env | {"ATLAS_SCENARIO_DB": str(Path(scratch) / "scenarios.sqlite")}
        with runner.running_app(env=env, log_path=os.devnull) as url:

            def ask() -> None:
                while not stop.wait(0.02):
                    start = time.perf_counter()
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=30) as answer:
                        answer.read()
                    waits.append(time.perf_counter() - start)

            page = browser.new_page(viewport={"width": 1440, "height": 900})
            asker = threading.Thread(target=ask)
            asker.start()
            start = time.perf_counter()
            try:
                page.goto(f"{url}/briefing?force={SERVER_FORCE}")
                # The four charts' pictures (the last is the coverage chart), once the pack is drawn.
                page.locator("[data-testid='stImage'] img").nth(3).wait_for(state="attached", timeout=120_000)
                took = time.perf_counter() - start
            finally:
                stop.set()
                asker.join()
                page.close()
    return took, sorted(waits)


def server_figures() -> dict:
    """The Briefing page drawn on a fresh server, drawing in its own process and in the server's."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO))  # tests/apprunner.py is a checkout helper, not part of the package
    from tests import apprunner as runner

    figures: dict = {}
    with sync_playwright() as playwright:
        browser = runner.launch_chromium(playwright)
        for label, env in (("own_process", {}), ("in_process", {"ATLAS_DRAW_IN_PROCESS": "1"})):
            took, waits = _health_waits_while_briefing(browser, runner, env)
            figures[f"server_{label}_page_s"] = took
            figures[f"server_{label}_health_max_s"] = waits[-1]
            figures[f"server_{label}_health_p95_s"] = waits[int(0.95 * (len(waits) - 1))]
        browser.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--scenario", default=None, help="a preset id to add its cost chart to every pack")
    parser.add_argument("--keep", type=Path, default=None, help="write the packs here instead of a temporary folder")
    parser.add_argument("--no-server", action="store_true", help="skip the side by side on a real server")
    args = parser.parse_args()

    timer = _Timer()
    timer.install()
    results: dict = {"scenario": args.scenario}

    start = time.perf_counter()
    data = atlas_data.load_all()
    results["load_data_s"] = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as temporary:
        out = args.keep or Path(temporary)

        # One force, cold: the shared work (provision table, projected map, national charts) and
        # vl-convert's start-up are inside this time.
        timer.reset()
        start = time.perf_counter()
        paths = briefing.write_briefing(out / "one", FORCE, data, scenario_id=args.scenario)
        results["one_force_cold_s"] = time.perf_counter() - start
        results["one_force_files"] = len(paths)
        results["one_force_bytes"] = sum(p.stat().st_size for p in paths)
        results["one_force_vl_convert_s"] = timer.total()

        # The same force again, warm (what the Briefing page pays for a force it has not cached).
        start = time.perf_counter()
        briefing.write_briefing(out / "one", "E23000007", data, scenario_id=args.scenario)
        results["one_force_warm_s"] = time.perf_counter() - start

        # All 43 forces in one loop into one folder (the national work is shared).
        context = briefing.briefing_context(data)
        timer.reset()
        each = []
        start = time.perf_counter()
        for code in sorted(context.names):
            t0 = time.perf_counter()
            briefing.write_briefing(out / "all", code, data, scenario_id=args.scenario, context=context)
            each.append(time.perf_counter() - t0)
        results["all_43_s"] = time.perf_counter() - start
        results["all_43_per_force_median_s"] = statistics.median(each)
        results["all_43_per_force_max_s"] = max(each)
        results["all_43_vl_convert_s"] = timer.total()
        results["all_43_vl_convert_calls"] = dict(timer.calls)
        results["all_43_vl_convert_split_s"] = {k: round(v, 2) for k, v in timer.seconds.items()}
        results["all_43_files"] = len(list((out / "all").iterdir()))

        # What the rest of a server waits while one force's pack is built (warm, nothing of it cached),
        # side by side: drawn in vl-convert's own process (as the app does), and drawn in this one.
        for label, code, in_process in (("own_process", "E23000008", False), ("in_process", "E23000009", True)):
            renderer._drawing.in_process = in_process
            took, pause = _longest_pause(
                lambda c=code: briefing.build_briefing(data, c, args.scenario, context=context)
            )
            results[f"pause_{label}_pack_s"], results[f"pause_{label}_longest_s"] = took, pause
        renderer._drawing.in_process = False

        # The same batch split between two processes (this machine has two cores).
        start = time.perf_counter()
        written = briefing.write_all_briefings(
            out / "parallel", data, scenario_id=args.scenario, national=False, workers=2
        )
        results["all_43_two_processes_s"] = time.perf_counter() - start
        results["all_43_two_processes_files"] = len(written)

    if not args.no_server:
        results |= server_figures()

    results["one_force_ok"] = results["one_force_cold_s"] <= TARGET_ONE_S
    results["all_43_ok"] = results["all_43_s"] <= TARGET_ALL_S

    if args.json:
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in results.items()}))
    else:
        rows = [
            ("load data", f"{results['load_data_s']:.2f} s", ""),
            (
                f"one force ({FORCE}), cold",
                f"{results['one_force_cold_s']:.2f} s",
                f"target ≤ {TARGET_ONE_S:.0f} s: {'ok' if results['one_force_ok'] else 'MISSED'}; "
                f"{results['one_force_files']} files, {results['one_force_bytes'] / 1e6:.1f} MB; "
                f"drawings {results['one_force_vl_convert_s']:.2f} s",
            ),
            ("one force, warm", f"{results['one_force_warm_s']:.2f} s", ""),
            (
                "all 43 forces",
                f"{results['all_43_s']:.1f} s",
                f"target ≤ {TARGET_ALL_S:.0f} s: {'ok' if results['all_43_ok'] else 'MISSED'}; median "
                f"{results['all_43_per_force_median_s']:.2f} s, max {results['all_43_per_force_max_s']:.2f} s per force",
            ),
            (
                "  drawings (waited for)",
                f"{results['all_43_vl_convert_s']:.1f} s",
                ", ".join(
                    f"{k} {v} s ({results['all_43_vl_convert_calls'][k]} calls)"
                    for k, v in results["all_43_vl_convert_split_s"].items()
                ),
            ),
            (
                "other threads' longest pause",
                f"{results['pause_own_process_longest_s'] * 1000:.0f} ms",
                f"while one force's pack is built ({results['pause_own_process_pack_s']:.2f} s), charts drawn in "
                f"vl-convert's own process; drawn in this one: {results['pause_in_process_longest_s'] * 1000:.0f} ms "
                f"(pack {results['pause_in_process_pack_s']:.2f} s)",
            ),
            *(
                [
                    (
                        "server: slowest health answer",
                        f"{results['server_own_process_health_max_s'] * 1000:.0f} ms",
                        f"while the Briefing page draws a force on a fresh server (page "
                        f"{results['server_own_process_page_s']:.1f} s; p95 "
                        f"{results['server_own_process_health_p95_s'] * 1000:.0f} ms); drawn in the server's "
                        f"process: {results['server_in_process_health_max_s'] * 1000:.0f} ms (page "
                        f"{results['server_in_process_page_s']:.1f} s; p95 "
                        f"{results['server_in_process_health_p95_s'] * 1000:.0f} ms)",
                    )
                ]
                if "server_own_process_page_s" in results
                else []
            ),
            (
                "all 43 forces, 2 processes",
                f"{results['all_43_two_processes_s']:.1f} s",
                f"write_all_briefings(workers=2); {results['all_43_two_processes_files']} files",
            ),
        ]
        width = max(len(r[0]) for r in rows)
        for name, value, note in rows:
            print(f"{name:<{width}}  {value:>9}  {note}")
    return 0 if results["one_force_ok"] and results["all_43_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
