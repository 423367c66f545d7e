"""Build the shipped service register and its sources from the research draft.

The register's sources (the research list, ``R001`` and ``V…``) are merged with the curated planner
and indicator sources into the one registry, ``data/sources.csv`` (``coverage/build/sources.py``), and
every row's source ids are checked against that registry.

Inputs (in the research directory, read only at build time):

- ``service_register_draft.csv``: one row per service found, by force name;
- ``services_and_demand.md``: the research write-up, whose "Numbered source list" gives every
  source cited by an id such as ``S050``.

Every draft row becomes one register row, typed by ``DRAFT_SERVICE_TYPES``; the draft's catch-all
"other" rows are typed by a small curated table (``OTHER_ROW_RULES``) and an "other" row that the
table does not cover stops the build. Then a fixed, reviewable overlay is applied, all of it defined
in this module so the build is reproducible without anything but the research folder:

- ``FUNDING``: the funder or amount the draft states for a service, copied into ``funding``;
- ``CORRECTIONS``: the outcome of checking the most consequential rows against stored copies of
  public pages (``CHECK_DATE``), each citing its evidence (sources ``V001``… in
  ``VERIFICATION_SOURCES``); the evidence is logged in ``data/services/verification.csv`` and the
  changes in ``data/services/CHANGES.md``;
- ``ADDED_SERVICES``: services found during those checks, each with a source.

A second round of checks, the December 2026 register review (``REVIEW_CHECK_DATE``), is expressed the
same way: its corrections and added services carry ``verified=REVIEW_CHECK_DATE`` and cite sources
``V020``… It also searched the City of London, which the research had not covered: its ``none_found``
row is an added service citing that search's sources, not the research search (``R001``).

Finally every searched force with no counting local advocacy, perpetrator programme, unit or clinic
gets a ``none_found`` row, so each searched force has a row that says what was (not) found.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pandas as pd

from coverage.build.sources import CURATED_SOURCES_CSV, mark_used, merge_registry, read_curated_sources
from coverage.errors import InputErrors
from coverage.model.register import (
    COUNTING_STATUSES,
    NATIONAL_FORCE_CODES,
    REGISTER_COLUMNS,
    SOURCES_COLUMNS,
    split_list,
    validate_register,
    validate_sources,
)
from coverage.sources import Source
from coverage.vocabulary import SPECIALIST_LOCAL_TYPE_KEYS

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
# "other" (None) is typed row by row through OTHER_ROW_RULES.
DRAFT_SERVICE_TYPES: dict[str, str | None] = {
    "masip": "multi_agency_unit",
    "stalking_clinic": "stalking_clinic",
    "isac": "advocacy",
    "perpetrator_programme": "perpetrator_programme",
    "helpline": "helpline",
    "other": None,
}
DRAFT_COVERAGES = {"full": "force_wide", "partial": "partial", "national": "national", "": "unknown"}

# Names people use that differ from the ONS name by more than case, spacing or "&"/"and".
FORCE_NAME_ALIASES = {"City of London": "London, City of"}
# The research says City of London was "not searched in depth", so its draft "nothing found" row is
# dropped and the build adds no R001 none_found row for it. The December 2026 review searched the City:
# its none_found row is in ADDED_SERVICES, citing the pages that search read (V015, V030-V032).
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

_SOURCE_LINE = re.compile(
    r"^(?P<number>\d+)\.\s+\((?P<source_id>[A-Z]+\d+)\)\s+(?P<publisher>.+?)\s+-\s+"
    r"\*(?P<title>.+)\*\s+-\s+(?P<date>.+?)\s+-\s+(?P<links>(?:https?://|\(URL not captured\)).*)$"
)
_URL_NOT_CAPTURED = "(URL not captured)"
_URLS = re.compile(r"^(?P<urls>https?://\S+(?:\s+;\s+https?://\S+)*)\s*(?P<rest>.*)$")

# A draft row whose name starts like this records a search that found nothing, whatever its type.
NONE_FOUND_PREFIX = "No stalking-specific"
NONE_FOUND_NAME = "No stalking-specific local service found in the research search"
# The row added for a searched force whose only local rows are police posts, education or ended services.
ADDED_NONE_FOUND_NAME = (
    "No stalking-specific advocacy, perpetrator programme or multi-agency unit found in the research search"
)
ADDED_NONE_FOUND_NOTE = (
    "Added by the build: the register has no counting local advocacy, perpetrator programme, "
    "multi-agency unit or clinic for this force (any police team, education or ended service is listed separately)."
)

# Draft "nothing found" rows without source ids take the ids table A of the write-up gives for
# that force (none for Humberside, Northamptonshire, Warwickshire); R001 is always added.
TABLE_A_SOURCE_IDS: dict[str, tuple[str, ...]] = {
    "Gwent": ("S129",),
    "South Wales": ("S181",),
    "Suffolk": ("S171",),
}


# ---------------------------------------------------------------------------------------------
# Curated tables. Each entry names a draft row by its force name and a fragment of its draft
# service name (case-insensitive); a fragment matching more than one row is an error.


@dataclass(frozen=True)
class OtherRowRule:
    """How to type one draft "other" row: ``service_type`` None means the row is left out."""

    force: str
    fragment: str
    service_type: str | None
    reason: str


OTHER_ROW_RULES: tuple[OtherRowRule, ...] = (
    OtherRowRule(
        DRAFT_NATIONAL_FORCE_NAME,
        "Alice Ruggles Trust education",
        "education",
        "PSHE lessons, assemblies and professional training: prevention, not a service for a victim",
    ),
    OtherRowRule(
        DRAFT_NATIONAL_FORCE_NAME,
        "Perpetrator Intervention Fund",
        "funding_stream",
        "a Home Office grant that PCCs bid into, not a service",
    ),
    OtherRowRule("Bedfordshire", "Stalking Prevention & Intervention Unit", "police_team", "standing police unit"),
    OtherRowRule("Derbyshire", "Stalking Coordinator", "police_team", "standing police post (PCC funded)"),
    OtherRowRule(
        "Devon and Cornwall",
        "Force review of",
        None,
        "a one-off review of about 600 stalking cases after a homicide (Jan 2025), not a standing service or team",
    ),
    OtherRowRule("Durham", "Alice Ruggles Trust schools programme", "education", "school lessons and assemblies"),
    OtherRowRule("Greater Manchester", "Stalking Triage Centre", "police_team", "police advice hub (pilot)"),
    OtherRowRule(
        "Kent",
        "Protection Against Stalking West Kent",
        None,
        "an awareness and coordination pilot (2017) whose local advocate post was only planned in the "
        "source (S090); no evidence was found that the post was filled",
    ),
    OtherRowRule("North Wales", "Dedicated police stalking co-ordinator", "police_team", "standing police post"),
    OtherRowRule(
        "North Yorkshire",
        "Multi-agency approach to stalking promoted",
        "none_found",
        "the row itself says no dedicated stalking service was confirmed",
    ),
    OtherRowRule("Northumbria", "Alice Ruggles Trust school assemblies", "education", "school assemblies"),
    OtherRowRule(
        "Northumbria", "cyber-stalking & harassment investigation team", "police_team", "standing police team (2017)"
    ),
    OtherRowRule("South Yorkshire", "Dedicated stalking team in each district", "police_team", "standing police teams"),
    OtherRowRule("Thames Valley", "Stalking Tactical Advisor", "police_team", "standing police posts"),
)


@dataclass(frozen=True)
class FundingNote:
    """The funder or amount the draft states for one service (its name, provider or table A row)."""

    force: str
    fragment: str
    funding: str


FUNDING: tuple[FundingNote, ...] = (
    FundingNote(DRAFT_NATIONAL_FORCE_NAME, "National Stalking Helpline", "Home Office (part funded)"),
    FundingNote(DRAFT_NATIONAL_FORCE_NAME, "Perpetrator Intervention Fund", "Home Office"),
    FundingNote("Cambridgeshire", "Specialist stalking IDVA", "Cambridgeshire PCC"),
    FundingNote(
        "Cambridgeshire",
        "Multi-agency stalking intervention team",
        "HO perpetrator fund 2021-22 (over £300k within a £500k project)",
    ),
    FundingNote("Cambridgeshire", "HO DAPIF 2023-25 package", "HO DAPIF 2023-25, £786,138 (DA and stalking)"),
    FundingNote("Cheshire", "Harm Reduction Unit", "HO DAPIF over £1m (2023) for embedded specialist prosecutors"),
    FundingNote(
        "Cleveland", "Stalking advocacy service", "Cleveland PCC to 31 Mar 2025; Suzy Lamplugh Trust match funding"
    ),
    FundingNote("Derbyshire", "Stalking Coordinator", "Derbyshire PCC"),
    FundingNote("Dorset", "Independent Stalking Advocacy Caseworker", "Dorset OPCC (financial support)"),
    FundingNote("Durham", "Alice Ruggles Trust schools programme", "Durham PCC (assemblies, 2024)"),
    FundingNote("Essex", "'Stalking intervention' project", "HO DAPIF 2023-25, up to £1,687,170"),
    FundingNote("Gloucestershire", "Gloucestershire Stalking Advocacy Service", "Hollie Gazzard Trust"),
    FundingNote("Greater Manchester", "Stalking Triage Centre", "Greater Manchester Combined Authority"),
    FundingNote("Hampshire", "Multi-Agency Stalking Partnership", "Home Office, over £1m (2023-25)"),
    FundingNote("Hampshire", "Stalking Advocacy and Support Service", "£130,000 a year"),
    FundingNote(
        "Hertfordshire",
        "Six Independent Stalking Advocacy Caseworkers",
        "MHCLG and Hertfordshire County Council (at launch)",
    ),
    FundingNote("Kent", "Compulsive and Obsessive Behaviour Intervention", "HO DAPIF 2023-25, up to £1,638,597"),
    FundingNote("Merseyside", "Pilot stalking and harassment service", "Merseyside PCC"),
    FundingNote(
        "Metropolitan Police",
        "Stalking Threat Assessment Centre",
        "MOPAC (from 2020); NHS England £480k for 2024/25-2025/26",
    ),
    FundingNote(
        "Metropolitan Police",
        "London Stalking Support Service",
        "MOPAC VAWG Fund (from Oct 2019); up to £240k a year 2024-26",
    ),
    FundingNote("Northumbria", "Alice Ruggles Trust school assemblies", "Northumbria PCC"),
    FundingNote("Northumbria", "Specialist stalking worker", "Northumbria PCC grant"),
    FundingNote(
        "Northumbria", "cyber-stalking & harassment investigation team", "HO VAWG transformation fund £646,287.18"
    ),
    FundingNote("Nottinghamshire", "Stalking Advocacy Service", "Nottinghamshire PCC, £243,946 (2019-2023)"),
    FundingNote("South Yorkshire", "COBI delivered remotely", "South Yorkshire PCC/Mayor"),
    FundingNote("Surrey", "Stalking Advocate (1 FTE)", "£67,988 (Dec 2022 to Mar 2024)"),
    FundingNote("Surrey", "COBI stalking programme", "£240,848.70 in 2022/23"),
    FundingNote("Sussex", "Sussex-wide stalking advocacy", "Sussex OSPCC"),
    FundingNote("Sussex", "Stalking perpetrator intervention", "Home Office grant £98,000 (2020)"),
    FundingNote("Thames Valley", "Thames Valley Stalking Service", "£120,000 a year, funded until 2025"),
    FundingNote("West Midlands", "Stalking intervention programme", "West Midlands PCC, £200,000"),
    FundingNote("West Midlands", "HO DAPIF 2023-25 project", "HO DAPIF 2023-25"),
    FundingNote(
        "West Yorkshire", "West Yorkshire Independent Stalking Advocate Service", "Mayor of West Yorkshire, over £450k"
    ),
    FundingNote("West Yorkshire", "Safer Steps", "West Yorkshire Combined Authority"),
    FundingNote("Wiltshire", "OPCC-funded", "Wiltshire OPCC"),
)


# The checks were made on this date, against stored copies of public web pages (no live pages).
CHECK_DATE = "2026-11-26"
# The December 2026 register review (shared/research/register_review_2026-12.md): each of its claims was
# checked again on this date against stored copies of public pages before a row was changed.
REVIEW_CHECK_DATE = "2026-12-01"


def check_note_prefix(checked_on: str) -> str:
    """The words that open a checked row's note, with the date of the check."""
    return f"Checked {checked_on} against stored copies of public pages: "


