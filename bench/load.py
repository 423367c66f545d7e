"""How many concurrent visitors one Streamlit server holds: N real sessions on the Map page; prints a table.

    python bench/load.py                 # N = 5, 10, 20; writes bench/out/load.json
    python bench/load.py --levels 5 --rounds 2 --visits 4

For each N a fresh `streamlit run app.py` is started (ATLAS_RUN_TIMES and ATLAS_SCENARIO_DB point at a
temp dir) and warmed (the Map page once, every force's profile once, as a server that has been up for
a while would be). Then N sessions, each a websocket speaking Streamlit's own protocol (the protobufs
the browser sends, not a browser: N browsers would share this machine's cores with the server and
measure themselves), at the same moment:

1. open the Map page (BackMsg.rerun_script, as the frontend sends on connect), then
2. choose a force, a different one per session, through the "Force area" selectbox's widget state
   (the widget id and options are read from the page's own delta), then `--rounds` more times, all
   N together each round (a burst: the worst case, N readers clicking in the same second);
3. choose forces again, paced like readers: each session waits a random 0–2×`--think` seconds before
   each choice, so clicks arrive spread out.

Measured: server script time per rerun (ATLAS_RUN_TIMES, complete runs only), per-session time from
sending the rerun to the first delta naming the force (an answer) and to script_finished, the server's
RSS (/proc/PID/status VmRSS) before and with all N open, and its CPU time (/proc/PID/stat) over
`--visits` fresh sequential visits and force choices, divided by their number; also in Chromium, one
browser at a time (a real first visit also fetches ~130 static files). Reruns whose page shows an
exception are counted. `--app-dir` serves another checkout, e.g. a copy that stays still while measured.

Targets (2-core box): with 20 sessions p95 server time per rerun ≤ 1 s; ≤ 15 MB per added session;
≤ 0.3 CPU-seconds per new visit to the Map page. The machine's load from other work is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
FORCE_LABEL = "Force area"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TARGETS = {"p95_server_rerun_s_at_20": 1.0, "mb_per_session": 15.0, "cpu_s_per_visit": 0.3}


# --- the server process ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15 of stat)


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


class Server:
    """One `streamlit run app.py`, with its run-time log and scenario store in a temp dir."""

    def __init__(self, workdir: Path, app_dir: Path = REPO):
        self.port = _free_port()
        self.run_times = workdir / "run_times.tsv"
        self.run_times.write_text("")
        self.log_path = workdir / "streamlit.log"
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "ATLAS_RUN_TIMES": str(self.run_times),
            "ATLAS_SCENARIO_DB": str(workdir / "scenarios.sqlite"),
        }
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port)]
        command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
        command += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self._log = open(self.log_path, "w")  # noqa: SIM115 - open for the server's whole life
        self.process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        self.url = f"ws://127.0.0.1:{self.port}/_stcore/stream"
        deadline = time.monotonic() + 90
        while True:
            # Other work on this machine runs Streamlit servers too: the port must be this process's
            # (its log says it bound it, and it is alive), not another server's that answers /health.
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health", timeout=2) as r:
                    bound = f"URL: http://127.0.0.1:{self.port}" in self.log_path.read_text()
                    if r.status == 200 and bound and self.process.poll() is None:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start; see {self.log_path}")
            time.sleep(0.3)

    def mark(self) -> int:
        return self.run_times.stat().st_size

    def runs_since(self, offset: int) -> tuple[list[float], int]:
        """(seconds of each complete run logged after `offset`, count of interrupted runs)."""
        with open(self.run_times, encoding="utf-8") as log:
            log.seek(offset)
            rows = [line.split("\t") for line in log.read().splitlines()]
        complete = [float(row[1]) for row in rows if row[-1] == "complete"]
        return complete, sum(1 for row in rows if row[-1] != "complete")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# --- one visitor, speaking Streamlit's websocket protocol -------------------------------------------


class Session:
    """A websocket session that sends what the frontend sends and reads the ForwardMsgs it gets back."""

    def __init__(self, url: str):
        self.url = url
        self.page_script_hash = ""
        self.force_widget_id: str | None = None
        self.force_options: list[str] = []
        self.cached_hashes: set[str] = set()  # like the browser's message cache, sent with each rerun
        self.received_bytes = 0
        self.exceptions: list[str] = []
        self.kinds: list[str] = []
        self.trace: list[tuple] | None = None  # (bytes, kind, element, cacheable, is a reference) per message
        self._pending: dict | None = None

    async def __aenter__(self) -> Session:
        # permessage-deflate is offered, as Chromium offers it; no Origin header (allowed, as same-origin).
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None, open_timeout=60)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        self._reader.cancel()
        await self.ws.close()

    async def _read(self) -> None:
        async for frame in self.ws:
            self.received_bytes += len(frame)
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            kind = msg.WhichOneof("type")
            self.kinds.append(kind)
            if self.trace is not None:
                element = msg.delta.new_element.WhichOneof("type") if kind == "delta" else None
                self.trace.append((len(frame), kind, element, msg.metadata.cacheable, msg.HasField("ref_hash")))
            if msg.metadata.cacheable and msg.hash:
                self.cached_hashes.add(msg.hash)
            if kind == "navigation" and msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                which = element.WhichOneof("type")
                if which == "exception":
                    self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
                if which == "selectbox" and element.selectbox.label == FORCE_LABEL:
                    self.force_widget_id = element.selectbox.id
                    self.force_options = list(element.selectbox.options)
                pending = self._pending
                if (
                    pending
                    and pending["answer"]
                    and pending["answered"] is None
                    and which == "markdown"
                    and element.markdown.body.startswith(f"**{pending['answer']}")
                ):
                    pending["answered"] = time.perf_counter()
            elif kind == "script_finished" and self._pending is not None:
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status != "FINISHED_EARLY_FOR_RERUN" and not self._pending["done"].done():
                    self._pending["done"].set_result(status)

    async def rerun(self, widget_states: list[WidgetState] | None = None, answer: str | None = None) -> dict:
        """Send a rerun, as the frontend does; wait for script_finished. Seconds to answer and to finished."""
        back = BackMsg()
        state = back.rerun_script
        state.query_string = ""
        state.page_script_hash = self.page_script_hash  # "" on the first run: the default page (Map)
        state.page_name = ""
        state.widget_states.widgets.extend(widget_states or [])
        state.cached_message_hashes.extend(sorted(self.cached_hashes))
        loop = asyncio.get_running_loop()
        self._pending = {"answer": answer, "answered": None, "done": loop.create_future()}
        errors_before = len(self.exceptions)
        start = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        status = await asyncio.wait_for(self._pending["done"], timeout=300)
        finished = time.perf_counter()
        answered = self._pending["answered"]
        self._pending = None
        return {
            "status": status,
            "finished_s": finished - start,
            "answer_s": (answered - start) if answered else None,
            "errors": len(self.exceptions) - errors_before,  # exception elements the page showed
            "answer": answer,
        }

    async def visit(self) -> dict:
        result = await self.rerun()
        if not self.force_widget_id:
            raise RuntimeError(
                f"the Map page sent no {FORCE_LABEL!r} selectbox ({result['status']}; exceptions: {self.exceptions}; "
                f"messages: {self.kinds[:40]})"
            )
        return result

    async def choose(self, name: str) -> dict:
        widget = WidgetState(id=self.force_widget_id, string_value=name)
        return await self.rerun([widget], answer=name)


# --- the measurements ------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 3)


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "max": round(max(values), 3) if values else None,
    }


async def warm(server: Server) -> tuple[list[str], dict]:
    """The Map page once and every force's profile once, from one session: caches a long-lived server
    holds. Returns the forces and what that cost: the first visit to a fresh server, each first opening."""
    start = cpu_s(server.pid)
    async with Session(server.url) as session:
        await session.visit()
        first = cpu_s(server.pid)
        broken = [name for name in session.force_options if (await session.choose(name))["errors"]]
        end = cpu_s(server.pid)
        cold = {
            "cpu_s_first_visit_fresh_server": round(first - start, 2),
            "cpu_s_per_first_opening_of_a_force": round((end - first) / len(session.force_options), 3),
            "forces_whose_profile_shows_an_error": broken,
        }
        return session.force_options, cold


async def cost_per_visit(server: Server, visits: int, forces: list[str]) -> dict:
    """Server CPU seconds per fresh visit (connect + Map page), and per force chosen, one at a time."""
    before = cpu_s(server.pid)
    for _ in range(visits):
        async with Session(server.url) as session:
            await session.visit()
        await asyncio.sleep(0.2)  # let the server finish sending and close the session
    after_visits = cpu_s(server.pid)
    async with Session(server.url) as session:
        await session.visit()
        start = cpu_s(server.pid)
        for index in range(visits):
            await session.choose(forces[(index * 7) % len(forces)])
        await asyncio.sleep(0.2)
        end = cpu_s(server.pid)
    return {
        "cpu_s_per_visit": round((after_visits - before) / visits, 3),
        "cpu_s_per_force_choice": round((end - start) / visits, 3),
        "visits": visits,
    }


def _wait_for_shapes(page, count: int = 43, timeout_s: float = 120) -> None:
    """43 Leaflet shapes drawn, in the page itself or in any iframe (the map has been both)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                if frame.evaluate("document.querySelectorAll('path.leaflet-interactive').length") >= count:
                    return
            except Exception:  # a frame navigating or detached: look again
                pass
        page.wait_for_timeout(50)
    raise TimeoutError(f"fewer than {count} shapes after {timeout_s} s")


