"""Saving scenarios: named, versioned, owned, never overwritten.

``ScenarioStore`` is the interface pages and the CLI use. Two classes implement it with the same rules,
written once in ``_VersionedStore``: ``SQLiteScenarioStore`` (one file, for one person or one machine) and
``coverage.planner.store_postgres.PostgresScenarioStore`` (a server, for a team or a public deployment).
``open_store`` picks one from configuration.

The contract:

* A scenario is a **name inside a workspace** (personal mode: the workspace ``"personal"``). It has an
  **owner**, the user id (an OIDC ``sub`` or e-mail; personal mode: ``"local"``) who first saved it.
* Every ``save`` adds a new version (1, 2, 3, …) inside one transaction, so a failure leaves the previous
  versions exactly as they were; each version records who saved it (``saved_by``) and when. Only the
  owner or an admin may add a version to an existing name, make an old version current again
  (``restore``, which copies it forward: history is never rewritten) or delete it. Anyone may
  ``duplicate`` a scenario; the copy belongs to whoever made it. Who may use a workspace at all is for
  the caller (the page) to decide; the store trusts the ``actor`` and ``workspace`` it is given.
* ``delete`` is soft: the scenario is hidden from ``list`` and can be recovered with ``restore_deleted``
  for ``RECOVERY_DAYS`` days; ``purge_expired`` removes those deleted longer ago. A deleted name stays
  taken until it is purged, so recovering it never collides with a newer scenario.
* A refusal for want of permission is a ``PermissionRefused`` (an ``InputError``) that says whose the
  scenario is; ``can_write`` answers the same question beforehand, so a page can disable a button and say
  why. A store that cannot be used (its file vanished, its server is down, it is read-only or damaged)
  raises ``StoreUnavailable``, an ``OSError``, with a message that says what happened and that nothing
  was written.
* Names are tidied (Unicode NFC, runs of whitespace made one space) and refused if empty, longer than
  ``MAX_NAME`` characters, or holding control or invisible formatting characters (zero-width and bidi
  controls included), since those make two different names look the same.

Scenarios are stored as the validated YAML text that ``coverage.planner.schema.scenario_to_yaml``
writes, with their schema version and hash beside them. The store's own layout has a version too
(``STORE_SCHEMA``, kept in a ``schema_meta`` table); opening an older file upgrades it in place inside
one transaction (version 1 is the one-table layout of earlier atlas versions, whose scenarios become the
``"local"`` user's in the ``"personal"`` workspace), and a file or database written by a newer atlas is
refused rather than misread.

Where the SQLite file lives: the ``path`` argument if given, else ``$ATLAS_SCENARIO_DB``, else
``$XDG_DATA_HOME/stalking-atlas/scenarios.sqlite`` (``~/.local/share/…`` when XDG_DATA_HOME is unset).
A store remembers the file it opened (so does the process, for every store object on that path): if the
file disappears while the app runs, the store says so and refuses to work instead of quietly starting
a new, empty one. A damaged file (``PRAGMA quick_check`` on opening, or damage met while working) and a
read-only one are read as far as they can be and never written (``StoreReadOnly``); a version 1 file
that cannot be written is read as it is, through temporary views, and upgraded once it can be.
"""

from __future__ import annotations

import builtins
import os
import sqlite3
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from coverage.errors import InputError
from coverage.planner.schema import SCHEMA_VERSION, Scenario, load_scenario_text, scenario_hash, scenario_to_yaml

ENV_VAR = "ATLAS_SCENARIO_DB"
URL_ENV_VAR = "ATLAS_STORE_URL"  # postgresql://… for the server store; unset for SQLite
ADMINS_ENV_VAR = "ATLAS_ADMINS"  # user ids, separated by commas
APP_DIR = "stalking-atlas"
DB_NAME = "scenarios.sqlite"
MAX_NAME = 120
MAX_NOTE = 500
MAX_USER = 320  # the longest e-mail address RFC 3696 allows; an OIDC ``sub`` is at most 255
RECOVERY_DAYS = 30
LOCAL_USER = "local"
PERSONAL = "personal"
STORE_SCHEMA = 2  # the layout of the store's tables; 1 was the single table of earlier versions

# Characters that change how text is shown without being seen: zero-width spaces and joiners, the
# left-to-right and right-to-left marks, the bidi embeddings, overrides and isolates, and the byte-order
# mark. Other control (Cc) and format (Cf) characters, and lone surrogates, are refused too.
INVISIBLE = frozenset(
    [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF],
)

Row = tuple[Any, ...]


class PermissionRefused(InputError):
    """The actor may not do this to that scenario; the message says whose it is and who may."""

    def __init__(self, message: str, *, name: str, owner: str, actor: str):
        self.name = name
        self.owner = owner
        self.actor = actor
        super().__init__(message)