VERIFICATION_SOURCES: tuple[dict[str, str], ...] = (
    {
        "source_id": "V001",
        "publisher": "Metropolitan Police",
        "title": "Met response following investigation into the national stalking complaint",
        "date": "undated (after Sep 2024)",
        "url": "https://www.met.police.uk/police-forces/metropolitan-police/areas/about-us/about-the-met/met-response-following-investigation-national-stalking-complaint/",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V002",
        "publisher": "Chester Nub News",
        "title": "Cheshire Constabulary intensifies efforts to combat stalking during national awareness week",
        "date": "22 Apr 2025",
        "url": "https://chester.nub.news/news/local-news/cheshire-constabulary-highlights-the-role-of-health-professionals-in-spotting-stalking-258031",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V003",
        "publisher": "OnTheWight",
        "title": "Multi-Agency Stalking Partnership funded by local PCC gains recognition",
        "date": "c. Oct 2024",
        "url": "https://onthewight.com/multi-agency-stalking-partnership-funded-by-local-pcc-gains-recognition",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V004",
        "publisher": "Paladin National Stalking Advocacy Service",
        "title": "Advice for professionals",
        "date": "undated",
        "url": "https://paladinservice.co.uk/guidance-for-professionals/",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V005",
        "publisher": "Office of the Northumbria PCC",
        "title": "'We just want to help prevent what happened to Alice happening to others', says stalking victim's dad",
        "date": "Apr 2025",
        "url": "https://northumbria-pcc.gov.uk/we-just-want-to-help-prevent-what-happened-to-alice-happening-to-others-says-stalking-victims-dad",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V006",
        "publisher": "Office of the Surrey PCC",
        "title": "Decision 35/2022 Victim & Witness Care Unit Stalking Advocate 2022",
        "date": "9 Dec 2022",
        "url": "https://www.surrey-pcc.gov.uk/ca/decisions/35-2022-vwcu-stalking-advocate/",
        "note": "Catalan-language rendering of the page; the recommendation is in English",
    },
    {
        "source_id": "V007",
        "publisher": "Office of the Surrey PCC",
        "title": "'Fantastic' hub tackling domestic abuse in Surrey will remain open as new funding is secured",
        "date": "2025",
        "url": "https://surrey-pcc.gov.uk/fantastic-hub-tackling-domestic-abuse-surrey-remain-open-new-funding-secured",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V008",
        "publisher": "Western Morning News (PA)",
        "title": "Stalkers and domestic abusers targeted with £39m Home Office funding (project examples)",
        "date": "May 2023",
        "url": "https://westernmorning.news/?p=59275",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V009",
        "publisher": "Yorkshire Coast Radio (thisisthecoast.co.uk)",
        "title": "Dedicated police stalking team in North Yorkshire could be expanded",
        "date": "undated (c. 2025)",
        "url": "https://thisisthecoast.co.uk/news/local-news/dedicated-police-stalking-team-in-north-yorkshire-could-be-expanded",
        "note": "stored copy read during verification; date not shown",
    },
    {
        "source_id": "V010",
        "publisher": "D3 Tenders (copy of a UK public procurement notice)",
        "title": "Provision of a Stalking Service in Staffordshire & Stoke-on-Trent (PFCC for Staffordshire)",
        "date": "tender notice 8 Apr 2026",
        "url": "https://d3tenders.com/contract/?ocid=ocds-h6vhtk-0659dc",
        "note": "third-party copy of the notice; contract due to start 1 Dec 2026",
    },
    {
        "source_id": "V011",
        "publisher": "D3 Tenders (copy of a UK public procurement notice)",
        "title": "Stalking Advocacy Service (PCC for Dyfed Powys)",
        "date": "tender update 30 Mar 2026",
        "url": "https://d3tenders.com/contract/?ocid=ocds-h6vhtk-066d05",
        "note": "third-party copy of the notice; contract 1 Sep 2026 to 31 Mar 2029",
    },
    {
        "source_id": "V012",
        "publisher": "Greatest Hits Radio Gloucestershire (hellorayo.co.uk)",
        "title": "Gloucestershire charity says the more awareness about stalking the better",
        "date": "22 Apr 2025",
        "url": "https://hellorayo.co.uk/greatest-hits/gloucestershire/news/gloucestershire-charity-more-awareness-about-stalking",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V013",
        "publisher": "Andover Advertiser",
        "title": "Stalking advocacy support service goes live across Hampshire",
        "date": "Jul 2023",
        "url": "https://www.andoveradvertiser.co.uk/news/23642642.stalking-advocacy-support-service-goes-life-across-hampshire/",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V014",
        "publisher": "Clacton & Frinton Gazette",
        "title": "Essex domestic abuse agencies join forces for anti-stalking week",
        "date": "19 Apr 2024",
        "url": "https://www.clactonandfrintongazette.co.uk/news/24260880.essex-domestic-abuse-agencies-join-forces-anti-stalking-week/",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V015",
        "publisher": "City of London Police",
        "title": "Support for National Stalking Awareness Week 2017 in the City of London",
        "date": "Apr 2017",
        "url": "http://news.cityoflondon.police.uk/r/802/support_for_national_stalking_awareness_week_2017",
        "note": "stored copy read during verification; awareness stalls only, no local service named",
    },
    {
        "source_id": "V016",
        "publisher": "Veritas Justice",
        "title": "Stalking Advocacy Service",
        "date": "undated",
        "url": "https://veritas-justice.co.uk/stalking-advocacy-services/",
        "note": "stored copy read during verification",
    },
    {
        "source_id": "V017",
        "publisher": "Scarborough News",
        "title": "Stalking Awareness Week 'a very important week of action' for Humberside Police",
        "date": "22 Apr 2025",
        "url": "https://www.thescarboroughnews.co.uk/news/crime/stalking-awareness-week-a-very-important-week-of-action-for-humberside-police-in-east-yorkshire-5094338",
        "note": "stored copy read during verification; no local stalking service named",
    },
    {
        "source_id": "V018",
        "publisher": "Northamptonshire Police",
        "title": "Police advise stalking victims to trust their instincts and report their concerns",
        "date": "8 Sep 2022",
        "url": "https://www.northants.police.uk/news/northants/news/news/2022/september-22/police-advise-stalking-victims-to-trust-their-instincts-and-report-their-concerns/",
        "note": "stored copy read during verification; no local stalking service named",
    },
    {
        "source_id": "V019",
        "publisher": "Office of the Gwent PCC",
        "title": "Commissioning intentions 2025-26",
        "date": "2025",
        "url": "https://www.gwent.pcc.police.uk/en/what-we-spend/commissioning/strategic-commissioning/commissioning-intentions-2025-26",
        "note": "stored copy read during verification (opening sections); no stalking-specific service seen",
    },
    # Read during the December 2026 register review (REVIEW_CHECK_DATE).
    {
        "source_id": "V020",
        "publisher": "Office of the Cheshire PCC",
        "title": "PCC funding to be invested into offender management programme",
        "date": "6 Mar 2020",
        "url": "https://www.cheshire-pcc.gov.uk/news/latest-news/2020/03/pcc-funding-to-be-invested-into-offender-management-programme/",
        "note": "stored copy read in the December 2026 review; £200k for a model built on the IASU's learning "
        "(the page does not name the Harm Reduction Unit)",
    },
    {
        "source_id": "V021",
        "publisher": "Office of the Cambridgeshire and Peterborough PCC",
        "title": "£786k funding boost to prevent domestic abuse and stalking across Cambridgeshire and Peterborough",
        "date": "undated (the announcement reported on 12 May 2023, S114)",
        "url": "https://www.cambridgeshire-pcc.gov.uk/786k-funding-boost-to-prevent-domestic-abuse-and-stalking-across-cambridgeshire-and-peterborough/",
        "note": "stored copy read in the December 2026 review; names a stalking police officer and a second "
        "stalking IDVA, no team",
    },
    {
        "source_id": "V022",
        "publisher": "Nottinghamshire Police",
        "title": "Stalking Awareness Week (news release)",
        "date": "Apr 2024",
        "url": "https://www.nottinghamshire.police.uk/news/nottinghamshire/news/news/2024/april/stalking-awareness-week/",
        "note": "stored copy read in the December 2026 review; title from the address; the week ran 22-26 Apr 2024",
    },
    {
        "source_id": "V023",
        "publisher": "Office of the Gloucestershire PCC",
        "title": "Three quarters of a million pounds to support domestic abuse and sexual violence victims",
        "date": "undated (c. 2022: it calls the 2021 funding 'last year')",
        "url": "https://www.gloucestershire-pcc.gov.uk/three-quarters-of-a-million-pounds-to-support-domestic-abuse-and-sexual-violence-victims/",
        "note": "stored copy read in the December 2026 review; Ministry of Justice funding for two years to Mar "
        "2025 for 11 roles, one an Independent Stalking Advocacy Caseworker",
    },
    {
        "source_id": "V024",
        "publisher": "Greatest Hits Radio Essex (hellorayo.co.uk)",
        "title": 'Reports of stalking "always increasing", says Essex charity',
        "date": "26 Sep 2024",
        "url": "https://hellorayo.co.uk/greatest-hits/essex/news/reports-of-stalking-are-always-increasing-says-essex-charity",
        "note": "stored copy read in the December 2026 review",
    },
    {
        "source_id": "V025",
        "publisher": "Greatest Hits Radio Beds, Bucks & Herts (hellorayo.co.uk)",
        "title": '"Life is never going to be the same for victims of stalking", says local charity',
        "date": "25 Apr 2025",
        "url": "https://hellorayo.co.uk/greatest-hits/beds-bucks-herts/news/life-is-never-going-to-be-the-same-for-victims-of-stalking-says-local-charity",
        "note": "stored copy read in the December 2026 review; the page spells the charity 'Aura New Dawn'",
    },
    {
        "source_id": "V026",
        "publisher": "Ford Parish Council (copy of the Sussex PCC's update)",
        "title": "The Sussex Police and Crime Commissioner Latest Update",
        "date": "undated (c. late 2024: marks 10 years of Veritas Justice, founded 2014)",
        "url": "https://fordwestsussex-pc.gov.uk/news-and-events/?article=25099",
        "note": "stored copy read in the December 2026 review; third-party copy of the PCC's newsletter",
    },
    {
        "source_id": "V027",
        "publisher": "Office of the Sussex PCC (copy on spccweb.thco.co.uk)",
        "title": 'National Stalking Awareness Week: "We take stalking seriously in Sussex"',
        "date": "Apr 2022 (National Stalking Awareness Week, 25-29 Apr)",
        "url": "http://spccweb.thco.co.uk/about/news/national-stalking-awareness-week/",
        "note": "stored copy read in the December 2026 review; the year is inferred from the week's dates and theme",
    },
    {
        "source_id": "V028",
        "publisher": "Greatest Hits Radio Plymouth (hellorayo.co.uk)",
        "title": "Charity praises Devon and Cornwall Police for progress made in handling domestic abuse and "
        "stalking cases",
        "date": "30 Oct 2024",
        "url": "https://hellorayo.co.uk/greatest-hits/plymouth/news/citizens-advice-praise-police-for-progress-in-handling-abuse-cases",
        "note": "stored copy read in the December 2026 review",
    },
    {
        "source_id": "V029",
        "publisher": "Erewash Sound",
        "title": "Police and Crime Commissioner funds specialist support roles",
        "date": "16 Aug 2022",
        "url": "https://www.erewashsound.com/news/borough-wide/police-and-crime-commissioner-funds-specialist-support-roles",
        "note": "stored copy read in the December 2026 review; two Stalking Advocate posts funded for three years",
    },
    {
        "source_id": "V030",
        "publisher": "City of London Corporation",
        "title": "Domestic Abuse Support",
        "date": "updated 30 Jan 2025",
        "url": "https://cityoflondon.gov.uk/services/community-and-safety/domestic-abuse-support",
        "note": "stored copy read in the December 2026 review; domestic abuse service, not stalking-specific",
    },
    {
        "source_id": "V031",
        "publisher": "Charity Today",
        "title": "The Suzy Lamplugh Trust: The London Stalking Support Service",
        "date": "undated (page header 22 Feb 2024)",
        "url": "https://www.charitytoday.co.uk/the-suzy-lamplugh-trust-the-london-stalking-support-service/",
        "note": "stored copy read in the December 2026 review",
    },
    {
        "source_id": "V032",
        "publisher": "City of London Police",
        "title": "Response to the recommendations made by the IOPC, HMICFRS and the College of Policing following "
        "the joint investigation into the super-complaint on the police response to stalking",
        "date": "undated (c. Nov 2024 or later: forces published these plans in Nov 2024, S011)",
        "url": "https://www.cityoflondon.police.uk/police-forces/city-of-london-police/areas/city-of-london/about-us/about-us/response-to-the-recommendations-made-by-the-iopc-hmicfrs-and-the-college-of-policing-following-the-joint-investigation-into-the-super-complaint-on-the-police-response-to-stalking/",
        "note": "stored copy read in the December 2026 review (opening rows of the action plan only)",
    },
)


