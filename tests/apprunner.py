"""Start the real app on a free loopback port and drive Debian's Chromium with Playwright.

Used by the browser tests and by bench/map.py. Nothing leaves this machine: Chromium sends every
request for a host other than loopback to a proxy that is not there, so it fails at once, and
`record_outside_requests` lists each one, so a test can prove the map needs no CDN.

Blocking is done by Chromium, not by Playwright's request routing: routing switches off the
browser's HTTP cache (microsoft/playwright#7220) and passes every request through Python, which
made every visit a cold one and slowed each request. Real visitors keep their cache.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Offline: everything but loopback goes to a proxy on a closed port and fails before leaving.
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1;localhost",
]


def free_port() -> int:
    """A loopback port nobody listens on now (a test that must know the app's port before it starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_free_port = free_port  # the old private name, kept for callers that use it


@contextmanager
def running_app(
    timeout_s: float = 60,
    *,
    env: Mapping[str, str | None] | None = None,
    port: int | None = None,
    secrets_file: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    log_path: str | os.PathLike[str] | None = None,
    script: str | os.PathLike[str] | None = None,
):
    """Yield the base URL of `streamlit run app.py` served on 127.0.0.1.

        Every option is optional; without them the app runs as it always has, from the repository with this
        process's environment. ``env`` is laid over this process's environment (a value of None removes that
        variable); ``port`` serves on that port instead of a free one (for a redirect URI known in advance);
        ``secrets_file`` is the only secrets.toml Streamlit reads (``--secrets.files``, so neither the
        repository's nor the user's ``.streamlit/secrets.toml`` counts); ``cwd`` runs the server from another
        folder (``app.py`` is still this checkout's, but Streamlit then reads ``.streamlit/config.toml`` from
        that folder); ``extra_args`` go to ``streamlit run`` as they are; ``log_path`` receives the server's
        output (else ``bench/out/streamlit-<port>.log`` when that folder exists, else nothing); ``script`` runs
    another main script instead of the atlas's (bench/map.py's comparison apps, from their own ``cwd``)."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        os.fspath(script) if script is not None else str(REPO_ROOT / "app.py") if cwd is not None else "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    if secrets_file is not None:
        command += ["--secrets.files", os.fspath(secrets_file)]
    command += list(extra_args)
    if log_path is not None:
        log = open(log_path, "w")  # noqa: SIM115 - written by the server for its whole life
    elif (REPO_ROOT / "bench" / "out").is_dir():
        log = open(REPO_ROOT / "bench" / "out" / f"streamlit-{port}.log", "w")  # noqa: SIM115 - as above
    else:
        log = subprocess.DEVNULL
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    process = subprocess.Popen(
        command, cwd=cwd if cwd is not None else REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start (exit {process.poll()})")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log is not subprocess.DEVNULL:
            log.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def record_outside_requests(context, base_url: str) -> list[str]:
    """Record every request a page in `context` makes to a host other than the app's own.

    Chromium already refuses them (see CHROMIUM_ARGS); this listens without intercepting, so the
    browser's cache keeps working. The returned list fills in as the pages run."""
    app_host = urlparse(base_url).netloc
    outside: list[str] = []

    def note(request):
        url = request.url
        if urlparse(url).netloc != app_host and not url.startswith(("data:", "blob:", "about:")):
            outside.append(url)

    context.on("request", note)
    return outside
