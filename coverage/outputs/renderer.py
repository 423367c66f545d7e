"""Vega-Lite charts drawn to SVG and PNG by vl-convert, in a process of their own.

vl-convert (1.9) holds Python's GIL for the whole of each call: measured on this project's charts, a
drawing of 0.1–0.2 s stops every other thread of the process for as long (``bench/briefing.py`` prints
the longest pause, side by side). In the app's server those threads are every other visitor's page
and the loop that talks to their browsers: one campaigner's briefing pack (a dozen drawings) froze the
server for everyone, 0.5–0.9 s at a time. Drawn in a separate process, the waiting thread gives the
GIL up.

The process (``python -m coverage.outputs.renderer``: vl-convert and this module, nothing else) is
started on first use, about half a second, and kept for the server's life. It is started with
``subprocess``, not ``multiprocessing``: multiprocessing's "spawn" runs the parent's main script again in
the child, and in a Streamlit server the main script is the app itself, which would then load the
atlas's data a second time in the drawing process. Requests and answers travel as pickles over two
pipes, framed by ``multiprocessing.connection.Connection``.

If the process cannot be started (twice), charts are drawn in the calling process rather than not at
all. If a chart kills a process that had started, or takes longer than ``DRAW_TIMEOUT_S`` (its
process is then stopped), that chart raises ``DrawingError``; the next one gets a new process.
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
# How long a new process may take to say it is ready (start Python, import vl-convert, start its
# JavaScript engine: about half a second here).
START_TIMEOUT_S = 60.0
DRAWINGS = frozenset({"vegalite_to_svg", "vegalite_to_png", "svg_to_png"})
# ATLAS_DRAW_IN_PROCESS=1 draws in the server's own process, as before this module: for a host that
# allows no child processes, and for bench/briefing.py's side-by-side.
IN_PROCESS_ENV = "ATLAS_DRAW_IN_PROCESS"

_log = logging.getLogger(__name__)


class DrawingError(RuntimeError):
    """A drawing never finished (its process was stopped), or the process died drawing it."""


class _ProcessDied(Exception):
    def __init__(self, *, was_ready: bool) -> None:
        super().__init__("the drawing process stopped")
        self.was_ready = was_ready  # it had started and said so: a drawing, not the start, killed it


def _draw(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    import vl_convert

    if name not in DRAWINGS:
        raise ValueError(f"not a drawing: {name!r}")
    return getattr(vl_convert, name)(*args, **kwargs)


READY = "ready"


class _Worker:
    """One drawing process and the two pipes to it. It says READY once vl-convert has started, and
    then reads one request at a time: a request is only sent while it waits for one, so a send never
    blocks on a full pipe for long."""

    def __init__(self) -> None:
        self.ready = False
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
                # Its own session: a Ctrl-C to the server's terminal is for the server, which then closes
                # the pipe; the child ends when it reads the end of it.
                start_new_session=True,
            )
        except OSError as error:  # no Python to start (or no more processes allowed)
            for fd in (to_child_read, to_child_write, from_child_read, from_child_write):
                os.close(fd)
            raise _ProcessDied(was_ready=False) from error
        os.close(to_child_read)  # the child's ends, now the child's alone
        os.close(from_child_write)
        self.requests = Connection(to_child_write, readable=False)
        self.answers = Connection(from_child_read, writable=False)

    def _receive(self, timeout_s: float) -> Any:
        # Waiting on the pipe releases the GIL: the rest of the server goes on meanwhile.
        try:
            if not self.answers.poll(timeout_s):
                self.stop()
                return _TIMED_OUT
            return self.answers.recv()
        except (EOFError, OSError) as error:
            self.stop()
            raise _ProcessDied(was_ready=self.ready) from error

    def draw(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not self.ready:
            said = self._receive(START_TIMEOUT_S)
            if said != READY:  # silent for a minute, or something else: not a drawing process
                self.stop()
                raise _ProcessDied(was_ready=False)
            self.ready = True
        try:
            self.requests.send((name, args, kwargs))
        except OSError as error:
            self.stop()
            raise _ProcessDied(was_ready=True) from error
        answer = self._receive(DRAW_TIMEOUT_S)
        if answer is _TIMED_OUT:
            raise DrawingError(f"a chart took over {DRAW_TIMEOUT_S:.0f} s to draw and was stopped")
        ok, value = answer
        if not ok:
            raise value  # vl-convert's own error for this chart, raised here as it would be in-process
        return value

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.requests.close()
        self.answers.close()


_TIMED_OUT = object()


class _DrawingProcess:
    """The one process that draws (started on first use), or, once told, the calling process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one drawing at a time: vl-convert draws one at a time anyway
        self._worker: _Worker | None = None
        # Set for a batch worker, by ATLAS_DRAW_IN_PROCESS, or once no drawing process could start here.
        self.in_process = os.environ.get(IN_PROCESS_ENV, "") == "1"

    def _started(self) -> _Worker:
        if self._worker is None or self._worker.process.poll() is not None:
            self._worker = None
            self._worker = _Worker()
        return self._worker

    def _cannot_start(self) -> None:
        _log.warning("vl-convert's own process could not be started; drawing charts in this process")
        self.in_process = True

    def start(self) -> None:
        # Never waits: if another visitor's chart is being drawn, the process has started already.
        if self.in_process or not self._lock.acquire(blocking=False):
            return
        try:
            self._started()
        except _ProcessDied:
            self._cannot_start()
        finally:
            self._lock.release()

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            failed_to_start = died_drawing = 0
            while not self.in_process:
                try:
                    return self._started().draw(name, args, kwargs)
                except DrawingError:
                    self._worker = None
                    raise
                except _ProcessDied as died:
                    self._worker = None
                    if died.was_ready:
                        # Killed between charts (by the system, say), or by this chart: a new process
                        # tries it once more. Never drawn here after that: a chart that kills vl-convert
                        # would take the server with it.
                        died_drawing += 1
                        if died_drawing == 2:
                            raise DrawingError("the drawing process stopped twice while drawing this chart") from died
                    else:
                        failed_to_start += 1
                        if failed_to_start == 2:
                            # It cannot run here (a host that allows no child processes, no Python at that
                            # path). Draw here rather than not at all.
                            self._cannot_start()
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


def _end_with_parent() -> None:
    """On Linux, have the kernel stop this process when the server's process ends, even mid-drawing
    (vl-convert holds the GIL then, so no thread of ours could notice)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _serve(requests: Connection, answers: Connection) -> None:
    """The drawing process: draw each request in turn until the parent closes its end of the pipe."""
    parent = os.getppid()
    _end_with_parent()
    if os.getppid() != parent:  # the server ended before the line above took effect
        return
    _draw("vegalite_to_svg", ({"mark": "point", "data": {"values": [{"a": 1}]}},), {})  # start vl-convert now
    try:
        answers.send(READY)
        while True:
            try:
                name, args, kwargs = requests.recv()
            except EOFError:
                return
            try:
                answer: tuple[bool, Any] = (True, _draw(name, args, kwargs))
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as error:
                answer = (False, _portable(error))
            answers.send(answer)
    except (BrokenPipeError, ConnectionResetError):
        return  # the server has gone


def _portable(error: BaseException) -> Exception:
    """``error`` if it survives pickling, else a ValueError carrying its type and message."""
    import pickle

    try:
        copy = pickle.loads(pickle.dumps(error))
    except Exception:
        copy = None
    if isinstance(copy, Exception):
        return copy
    return ValueError(f"{type(error).__name__}: {error}")


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