class StoreUnavailable(OSError):
    """The store cannot be used as asked: its file vanished, its server cannot be reached, or its data
    was written by a newer atlas. An ``OSError``, so a page that catches ``(sqlite3.Error, OSError)`` shows
    it; ``str()`` is a sentence for the reader. Nothing was written."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class StoreReadOnly(StoreUnavailable):
    """Saved scenarios can be read, but nothing can be written: the file is read-only, or damaged."""


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
    owner: str = LOCAL_USER
    workspace: str = PERSONAL
    updated_by: str = LOCAL_USER
    deleted_at: str | None = None  # set only when listed with include_deleted=True
    deleted_by: str | None = None
    recoverable_until: str | None = None


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: int
    created_at: str
    hash: str
    note: str
    saved_by: str = LOCAL_USER


@runtime_checkable
class ScenarioStore(Protocol):
    """What every scenario store offers (``SQLiteScenarioStore``, ``PostgresScenarioStore``)."""

    def save(
        self, name: str, scenario: Scenario, *, actor: str = ..., workspace: str = ..., note: str = ...
    ) -> int: ...
    def list(self, *, workspace: str = ..., include_deleted: bool = ...) -> builtins.list[ScenarioInfo]: ...
    def load(self, name: str, version: int | None = None, *, workspace: str = ...) -> Scenario: ...
    def versions(self, name: str, *, workspace: str = ...) -> builtins.list[VersionInfo]: ...
    def restore(self, name: str, version: int, *, actor: str = ..., workspace: str = ...) -> int: ...
    def duplicate(self, name: str, new_name: str, *, actor: str = ..., workspace: str = ...) -> int: ...
    def delete(self, name: str, *, actor: str = ..., workspace: str = ...) -> int: ...
    def restore_deleted(self, name: str, *, actor: str = ..., workspace: str = ...) -> int: ...
    def purge_expired(self, now: datetime | None = None) -> int: ...
    def can_write(self, name: str, actor: str = ..., workspace: str = ...) -> tuple[bool, str]: ...
    def write_refusal(self) -> str: ...


def default_db_path(settings: Mapping[str, str] | None = None) -> Path:
    """``$ATLAS_SCENARIO_DB`` (or that key of ``settings``), else the user's data folder."""
    settings = os.environ if settings is None else settings
    chosen = settings.get(ENV_VAR)
    if chosen:
        return Path(chosen).expanduser()
    base = settings.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / APP_DIR / DB_NAME


