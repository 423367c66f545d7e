"""The atlas's one sources registry, ``data/sources.csv``: every source cited anywhere, by id.

The service register (``R001``, ``S…``, ``V…``), the scenario presets (``P…``, ``S…``) and the
indicator tables (``D…``, ``S145``) all cite ids from this one file. ``atlas build-data`` writes it
(``coverage/build/sources.py``); nothing at run time edits it.

Columns: ``id, publisher, title, date, url, note, used_for``. ``used_for`` is a ``;`` list of
``register``, ``planner`` and ``indicators`` saying which parts of the atlas cite the source.

Pure functions: no Streamlit, nothing read but the file named.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from coverage import paths
from coverage.errors import InputError, InputErrors

SOURCES_CSV = paths.SOURCES_CSV
SOURCE_ID_PATTERN = re.compile(r"^[A-Z]\d{3}$")
REGISTRY_COLUMNS = ("id", "publisher", "title", "date", "url", "note", "used_for")
USES = ("register", "planner", "indicators")
LIST_SEPARATOR = ";"
# The sources table the pages show (AtlasData.sources): the registry with the register's column name.
SOURCES_TABLE_COLUMNS = ["source_id", "publisher", "title", "date", "url", "note", "used_for"]

_REQUIRED = ("publisher", "title", "date")
_ID_IN_TEXT = re.compile(r"\b[A-Z]\d{3}\b")
_URL = re.compile(r"^https?://\S+$")
_ALLOWED_CONTROL_CHARACTERS = "\t\n"


@dataclass(frozen=True)
class Source:
    """One source: who published what, when, where it is, a note, and which parts of the atlas cite it."""

    id: str
    publisher: str
    title: str
    date: str
    url: str
    note: str
    used_for: tuple[str, ...]


def _problems_in_row(line: int, row: Mapping[str, str], name: str) -> list[str]:
    where = f"{name} line {line}"
    problems = []
    for column in REGISTRY_COLUMNS:
        bad = [c for c in row[column] if ord(c) < 32 and c not in _ALLOWED_CONTROL_CHARACTERS]
        if bad:
            problems.append(f"{where}, field '{column}': contains control character U+{ord(bad[0]):04X}")
    if not SOURCE_ID_PATTERN.match(row["id"]):
        problems.append(
            f"{where}, field 'id': '{row['id']}' is not a source id (a capital letter and three digits, such as S050)"
        )
    for column in _REQUIRED:
        if not row[column]:
            problems.append(f"{where}, field '{column}': {column} is missing")
    if row["url"] and not _URL.match(row["url"]):
        problems.append(f"{where}, field 'url': '{row['url']}' is not a single http(s) web address")
    uses = [use.strip() for use in row["used_for"].split(LIST_SEPARATOR) if use.strip()]
    if not uses:
        problems.append(f"{where}, field 'used_for': give at least one of {', '.join(USES)}")
    for use in uses:
        if use not in USES:
            problems.append(f"{where}, field 'used_for': '{use}' is not one of {', '.join(USES)}")
    if len(set(uses)) != len(uses):
        problems.append(f"{where}, field 'used_for': a use is listed twice")
    return problems


def parse_registry(text: str, *, name: str = "sources.csv") -> dict[str, Source]:
    """Read registry CSV text into sources by id, in file order.

    Raises InputErrors naming file, line and field for every problem: a wrong header, an id not of the
    form ``S050``, a duplicate id, a missing publisher/title/date, a URL that is not one http(s) address,
    an unknown or missing ``used_for``.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = list(reader.fieldnames or [])
    if header != list(REGISTRY_COLUMNS):
        raise InputErrors(
            [f"{name} line 1: the header should be {','.join(REGISTRY_COLUMNS)}; found {','.join(header) or 'nothing'}"]
        )
    registry: dict[str, Source] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    end_of_previous = reader.line_num
    for record in reader:
        line, end_of_previous = end_of_previous + 1, reader.line_num  # a record's first line
        if None in record or any(value is None for value in record.values()):
            problems.append(f"{name} line {line}: expected {len(REGISTRY_COLUMNS)} fields")
            continue
        row = {column: (record[column] or "").strip() for column in REGISTRY_COLUMNS}
        row_problems = _problems_in_row(line, row, name)
        if row["id"] in first_line:
            row_problems.append(
                f"{name} line {line}, field 'id': duplicate id '{row['id']}' (first used on line {first_line[row['id']]})"
            )
        if row_problems:
            problems += row_problems
            continue
        first_line[row["id"]] = line
        uses = [use.strip() for use in row["used_for"].split(LIST_SEPARATOR) if use.strip()]
        registry[row["id"]] = Source(
            id=row["id"],
            publisher=row["publisher"],
            title=row["title"],
            date=row["date"],
            url=row["url"],
            note=row["note"],
            used_for=tuple(sorted(uses, key=USES.index)),
        )
    if not registry and not problems:
        problems.append(f"{name}: has the header but no sources")
    if problems:
        raise InputErrors(problems)
    return registry