@dataclass(frozen=True)
class Correction:
    """The outcome of checking one register row: field changes (if any), sources and a note."""

    force: str
    fragment: str
    note: str
    changes: tuple[tuple[str, str], ...] = ()
    add_sources: tuple[str, ...] = ()
    verified: str = CHECK_DATE


CORRECTIONS: tuple[Correction, ...] = (
    # (a) multi-agency units and clinics
    Correction(
        "Metropolitan Police",
        "Stalking Threat Assessment Centre",
        "the Met describes itself as lead agency of STAC, a multi-agency team (V001); business as usual from Apr 2023 (S041).",
        add_sources=("V001",),
    ),
    Correction(
        "Hampshire",
        "Multi-Agency Stalking Partnership",
        "Home Office funding for two years from Apr 2023 (S026), £1.01m (V003); Home Office funding for 2026/27 was "
        "still unconfirmed on 11 Dec 2025 (S025) and no later evidence was found, so the status after Mar 2026 is unknown.",
        changes=(("status", "unknown"),),
        add_sources=("V003",),
    ),
    Correction(
        "Cheshire",
        "Harm Reduction Unit",
        "a Cheshire detective described the dedicated Harm Reduction Unit working with health, probation and victim "
        "services in Apr 2025 (V002).",
        add_sources=("V002",),
    ),
    Correction(
        "Cambridgeshire",
        "Multi-agency stalking intervention team",
        "the team was reported in Apr 2022 (S112), set up with Home Office perpetrator-fund money for 2021-22 (S113); "
        "the last stalking funding seen (HO DAPIF 2023-25, S114) ended in Mar 2025 and no evidence of the team after "
        "2023 was found, so its status is unknown.",
        changes=(("status", "unknown"),),
        add_sources=("S114",),
    ),
    Correction(
        "Durham",
        "Stalking Intervention Project (D-SIP)",
        "reclassified from multi-agency unit to multi-agency clinic or panel: the source (S068, Apr 2025) describes a "
        "partnership that had met for 12 months and delivered officer training, police stalking champions and school "
        "assemblies; no co-located team or clinical perpetrator intervention was found (the research had said the "
        "clinical element was not confirmed).",
        changes=(("service_type", "stalking_clinic"),),
    ),
    Correction(
        "Gloucestershire",
        "Stalking clinic",
        "the multi-agency clinic is confirmed only by sources from about 2017-18 (S071, S072); its current status was not found.",
    ),
    Correction(
        "Essex",
        "Essex Stalking Intervention Panel",
        "launched Jan 2023 (S096); the panels were still described as running in Apr 2024 (V014).",
        add_sources=("V014",),
    ),
    Correction(
        "Nottinghamshire",
        "Monthly police stalking clinic",
        "the monthly police clinic is confirmed for 2019 only (S099); its current status was not found.",
    ),
    # (b) national services
    Correction(
        DRAFT_NATIONAL_FORCE_NAME,
        "National Stalking Helpline",
        "set up by the Suzy Lamplugh Trust in 2010 (S149); Home Office funding tripled in 2021/22 (S024).",
    ),
    Correction(
        DRAFT_NATIONAL_FORCE_NAME,
        "Paladin",
        "Paladin describes its advocacy as a service for high-risk victims (V004); founded 2013 (S066).",
        add_sources=("V004", "S066"),
    ),
    Correction(
        DRAFT_NATIONAL_FORCE_NAME,
        "Alice Ruggles Trust education",
        "lessons and professional training (S153); PCC-funded school assemblies still running in Apr 2025 (V005).",
        add_sources=("V005",),
    ),
    Correction(
        DRAFT_NATIONAL_FORCE_NAME,
        "Perpetrator Intervention Fund",
        "over £19m to 27 PCCs for 2025/26 (S022); funding for 2026/27 was unconfirmed in Dec 2025 (S025) and none was "
        "found since, so the status after Mar 2026 is unknown.",
        changes=(("status", "unknown"),),
        add_sources=("S025",),
    ),
    # (c) advocacy services with end dates in 2025-26, and others checked on the way
    Correction(
        "Cleveland",
        "Stalking advocacy service",
        "funding to 31 Mar 2025 confirmed (S061, S062); continuation not found, status stays unknown.",
    ),
    Correction(
        "Surrey",
        "Stalking Advocate (1 FTE)",
        "PCC decision 34/2022 confirmed: one advocate for intimate-stalking victims, £67,988 to end Mar 2024 (S074); "
        "continuation not found.",
    ),
    Correction(
        "Surrey",
        "COBI stalking programme",
        "2022/23 grant confirmed (S075); COBI-type interventions for compulsive or obsessive behaviour continue inside the "
        "Steps to Change hub run by Interventions Alliance, Home Office funded to Mar 2026 (V007); later funding not found.",
        changes=(("end_year", "2026"),),
        add_sources=("V007",),
    ),
    Correction(
        "Thames Valley",
        "Thames Valley Stalking Service",
        "£120,000 a year funded until 2025 confirmed (S087), delivered by Aurora New Dawn (S086); continuation not found.",
    ),
    Correction(
        "Thames Valley",
        "Stalking Tactical Advisor",
        "a Stalking Tactical Advisor in each local policing area confirmed in Apr 2023 (S086).",
    ),
    Correction(
        "Hampshire",
        "Stalking Advocacy and Support Service",
        "contract from 1 Jul 2023 to 31 Mar 2026 with an option of up to two more years confirmed (S035, V013); whether "
        "the option was used was not found, so the status after Mar 2026 is unknown.",
        changes=(("status", "unknown"),),
        add_sources=("V013",),
    ),
    Correction(
        "Nottinghamshire",
        "Stalking Advocacy Service",
        "contract to Mar 2026 confirmed (S101); no extension or recommissioning was found, so the status after Mar 2026 "
        "is unknown.",
        changes=(("status", "unknown"),),
    ),
    Correction(
        "Metropolitan Police",
        "London Stalking Support Service",
        "MOPAC grant of up to £240,000 a year for 2024/25 and 2025/26 confirmed (S039); funding after Mar 2026 was not "
        "found, so the status after Mar 2026 is unknown.",
        changes=(("status", "unknown"),),
    ),
    Correction(
        "Essex",
        "Independent Stalking Advocacy Caseworkers",
        "grant funding had increased ISAC numbers across Essex by Apr 2024 (V014).",
        add_sources=("V014",),
    ),
    Correction(
        "Gloucestershire",
        "Gloucestershire Stalking Advocacy Service",
        "in Apr 2025 a Hollie Gazzard Trust worker was described as previously the county's stalking advocate for "
        "high-risk victims (V012); whether the ISAC post continues was not found.",
        add_sources=("V012",),
    ),
    Correction(
        "Kent",
        "Stalking advocate service across Kent",
        "12-month pilot from Apr 2020 confirmed (S089); later status not found.",
    ),
    Correction("Derbyshire", "Independent Stalking Advocate post", "launch in May 2023 confirmed (S107)."),
    Correction(
        "Sussex",
        "Sussex-wide stalking advocacy",
        "Veritas Justice says it is funded by the Sussex OPCC to support all stalking victims in Sussex (V016, undated).",
        add_sources=("V016",),
    ),
    Correction(
        "West Yorkshire",
        "West Yorkshire Independent Stalking Advocate Service",
        "service running, with more than 350 people supported in its first year, Oct 2023 (S102).",
    ),
    Correction("West Yorkshire", "Safer Steps", "launch from Feb 2026 confirmed (S104)."),
    Correction(
        "Greater Manchester",
        "Stalking Triage Centre",
        "confirmed Sep 2024 (S116) and Apr 2025 (S117), GMCA funded; described as a pilot in 2024.",
    ),
    Correction(
        "Dyfed-Powys",
        "Pilot: one full-time ISAC",
        "the PCC tendered a Stalking Advocacy Service in Mar 2026 for 1 Sep 2026 to 31 Mar 2029, £210,000 (V011); the "
        "award and the pilot's end were not found, so the status is unknown.",
        changes=(("status", "unknown"),),
        add_sources=("V011",),
    ),
    Correction(
        "West Midlands",
        "HO DAPIF 2023-25 project",
        "the Home Office named the West Midlands project (monitoring and early psychological intervention) with almost "
        "£2.8m in May 2023 (V008); later status not found.",
        changes=(("funding", "HO DAPIF 2023-25, almost £2.8m (DA and stalking)"),),
        add_sources=("V008",),
    ),
    # forces where nothing was found: searched again
    Correction(
        "Staffordshire",
        NONE_FOUND_PREFIX,
        "the PFCC tendered a stalking service for Staffordshire and Stoke-on-Trent in Apr 2026 (about £1.5m, contract due "
        "to start 1 Dec 2026; V010), after the check date, so no local service is recorded yet.",
        add_sources=("V010",),
    ),
    Correction(
        "Lancashire",
        NONE_FOUND_PREFIX,
        "still no stalking-specific service found; the PCC's 2025 commitment to dedicated support (S131) was not seen delivered.",
    ),
    Correction(
        "Humberside", NONE_FOUND_PREFIX, "still no stalking-specific local service found (V017).", add_sources=("V017",)
    ),
    Correction(
        "Northamptonshire",
        NONE_FOUND_PREFIX,
        "still no stalking-specific local service found; local pages signpost to domestic abuse services (V018).",
        add_sources=("V018",),
    ),
    Correction(
        "Gwent", NONE_FOUND_PREFIX, "still no stalking-specific local service found (V019).", add_sources=("V019",)
    ),
    Correction(
        "North Yorkshire",
        "Multi-agency approach to stalking promoted",
        "a small dedicated police stalking team was found (see the police-team row, V009), but still no stalking "
        "advocacy, perpetrator programme or multi-agency unit, so the row is renamed to say exactly that.",
        changes=(("service_name", ADDED_NONE_FOUND_NAME),),
        add_sources=("V009",),
    ),
    # (d) the December 2026 register review: each claim checked again on REVIEW_CHECK_DATE
    Correction(
        "Metropolitan Police",
        "Stalking Threat Assessment Centre",
        "the NHS England £480k for 2024/25-2025/26 (MOPAC PCD 1653, S039) is mainly for stalking advocacy and is "
        "counted once, on the London Stalking Support Service row, not here; the same decision notes separate NHS "
        "England funding for mental health interventions with perpetrators (amount and period not stated). Status "
        "stays active by exception to the funding rule: the unit has been a business-as-usual operation funded by "
        "MOPAC since Apr 2023 (S041), after one-year MOPAC grants from Apr 2020 (S038), and no end date of that "
        "funding was found; the Met names itself lead agency (V001, after Sep 2024). No evidence after Mar 2026 was "
        "found.",
        changes=(("funding", "MOPAC (one-year grants from Apr 2020; business as usual from Apr 2023)"),),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Metropolitan Police",
        "London Stalking Support Service",
        "MOPAC accepted £480k from NHS England for 2024/25 and 2025/26, mainly to uplift stalking advocacy, and varied "
        "the Suzy Lamplugh Trust's grant to up to £240,000 a year (S039); counted here only. No funding after Mar 2026 "
        "was found, so the status stays unknown.",
        changes=(
            (
                "funding",
                "MOPAC VAWG Fund (from Oct 2019); NHS England £480k for 2024/25-2025/26 via MOPAC (PCD 1653), "
                "grant varied to up to £240k a year",
            ),
        ),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Cheshire",
        "Harm Reduction Unit",
        "on 6 Mar 2020 the PCC funded £200k for a model, built on the IASU's learning, in which police, victim "
        "advocates and health professionals work with victims and offenders across Cheshire (V020; the page does not "
        "name the HRU); the over-£1m funding embeds specialist stalking prosecutors in the HRU (S057); still working "
        "with health, probation and victim services in Apr 2025 (V002). No end date of its funding was found, so the "
        "status stays active.",
        changes=(
            ("start_year", "2020"),
            (
                "funding",
                "Cheshire PCC £200k (Mar 2020); HO DAPIF over £1m (2023) for embedded specialist prosecutors",
            ),
        ),
        add_sources=("V020",),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Hampshire",
        "Multi-Agency Stalking Partnership",
        "partners also include the CPS and Youth Justice, with £1.01m from the Home Office and £160,000 from the PCC "
        "(V003); more than 890 stalking cases reviewed since 2023 (S027, late 2024); Home Office funding for 2026/27 "
        "still unconfirmed on 11 Dec 2025 (S025), so the status stays unknown.",
        changes=(
            (
                "provider",
                "OPCC HIOW, HIOW Constabulary, HIOW Healthcare NHS FT, Probation, CPS, Youth Justice, Stop Domestic Abuse",
            ),
            ("funding", "Home Office £1.01m (from Apr 2023); HIOW PCC £160,000"),
        ),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Cambridgeshire",
        "Multi-agency stalking intervention team",
        "the force's multi-agency-unit class rests on this Apr 2022 description of the team (S112); the 2023-25 "
        "DAPIF money names a dedicated stalking police officer and a second stalking IDVA but no team (S114, V021). "
        "The 2021-22 project's partners included CPFT (Cambridgeshire and Peterborough NHS FT) for work with "
        "offenders (S113); the 2022 description does not say who employs the team's consultant psychologist.",
        add_sources=("V021",),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Nottinghamshire",
        "Monthly police stalking clinic",
        "still running in Apr 2024: the force's multi-agency approach was 'established five years ago', with a "
        "monthly clinic of police, NHS consultant psychiatrists, university lecturers and adult and children's social "
        "care (V022). No end of its funding was found, so the status is active.",
        changes=(("status", "active"),),
        add_sources=("V022",),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Gloucestershire",
        "Gloucestershire Stalking Advocacy Service",
        "the Hollie Gazzard Trust funded the ISAC from the launch in Jul 2017 (S071); the OPCC later secured Ministry "
        "of Justice funding for one Independent Stalking Advocacy Caseworker, among roles sitting within "
        "organisations such as GDASS, Victim Support and GRASAC, for two years to Mar 2025 (V023; the page does not "
        "say whether this is the same post). No funding after Mar 2025 was found, so the status stays unknown.",
        changes=(
            ("end_year", "2025"),
            ("funding", "Hollie Gazzard Trust (from Jul 2017); MoJ via the OPCC for one ISAC to Mar 2025"),
        ),
        add_sources=("V023",),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Gloucestershire",
        "Stalking clinic",
        "searched again: still no evidence of the clinic after about 2018 (S072), so confidence is lowered to low.",
        changes=(("confidence", "low"),),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Essex",
        "Independent Stalking Advocacy Caseworkers",
        "Changing Pathways gives stalking advocacy in Basildon, Brentwood, Castle Point, Epping Forest, Harlow, "
        "Rochford and Thurrock (V024, Sep 2024); no ISAC provider was named for the rest of Essex, so coverage is "
        "partial.",
        changes=(("coverage", "partial"),),
        add_sources=("V024",),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Thames Valley",
        "Thames Valley Stalking Service",
        "in Apr 2025 the charity (spelt 'Aura New Dawn' on the page) said it had supported more than 700 people across "
        "the region (V025); funding after 2025 was not found, so the status stays unknown.",
        add_sources=("V025",),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Sussex",
        "Stalking perpetrator intervention",
        "in about late 2024 Interventions Alliance presented its Stalking Perpetrator Programme, funded by the PCC's "
        "office, of 12 one-to-one sessions (V026). No end date of that funding was found, so the status stays active.",
        changes=(("funding", "Home Office grant £98,000 (2020); Sussex PCC (c. late 2024)"),),
        add_sources=("V026",),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Sussex",
        "Sussex-wide stalking advocacy",
        "the PCC said in about late 2024 that she continues to fund Veritas Justice, which had given stalking "
        "advocacy to more than 6,500 people (V026).",
        add_sources=("V026",),
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Dyfed-Powys",
        "Pilot: one full-time ISAC",
        "the tendered Stalking Advocacy Service (1 Sep 2026 to 31 Mar 2029, £210,000) is the planned successor; it "
        "asks bidders to meet the Independent Stalking Advocate statutory guidance published in Feb 2026 (V011). No "
        "award was found, so the status stays unknown.",
        verified=REVIEW_CHECK_DATE,
    ),
    Correction(
        "Derbyshire",
        "Independent Stalking Advocate post",
        "the PCC funded two Stalking Advocate posts, this one with Crossroads for the county outside Derby, for three "
        "years from Aug 2022 (V029); no extension for this post was found, so by the funding rule the status is "
        "unknown.",
        changes=(("status", "unknown"), ("end_year", "2025")),
        add_sources=("V029",),
        verified=REVIEW_CHECK_DATE,
    ),
)


