"""Uploads are parsed once per session, in a worker process with a time and memory budget.

A visitor's heavy parse must not slow other visitors' pages (Streamlit runs every session's script
in a thread of one process, and CPU-bound Python holds the interpreter), and clicking while a file
sits in the uploader must not parse it again. bench/uploads.py measures the effect on other sessions.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from coverage import paths
from coverage.errors import InputError, InputErrors
from coverage.model import register as register_model
from ui import session

TIMEOUT = 60


# ---------------------------------------------------------------------------------------------
# The worker


def test_a_job_runs_in_another_process_and_returns_its_result():
    assert session.run_bounded(os.getpid) != os.getpid()
    assert session.run_bounded(divmod, 17, 5) == (3, 2)


def test_a_refusal_comes_back_from_the_worker_with_every_located_problem():
    lines = paths.SERVICES_CSV.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",active,", ",open,", 1)
    lines[4] = lines[4].replace(",high,", ",certain,", 1)
    content = "\n".join(lines).encode()
    arguments = {"force_codes": frozenset(), "source_ids": None, "name": "edited.csv"}
    with pytest.raises(InputErrors) as here:
        register_model.check_upload(content, **arguments)
    with pytest.raises(InputErrors) as there:
        session.run_bounded(register_model.check_upload, content, **arguments)
    assert there.value.problems == here.value.problems
    assert str(there.value) == str(here.value)


def test_a_job_over_its_budget_is_stopped_with_a_message_and_the_worker_replaced():
    before = session.run_bounded(os.getpid)
    started = time.perf_counter()
    with pytest.raises(InputError) as stopped:
        session.run_bounded(time.sleep, 60, timeout=1, where="slow.csv")
    assert str(stopped.value) == (
        "slow.csv: checking it took longer than 1 seconds, the most the atlas gives one upload, so it was "
        "stopped; a smaller or simpler file will be checked"
    )
    assert time.perf_counter() - started < 30  # stopped at its budget, not after the minute's sleep
    assert session.run_bounded(os.getpid) != before  # a fresh worker took over


@pytest.mark.skipif(os.name != "posix", reason="the memory cap uses RLIMIT_AS")
def test_a_job_that_needs_too_much_memory_is_stopped_with_a_message():
    with pytest.raises(InputError, match=r"^big\.zip: checking it needed more than the 3 GB of memory"):
        session.run_bounded(bytearray, 4 * 1024**3, where="big.zip")
    assert session.run_bounded(divmod, 7, 2) == (3, 1)  # and the next upload is checked as usual


def test_a_job_waiting_past_its_budget_for_another_visitors_is_told_the_server_is_busy():
    session.run_bounded(os.getpid)  # the worker is up, so the first job's time is its own
    first = threading.Thread(target=session.run_bounded, args=(time.sleep, 3))
    first.start()
    try:
        while not session._WORKER.one_job.locked():
            time.sleep(0.01)
        with pytest.raises(session.UploadBusy, match=r"^mine\.csv: the server is still checking other visitors'"):
            session.run_bounded(os.getpid, timeout=0.5, where="mine.csv")
    finally:
        first.join()


def test_the_in_thread_switch_runs_the_job_here(monkeypatch):
    monkeypatch.setenv(session.IN_THREAD_ENV, "1")
    assert session.run_bounded(os.getpid) == os.getpid()


def test_the_digest_names_the_bytes_and_the_file():
    one = session.upload_digest([("a.csv", b"x")])
    assert one == session.upload_digest([("a.csv", b"x")])
    assert one != session.upload_digest([("b.csv", b"x")]) != session.upload_digest([("a.csv", b"y")])
    assert session.upload_digest([("ab", b"c")]) != session.upload_digest([("a", b"bc")])


# ---------------------------------------------------------------------------------------------
# Once per session, through the pages


@pytest.fixture
def worker_calls(monkeypatch) -> list[str]:
    """Every job sent to the worker, by function name; the jobs still run there."""
    calls: list[str] = []
    real = session.run_bounded

    def counting(fn, *args, **kwargs):
        calls.append(fn.__name__)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(session, "run_bounded", counting)
    return calls


def _evidence_page() -> AppTest:
    at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("app_pages/evidence.py")
    return at.run()


def _uploader(at: AppTest, key: str):
    return next(u for u in at.get("file_uploader") if u.key == key)


def _edited_register() -> bytes:
    lines = paths.SERVICES_CSV.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",high,", ",medium,", 1)
    return "\n".join(lines).encode()


def test_an_uploaded_register_is_checked_once_however_often_the_page_reruns(worker_calls):
    at = _evidence_page()
    _uploader(at, "evidence_upload").set_value(("edited.csv", _edited_register(), "text/csv")).run()
    assert not at.exception
    assert "all valid" in at.success[0].value
    for _ in range(3):
        at.run()
        assert "all valid" in at.success[0].value
    assert worker_calls == ["check_upload"]

    at.button(key="use_register").click().run()  # using it works out the changes again, not the check
    assert not at.exception and "No differences" in " ".join(m.value for m in at.markdown)
    assert worker_calls == ["check_upload"]

    _uploader(at, "evidence_upload").set_value(("broken.csv", b"service_id\nx\n", "text/csv")).run()
    for _ in range(2):
        at.run()
        assert "broken.csv cannot be used" in at.error[0].value
        assert "missing column(s)" in at.dataframe[-1].value["Problem"].iloc[0]
    assert worker_calls == ["check_upload", "check_upload"]  # a refusal is remembered too
    # One check of each kind is kept, whatever the session uploaded before.
    assert set(at.session_state[session.UPLOAD_CHECKS_KEY]) == {"register", "register_changes"}


def test_another_visitor_never_sees_an_upload(worker_calls):
    mine = _evidence_page()
    _uploader(mine, "evidence_upload").set_value(("edited.csv", _edited_register(), "text/csv")).run()
    theirs = _evidence_page()
    assert session.UPLOAD_CHECKS_KEY not in theirs.session_state
    assert not theirs.success


def _boundary_script() -> None:
    import streamlit as st

    from coverage import paths
    from coverage.model.atlas_data import load_forces
    from coverage.model.forces import force_names
    from ui import session

    content = paths.BOUNDARIES_GEOJSON.read_bytes()
    checked = session.checked_boundary_upload([("pfa.geojson", content)], force_names(load_forces()))
    st.write(f"{len(checked.frame)} forces")
    st.button("again")


def test_an_uploaded_boundary_file_is_read_once_however_often_the_page_reruns(worker_calls):
    at = AppTest.from_function(_boundary_script, default_timeout=TIMEOUT).run()
    assert not at.exception
    for _ in range(3):
        at.button[0].click().run()
        assert at.markdown[0].value == "43 forces"
    assert worker_calls == ["read_uploaded_boundaries"]


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="Unix scheduling priority")
def test_the_worker_runs_below_the_servers_priority():
    session.run_bounded(os.getpid)
    assert session.run_bounded(os.getpriority, os.PRIO_PROCESS, 0) >= session.WORKER_NICENESS
