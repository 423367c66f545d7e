"""What this visitor has uploaded for their own session: never written to disk, never shared.

An upload is parsed and checked once per session (keyed on a hash of its bytes, kept in the session's
state), not on every rerun while it sits in the uploader, and in a worker process, not in the script
thread: Streamlit runs every visitor's script in a thread of one process, so a parse that holds the
interpreter for seconds would slow every other visitor's pages. ``run_bounded`` gives that worker a
time budget (and, where the system allows, a memory cap) and turns running out into a message.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib
import json
import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from coverage.errors import InputError, located_problems
from coverage.model import boundaries as boundaries_model
from coverage.model import register as register_model

BOUNDARIES_KEY = "uploaded_boundaries"
BOUNDARIES_NAME_KEY = "uploaded_boundaries_name"
BOUNDARIES_VERSION_KEY = "uploaded_boundaries_version"
# The latest check of each kind of upload: {kind: (key, result, error)}. One entry a kind, so a session
# holds at most one checked register and one checked boundary file however many it uploads.
UPLOAD_CHECKS_KEY = "upload_checks"

# The most one upload's parse may take. The heaviest valid files take seconds: a 5,000-row, 12 MB
# register (bench/uploads.py) about 1 s to check on an idle machine and 3 s on a busy one; a boundary
# file at the 1,000,000-vertex limit about 1 s to read and check and 3 s to simplify. 20 s leaves room
# for a busy server and the worker's own start (2-6 s) without letting one file hold the worker long.
UPLOAD_TIMEOUT_S = 20.0
# The worker's address space. A 20 MB register or a 50 MB boundary file at its vertex limit needs well
# under 1 GB; the cap stops a file that inflates past what was foreseen from taking the server's memory.
WORKER_MEMORY_BYTES = 3 * 1024**3
# The worker's scheduling priority (Unix "nice"; 0 is the usual, 19 the lowest): below the server's.
WORKER_NICENESS = 10
# Set (to anything) to parse in the script thread as before, e.g. to measure the difference (bench/uploads.py).
IN_THREAD_ENV = "ATLAS_PARSE_IN_THREAD"

Result = TypeVar("Result")


class UploadBusy(InputError):
    """The worker stayed busy with other visitors' uploads for the whole budget; trying again may work."""


def _memory_cap() -> tuple[Callable[..., Any] | None, tuple[Any, ...]]:
    """An initializer that caps the worker's address space (POSIX only), never above the hard limit."""
    try:
        import resource
    except ImportError:  # Windows: the time budget still applies
        return None, ()
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = WORKER_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(WORKER_MEMORY_BYTES, hard)
    return resource.setrlimit, (resource.RLIMIT_AS, (cap, hard))