@dataclass(frozen=True)
class AddedService:
    """A service found while checking, with its own source; placed by force name."""

    force: str
    values: Mapping[str, str] = field(default_factory=dict)
    verified: str = CHECK_DATE


ADDED_SERVICES: tuple[AddedService, ...] = (
    AddedService(
        "Surrey",
        {
            "service_type": "advocacy",
            "service_name": "Part-time stalking advocate in the Victim and Witness Care Unit",
            "provider": "Surrey Police Victim and Witness Care Unit",
            "coverage": "unknown",
            "start_year": "2022",
            "end_year": "2024",
            "status": "unknown",
            "funding": "Surrey PCC, £24,430.50 to end Mar 2024",
            "source_ids": "V006",
            "confidence": "high",
            "notes": "Added from the verification: PCC decision 35/2022 (9 Dec 2022); continuation after Mar 2024 not found.",
        },
    ),
    AddedService(
        "North Yorkshire",
        {
            "service_type": "police_team",
            "service_name": "Dedicated police stalking team",
            "provider": "North Yorkshire Police",
            "coverage": "force_wide",
            "start_year": "",
            "end_year": "",
            "status": "unknown",
            "funding": "",
            "source_ids": "V009",
            "confidence": "low",
            "notes": "Added from the verification: one detective and two stalking support officers; the force said it "
            "wanted to expand the team (undated local radio report, about 2025).",
        },
    ),
    # the December 2026 register review
    AddedService(
        "Sussex",
        {
            "service_type": "police_team",
            "service_name": "Complex Domestic Abuse & Stalking Unit (CDASU)",
            "provider": "Sussex Police",
            "coverage": "force_wide",
            "start_year": "2022",
            "end_year": "",
            "status": "active",
            "funding": "",
            "source_ids": "V027;V026",
            "confidence": "medium",
            "notes": "Added from the December 2026 review: a specialist police unit set up in 2022 that co-ordinates "
            "all court applications for Stalking Protection Orders and supervises the people subject to them (V027); "
            "Sussex Police presented its work in about late 2024 (V026). Domestic abuse and stalking, not stalking only.",
        },
        verified=REVIEW_CHECK_DATE,
    ),
    AddedService(
        "Devon and Cornwall",
        {
            "service_type": "police_team",
            "service_name": "Moonstone, the specialist police domestic violence and stalking unit",
            "provider": "Devon and Cornwall Police",
            "coverage": "force_wide",
            "start_year": "",
            "end_year": "",
            "status": "active",
            "funding": "",
            "source_ids": "V028",
            "confidence": "medium",
            "notes": "Added from the December 2026 review: Citizens Advice Cornwall's Victims of Crime Co-ordinator "
            "held monthly meetings with Moonstone officers after its 2023 report; in place by Oct 2024 (V028). "
            "Domestic violence and stalking, not stalking only.",
        },
        verified=REVIEW_CHECK_DATE,
    ),
    AddedService(
        "Durham",
        {
            "service_type": "police_team",
            "service_name": "Police Stalking Champions",
            "provider": "Durham Constabulary (within D-SIP)",
            "coverage": "force_wide",
            "start_year": "",
            "end_year": "",
            "status": "active",
            "funding": "Durham PCC and Durham Constabulary (jointly)",
            "source_ids": "S068",
            "confidence": "medium",
            "notes": "Added from the December 2026 review: introduced by Apr 2025 within D-SIP; initially 20 frontline "
            "or investigative officers trained by Paladin to act as single points of contact (S068).",
        },
        verified=REVIEW_CHECK_DATE,
    ),
    AddedService(
        "City of London",
        {
            "service_type": "none_found",
            "service_name": "No stalking-specific local service found in the December 2026 search",
            "provider": "",
            "coverage": "unknown",
            "start_year": "",
            "end_year": "",
            "status": "unknown",
            "funding": "",
            "source_ids": "V030;V031;V032;V015",
            "confidence": "low",
            "notes": "Added from the December 2026 review, the first search of the City (the research did not search "
            "it in depth): the City Corporation's Domestic Abuse Intervention Service works with City residents aged "
            "16 or over experiencing domestic abuse, not stalking specifically (V030); the London Stalking Support "
            "Service is described as serving victims within the London boroughs (V031); the City of London Police "
            "published an action plan answering the stalking super-complaint, and its opening rows name no local "
            "stalking service (V032); in 2017 the City Police ran awareness stalls only (V015). Absence of evidence, "
            "not proof that nothing exists.",
        },
        verified=REVIEW_CHECK_DATE,
    ),
)


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
        # _SOURCE_LINE has matched, so links not marked "URL not captured" start with http(s)://.
        url_match = cast(re.Match[str], _URLS.match(links))
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
            raise InputErrors(
                [f"{name} line 1: expected columns {', '.join(DRAFT_COLUMNS)}; found {', '.join(header)}"]
            )
        rows, line = [], reader.line_num
        for fields in reader:
            start_line, line = line + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                raise InputErrors(
                    [f"{name} line {start_line}: has {len(fields)} field(s) but the header has {len(header)}"]
                )
            rows.append((start_line, {column: field.strip() for column, field in zip(header, fields)}))
    return rows


