"""Saving scenarios: named, versioned, never overwritten.

``ScenarioStore`` is the interface pages and the CLI use; ``SQLiteScenarioStore`` implements it in one
SQLite file. Every ``save`` adds a new version (1, 2, 3, …) inside one transaction, so a failure leaves
the previous versions exactly as they were. ``restore`` copies an old version forward as a new one, so
history is never rewritten. Scenarios are stored as the validated YAML text that
``coverage.planner.schema.scenario_to_yaml`` writes, with their schema version and hash beside them.

Where the file lives: the ``path`` argument if given, else ``$ATLAS_SCENARIO_DB``, else
``$XDG_DATA_HOME/stalking-atlas/scenarios.sqlite`` (``~/.local/share/…`` when XDG_DATA_HOME is unset).

**PostgreSQL.** A server-backed store would be another class with the same methods (the protocol below),
e.g. ``PostgresScenarioStore(dsn)`` using psycopg, with the same table (``name text, version int,
created_at timestamptz, schema_version int, hash text, body text, primary key (name, version)``),
``SELECT … FOR UPDATE``/``INSERT … ON CONFLICT`` (or a serialisable transaction) in ``save`` to take the
next version number safely, and the same validation on the way in and out. Pages would pick the class
from configuration; nothing else changes. It is not built here.
"""

from __future__ import annotations

import builtins
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from coverage.errors import InputError
from coverage.planner.schema import SCHEMA_VERSION, Scenario, load_scenario_text, scenario_hash, scenario_to_yaml

ENV_VAR = "ATLAS_SCENARIO_DB"
APP_DIR = "stalking-atlas"
DB_NAME = "scenarios.sqlite"
MAX_NAME = 120

