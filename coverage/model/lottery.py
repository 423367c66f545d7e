"""The postcode lottery in numbers: who is covered, who is not, and how unequal it is.

Inputs are plain tables (the force table, the per-force provision flags, offences by force), so
the Postcode lottery page, ``python -m coverage summary`` and the briefing packs share one answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from coverage.model.catalogue import REGISTER_SNAPSHOT
from coverage.model.contacts import ENGLAND_AND_WALES, Contact
from coverage.model.demand import latest_period, offences_by_force
from coverage.model.postcodes import LookupResult
from coverage.model.register import COUNTING_STATUSES, NATIONAL_FORCE_CODES, split_list
from coverage.vocabulary import (
    HEADLINE_MEASURE,
    LOCAL_SERVICE_TYPE_KEYS,
    LOCAL_SERVICE_TYPES,
    NO_SPECIALIST_SERVICE,
    NO_SPECIALIST_SERVICE_LABEL,
    PROVISION_CLASS_LABELS,
    SERVICE_TYPE,
    Measure,
)

# "Provision" is the local specialist service types (coverage.vocabulary): education and funding
# streams are not services a victim can use, and national services are the same everywhere.
COVERAGE_MEASURES: tuple[tuple[str, str], ...] = (
    *((service.flag, service.name) for service in LOCAL_SERVICE_TYPES),
    (NO_SPECIALIST_SERVICE, NO_SPECIALIST_SERVICE_LABEL),
)


# Keys of the national figures (``forces_with_<key>`` …), one per coverage measure and unknown.
SUMMARY_MEASURES: tuple[tuple[str, str], ...] = (
    *((service.flag, service.summary) for service in LOCAL_SERVICE_TYPES),
    (NO_SPECIALIST_SERVICE, NO_SPECIALIST_SERVICE),
    ("unknown", "unknown"),
)


def _with_no_service_flag(flags: pd.DataFrame) -> pd.DataFrame:
    flags = flags.copy()
    local = [service.flag for service in LOCAL_SERVICE_TYPES]
    # "No local specialist service found" needs a search: unknown areas are neither covered nor not.
    flags[NO_SPECIALIST_SERVICE] = ~flags[local].any(axis=1) & flags["provision_class"].ne("unknown")
    return flags


def coverage_shares(flags: pd.DataFrame, forces: pd.DataFrame, offences: Mapping[str, float]) -> pd.DataFrame:
    """For each kind of provision: forces with it, and the share of people aged 16+ and of recorded
    offences (of the measure given) in those forces. Unknown forces are counted separately."""
    flag_columns = ["code", "provision_class"] + [c for c, _ in COVERAGE_MEASURES]
    table = _with_no_service_flag(flags)[flag_columns].merge(forces[["code", "pop_mid2023_16plus"]], on="code")
    table["offences"] = table["code"].map(offences).astype(float)
    population = table["pop_mid2023_16plus"].astype(float)
    rows = []
    for column, label in COVERAGE_MEASURES:
        mask = table[column].astype(bool)
        rows.append(
            {
                "measure": column,
                "label": label,
                "forces": int(mask.sum()),
                "population_16plus": int(population[mask].sum()),
                "population_16plus_share": float(population[mask].sum() / population.sum()),
                "offences": float(table.loc[mask, "offences"].sum()),
                "offences_share": float(table.loc[mask, "offences"].sum() / table["offences"].sum()),
            }
        )
    unknown = table["provision_class"].eq("unknown")
    rows.append(
        {
            "measure": "unknown",
            "label": PROVISION_CLASS_LABELS["unknown"],
            "forces": int(unknown.sum()),
            "population_16plus": int(population[unknown].sum()),
            "population_16plus_share": float(population[unknown].sum() / population.sum()),
            "offences": float(table.loc[unknown, "offences"].sum()),
            "offences_share": float(table.loc[unknown, "offences"].sum() / table["offences"].sum()),
        }
    )
    return pd.DataFrame(rows)


def _counts_in_year(row: pd.Series, year: int, snapshot_year: int) -> bool:
    start = int(row["start_year"]) if str(row["start_year"]).strip() else None
    end = int(row["end_year"]) if str(row["end_year"]).strip() else None
    if year == snapshot_year:
        return row["status"] in COUNTING_STATUSES and (start is None or start <= year)
    # Before the snapshot a service counts only where its dates place it; a service with no start
    # year cannot be placed in time, so it counts in the snapshot year alone.
    return start is not None and start <= year and (end is None or end >= year)


def services_per_force(
    register: pd.DataFrame, force_codes: Sequence[str], year: int | None = None, snapshot_year: int = 2026
) -> pd.Series:
    """Number of local specialist services (``vocabulary.LOCAL_SERVICE_TYPES``) counting in each force in ``year``."""
    year = snapshot_year if year is None else year
    counts = pd.Series(0, index=list(force_codes), dtype=int)
    local = register[
        register["service_type"].isin(LOCAL_SERVICE_TYPE_KEYS) & register["force_codes"].ne(NATIONAL_FORCE_CODES)
    ]
    for _, row in local.iterrows():
        if _counts_in_year(row, year, snapshot_year):
            for code in split_list(row["force_codes"]):
                if code in counts.index:
                    counts[code] += 1
    return counts


def weighted_gini(values: np.ndarray, weights: np.ndarray) -> float:
    """Population-weighted Gini coefficient (0 = every person equally served, 1 = all provision in one place)."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if values.size == 0 or weights.sum() == 0 or np.allclose(values, 0):
        return 0.0
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cumulative_weight = np.cumsum(w) / w.sum()
    cumulative_value = np.cumsum(v * w) / (v * w).sum()
    previous_value = np.concatenate([[0.0], cumulative_value[:-1]])
    previous_weight = np.concatenate([[0.0], cumulative_weight[:-1]])
    area = np.sum((cumulative_weight - previous_weight) * (cumulative_value + previous_value))
    return float(1 - area)