def _fragment_matches(row: Mapping[str, str], force: str, fragment: str) -> bool:
    return _name_key(row["_force_name"]) == _name_key(force) and fragment.casefold() in row["_draft_name"].casefold()


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


@dataclass
class RegisterBuild:
    """Everything the build decided, for tests and review; ``build_register`` returns the first two."""

    register: pd.DataFrame
    sources: pd.DataFrame  # the register's own sources: research list, R001, V… (SOURCES_COLUMNS)
    left_out: list[str]
    unused_curation: list[str]
    registry: dict[str, Source] = field(default_factory=dict)  # data/sources.csv: these plus the curated sources


def _other_rule(draft_row: Mapping[str, str], where: str) -> tuple[OtherRowRule | None, str | None]:
    rules = [rule for rule in OTHER_ROW_RULES if _fragment_matches(draft_row, rule.force, rule.fragment)]
    if len(rules) == 1:
        return rules[0], None
    name, force = draft_row["_draft_name"], draft_row["_force_name"]
    if not rules:
        return None, (
            f"{where}, field 'service_type': 'other' row '{name}' ({force}) is not in the curated mapping "
            "OTHER_ROW_RULES in coverage/register_build.py; add it there with a service type or a reason to leave it out"
        )
    return None, f"{where}, field 'service_type': 'other' row '{name}' ({force}) matches {len(rules)} curated rules"


