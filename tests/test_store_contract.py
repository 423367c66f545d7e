"""The scenario store contract, run against both backends: SQLite and a real PostgreSQL server.

Owners and admins, workspaces, authorship, soft delete with recovery and purge, name rules, the store's
own schema version, saves from two processes at once, and (PostgreSQL) a server killed during saves.
The server is a throwaway one (``tests/pg_server.py``); without PostgreSQL's binaries these tests fail
with a message saying how to install them, they never skip.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from coverage import paths
from coverage.errors import InputError
from coverage.planner.schema import load_preset, scenario_from_dict, scenario_hash, scenario_to_dict, scenario_to_yaml
from coverage.planner.store import (
    RECOVERY_DAYS,
    STORE_SCHEMA,
    PermissionRefused,
    ScenarioStore,
    SQLiteScenarioStore,
    StoreUnavailable,
    open_store,
)
from coverage.planner.store_postgres import PostgresScenarioStore
from tests.pg_server import PostgresMissing, PostgresServer, find_bindir, running_server

ALICE, BOB, ADMIN = "alice@example.org", "bob@example.org", "admin@example.org"
TEAM = "team:north-west"

# --------------------------------------------------------------------------------------------
# Fixtures: the server, the backends, a clock the tests move
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        find_bindir()
    except PostgresMissing as missing:
        pytest.fail(str(missing), pytrace=False)
    with running_server() as server:
        yield server


class Clock:
    """What the store takes as now; tests move it on."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Backend:
    kind: str
    location: str  # the SQLite file, or the PostgreSQL DSN (with a schema of its own)
    clock: Clock
    raw: Callable[..., list[tuple[Any, ...]]]  # SQL on the database underneath, "?" placeholders

    def open(self, **kwargs: Any) -> ScenarioStore:
        kwargs.setdefault("clock", self.clock)
        if self.kind == "sqlite":
            return SQLiteScenarioStore(self.location, **kwargs)
        return PostgresScenarioStore(self.location, **kwargs)


