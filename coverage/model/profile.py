"""A force's profile and the national summary, as plain data the pages (and later exports) render."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import pandas as pd
from pandas.api.typing import NAType

from coverage.model.freshness import STALE_AFTER_MONTHS, Freshness, force_freshness
from coverage.model.register import COVERAGE_LABELS, NATIONAL_FORCE_CODES, STATUS_LABELS, services_for_force
from coverage.vocabulary import (
    HEADLINE_MEASURE,
    MEASURE,
    PROVISION_CLASS,
    PROVISION_CLASSES,
    SERVICE_TYPE_LABELS,
    Measure,
)


def _count_text(count: float | NAType | None) -> str:
    return "unknown" if pd.isna(count) else f"{int(count):,}"


def _years(start: object, end: object) -> str:
    start_text = str(start) if str(start).strip() else "start unknown"
    end_text = str(end) if str(end).strip() else ""
    return f"{start_text}–{end_text}" if end_text else f"from {start_text}"


@dataclass
class ForceProfile:
    code: str
    heading: str
    provision_label: str
    population_text: str
    population_16plus_text: str
    region: str
    summary: str  # plain text after the force's name: its class, or why it is unknown
    services: pd.DataFrame
    sources: pd.DataFrame
    empty_message: str
    search_note: str = ""  # set where the research searched the area and recorded that it found nothing
    freshness: Freshness | None = None  # when the register last looked, and how new the newest evidence is


def _cited(rows: pd.DataFrame) -> list[str]:
    """The source ids register rows cite, sorted, each once."""
    return sorted({sid for ids in rows["source_ids"] for sid in str(ids).split(";") if sid})


def force_profile(
    code: str, table: pd.DataFrame, register: pd.DataFrame, sources: pd.DataFrame, today: date | None = None
) -> ForceProfile:
    """``today`` dates the freshness check (evidence older than 24 months is flagged); None skips it."""
    row = cast("pd.Series[Any]", table.set_index("code").loc[code])  # force codes are unique: one row
    local = services_for_force(register, code, include_national=False)
    searched_none = local[local["service_type"] == "none_found"]
    found = local[local["service_type"] != "none_found"]
    # Status and years straight after the name: an ended service must not read as a current one.
    services = pd.DataFrame(
        {
            "Service": found["service_name"],
            "Status": found["status"].map(STATUS_LABELS).fillna(found["status"]),
            "Years": [_years(s, e) for s, e in zip(found["start_year"], found["end_year"])],
            "Type": found["service_type"].map(SERVICE_TYPE_LABELS).fillna(found["service_type"]),
            "Provider": found["provider"].replace("", "not recorded"),
            "Coverage": found["coverage"].map(COVERAGE_LABELS).fillna(found["coverage"]),
            "Funding": found["funding"].replace("", "not recorded"),
            "Confidence": found["confidence"],
            "Last verified": found["last_verified"],
            "Sources": found["source_ids"].str.replace(";", ", "),
        }
    )
    search_note = ""
    if not searched_none.empty:
        checked = ", ".join(sorted({str(v) for v in searched_none["last_verified"] if str(v)}))
        cited_none = ", ".join(_cited(searched_none))
        search_note = (
            f"The research search looked for a stalking-specific local service here and found none"
            f" (last checked {checked or 'date not recorded'}; sources {cited_none or 'not recorded'}). "
            "None found is not proof that none exists."
        )
    cited = _cited(local)
    source_rows = sources.set_index("source_id").reindex(cited).reset_index()
    source_table = pd.DataFrame(
        {
            "Source": source_rows["source_id"],
            "Publisher": source_rows["publisher"],
            "Title": source_rows["title"],
            "Date": source_rows["date"],
            "Link": source_rows["url"].replace("", None),
        }
    )
    name = str(row["name"])
    label = str(row["provision_label"])
    if row["provision_class"] == "unknown":
        summary = (
            "Unknown (not searched) — provision is unknown: the research search did not cover this force in "
            "enough depth to say whether a multi-agency unit or clinic exists. Unknown is not the same as none."
        )
    else:
        summary = f"{label}."
    return ForceProfile(
        code=code,
        heading=name,
        provision_label=label,
        population_text=_count_text(row["pop_mid2023"]),
        population_16plus_text=_count_text(row["pop_mid2023_16plus"]),
        region=str(row["region"]),
        summary=summary,
        services=services.reset_index(drop=True),
        sources=source_table,
        empty_message="No register rows for this force: its provision is unknown.",
        search_note=search_note,
        freshness=force_freshness(register, sources, code, today) if today else None,
    )


def national_services(register: pd.DataFrame) -> pd.DataFrame:
    """Services open to people in every force area (helplines, national advocacy, education)."""
    national = register[register["force_codes"].eq(NATIONAL_FORCE_CODES)]
    national = national[national["service_type"].ne("funding_stream")]
    return pd.DataFrame(
        {
            "Service": national["service_name"],
            "Status": national["status"].map(STATUS_LABELS).fillna(national["status"]),
            "Years": [_years(s, e) for s, e in zip(national["start_year"], national["end_year"])],
            "Type": national["service_type"].map(SERVICE_TYPE_LABELS).fillna(national["service_type"]),
            "Provider": national["provider"],
            "Confidence": national["confidence"],
            "Sources": national["source_ids"].str.replace(";", ", "),
        }
    ).reset_index(drop=True)


def provision_rows(
    table: pd.DataFrame,
    ranking: pd.DataFrame | None = None,
    period: str = "",
    freshness: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The table beside the map: best-served first, then by name; population as text with commas.

    With ``ranking`` (``demand.force_ranking`` of stalking in ``period``) the demand sits beside provision;
    with ``freshness`` (``freshness.freshness_table``) the date of the newest evidence, flagged in words
    when it is stale."""
    from coverage.model.demand import format_count, format_rate

    ordered = table.sort_values(["provision_rank", "name"])
    rows = pd.DataFrame(
        {
            "Force area": ordered["name"],
            "Provision": ordered["provision_label"],
            "Population, all ages (mid-2023)": [_count_text(p) for p in ordered["pop_mid2023"]],
        }
    )
    if ranking is not None:
        demand = ranking.set_index("code")
        rows[f"Stalking offences ({period})"] = [format_count(demand["offences"].get(c)) for c in ordered["code"]]
        rows["Per 1,000 population"] = [format_rate(demand["rate_all_ages"].get(c)) for c in ordered["code"]]
    if freshness is not None:
        fresh = freshness.set_index("code")
        rows["Newest evidence"] = [
            (fresh.loc[c, "newest_evidence"] or "none dated")
            + (f" (over {STALE_AFTER_MONTHS} months old)" if bool(fresh.loc[c, "stale"]) else "")
            for c in ordered["code"]
        ]
    return rows.reset_index(drop=True)