def _draft_rows_to_register(
    draft: list[tuple[int, dict[str, str]]], index: dict[str, str], source_ids: set[str], draft_name: str
) -> tuple[list[dict[str, str]], set[str], list[str], set[OtherRowRule]]:
    """Register rows (with private ``_…`` keys, no ids yet), searched force codes, rows left out, rules used."""
    rows: list[dict[str, str]] = []
    searched: set[str] = set()
    left_out: list[str] = []
    used_rules: set[OtherRowRule] = set()
    problems: list[str] = []
    not_searched = {_name_key(name) for name in NOT_SEARCHED_FORCE_NAMES}
    for line, draft_row in draft:
        where = f"{draft_name} line {line}"
        force_name = draft_row["force_name"]
        row_keys = {"_force_name": force_name, "_draft_name": draft_row["service_name"], "_line": str(line)}
        if force_name == DRAFT_NATIONAL_FORCE_NAME:
            force_codes = NATIONAL_FORCE_CODES
        else:
            code = force_code_for_name(force_name, index)
            if code is None:
                problems.append(f"{where}, field 'force_name': '{force_name}' matches no police force area name")
                continue
            force_codes = code
        draft_type = draft_row["service_type"]
        if draft_type not in DRAFT_SERVICE_TYPES:
            problems.append(f"{where}, field 'service_type': unknown draft type '{draft_type}'")
            continue
        if draft_row["coverage"] not in DRAFT_COVERAGES:
            problems.append(f"{where}, field 'coverage': unknown draft coverage '{draft_row['coverage']}'")
            continue

        if draft_row["service_name"].startswith(NONE_FOUND_PREFIX):
            service_type: str | None = "none_found"
        elif DRAFT_SERVICE_TYPES[draft_type] is None:
            rule, problem = _other_rule(row_keys, where)
            if problem:
                problems.append(problem)
                continue
            rule = cast(OtherRowRule, rule)  # _other_rule gives a rule whenever it gives no problem
            used_rules.add(rule)
            service_type = rule.service_type
            if service_type is None:
                left_out.append(f"{where}: {force_name}: '{draft_row['service_name']}' left out: {rule.reason}")
                if force_codes != NATIONAL_FORCE_CODES:
                    searched.add(force_codes)
                continue
        else:
            service_type = DRAFT_SERVICE_TYPES[draft_type]

        if service_type == "none_found" and force_codes == NATIONAL_FORCE_CODES:
            problems.append(f"{where}, field 'service_name': a 'nothing found' row needs a force, not {force_name}")
            continue
        if force_codes != NATIONAL_FORCE_CODES:
            if service_type == "none_found" and _name_key(force_name) in not_searched:
                left_out.append(
                    f"{where}: {force_name}: 'nothing found' row left out: the force was not searched in depth"
                )
                continue
            searched.add(force_codes)

        cited = split_list(draft_row["source_id"])
        if service_type == "none_found":
            if not cited:
                cited = [
                    source
                    for key, ids in TABLE_A_SOURCE_IDS.items()
                    if _name_key(key) == _name_key(force_name)
                    for source in ids
                ]
            cited = list(dict.fromkeys([*cited, RESEARCH_SEARCH_SOURCE["source_id"]]))
        elif not cited:
            problems.append(f"{where}, field 'source_id': no source id given")
        unknown = [source_id for source_id in cited if source_id not in source_ids]
        if unknown:
            problems.append(f"{where}, field 'source_id': unknown source id(s) {', '.join(unknown)}")

        if service_type == "none_found":
            values = {
                "service_name": NONE_FOUND_NAME,
                "provider": "",
                "coverage": "unknown",
                "start_year": "",
                "end_year": "",
                "status": "unknown",
                "confidence": "low",
                # Provider and year of a "nothing found" row describe the search, not a service: kept in the note.
                "notes": "Research draft: "
                + _join(
                    draft_row["service_name"],
                    f"named: {draft_row['provider']}" if draft_row["provider"] else "",
                    f"year: {draft_row['start_year']}" if draft_row["start_year"] else "",
                ),
            }
        else:
            service_name, detail = _split_draft_name(draft_row["service_name"])
            values = {
                "service_name": service_name,
                "provider": draft_row["provider"],
                "coverage": "national"
                if force_codes == NATIONAL_FORCE_CODES
                else DRAFT_COVERAGES[draft_row["coverage"]],
                "start_year": draft_row["start_year"],
                "end_year": draft_row["end_year"],
                "status": draft_row["status"],
                "confidence": draft_row["confidence"],
                "notes": detail,
            }
        rows.append(
            {
                **row_keys,
                "service_id": "",
                "force_codes": force_codes,
                "service_type": cast(str, service_type),  # a row whose type is None was left out above
                "funding": "",
                "source_ids": ";".join(cited),
                "last_verified": RESEARCH_LAST_VERIFIED,
                **values,
            }
        )
    if problems:
        raise InputErrors(problems)
    return rows, searched, left_out, used_rules


