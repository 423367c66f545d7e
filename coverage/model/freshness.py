"""How fresh the evidence is for each force: when the register last looked, and how new its newest source is.

Source dates in the register are written as their publishers give them ("12 Apr 2025", "Apr 2025",
"2025", "c.2022-23", "undated"); each is read as the latest month it can mean, or as unknown. A
force's evidence is *stale* when its newest dated source is more than ``STALE_AFTER_MONTHS`` old:
the service may have changed since anyone wrote about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from coverage.model.register import NATIONAL_FORCE_CODES, split_list

# Two years: a funding round or a pilot usually runs one to three years (the register's own rows,
# e.g. Home Office Stalking Perpetrator Intervention funding 2021-22 and 2023-25), so evidence older
# than that may describe a service that has since ended. An editable judgement, not a published rule.
STALE_AFTER_MONTHS = 24

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_YEAR = re.compile(r"(?<!\d)(19|20)(\d{2})(?:\s*[-–/]\s*(\d{2,4}))?(?!\d)")
_ISO = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})(?:-(\d{2}))?(?!\d)")
_MONTH_YEAR = re.compile(r"\b([A-Za-z]{3})[a-z]*\.?\s+((?:19|20)\d{2})\b")


# Source ids starting "R" are the research write-ups (R001: the force-by-force search table): they
# record that someone looked, not what a service did, so they never count as evidence of a service.
SEARCH_RECORD_PREFIX = "R"


def newest_month(text: str) -> tuple[int, int] | None:
    """The latest (year, month) a source date can mean; None for "undated" or text with no year.

    "12 Apr 2025" and "Apr 2025" → (2025, 4); "2025" → (2025, 12); "c.2022-23" → (2023, 12);
    "2026-02" → (2026, 2)."""
    text = str(text).strip()
    found: list[tuple[int, int]] = []
    for year, month, _ in _ISO.findall(text):
        if 1 <= int(month) <= 12:
            found.append((int(year), int(month)))
    for month_name, year in _MONTH_YEAR.findall(text):
        month = _MONTHS.get(month_name[:3].lower())
        if month:
            found.append((int(year), month))
    if not found:
        for century, decade, end in _YEAR.findall(text):
            year = int(century + decade)
            if end:
                end_year = int(end) if len(end) == 4 else year // 100 * 100 + int(end)
                year = max(year, end_year) if end_year - year < 10 else year
            found.append((year, 12))
    return max(found) if found else None


def months_between(earlier: tuple[int, int], later: date) -> int:
    return (later.year - earlier[0]) * 12 + later.month - earlier[1]


@dataclass(frozen=True)
class Freshness:
    code: str
    last_looked: str  # the latest last_verified of the force's own rows, as written ("2026-11-26")
    newest_evidence: str  # the newest dated source its rows cite, as "Apr 2025"; "" when none is dated
    newest_source: str  # that source's id
    months_old: int | None
    stale: bool

    @property
    def summary(self) -> str:
        looked = f"register last looked {self.last_looked}" if self.last_looked else "never looked at in depth"
        if not self.newest_evidence:
            return f"{looked[0].upper()}{looked[1:]}; no dated evidence."
        flag = f" (older than {STALE_AFTER_MONTHS} months)" if self.stale else ""
        return f"{looked[0].upper()}{looked[1:]}; newest evidence {self.newest_evidence}{flag}."


def _label(month: tuple[int, int]) -> str:
    return f"{date(month[0], month[1], 1):%b %Y}"


def force_freshness(register: pd.DataFrame, sources: pd.DataFrame, code: str, today: date) -> Freshness:
    """Both dates for one force, from its own (non-national) register rows."""
    return _force_freshness(_local_records(register), _source_dates(sources), code, today)


def _local_records(register: pd.DataFrame) -> list[tuple[list[str], str, str]]:
    """(force codes, last_verified, source_ids) of each local row: worked on as plain values, since
    filtering the Arrow-backed register once per force cost a fifth of a second of a first visit."""
    return [
        (split_list(str(codes)), str(looked), str(ids))
        for codes, looked, ids in zip(
            register["force_codes"], register["last_verified"], register["source_ids"], strict=True
        )
        if codes != NATIONAL_FORCE_CODES
    ]


def _source_dates(sources: pd.DataFrame) -> dict[str, str]:
    return dict(zip(sources["source_id"].astype(str), sources["date"].astype(str), strict=False))


def _force_freshness(
    local: list[tuple[list[str], str, str]], dates: dict[str, str], code: str, today: date
) -> Freshness:
    rows = [(looked, ids) for codes, looked, ids in local if code in codes]
    looked = max((v for v, _ in rows if v), default="")
    newest: tuple[tuple[int, int], str] | None = None
    for _, cell in rows:
        for source_id in split_list(cell):
            if source_id.startswith(SEARCH_RECORD_PREFIX):
                continue
            month = newest_month(dates.get(source_id, ""))
            if month and (newest is None or month > newest[0]):
                newest = (month, source_id)
    if newest is None:
        return Freshness(code, looked, "", "", None, False)
    age = months_between(newest[0], today)
    return Freshness(code, looked, _label(newest[0]), newest[1], age, age > STALE_AFTER_MONTHS)


def freshness_table(register: pd.DataFrame, sources: pd.DataFrame, codes: list[str], today: date) -> pd.DataFrame:
    """One row per force: last_looked, newest_evidence, newest_source, months_old, stale."""
    local, dates = _local_records(register), _source_dates(sources)
    rows = [_force_freshness(local, dates, code, today) for code in codes]
    return pd.DataFrame(
        {
            "code": [r.code for r in rows],
            "last_looked": [r.last_looked for r in rows],
            "newest_evidence": [r.newest_evidence for r in rows],
            "newest_source": [r.newest_source for r in rows],
            "months_old": pd.array([r.months_old for r in rows], dtype="Int64"),
            "stale": [r.stale for r in rows],
        }
    )