class _Worker:
    """The server's one upload worker process: started on first use, replaced when a job overruns."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # guards pool
        self.one_job = threading.Lock()  # one upload at a time: each job's budget is its own time, not a queue's
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None

    def shared_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        with self.lock:
            if self.pool is None:
                initializer, initargs = _memory_cap()
                # "spawn": a fresh interpreter, never a fork of a server with many threads (a fork
                # copies locks other threads may be holding).
                self.pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=initializer,
                    initargs=initargs,
                )
            return self.pool

    def lower_priority(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        """Let the system prefer the server's threads, which draw every visitor's pages, to a parse:
        on a server whose processors are all busy, sharing the interpreter is not the only cost."""
        if not hasattr(os, "setpriority"):
            return
        for pid in list((getattr(pool, "_processes", None) or {}).keys()):
            try:
                if os.getpriority(os.PRIO_PROCESS, pid) < WORKER_NICENESS:
                    os.setpriority(os.PRIO_PROCESS, pid, WORKER_NICENESS)
            except OSError:  # it has just ended, or the system refuses: it runs at the usual priority
                pass

    def discard(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        """Stop a worker that overran (or died) and let the next job start a fresh one."""
        with self.lock:
            if self.pool is pool:
                self.pool = None
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)


_WORKER = _Worker()


def prepare_worker() -> None:
    """Start the upload worker, if it is not running, while the visitor is still choosing a file: its
    start (a fresh interpreter importing the readers, about 2 s) is then not spent on their upload."""
    if os.environ.get(IN_THREAD_ENV) or _WORKER.pool is not None:
        return
    pool = _WORKER.shared_pool()
    for module in (register_model.__name__, boundaries_model.__name__):
        pool.submit(importlib.import_module, module)
    _WORKER.lower_priority(pool)


def run_bounded(
    fn: Callable[..., Result],
    /,
    *args: Any,
    timeout: float = UPLOAD_TIMEOUT_S,
    where: str | None = None,
    **kwargs: Any,
) -> Result:
    """``fn(*args, **kwargs)`` in the server's one upload worker process, within ``timeout`` seconds.

    ``fn`` must be a module-level function and its arguments and result must pickle. Its InputError
    comes back as it was raised. Running out of time or memory raises InputError (``where`` names the
    file) and replaces the worker; waiting longer than ``timeout`` for another visitor's job raises
    UploadBusy. With ATLAS_PARSE_IN_THREAD set, ``fn`` runs here, in the caller's thread.
    """
    if os.environ.get(IN_THREAD_ENV):
        return fn(*args, **kwargs)
    if not _WORKER.one_job.acquire(timeout=timeout):
        raise UploadBusy(
            f"the server is still checking other visitors' uploads after {timeout:g} seconds; try again in a minute",
            where=where,
        )
    try:
        pool = _WORKER.shared_pool()
        try:
            future = pool.submit(fn, *args, **kwargs)
            _WORKER.lower_priority(pool)  # a new worker starts on the first submit
            return future.result(timeout=timeout)
        except InputError as error:
            # An exception pickles as its class called with its args, then its __dict__; InputErrors'
            # args (its text) are not its constructor's arguments, so its text is rebuilt from the
            # restored where and reason. Its problems came through as they were.
            error.args = (f"{error.where}: {error.reason}" if error.where else error.reason,)
            raise
        except concurrent.futures.TimeoutError:
            _WORKER.discard(pool)
            raise InputError(
                f"checking it took longer than {timeout:g} seconds, the most the atlas gives one upload, so it "
                "was stopped; a smaller or simpler file will be checked",
                where=where,
            ) from None
        except MemoryError:
            _WORKER.discard(pool)
            raise InputError(
                f"checking it needed more than the {WORKER_MEMORY_BYTES // 1024**3} GB of memory the atlas gives "
                "one upload, so it was stopped; a smaller or simpler file will be checked",
                where=where,
            ) from None
        except BrokenProcessPool:  # the worker died: killed for its memory, or could not start
            _WORKER.discard(pool)
            raise InputError(
                "the process checking it stopped before it finished (a file that needs too much memory does "
                "this); nothing has changed. Try again, or try a smaller or simpler file",
                where=where,
            ) from None
    finally:
        _WORKER.one_job.release()


def upload_digest(files: list[tuple[str, bytes]]) -> str:
    """A hash of uploaded files' names and bytes: the same upload gives the same digest."""
    digest = hashlib.sha256()
    for name, content in files:
        digest.update(hashlib.sha256(name.encode()).digest())
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def once_per_upload(kind: str, key: tuple[Any, ...], compute: Callable[[], Result]) -> Result:
    """``compute()`` once for each new ``key`` of this kind of upload in this session; its result, or
    its InputError, again on every rerun while the same file sits in the uploader. A busy worker is
    not remembered, so the next rerun tries again."""
    checks: dict[str, tuple[tuple[Any, ...], Any, InputError | None]] = st.session_state.setdefault(
        UPLOAD_CHECKS_KEY, {}
    )
    held = checks.get(kind)
    if held is None or held[0] != key:
        try:
            held = (key, compute(), None)
        except UploadBusy:
            raise
        except InputError as error:
            held = (key, None, error)
        checks[kind] = held
    if held[2] is not None:
        raise held[2].with_traceback(None)
    result: Result = held[1]
    return result


