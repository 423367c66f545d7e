"""The datasets the atlas ships: publisher, period, licence and what was done to each.

One list feeds the Data & methods page, ``data/catalogue.csv`` and every ``SOURCE.md``
that ``build-data`` writes, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from coverage.vocabulary import HOME_OFFICE_ATTRIBUTION, HOME_OFFICE_CRIME_SOURCE, OGL_V3, ONS_ATTRIBUTION, ONS_SOURCE

# The register's vintage, said once: every caption, chart footer and briefing reads it from here.
REGISTER_CHECKED = ("26 November 2026", "1 December 2026")
REGISTER_SNAPSHOT = "services as found by a research search in early 2026, key claims re-checked on " + " and ".join(
    REGISTER_CHECKED
)


@dataclass(frozen=True)
class Dataset:
    key: str
    file: str
    title: str
    publisher: str
    period: str
    licence: str
    attribution: str
    obtained_from: str
    processing: str
    # Ids in the sources registry (data/sources.csv) of the official tables the file is made from, ';'-separated.
    source_ids: str = ""


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        key="boundaries",
        file="data/boundaries/pfa_dec2023_simplified.geojson",
        title="Police Force Areas (December 2023) Boundaries EW BSC",
        publisher="Office for National Statistics (Open Geography Portal)",
        period="December 2023 boundaries (PFA23CD / PFA23NM)",
        licence=OGL_V3,
        attribution=ONS_ATTRIBUTION,
        obtained_from=(
            "ONS shapefile PFA_DEC_2023_EW_BSC (EPSG:27700, 43 features), as committed in the public "
            "GitHub repository burysek/immigration_and_crime (commit 7609310, 2025-05-11); see shared/data/PROVENANCE.md"
        ),
        processing=(
            "Checked (43 unique PFA codes, polygons, valid); simplified on shared arcs with the topojson "
            "package (Douglas–Peucker, 350 m tolerance on the British National Grid) so neighbours never "
            "overlap or leave gaps; reprojected to EPSG:4326; coordinates rounded to 4 decimal places; "
            "fields kept: code, name. Display only: not an official boundary."
        ),
    ),
    Dataset(
        key="forces",
        file="data/forces/forces.csv",
        title="Police force areas: names, country, region, population mid-2023, area",
        publisher="Office for National Statistics",
        period="Population mid-2023 (published 15 July 2024); names and LAD → PFA lookup December 2023",
        licence=OGL_V3,
        attribution=ONS_SOURCE,
        obtained_from=(
            "ONS 'Local Authority District to Community Safety Partnerships to Police Force Areas (December 2023)' "
            "lookup and 'Estimates of the population for England and Wales: mid-2023' (sheets MYE2, MYE4, MYE5), "
            "summed from local authorities to force areas; region from the nesting of forces under regions in the "
            "ONS police force area data tables (year ending December 2023). Copies from public GitHub repositories "
            "jamesLSI/ecom185 and burysek/immigration_and_crime; see shared/data/PROVENANCE.md"
        ),
        processing=(
            "One row per force: ONS code and name (display name 'City of London' for ONS 'London, City of'), "
            "country, region, population mid-2023 all ages and aged 16+, land area (km², MYE5), number of local "
            "authorities. Population 16+ is the denominator for per-person rates."
        ),
        source_ids="D002;D003",
    ),
    Dataset(
        key="services",
        file="data/services/register.csv",
        title="Register of specialist stalking services by police force area, with a sources table",
        publisher="Stalking Provision Atlas, from a research draft citing public sources, checked in part",
        period=(
            "Services from 2010 to 2026; research search completed early 2026 (latest source dated 3 Feb 2026); "
            "the most consequential claims re-checked against stored copies of public pages on 2026-11-26, and a "
            "review of twelve rows, three missing services and the City of London on 2026-12-01"
        ),
        licence="Register: Open Government Licence v3.0 terms offered by the project; each fact belongs to its cited source",
        attribution="Stalking Provision Atlas service register; see data/sources.csv for every source",
        obtained_from=(
            "shared/research/service_register_draft.csv and services_and_demand.md (numbered source list); checks and "
            "corrections in data/services/verification.csv and CHANGES.md (new sources V001–V032)"
        ),
        processing=(
            "One row per service (multi-agency unit, clinic or panel, independent stalking advocacy, perpetrator "
            "programme, dedicated police team, national helpline, education, funding stream), placed by the force "
            "areas it covers, never by address; force names matched to ONS codes; a 'none found' row (source R001, "
            "the research search) for each searched force with no local specialist service; the City of London, which "
            "the first search did not cover in depth, was searched in the December 2026 review (none found). "
            "Corrections from the checks are applied in code (coverage/build/register.py) and listed in CHANGES.md. "
            "Each row carries "
            "status, confidence, last-verified date and source ids."
        ),
    ),
)


POSTCODE_ATTRIBUTION = (
    "Contains Royal Mail data © Royal Mail copyright and database right 2020. Contains OS data © Crown copyright "
    "and database right 2020. Postcode district centroids compiled by doogal.co.uk."
)

_LOOKUP_DATASETS = (
    Dataset(
        key="postcodes",
        file="data/postcodes/outward_codes.csv",
        title="Postcode districts (outward codes) → police force area, with districts that straddle a border flagged",
        publisher="doogal.co.uk (Chris Bell), compiled from ONS Postcode Directory / OS Code-Point Open; not an official ONS product",
        period="About late 2020 (districts); force areas December 2023",
        licence="Open Government Licence v3.0 for the underlying ONS/OS data; doogal's own terms for the compiled table could not be checked",
        attribution=POSTCODE_ATTRIBUTION,
        obtained_from=(
            "doogal 'Postcode districts.csv' as committed in the public GitHub repository dotCoder876/carbonintensity "
            "(commit 0e94a48, 2020-12-22), with the PFA of each district centroid added by point-in-polygon against "
            "the ONS December 2023 BSC boundaries; see shared/data/PROVENANCE.md section 4"
        ),
        processing=(
            "One row per district: the force containing its centroid, and every candidate force when the centroid "
            "lies within 2 km of another force (nearest other force measured on the atlas's simplified boundaries) "
            "or the district's local-authority name points to another force. Such districts are answered as "
            "'straddles', never silently assigned. Non-geographic (PO box) districts have no force; postcode areas "
            "in Scotland, Northern Ireland and the Crown Dependencies are answered 'outside England and Wales'. "
            "Indicative only: for authoritative postcode → force use the ONS Postcode Directory."
        ),
    ),
    Dataset(
        key="local_authorities",
        file="data/postcodes/local_authorities.csv",
        title="Local Authority District → Police Force Area (December 2023) lookup",
        publisher="Office for National Statistics (Open Geography Portal)",
        period="December 2023 (LAD23 → PFA23)",
        licence=OGL_V3,
        attribution=ONS_SOURCE,
        obtained_from="ONS LAD → CSP → PFA (December 2023) lookup, via the public GitHub repository jamesLSI/ecom185; see shared/data/PROVENANCE.md",
        processing="Distinct LAD23CD, LAD23NM, PFA23CD; each of the 318 local authorities maps to exactly one force.",
        source_ids="D003",
    ),
)


CONTACTS_DATASET = Dataset(
    key="contacts",
    file="data/services/contacts.csv",
    title="How to reach the police and the national stalking services, in England and Wales and beyond",
    publisher="Stalking Provision Atlas, from each service's own published page",
    period="Read on 2026-12-01 from stored copies of public pages; each row gives its page's date",
    licence="Facts belong to each cited page; the table is offered under the Open Government Licence v3.0 terms",
    attribution="Each row cites the page its number or address was read on",
    obtained_from="coverage/build/contacts.py: every number and address with its page (title, publisher, URL, date)",
    processing=(
        "One row per way of contact (999, 101, each national service; the police and support services of "
        "Scotland, Northern Ireland, the Isle of Man, Jersey and Guernsey). A number is shipped only when the "
        "service's own page gives it; otherwise the row has its web address only and says so."
    ),
)


RECORDED_CRIME_DATASET = Dataset(
    key="recorded_crime",
    file="data/indicators/recorded_crime.csv",
    title=(
        "Police recorded crime by offence code: stalking (8Q), harassment (8L), racially or religiously "
        "aggravated harassment (8M), malicious communications (8R), controlling or coercive behaviour (8U) "
        "and their sum (the ONS 'Stalking and harassment' group), by police force area, region, country and "
        "England and Wales, years ending December"
    ),
    publisher="Home Office",
    period="Years ending December, as far as the release goes (the April 2026 release: to December 2025); population mid-2023",
    licence=OGL_V3,
    attribution=HOME_OFFICE_ATTRIBUTION,
    obtained_from=(
        f"{HOME_OFFICE_CRIME_SOURCE}, file prc-pfa-mar2013-onwards-tables-230426.ods, as converted to a long "
        "table in the public GitHub repository robertmaszkiewski/uk-crime-analysis (commit 486c31f, 2026-06-18) "
        "and extracted to the five offence codes; see shared/data/PROVENANCE.md section 6"
    ),
    processing=(
        "Years ending December (Q4 of one financial year plus Q1–Q3 of the next) for the 43 territorial forces; "
        "British Transport Police excluded. Regions, England, Wales and England and Wales are the sums of their "
        "forces (England and Wales checked to equal the source's own sum). The group is the sum of the codes "
        "listed for the period (8R from 2017/18, 8U from 2020/21). A code the source does not list is blank, "
        "never zero. Counts only: rates are worked out by the atlas as offences ÷ ONS mid-2023 population × "
        "1,000 (all ages, and aged 16+)."
    ),
    source_ids="D001;D002",
)


def _indicators_dataset() -> Dataset:
    from coverage.model.indicators import INDICATOR_DATASET

    return Dataset(key="indicators", file="data/indicators/indicators.csv", source_ids="S145;D002", **INDICATOR_DATASET)


DATASETS = DATASETS + (CONTACTS_DATASET, RECORDED_CRIME_DATASET, _indicators_dataset()) + _LOOKUP_DATASETS


def catalogue_table() -> pd.DataFrame:
    return pd.DataFrame([asdict(d) for d in DATASETS])


def dataset(key: str) -> Dataset:
    for entry in DATASETS:
        if entry.key == key:
            return entry
    raise KeyError(key)


def source_markdown(entries: list[Dataset]) -> str:
    """SOURCE.md text for a data folder."""
    lines = ["# Source", "", "Written by `python -m coverage build-data`; do not edit by hand.", ""]
    for entry in entries:
        lines += [
            f"## `{entry.file}`",
            "",
            f"- **Title:** {entry.title}",
            f"- **Publisher:** {entry.publisher}",
            f"- **Period:** {entry.period}",
            f"- **Licence:** {entry.licence}",
            f"- **Attribution:** {entry.attribution}",
            f"- **Obtained from:** {entry.obtained_from}",
            f"- **What was done:** {entry.processing}",
            *(
                [f"- **Sources:** {entry.source_ids.replace(';', ', ')} (in data/sources.csv)"]
                if entry.source_ids
                else []
            ),
            "",
        ]
    return "\n".join(lines)