@dataclass(frozen=True)
class Inequality:
    year: int
    gini: float
    top_quintile_per_100k: float
    bottom_quintile_per_100k: float
    forces_with_none: int
    population_share_with_none: float

    @property
    def quintile_ratio(self) -> float | None:
        return (
            None if self.bottom_quintile_per_100k == 0 else self.top_quintile_per_100k / self.bottom_quintile_per_100k
        )


INEQUALITY_METHOD = (
    "Provision is the number of local specialist stalking services (multi-agency units, clinics or panels, "
    "advocacy, perpetrator programmes, dedicated police teams) counting in a force area, per 100,000 people "
    "aged 16+ (ONS mid-2023). The Gini coefficient is weighted by population aged 16+: 0 would mean every "
    "person lives in an area with the same provision per head, 1 that all provision is in one place. "
    "Quintiles are of population aged 16+, ranked by provision per head. Unknown areas (not searched) are left out."
)


def inequality(
    register: pd.DataFrame,
    forces: pd.DataFrame,
    provision_classes: Mapping[str, str],
    year: int | None = None,
    snapshot_year: int = 2026,
) -> Inequality:
    """Inequality of local provision per head across the searched forces in one year."""
    year = snapshot_year if year is None else year
    searched = forces[forces["code"].map(provision_classes).ne("unknown")]
    counts = services_per_force(register, list(searched["code"]), year, snapshot_year)
    population = searched.set_index("code")["pop_mid2023_16plus"].astype(float)
    per_100k = counts / population * 100_000
    order = per_100k.sort_values().index
    cumulative = population[order].cumsum() / population.sum()
    bottom = order[cumulative.to_numpy() <= 0.2]
    top = order[cumulative.to_numpy() > 0.8]
    bottom = bottom if len(bottom) else order[:1]

    def _rate(codes: pd.Index[str]) -> float:
        return float(counts[codes].sum() / population[codes].sum() * 100_000)

    none = counts[counts == 0].index
    return Inequality(
        year=year,
        gini=weighted_gini(per_100k.to_numpy(), population.to_numpy()),
        top_quintile_per_100k=_rate(top),
        bottom_quintile_per_100k=_rate(bottom),
        forces_with_none=len(none),
        population_share_with_none=float(population[none].sum() / population.sum()),
    )


def inequality_over_time(
    register: pd.DataFrame,
    forces: pd.DataFrame,
    provision_classes: Mapping[str, str],
    years: Sequence[int],
    snapshot_year: int = 2026,
) -> pd.DataFrame:
    rows = []
    for year in years:
        result = inequality(register, forces, provision_classes, year, snapshot_year)
        counts = services_per_force(register, list(forces["code"]), year, snapshot_year)
        rows.append(
            {
                "year": year,
                "gini": result.gini,
                "forces_with_no_local_service": result.forces_with_none,
                "population_share_with_no_local_service": result.population_share_with_none,
                "local_services": int(counts.sum()),
            }
        )
    return pd.DataFrame(rows)