@functools.lru_cache(maxsize=8)
def load_registry(path: Path = SOURCES_CSV) -> Mapping[str, Source]:
    """The registry at ``path`` (default ``data/sources.csv``), read once per path; read-only."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("not found; the sources registry is written by `atlas build-data`", where=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", where=str(path)) from None
    return MappingProxyType(parse_registry(text, name=path.name))


def _known(registry: Mapping[str, Source] | None) -> Mapping[str, Source]:
    return load_registry() if registry is None else registry


def unknown_source_ids(ids: Iterable[str], registry: Mapping[str, Source] | None = None) -> list[str]:
    """The ids (sorted, each once) that are not in the registry (default: the shipped one)."""
    known = _known(registry)
    return sorted({source_id for source_id in ids if source_id not in known})


def suggest_source_id(source_id: str, known: Iterable[str]) -> str | None:
    """The registry id a mistyped one probably meant: 'S99' or 's099' → 'S099'; else the closest id."""
    known = list(known)
    match = re.match(r"^\s*([A-Za-z])\s*0*(\d{1,3})\s*$", source_id)
    if match:
        padded = f"{match[1].upper()}{int(match[2]):03d}"
        if padded in known and padded != source_id:
            return padded
    close = difflib.get_close_matches(source_id.strip().upper(), known, n=1, cutoff=0.75)
    return close[0] if close and close[0] != source_id else None


def unknown_source_message(source_id: str, known: Iterable[str]) -> str:
    """``unknown source id 'S99' (did you mean 'S099'?)``, the hint only when there is a near id."""
    hint = suggest_source_id(source_id, known)
    return f"unknown source id '{source_id}'" + (f" (did you mean '{hint}'?)" if hint else "")


def check_source_ids(ids: Iterable[str], *, field: str, registry: Mapping[str, Source] | None = None) -> None:
    """Raise InputError naming ``field`` and each unknown id (with the near id it probably meant)."""
    known = _known(registry)
    unknown = unknown_source_ids(ids, known)
    if unknown:
        raise InputError(
            f"{field}: " + "; ".join(unknown_source_message(sid, known) for sid in unknown), where="sources"
        )


def source_ids_in_text(text: str) -> list[str]:
    """Every id (``S054``, ``P003``…) mentioned in free text, each once, in order of first mention."""
    return list(dict.fromkeys(_ID_IN_TEXT.findall(text)))


def sources_table(registry: Mapping[str, Source]) -> pd.DataFrame:
    """The registry as a table of strings (``source_id`` … ``used_for``, uses joined by ';'), in id order."""
    rows = [
        [s.id, s.publisher, s.title, s.date, s.url, s.note, LIST_SEPARATOR.join(s.used_for)]
        for s in sorted(registry.values(), key=lambda s: s.id)
    ]
    return pd.DataFrame(rows, columns=SOURCES_TABLE_COLUMNS, dtype="str")
