"""The SQLite scenario store: its file, its layout upgrade, and what happens when the file goes wrong.

The contract both stores share (owners, workspaces, soft delete, names, concurrency) is tested in
``tests/test_store_contract.py``; here is what only a file has: where it lives, upgrading a file written
by atlas 0.1, a file that vanishes, is damaged or read-only, and a process killed in the middle of a save.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from coverage import paths
from coverage.errors import InputError
from coverage.planner import store as store_module
from coverage.planner.schema import (
    SCHEMA_VERSION,
    load_preset,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    scenario_to_yaml,
)
from coverage.planner.store import (
    ENV_VAR,
    STORE_SCHEMA,
    ScenarioStore,
    SQLiteScenarioStore,
    StoreReadOnly,
    StoreUnavailable,
    default_db_path,
    open_store,
)


@pytest.fixture
def store(tmp_path) -> SQLiteScenarioStore:
    return SQLiteScenarioStore(tmp_path / "sub" / "scenarios.sqlite")


@pytest.fixture(scope="module")
def first():
    return load_preset("cheshire_hru_like")


@pytest.fixture(scope="module")
def second(first):
    data = scenario_to_dict(first)
    data["horizon_years"] = 5
    return scenario_from_dict(data)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_store_follows_the_protocol_and_makes_its_folder(store):
    assert isinstance(store, ScenarioStore)
    assert store.path.exists() and store.created_file


def test_stored_text_is_validated_yaml_with_its_schema_version(store, first):
    store.save("plan", first)
    with sqlite3.connect(store.path) as con:
        body, schema_version, stored_hash, workspace, saved_by = con.execute(
            "SELECT body, schema_version, hash, workspace, saved_by FROM scenario_versions"
        ).fetchone()
    assert body.startswith(f"schema_version: {SCHEMA_VERSION}\n")
    assert schema_version == SCHEMA_VERSION and stored_hash == scenario_hash(first)
    assert (workspace, saved_by) == ("personal", "local")


def test_a_row_that_is_not_text_is_flagged(store, first):
    store.save("good", first)
    with sqlite3.connect(store.path) as con:
        con.execute("INSERT INTO scenarios VALUES ('personal', 'binary', 'local', '2025-01-01', NULL, NULL)")
        con.execute(
            "INSERT INTO scenario_versions VALUES ('personal', 'binary', 1, '2025-01-01', 'local', 1, 'x', ?, '')",
            (sqlite3.Binary(b"\xff\x00\xfe"),),
        )
    con.close()
    infos = {i.name: i for i in store.list()}
    assert infos["good"].ok
    assert not infos["binary"].ok and infos["binary"].problem


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("ATLAS_STORE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "stalking-atlas" / "scenarios.sqlite"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "chosen.sqlite"))
    assert default_db_path() == tmp_path / "chosen.sqlite"
    store = open_store()
    assert isinstance(store, SQLiteScenarioStore)
    assert store.path == tmp_path / "chosen.sqlite" and store.path.exists()
    explicit = open_store(tmp_path / "explicit.sqlite")
    assert isinstance(explicit, SQLiteScenarioStore) and explicit.path == tmp_path / "explicit.sqlite"
    configured = open_store({ENV_VAR: str(tmp_path / "configured.sqlite"), "ATLAS_ADMINS": "a@example.org"})
    assert isinstance(configured, SQLiteScenarioStore) and configured.path == tmp_path / "configured.sqlite"
    assert configured.admins == {"a@example.org"}
    by_url = open_store({"ATLAS_STORE_URL": f"sqlite:///{tmp_path}/by-url.sqlite"})
    assert isinstance(by_url, SQLiteScenarioStore) and by_url.path == tmp_path / "by-url.sqlite"
    with pytest.raises(InputError, match="ATLAS_STORE_URL: starts with 'mysql:'"):
        open_store({"ATLAS_STORE_URL": "mysql://somewhere/db"})
    with pytest.raises(InputError, match="ATLAS_STORE_URL: names no file"):
        open_store({"ATLAS_STORE_URL": "sqlite:"})


def test_two_store_objects_share_one_file(tmp_path, first, second):
    a = SQLiteScenarioStore(tmp_path / "s.sqlite")
    b = SQLiteScenarioStore(Path(tmp_path / "s.sqlite"))
    a.save("plan", first)
    assert b.save("plan", second) == 2
    assert a.load("plan") == second


# --------------------------------------------------------------------------------------------
# Upgrading a file written by atlas 0.1 (store schema 1)
# --------------------------------------------------------------------------------------------

# The DDL of atlas 0.1's coverage/planner/store.py, as it wrote every scenarios.sqlite until now.
V1_DDL = """
CREATE TABLE IF NOT EXISTS scenario_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, version)
);
"""


def v1_file(path: Path, first, second) -> Path:
    """A scenarios.sqlite as atlas 0.1 wrote it: three versions of one plan, one of another, a damaged row,
    and a name the new rules would refuse (it has a zero-width space)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(V1_DDL)
    rows = [
        ("Cheshire plan", 1, "2025-06-01T10:00:00+00:00", 1, scenario_hash(first), scenario_to_yaml(first), ""),
        ("Cheshire plan", 2, "2025-06-02T10:00:00+00:00", 1, scenario_hash(second), scenario_to_yaml(second), "v2"),
        (
            "Cheshire plan",
            3,
            "2025-06-03T10:00:00+00:00",
            1,
            scenario_hash(first),
            scenario_to_yaml(first),
            "restored from version 1",
        ),
        ("Kent\u200b", 1, "2025-07-01T10:00:00+00:00", 1, scenario_hash(first), scenario_to_yaml(first), ""),
        ("broken", 1, "2025-08-01T10:00:00+00:00", 1, "x", sqlite3.Binary(b"\xff\x00"), ""),
    ]
    with con:
        con.executemany("INSERT INTO scenario_versions VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return path


def test_a_version_1_file_is_upgraded_in_place(tmp_path, first, second):
    path = v1_file(tmp_path / "old.sqlite", first, second)
    store = SQLiteScenarioStore(path)
    assert not store.created_file
    with sqlite3.connect(path) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = con.execute("SELECT value FROM schema_meta WHERE key = 'store_schema'").fetchall()
        owners = con.execute("SELECT DISTINCT workspace, owner FROM scenarios").fetchall()
        first_saved = con.execute("SELECT created_at FROM scenarios WHERE name = 'Cheshire plan'").fetchone()
    con.close()
    assert tables == {"schema_meta", "scenarios", "scenario_versions"}  # the old table is gone
    assert meta == [(str(STORE_SCHEMA),)]
    assert owners == [("personal", "local")]
    assert first_saved == ("2025-06-01T10:00:00+00:00",)
    # every version is there as it was: dates, notes, hashes, bodies, authorship "local"
    versions = store.versions("Cheshire plan")
    assert [(v.version, v.created_at, v.note, v.saved_by) for v in versions] == [
        (1, "2025-06-01T10:00:00+00:00", "", "local"),
        (2, "2025-06-02T10:00:00+00:00", "v2", "local"),
        (3, "2025-06-03T10:00:00+00:00", "restored from version 1", "local"),
    ]
    assert store.load("Cheshire plan", 2) == second
    infos = {i.name: i for i in store.list()}
    assert set(infos) == {"Cheshire plan", "Kent\u200b", "broken"}
    assert infos["Cheshire plan"].owner == "local" and not infos["broken"].ok
    # it carries on: numbering continues, and a name saved before the new rules can still be used
    assert store.save("Cheshire plan", second) == 4
    assert store.load("Kent\u200b") == first
    assert store.save("Kent\u200b", second) == 2
    with pytest.raises(InputError, match="U\\+200B"):
        store.duplicate("Kent\u200b", "Kent\u200b copy")
    assert store.delete("Kent\u200b") == 2
    # opening it again finds it current and changes nothing
    before = digest(path)
    SQLiteScenarioStore(path)
    assert digest(path) == before


def test_an_upgrade_that_fails_leaves_the_version_1_file_as_it_was(tmp_path, first, second, monkeypatch):
    path = v1_file(tmp_path / "old.sqlite", first, second)
    with sqlite3.connect(path) as con:
        rows_before = con.execute("SELECT * FROM scenario_versions ORDER BY name, version").fetchall()
    con.close()
    steps = store_module._SQLITE_MIGRATIONS[1]
    monkeypatch.setitem(store_module._SQLITE_MIGRATIONS, 1, (*steps[:-1], "INSERT INTO no_such_table VALUES (1)"))
    with pytest.raises(StoreUnavailable, match="no such table"):
        SQLiteScenarioStore(path)
    with sqlite3.connect(path) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows_after = con.execute("SELECT * FROM scenario_versions ORDER BY name, version").fetchall()
    con.close()
    assert tables == {"scenario_versions"} and rows_after == rows_before
    monkeypatch.undo()
    assert [v.version for v in SQLiteScenarioStore(path).versions("Cheshire plan")] == [1, 2, 3]


def test_a_file_from_a_newer_atlas_is_refused_and_left_alone(tmp_path, first):
    path = tmp_path / "s.sqlite"
    SQLiteScenarioStore(path).save("plan", first)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE schema_meta SET value = '99'")
    con.close()
    before = digest(path)
    with pytest.raises(StoreUnavailable, match="newer version of the atlas \\(store schema 99"):
        SQLiteScenarioStore(path)
    assert digest(path) == before


# --------------------------------------------------------------------------------------------
# A file that vanishes, is damaged, or is read-only
# --------------------------------------------------------------------------------------------


def test_a_file_that_vanishes_is_reported_not_made_again(tmp_path, first):
    path = tmp_path / "s.sqlite"
    store = SQLiteScenarioStore(path)
    store.save("plan", first)
    path.unlink()
    with pytest.raises(StoreUnavailable, match="has disappeared \\(this app created it\\).*nothing was read or saved"):
        store.save("plan", first)
    with pytest.raises(StoreUnavailable, match="has disappeared"):
        store.list()
    with pytest.raises(StoreUnavailable, match="has disappeared"):
        store.load("plan")
    ok, why = store.can_write("plan")
    assert not ok and "has disappeared" in why
    # nor does a new store object in this process (pages make one per call) start an empty file there
    with pytest.raises(StoreUnavailable, match="no new, empty store was made"):
        SQLiteScenarioStore(path)
    with pytest.raises(OSError):  # what pages catch today
        store.delete("plan")
    assert not path.exists()


def test_a_file_that_was_already_there_and_vanishes(tmp_path, first):
    path = tmp_path / "s.sqlite"
    SQLiteScenarioStore(path).save("plan", first)
    store_module._OPENED_FILES.pop(str(path.absolute()))  # as if another process had made it
    store = SQLiteScenarioStore(path)
    assert not store.created_file
    backup = tmp_path / "backup.sqlite"
    shutil.move(path, backup)
    with pytest.raises(StoreUnavailable, match="it was there when this app opened it"):
        store.save("plan", first)
    shutil.move(backup, path)  # put back from a backup: the same store object carries on
    assert store.save("plan", first) == 2


def corrupt(path: Path) -> None:
    with path.open("r+b") as file:
        file.seek(4096 * 5)  # the tables' pages; the header and page 1 stay readable
        file.write(b"\xde\xad\xbe\xef" * 1024)


def test_a_damaged_file_is_never_written_again(tmp_path, first, second):
    path = tmp_path / "s.sqlite"
    good = SQLiteScenarioStore(path)
    for name in ("a", "a", "b"):
        good.save(name, first)
    corrupt(path)
    before = digest(path)
    store = SQLiteScenarioStore(path)  # opening does not fail: the page can say what is wrong
    ok, why = store.can_write("a")
    assert not ok and "is damaged" in why and "quick_check" not in why
    for write in (
        lambda: store.save("a", second),
        lambda: store.save("new", second),
        lambda: store.delete("a"),
        lambda: store.restore("a", 1),
        lambda: store.duplicate("a", "c"),
        lambda: store.purge_expired(),
    ):
        with pytest.raises(StoreReadOnly, match="is damaged .*nothing more is written to it"):
            write()
    with pytest.raises(StoreUnavailable, match="is damaged"):
        store.list()
    # a store object opened before the damage finds it on its next write, which is rolled back …
    with pytest.raises(StoreReadOnly, match="is damaged .*nothing was saved"):
        good.save("a", second)
    # … and then refuses every write before trying
    ok, why = good.can_write("b")
    assert not ok and "is damaged" in why
    assert digest(path) == before


def test_a_file_that_is_not_a_database_is_left_alone(tmp_path, first):
    path = tmp_path / "s.sqlite"
    path.write_text("these are my notes, not a database\n" * 200)
    before = digest(path)
    store = SQLiteScenarioStore(path)
    with pytest.raises(StoreUnavailable, match="is damaged \\(SQLite's check says: file is not a database"):
        store.list()
    with pytest.raises(StoreReadOnly, match="is damaged"):
        store.save("plan", first)
    assert digest(path) == before


# A child process without the right to bypass file permissions (root has it), which opens a read-only
# store, reads it and tries every write; it prints what happened as JSON.
READ_ONLY_PROBE = """
import json, sys
from coverage.planner.schema import load_preset
from coverage.planner.store import SQLiteScenarioStore, StoreReadOnly

store = SQLiteScenarioStore(sys.argv[1])
out = {"names": [i.name for i in store.list()], "versions": [v.version for v in store.versions("plan")]}
out["loaded"] = store.load("plan", 1).name
out["can_write"] = store.can_write("plan")
refusals = []
for write in (
    lambda: store.save("plan", load_preset("advocacy_only")),
    lambda: store.save("new", load_preset("advocacy_only")),
    lambda: store.delete("plan"),
    lambda: store.restore("plan", 1),
):
    try:
        write()
        refusals.append("WROTE")
    except StoreReadOnly as refused:
        refusals.append(str(refused))
out["refusals"] = refusals
print(json.dumps(out))
"""


def run_without_write_rights(path: Path) -> dict:
    command = [sys.executable, "-c", READ_ONLY_PROBE, str(path)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "running as root, the read-only test needs util-linux's setpriv to drop CAP_DAC_OVERRIDE"
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=paths.REPO_ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_read_only_file_is_read_but_never_written(tmp_path, first, second):
    path = tmp_path / "s.sqlite"
    store = SQLiteScenarioStore(path)
    store.save("plan", first)
    store.save("plan", second)
    path.chmod(0o444)
    tmp_path.chmod(0o555)  # no journal can be made beside it either
    before = digest(path)
    try:
        out = run_without_write_rights(path)
    finally:
        tmp_path.chmod(0o755)
        path.chmod(0o644)
    assert out["names"] == ["plan"] and out["versions"] == [1, 2] and out["loaded"] == first.name
    assert out["can_write"][0] is False and "is read-only" in out["can_write"][1]
    assert len(out["refusals"]) == 4
    assert all("is read-only, so nothing can be saved" in refusal for refusal in out["refusals"]), out["refusals"]
    assert digest(path) == before
    assert [v.version for v in store.versions("plan")] == [1, 2]


def test_a_read_only_version_1_file_is_read_without_upgrading_it(tmp_path, first, second):
    folder = tmp_path / "old"
    path = v1_file(folder / "s.sqlite", first, second)
    with sqlite3.connect(path) as con:
        con.execute("DELETE FROM scenario_versions WHERE name <> 'Cheshire plan'")
        con.execute("UPDATE scenario_versions SET name = 'plan'")
    con.close()
    path.chmod(0o444)
    folder.chmod(0o555)
    before = digest(path)
    try:
        out = run_without_write_rights(path)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert out["names"] == ["plan"] and out["versions"] == [1, 2, 3]
    assert all(refusal != "WROTE" for refusal in out["refusals"])
    assert digest(path) == before  # still version 1: upgraded when it can be written
    with sqlite3.connect(path) as con:
        assert {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {
            "scenario_versions"
        }
    con.close()


# --------------------------------------------------------------------------------------------
# A process killed in the middle of a save
# --------------------------------------------------------------------------------------------


def die_during_save(path: str) -> None:
    """In a child process: save three versions, then die inside the fourth save, after its row is written
    and before COMMIT, leaving the journal behind as a crash would."""
    store = SQLiteScenarioStore(path)
    scenario = load_preset("advocacy_only")
    for _ in range(3):
        store.save("plan", scenario)
    original = SQLiteScenarioStore._insert_version

    def insert_then_die(self, tx, *args, **kwargs):
        original(self, tx, *args, **kwargs)
        os._exit(7)

    SQLiteScenarioStore._insert_version = insert_then_die  # type: ignore[method-assign]
    store.save("plan", scenario)


def test_a_process_killed_mid_save_loses_no_earlier_version(tmp_path):
    path = tmp_path / "s.sqlite"
    child = multiprocessing.get_context("spawn").Process(target=die_during_save, args=(str(path),))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 7
    assert Path(f"{path}-journal").exists()  # the unfinished save's rollback journal, left behind
    store = SQLiteScenarioStore(path)  # the next opener rolls the unfinished save back
    assert [v.version for v in store.versions("plan")] == [1, 2, 3]
    assert store.load("plan") == load_preset("advocacy_only")
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    con.close()
    assert store.save("plan", load_preset("advocacy_only")) == 4


def test_an_in_memory_store_is_refused():
    with pytest.raises(InputError, match="keeps nothing between calls"):
        SQLiteScenarioStore(":memory:")


def test_a_save_that_waits_too_long_for_another_process_is_refused(tmp_path, first):
    path = tmp_path / "s.sqlite"
    store = SQLiteScenarioStore(path, busy_timeout=0.1)
    store.save("plan", first)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is in the middle of a save, and stuck
    try:
        with pytest.raises(
            StoreUnavailable, match="stayed busy with another save for over 0.1 seconds; nothing was saved"
        ):
            store.save("plan", first)
        assert store.load("plan") == first  # reading does not wait for it
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.save("plan", first) == 2


def test_names_and_users_must_be_text(store, first):
    with pytest.raises(InputError, match="scenario name: must be text"):
        store.save(42, first)
    with pytest.raises(InputError, match="scenario name: must be text"):
        store.load(None)
    with pytest.raises(InputError, match="user: must be text"):
        store.save("plan", first, actor=None)
    with pytest.raises(InputError, match="user: is longer than 320 characters"):
        store.save("plan", first, actor="a" * 321)
    with pytest.raises(InputError, match="workspace: is empty"):
        store.list(workspace=" ")
    assert store.list() == []