def national_figures(
    forces: pd.DataFrame,
    register: pd.DataFrame,
    crime: pd.DataFrame,
    measure: Measure = HEADLINE_MEASURE,
    period: str | None = None,
    years: Sequence[int] = range(2015, 2027),
) -> dict[str, Any]:
    """The postcode lottery in one JSON-ready mapping: the page, the CLI summary and briefings use it.
    Offences are ``measure`` (stalking, 8Q, unless asked) in ``period`` (the latest in the data)."""
    from coverage.model.register import provision_flags

    period = period or latest_period(crime, measure)
    flags = provision_flags(register, list(forces["code"]))
    offences = offences_by_force(crime, measure, period)
    shares = coverage_shares(flags, forces, offences).set_index("measure")
    classes = dict(zip(flags["code"], flags["provision_class"]))
    now = inequality(register, forces, classes)
    figures: dict[str, Any] = {
        "forces": len(forces),
        "snapshot": REGISTER_SNAPSHOT,
        "offences_measure": measure.name,
        "offences_period": period,
        "offences_note": measure.caveat,
        "population_period": "mid-2023, aged 16+",
    }
    for flag, short in SUMMARY_MEASURES:
        row = cast("pd.Series[Any]", shares.loc[flag])  # one row per measure: the index is unique
        figures[f"forces_with_{short}"] = int(row["forces"])
        figures[f"population_16plus_share_{short}"] = round(float(row["population_16plus_share"]), 4)
        figures[f"offences_share_{short}"] = round(float(row["offences_share"]), 4)
    figures["provision_classes"] = {key: int(count) for key, count in flags["provision_class"].value_counts().items()}
    figures["inequality"] = {
        "method": INEQUALITY_METHOD,
        "gini_services_per_100k_16plus": round(now.gini, 3),
        "top_quintile_services_per_100k_16plus": round(now.top_quintile_per_100k, 3),
        "bottom_quintile_services_per_100k_16plus": round(now.bottom_quintile_per_100k, 3),
        "quintile_ratio": None if now.quintile_ratio is None else round(now.quintile_ratio, 2),
    }
    trend = inequality_over_time(register, forces, classes, list(years))
    figures["by_year"] = [
        {k: (round(v, 4) if isinstance(v, float) else int(v)) for k, v in row.items()}
        for row in trend.to_dict("records")
    ]
    return figures


@dataclass(frozen=True)
class AreaAnswer:
    code: str
    name: str
    provision_label: str
    present: tuple[str, ...]  # plain sentences: what exists, with status
    missing: tuple[str, ...]  # what was not found
    comparison: str
    status_unknown: bool
    searched: bool = True  # False where the research did not cover the area: unknown, never "none"


def area_answer(code: str, table: pd.DataFrame, register: pd.DataFrame) -> AreaAnswer:
    """What exists in one force area and what does not, in words, from the register.

    ``table`` is the provision table (``atlas_data.provision_table``), which carries the flags.
    """
    from coverage.model.register import STATUS_LABELS, services_for_force

    row = table.set_index("code").loc[code]
    local = services_for_force(register, code, include_national=False)
    searched = bool(row["searched"])  # the provision table's flag: any local row, "none found" included
    status_unknown = bool(row.get("class_status_unknown", False))
    present, missing = [], []
    for service in LOCAL_SERVICE_TYPES:
        description = service.in_sentence
        if bool(row[service.flag]):
            rows = local[(local["service_type"] == service.key) & local["status"].isin(COUNTING_STATUSES)]
            named = "; ".join(
                f"{name} ({STATUS_LABELS.get(status, status).lower()})"
                for name, status in zip(rows["service_name"], rows["status"])
            )
            present.append(f"{description[0].upper()}{description[1:]}: {named}")
        elif bool(row[SERVICE_TYPE["multi_agency_unit"].flag]) and service.done_by_unit:
            continue  # a multi-agency unit does this kind of work itself (clinic, perpetrator programme)
        elif searched:  # an area nobody searched has nothing "not found": its provision is unknown
            missing.append(description)
    best = table[table["provision_class"] == "multi_agency_unit"]["name"].tolist()
    none = int((table["provision_class"] == "national_only").sum())
    if not searched:
        comparison = (
            "The research search did not cover this area in depth, so what exists here is unknown; "
            "unknown is not the same as none."
        )
    elif row["provision_class"] == "multi_agency_unit" and status_unknown:
        comparison = (
            f"This is one of the {len(best)} areas classed as having a multi-agency stalking unit, but whether "
            "its services are still running could not be confirmed."
        )
    elif row["provision_class"] == "multi_agency_unit":
        comparison = f"This is one of the {len(best)} best-served areas, with a multi-agency stalking unit."
    else:
        comparison = (
            f"The best-served areas ({', '.join(best)}) have a multi-agency stalking unit; "
            f"{none} of 43 areas have no local specialist service found at all."
        )
    return AreaAnswer(
        code=code,
        name=str(row["name"]),
        provision_label=str(row["provision_label"]),
        present=tuple(present),
        missing=tuple(missing),
        comparison=comparison,
        status_unknown=status_unknown,
        searched=searched,
    )