def national_summary_sentence(table: pd.DataFrame, number: Callable[[int], str] = str) -> str:
    """The map's takeaway in words, from the provision table; ``number`` formats each count
    (a page may embolden them)."""

    counts = table["provision_class"].value_counts()
    unit = table["provision_class"] == "multi_agency_unit"
    population_share = table.loc[unit, "pop_mid2023_16plus"].sum() / table["pop_mid2023_16plus"].sum()
    parts = []
    for key in PROVISION_CLASSES:
        count = int(counts.get(key, 0))
        if key == "unknown" and count == 0:
            parts.append("every area was searched")  # "0 are unknown" reads as a finding; this is what it means
            continue
        phrase = PROVISION_CLASS[key].phrase
        if key == "multi_agency_unit":
            phrase += f" (home to {population_share:.0%} of people aged 16+)"
        if key == "unknown":
            phrase = f"{'is' if count == 1 else 'are'} {phrase}"
        parts.append(f"{number(count)} {phrase}")
    return (
        f"Of the {len(table)} police force areas in England and Wales, " + "; ".join(parts[:-1]) + f"; and {parts[-1]}."
    )


def national_takeaway(table: pd.DataFrame, number: Callable[[int], str] = str) -> str:
    """The Map page's one plain sentence: how few areas have a unit, and how many have nothing found."""
    from coverage.vocabulary import SERVICE_TYPE

    counts = table["provision_class"].value_counts()
    units, nothing = int(counts.get("multi_agency_unit", 0)), int(counts.get("national_only", 0))
    return (
        f"Only {number(units)} of the {len(table)} police force areas in England and Wales have "
        f"{SERVICE_TYPE['multi_agency_unit'].in_sentence}; in {number(nothing)}, no local specialist stalking "
        "service was found."
    )


@dataclass
class DemandSummary:
    """A force's recorded offences of one measure in one period, beside its comparators, as display text."""

    measure: Measure
    period: str
    offences: str
    rate_all_ages: str
    rate_16plus: str
    rank_text: str
    change_previous: str  # since the year before, e.g. "−4.5%"
    change_previous_label: str  # "since YE Dec 2024"
    change_baseline: str  # since the first comparable year; "n/a" when there is none
    change_baseline_label: str
    comparison: pd.DataFrame  # display-ready rows: the force, region/country, England and Wales, peers
    takeaway: str


