"""Who to contact: phone numbers and web addresses of the services an answer points to, each cited.

The Postcode lottery answer lists, for the place a visitor typed, the police numbers and the
services that cover it: the national stalking services for England and Wales, or the police and
support services of Scotland, Northern Ireland and the Crown Dependencies. Every number and address
was read on the service's own published page; the row names that page (title, publisher, address,
date) and the day it was read. A number that could not be found on such a page is left blank, never
filled in from memory (CONTRIBUTING.md: "phone numbers come from a cited source or not at all").

``data/services/contacts.csv`` is written by ``coverage.build.contacts``; this module reads and
checks it at run time, refusing a bad file with every problem located by line and field.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from coverage.errors import InputError, InputErrors
from coverage.model.postcodes import JURISDICTIONS

CONTACTS_CSV = Path("services") / "contacts.csv"

ENGLAND_AND_WALES = "England and Wales"
# Where a contact applies: England and Wales, or a jurisdiction the postcode lookup names.
REGIONS: tuple[str, ...] = (ENGLAND_AND_WALES, *JURISDICTIONS)

# What a contact is, in the order an answer lists them.
KINDS: dict[str, str] = {
    "emergency": "In an emergency",
    "police": "Police, when it is not an emergency",
    "stalking_service": "Specialist stalking services",
    "victim_support": "Support for victims of crime",
    "guide": "A list of more help",
}

CONTACT_COLUMNS: tuple[str, ...] = (
    "contact_id",
    "region",
    "kind",
    "service_id",
    "name",
    "phone",
    "url",
    "hours",
    "note",
    "source_title",
    "source_publisher",
    "source_url",
    "source_date",
    "checked",
)
REQUIRED = ("contact_id", "region", "kind", "name", "source_title", "source_publisher", "source_url", "checked")

# A number as a UK service publishes it: digits in groups ("0808 802 0300", "999", "612612").
_PHONE = re.compile(r"[0-9]{3,6}(?: [0-9]{2,6}){0,3}")
# A web address that is safe to put in a markdown link: http(s), a host, no spaces, quotes,
# brackets, angle brackets or backslashes (they would end the link or start markup).
_URL = re.compile(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:/[A-Za-z0-9._~%/?#&=+:@,;-]*)?")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MAX_FIELD = 400


@dataclass(frozen=True)
class Contact:
    """One row of ``contacts.csv``: a way to reach one service, with where it was read."""

    contact_id: str
    region: str
    kind: str
    service_id: str
    name: str
    phone: str
    url: str
    hours: str
    note: str
    source_title: str
    source_publisher: str
    source_url: str
    source_date: str
    checked: str


def _check_row(row: dict[str, str], where: str, known_service_ids: set[str] | None) -> list[str]:
    problems = []

    def bad(field: str, problem: str) -> None:
        problems.append(f"{where}, field '{field}': {problem}")

    for field in CONTACT_COLUMNS:
        value = row[field]
        if _CONTROL.search(value) or "\n" in value or "\t" in value:
            bad(field, "contains a control character or line break")
        elif len(value) > _MAX_FIELD:
            bad(field, f"is longer than {_MAX_FIELD} characters")
        elif value != value.strip():
            bad(field, "has spaces at the start or end")
    for field in REQUIRED:
        if not row[field]:
            bad(field, "is empty")
    if row["contact_id"] and not _ID.fullmatch(row["contact_id"]):
        bad("contact_id", f"'{row['contact_id'][:40]}' is not a lower-case id (letters, digits, - and _)")
    if row["region"] and row["region"] not in REGIONS:
        bad("region", f"'{row['region'][:40]}' is not one of {', '.join(REGIONS)}")
    if row["kind"] and row["kind"] not in KINDS:
        bad("kind", f"'{row['kind'][:40]}' is not one of {', '.join(KINDS)}")
    if row["phone"] and not _PHONE.fullmatch(row["phone"]):
        bad("phone", f"'{row['phone'][:40]}' is not a phone number (digits in groups, e.g. 0808 802 0300)")
    for field in ("url", "source_url"):
        if row[field] and not _URL.fullmatch(row[field]):
            bad(field, f"'{row[field][:60]}' is not a plain http(s) web address")
    if not row["phone"] and not row["url"]:
        bad("phone", "a contact needs a phone number or a web address (both are empty)")
    if row["hours"] and not row["phone"]:
        bad("hours", "opening hours are given but there is no phone number")
    if row["checked"]:
        try:
            date.fromisoformat(row["checked"])
        except ValueError:
            bad("checked", f"'{row['checked'][:20]}' is not a date (YYYY-MM-DD)")
    if row["service_id"] and known_service_ids is not None and row["service_id"] not in known_service_ids:
        bad("service_id", f"'{row['service_id'][:60]}' is not a service in the register")
    return problems


def _records(text: str, name: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV with the line each starts on, after checking the header."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputErrors([f"{name}: the file is empty; expected a header with {', '.join(CONTACT_COLUMNS)}"]) from None
    except csv.Error as error:
        raise InputErrors([f"{name} line 1: is not a readable CSV ({error})"]) from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    missing = [c for c in CONTACT_COLUMNS if c not in header]
    extra = [c for c in header if c not in CONTACT_COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"{name} line 1: missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"{name} line 1: unexpected column(s) {', '.join(extra)}")
    if repeated:
        problems.append(f"{name} line 1: column(s) {', '.join(repeated)} appear more than once")
    if problems:
        raise InputErrors(problems)
    records: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num
    try:
        for fields in reader:
            start, line = line + 1, reader.line_num
            if not any(fields):
                continue
            if len(fields) != len(header):
                problems.append(f"{name} line {start}: has {len(fields)} field(s) but the header has {len(header)}")
                continue
            records.append((start, dict(zip(header, fields, strict=True))))
    except csv.Error as error:
        problems.append(f"{name} line {line + 1}: is not a readable CSV ({error})")
    if problems:
        raise InputErrors(problems)
    return records


def parse_contacts(
    text: str, *, name: str = "contacts.csv", known_service_ids: Iterable[str] | None = None
) -> tuple[Contact, ...]:
    """Check the text of a contacts CSV and return its contacts, in file order.

    Raises :class:`~coverage.errors.InputErrors` naming file, line and field for every problem:
    the header, unknown regions or kinds, a number that is not a number, an address that is not a
    plain web address, a row with neither, a missing citation, a repeated ``contact_id``.
    """
    known = set(known_service_ids) if known_service_ids is not None else None
    problems: list[str] = []
    seen: dict[str, int] = {}
    contacts = []
    for line, row in _records(text, name):
        where = f"{name} line {line}"
        row_problems = _check_row(row, where, known)
        contact_id = row["contact_id"]
        if contact_id in seen:
            row_problems.append(
                f"{where}, field 'contact_id': '{contact_id}' is used twice (first on line {seen[contact_id]})"
            )
        seen.setdefault(contact_id, line)
        problems += row_problems
        if not row_problems:
            contacts.append(Contact(**{column: row[column] for column in CONTACT_COLUMNS}))
    if problems:
        raise InputErrors(problems)
    if not contacts:
        raise InputErrors([f"{name}: has a header but no contacts"])
    return tuple(contacts)


def read_contacts(path: Path | str, *, known_service_ids: Iterable[str] | None = None) -> tuple[Contact, ...]:
    """Read and check the shipped ``contacts.csv``."""
    path = Path(path)
    if not path.exists():
        raise InputError("not found; run `python -m coverage build-data`", where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputErrors([f"{path.name} line 1: is not UTF-8 text"]) from None
    return parse_contacts(text, name=path.name, known_service_ids=known_service_ids)


def contacts_for(contacts: Iterable[Contact], region: str) -> list[Contact]:
    """The contacts for one region, grouped by kind in ``KINDS`` order, file order within a kind."""
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}")
    order = {kind: number for number, kind in enumerate(KINDS)}
    return sorted((c for c in contacts if c.region == region), key=lambda c: order[c.kind])