def sqlite_raw(path: Path) -> Callable[..., list[tuple[Any, ...]]]:
    def raw(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        con = sqlite3.connect(path)
        try:
            with con:
                return con.execute(sql, params).fetchall()
        finally:
            con.close()

    return raw


def postgres_raw(dsn: str) -> Callable[..., list[tuple[Any, ...]]]:
    def raw(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(dsn) as con:
            cursor = con.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []

    return raw


@pytest.fixture
def fresh_schema(pg_server: PostgresServer) -> Iterator[str]:
    """A DSN whose search_path is a new, empty schema (dropped afterwards)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    yield pg_server.dsn(schema=schema)
    if pg_server.running():
        with psycopg.connect(pg_server.dsn(), autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        path = tmp_path / "scenarios.sqlite"
        return Backend("sqlite", str(path), Clock(), sqlite_raw(path))
    dsn = request.getfixturevalue("fresh_schema")
    return Backend("postgres", dsn, Clock(), postgres_raw(dsn))


@pytest.fixture
def store(backend: Backend) -> ScenarioStore:
    return backend.open(admins=frozenset({ADMIN}))


@pytest.fixture(scope="module")
def first():
    return load_preset("cheshire_hru_like")


@pytest.fixture(scope="module")
def second(first):
    data = scenario_to_dict(first)
    data["horizon_years"] = 5
    return scenario_from_dict(data)


def names(store: ScenarioStore, **kwargs: Any) -> list[str]:
    return [info.name for info in store.list(**kwargs)]


# --------------------------------------------------------------------------------------------
# Versions, authorship, the old call forms
# --------------------------------------------------------------------------------------------


def test_store_follows_the_protocol(store):
    assert isinstance(store, ScenarioStore)


def test_old_call_forms_still_work(store, first, second):
    """save(name, scenario) and friends, as pages call them today: the local user, the personal workspace."""
    assert store.save("Cheshire plan", first) == 1
    assert store.save("Cheshire plan", second, note="shorter horizon") == 2
    assert store.load("Cheshire plan") == second
    assert store.load("Cheshire plan", 1) == first
    assert [v.version for v in store.versions("Cheshire plan")] == [1, 2]
    assert store.restore("Cheshire plan", 1) == 3
    assert store.duplicate("Cheshire plan", "Copy") == 1
    [plan, copy] = store.list()
    assert (plan.name, plan.owner, plan.workspace, plan.latest_version, plan.versions) == (
        "Cheshire plan",
        "local",
        "personal",
        3,
        3,
    )
    assert copy.owner == "local"
    assert store.delete("Cheshire plan") == 3
    assert names(store) == ["Copy"]


def test_each_version_records_who_saved_it_and_when(backend, store, first, second):
    backend.clock.now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    store.save("Plan", first, actor=ALICE, workspace=TEAM, note="first go")
    backend.clock.advance(hours=2)
    store.save("Plan", second, actor=ADMIN, workspace=TEAM)
    v1, v2 = store.versions("Plan", workspace=TEAM)
    assert (v1.saved_by, v1.created_at, v1.note) == (ALICE, "2026-03-01T09:30:00+00:00", "first go")
    assert (v2.saved_by, v2.created_at) == (ADMIN, "2026-03-01T11:30:00+00:00")
    assert v1.hash == scenario_hash(first)
    [info] = store.list(workspace=TEAM)
    assert (info.owner, info.updated_by, info.updated_at, info.latest_version) == (
        ALICE,
        ADMIN,
        "2026-03-01T11:30:00+00:00",
        2,
    )
    assert info.ok and info.deleted_at is None


def test_workspaces_are_separate(store, first, second):
    store.save("Plan", first, actor=ALICE, workspace=TEAM)
    store.save("Plan", second, actor=BOB)  # the same name in the personal workspace is another scenario
    assert store.load("Plan", workspace=TEAM) == first
    assert store.load("Plan") == second
    assert [i.owner for i in store.list(workspace=TEAM)] == [ALICE]
    assert [i.owner for i in store.list()] == [BOB]
    assert store.list(workspace="elsewhere") == []
    with pytest.raises(InputError, match="no saved scenario 'Plan'"):
        store.load("Plan", workspace="elsewhere")


def test_list_is_sorted_by_name_whatever_the_case(store, first):
    for name in ("beta", "Alpha", "gamma", "Émile"):
        store.save(name, first)
    assert names(store) == ["Alpha", "beta", "gamma", "Émile"]


# --------------------------------------------------------------------------------------------
# Owners and admins
# --------------------------------------------------------------------------------------------


def test_only_the_owner_or_an_admin_may_add_a_version(store, first, second):
    store.save("Plan", first, actor=ALICE, workspace=TEAM)
    with pytest.raises(PermissionRefused) as refused:
        store.save("Plan", second, actor=BOB, workspace=TEAM)
    assert str(refused.value) == (
        "“Plan” belongs to alice@example.org; only its owner or an admin can save a new version of it"
    )
    assert isinstance(refused.value, InputError)
    assert (refused.value.owner, refused.value.actor) == (ALICE, BOB)
    assert [v.version for v in store.versions("Plan", workspace=TEAM)] == [1]  # nothing was added
    assert store.save("Plan", second, actor=ALICE, workspace=TEAM) == 2
    assert store.save("Plan", first, actor=ADMIN, workspace=TEAM) == 3
    assert store.list(workspace=TEAM)[0].owner == ALICE  # an admin's save does not take it over


def test_only_the_owner_or_an_admin_may_delete_or_restore(store, first, second):
    store.save("Plan", first, actor=ALICE, workspace=TEAM)
    store.save("Plan", second, actor=ALICE, workspace=TEAM)
    with pytest.raises(
        PermissionRefused, match="belongs to alice@example.org; only its owner or an admin can delete it"
    ):
        store.delete("Plan", actor=BOB, workspace=TEAM)
    with pytest.raises(PermissionRefused, match="can make an old version of it current again"):
        store.restore("Plan", 1, actor=BOB, workspace=TEAM)
    assert [v.version for v in store.versions("Plan", workspace=TEAM)] == [1, 2]
    assert store.restore("Plan", 1, actor=ADMIN, workspace=TEAM) == 3
    assert store.versions("Plan", workspace=TEAM)[-1].saved_by == ADMIN
    assert store.delete("Plan", actor=ADMIN, workspace=TEAM) == 3
    assert store.list(workspace=TEAM) == []


def test_anyone_may_duplicate_and_the_copy_is_theirs(store, first):
    store.save("Plan", first, actor=ALICE, workspace=TEAM)
    assert store.duplicate("Plan", "Bob's plan", actor=BOB, workspace=TEAM) == 1
    infos = {i.name: i for i in store.list(workspace=TEAM)}
    assert (infos["Plan"].owner, infos["Bob's plan"].owner) == (ALICE, BOB)
    [copy] = store.versions("Bob's plan", workspace=TEAM)
    assert (copy.saved_by, copy.note) == (BOB, "duplicated from 'Plan'")
    assert store.save("Bob's plan", first, actor=BOB, workspace=TEAM) == 2
    with pytest.raises(InputError, match="already exists"):
        store.duplicate("Plan", "Bob's plan", actor=ALICE, workspace=TEAM)


def test_can_write_says_who_may_and_why_not(store, first):
    store.save("Plan", first, actor=ALICE, workspace=TEAM)
    assert store.can_write("Plan", ALICE, TEAM) == (True, "")
    assert store.can_write("Plan", BOB, TEAM) == (
        False,
        "“Plan” belongs to alice@example.org; only its owner or an admin can change it",
    )
    ok, why = store.can_write("Plan", ADMIN, TEAM)
    assert ok and "as an admin" in why
    assert store.can_write("A new name", BOB, TEAM) == (True, "")
    ok, why = store.can_write("bad\u202ename", BOB, TEAM)
    assert not ok and "U+202E" in why
    store.delete("Plan", actor=ALICE, workspace=TEAM)
    ok, why = store.can_write("Plan", ALICE, TEAM)
    assert not ok and "was deleted by alice@example.org" in why


# --------------------------------------------------------------------------------------------
# Soft delete, recovery, purge
# --------------------------------------------------------------------------------------------


def test_delete_is_soft_and_can_be_undone_within_the_recovery_period(backend, store, first, second):
    store.save("Plan", first, actor=ALICE, workspace=TEAM)
    store.save("Plan", second, actor=ALICE, workspace=TEAM)
    store.save("Other", first, actor=ALICE, workspace=TEAM)
    assert store.delete("Plan", actor=ALICE, workspace=TEAM) == 2
    assert names(store, workspace=TEAM) == ["Other"]
    with pytest.raises(InputError, match="no saved scenario 'Plan'.*deleted by alice@example.org"):
        store.load("Plan", workspace=TEAM)
    with pytest.raises(InputError, match="no saved scenario 'Plan'"):
        store.versions("Plan", workspace=TEAM)
    with pytest.raises(InputError, match="no saved scenario 'Plan'"):
        store.delete("Plan", actor=ALICE, workspace=TEAM)
    listed = {i.name: i for i in store.list(workspace=TEAM, include_deleted=True)}
    deleted = listed["Plan"]
    assert (deleted.deleted_by, deleted.deleted_at) == (ALICE, "2026-03-01T09:30:00+00:00")
    assert deleted.recoverable_until == "2026-03-31T09:30:00+00:00"
    assert listed["Other"].deleted_at is None
    # the name stays taken while it can be recovered
    with pytest.raises(InputError, match="was deleted by alice@example.org.*Recover it, or save under another name"):
        store.save("Plan", first, actor=ALICE, workspace=TEAM)
    with pytest.raises(InputError, match="already exists among the deleted scenarios"):
        store.duplicate("Other", "Plan", actor=BOB, workspace=TEAM)
    # only the owner or an admin may bring it back; then every version is there again
    with pytest.raises(PermissionRefused, match="only its owner or an admin can recover it"):
        store.restore_deleted("Plan", actor=BOB, workspace=TEAM)
    backend.clock.advance(days=RECOVERY_DAYS - 1)
    assert store.restore_deleted("Plan", actor=ALICE, workspace=TEAM) == 2
    assert store.load("Plan", workspace=TEAM) == second
    assert store.load("Plan", 1, workspace=TEAM) == first
    assert names(store, workspace=TEAM) == ["Other", "Plan"]
    with pytest.raises(InputError, match="'Plan' is not deleted"):
        store.restore_deleted("Plan", actor=ALICE, workspace=TEAM)
    with pytest.raises(InputError, match="no deleted scenario 'Nothing'"):
        store.restore_deleted("Nothing", actor=ALICE, workspace=TEAM)


def test_purge_removes_only_what_was_deleted_more_than_30_days_ago(backend, store, first):
    for name in ("Old", "Recent", "Kept"):
        store.save(name, first, actor=ALICE, workspace=TEAM)
    store.save("Old", first, actor=BOB)  # another workspace, deleted at the same time
    store.delete("Old", actor=ALICE, workspace=TEAM)
    store.delete("Old", actor=BOB)
    backend.clock.advance(days=20)
    store.delete("Recent", actor=ADMIN, workspace=TEAM)
    backend.clock.advance(days=RECOVERY_DAYS - 20, seconds=1)  # "Old" is now just past the period
    with pytest.raises(InputError, match="can no longer be recovered"):
        store.restore_deleted("Old", actor=ALICE, workspace=TEAM)
    assert store.purge_expired(backend.clock.now - timedelta(days=1)) == 0  # a day earlier: nothing was due
    assert store.purge_expired(backend.clock.now) == 2  # "Old" in both workspaces
    assert names(store, workspace=TEAM, include_deleted=True) == ["Kept", "Recent"]
    assert store.list(include_deleted=True) == []
    assert backend.raw("SELECT COUNT(*) FROM scenario_versions WHERE name = 'Old'") == [(0,)]
    # the name is free again, and starts at version 1
    assert store.save("Old", first, actor=BOB, workspace=TEAM) == 1
    assert store.restore_deleted("Recent", actor=ALICE, workspace=TEAM) == 1
    assert store.purge_expired() == 0  # by the store's clock


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def test_names_are_tidied(store, first):
    store.save("  Cheshire \t  plan\n", first)
    assert store.load("Cheshire plan") == first
    decomposed = "Cafe\u0301"  # "Café" typed as e + combining acute accent
    store.save(decomposed, first)
    assert names(store) == ["Café", "Cheshire plan"]  # stored in NFC
    assert store.load("Café") == store.load(decomposed) == first
    store.save("x" * 120, first)  # the longest name allowed


@pytest.mark.parametrize(
    "name, character, position",
    [
        ("Plan\u200bA", "U+200B ZERO WIDTH SPACE", 5),
        ("Plan\u200d", "U+200D ZERO WIDTH JOINER", 5),
        ("\u200fPlan", "U+200F RIGHT-TO-LEFT MARK", 1),
        ("Plan \u202egnp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE", 6),
        ("Plan\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING", 5),
        ("Plan \u2066A\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE", 6),
        ("\ufeffPlan", "U+FEFF ZERO WIDTH NO-BREAK SPACE", 1),
        ("tab\x07bell", "U+0007", 4),  # other control characters (Cc) …
        ("soft\u00adhyphen", "U+00AD SOFT HYPHEN", 5),  # … and format characters (Cf)
    ],
)
def test_names_with_hidden_characters_are_refused(store, first, name, character, position):
    with pytest.raises(InputError) as refused:
        store.save(name, first)
    message = str(refused.value)
    assert message.startswith("scenario name: contains " + character)
    assert f"at character {position} of" in message
    assert "[U+" in message and message.isprintable()  # the character is named, never shown
    assert store.list() == []
    with pytest.raises(InputError, match="U\\+"):
        store.duplicate("anything", name)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 121])
def test_empty_and_long_names_are_refused(store, first, bad):
    with pytest.raises(InputError, match="scenario name: (is empty|is longer than 120 characters)"):
        store.save(bad, first)
    assert store.list() == []


def test_users_and_workspaces_are_checked_too(backend, store, first):
    with pytest.raises(InputError, match="user: is empty"):
        store.save("Plan", first, actor=" ")
    with pytest.raises(InputError, match="workspace: contains U\\+200B"):
        store.save("Plan", first, workspace="team\u200b")
    with pytest.raises(InputError, match="admins: contains"):
        backend.open(admins=["root\x00"])
    assert store.list() == []


def test_notes_are_tidied_and_cut(store, first):
    store.save("Plan", first, note="  two\nlines\u202e and a hidden one " + "x" * 600)
    [version] = store.versions("Plan")
    assert version.note.startswith("two lines and a hidden one xxx") and len(version.note) == 500


# --------------------------------------------------------------------------------------------
# What a failure leaves behind
# --------------------------------------------------------------------------------------------


def test_a_failed_save_leaves_nothing_behind(store, first, second, monkeypatch):
    store.save("plan", first)
    original = type(store)._insert_version

    def insert_then_fail(self, tx, *args, **kwargs):
        original(self, tx, *args, **kwargs)  # the row is written inside the transaction …
        raise RuntimeError("disk gone")  # … and then something fails before COMMIT

    monkeypatch.setattr(type(store), "_insert_version", insert_then_fail)
    with pytest.raises(RuntimeError):
        store.save("plan", second)
    with pytest.raises(RuntimeError):
        store.save("other", second)  # the new scenarios row goes too
    with pytest.raises(RuntimeError):
        store.restore("plan", 1)
    monkeypatch.undo()
    assert [v.version for v in store.versions("plan")] == [1]
    assert store.load("plan") == first
    assert names(store, include_deleted=True) == ["plan"]
    assert store.save("plan", second) == 2  # numbering carries on cleanly
    assert store.save("other", second) == 1


def test_an_invalid_scenario_is_never_stored(store):
    with pytest.raises(InputError):
        store.save("plan", {"schema_version": 1})  # not a Scenario object
    assert store.list() == []


def test_a_damaged_row_is_flagged_not_fatal(backend, store, first):
    store.save("good", first)
    future = scenario_to_yaml(first).replace("schema_version: ", "schema_version: 7 #", 1)
    for name, body in (("broken yaml", "name: [unclosed"), ("from the future", future)):
        backend.raw(
            "INSERT INTO scenarios (workspace, name, owner, created_at) VALUES ('personal', ?, 'local', ?)",
            name,
            "2025-01-01T00:00:00+00:00",
        )
        backend.raw(
            "INSERT INTO scenario_versions (workspace, name, version, created_at, saved_by, schema_version, hash, body)"
            " VALUES ('personal', ?, 1, ?, 'local', 7, 'x', ?)",
            name,
            "2025-01-01T00:00:00+00:00",
            body,
        )
    infos = {i.name: i for i in store.list()}
    assert infos["good"].ok
    assert not infos["broken yaml"].ok and "not valid YAML" in infos["broken yaml"].problem
    assert not infos["from the future"].ok and infos["from the future"].problem
    with pytest.raises(InputError, match="not valid YAML"):
        store.load("broken yaml")
    assert store.delete("broken yaml") == 1  # a damaged scenario can still be cleared away


# --------------------------------------------------------------------------------------------
# The store's own schema version
# --------------------------------------------------------------------------------------------


def test_the_layout_version_is_recorded_and_a_newer_one_is_refused(backend, store, first):
    store.save("Plan", first)
    assert backend.raw("SELECT value FROM schema_meta WHERE key = 'store_schema'") == [(str(STORE_SCHEMA),)]
    again = backend.open()  # opening again changes nothing
    assert again.load("Plan") == first
    assert backend.raw("SELECT COUNT(*) FROM schema_meta") == [(1,)]
    backend.raw("UPDATE schema_meta SET value = ? WHERE key = 'store_schema'", str(STORE_SCHEMA + 1))
    with pytest.raises(StoreUnavailable, match=f"newer version of the atlas \\(store schema {STORE_SCHEMA + 1}"):
        backend.open()
    assert backend.raw("SELECT COUNT(*) FROM scenario_versions") == [(1,)]  # left as it was


# --------------------------------------------------------------------------------------------
# Two processes saving the same name at once
# --------------------------------------------------------------------------------------------


def save_many(kind: str, location: str, actor: str, count: int, barrier: Any, results: Any) -> None:
    """In a child process: wait for the other one, then save ``count`` versions of one name."""
    store: ScenarioStore
    if kind == "sqlite":
        store = SQLiteScenarioStore(location, admins=[ADMIN])
    else:
        store = PostgresScenarioStore(location, admins=[ADMIN])
    scenario = load_preset("advocacy_only")
    barrier.wait(timeout=60)
    versions = [store.save("Shared", scenario, actor=actor, workspace=TEAM) for _ in range(count)]
    results.put((actor, versions))


def test_concurrent_saves_from_two_processes_get_distinct_consecutive_versions(backend):
    store = backend.open(admins=[ADMIN])
    store.save("Shared", load_preset("advocacy_only"), actor=ALICE, workspace=TEAM)  # version 1
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    count = 12
    children = [
        spawn.Process(target=save_many, args=(backend.kind, backend.location, actor, count, barrier, results))
        for actor in (ALICE, ADMIN)
    ]
    for child in children:
        child.start()
    try:
        got = dict(results.get(timeout=90) for _ in children)
    finally:
        for child in children:
            child.join(timeout=30)
    assert all(child.exitcode == 0 for child in children)
    everyone = sorted(got[ALICE] + got[ADMIN])
    assert everyone == list(range(2, 2 * count + 2))  # distinct, consecutive, none lost
    assert got[ALICE] == sorted(got[ALICE]) and got[ADMIN] == sorted(got[ADMIN])
    versions = store.versions("Shared", workspace=TEAM)
    assert [v.version for v in versions] == list(range(1, 2 * count + 2))
    assert {v.version for v in versions if v.saved_by == ADMIN} == set(got[ADMIN])


# --------------------------------------------------------------------------------------------
# PostgreSQL: the factory, lazy import, a server that dies
# --------------------------------------------------------------------------------------------


def test_open_store_picks_postgres_from_the_url(pg_server, fresh_schema, tmp_path, monkeypatch):
    schema = psycopg.conninfo.conninfo_to_dict(fresh_schema)["options"].split("=", 1)[1]
    url = pg_server.url(schema=schema)
    with_password = url.replace("postgres@", "postgres:secret@")  # trust authentication ignores it
    store = open_store({"ATLAS_STORE_URL": with_password, "ATLAS_ADMINS": f"{ADMIN}, {BOB}"})
    assert isinstance(store, PostgresScenarioStore)
    assert store.admins == {ADMIN, BOB}
    monkeypatch.setenv("ATLAS_STORE_URL", url)
    assert isinstance(open_store(), PostgresScenarioStore)
    assert isinstance(open_store(url), PostgresScenarioStore)
    # a path given directly, or an explicit sqlite URL, wins over the environment
    assert isinstance(open_store(tmp_path / "direct.sqlite"), SQLiteScenarioStore)
    assert isinstance(open_store({"ATLAS_STORE_URL": f"sqlite:///{tmp_path}/u.sqlite"}), SQLiteScenarioStore)
    assert "secret" not in store.where and "atlas_test" in store.where  # messages never show the password
    store.save("Plan", load_preset("advocacy_only"))
    assert open_store(url).list()[0].name == "Plan"


def test_sqlite_users_never_import_psycopg(tmp_path):
    code = "import sys, coverage.planner.store as s; s.open_store({}); print('psycopg' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=paths.REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ATLAS_SCENARIO_DB": str(tmp_path / "s.sqlite")},
    )
    assert result.stdout.strip() == "False", result.stderr


def test_an_unreachable_server_is_reported_clearly(pg_server):
    dsn = pg_server.dsn().replace(f"port={pg_server.port}", "port=1")
    with pytest.raises(StoreUnavailable, match="could not be reached.*Nothing was read or saved") as failed:
        PostgresScenarioStore(dsn)
    assert isinstance(failed.value, OSError)


def save_until_down(dsn: str, results: Any) -> None:
    """In a child process: save versions one after another, reporting each one committed, until the server
    goes away (or 400 saves)."""
    store = PostgresScenarioStore(dsn)
    scenario = load_preset("advocacy_only")
    for _ in range(400):
        try:
            results.put(("saved", store.save("Busy", scenario, actor=ALICE, workspace=TEAM)))
        except StoreUnavailable as down:
            results.put(("down", str(down)))
            return
    results.put(("done", ""))


def test_a_server_killed_during_saves_loses_no_committed_version(pg_server, fresh_schema, first):
    store = PostgresScenarioStore(fresh_schema)
    for _ in range(3):
        store.save("Earlier", first, actor=ALICE, workspace=TEAM)
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    child = spawn.Process(target=save_until_down, args=(fresh_schema, results))
    child.start()
    committed: list[int] = []
    outcome = ("", "")
    try:
        while len(committed) < 5:
            kind, value = results.get(timeout=60)
            assert kind == "saved", value
            committed.append(value)
        pg_server.stop("immediate")  # as a crash: no shutdown checkpoint
        while True:
            kind, value = results.get(timeout=60)
            if kind != "saved":
                outcome = (kind, value)
                break
            committed.append(value)
        child.join(timeout=30)
        assert outcome[0] == "down", outcome
        assert "could not be reached" in outcome[1] or "stopped answering" in outcome[1]
        # while it is down, every call says so
        with pytest.raises(StoreUnavailable, match="could not be reached"):
            store.list(workspace=TEAM)
        with pytest.raises(StoreUnavailable, match="Nothing was read or saved"):
            store.save("Earlier", first, actor=ALICE, workspace=TEAM)
        ok, why = store.can_write("Earlier", ALICE, TEAM)
        assert not ok and "could not be reached" in why
    finally:
        if not pg_server.running():
            pg_server.start()
        if child.is_alive():
            child.kill()
    # back up: every version reported saved is there, numbered without gaps, and saving carries on
    assert [v.version for v in store.versions("Earlier", workspace=TEAM)] == [1, 2, 3]
    stored = [v.version for v in store.versions("Busy", workspace=TEAM)]
    assert set(committed) <= set(stored)
    assert stored == list(range(1, len(stored) + 1))
    assert store.save("Busy", first, actor=ALICE, workspace=TEAM) == len(stored) + 1


def test_a_server_stopped_after_saves_keeps_them(pg_server, fresh_schema, first, second):
    store = PostgresScenarioStore(fresh_schema)
    store.save("Plan", first, actor=ALICE, workspace=TEAM)
    store.save("Plan", second, actor=ALICE, workspace=TEAM)
    store.delete("Plan", actor=ALICE, workspace=TEAM)
    try:
        pg_server.stop("immediate")
        with pytest.raises(StoreUnavailable):
            store.load("Plan", workspace=TEAM)
    finally:
        pg_server.start()
    [info] = store.list(workspace=TEAM, include_deleted=True)
    assert (info.versions, info.deleted_by) == (2, ALICE)
    assert store.restore_deleted("Plan", actor=ALICE, workspace=TEAM) == 2
    assert store.load("Plan", 1, workspace=TEAM) == first


def test_versions_are_consistent_within_one_read(pg_server, fresh_schema, first, monkeypatch):
    """A read is one snapshot: it never sees half of a save made while it runs."""
    store = PostgresScenarioStore(fresh_schema)
    store.save("Plan", first)
    seen: list[int] = []
    original = PostgresScenarioStore._live

    def live_then_save(self, tx, workspace, name, **kwargs):
        found = original(self, tx, workspace, name, **kwargs)
        seen.append(PostgresScenarioStore(fresh_schema).save("Plan", first))  # another connection commits
        return found

    monkeypatch.setattr(PostgresScenarioStore, "_live", live_then_save)
    versions = store.versions("Plan")
    monkeypatch.undo()
    assert seen == [2] and [v.version for v in versions] == [1]
    assert [v.version for v in store.versions("Plan")] == [1, 2]


def test_a_save_waiting_too_long_for_another_is_refused_cleanly(pg_server, fresh_schema, first):
    store = PostgresScenarioStore(fresh_schema, lock_timeout=0.2)
    store.save("Plan", first, workspace=TEAM)
    with psycopg.connect(fresh_schema) as other:  # another session holds the scenario's lock, and hangs
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{TEAM}\x1fPlan",))
        with pytest.raises(
            StoreUnavailable, match="stayed busy with another save of this scenario for over 0.2 seconds"
        ):
            store.save("Plan", first, workspace=TEAM)
        assert store.save("Another", first, workspace=TEAM) == 1  # other names are not held up
    assert [v.version for v in store.versions("Plan", workspace=TEAM)] == [1]
    assert store.save("Plan", first, workspace=TEAM) == 2


def test_a_statement_the_server_refuses_changes_nothing(pg_server, fresh_schema, first):
    store = PostgresScenarioStore(fresh_schema)
    store.save("Plan", first)
    raw = postgres_raw(fresh_schema)
    raw(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the disk quota is exhausted'; END $$"
    )
    raw("CREATE TRIGGER refuse BEFORE INSERT ON scenario_versions FOR EACH ROW EXECUTE FUNCTION refuse()")
    with pytest.raises(
        StoreUnavailable, match="refused the request \\(the disk quota is exhausted\\); nothing was changed"
    ):
        store.save("Plan", first)
    with pytest.raises(StoreUnavailable):
        store.save("New", first)  # nor is the new name's row left behind
    raw("DROP TRIGGER refuse ON scenario_versions")
    assert names(store, include_deleted=True) == ["Plan"]
    assert [v.version for v in store.versions("Plan")] == [1]


def test_a_connection_lost_at_commit_is_reported_as_unconfirmed(pg_server, fresh_schema, first, monkeypatch):
    store = PostgresScenarioStore(fresh_schema)
    store.save("Plan", first)
    original = PostgresScenarioStore._insert_version

    def insert_then_lose_the_connection(self, tx, *args, **kwargs):
        version = original(self, tx, *args, **kwargs)
        [(pid,)] = tx.all("SELECT pg_backend_pid()")
        postgres_raw(pg_server.dsn())("SELECT pg_terminate_backend(?)", pid)  # as a network cut would
        return version

    monkeypatch.setattr(PostgresScenarioStore, "_insert_version", insert_then_lose_the_connection)
    with pytest.raises(StoreUnavailable, match="while a change was being committed.*may or may not have been saved"):
        store.save("Plan", first)
    monkeypatch.undo()
    assert [v.version for v in store.versions("Plan")] == [1]  # here it was not: the server rolled it back
