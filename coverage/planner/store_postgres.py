"""Saved scenarios on a PostgreSQL server, for a team or a public deployment.

``PostgresScenarioStore(dsn)`` keeps the contract of ``coverage.planner.store`` (owners, workspaces,
versions, soft delete, the same validation on the way in and out): the rules are the same code, only
the transactions differ. ``open_store`` imports this module (and psycopg) only when ``ATLAS_STORE_URL``
names a ``postgresql://`` server, so a personal, SQLite-only install never loads it.

* **Versions under concurrency.** Every change to a scenario runs in one transaction that first takes a
  transaction-scoped advisory lock on its workspace and name (``pg_advisory_xact_lock``), so two app
  servers saving the same name at once queue, and each reads the number the other committed before
  taking the next; the primary key ``(workspace, name, version)`` backs that up.
* **Durability.** A version is reported saved only after ``COMMIT`` returns; with the server's default
  ``synchronous_commit`` it is then on disk, so a server killed afterwards loses nothing.
* **Faults.** A connection is made per call (``connect_timeout``, 5 seconds), so a server that was
  restarted is used again without restarting the app. While it is down every call raises
  ``StoreUnavailable`` saying the server could not be reached and that nothing was read or saved; a
  connection lost during ``COMMIT`` is reported as unconfirmed (look at the versions once it is back).
* **Layout.** Tables ``schema_meta``, ``scenarios`` and ``scenario_versions`` in the connection's
  ``search_path`` schema (set ``options=-csearch_path=…`` in the DSN for another one), created or
  upgraded on first use under an advisory lock, so app servers starting together do it once. A database
  written by a newer atlas is refused rather than misread. The database user needs CREATE on the schema
  the first time, and SELECT, INSERT, UPDATE, DELETE afterwards.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import psycopg
from psycopg import conninfo

from coverage.planner.store import (
    STORE_SCHEMA,
    Row,
    StoreUnavailable,
    _as_utc,
    _Tx,
    _VersionedStore,
)

# Migrations by the store schema they reach. The PostgreSQL layout starts at store schema 2, the first
# with owners and workspaces (1 was SQLite's single table); a later layout appends its steps here.
_MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        2,
        (
            """CREATE TABLE scenarios (
                workspace text NOT NULL,
                name text NOT NULL,
                owner text NOT NULL,
                created_at timestamptz NOT NULL,
                deleted_at timestamptz,
                deleted_by text,
                PRIMARY KEY (workspace, name)
            )""",
            """CREATE TABLE scenario_versions (
                workspace text NOT NULL,
                name text NOT NULL,
                version integer NOT NULL CHECK (version > 0),
                created_at timestamptz NOT NULL,
                saved_by text NOT NULL,
                schema_version integer NOT NULL,
                hash text NOT NULL,
                body text NOT NULL,
                note text NOT NULL DEFAULT '',
                PRIMARY KEY (workspace, name, version),
                FOREIGN KEY (workspace, name) REFERENCES scenarios (workspace, name)
            )""",
            "CREATE INDEX scenarios_deleted ON scenarios (deleted_at) WHERE deleted_at IS NOT NULL",
        ),
    ),
)

# The advisory lock key that serialises layout upgrades (any fixed bigint; this one spells "ATLASSTO").
_MIGRATION_LOCK = 0x41544C4153535430
# Separates workspace from name in a lock key; names and workspaces never contain control characters.
_KEY_SEPARATOR = "\x1f"


def describe_dsn(dsn: str) -> str:
    """Where a DSN points, for messages: database, host and port, never the password."""
    try:
        parts = conninfo.conninfo_to_dict(dsn)
    except psycopg.Error:
        return "the configured PostgreSQL server"
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    database = str(parts.get("dbname") or parts.get("user") or "")
    return f"database “{database}” on {host}:{port}" if database else f"{host}:{port}"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


class _PgTx(_Tx):
    def __init__(self, cursor: psycopg.Cursor[Row]):
        self.cursor = cursor

    def all(self, sql: str, params: Sequence[object] = ()) -> builtins.list[Row]:
        # the shared SQL uses "?" placeholders and never a literal "?" or "%"
        self.cursor.execute(sql.replace("?", "%s"), tuple(params))
        return list(self.cursor.fetchall()) if self.cursor.description is not None else []

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        self.cursor.execute(sql.replace("?", "%s"), tuple(params))
        return self.cursor.rowcount


class PostgresScenarioStore(_VersionedStore):
    """Scenario versions on a PostgreSQL server (psycopg 3); the contract of ``ScenarioStore``."""

    _for_update = " FOR UPDATE"

    def __init__(
        self,
        dsn: str,
        *,
        admins: frozenset[str] | Sequence[str] = frozenset(),
        clock: Callable[[], datetime] | None = None,
        connect_timeout: int = 5,
        lock_timeout: float = 10,
    ):
        super().__init__(admins=admins, clock=clock)
        self.dsn = dsn
        self.where = describe_dsn(dsn)
        self.connect_timeout = connect_timeout  # seconds to wait for the server to answer
        self.lock_timeout = lock_timeout  # seconds to wait for another save of the same scenario
        self._migrate()

    # -- plumbing -----------------------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Row]]:
        try:
            con = psycopg.connect(self.dsn, connect_timeout=self.connect_timeout)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"the scenario server ({self.where}) could not be reached: {_first_line(exc)}. Nothing was read "
                "or saved; try again once it is running"
            ) from exc
        try:
            yield con
        finally:
            con.close()

    def _failed(self, exc: psycopg.Error, *, committing: bool) -> StoreUnavailable:
        if committing:
            return StoreUnavailable(
                f"the scenario server ({self.where}) stopped answering while a change was being committed "
                f"({_first_line(exc)}); it may or may not have been saved: look at the versions once the "
                "server is back"
            )
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return StoreUnavailable(
                f"the scenario server ({self.where}) stayed busy with another save of this scenario for over "
                f"{self.lock_timeout:g} seconds; nothing was saved: try again"
            )
        if isinstance(exc, psycopg.OperationalError):  # the connection went, or the server is shutting down
            return StoreUnavailable(
                f"the scenario server ({self.where}) stopped answering ({_first_line(exc)}) before anything was "
                "committed, so nothing was changed; try again once it is running"
            )
        return StoreUnavailable(
            f"the scenario server ({self.where}) refused the request ({_first_line(exc)}); nothing was changed"
        )

    @contextmanager
    def _reading(self) -> Iterator[_Tx]:
        with self._connection() as con:
            # one snapshot for every query of the call, and a guarantee that reading writes nothing
            con.isolation_level, con.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
            try:
                with con.cursor() as cursor:
                    yield _PgTx(cursor)
                con.rollback()
            except psycopg.Error as exc:
                raise self._failed(exc, committing=False) from exc

    @contextmanager
    def _writing(self, *keys: tuple[str, str]) -> Iterator[_Tx]:
        with self._connection() as con:
            committing = False
            try:
                with con.cursor() as cursor:
                    # a lock held by a stuck session must not hang a page: give up after lock_timeout
                    cursor.execute(
                        "SELECT set_config('lock_timeout', %s, true)", (f"{max(1, round(self.lock_timeout * 1000))}ms",)
                    )
                    for workspace, name in sorted(set(keys)):  # one order everywhere: no deadlocks
                        cursor.execute(
                            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                            (workspace + _KEY_SEPARATOR + name,),
                        )
                    yield _PgTx(cursor)
                committing = True
                con.commit()
            except psycopg.Error as exc:
                self._rollback(con)
                raise self._failed(exc, committing=committing) from exc
            except BaseException:
                self._rollback(con)
                raise

    @staticmethod
    def _rollback(con: psycopg.Connection[Row]) -> None:
        with contextlib.suppress(psycopg.Error):  # if the connection is gone, the server rolled back itself
            con.rollback()

    def _migrate(self) -> None:
        """Create or upgrade the tables (once, under an advisory lock); refuse a newer layout."""
        with self._writing() as tx:
            if self._layout_version(tx) == STORE_SCHEMA:
                return
            tx.run("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            found = self._layout_version(tx)  # again, holding the lock
            if found == 0:
                tx.run("CREATE TABLE IF NOT EXISTS schema_meta (key text PRIMARY KEY, value text NOT NULL)")
            for target, statements in _MIGRATIONS:
                if target > found:
                    for statement in statements:
                        tx.run(statement)
            tx.run(
                "INSERT INTO schema_meta (key, value) VALUES ('store_schema', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (str(STORE_SCHEMA),),
            )

    def _layout_version(self, tx: _Tx) -> int:
        row = tx.one("SELECT to_regclass('schema_meta') IS NOT NULL")
        if not row or not row[0]:
            return 0
        row = tx.one("SELECT value FROM schema_meta WHERE key = 'store_schema'")
        version = int(row[0]) if row else 0
        if version > STORE_SCHEMA:
            raise StoreUnavailable(
                f"the scenario tables in {self.where} were written by a newer version of the atlas (store "
                f"schema {version}; this one reads up to {STORE_SCHEMA}); they were left as they are"
            )
        return version

    def _ts_param(self, moment: datetime) -> object:
        return _as_utc(moment)

    def _ts_moment(self, value: object) -> datetime:
        if isinstance(value, datetime):
            return _as_utc(value)
        return _as_utc(datetime.fromisoformat(str(value)))