def browser_cost(server: Server, visits: int) -> dict:
    """Server CPU seconds of a real first visit in headless Chromium (fresh profile: every static asset
    fetched) and of a reload (assets cached), one browser at a time so browsers never contend; the
    websocket visits above leave out the HTTP assets. Chromium is launched as the browser tests launch it."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO))  # tests/apprunner.py is a checkout helper, not part of the package
    from tests import apprunner as runner

    url = f"http://127.0.0.1:{server.port}/"
    first, reload, requests, runs = [], [], [], []
    failures: list[str] = []
    with sync_playwright() as playwright:
        browser = runner.launch_chromium(playwright)
        for _ in range(visits):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            count = [0]
            page.on("request", lambda _request, count=count: count.__setitem__(0, count[0] + 1))
            try:
                mark, before = server.mark(), cpu_s(server.pid)
                page.goto(url)
                _wait_for_shapes(page)  # generous timeout: the machine is shared
                page.wait_for_timeout(2000)  # the map component's own messages, if any, and the last sends
                first.append(cpu_s(server.pid) - before)
                runs.append(len(server.runs_since(mark)[0]))
                requests.append(count[0])
                before = cpu_s(server.pid)
                page.reload()
                _wait_for_shapes(page)
                page.wait_for_timeout(2000)
                reload.append(cpu_s(server.pid) - before)
            except Exception as error:  # a visit that timed out is reported, not measured
                failures.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
            context.close()
        browser.close()
    return {
        "cpu_s_per_first_visit_median": round(statistics.median(first), 3) if first else None,
        "cpu_s_per_reload_median": round(statistics.median(reload), 3) if reload else None,
        "script_runs_per_visit": statistics.median(runs) if runs else None,
        "http_requests_per_first_visit": statistics.median(requests) if requests else None,
        "visits": len(first),
        "failures": failures,
    }


async def level(server: Server, n: int, rounds: int, forces: list[str], think_s: float) -> dict:
    rss_before = rss_mb(server.pid)
    cpu_before = cpu_s(server.pid)
    machine_before = machine_busy_s()
    client_before = time.process_time()
    wall_before = time.perf_counter()

    sessions = [Session(server.url) for _ in range(n)]
    await asyncio.gather(*(s.__aenter__() for s in sessions))
    mark = server.mark()
    visits = await asyncio.gather(*(s.visit() for s in sessions))
    visit_runs, visit_interrupted = server.runs_since(mark)

    mark = server.mark()
    choices: list[dict] = []
    for r in range(rounds + 1):
        # Session i opens force i (then i + N, ...): a different force per session and per round.
        picks = [forces[(i + r * n) % len(forces)] for i in range(n)]
        choices += await asyncio.gather(*(s.choose(name) for s, name in zip(sessions, picks)))
    choice_runs, choice_interrupted = server.runs_since(mark)

    await asyncio.sleep(1.0)  # let queued sends drain before reading memory
    rss_after = rss_mb(server.pid)
    cpu_after = cpu_s(server.pid)
    machine_after = machine_busy_s()
    wall = time.perf_counter() - wall_before
    client_cpu = time.process_time() - client_before
    received_mb = sum(s.received_bytes for s in sessions) / 1e6
    paced_figures = await paced(server, sessions, forces, rounds + 1, think_s) if think_s else None
    await asyncio.gather(*(s.__aexit__(None) for s in sessions))

    server_cpu = cpu_after - cpu_before
    machine_busy = machine_after[0] - machine_before[0]
    bad = [c["status"] for c in visits + choices if c["status"] != "FINISHED_SUCCESSFULLY"]
    return {
        "sessions": n,
        "server_rerun_s": summary(visit_runs + choice_runs),
        "server_visit_run_s": summary(visit_runs),
        "server_choice_run_s": summary(choice_runs),
        "interrupted_runs": visit_interrupted + choice_interrupted,
        "client_visit_finished_s": summary([v["finished_s"] for v in visits]),
        "client_first_answer_s": summary([c["answer_s"] for c in choices[:n] if c["answer_s"] is not None]),
        "client_answer_s": summary([c["answer_s"] for c in choices if c["answer_s"] is not None]),
        "client_choice_finished_s": summary([c["finished_s"] for c in choices]),
        "answers_missing": sum(1 for c in choices if c["answer_s"] is None),
        "reruns_showing_an_error": sum(1 for c in visits + choices if c["errors"]),
        "forces_showing_an_error": sorted({c["answer"] for c in choices if c["errors"]}),
        "not_successful": bad,
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after": round(rss_after, 1),
        "mb_per_session": round((rss_after - rss_before) / n, 2),
        "wall_s": round(wall, 1),
        "server_cpu_s": round(server_cpu, 1),
        "client_cpu_s": round(client_cpu, 1),
        "other_cpu_s": round(machine_busy - server_cpu - client_cpu, 1),
        "received_mb": round(received_mb, 1),
        "paced": paced_figures,
    }


async def paced(server: Server, sessions: list[Session], forces: list[str], picks: int, think_s: float) -> dict:
    """The same N sessions as readers rather than a burst: each waits a random 0–2×think_s seconds
    (mean think_s) before each of `picks` force choices, so clicks arrive spread out, as readers' do."""
    rng = random.Random(len(sessions))
    machine_before, cpu_before, wall_before = machine_busy_s(), cpu_s(server.pid), time.perf_counter()
    mark = server.mark()

    async def reader(index: int, session: Session) -> list[dict]:
        results = []
        for pick in range(picks):
            await asyncio.sleep(rng.uniform(0, 2 * think_s))
            results.append(await session.choose(forces[(index * 3 + pick * 11 + 5) % len(forces)]))
        return results

    results = [r for rs in await asyncio.gather(*(reader(i, s) for i, s in enumerate(sessions))) for r in rs]
    runs, interrupted = server.runs_since(mark)
    wall = time.perf_counter() - wall_before
    server_cpu = cpu_s(server.pid) - cpu_before
    return {
        "think_s_mean": think_s,
        "server_rerun_s": summary(runs),
        "interrupted_runs": interrupted,
        "client_answer_s": summary([r["answer_s"] for r in results if r["answer_s"] is not None]),
        "client_choice_finished_s": summary([r["finished_s"] for r in results]),
        "reruns_per_s": round(len(results) / wall, 2),
        "server_cores_used": round(server_cpu / wall, 2),
        "other_cores_used": round((machine_busy_s()[0] - machine_before[0] - server_cpu) / wall, 2),
    }


def loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def source_fingerprint(app_dir: Path) -> dict:
    """Which code was measured: a hash of the app's Python and static files, and the newest change."""
    files = sorted(
        f
        for pattern in ("app.py", "app_pages/*.py", "ui/*.py", "coverage/**/*.py", "static/**/*.js")
        for f in app_dir.glob(pattern)
    )
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(app_dir).as_posix().encode() + b"\0" + f.read_bytes())
    newest = max(f.stat().st_mtime for f in files)
    return {
        "app_dir": str(app_dir),
        "sha256": digest.hexdigest()[:16],
        "files": len(files),
        "newest_change": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(newest)),
    }


@contextmanager
def running_server(app_dir: Path):
    with tempfile.TemporaryDirectory(prefix="atlas-load-") as tmp:
        server = Server(Path(tmp), app_dir)
        try:
            yield server
        except BaseException:
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / "load-failed-streamlit.log").write_text(server.log_path.read_text())
            raise
        finally:
            server.stop()


async def measure(levels: list[int], rounds: int, visits: int, browser: bool, app_dir: Path, think_s: float) -> dict:
    figures: dict = {
        "source": source_fingerprint(app_dir),
        "cores": os.cpu_count(),
        "loadavg_before": loadavg(),
        "levels": [],
        "cost": [],
    }
    for n in levels:
        with running_server(app_dir) as server:
            rss_started = rss_mb(server.pid)
            forces, cold = await warm(server)
            figures["cost"].append({"sessions_level": n} | cold | await cost_per_visit(server, visits, forces))
            if browser and n == levels[0]:
                figures["browser"] = await asyncio.to_thread(
                    browser_cost, server, visits
                )  # sync Playwright: off the loop
            result = await level(server, n, rounds, forces, think_s)
            result["rss_mb_started"] = round(rss_started, 1)
            figures["levels"].append(result)
            print(f"N={n}: done in {result['wall_s']} s", file=sys.stderr)
    figures["loadavg_after"] = loadavg()
    figures["cpu_s_per_visit"] = round(statistics.mean(c["cpu_s_per_visit"] for c in figures["cost"]), 3)
    figures["cpu_s_per_force_choice"] = round(statistics.mean(c["cpu_s_per_force_choice"] for c in figures["cost"]), 3)
    return figures