def checked_register_upload(name: str, content: bytes) -> tuple[register_model.CheckedUpload, pd.DataFrame, str]:
    """An uploaded register checked once per session (in the worker), what it changes in the register in
    use (worked out again only when that register changes), and its digest. Raises InputError."""
    from ui import data

    atlas = data.atlas()
    digest = upload_digest([(name, content)])
    checked = once_per_upload(
        "register",
        (digest,),
        lambda: run_bounded(
            register_model.check_upload,
            content,
            force_codes=frozenset(atlas.forces["code"]),
            source_ids=frozenset(atlas.sources["source_id"]),
            name=name,
            where=name,
        ),
    )
    current = data.register()
    changes = once_per_upload(
        "register_changes",
        (digest, data.register_version()),
        lambda: register_model.register_diff(current, checked.register),
    )
    return checked, changes, digest


def checked_boundary_upload(
    files: list[tuple[str, bytes]], known_forces: Mapping[str, str]
) -> boundaries_model.Boundaries:
    """Uploaded boundary file(s) read and checked once per session, in the worker. Raises InputError."""
    return once_per_upload(
        "boundaries",
        (upload_digest(files), tuple(sorted(known_forces.items()))),
        lambda: run_bounded(
            boundaries_model.read_uploaded_boundaries,
            files,
            dict(known_forces),
            where=", ".join(name for name, _ in files),
        ),
    )


def use_boundaries(frame, name: str) -> None:
    """Draw the map with checked boundaries for this session. Simplifying them is the heavy part, so it
    runs in the worker; raises InputError if it runs out of time or memory (the map is unchanged)."""
    text = run_bounded(boundaries_model.web_geojson, frame, where=name)
    st.session_state[BOUNDARIES_KEY] = json.loads(text)
    st.session_state[BOUNDARIES_NAME_KEY] = name
    st.session_state[BOUNDARIES_VERSION_KEY] = hashlib.sha256(text.encode()).hexdigest()[:16]


def clear_boundaries() -> None:
    st.session_state.pop(BOUNDARIES_VERSION_KEY, None)
    st.session_state.pop(BOUNDARIES_KEY, None)
    st.session_state.pop(BOUNDARIES_NAME_KEY, None)


def boundaries(shipped: dict) -> dict:
    return st.session_state.get(BOUNDARIES_KEY) or shipped


def boundaries_version() -> str:
    return st.session_state.get(BOUNDARIES_VERSION_KEY, "shipped")


def boundaries_name() -> str | None:
    return st.session_state.get(BOUNDARIES_NAME_KEY)


def problems_table(error: InputError) -> pd.DataFrame:
    """One located problem per row (line, field, problem, file), shown as plain text (a dataframe
    never renders HTML). Blank columns are dropped."""
    table = pd.DataFrame(located_problems(error), columns=["Line", "Field", "Problem", "File"])
    return table.loc[:, [c for c in table.columns if c == "Problem" or table[c].astype(bool).any()]]


def use_register(register: pd.DataFrame, name: str, version: str | None = None) -> None:
    """Use a checked register for this session. ``version`` names it in cache keys (by default a hash
    of its CSV; a page that has the upload's digest passes that and saves the export)."""
    from ui.data import REGISTER_KEY, REGISTER_NAME_KEY, REGISTER_VERSION_KEY

    st.session_state[REGISTER_KEY] = register
    st.session_state[REGISTER_NAME_KEY] = name
    st.session_state[REGISTER_VERSION_KEY] = (
        version or hashlib.sha256(register_model.export_register_csv(register)).hexdigest()
    )[:16]


def clear_register() -> None:
    from ui.data import REGISTER_KEY, REGISTER_NAME_KEY, REGISTER_VERSION_KEY

    st.session_state.pop(REGISTER_VERSION_KEY, None)
    st.session_state.pop(REGISTER_KEY, None)
    st.session_state.pop(REGISTER_NAME_KEY, None)