def demand_summary(
    crime: pd.DataFrame,
    forces: pd.DataFrame,
    code: str,
    measure: Measure | str = HEADLINE_MEASURE,
    period: str | None = None,
    peer_codes: Sequence[str] | None = None,
    *,
    ranking: pd.DataFrame | None = None,
) -> DemandSummary:
    """``ranking`` is ``force_ranking(...)`` for the same measure and period when the caller has it."""
    from coverage.model import demand

    chosen = MEASURE[measure] if isinstance(measure, str) else measure
    period = period or demand.latest_period(crime, chosen)
    ranked = (demand.force_ranking(crime, forces, chosen, period) if ranking is None else ranking).set_index("code")
    row = cast("pd.Series[Any]", ranked.loc[code])  # one row per force: codes are unique
    table = demand.comparison(crime, forces, code, chosen, period, list(peer_codes) if peer_codes else None)
    shown = pd.DataFrame(
        {
            "Area": table["comparator"],
            f"Offences {period}": [demand.format_count(v) for v in table["offences"]],
            "Per 1,000 population": [demand.format_rate(v) for v in table["rate_all_ages"]],
            "Per 1,000 aged 16+": [demand.format_rate(v) for v in table["rate_16plus"]],
        }
    )
    name = cast(str, forces.set_index("code").loc[code, "name"])  # the force table's names are text
    england_wales = table.iloc[2]
    rate, national = float(row["rate_all_ages"]), float(england_wales["rate_all_ages"])
    direction = "higher than" if rate > national else "lower than"
    if abs(rate - national) < 0.005:
        direction = "the same as"
    changed = demand.change(crime, code, chosen, period)
    rank = "unranked" if pd.isna(row["rank"]) else f"{int(row['rank'])} of {len(ranked)}"
    takeaway = (
        f"{name} recorded {demand.format_count(row['offences'])} {chosen.noun} in the year ending December "
        f"{demand.year_of(period)}: {demand.format_rate(rate)} per 1,000 population, {direction} England and Wales "
        f"({demand.format_rate(national)}); {rank}, where 1 is the highest rate."
    )
    return DemandSummary(
        measure=chosen,
        period=period,
        offences=demand.format_count(row["offences"]),
        rate_all_ages=demand.format_rate(rate),
        rate_16plus=demand.format_rate(float(row["rate_16plus"])),
        rank_text=rank,
        change_previous=demand.format_change(changed.since_previous_pct),
        change_previous_label=f"since {changed.previous_period}",
        change_baseline=demand.format_change(changed.since_baseline_pct),
        change_baseline_label=f"since {changed.baseline_period}",
        comparison=shown,
        takeaway=takeaway,
    )


@dataclass(frozen=True)
class ForceSummary:
    """What a commissioner needs the moment a force is chosen, in a few plain lines beside the map."""

    name: str
    provision_label: str
    exists: tuple[str, ...]  # the kinds of local service that count there, in words
    missing: tuple[str, ...]  # the kinds searched for and not found ("" when the area was not searched)
    comparison: str  # against the best-served areas
    demand: str  # the headline demand, its rate and England and Wales's


def force_summary(
    code: str, table: pd.DataFrame, ranking: pd.DataFrame, period: str, england_and_wales_rate: float
) -> ForceSummary:
    """``table`` is the provision table (with the per-type flags); ``ranking`` is ``demand.force_ranking``
    of stalking (8Q) in ``period``."""
    from coverage.model.demand import format_count, format_rate
    from coverage.vocabulary import LOCAL_SERVICE_TYPES, SERVICE_TYPE

    row = cast("pd.Series[Any]", table.set_index("code").loc[code])  # codes are unique: one row
    unit = SERVICE_TYPE["multi_agency_unit"]
    has_unit = bool(row[unit.flag])
    exists = tuple(service.name for service in LOCAL_SERVICE_TYPES if bool(row[service.flag]))
    searched = str(row["provision_class"]) != "unknown"
    missing = tuple(
        service.name
        for service in LOCAL_SERVICE_TYPES
        if searched and not bool(row[service.flag]) and not (has_unit and service.done_by_unit)
    )
    best = sorted(str(n) for n in table.loc[table["provision_class"] == "multi_agency_unit", "name"])
    if has_unit:
        comparison = f"One of the {len(best)} best-served areas: it has a multi-agency stalking unit."
    else:
        comparison = (
            f"Unlike the {len(best)} best-served areas ({', '.join(best)}), it has no multi-agency stalking unit."
        )
    demand_row = cast("pd.Series[Any]", ranking.set_index("code").loc[code])
    rate = float(demand_row["rate_all_ages"])
    direction = "above" if rate > england_and_wales_rate else "below" if rate < england_and_wales_rate else "level with"
    demand = (
        f"{format_count(demand_row['offences'])} stalking offences recorded ({period}): {format_rate(rate)} per "
        f"1,000 people, {direction} England and Wales ({format_rate(england_and_wales_rate)})."
    )
    return ForceSummary(str(row["name"]), str(row["provision_label"]), exists, missing, comparison, demand)
