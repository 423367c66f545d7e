"""A force's profile and the national summary, as plain data the pages (and later exports) render."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .services import SERVICE_TYPE_LABELS, services_for_force

# Characters that start emphasis, links, images, code, HTML, tables or maths. Hyphens and dots
# only matter at the start of a line, and every data string here follows other text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#!|<>~$])")


def escape_markdown(text: str) -> str:
    """Make data text inert in Streamlit markdown (no links, emphasis or HTML from data)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def _count_text(count: object) -> str:
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
    summary: str
    services: pd.DataFrame
    sources: pd.DataFrame
    empty_message: str


def force_profile(code: str, table: pd.DataFrame, register: pd.DataFrame, sources: pd.DataFrame) -> ForceProfile:
    row = table.set_index("code").loc[code]
    local = services_for_force(register, code, include_national=False)
    services = pd.DataFrame(
        {
            "Service": local["service_name"],
            "Type": local["service_type"].map(SERVICE_TYPE_LABELS).fillna(local["service_type"]),
            "Provider": local["provider"].replace("", "not recorded"),
            "Years": [_years(s, e) for s, e in zip(local["start_year"], local["end_year"])],
            "Status": local["status"],
            "Confidence": local["confidence"],
            "Last verified": local["last_verified"],
            "Sources": local["source_ids"].str.replace(";", ", "),
        }
    )
    cited = sorted({sid for ids in local["source_ids"] for sid in str(ids).split(";") if sid})
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
            f"**{escape_markdown(name)}**: Unknown (not searched) — provision is unknown: the research search did not cover this "
            "force in enough depth to say whether a multi-agency unit or clinic exists. Unknown is not the same as none."
        )
    else:
        summary = f"**{escape_markdown(name)}**: {escape_markdown(label)}."
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
    )


def provision_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The table beside the map: best-served first, then by name; population as text with commas."""
    ordered = table.sort_values(["provision_rank", "name"])
    return pd.DataFrame(
        {
            "Force area": ordered["name"],
            "Provision": ordered["provision_label"],
            "Population (mid-2023)": [_count_text(p) for p in ordered["pop_mid2023"]],
        }
    ).reset_index(drop=True)


def national_summary_sentence(table: pd.DataFrame) -> str:
    """The map's takeaway in words, from the provision table."""
    counts = table["provision_class"].value_counts()
    total = len(table)
    unit = int(counts.get("multi_agency_unit", 0))
    clinic = int(counts.get("clinic_or_panel", 0))
    none_found = int(counts.get("none_found", 0))
    unknown = int(counts.get("unknown", 0))
    population_share = (
        table.loc[table["provision_class"] == "multi_agency_unit", "pop_mid2023_16plus"].sum()
        / table["pop_mid2023_16plus"].sum()
    )
    return (
        f"Of the {total} police force areas in England and Wales, **{unit}** have a multi-agency stalking unit "
        f"(home to {population_share:.0%} of people aged 16+), **{clinic}** have a multi-agency stalking clinic or "
        f"panel, in **{none_found}** neither was found, and **{unknown}** {'is' if unknown == 1 else 'are'} unknown."
    )