def _single_match(
    rows: list[dict[str, str]], force: str, fragment: str, what: str
) -> tuple[dict[str, str] | None, str | None]:
    matches = [row for row in rows if _fragment_matches(row, force, fragment)]
    if len(matches) > 1:
        lines = ", ".join(row["_line"] for row in matches)
        raise InputErrors(
            [f"{what} ({force}, '{fragment}') matches {len(matches)} draft rows (lines {lines}); make it specific"]
        )
    if not matches:
        return None, f"{what} ({force}, '{fragment}') matched no draft row"
    return matches[0], None


def _apply_funding(rows: list[dict[str, str]]) -> list[str]:
    unused = []
    for entry in FUNDING:
        row, miss = _single_match(rows, entry.force, entry.fragment, "funding note")
        if row is None:
            unused.append(cast(str, miss))  # _single_match gives a message whenever it gives no row
        else:
            row["funding"] = entry.funding
    return unused


def _apply_corrections(rows: list[dict[str, str]], source_ids: set[str]) -> list[str]:
    unused, problems = [], []
    for correction in CORRECTIONS:
        row, miss = _single_match(rows, correction.force, correction.fragment, "correction")
        if row is None:
            unused.append(cast(str, miss))  # _single_match gives a message whenever it gives no row
            continue
        for field_name, value in correction.changes:
            if field_name not in REGISTER_COLUMNS or field_name in ("service_id", "force_codes", "source_ids", "notes"):
                problems.append(
                    f"correction ({correction.force}, '{correction.fragment}'): cannot set field '{field_name}'"
                )
                continue
            row[field_name] = value
        missing = [source for source in correction.add_sources if source not in source_ids]
        if missing:
            problems.append(
                f"correction ({correction.force}, '{correction.fragment}'): unknown source id(s) {', '.join(missing)}"
            )
        row["source_ids"] = ";".join(dict.fromkeys([*split_list(row["source_ids"]), *correction.add_sources]))
        row["notes"] = _join(row["notes"], check_note_prefix(correction.verified) + correction.note)
        row["last_verified"] = correction.verified
    if problems:
        raise InputErrors(problems)
    return unused