# -- names, users, notes ------------------------------------------------------------------------------
def _code(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _hidden(ch: str) -> bool:
    return ord(ch) in INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf", "Cs")


def _refuse_hidden(text: str, where: str) -> None:
    """Refuse control and invisible characters, saying which one and where, without echoing it."""
    for index, ch in enumerate(text, start=1):
        if _hidden(ch):
            if ord(ch) in INVISIBLE:
                kind = "an invisible character that can make one name look like another"
            elif unicodedata.category(ch) == "Cc":
                kind = "a control character"
            else:
                kind = "an invisible formatting character"
            shown = "".join(f"[U+{ord(c):04X}]" if _hidden(c) else c for c in text)
            raise InputError(
                f"contains {_code(ch)}, {kind}, at character {index} of “{shown}”; type it again without it",
                where=where,
            )


def _tidy(text: object, where: str) -> str:
    if not isinstance(text, str):
        raise InputError("must be text", where=where)
    tidied = " ".join(unicodedata.normalize("NFC", text).split())
    if not tidied:
        raise InputError("is empty", where=where)
    return tidied


def clean_name(name: object, *, where: str = "scenario name") -> str:
    """A new scenario (or workspace) name, tidied; ``InputError`` saying what is wrong and where."""
    tidied = _tidy(name, where)
    _refuse_hidden(tidied, where)
    if len(tidied) > MAX_NAME:
        raise InputError(f"is longer than {MAX_NAME} characters ({len(tidied)})", where=where)
    return tidied


def _lookup_names(name: object) -> tuple[str, ...]:
    """The forms under which an existing scenario may be stored: as typed with whitespace tidied, then
    NFC. Lookups are lenient so a name saved before the stricter rules can still be opened and deleted."""
    if not isinstance(name, str):
        raise InputError("must be text", where="scenario name")
    collapsed = " ".join(name.split())
    if not collapsed:
        raise InputError("is empty", where="scenario name")
    nfc = unicodedata.normalize("NFC", collapsed)
    return (collapsed,) if nfc == collapsed else (collapsed, nfc)


def _clean_user(user: object, where: str = "user") -> str:
    if not isinstance(user, str):
        raise InputError("must be text", where=where)
    cleaned = unicodedata.normalize("NFC", user.strip())
    if not cleaned:
        raise InputError("is empty", where=where)
    _refuse_hidden(cleaned, where)
    if len(cleaned) > MAX_USER:
        raise InputError(f"is longer than {MAX_USER} characters", where=where)
    return cleaned


def _clean_note(note: object) -> str:
    """A note is free text: whitespace tidied, control and invisible characters dropped, 500 characters."""
    text = " ".join(str(note or "").split())
    return "".join(ch for ch in text if not _hidden(ch))[:MAX_NOTE]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_utc(moment: datetime) -> datetime:
    """Aware UTC, whole seconds (a naive datetime is taken to be UTC already)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=0)


def _shown_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class _Found:
    """A scenario's row in ``scenarios``."""

    name: str
    owner: str
    deleted_at: datetime | None
    deleted_by: str | None


class _Tx(ABC):
    """One transaction, whichever database is underneath. SQL uses ``?`` placeholders."""

    @abstractmethod
    def all(self, sql: str, params: Sequence[object] = ()) -> builtins.list[Row]: ...

    @abstractmethod
    def run(self, sql: str, params: Sequence[object] = ()) -> int: ...

    def one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None


# The SQL both stores run: portable between SQLite and PostgreSQL.
_LIST_SQL = (
    "SELECT s.name, s.owner, s.deleted_at, s.deleted_by, v.version, v.created_at, v.saved_by, "
    "v.schema_version, v.hash, v.body, c.n "
    "FROM scenarios s JOIN ("
    "  SELECT workspace, name, MAX(version) AS latest, COUNT(*) AS n FROM scenario_versions"
    "  WHERE workspace = ? GROUP BY workspace, name"
    ") c ON c.workspace = s.workspace AND c.name = s.name "
    "JOIN scenario_versions v ON v.workspace = s.workspace AND v.name = s.name AND v.version = c.latest "
    "WHERE s.workspace = ?"
)


class _VersionedStore(ABC):
    """The contract, written once; subclasses supply transactions and timestamps."""

    _for_update = ""  # " FOR UPDATE" where the database takes row locks

    def __init__(self, *, admins: frozenset[str] | Sequence[str] = frozenset(), clock: Callable[[], datetime] | None):
        self.admins = frozenset(_clean_user(admin, "admins") for admin in admins)
        self._clock = clock or _utc_now

    # -- what a backend supplies -------------------------------------------------------------------
    @abstractmethod
    def _reading(self) -> AbstractContextManager[_Tx]:
        """A read-only transaction (a consistent snapshot)."""

    @abstractmethod
    def _writing(self, *keys: tuple[str, str]) -> AbstractContextManager[_Tx]:
        """A write transaction holding the lock of each (workspace, name); all of it commits or none."""

    @abstractmethod
    def _ts_param(self, moment: datetime) -> object:
        """A timestamp as this database stores it."""

    @abstractmethod
    def _ts_moment(self, value: object) -> datetime:
        """A stored timestamp back as an aware datetime."""

    def _write_refusal(self) -> str:
        """Why nothing can be written to this store at all ('' when it can)."""
        return ""

    # -- shared plumbing ------------------------------------------------------------------------------
    def _now(self) -> datetime:
        return _as_utc(self._clock())

    def _ts_text(self, value: object) -> str:
        if isinstance(value, datetime):
            return _as_utc(value).isoformat()
        return str(value)

    def _find(self, tx: _Tx, workspace: str, names: Sequence[str]) -> _Found | None:
        marks = ", ".join("?" for _ in names)
        rows = tx.all(
            f"SELECT name, owner, deleted_at, deleted_by FROM scenarios WHERE workspace = ? AND name IN ({marks})",
            (workspace, *names),
        )
        if not rows:
            return None
        rows.sort(key=lambda row: names.index(str(row[0])))  # as typed first, then its NFC form
        name, owner, deleted_at, deleted_by = rows[0]
        return _Found(
            str(name),
            str(owner),
            None if deleted_at is None else self._ts_moment(deleted_at),
            None if deleted_by is None else str(deleted_by),
        )

    @staticmethod
    def _recoverable_until(deleted_at: datetime) -> datetime:
        return deleted_at + timedelta(days=RECOVERY_DAYS)

    def _deleted_message(self, found: _Found) -> str:
        assert found.deleted_at is not None
        until = self._recoverable_until(found.deleted_at)
        return f"“{found.name}” was deleted by {found.deleted_by} on {_shown_time(found.deleted_at)}; " + (
            f"it can be recovered until {_shown_time(until)}"
            if until > self._now()
            else "it can no longer be recovered and will be purged"
        )

    def _refusal(self, found: _Found, actor: str, action: str) -> str:
        """Why ``actor`` may not ``action`` (words: "delete it") the scenario ('' if they may)."""
        if actor == found.owner or actor in self.admins:
            return ""
        return f"“{found.name}” belongs to {found.owner}; only its owner or an admin can {action}"

    def _check_owner(self, found: _Found, actor: str, action: str) -> None:
        refusal = self._refusal(found, actor, action)
        if refusal:
            raise PermissionRefused(refusal, name=found.name, owner=found.owner, actor=actor)

    def _live(self, tx: _Tx, workspace: str, name: str, *, version: int | None = None) -> _Found:
        found = self._find(tx, workspace, _lookup_names(name))
        if found is None or found.deleted_at is not None:
            what = f"'{' '.join(name.split())}'" + (f" version {version}" if version is not None else "")
            extra = f" ({self._deleted_message(found)})" if found is not None else ""
            raise InputError(f"no saved scenario {what}{extra}", where="scenario store")
        return found

    def _insert_version(self, tx: _Tx, workspace: str, name: str, body: str, digest: str, note: str, actor: str) -> int:
        row = tx.one(
            "SELECT COALESCE(MAX(version), 0) FROM scenario_versions WHERE workspace = ? AND name = ?",
            (workspace, name),
        )
        version = int(row[0] if row else 0) + 1
        tx.run(
            "INSERT INTO scenario_versions "
            "(workspace, name, version, created_at, saved_by, schema_version, hash, body, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (workspace, name, version, self._ts_param(self._now()), actor, SCHEMA_VERSION, digest, body, note),
        )
        return version

    def _insert_scenario(self, tx: _Tx, workspace: str, name: str, owner: str) -> None:
        tx.run(
            "INSERT INTO scenarios (workspace, name, owner, created_at) VALUES (?, ?, ?, ?)",
            (workspace, name, owner, self._ts_param(self._now())),
        )

    @staticmethod
    def _validated_text(scenario: Scenario) -> tuple[str, str]:
        if not isinstance(scenario, Scenario):
            raise InputError("is not a Scenario", where="save")
        body = scenario_to_yaml(scenario)
        # round-trip through the same validation a file gets, so a stored body always loads
        reloaded = load_scenario_text(body, where="scenario to save")
        return body, scenario_hash(reloaded)

    @staticmethod
    def _key(workspace: str, names: Sequence[str]) -> tuple[str, str]:
        return workspace, names[-1]

    # -- the interface ----------------------------------------------------------------------------------
    def save(
        self,
        name: str,
        scenario: Scenario,
        *,
        actor: str = LOCAL_USER,
        workspace: str = PERSONAL,
        note: str = "",
    ) -> int:
        """Store ``scenario`` as the next version of ``name``; returns the version number.

        A new name becomes ``actor``'s; a new version of an existing one is for its owner or an admin."""
        workspace, actor = clean_name(workspace, where="workspace"), _clean_user(actor)
        names = _lookup_names(name)
        try:
            new_name, bad_name = clean_name(name), None
        except InputError as error:
            new_name, bad_name = "", error
        body, digest = self._validated_text(scenario)
        with self._writing(self._key(workspace, names)) as tx:
            found = self._find(tx, workspace, names)
            if found is None:
                if bad_name is not None:
                    raise bad_name
                self._insert_scenario(tx, workspace, new_name, actor)
                target = new_name
            elif found.deleted_at is not None:
                raise InputError(
                    f"{self._deleted_message(found)}. Recover it, or save under another name",
                    where="scenario store",
                )
            else:
                self._check_owner(found, actor, "save a new version of it")
                target = found.name
            return self._insert_version(tx, workspace, target, body, digest, _clean_note(note), actor)

    def list(self, *, workspace: str = PERSONAL, include_deleted: bool = False) -> builtins.list[ScenarioInfo]:
        """Every scenario in ``workspace`` with its latest version, sorted by name; a row that no longer
        validates is flagged, not fatal. Deleted ones are left out unless ``include_deleted``."""
        workspace = clean_name(workspace, where="workspace")
        sql = _LIST_SQL + ("" if include_deleted else " AND s.deleted_at IS NULL")
        with self._reading() as tx:
            rows = tx.all(sql, (workspace, workspace))
        out = []
        for name, owner, deleted_at, deleted_by, version, created, saved_by, schema_version, digest, body, n in rows:
            ok, problem = True, ""
            try:
                load_scenario_text(body if isinstance(body, str) else str(body), where=f"{name} v{version}")
            except InputError as exc:
                ok, problem = False, str(exc)
            except Exception as exc:
                ok, problem = False, f"{name} v{version}: unreadable ({type(exc).__name__})"
            deleted = None if deleted_at is None else self._ts_moment(deleted_at)
            out.append(
                ScenarioInfo(
                    name=str(name),
                    latest_version=int(version),
                    versions=int(n),
                    updated_at=self._ts_text(created),
                    schema_version=schema_version if isinstance(schema_version, int) else None,
                    hash=str(digest),
                    ok=ok,
                    problem=problem,
                    owner=str(owner),
                    workspace=workspace,
                    updated_by=str(saved_by),
                    deleted_at=None if deleted is None else deleted.isoformat(),
                    deleted_by=None if deleted_by is None else str(deleted_by),
                    recoverable_until=None if deleted is None else self._recoverable_until(deleted).isoformat(),
                )
            )
        out.sort(key=lambda info: (info.name.casefold(), info.name))
        return out

    def _body(self, tx: _Tx, workspace: str, name: str, version: int | None) -> tuple[str, int, str]:
        """The stored name, version number and text of the latest (or a given) version of ``name``."""
        found = self._live(tx, workspace, name, version=version)
        if version is None:
            row = tx.one(
                "SELECT version, body FROM scenario_versions WHERE workspace = ? AND name = ? "
                "ORDER BY version DESC LIMIT 1",
                (workspace, found.name),
            )
        else:
            row = tx.one(
                "SELECT version, body FROM scenario_versions WHERE workspace = ? AND name = ? AND version = ?",
                (workspace, found.name, int(version)),
            )
        if row is None:
            what = f"'{found.name}'" + (f" version {int(version)}" if version is not None else "")
            raise InputError(f"no saved scenario {what}", where="scenario store")
        return found.name, int(row[0]), row[1] if isinstance(row[1], str) else str(row[1])

    def load(self, name: str, version: int | None = None, *, workspace: str = PERSONAL) -> Scenario:
        """The latest (or a given) version of ``name``; ``InputError`` if missing, deleted or no longer valid."""
        workspace = clean_name(workspace, where="workspace")
        with self._reading() as tx:
            stored, number, text = self._body(tx, workspace, name, version)
        return load_scenario_text(text, where=f"saved scenario '{stored}' v{number}")

    def versions(self, name: str, *, workspace: str = PERSONAL) -> builtins.list[VersionInfo]:
        """Every version of ``name``, oldest first, with who saved it and when."""
        workspace = clean_name(workspace, where="workspace")
        with self._reading() as tx:
            found = self._live(tx, workspace, name)
            rows = tx.all(
                "SELECT version, created_at, hash, note, saved_by FROM scenario_versions "
                "WHERE workspace = ? AND name = ? ORDER BY version",
                (workspace, found.name),
            )
        return [VersionInfo(found.name, int(v), self._ts_text(c), str(h), str(n), str(s)) for v, c, h, n, s in rows]

    def restore(self, name: str, version: int, *, actor: str = LOCAL_USER, workspace: str = PERSONAL) -> int:
        """Make an old version current again by saving a copy of it as a new version (owner or admin)."""
        workspace, actor = clean_name(workspace, where="workspace"), _clean_user(actor)
        names = _lookup_names(name)
        with self._writing(self._key(workspace, names)) as tx:
            found = self._live(tx, workspace, name)
            self._check_owner(found, actor, "make an old version of it current again")
            stored, number, text = self._body(tx, workspace, found.name, int(version))
            scenario = load_scenario_text(text, where=f"saved scenario '{stored}' v{number}")
            body, digest = self._validated_text(scenario)
            return self._insert_version(tx, workspace, stored, body, digest, f"restored from version {number}", actor)

    def duplicate(self, name: str, new_name: str, *, actor: str = LOCAL_USER, workspace: str = PERSONAL) -> int:
        """Copy the latest version of ``name`` to a new name (version 1), owned by ``actor``. Anyone may;
        an existing name, or a deleted one still recoverable, is refused."""
        workspace, actor = clean_name(workspace, where="workspace"), _clean_user(actor)
        target = clean_name(new_name)
        refusal = self._write_refusal()
        if refusal:  # before reading: a damaged file may not even be readable
            raise StoreReadOnly(refusal)
        with self._reading() as tx:
            source, number, text = self._body(tx, workspace, name, None)
        scenario = load_scenario_text(text, where=f"saved scenario '{source}' v{number}")
        body, digest = self._validated_text(scenario)
        names = _lookup_names(target)
        with self._writing(self._key(workspace, names)) as tx:
            taken = self._find(tx, workspace, names)
            if taken is not None and taken.deleted_at is not None:
                raise InputError(
                    f"'{target}' already exists among the deleted scenarios ({self._deleted_message(taken)}); "
                    "choose another name",
                    where="scenario store",
                )
            if taken is not None:
                raise InputError(f"'{target}' already exists; choose another name", where="scenario store")
            self._insert_scenario(tx, workspace, target, actor)
            return self._insert_version(tx, workspace, target, body, digest, f"duplicated from '{source}'", actor)

    def delete(self, name: str, *, actor: str = LOCAL_USER, workspace: str = PERSONAL) -> int:
        """Delete ``name`` (owner or admin): hidden at once, recoverable for ``RECOVERY_DAYS`` days.
        Returns how many versions it holds."""
        workspace, actor = clean_name(workspace, where="workspace"), _clean_user(actor)
        names = _lookup_names(name)
        with self._writing(self._key(workspace, names)) as tx:
            found = self._live(tx, workspace, name)
            self._check_owner(found, actor, "delete it")
            tx.run(
                "UPDATE scenarios SET deleted_at = ?, deleted_by = ? WHERE workspace = ? AND name = ?",
                (self._ts_param(self._now()), actor, workspace, found.name),
            )
            row = tx.one(
                "SELECT COUNT(*) FROM scenario_versions WHERE workspace = ? AND name = ?", (workspace, found.name)
            )
        return int(row[0]) if row else 0

    def restore_deleted(self, name: str, *, actor: str = LOCAL_USER, workspace: str = PERSONAL) -> int:
        """Bring back a deleted scenario, every version of it, within ``RECOVERY_DAYS`` days of its deletion
        (owner or admin). Returns how many versions it holds."""
        workspace, actor = clean_name(workspace, where="workspace"), _clean_user(actor)
        names = _lookup_names(name)
        with self._writing(self._key(workspace, names)) as tx:
            found = self._find(tx, workspace, names)
            if found is None:
                raise InputError(f"no deleted scenario '{names[0]}'", where="scenario store")
            if found.deleted_at is None:
                raise InputError(f"'{found.name}' is not deleted", where="scenario store")
            self._check_owner(found, actor, "recover it")
            if self._recoverable_until(found.deleted_at) <= self._now():
                raise InputError(self._deleted_message(found), where="scenario store")
            tx.run(
                "UPDATE scenarios SET deleted_at = NULL, deleted_by = NULL WHERE workspace = ? AND name = ?",
                (workspace, found.name),
            )
            row = tx.one(
                "SELECT COUNT(*) FROM scenario_versions WHERE workspace = ? AND name = ?", (workspace, found.name)
            )
        return int(row[0]) if row else 0

    def purge_expired(self, now: datetime | None = None) -> int:
        """Remove for good, in every workspace, the scenarios deleted more than ``RECOVERY_DAYS`` days before
        ``now`` (default: the clock). Returns how many scenarios went."""
        cutoff = _as_utc(now if now is not None else self._clock()) - timedelta(days=RECOVERY_DAYS)
        with self._writing() as tx:
            expired = tx.all(
                "SELECT workspace, name FROM scenarios WHERE deleted_at IS NOT NULL AND deleted_at <= ?"
                + self._for_update,
                (self._ts_param(cutoff),),
            )
            for workspace, name in expired:
                tx.run("DELETE FROM scenario_versions WHERE workspace = ? AND name = ?", (workspace, name))
                tx.run("DELETE FROM scenarios WHERE workspace = ? AND name = ?", (workspace, name))
        return len(expired)

    def write_refusal(self) -> str:
        """Why nothing can be written to this store now (gone, damaged, read-only, server down), or ''."""
        try:
            return self._write_refusal() or ""
        except StoreUnavailable as error:
            return str(error)

    def can_write(self, name: str, actor: str = LOCAL_USER, workspace: str = PERSONAL) -> tuple[bool, str]:
        """Whether ``actor`` may save over, restore or delete ``name`` now, and if not, why (for a page to
        disable its buttons and say so). A new name can be written if it is a valid one."""
        try:
            refusal = self._write_refusal()
            if refusal:
                return False, refusal
            workspace, actor = clean_name(workspace, where="workspace"), _clean_user(actor)
            names = _lookup_names(name)
            with self._reading() as tx:
                found = self._find(tx, workspace, names)
            if found is None:
                clean_name(name)
                return True, ""
        except (InputError, StoreUnavailable) as error:
            return False, str(error)
        if found.deleted_at is not None:
            return False, self._deleted_message(found)
        refusal = self._refusal(found, actor, "change it")
        if refusal:
            return False, refusal
        if actor != found.owner:
            return True, f"“{found.name}” belongs to {found.owner}; you can change it as an admin"
        return True, ""


# -- SQLite -------------------------------------------------------------------------------------------
_SQLITE_TABLES = (
    "CREATE TABLE schema_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE scenarios (
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        created_at TEXT NOT NULL,
        deleted_at TEXT,
        deleted_by TEXT,
        PRIMARY KEY (workspace, name)
    )""",
    """CREATE TABLE scenario_versions (
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version > 0),
        created_at TEXT NOT NULL,
        saved_by TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        hash TEXT NOT NULL,
        body TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (workspace, name, version),
        FOREIGN KEY (workspace, name) REFERENCES scenarios (workspace, name)
    )""",
    "CREATE INDEX scenarios_deleted ON scenarios (deleted_at) WHERE deleted_at IS NOT NULL",
)

# Store schema 1 (earlier versions): scenario_versions(name, version, created_at, schema_version, hash, body, note).
# Its scenarios become the local user's, in the personal workspace; every row is copied as it is.
_SQLITE_FROM_V1 = (
    "ALTER TABLE scenario_versions RENAME TO scenario_versions_v1",
    *_SQLITE_TABLES,
    "INSERT INTO scenarios (workspace, name, owner, created_at) "
    f"SELECT '{PERSONAL}', name, '{LOCAL_USER}', MIN(created_at) FROM scenario_versions_v1 GROUP BY name",
    "INSERT INTO scenario_versions "
    "(workspace, name, version, created_at, saved_by, schema_version, hash, body, note) "
    f"SELECT '{PERSONAL}', name, version, created_at, '{LOCAL_USER}', schema_version, hash, body, "
    "COALESCE(note, '') FROM scenario_versions_v1",
    "DROP TABLE scenario_versions_v1",
)

# Migrations by the store schema they start from; each reaches the current layout.
_SQLITE_MIGRATIONS: dict[int, tuple[str, ...]] = {0: _SQLITE_TABLES, 1: _SQLITE_FROM_V1}

# A store schema 1 file that cannot be upgraded (read-only or damaged) is read through these views,
# made afresh on each connection in its temporary schema: nothing is written to the file.
_SQLITE_V1_VIEWS = (
    f"CREATE TEMP VIEW scenarios AS SELECT '{PERSONAL}' AS workspace, name, '{LOCAL_USER}' AS owner, "
    "MIN(created_at) AS created_at, NULL AS deleted_at, NULL AS deleted_by FROM main.scenario_versions GROUP BY name",
    f"CREATE TEMP VIEW scenario_versions AS SELECT '{PERSONAL}' AS workspace, name, version, created_at, "
    f"'{LOCAL_USER}' AS saved_by, schema_version, hash, body, note FROM main.scenario_versions",
)
_SQLITE_EMPTY_VIEWS = tuple(statement.replace("CREATE TABLE", "CREATE TEMP TABLE") for statement in _SQLITE_TABLES)

# Every SQLite file a store in this process has opened, and whether a store created it: a file that
# vanishes is then reported, not silently made again (pages make a store object per call).
_OPENED_FILES: dict[str, bool] = {}


def _is_damage(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file itself is damaged (not merely busy, locked or unreachable)."""
    return isinstance(exc, sqlite3.DatabaseError) and any(
        words in str(exc) for words in ("malformed", "not a database", "corrupt")
    )


