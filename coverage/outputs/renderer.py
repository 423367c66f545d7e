"""Vega-Lite charts drawn to SVG and PNG by vl-convert, in a process of their own.

vl-convert (1.9) holds Python's GIL for the whole of each call: measured on this project's charts, a
drawing of 0.1–0.2 s stops every other thread of the process for as long (``bench/briefing.py`` prints
the longest pause, side by side). In the app's server those threads are every other visitor's page
and the loop that talks to their browsers: one campaigner's briefing pack (a dozen drawings) froze the
server for everyone, up to 0.6 s at a time. Drawn in a separate process, the waiting thread gives the
GIL up.

The process (``python -m coverage.outputs.renderer``: vl-convert and this module, nothing else) is
started on first use, about half a second, and kept for the server's life. It is started with
``subprocess``, not ``multiprocessing``: multiprocessing's "spawn" runs the parent's main script again in
the child, and in a Streamlit server the main script is the app itself, which would then load the
atlas's data a second time in the drawing process. Requests and answers travel as pickles over two
pipes, framed by ``multiprocessing.connection.Connection``.

If the process dies, the drawing is tried once more in a new one, and then in the calling process; a
drawing that takes longer than ``DRAW_TIMEOUT_S`` has the process stopped and raises ``DrawingError``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# Far above the slowest drawing measured (a 2x share image, about 0.3 s on a 2-core machine, 2026-12):
# a drawing this slow is stuck, not busy.
DRAW_TIMEOUT_S = 120.0
# How long a new process may take to answer its first drawing (start Python, import vl-convert, start
# its JavaScript engine: about half a second here).
START_TIMEOUT_S = 60.0
DRAWINGS = frozenset({"vegalite_to_svg", "vegalite_to_png", "svg_to_png"})
# ATLAS_DRAW_IN_PROCESS=1 draws in the server's own process, as before this module: for a host that
# allows no child processes, and for bench/briefing.py's side-by-side.
IN_PROCESS_ENV = "ATLAS_DRAW_IN_PROCESS"

_log = logging.getLogger(__name__)


class DrawingError(RuntimeError):
    """A drawing never finished, and its process was stopped."""


class _ProcessDied(Exception):
    pass


def _draw(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    import vl_convert

    if name not in DRAWINGS:
        raise ValueError(f"not a drawing: {name!r}")
    return getattr(vl_convert, name)(*args, **kwargs)


class _Worker:
    """One drawing process and the two pipes to it."""

    def __init__(self) -> None:
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        # The checkout (or installed package) this module came from, whatever the server's working folder.
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "coverage.outputs.renderer", str(to_child_read), str(from_child_write)],
                pass_fds=(to_child_read, from_child_write),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except OSError as error:  # no Python to start (or no more processes allowed)
            for fd in (to_child_read, to_child_write, from_child_read, from_child_write):
                os.close(fd)
            raise _ProcessDied from error
        os.close(to_child_read)  # the child's ends, now the child's alone
        os.close(from_child_write)
        self.requests = Connection(to_child_write, readable=False)
        self.answers = Connection(from_child_read, writable=False)
        self.answered = False  # the first answer also waits for the process to start

    def draw(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            self.requests.send((name, args, kwargs))
            # Waiting on the pipe releases the GIL: the rest of the server goes on meanwhile.
            ready = self.answers.poll(DRAW_TIMEOUT_S + (0 if self.answered else START_TIMEOUT_S))
            if not ready:
                self.stop()
                raise DrawingError(f"a chart took over {DRAW_TIMEOUT_S:.0f} s to draw and was stopped")
            ok, value = self.answers.recv()
        except (EOFError, OSError) as error:
            self.stop()
            raise _ProcessDied from error
        self.answered = True
        if not ok:
            raise value  # vl-convert's own error for this chart, raised here as it would be in-process
        return value

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.requests.close()
        self.answers.close()


class _DrawingProcess:
    """The one process that draws (started on first use), or, once told, the calling process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one drawing at a time: vl-convert draws one at a time anyway
        self._worker: _Worker | None = None
        # Set for a batch worker, by ATLAS_DRAW_IN_PROCESS, or once the drawing process has proved it
        # cannot start here.
        self.in_process = os.environ.get(IN_PROCESS_ENV, "") == "1"

    def _started(self) -> _Worker:
        if self._worker is None or self._worker.process.poll() is not None:
            self._worker = _Worker()
        return self._worker

    def start(self) -> None:
        with self._lock:
            if not self.in_process:
                self._started()

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            for _attempt in (1, 2):
                if self.in_process:
                    break
                try:
                    return self._started().draw(name, args, kwargs)
                except _ProcessDied:
                    self._worker = None
                except DrawingError:
                    self._worker = None
                    raise
            else:
                # The process died twice, on start or mid-drawing. Draw here rather than not at all.
                _log.warning("vl-convert's own process stopped twice; drawing charts in this process")
                self.in_process = True
        return _draw(name, args, kwargs)

    def pid(self) -> int | None:
        """The drawing process's id, while one runs."""
        return self._worker.process.pid if self._worker is not None else None

    def stop(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None


_drawing = _DrawingProcess()


def draw_in_this_process() -> None:
    """From now on, draw in the calling process (a batch worker, which has no one else to keep waiting)."""
    _drawing.in_process = True


def start() -> None:
    """Start the drawing process now, so that its start-up overlaps the caller's own work."""
    _drawing.start()


def vegalite_to_svg(spec: dict[str, Any] | str) -> str:
    return str(_drawing.call("vegalite_to_svg", spec))


def vegalite_to_png(spec: dict[str, Any] | str, scale: float = 1) -> bytes:
    return bytes(_drawing.call("vegalite_to_png", spec, scale=scale))


def svg_to_png(svg: str, scale: float = 1) -> bytes:
    return bytes(_drawing.call("svg_to_png", svg, scale=scale))


def _serve(requests: Connection, answers: Connection) -> None:
    """The drawing process: draw each request in turn until the parent closes its end of the pipe."""
    _draw("vegalite_to_svg", ({"mark": "point", "data": {"values": [{"a": 1}]}},), {})  # start vl-convert now
    while True:
        try:
            name, args, kwargs = requests.recv()
        except EOFError:
            return
        try:
            answer = (True, _draw(name, args, kwargs))
        except Exception as error:
            answer = (False, error)
        try:
            answers.send(answer)
        except Exception as error:
            answers.send((False, ValueError(f"{type(error).__name__}: {error}")))


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