def _added_rows(index: dict[str, str]) -> tuple[list[dict[str, str]], list[str]]:
    rows, unused = [], []
    for added in ADDED_SERVICES:
        code = force_code_for_name(added.force, index)
        if code is None:
            unused.append(
                f"added service ({added.force}, '{added.values.get('service_name', '')}'): force not in the forces table"
            )
            continue
        row = dict.fromkeys(REGISTER_COLUMNS, "")
        row.update(added.values)
        row.update(
            _force_name=added.force,
            _draft_name=added.values.get("service_name", ""),
            _line="verification",
            force_codes=code,
            last_verified=added.verified,
        )
        rows.append(row)
    return rows, unused


def _assign_ids(rows: Iterable[dict[str, str]]) -> None:
    counters: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["force_codes"], row["service_type"])
        counters[key] = counters.get(key, 0) + 1
        row["service_id"] = f"{key[0]}-{key[1]}-{counters[key]}"


def _added_none_found_row(code: str) -> dict[str, str]:
    return {
        "service_id": f"{code}-none_found-1",
        "force_codes": code,
        "service_type": "none_found",
        "service_name": ADDED_NONE_FOUND_NAME,
        "provider": "",
        "coverage": "unknown",
        "start_year": "",
        "end_year": "",
        "status": "unknown",
        "funding": "",
        "source_ids": RESEARCH_SEARCH_SOURCE["source_id"],
        "confidence": "low",
        "last_verified": RESEARCH_LAST_VERIFIED,
        "notes": ADDED_NONE_FOUND_NOTE,
    }


def _needs_none_found(rows: list[dict[str, str]], code: str) -> bool:
    local = [
        row for row in rows if row["force_codes"] != NATIONAL_FORCE_CODES and code in split_list(row["force_codes"])
    ]
    has_specialist = any(
        row["service_type"] in SPECIALIST_LOCAL_TYPE_KEYS and row["status"] in COUNTING_STATUSES for row in local
    )
    has_none_found = any(row["service_type"] == "none_found" for row in local)
    return not has_specialist and not has_none_found


def assemble_register(
    research_dir: Path, forces: pd.DataFrame, curated_sources: Path = CURATED_SOURCES_CSV
) -> RegisterBuild:
    """Build the register, its sources and the one sources registry, and report what was left out and
    which curation went unused.

    See :func:`build_register`. ``registry`` merges the register's sources with ``curated_sources``
    (see ``coverage/build/sources.py``); every register row's source ids are checked against it.
    ``unused_curation`` lists curated entries (funding notes, corrections, added services) that matched
    nothing: expected for a small test draft, a sign of drift for the real one.
    """
    research_dir = Path(research_dir)
    _check_forces(forces)
    index = force_name_index(forces)

    sources = parse_source_list(research_dir / RESEARCH_REPORT_FILE)
    extra = pd.DataFrame([RESEARCH_SEARCH_SOURCE, *VERIFICATION_SOURCES], columns=SOURCES_COLUMNS)
    clash = sorted(set(sources["source_id"]) & set(extra["source_id"]))
    if clash:
        raise InputErrors([f"{RESEARCH_REPORT_FILE}: source id(s) {', '.join(clash)} are reserved for the build"])
    sources = pd.concat([sources, extra], ignore_index=True).sort_values("source_id", ignore_index=True)
    sources = validate_sources(sources, name=f"sources built from {RESEARCH_REPORT_FILE}")
    # The register may cite any source of the one registry: its own and the curated planner/indicator ones.
    registry = merge_registry(sources, read_curated_sources(curated_sources))
    known_sources = set(registry)

    draft = _read_draft(research_dir / DRAFT_REGISTER_FILE)
    rows, searched, left_out, used_rules = _draft_rows_to_register(draft, index, known_sources, DRAFT_REGISTER_FILE)
    unused = [
        f"other-row rule ({rule.force}, '{rule.fragment}') matched no draft row"
        for rule in OTHER_ROW_RULES
        if rule not in used_rules
    ]
    unused += _apply_funding(rows)
    unused += _apply_corrections(rows, known_sources)
    added, unused_added = _added_rows(index)
    rows += added
    unused += unused_added
    _assign_ids(rows)

    not_searched = {force_code_for_name(name, index) for name in NOT_SEARCHED_FORCE_NAMES}
    for code in sorted(forces["code"]):
        if code in searched and code not in not_searched and _needs_none_found(rows, code):
            rows.append(_added_none_found_row(code))

    register = pd.DataFrame(rows).reindex(columns=REGISTER_COLUMNS)
    register = register.sort_values(["force_codes", "service_id"], ignore_index=True)
    register = validate_register(
        register,
        force_codes=forces["code"],
        source_ids=known_sources,
        name=f"register built from {DRAFT_REGISTER_FILE}",
    )
    registry = mark_used(registry, (sid for cell in register["source_ids"] for sid in split_list(cell)), "register")
    return RegisterBuild(
        register=register, sources=sources, left_out=left_out, unused_curation=unused, registry=registry
    )


def build_register(research_dir: Path, forces: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register and sources tables, built from the research draft in ``research_dir``.

    ``forces`` has columns ``code`` and ``name`` (ONS names; an ``ons_name`` column is also used
    for matching if present). Draft force names are matched to codes ignoring case, spacing and
    "&"/"and", through ``FORCE_NAME_ALIASES``; an unmatched name is an error.

    Rows, one per service:

    - every draft row, typed by ``DRAFT_SERVICE_TYPES`` (masip → multi_agency_unit, stalking_clinic,
      isac → advocacy, perpetrator_programme, helpline); draft "other" rows through the curated
      ``OTHER_ROW_RULES`` (an "other" row it does not cover is an error; a rule may leave a row out,
      with its reason); national rows ("All forces (national)") get force code ALL and coverage national;
    - a draft row whose name starts "No stalking-specific" becomes a ``none_found`` row (confidence low,
      its draft sources, or table A's, plus R001); City of London's is dropped because the research did
      not search it in depth (the December 2026 review's search gives it an added ``none_found`` row);
    - ``FUNDING``, ``CORRECTIONS`` and ``ADDED_SERVICES`` are then applied (see the module docstring);
    - finally a ``none_found`` row (source R001) for every other searched force with no counting local
      advocacy, perpetrator programme, unit or clinic. A force missing from the draft gets no row.

    Draft rows keep status, years, provider and confidence verbatim unless a correction changes them;
    their ``last_verified`` is ``RESEARCH_LAST_VERIFIED``, checked rows get the date of their latest check
    (``CHECK_DATE`` or ``REVIEW_CHECK_DATE``). Service ids are
    ``{force code}-{service type}-{n}``, numbered in draft order. Both tables pass the same validators as
    the shipped files before they are returned.
    """
    built = assemble_register(research_dir, forces)
    return built.register, built.sources