class _SQLiteTx(_Tx):
    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def all(self, sql: str, params: Sequence[object] = ()) -> builtins.list[Row]:
        return [tuple(row) for row in self.con.execute(sql, tuple(params)).fetchall()]

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        return self.con.execute(sql, tuple(params)).rowcount


class SQLiteScenarioStore(_VersionedStore):
    """Scenario versions in one SQLite file. A connection is opened per call (safe across threads and
    processes); writes take the file's write lock (``BEGIN IMMEDIATE``), so version numbers never clash.

    On opening, the file is checked (``PRAGMA quick_check``): a damaged file is never written again, a
    read-only one is read but not written, and a file of an older layout is upgraded."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        admins: frozenset[str] | Sequence[str] = frozenset(),
        clock: Callable[[], datetime] | None = None,
        busy_timeout: float = 10,
    ):
        super().__init__(admins=admins, clock=clock)
        self.busy_timeout = busy_timeout  # seconds a call waits for another process's save to finish
        if path is not None and os.fspath(path) == ":memory:":
            raise InputError(
                "keeps nothing between calls (a connection is opened per call); give a file path", where=":memory:"
            )
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self._file = str(self.path.absolute())
        self._damage = ""  # why the file must not be written, if it failed its check
        self._temp_views: tuple[str, ...] = ()  # for a file that could not be upgraded
        if self.path.exists():
            self.created_file = _OPENED_FILES.get(self._file, False)
        elif self._file in _OPENED_FILES:
            raise StoreUnavailable(self._vanished(_OPENED_FILES[self._file]))
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            sqlite3.connect(self._uri("rwc"), uri=True).close()
            self.created_file = True
        _OPENED_FILES[self._file] = self.created_file
        self._open()

    # -- plumbing -----------------------------------------------------------------------------------
    def _uri(self, mode: str) -> str:
        # mode=rw never creates a file: a store file that vanished stays vanished
        return f"{Path(self._file).as_uri()}?mode={mode}"

    def _vanished(self, created: bool) -> str:
        how = "this app created it" if created else "it was there when this app opened it"
        return (
            f"the scenario store file {self._file} has disappeared ({how}); nothing was read or saved, and "
            "no new, empty store was made in its place. Put the file back (from a backup), or restart the app "
            "to start an empty store"
        )

    def _check_present(self) -> None:
        if not os.path.exists(self._file):
            raise StoreUnavailable(self._vanished(self.created_file))

    def _open(self) -> None:
        """Check the file, then upgrade its layout if it is older (or read it through views if it cannot
        be written)."""
        try:
            with self._connection() as con:
                problems = [str(row[0]) for row in con.execute("PRAGMA quick_check").fetchall()]
                version = self._layout_version(_SQLiteTx(con))
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise self._failure(exc, writing=False) from exc  # busy, say: not a reason to stop writing
            self._damage = self._damaged(str(exc))
            return
        if problems != ["ok"]:
            self._damage = self._damaged("; ".join(problems[:3]))
        if version > STORE_SCHEMA:
            raise StoreUnavailable(
                f"the scenario store file {self._file} was written by a newer version of the atlas (store "
                f"schema {version}; this one reads up to {STORE_SCHEMA}); it was left as it is"
            )
        if version == STORE_SCHEMA:
            return
        if self._write_refusal():
            self._temp_views = _SQLITE_V1_VIEWS if version == 1 else _SQLITE_EMPTY_VIEWS
            return
        with self._writing() as tx:
            found = self._layout_version(tx)  # again, now holding the write lock
            if found < STORE_SCHEMA:
                for statement in _SQLITE_MIGRATIONS[found]:
                    tx.run(statement)
                tx.run("INSERT INTO schema_meta (key, value) VALUES ('store_schema', ?)", (str(STORE_SCHEMA),))

    def _damaged(self, detail: str) -> str:
        return (
            f"the scenario store file {self._file} is damaged (SQLite's check says: {detail}); nothing more is "
            "written to it, so what it still holds is not made worse. Keep a copy of the file and restore one "
            "from a backup"
        )

    @staticmethod
    def _layout_version(tx: _Tx) -> int:
        tables = {str(row[0]) for row in tx.all("SELECT name FROM main.sqlite_master WHERE type = 'table'")}
        if "schema_meta" in tables:
            row = tx.one("SELECT value FROM main.schema_meta WHERE key = 'store_schema'")
            return int(row[0]) if row else 0
        return 1 if "scenario_versions" in tables else 0

    def _write_refusal(self) -> str:
        self._check_present()
        if self._damage:
            return self._damage
        if not os.access(self._file, os.W_OK):
            return (
                f"the scenario store file {self._file} is read-only, so nothing can be saved, duplicated, "
                "restored or deleted; saved scenarios can still be opened"
            )
        if not os.access(os.path.dirname(self._file), os.W_OK):
            return (
                f"the folder of the scenario store, {os.path.dirname(self._file)}, is read-only (SQLite writes a "
                "journal file beside the store while saving), so nothing can be saved; saved scenarios can "
                "still be opened"
            )
        return ""

    def _failure(self, exc: sqlite3.Error, *, writing: bool) -> StoreUnavailable:
        """A database error as a sentence (the file vanished, is read-only, busy, damaged, …)."""
        self._check_present()
        text = str(exc)
        outcome = "nothing was saved" if writing else "nothing could be read"
        if "readonly" in text.replace(" ", "") or "read-only" in text:
            return StoreReadOnly(f"the scenario store file {self._file} is read-only ({text}); {outcome}")
        if "locked" in text or "busy" in text:
            return StoreUnavailable(
                f"the scenario store file {self._file} stayed busy with another save for over "
                f"{self.busy_timeout:g} seconds; "
                f"{outcome}: try again"
            )
        if not self._damage and _is_damage(exc):
            self._damage = self._damaged(text)  # found while working: refuse every write from now on
            if writing:
                return StoreReadOnly(f"{self._damage} ({outcome})")
        if self._damage:
            return StoreUnavailable(f"{self._damage} ({text}; {outcome})")
        return StoreUnavailable(f"the scenario store file {self._file} could not be used ({text}); {outcome}")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        self._check_present()
        try:
            con = sqlite3.connect(self._uri("rw"), uri=True, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._failure(exc, writing=False) from exc
        try:
            for statement in self._temp_views:
                con.execute(statement)
            yield con
        finally:
            con.close()

    @contextmanager
    def _reading(self) -> Iterator[_Tx]:
        try:
            with self._connection() as con:
                con.execute("BEGIN")
                try:
                    yield _SQLiteTx(con)
                finally:
                    if con.in_transaction:
                        con.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise self._failure(exc, writing=False) from exc

    @contextmanager
    def _writing(self, *keys: tuple[str, str]) -> Iterator[_Tx]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all of a change or none of it. The file's
        write lock serialises every writer, so ``keys`` need no lock of their own."""
        refusal = self._write_refusal()
        if refusal:
            raise StoreReadOnly(refusal)
        try:
            with self._connection() as con:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield _SQLiteTx(con)
                except BaseException:
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._failure(exc, writing=True) from exc

    def _ts_param(self, moment: datetime) -> object:
        return _as_utc(moment).isoformat()

    def _ts_moment(self, value: object) -> datetime:
        return _as_utc(datetime.fromisoformat(str(value)))