_SCHEMA = """
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


@dataclass(frozen=True)
class ScenarioInfo:
    """One saved scenario as ``list()`` reports it (its latest version)."""

    name: str
    latest_version: int
    versions: int
    updated_at: str
    schema_version: int | None
    hash: str
    ok: bool  # False when the stored text no longer validates (shown, not hidden)
    problem: str = ""


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: int
    created_at: str
    hash: str
    note: str


@runtime_checkable
class ScenarioStore(Protocol):
    """What every scenario store offers (SQLite here; a PostgreSQL store would implement the same)."""

    def save(self, name: str, scenario: Scenario, *, note: str = "") -> int: ...
    def list(self) -> list[ScenarioInfo]: ...
    def load(self, name: str, version: int | None = None) -> Scenario: ...
    def versions(self, name: str) -> builtins.list[VersionInfo]: ...
    def restore(self, name: str, version: int) -> int: ...
    def duplicate(self, name: str, new_name: str) -> int: ...
    def delete(self, name: str) -> int: ...


def default_db_path() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / APP_DIR / DB_NAME


def _clean_name(name: str) -> str:
    if not isinstance(name, str):
        raise InputError("must be text", where="scenario name")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InputError("is empty", where="scenario name")
    if len(cleaned) > MAX_NAME:
        raise InputError(f"is longer than {MAX_NAME} characters", where="scenario name")
    if any(ord(ch) < 32 for ch in cleaned):
        raise InputError("contains control characters", where="scenario name")
    return cleaned


class SQLiteScenarioStore:
    """Scenario versions in one SQLite file. A connection is opened per call (safe across threads)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all of a change or none of it."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")

    def _insert_version(self, con: sqlite3.Connection, name: str, body: str, digest: str, note: str) -> int:
        row = con.execute("SELECT COALESCE(MAX(version), 0) FROM scenario_versions WHERE name = ?", (name,)).fetchone()
        version = int(row[0]) + 1
        con.execute(
            "INSERT INTO scenario_versions (name, version, created_at, schema_version, hash, body, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, version, self._now(), SCHEMA_VERSION, digest, body, note),
        )
        return version

    @staticmethod
    def _validated_text(scenario: Scenario) -> tuple[str, str]:
        if not isinstance(scenario, Scenario):
            raise InputError("is not a Scenario", where="save")
        body = scenario_to_yaml(scenario)
        # round-trip through the same validation a file gets, so a stored body always loads
        reloaded = load_scenario_text(body, where="scenario to save")
        return body, scenario_hash(reloaded)

    # -- the interface ------------------------------------------------------------------------
    def save(self, name: str, scenario: Scenario, *, note: str = "") -> int:
        """Store ``scenario`` as the next version of ``name``; returns the version number."""
        name = _clean_name(name)
        body, digest = self._validated_text(scenario)
        with self._transaction() as con:
            return self._insert_version(con, name, body, digest, note[:500])

    def list(self) -> list[ScenarioInfo]:
        """Every saved name with its latest version; a row that no longer validates is flagged, not fatal."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT v.name, v.version, v.created_at, v.schema_version, v.hash, v.body, c.n "
                "FROM scenario_versions v JOIN ("
                "  SELECT name, MAX(version) AS latest, COUNT(*) AS n FROM scenario_versions GROUP BY name"
                ") c ON c.name = v.name AND c.latest = v.version ORDER BY v.name COLLATE NOCASE"
            ).fetchall()
        out = []
        for name, version, created, schema_version, digest, body, n in rows:
            ok, problem = True, ""
            try:
                load_scenario_text(body if isinstance(body, str) else str(body), where=f"{name} v{version}")
            except InputError as exc:
                ok, problem = False, str(exc)
            except Exception as exc:
                ok, problem = False, f"{name} v{version}: unreadable ({type(exc).__name__})"
            out.append(
                ScenarioInfo(
                    name=str(name),
                    latest_version=int(version),
                    versions=int(n),
                    updated_at=str(created),
                    schema_version=schema_version if isinstance(schema_version, int) else None,
                    hash=str(digest),
                    ok=ok,
                    problem=problem,
                )
            )
        return out

    def load(self, name: str, version: int | None = None) -> Scenario:
        """The latest (or a given) version of ``name``; ``InputError`` if missing or no longer valid."""
        name = _clean_name(name)
        with self._connect() as con:
            if version is None:
                row = con.execute(
                    "SELECT version, body FROM scenario_versions WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
                ).fetchone()
            else:
                row = con.execute(
                    "SELECT version, body FROM scenario_versions WHERE name = ? AND version = ?", (name, int(version))
                ).fetchone()
        if row is None:
            what = f"'{name}'" + (f" version {version}" if version is not None else "")
            raise InputError(f"no saved scenario {what}", where="scenario store")
        return load_scenario_text(str(row[1]), where=f"saved scenario '{name}' v{row[0]}")

    def versions(self, name: str) -> builtins.list[VersionInfo]:
        name = _clean_name(name)
        with self._connect() as con:
            rows = con.execute(
                "SELECT version, created_at, hash, note FROM scenario_versions WHERE name = ? ORDER BY version",
                (name,),
            ).fetchall()
        return [VersionInfo(name, int(v), str(c), str(h), str(n)) for v, c, h, n in rows]

    def restore(self, name: str, version: int) -> int:
        """Make an old version current again by saving a copy of it as a new version."""
        name = _clean_name(name)
        scenario = self.load(name, version)
        body, digest = self._validated_text(scenario)
        with self._transaction() as con:
            return self._insert_version(con, name, body, digest, f"restored from version {int(version)}")

    def duplicate(self, name: str, new_name: str) -> int:
        """Copy the latest version of ``name`` to a new name (version 1). Refuses an existing name."""
        name, new_name = _clean_name(name), _clean_name(new_name)
        scenario = self.load(name)
        body, digest = self._validated_text(scenario)
        with self._transaction() as con:
            exists = con.execute("SELECT 1 FROM scenario_versions WHERE name = ? LIMIT 1", (new_name,)).fetchone()
            if exists:
                raise InputError(f"'{new_name}' already exists; choose another name", where="scenario store")
            return self._insert_version(con, new_name, body, digest, f"duplicated from '{name}'")

    def delete(self, name: str) -> int:
        """Delete every version of ``name``; returns how many versions went."""
        name = _clean_name(name)
        with self._transaction() as con:
            cur = con.execute("DELETE FROM scenario_versions WHERE name = ?", (name,))
            count = cur.rowcount
        if count == 0:
            raise InputError(f"no saved scenario '{name}'", where="scenario store")
        return count


def open_store(path: str | Path | None = None) -> ScenarioStore:
    """The configured store (SQLite for now)."""
    return SQLiteScenarioStore(path)
