"""The service register: its schema, loading and validation, and provision status per force.

The register (``data/services/register.csv``) holds one row per specialist stalking service,
placed by the police force areas it covers (never by address). Every row cites at least one
source in the sources registry ``data/sources.csv`` (:mod:`coverage.sources`) and carries a confidence (high/medium/low).

All functions are pure: data in, data out. Problems in a file raise
:class:`~coverage.errors.InputErrors`, one message per problem naming file, line and field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from coverage.errors import InputErrors
from coverage.export import FORMULA_TRIGGERS, csv_bytes, formula_like_cells
from coverage.sources import load_registry, unknown_source_message
from coverage.vocabulary import (
    CLASS_EARNING_TYPES,
    FORCE_CODE_PATTERN,
    SERVICE_TYPE_FLAG_COLUMNS,
    SERVICE_TYPE_KEYS,
)

STATUSES = ("active", "pilot", "ended", "unknown")
STATUS_LABELS = {"active": "Active", "pilot": "Pilot", "ended": "Ended", "unknown": "Status unknown"}

COVERAGES = ("force_wide", "partial", "national", "unknown")
COVERAGE_LABELS = {
    "force_wide": "Whole force area",
    "partial": "Part of the force area",
    "national": "National",
    "unknown": "Coverage unknown",
}

CONFIDENCES = ("high", "medium", "low")

REGISTER_COLUMNS = [
    "service_id",
    "force_codes",
    "service_type",
    "service_name",
    "provider",
    "coverage",
    "start_year",
    "end_year",
    "status",
    "funding",
    "source_ids",
    "confidence",
    "last_verified",
    "notes",
]
SOURCES_COLUMNS = ["source_id", "publisher", "title", "date", "url", "note"]

NATIONAL_FORCE_CODES = "ALL"
LIST_SEPARATOR = ";"
SERVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SOURCE_ID_PATTERN = re.compile(r"^[A-Z]+[0-9]+$")
LAST_VERIFIED_PATTERN = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
FIRST_YEAR, LAST_YEAR = 1990, 2100

MAX_ROWS = 5_000
MAX_BYTES = 20_000_000
# The longest cell of the published register is a note of under 1,000 characters; a cell ten times
# that is still a long paragraph. Checked per field, naming the line and the field.
MAX_FIELD_CHARS = 10_000
# Counted before the CSV is parsed, so a file of a million short lines is refused at memory speed.
# Ten lines a row on average leaves room for notes written over several lines.
MAX_LINES = 10 * MAX_ROWS

ALLOWED_CONTROL_CHARACTERS = "\t\n"

# Statuses under which a service still counts towards a force's provision class.
COUNTING_STATUSES = ("active", "pilot", "unknown")

PROVISION_RULES = [
    "Each force area takes the best class earned by one of its own local services, in this order: "
    "multi-agency stalking unit; multi-agency stalking clinic or panel; specialist stalking advocacy; "
    "a stalking perpetrator programme or a dedicated police stalking team or post.",
    "A service counts only if its status is active, pilot or unknown; a service that has ended never counts.",
    "A service whose status is unknown still counts, and the area is flagged 'status unknown' when a kind of "
    "provision rests only on such services.",
    "Education and prevention work (such as school assemblies), funding streams and local helplines never earn "
    "a class on their own.",
    "National services (force code ALL, such as the National Stalking Helpline, Paladin and the Alice Ruggles "
    "Trust) are open to every area and never change an area's class.",
    "An area is classed 'National services only' when it was searched but no counting local service was found: "
    "the register has a 'searched, nothing found' row for it, or only local rows that do not count.",
    "An area is classed 'Unknown' when the register has no local row for it at all, so nothing is claimed either way.",
    "'Nothing found' means the search found no evidence of a service; it is not proof that none exists.",
]


# ---------------------------------------------------------------------------------------------
# Row models


def _reject(reason: str) -> PydanticCustomError:
    # The reason travels in the context so braces in user data are never read as a template.
    return PydanticCustomError("register_value", "{reason}", {"reason": reason})


def _one_of(value: str, allowed: Sequence[str], field: str) -> str:
    if not value:
        raise _reject(f"{field} is missing; allowed: {', '.join(allowed)}")
    if value not in allowed:
        raise _reject(f"'{value}' is not an allowed {field}; allowed: {', '.join(allowed)}")
    return value


def _required(value: str, field: str) -> str:
    if not value:
        raise _reject(f"{field} is missing")
    return value


def split_list(cell: str) -> list[str]:
    """Items of a ';'-separated cell, stripped, blanks dropped."""
    return [item.strip() for item in cell.split(LIST_SEPARATOR) if item.strip()]


def _context(info: ValidationInfo, key: str) -> Collection[str] | None:
    return (info.context or {}).get(key)


class RegisterRow(BaseModel):
    """One validated register row. Values stay strings, exactly as written (lists normalised)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_id: str
    force_codes: str
    service_type: str
    service_name: str
    provider: str
    coverage: str
    start_year: str
    end_year: str
    status: str
    funding: str
    source_ids: str
    confidence: str
    last_verified: str
    notes: str

    @field_validator("service_id")
    @classmethod
    def _service_id(cls, value: str) -> str:
        _required(value, "service_id")
        if not SERVICE_ID_PATTERN.match(value):
            raise _reject(f"service_id '{value}' may contain only letters, digits, '-', '_' and '.'")
        return value

    @field_validator("force_codes")
    @classmethod
    def _force_codes(cls, value: str, info: ValidationInfo) -> str:
        if value == NATIONAL_FORCE_CODES:
            return value
        codes = split_list(value)
        if not codes:
            raise _reject("no force code given (ONS PFA codes separated by ';', or ALL for a national service)")
        if NATIONAL_FORCE_CODES in codes:
            raise _reject("ALL stands for a national service and cannot be combined with force codes")
        known = _context(info, "force_codes")
        for code in codes:
            if known is not None and code not in known:
                raise _reject(f"unknown force code '{code}'")
            if known is None and not FORCE_CODE_PATTERN.match(code):
                raise _reject(f"'{code}' is not an ONS police force area code such as E23000001")
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise _reject(f"force code '{repeated[0]}' is listed twice")
        return LIST_SEPARATOR.join(codes)

    @field_validator("service_type")
    @classmethod
    def _service_type(cls, value: str, info: ValidationInfo) -> str:
        _one_of(value, SERVICE_TYPE_KEYS, "service_type")
        if value == "none_found" and info.data.get("force_codes") == NATIONAL_FORCE_CODES:
            raise _reject("a none_found row records one area's search; it cannot have force_codes ALL")
        return value

    @field_validator("service_name")
    @classmethod
    def _service_name(cls, value: str) -> str:
        return _required(value, "service_name")

    @field_validator("coverage")
    @classmethod
    def _coverage(cls, value: str, info: ValidationInfo) -> str:
        _one_of(value, COVERAGES, "coverage")
        force_codes = info.data.get("force_codes")
        if force_codes == NATIONAL_FORCE_CODES and value in ("force_wide", "partial"):
            raise _reject(f"coverage '{value}' contradicts force_codes ALL; use national or unknown")
        if force_codes not in (None, NATIONAL_FORCE_CODES) and value == "national":
            raise _reject("coverage 'national' needs force_codes ALL")
        return value

    @field_validator("start_year", "end_year")
    @classmethod
    def _year(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        if not value.isascii() or not value.isdigit():
            raise _reject(f"'{value}' is not a whole year such as 2019 (leave blank if unknown)")
        if not FIRST_YEAR <= int(value) <= LAST_YEAR:
            raise _reject(f"year {value} is outside {FIRST_YEAR}-{LAST_YEAR}")
        start = info.data.get("start_year")
        if info.field_name == "end_year" and start and int(value) < int(start):
            raise _reject(f"end_year {value} is before start_year {start}")
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        return _one_of(value, STATUSES, "status")

    @field_validator("source_ids")
    @classmethod
    def _source_ids(cls, value: str, info: ValidationInfo) -> str:
        ids = split_list(value)
        if not ids:
            raise _reject("no source id given; every row needs at least one source")
        known = _context(info, "source_ids")
        for source_id in ids:
            if known is not None and source_id not in known:
                raise _reject(unknown_source_message(source_id, known) + "; not in data/sources.csv")
        repeated = sorted({source_id for source_id in ids if ids.count(source_id) > 1})
        if repeated:
            raise _reject(f"source id '{repeated[0]}' is listed twice")
        return LIST_SEPARATOR.join(ids)

    @field_validator("confidence")
    @classmethod
    def _confidence(cls, value: str) -> str:
        return _one_of(value, CONFIDENCES, "confidence")

    @field_validator("last_verified")
    @classmethod
    def _last_verified(cls, value: str) -> str:
        if not value:
            raise _reject("last_verified is missing (YYYY-MM or YYYY-MM-DD)")
        match = LAST_VERIFIED_PATTERN.match(value)
        try:
            if not match:
                raise ValueError
            year, month, day = match.groups()
            dt.date(int(year), int(month), int(day or 1))
        except ValueError:
            raise _reject(f"'{value}' is not a date in the form YYYY-MM or YYYY-MM-DD") from None
        if not FIRST_YEAR <= int(year) <= LAST_YEAR:
            raise _reject(f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}")
        return value


class SourceRow(BaseModel):
    """One validated row of the sources table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_id: str
    publisher: str
    title: str
    date: str
    url: str
    note: str

    @field_validator("source_id")
    @classmethod
    def _source_id(cls, value: str) -> str:
        _required(value, "source_id")
        if not SOURCE_ID_PATTERN.match(value):
            raise _reject(f"source_id '{value}' should be capital letters then digits, such as S050")
        return value

    @field_validator("publisher", "title", "date")
    @classmethod
    def _text(cls, value: str, info: ValidationInfo) -> str:
        return _required(value, info.field_name or "value")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        # Only web links: a renderer may turn this into <a href>, so no javascript: or data: URLs.
        if value and not re.match(r"^https?://\S+$", value):
            raise _reject(f"'{value}' is not a single http(s) web address")
        return value


# ---------------------------------------------------------------------------------------------
# Reading and validating tables


@dataclass(frozen=True)
class _TableSpec:
    columns: list[str]
    model: type[BaseModel]
    id_field: str
    kind: str


_REGISTER_SPEC = _TableSpec(REGISTER_COLUMNS, RegisterRow, "service_id", "service register")
_SOURCES_SPEC = _TableSpec(SOURCES_COLUMNS, SourceRow, "source_id", "sources table")

# A record is (CSV line number where it starts, {column: raw value}).
_Record = tuple[int, dict[str, Any]]

# What a CSV loader reads: a path, the file's bytes, or an open (binary or text) file.
CsvSource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | IO[str]


def _read_bytes(source: CsvSource, name: str) -> bytes | str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as file:
                return file.read(MAX_BYTES + 1)
        except OSError as error:
            raise InputErrors([f"{name}: cannot be read ({error.strerror or error})"]) from None
    if hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        return source.read(MAX_BYTES + 1)
    raise TypeError(f"expected a path, bytes or a file-like object, got {type(source).__name__}")


def _decode(data: bytes | str, name: str) -> str:
    if len(data) > MAX_BYTES:
        raise InputErrors([f"{name}: file is larger than {MAX_BYTES // 1_000_000} MB; is this the right file?"])
    if isinstance(data, str):
        return data
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark: read it as such
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputErrors([f"{name}: is UTF-16 text that cannot be read; save it as 'CSV UTF-8'"]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputErrors(
            [f"{name} line {line}: is not UTF-8 text (undecodable byte); save it as 'CSV UTF-8'"]
        ) from None


def _describe_columns(columns: Iterable[str]) -> str:
    return ", ".join(f"'{column[:60]}{'…' if len(column) > 60 else ''}'" for column in columns)


def _check_header(header: list[str], spec: _TableSpec, name: str) -> list[str]:
    expected = spec.columns
    if not set(header) & set(expected):
        return [
            f"{name} line 1: does not look like the {spec.kind} (no expected column in the header); "
            f"expected columns: {', '.join(expected)}"
        ]
    problems = []
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        problems.append(f"{name} line 1: column(s) {_describe_columns(repeated)} appear more than once")
    missing = [column for column in expected if column not in header]
    if missing:
        problems.append(f"{name} line 1: missing column(s) {_describe_columns(missing)}")
    extra = [column for column in header if column not in expected]
    if extra:
        problems.append(
            f"{name} line 1: unexpected column(s) {_describe_columns(extra)}; allowed: {', '.join(expected)}"
        )
    return problems


def _too_many_rows(count: int, name: str) -> InputErrors:
    return InputErrors([f"{name}: has more than {MAX_ROWS:,} rows ({count:,} or more); the limit is {MAX_ROWS:,}"])


_LINE_END = re.compile(r"\r\n|\r|\n")
# One CSV field: quoted (with "" for a quote inside) or plain. Used only to say which field was too
# long when the csv module stopped at its own limit (csv.field_size_limit, 131,072 characters).
# Possessive quantifiers: a quote never closed fails at once instead of backtracking through the file.
_CSV_FIELD = re.compile(r'"[^"]*+(?:""[^"]*+)*+"|[^,"\r\n]*+')


def _count_lines(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1


def _long_field(text: str, line: int, header: list[str] | None) -> str:
    """Which field of the record that starts on ``line`` is longer than MAX_FIELD_CHARS, by name."""
    position = 0
    for _ in range(line - 1):  # to the start of the line, never past it (the field may run for megabytes)
        end = _LINE_END.search(text, position)
        if end is None:
            break
        position = end.end()
    index = 0
    while position <= len(text):
        # Matched only as far as the limit: a longer field reaches the window's end, and a quoted one
        # finds no closing quote within it. The work stays bounded however long the field is.
        match = _CSV_FIELD.match(text, position, position + MAX_FIELD_CHARS + 2)
        if match is None:  # unreachable: the pattern matches the empty string
            break
        unclosed = match.end() == position and text[position : position + 1] == '"'
        if unclosed or match.end() - position > MAX_FIELD_CHARS:
            if header is None:
                return f"field {index + 1} of the header"
            return f"field '{header[index]}'" if index < len(header) else f"field {index + 1}"
        position = match.end()
        if text[position : position + 1] != ",":
            break
        position, index = position + 1, index + 1
    return "a field"


def _too_long(name: str, line: int, field: str, length: int | None = None) -> str:
    size = f"is {length:,} characters long" if length is not None else "is too long"
    return f"{name} line {line}, {field}: {size}; the limit is {MAX_FIELD_CHARS:,} characters"


def _parse_csv(source: CsvSource, spec: _TableSpec, name: str) -> list[_Record]:
    empty = InputErrors([f"{name}: the file is empty; expected a header line with {', '.join(spec.columns)}"])
    text = _decode(_read_bytes(source, name), name)
    if not text.strip():
        raise empty
    lines = _count_lines(text)
    if lines > MAX_LINES:
        raise InputErrors(
            [
                f"{name}: has {lines:,} lines; the limit is {MAX_LINES:,} (at most {MAX_ROWS:,} rows, some on several lines)"
            ]
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[_Record] = []
    problems: list[str] = []
    header: list[str] | None = None
    line = 0
    try:
        for fields in reader:
            start_line, line = line + 1, reader.line_num
            if not fields or all(not field.strip() for field in fields):
                continue
            long_fields = [(index, len(field)) for index, field in enumerate(fields) if len(field) > MAX_FIELD_CHARS]
            if long_fields:
                index, length = long_fields[0]
                column = header[index] if header is not None and index < len(header) else None
                where = f"field '{column}'" if column else f"field {index + 1}"
                if header is None:
                    raise InputErrors([_too_long(name, start_line, f"{where} of the header", length)])
                problems.append(_too_long(name, start_line, where, length))
                continue
            if header is None:
                header = [field.strip() for field in fields]
                header_problems = _check_header(header, spec, name)
                if header_problems:
                    raise InputErrors(header_problems)
                continue
            if len(fields) != len(header):
                problems.append(
                    f"{name} line {start_line}: has {len(fields)} field(s) but the header has {len(header)}"
                )
                continue
            records.append((start_line, dict(zip(header, fields))))
            if len(records) > MAX_ROWS:
                raise _too_many_rows(len(records), name)
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            # The csv module's own limit (far above MAX_FIELD_CHARS) stopped it inside the field.
            problems.append(_too_long(name, line + 1, _long_field(text, line + 1, header)))
            raise InputErrors(problems) from None
        raise InputErrors([f"{name} line {line + 1}: is not a readable CSV ({error})"]) from None
    if header is None:
        raise empty
    if problems:
        raise InputErrors(problems)
    return records


def _frame_records(frame: pd.DataFrame, spec: _TableSpec, name: str) -> list[_Record]:
    header = [str(column).strip() for column in frame.columns]
    header_problems = _check_header(header, spec, name)
    if header_problems:
        raise InputErrors(header_problems)
    if len(frame) > MAX_ROWS:
        raise _too_many_rows(len(frame), name)
    rows = frame.to_dict(orient="records")
    # Line numbers as if the frame were written to CSV with a header on line 1.
    return [(index + 2, {str(k).strip(): v for k, v in row.items()}) for index, row in enumerate(rows)]


def _clean_cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(value).replace("\r\n", "\n").strip()
    # A downloaded register carries '=… for a cell that began with = + - @ (neutralise_formula); reading it
    # back takes that one quote off, so downloading and uploading again changes nothing.
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def _control_character(text: str) -> str | None:
    for character in text:
        if unicodedata.category(character) == "Cc" and character not in ALLOWED_CONTROL_CHARACTERS:
            return character
    return None


def _validate_records(
    records: list[_Record], spec: _TableSpec, name: str, context: Mapping[str, Collection[str]]
) -> pd.DataFrame:
    problems: list[str] = []
    rows: list[dict[str, str]] = []
    first_line_of_id: dict[str, int] = {}
    for line, raw in records:
        where = f"{name} line {line}"
        cells = {column: _clean_cell(raw.get(column)) for column in spec.columns}
        bad_characters = False
        for column, text in cells.items():
            character = _control_character(text)
            if character is not None:
                problems.append(
                    f"{where}, field '{column}': contains control character U+{ord(character):04X}; "
                    "only tab and newline are allowed"
                )
                bad_characters = True
        if bad_characters:
            continue
        try:
            row = spec.model.model_validate(cells, context=context)
        except ValidationError as error:
            for detail in error.errors():
                field = detail["loc"][0] if detail["loc"] else "row"
                problems.append(f"{where}, field '{field}': {detail['msg']}")
            continue
        row_id = getattr(row, spec.id_field)
        if row_id in first_line_of_id:
            problems.append(
                f"{where}, field '{spec.id_field}': duplicate {spec.id_field} '{row_id}' "
                f"(first used on line {first_line_of_id[row_id]})"
            )
            continue
        first_line_of_id[row_id] = line
        rows.append(row.model_dump())
    if problems:
        raise InputErrors(problems)
    return pd.DataFrame({column: pd.Series([row[column] for row in rows], dtype="str") for column in spec.columns})


def validate_sources(frame: pd.DataFrame, *, name: str = "sources.csv") -> pd.DataFrame:
    """Validate a sources table held in a DataFrame (e.g. built in code); returns the clean table."""
    return _validate_records(_frame_records(frame, _SOURCES_SPEC, name), _SOURCES_SPEC, name, {})


def _known_source_ids(source_ids: Collection[str] | None) -> frozenset[str]:
    return frozenset(load_registry() if source_ids is None else source_ids)


def validate_register(
    frame: pd.DataFrame,
    *,
    force_codes: Collection[str],
    source_ids: Collection[str] | None = None,
    name: str = "register.csv",
) -> pd.DataFrame:
    """Validate a register held in a DataFrame (e.g. from a table editor); returns the clean table.

    Row *i* of the frame is reported as line *i + 2*, as if written to CSV under a header.
    ``source_ids`` are the citable ids; by default those of the sources registry, ``data/sources.csv``.
    """
    context = {"force_codes": frozenset(force_codes), "source_ids": _known_source_ids(source_ids)}
    return _validate_records(_frame_records(frame, _REGISTER_SPEC, name), _REGISTER_SPEC, name, context)


def load_register(
    source: CsvSource,
    *,
    force_codes: Collection[str],
    source_ids: Collection[str] | None = None,
    name: str = "register.csv",
) -> pd.DataFrame:
    """Read and validate a register CSV (path, bytes or file-like) into a table of strings.

    Every value is kept as text (years too, blank meaning unknown), stripped of surrounding
    whitespace; text such as ``<script>`` is data and is kept: escaping is the renderer's job.
    ``force_codes`` are the known ONS PFA codes, ``source_ids`` the citable ids: by default those of the
    sources registry (``data/sources.csv``). A row citing an unknown id is refused, naming its line and the
    field ``source_ids`` (and the id it probably meant).
    Raises InputErrors naming file, line and field for every problem found.
    """
    context = {"force_codes": frozenset(force_codes), "source_ids": _known_source_ids(source_ids)}
    register = _validate_records(_parse_csv(source, _REGISTER_SPEC, name), _REGISTER_SPEC, name, context)
    if register.empty:
        # Used as it is, it would turn every force area into "unknown" without a word.
        raise InputErrors([f"{name}: has the header but no rows; a register lists at least one service"])
    return register


@dataclass(frozen=True)
class CheckedUpload:
    """An uploaded register, checked: the clean table and every cell a spreadsheet would read as a formula."""

    register: pd.DataFrame
    formula_cells: pd.DataFrame


def check_upload(
    content: bytes,
    *,
    force_codes: Collection[str],
    source_ids: Collection[str] | None = None,
    name: str = "register.csv",
) -> CheckedUpload:
    """The parsing and checking an uploaded register costs, in one call that takes and returns plain
    data, so a page can run it once per upload in a worker process (arguments and result pickle).

    Raises InputErrors as :func:`load_register` does."""
    register = load_register(content, force_codes=force_codes, source_ids=source_ids, name=name)
    return CheckedUpload(register, formula_like_cells(register))


# ---------------------------------------------------------------------------------------------
# Export


def export_register_csv(df: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV bytes (with BOM, so spreadsheets read '£' right), formulas neutralised.

    For people to download; the shipped data file is written without neutralising.
    """
    return csv_bytes(df.map(_clean_cell))


# ---------------------------------------------------------------------------------------------
# Provision per force


def short_service_name(service_name: str) -> str:
    """The name before any ' - ' explanation, for compact lists."""
    return service_name.split(" - ", 1)[0].strip()


def _covers(force_codes_cell: str, code: str) -> bool:
    return code in split_list(force_codes_cell)


@dataclass(frozen=True)
class _ForceProvision:
    """What the register says about one force area (local rows only)."""

    code: str
    provision_class: str
    earning_names: tuple[str, ...]
    counting_types: frozenset[str]
    status_unknown_types: tuple[str, ...]
    class_status_unknown: bool
    searched: bool


# The columns provision is worked out from. Per force, the work is done on plain records: filtering the
# register's Arrow-backed frame 86 times cost a quarter to three quarters of a second of a first visit.
_PROVISION_COLUMNS = ["force_codes", "status", "service_type", "service_name"]


def _provision_records(register: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {str(column): str(value) for column, value in record.items()}
        for record in register[_PROVISION_COLUMNS].to_dict("records")
    ]


def _force_provision(records: Sequence[Mapping[str, str]], code: str) -> _ForceProvision:
    local = [r for r in records if r["force_codes"] != NATIONAL_FORCE_CODES and _covers(r["force_codes"], code)]
    counting = [r for r in local if r["status"] in COUNTING_STATUSES]
    counting_types = frozenset(r["service_type"] for r in counting)
    # Types present among counting rows only through rows whose status is unknown.
    unknown_only = tuple(
        service_type
        for service_type in SERVICE_TYPE_FLAG_COLUMNS
        if service_type in counting_types
        and all(r["status"] == "unknown" for r in counting if r["service_type"] == service_type)
    )
    provision_class = "national_only" if local else "unknown"
    earning: list[str] = []
    class_status_unknown = False
    for candidate_class, earning_types in CLASS_EARNING_TYPES:
        rows = [r for r in counting if r["service_type"] in earning_types]
        if rows:
            provision_class, earning = candidate_class, [r["service_name"] for r in rows]
            class_status_unknown = all(r["status"] == "unknown" for r in rows)
            break
    return _ForceProvision(
        code=code,
        provision_class=provision_class,
        earning_names=tuple(earning),
        counting_types=counting_types,
        status_unknown_types=unknown_only,
        class_status_unknown=class_status_unknown,
        searched=bool(local),
    )


def provision_by_force(register: pd.DataFrame, force_codes: Sequence[str]) -> pd.DataFrame:
    """Provision class of each force area, from the best local service the register holds for it.

    Classes, best first (``PROVISION_CLASSES``), each earned by a local service (not force code ALL)
    whose status is active, pilot or unknown:

    - ``multi_agency_unit``: a multi-agency stalking unit;
    - ``clinic_or_panel``: otherwise, a multi-agency stalking clinic or panel;
    - ``advocacy``: otherwise, specialist stalking advocacy;
    - ``other_local``: otherwise, a stalking perpetrator programme or a dedicated police team or post;
    - ``national_only``: otherwise, if the area was searched: it has a ``none_found`` row or only local
      rows that do not count (ended services, education, funding streams, local helplines);
    - ``unknown``: otherwise; no local row at all, so nothing is claimed either way.

    Ended services never count; education and funding-stream rows never earn a class; national rows
    (force code ``ALL``) are open to every area and never change a class. "Nothing found" is absence
    of evidence, not evidence of absence.

    Returns one row per code, in the order given, with columns ``code``, ``provision_class``,
    ``units`` (short names of the services that earned the class, joined by "; ") and
    ``n_services`` (how many services earned it; 0 for national_only and unknown).
    """
    rows = []
    records = _provision_records(register)
    for code in force_codes:
        found = _force_provision(records, code)
        short_names = list(dict.fromkeys(short_service_name(name) for name in found.earning_names))
        rows.append(
            {
                "code": code,
                "provision_class": found.provision_class,
                "units": "; ".join(short_names),
                "n_services": len(found.earning_names),
            }
        )
    result = pd.DataFrame(rows, columns=["code", "provision_class", "units", "n_services"])
    return result.astype({"n_services": "int64"})


PROVISION_FLAGS_COLUMNS = [
    "code",
    *SERVICE_TYPE_FLAG_COLUMNS.values(),
    "searched",
    "provision_class",
    "status_unknown_types",
    "class_status_unknown",
]


def provision_flags(register: pd.DataFrame, force_codes: Sequence[str]) -> pd.DataFrame:
    """One row per force area: which kinds of local provision it has, and its class.

    Columns (``PROVISION_FLAGS_COLUMNS``):

    - ``has_multi_agency_unit``, ``has_clinic_or_panel``, ``has_advocacy``,
      ``has_perpetrator_programme``, ``has_police_team``: a local row of that service type
      (multi_agency_unit, stalking_clinic, advocacy, perpetrator_programme, police_team) counts,
      i.e. its status is active, pilot or unknown;
    - ``searched``: the register has any local row for the area (a ``none_found`` row included);
    - ``provision_class``: as :func:`provision_by_force`;
    - ``status_unknown_types``: the service types (the local types, in ``vocabulary.SERVICE_TYPES`` order,
      joined by ";") that count only through rows whose status is unknown, so a page can flag them
      "status unknown"; empty if none;
    - ``class_status_unknown``: the class rests only on services whose status is unknown.

    National rows never set a flag.
    """
    rows = []
    records = _provision_records(register)
    for code in force_codes:
        found = _force_provision(records, code)
        row: dict[str, object] = {"code": code}
        for service_type, column in SERVICE_TYPE_FLAG_COLUMNS.items():
            row[column] = service_type in found.counting_types
        row.update(
            searched=found.searched,
            provision_class=found.provision_class,
            status_unknown_types=LIST_SEPARATOR.join(found.status_unknown_types),
            class_status_unknown=found.class_status_unknown,
        )
        rows.append(row)
    result = pd.DataFrame(rows, columns=PROVISION_FLAGS_COLUMNS)
    bool_columns = [*SERVICE_TYPE_FLAG_COLUMNS.values(), "searched", "class_status_unknown"]
    return result.astype(dict.fromkeys(bool_columns, "bool"))


def services_for_force(register: pd.DataFrame, code: str, include_national: bool = True) -> pd.DataFrame:
    """Register rows that cover one force area: its local rows first, then national ones."""
    cells = register["force_codes"].tolist()
    local = [i for i, cell in enumerate(cells) if cell != NATIONAL_FORCE_CODES and _covers(cell, code)]
    national = [i for i, cell in enumerate(cells) if cell == NATIONAL_FORCE_CODES] if include_national else []
    # One selection, not a concatenation of two: pandas keeps a concatenation's Arrow columns in two
    # chunks, and every later filter of a two-chunk string column cost about 12 ms (pyarrow 26), 0.17 s
    # of each briefing pack.
    return register.iloc[local + national].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Comparing two versions of the register


REGISTER_DIFF_COLUMNS = ["change", "service_id", "field", "old", "new"]
_CHANGE_ORDER = {"removed": 0, "added": 1, "changed": 2}


def _keyed_rows(frame: pd.DataFrame, which: str) -> dict[str, dict[str, str]]:
    if "service_id" not in frame.columns:
        raise ValueError(f"the {which} register has no service_id column")
    rows: dict[str, dict[str, str]] = {}
    for record in frame.to_dict(orient="records"):
        service_id = _clean_cell(record["service_id"])
        if not service_id:
            raise ValueError(f"the {which} register has a row without a service_id")
        if service_id in rows:
            raise ValueError(f"the {which} register lists service_id '{service_id}' more than once")
        rows[service_id] = {str(column): _clean_cell(value) for column, value in record.items()}
    return rows


def register_diff(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """What changed between two versions of the register, keyed on ``service_id``.

    One row per removed or added service (``field`` blank; ``old`` or ``new`` holds its service
    name) and, for a service in both, one row per field whose value differs (``change`` =
    "changed"). Values are compared as stripped text, so 2019 and "2019" are equal and a blank
    cell equals a missing one. A column present in only one version counts as blank in the other.
    Rows are ordered by service_id, then removed, added, changed, then field in register order.
    Columns: ``REGISTER_DIFF_COLUMNS`` (change, service_id, field, old, new). A missing or
    repeated service_id raises ValueError.
    """
    before, after = _keyed_rows(old, "old"), _keyed_rows(new, "new")
    extra = [str(c) for c in [*old.columns, *new.columns] if str(c) not in REGISTER_COLUMNS]
    fields = [c for c in REGISTER_COLUMNS if c != "service_id"] + list(dict.fromkeys(extra))
    rows: list[dict[str, str]] = []
    for service_id in sorted(set(before) | set(after)):
        if service_id not in after:
            name = before[service_id].get("service_name", "")
            rows.append({"change": "removed", "service_id": service_id, "field": "", "old": name, "new": ""})
        elif service_id not in before:
            name = after[service_id].get("service_name", "")
            rows.append({"change": "added", "service_id": service_id, "field": "", "old": "", "new": name})
        else:
            for field in fields:
                was, now = before[service_id].get(field, ""), after[service_id].get(field, "")
                if was != now:
                    rows.append({"change": "changed", "service_id": service_id, "field": field, "old": was, "new": now})
    rows.sort(key=lambda row: (row["service_id"], _CHANGE_ORDER[row["change"]]))
    return (
        pd.DataFrame(rows, columns=REGISTER_DIFF_COLUMNS, dtype="str")
        if rows
        else pd.DataFrame({column: pd.Series([], dtype="str") for column in REGISTER_DIFF_COLUMNS})
    )