def _settings(config: Mapping[str, str] | None) -> dict[str, str]:
    settings = dict(os.environ)
    settings.update(config or {})
    return settings


def open_store(config: Mapping[str, str] | str | os.PathLike[str] | None = None) -> ScenarioStore:
    """The configured store.

    ``config`` (else the environment) may set ``ATLAS_STORE_URL``: ``postgresql://…`` opens the PostgreSQL
    store (psycopg is imported only then), ``sqlite:////absolute/path`` or nothing opens the SQLite store at
    ``ATLAS_SCENARIO_DB`` or the default path. ``ATLAS_ADMINS`` lists admins' user ids, separated by commas.
    A path (or a URL) given directly, as ``open_store(path)``, is used as it is."""
    if isinstance(config, (str, os.PathLike)):
        given = os.fspath(config)
        is_url = given.startswith(("postgresql:", "postgres:", "sqlite:"))
        # a path given directly wins over ATLAS_STORE_URL in the environment
        config = {URL_ENV_VAR: given} if is_url else {URL_ENV_VAR: "", ENV_VAR: given}
    settings = _settings(config)
    admins = frozenset(part.strip() for part in settings.get(ADMINS_ENV_VAR, "").split(",") if part.strip())
    url = settings.get(URL_ENV_VAR, "").strip()
    if url.startswith(("postgresql://", "postgres://")):
        from coverage.planner.store_postgres import PostgresScenarioStore

        return PostgresScenarioStore(url, admins=admins)
    if url.startswith("sqlite:"):
        # as SQLAlchemy writes them: sqlite:////absolute/path, sqlite:///relative/path
        path = url.removeprefix("sqlite:").removeprefix("//").removeprefix("/")
        if not path:
            raise InputError("names no file (write sqlite:////path/to/scenarios.sqlite)", where=URL_ENV_VAR)
        return SQLiteScenarioStore(path, admins=admins)
    if url:
        scheme = url.split(":", 1)[0][:20]
        raise InputError(
            f"starts with '{scheme}:'; use postgresql://… for a server, or leave it unset for SQLite",
            where=URL_ENV_VAR,
        )
    return SQLiteScenarioStore(default_db_path(settings), admins=admins)
