"""Saving scenarios: versions, restore, duplicate, delete, atomic saves, damaged rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from coverage.errors import InputError
from coverage.planner.schema import load_preset, scenario_from_dict, scenario_hash, scenario_to_dict, scenario_to_yaml
from coverage.planner.store import (
    ENV_VAR,
    ScenarioStore,
    SQLiteScenarioStore,
    default_db_path,
    open_store,
)


@pytest.fixture
def store(tmp_path) -> SQLiteScenarioStore:
    return SQLiteScenarioStore(tmp_path / "sub" / "scenarios.sqlite")


@pytest.fixture
def first():
    return load_preset("cheshire_hru_like")


@pytest.fixture
def second(first):
    data = scenario_to_dict(first)
    data["horizon_years"] = 5
    data["optimism_bias"] = {"value": 0.3, "source": "", "assumption": True, "note": "tested"}
    return scenario_from_dict(data)


def test_store_follows_the_protocol(store):
    assert isinstance(store, ScenarioStore)
    assert store.path.exists()


def test_save_creates_versions_and_load_returns_them(store, first, second):
    assert store.save("Cheshire plan", first) == 1
    assert store.save("Cheshire plan", second, note="shorter horizon") == 2
    assert store.load("Cheshire plan") == second
    assert store.load("Cheshire plan", version=1) == first
    assert scenario_hash(store.load("Cheshire plan", 2)) == scenario_hash(second)
    versions = store.versions("Cheshire plan")
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].note == "shorter horizon"
    assert versions[0].hash == scenario_hash(first)
    [info] = store.list()
    assert (info.name, info.latest_version, info.versions, info.ok) == ("Cheshire plan", 2, 2, True)
    assert info.schema_version == 1


def test_names_are_tidied_and_checked(store, first):
    store.save("  Cheshire   plan ", first)
    assert store.load("Cheshire plan") == first
    for bad in ("", "   ", "x" * 500, "tab\x07bell"):
        with pytest.raises(InputError):
            store.save(bad, first)


def test_restore_copies_an_old_version_forward(store, first, second):
    store.save("plan", first)
    store.save("plan", second)
    assert store.restore("plan", 1) == 3
    assert store.load("plan") == first
    assert store.load("plan", 2) == second  # history is kept
    assert store.versions("plan")[-1].note == "restored from version 1"
    with pytest.raises(InputError, match="version 9"):
        store.restore("plan", 9)


def test_duplicate_and_delete(store, first, second):
    store.save("plan", first)
    store.save("plan", second)
    assert store.duplicate("plan", "plan copy") == 1
    assert store.load("plan copy") == second
    assert [i.name for i in store.list()] == ["plan", "plan copy"]
    with pytest.raises(InputError, match="already exists"):
        store.duplicate("plan", "plan copy")
    assert len(store.versions("plan copy")) == 1  # the refused duplicate added nothing
    assert store.delete("plan") == 2
    with pytest.raises(InputError, match="no saved scenario 'plan'"):
        store.load("plan")
    with pytest.raises(InputError, match="no saved scenario"):
        store.delete("plan")
    assert [i.name for i in store.list()] == ["plan copy"]


def test_a_failed_save_leaves_nothing_behind(store, first, second, monkeypatch):
    store.save("plan", first)
    original = SQLiteScenarioStore._insert_version

    def insert_then_fail(self, con, *args, **kwargs):
        original(self, con, *args, **kwargs)  # the row is written inside the transaction …
        raise RuntimeError("disk gone")  # … and then something fails before COMMIT

    monkeypatch.setattr(SQLiteScenarioStore, "_insert_version", insert_then_fail)
    with pytest.raises(RuntimeError):
        store.save("plan", second)
    with pytest.raises(RuntimeError):
        store.save("other", second)
    monkeypatch.undo()
    assert [v.version for v in store.versions("plan")] == [1]
    assert store.load("plan") == first
    assert [i.name for i in store.list()] == ["plan"]
    assert store.save("plan", second) == 2  # numbering carries on cleanly


def test_an_invalid_scenario_is_never_stored(store):
    with pytest.raises(InputError):
        store.save("plan", {"schema_version": 1})  # not a Scenario object
    assert store.list() == []


def test_a_damaged_row_does_not_break_list(store, first):
    store.save("good", first)
    with sqlite3.connect(store.path) as con:
        con.execute(
            "INSERT INTO scenario_versions (name, version, created_at, schema_version, hash, body) VALUES (?,?,?,?,?,?)",
            ("broken yaml", 1, "2025-01-01T00:00:00+00:00", 1, "x", "name: [unclosed"),
        )
        con.execute(
            "INSERT INTO scenario_versions (name, version, created_at, schema_version, hash, body) VALUES (?,?,?,?,?,?)",
            ("binary", 1, "2025-01-01T00:00:00+00:00", 1, "x", sqlite3.Binary(b"\xff\x00\xfe")),
        )
        future = scenario_to_yaml(first).replace("schema_version: 1", "schema_version: 7")
        con.execute(
            "INSERT INTO scenario_versions (name, version, created_at, schema_version, hash, body) VALUES (?,?,?,?,?,?)",
            ("from the future", 1, "2025-01-01T00:00:00+00:00", 7, "x", future),
        )
    infos = {i.name: i for i in store.list()}
    assert infos["good"].ok
    assert not infos["broken yaml"].ok and "not valid YAML" in infos["broken yaml"].problem
    assert not infos["binary"].ok and infos["binary"].problem
    assert not infos["from the future"].ok and "reads version 1" in infos["from the future"].problem
    with pytest.raises(InputError, match="not valid YAML"):
        store.load("broken yaml")
    with pytest.raises(InputError, match="this app reads version 1"):
        store.load("from the future")


def test_stored_text_is_validated_yaml_with_its_schema_version(store, first):
    store.save("plan", first)
    with sqlite3.connect(store.path) as con:
        body, schema_version, digest = con.execute(
            "SELECT body, schema_version, hash FROM scenario_versions"
        ).fetchone()
    assert body.startswith("schema_version: 1\n")
    assert schema_version == 1 and digest == scenario_hash(first)


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "stalking-atlas" / "scenarios.sqlite"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "chosen.sqlite"))
    assert default_db_path() == tmp_path / "chosen.sqlite"
    store = open_store()
    assert store.path == tmp_path / "chosen.sqlite" and store.path.exists()
    explicit = open_store(tmp_path / "explicit.sqlite")
    assert explicit.path == tmp_path / "explicit.sqlite"


def test_two_store_objects_share_one_file(tmp_path, first, second):
    a = SQLiteScenarioStore(tmp_path / "s.sqlite")
    b = SQLiteScenarioStore(Path(tmp_path / "s.sqlite"))
    a.save("plan", first)
    assert b.save("plan", second) == 2
    assert a.load("plan") == second
