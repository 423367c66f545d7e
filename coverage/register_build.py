"""Build the shipped service register and sources table from the research draft.

Inputs (in the research directory, read only at build time):

- ``service_register_draft.csv``: one row per service found, by force name;
- ``services_and_demand.md``: the research write-up, whose "Numbered source list" gives every
  source cited by an id such as ``S050``.

This first version takes only the multi-agency stalking units and clinics from the draft; other
service types (advocacy, perpetrator programmes, police posts, national services) come later.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from .errors import InputErrors
from .services import (
    NATIONAL_FORCE_CODES,
    REGISTER_COLUMNS,
    SOURCES_COLUMNS,
    split_list,
    validate_register,
    validate_sources,
)

DRAFT_REGISTER_FILE = "service_register_draft.csv"
RESEARCH_REPORT_FILE = "services_and_demand.md"
SOURCE_LIST_HEADING = "## Numbered source list"

DRAFT_COLUMNS = [
    "force_name",
    "service_type",
    "service_name",
    "provider",
    "coverage",
    "start_year",
    "end_year",
    "status",
    "source_id",
    "confidence",
]
DRAFT_NATIONAL_FORCE_NAME = "All forces (national)"
# Every draft type must be listed, so a new or misspelt type is an error rather than silently dropped.
DRAFT_SERVICE_TYPES = {
    "masip": "multi_agency_unit",
    "stalking_clinic": "stalking_clinic",
    "isac": None,
    "perpetrator_programme": None,
    "helpline": None,
    "other": None,
}
DRAFT_COVERAGES = {"full": "force_wide", "partial": "partial", "national": "national", "": "unknown"}

# Names people use that differ from the ONS name by more than case, spacing or "&"/"and".
FORCE_NAME_ALIASES = {"City of London": "London, City of"}
# The research says City of London was "not searched in depth", so it gets no row at all
# and stays "unknown" on the map instead of claiming that nothing was found.
NOT_SEARCHED_FORCE_NAMES = ("City of London",)

# The draft has no per-row verification date; its latest source is dated 3 Feb 2026.
RESEARCH_LAST_VERIFIED = "2026-02"
RESEARCH_SEARCH_SOURCE = {
    "source_id": "R001",
    "publisher": "Stalking Provision Atlas research draft",
    "title": "Services and demand by police force area, table A (force-by-force search)",
    "date": "early 2026 (latest source seen dated 3 Feb 2026)",
    "url": "",
    "note": "the search behind every 'none found' row; its absence of evidence is not evidence of absence",
}
NONE_FOUND_NAME = "No multi-agency stalking unit or clinic found in the research search"
NONE_FOUND_NOTE = "Only multi-agency units and clinics are in this version of the register; other local services may exist."

_SOURCE_LINE = re.compile(
    r"^(?P<number>\d+)\.\s+\((?P<source_id>[A-Z]+\d+)\)\s+(?P<publisher>.+?)\s+-\s+"
    r"\*(?P<title>.+)\*\s+-\s+(?P<date>.+?)\s+-\s+(?P<links>(?:https?://|\(URL not captured\)).*)$"
)
_URL_NOT_CAPTURED = "(URL not captured)"
_URLS = re.compile(r"^(?P<urls>https?://\S+(?:\s+;\s+https?://\S+)*)\s*(?P<rest>.*)$")


# ---------------------------------------------------------------------------------------------
# Force names


def _name_key(name: str) -> str:
    return " ".join(name.replace("&", " and ").casefold().split())


def force_name_index(forces: pd.DataFrame) -> dict[str, str]:
    """Lookup key → force code, from the ``name`` (and ``ons_name``, if present) columns."""
    index: dict[str, str] = {}
    for column in ("name", "ons_name"):
        if column in forces.columns:
            for code, name in zip(forces["code"], forces[column]):
                index[_name_key(str(name))] = str(code)
    return index


def force_code_for_name(name: str, index: dict[str, str]) -> str | None:
    """ONS code for a force name, ignoring case, spacing and "&" vs "and", through known aliases."""
    key = _name_key(name)
    if key in index:
        return index[key]
    for alias, official in FORCE_NAME_ALIASES.items():
        if key == _name_key(alias):
            return index.get(_name_key(official))
    return None


def _check_forces(forces: pd.DataFrame) -> None:
    missing = [column for column in ("code", "name") if column not in forces.columns]
    if missing:
        raise InputErrors([f"forces table: missing column(s) {', '.join(missing)}"])
    repeated = sorted(set(forces["code"][forces["code"].duplicated()]))
    if repeated:
        raise InputErrors([f"forces table: force code {code} appears more than once" for code in repeated])


# ---------------------------------------------------------------------------------------------
# Sources


def _parenthesised_groups(text: str) -> list[str] | None:
    """Contents of consecutive balanced "(…)" groups making up ``text``; None if it is anything else."""
    groups, depth, start = [], 0, 0
    for position, character in enumerate(text):
        if character == "(":
            if depth == 0:
                if text[start:position].strip():
                    return None
                start = position + 1
            depth += 1
        elif character == ")":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                groups.append(text[start:position].strip())
                start = position + 1
    if depth != 0 or text[start:].strip():
        return None
    return groups


def _source_from_line(line: str) -> dict[str, str] | None:
    match = _SOURCE_LINE.match(line)
    if not match:
        return None
    if int(match["number"]) != int(re.sub(r"^[A-Z]+", "", match["source_id"])):
        return None
    links = match["links"]
    if links.startswith(_URL_NOT_CAPTURED):
        urls, rest, notes = [], links[len(_URL_NOT_CAPTURED) :], ["URL not captured"]
    else:
        url_match = _URLS.match(links)
        urls = [url.strip() for url in url_match["urls"].split(" ; ")]
        rest, notes = url_match["rest"], []
    groups = _parenthesised_groups(rest)
    if groups is None:
        return None
    notes += groups
    if len(urls) > 1:
        notes.append("also at " + " ; ".join(urls[1:]))
    return {
        "source_id": match["source_id"],
        "publisher": match["publisher"].strip(),
        "title": match["title"].strip(),
        "date": match["date"].strip(),
        "url": urls[0] if urls else "",
        "note": "; ".join(notes),
    }


def parse_source_list(report_path: Path) -> pd.DataFrame:
    """The "Numbered source list" of the research write-up as a sources table.

    Each entry reads ``N. (SNNN) Publisher - *Title* - date - URL [; URL …] (notes)``; the first URL
    is kept as ``url`` and any others go into ``note``. An entry that does not parse, or whose
    number does not match its id, is an error naming the line.
    """
    name = report_path.name
    lines = report_path.read_text(encoding="utf-8-sig").splitlines()
    try:
        start = next(number for number, line in enumerate(lines) if line.strip() == SOURCE_LIST_HEADING)
    except StopIteration:
        raise InputErrors([f"{name}: no '{SOURCE_LIST_HEADING}' section"]) from None
    sources, problems = [], []
    for number in range(start + 1, len(lines)):
        line = lines[number].strip()
        if line.startswith("## "):
            break
        if not re.match(r"^\d+\.\s", line):
            continue
        source = _source_from_line(line)
        if source is None:
            problems.append(
                f"{name} line {number + 1}: source entry not in the form "
                "'N. (SNNN) Publisher - *Title* - date - URL (notes)' with N matching NNN"
            )
        else:
            sources.append(source)
    if not sources and not problems:
        problems.append(f"{name} line {start + 1}: the numbered source list has no entries")
    if problems:
        raise InputErrors(problems)
    return pd.DataFrame(sources, columns=SOURCES_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Register


def _split_draft_name(text: str) -> tuple[str, str]:
    """Short service name and the detail the draft packed into its name.

    The draft writes "Name - detail" or "Name (a, b; c)"; a parenthesised list (with a comma or
    semicolon) is detail, while "(IASU)"-style abbreviations stay in the name.
    """
    name, _, detail = text.partition(" - ")
    if detail:
        return name.strip(), detail.strip()
    listing = re.match(r"^(?P<name>.+?)\s*\((?P<detail>[^()]*[,;][^()]*)\)$", text)
    if listing:
        return listing["name"].strip(), listing["detail"].strip()
    return text.strip(), ""


def _read_draft(draft_path: Path) -> list[tuple[int, dict[str, str]]]:
    name = draft_path.name
    with draft_path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        header = [column.strip() for column in next(reader, [])]
        if header != DRAFT_COLUMNS:
            raise InputErrors([f"{name} line 1: expected columns {', '.join(DRAFT_COLUMNS)}; found {', '.join(header)}"])
        rows, line = [], reader.line_num
        for fields in reader:
            start_line, line = line + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                raise InputErrors([f"{name} line {start_line}: has {len(fields)} field(s) but the header has {len(header)}"])
            rows.append((start_line, {column: field.strip() for column, field in zip(header, fields)}))
    return rows


def _draft_rows_to_register(
    draft: list[tuple[int, dict[str, str]]], index: dict[str, str], source_ids: set[str], draft_name: str
) -> tuple[list[dict[str, str]], set[str]]:
    """Register rows for the units and clinics, and the codes of every force the draft covers."""
    rows, searched, problems = [], set(), []
    counters: dict[tuple[str, str], int] = {}
    for line, draft_row in draft:
        where = f"{draft_name} line {line}"
        force_name = draft_row["force_name"]
        if force_name == DRAFT_NATIONAL_FORCE_NAME:
            force_codes = NATIONAL_FORCE_CODES
        else:
            force_codes = force_code_for_name(force_name, index)
            if force_codes is None:
                problems.append(f"{where}, field 'force_name': '{force_name}' matches no police force area name")
                continue
            searched.add(force_codes)
        draft_type = draft_row["service_type"]
        if draft_type not in DRAFT_SERVICE_TYPES:
            problems.append(f"{where}, field 'service_type': unknown draft type '{draft_type}'")
            continue
        service_type = DRAFT_SERVICE_TYPES[draft_type]
        if service_type is None:
            continue
        if draft_row["coverage"] not in DRAFT_COVERAGES:
            problems.append(f"{where}, field 'coverage': unknown draft coverage '{draft_row['coverage']}'")
            continue
        cited = split_list(draft_row["source_id"])
        if not cited:
            problems.append(f"{where}, field 'source_id': no source id given")
        unknown = [source_id for source_id in cited if source_id not in source_ids]
        if unknown:
            problems.append(f"{where}, field 'source_id': unknown source id(s) {', '.join(unknown)}")
        counters[force_codes, service_type] = counters.get((force_codes, service_type), 0) + 1
        service_name, detail = _split_draft_name(draft_row["service_name"])
        rows.append(
            {
                "service_id": f"{force_codes}-{service_type}-{counters[force_codes, service_type]}",
                "force_codes": force_codes,
                "service_type": service_type,
                "service_name": service_name,
                "provider": draft_row["provider"],
                "coverage": DRAFT_COVERAGES[draft_row["coverage"]],
                "start_year": draft_row["start_year"],
                "end_year": draft_row["end_year"],
                "status": draft_row["status"],
                "funding": "",
                "source_ids": ";".join(cited),
                "confidence": draft_row["confidence"],
                "last_verified": RESEARCH_LAST_VERIFIED,
                "notes": detail,
            }
        )
    if problems:
        raise InputErrors(problems)
    return rows, searched


def _none_found_row(code: str) -> dict[str, str]:
    return {
        "service_id": f"{code}-none_found-1",
        "force_codes": code,
        "service_type": "none_found",
        "service_name": NONE_FOUND_NAME,
        "provider": "",
        "coverage": "unknown",
        "start_year": "",
        "end_year": "",
        "status": "unknown",
        "funding": "",
        "source_ids": RESEARCH_SEARCH_SOURCE["source_id"],
        "confidence": "low",
        "last_verified": RESEARCH_LAST_VERIFIED,
        "notes": NONE_FOUND_NOTE,
    }


def build_register(research_dir: Path, forces: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register and sources tables, built from the research draft in ``research_dir``.

    ``forces`` has columns ``code`` and ``name`` (ONS names; an ``ons_name`` column is also used
    for matching if present). Draft force names are matched to codes ignoring case, spacing and
    "&"/"and", through ``FORCE_NAME_ALIASES``; an unmatched name is an error.

    Rows: every multi-agency unit (draft ``masip``) and clinic or panel (draft ``stalking_clinic``),
    then one ``none_found`` row (source R001, the force-by-force search) for each force the draft
    covers that has neither. City of London deliberately gets no row: the research did not search it
    in depth, so it stays "unknown" rather than "none found". A force missing from the draft also gets
    no row, for the same reason.

    Both tables pass the same validators as the shipped files before they are returned.
    """
    research_dir = Path(research_dir)
    _check_forces(forces)
    index = force_name_index(forces)

    sources = parse_source_list(research_dir / RESEARCH_REPORT_FILE)
    sources = pd.concat([sources, pd.DataFrame([RESEARCH_SEARCH_SOURCE])], ignore_index=True)
    sources = sources.sort_values("source_id", ignore_index=True)
    sources = validate_sources(sources, name=f"sources built from {RESEARCH_REPORT_FILE}")

    draft = _read_draft(research_dir / DRAFT_REGISTER_FILE)
    rows, searched = _draft_rows_to_register(draft, index, set(sources["source_id"]), DRAFT_REGISTER_FILE)

    not_searched = {force_code_for_name(name, index) for name in NOT_SEARCHED_FORCE_NAMES}
    with_unit_or_clinic = {row["force_codes"] for row in rows}
    for code in sorted(forces["code"]):
        if code in searched and code not in with_unit_or_clinic and code not in not_searched:
            rows.append(_none_found_row(code))

    register = pd.DataFrame(rows, columns=REGISTER_COLUMNS)
    register = register.sort_values(["force_codes", "service_id"], ignore_index=True)
    register = validate_register(
        register,
        force_codes=forces["code"],
        source_ids=sources["source_id"],
        name=f"register built from {DRAFT_REGISTER_FILE}",
    )
    return register, sources