def print_table(figures: dict) -> None:
    head = (
        "N",
        "srv p50",
        "srv p95",
        "visit p50",
        "visit p95",
        "answer p50",
        "answer p95",
        "RSS before→after MB",
        "MB/session",
        "srv/cli/other CPU s",
    )
    rows = []
    for lv in figures["levels"]:
        rows.append(
            (
                str(lv["sessions"]),
                f"{lv['server_rerun_s']['p50']}",
                f"{lv['server_rerun_s']['p95']}",
                f"{lv['client_visit_finished_s']['p50']}",
                f"{lv['client_visit_finished_s']['p95']}",
                f"{lv['client_first_answer_s']['p50']}",
                f"{lv['client_first_answer_s']['p95']}",
                f"{lv['rss_mb_before']}→{lv['rss_mb_after']}",
                f"{lv['mb_per_session']}",
                f"{lv['server_cpu_s']}/{lv['client_cpu_s']}/{lv['other_cpu_s']}",
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print("paced (each session clicks every 0–2×think s, random): server s/rerun p50 p95, answer s p50 p95, reruns/s")
    for lv in figures["levels"]:
        if pc := lv.get("paced"):
            print(
                f"  N={lv['sessions']:<3} think {pc['think_s_mean']} s: srv {pc['server_rerun_s']['p50']} / "
                f"{pc['server_rerun_s']['p95']}, answer {pc['client_answer_s']['p50']} / {pc['client_answer_s']['p95']}, "
                f"{pc['reruns_per_s']} reruns/s, server {pc['server_cores_used']} cores, other work "
                f"{pc['other_cores_used']} cores"
            )
    print(
        f"CPU-seconds per new visit (connect + Map page): {figures['cpu_s_per_visit']} "
        f"(target ≤ {TARGETS['cpu_s_per_visit']}); per force chosen: {figures['cpu_s_per_force_choice']}"
    )
    cost = figures["cost"][0]
    print(
        f"fresh server: first visit {cost['cpu_s_first_visit_fresh_server']} CPU-s; first opening of a force "
        f"{cost['cpu_s_per_first_opening_of_a_force']} CPU-s (then cached for every visitor)"
    )
    if browser := figures.get("browser"):
        print(
            f"Chromium, one at a time: first visit {browser['cpu_s_per_first_visit_median']} CPU-s "
            f"({browser['http_requests_per_first_visit']} requests, {browser['script_runs_per_visit']} script run), "
            f"reload {browser['cpu_s_per_reload_median']} CPU-s"
        )
    source = figures["source"]
    print(
        f"code measured: {source['app_dir']} sha256 {source['sha256']} (newest change {source['newest_change']}; "
        f"unchanged during the run: {source.get('unchanged_during_run')})"
    )
    print(
        f"cores: {figures['cores']}; load average before {figures['loadavg_before']}, after {figures['loadavg_after']}"
    )
    print("seconds: srv = server script time per rerun (ATLAS_RUN_TIMES, complete runs), visit = client time to")
    print("script_finished of the first run, answer = client time from choosing a force to the delta naming it")


def targets_met(figures: dict) -> dict:
    """Each target, met or not; a new visit is judged both without (websocket) and with its static files
    (Chromium's first visit, when measured): a real first visit fetches them."""
    at_20 = next((lv for lv in figures["levels"] if lv["sessions"] == 20), None)
    browser = (figures.get("browser") or {}).get("cpu_s_per_first_visit_median")
    return {
        "p95_server_rerun_s_at_20_burst": at_20["server_rerun_s"]["p95"] <= TARGETS["p95_server_rerun_s_at_20"]
        if at_20
        else None,
        "p95_server_rerun_s_at_20_paced": at_20["paced"]["server_rerun_s"]["p95"] <= TARGETS["p95_server_rerun_s_at_20"]
        if at_20 and at_20.get("paced")
        else None,
        "mb_per_session": all(lv["mb_per_session"] <= TARGETS["mb_per_session"] for lv in figures["levels"]),
        "cpu_s_per_visit_websocket": figures["cpu_s_per_visit"] <= TARGETS["cpu_s_per_visit"],
        "cpu_s_per_first_visit_chromium": browser <= TARGETS["cpu_s_per_visit"] if browser is not None else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--rounds", type=int, default=3, help="force choices after the first, per session")
    parser.add_argument(
        "--think", type=float, default=10.0, help="mean seconds between a paced reader's clicks (0: no paced phase)"
    )
    parser.add_argument("--visits", type=int, default=8, help="fresh visits (and choices) timed for CPU cost")
    parser.add_argument("--json", type=Path, default=OUT / "load.json")
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=REPO,
        help="the checkout to serve (default this one); a copy keeps the code still while it is measured",
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium calibration of a visit's CPU")
    args = parser.parse_args()
    figures = asyncio.run(
        measure(args.levels, args.rounds, args.visits, not args.no_browser, args.app_dir.resolve(), args.think)
    )
    figures["source"]["unchanged_during_run"] = (
        source_fingerprint(args.app_dir.resolve())["sha256"] == figures["source"]["sha256"]
    )
    figures["targets"], figures["targets_met"] = TARGETS, targets_met(figures)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print_table(figures)
    if broken := figures["cost"][0]["forces_whose_profile_shows_an_error"]:
        print(f"forces whose profile shows an error (counted in the times above): {', '.join(broken)}")
    print(f"targets met: {figures['targets_met']}  (written to {args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