# ---- who to contact ------------------------------------------------------------------------


def help_regions(result: LookupResult) -> list[str]:
    """Where the contacts for an answer come from: England and Wales for an answer with a force, and
    any jurisdiction outside it that the place is in or reaches into (``TD12``: also Scotland).

    A place outside England and Wales gets only its own jurisdiction's services, never England and
    Wales ones; an answer with no place (not found, invalid) gets none."""
    regions = [ENGLAND_AND_WALES] if (result.force_code or result.force_codes) else []
    if result.jurisdiction and result.jurisdiction not in regions:
        regions.append(result.jurisdiction)
    return regions


@dataclass(frozen=True)
class NationalService:
    """A national service of the register (open to everyone in England and Wales) and how to reach it."""

    service_id: str
    name: str
    provider: str
    status: str  # in words: "Active", "Status unknown", …
    contact: Contact | None  # None: the atlas holds no checked contact for it


def national_help(register: pd.DataFrame, contacts: Sequence[Contact]) -> list[NationalService]:
    """The register's national services a victim can contact (not funding streams), each with its
    contact row, matched by ``service_id``; a service without one is listed with ``contact=None``."""
    from coverage.model.register import STATUS_LABELS

    by_service = {c.service_id: c for c in contacts if c.service_id and c.region == ENGLAND_AND_WALES}
    # A service that can be phoned first, then one with a web address, then one the atlas cannot reach.
    national = register[
        register["force_codes"].eq(NATIONAL_FORCE_CODES) & register["service_type"].ne("funding_stream")
    ]
    services = [
        NationalService(
            service_id=str(row.service_id),
            name=str(row.service_name),
            provider=str(row.provider),
            status=STATUS_LABELS.get(str(row.status), str(row.status)),
            contact=by_service.get(str(row.service_id)),
        )
        for row in national.itertuples(index=False)
    ]
    return sorted(services, key=lambda s: (s.contact is None, not (s.contact and s.contact.phone)))


def display_url(url: str) -> str:
    """A web address as people read it: "www.suzylamplugh.org", "paladinservice.co.uk/get-support"."""
    shown = url.split("://", 1)[-1]
    return shown[:-1] if shown.endswith("/") else shown


@dataclass(frozen=True)
class SourcedText:
    """A sentence the answer states, with the pages it rests on (publisher, title, date, address)."""

    text: str
    sources: tuple[tuple[str, str, str, str], ...]
    checked: str


_POLICE_101 = (
    "Home Office (archived by The National Archives, 16 Aug 2012)",
    "101 - Police non-emergency number",
    "2012",
    "https://webarchive.nationalarchives.gov.uk/20120816233649/http:/www.homeoffice.gov.uk/police/101-police-non-emergency/",
)
_CAMBS_AFTER_REPORT = (
    "Cambridgeshire Constabulary",
    "What happens after I report online?",
    "undated",
    "https://www.cambs.police.uk/police-forces/cambridgeshire-constabulary/areas/campaigns/campaigns/"
    "what-can-and-should-be-reported-online/what-happens-after-i-report-online/",
)

# Said wherever an answer names more than one force. The Home Office page: "When a member of the
# public calls 101, they are connected to their local police force"; Cambridgeshire's: "we'll make
# sure that we're the right people to investigate the crime. If we're not, we'll direct your report
# to the appropriate agency." No stored police page was found saying in so many words which force
# investigates stalking that crosses a boundary, so the answer does not say it.
WHICH_FORCE_STRADDLE = SourcedText(
    "This postcode district is split between the police force areas below: yours is the "
    "one that covers your address, so look at each. If the stalking happens somewhere else, you can "
    "still contact the police where you live: calling 101 connects you to your local police force, and a "
    "force that is not the right one to investigate directs your report to the one that is.",
    (_POLICE_101, _CAMBS_AFTER_REPORT),
    "2026-12-01",
)
WHICH_FORCE_NAME = SourcedText(
    "This name covers more than one police force area: yours is the one that covers your "
    "address (type your postcode to find it). Calling 101 connects you to your local police force, and a "
    "force that is not the right one to investigate directs your report to the one that is.",
    (_POLICE_101, _CAMBS_AFTER_REPORT),
    "2026-12-01",
)
