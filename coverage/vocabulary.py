"""The atlas's words, declared once: service types, provision classes, force codes, licences, caveats.

Every table, map layer, chart, briefing, CLI option and test reads these declarations. Adding a kind
of local service is one new ``ServiceType`` here (and, if it earns a class of its own, one
``ProvisionClass``), plus rows in the register; nothing else names the five local types.

Colours are the UK Government Analysis Function palettes as published in ``afcharts`` 1.2
(sequential dark → light blue for classes; the categorical palette for service badges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Police force areas


FORCE_COUNT = 43
# ONS codes of the 43 territorial police force areas: E23 (England), W15 (Wales).
FORCE_CODE_PATTERN = re.compile(r"^(E23|W15)\d{6}$")
FORCE_CODE_RANGE = "E23000001 … W15000004"


# ---------------------------------------------------------------------------------------------
# Service types (the register's ``service_type`` column)


@dataclass(frozen=True)
class ServiceType:
    """A kind of service in the register, with every wording and mark the atlas uses for it."""

    key: str  # the register's service_type value
    name: str  # singular, sentence case: tables, legends, measures
    plural: str = ""  # map layer names
    in_sentence: str = ""  # after "has" / "no": "a multi-agency stalking unit"
    letter: str = ""  # map badge (local types only)
    badge_colour: str = ""  # badge fill, Analysis Function categorical palette
    stem: str = ""  # names its flag column, has_<stem>
    summary_key: str = ""  # key in the national figures (CLI ``summary --json``) when not the stem; kept stable
    # Whether a searched force without any counting local service of the "specialist" types gets a
    # "searched, nothing found" row at build time (a police post alone does not rule the search empty).
    specialist: bool = False
    # Whether a multi-agency unit already does this kind of work, so a unit's area is not told it lacks it.
    done_by_unit: bool = False

    @property
    def local(self) -> bool:
        """A local provision type: counted per force, drawn on the map, flagged in the tables."""
        return bool(self.letter)

    @property
    def flag(self) -> str:
        """The provision-flags column that says a force has a counting local service of this type."""
        return f"has_{self.stem}"

    @property
    def summary(self) -> str:
        """Its key in the national figures (``forces_with_<summary>``)."""
        return self.summary_key or self.stem

    @property
    def noun(self) -> str:
        """The name inside a sentence ("multi-agency stalking unit")."""
        return self.name[0].lower() + self.name[1:]


SERVICE_TYPES: tuple[ServiceType, ...] = (
    ServiceType(
        "multi_agency_unit",
        "Multi-agency stalking unit",
        "Multi-agency stalking units",
        "a multi-agency stalking unit (police, probation, health and advocates working each case together)",
        letter="U",
        badge_colour="#12436D",
        stem="multi_agency_unit",
        specialist=True,
    ),
    ServiceType(
        "stalking_clinic",
        "Multi-agency stalking clinic or panel",
        "Multi-agency stalking clinics or panels",
        "a multi-agency stalking clinic or panel",
        letter="C",
        badge_colour="#2073BC",
        stem="clinic_or_panel",
        specialist=True,
        done_by_unit=True,
    ),
    ServiceType(
        "advocacy",
        "Specialist stalking advocacy (ISAC/ISA)",
        "Specialist stalking advocacy",
        "an independent stalking advocate (ISAC) service",
        letter="A",
        badge_colour="#28A197",
        stem="advocacy",
        summary_key="specialist_advocacy",
        specialist=True,
    ),
    ServiceType(
        "perpetrator_programme",
        "Stalking perpetrator programme",
        "Stalking perpetrator programmes",
        "a stalking perpetrator programme",
        letter="P",
        badge_colour="#801650",
        stem="perpetrator_programme",
        specialist=True,
        done_by_unit=True,
    ),
    ServiceType(
        "police_team",
        "Dedicated police stalking team or post",
        "Dedicated police stalking teams or posts",
        "a dedicated police stalking team or post",
        letter="T",
        badge_colour="#3D3D3D",
        stem="police_team",
    ),
    ServiceType("helpline", "Helpline"),
    ServiceType("education", "Education and prevention"),
    ServiceType("funding_stream", "Funding stream"),
    ServiceType("none_found", "Searched, nothing found"),
)
SERVICE_TYPE = {service.key: service for service in SERVICE_TYPES}
SERVICE_TYPE_KEYS = tuple(SERVICE_TYPE)
SERVICE_TYPE_LABELS = {service.key: service.name for service in SERVICE_TYPES}
LOCAL_SERVICE_TYPES: tuple[ServiceType, ...] = tuple(service for service in SERVICE_TYPES if service.local)
LOCAL_SERVICE_TYPE_KEYS = tuple(service.key for service in LOCAL_SERVICE_TYPES)
SPECIALIST_LOCAL_TYPE_KEYS = tuple(service.key for service in LOCAL_SERVICE_TYPES if service.specialist)
# provision_flags column of each local service type
SERVICE_TYPE_FLAG_COLUMNS = {service.key: service.flag for service in LOCAL_SERVICE_TYPES}

# A force with none of the local types counting: its own measure in the lottery figures.
NO_SPECIALIST_SERVICE = "no_specialist_service"
NO_SPECIALIST_SERVICE_LABEL = "No local specialist service found"


# ---------------------------------------------------------------------------------------------
# Provision classes of a force area (one per area: the best its local services earn)


@dataclass(frozen=True)
class ProvisionClass:
    key: str
    label: str  # legend, tables, chart axes
    phrase: str  # the national takeaway: "<n> forces <phrase>"
    fill: str  # map and chart fill
    pattern: str  # the fill in words, for the text key (colour is never the only cue)
    earned_by: tuple[str, ...] = ()  # local service types that earn the class, best class first
    dashed_outline: bool = False  # drawn white with a dashed outline (unknown)
    hatched: bool = False  # hatched on every map and key (web, static, PDF): stands apart from the blues
    dark_fill: bool = False  # white text on it in charts


PROVISION_CLASS_LIST: tuple[ProvisionClass, ...] = (
    ProvisionClass(
        "multi_agency_unit",
        "Multi-agency stalking unit",
        "have a multi-agency stalking unit",
        "#12436D",
        "darkest blue",
        earned_by=("multi_agency_unit",),
        dark_fill=True,
    ),
    ProvisionClass(
        "clinic_or_panel",
        "Multi-agency clinic or panel",
        "a multi-agency stalking clinic or panel but no unit",
        "#2073BC",
        "mid blue",
        earned_by=("stalking_clinic",),
        dark_fill=True,
    ),
    ProvisionClass(
        "advocacy",
        "Specialist advocacy, no multi-agency unit",
        "specialist stalking advocacy but no multi-agency work",
        "#6BACE6",
        "light blue",
        earned_by=("advocacy",),
    ),
    ProvisionClass(
        "other_local",
        "Perpetrator programme or police team only",
        "only a perpetrator programme or a dedicated police team",
        "#ADD1F1",
        "palest blue",
        earned_by=("perpetrator_programme", "police_team"),
    ),
    ProvisionClass(
        "national_only",
        "National services only (none found locally)",
        "only the national services (nothing found locally)",
        "#E6E6E6",
        "light grey, hatched",
        hatched=True,
    ),
    ProvisionClass(
        "unknown",
        "Unknown (not searched)",
        "unknown (not searched)",
        "#FFFFFF",
        "white, dashed outline",
        dashed_outline=True,
    ),
)
PROVISION_CLASS = {klass.key: klass for klass in PROVISION_CLASS_LIST}
PROVISION_CLASSES = tuple(PROVISION_CLASS)  # keys, best first
PROVISION_CLASS_LABELS = {klass.key: klass.label for klass in PROVISION_CLASS_LIST}
CLASS_EARNING_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (klass.key, klass.earned_by) for klass in PROVISION_CLASS_LIST if klass.earned_by
)
HATCHED_CLASSES = tuple(klass.key for klass in PROVISION_CLASS_LIST if klass.hatched)
DARK_FILL_CLASSES = frozenset(klass.key for klass in PROVISION_CLASS_LIST if klass.dark_fill)


# ---------------------------------------------------------------------------------------------
# Licences, attribution and caveats


OGL_V3 = "Open Government Licence v3.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
ONS_SOURCE = "Source: Office for National Statistics licensed under the Open Government Licence v.3.0."
# The attribution ONS asks for on its boundary products (ONS Open Geography licensing page).
ONS_ATTRIBUTION = f"{ONS_SOURCE} Contains OS data © Crown copyright and database right 2023."
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
# OpenStreetMap's data is under the Open Database Licence; its copyright page says how to credit it.
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"

# The ONS "Stalking and harassment" offence group is the sum of five Home Office offence codes
# (Home Office Counting Rules; ONS user guide to crime statistics): say so wherever it is used.
OFFENCE_GROUP_CODES = (
    ("8L", "harassment"),
    ("8M", "racially or religiously aggravated harassment"),
    ("8Q", "stalking"),
    ("8R", "malicious communications"),
    ("8U", "controlling or coercive behaviour"),
)
OFFENCE_GROUP_CAVEAT = (
    "The ONS 'Stalking and harassment' offence group is not stalking alone: it sums "
    + ", ".join(f"{name} ({code})" for code, name in OFFENCE_GROUP_CODES[:-1])
    + f" and {OFFENCE_GROUP_CODES[-1][1]} ({OFFENCE_GROUP_CODES[-1][0]})."
)
# The other four codes, for labels that name the group: "(the group includes …)".
_OTHER_CODES = [name for code, name in OFFENCE_GROUP_CODES if code != "8Q"]
OFFENCE_GROUP_INCLUDES = "includes " + ", ".join(_OTHER_CODES[:-1]) + f" and {_OTHER_CODES[-1]}"


# ---------------------------------------------------------------------------------------------
# Demand measures: police recorded crime by Home Office offence code (Home Office police recorded
# crime open data tables by police force area, April 2026 release; Home Office Counting Rules)


@dataclass(frozen=True)
class Measure:
    """A demand measure a user can switch to; stalking (8Q) is the headline."""

    key: str  # in URLs and code
    column: str  # column of data/indicators/recorded_crime.csv
    code: str  # Home Office offence code; "" for the group
    name: str  # "Stalking (8Q)": selectors, table headers
    noun: str  # "stalking offences": sentences
    caveat: str  # said wherever the measure is shown


COUNTING_RULE_BREAKS = (
    # (year ending December in which the change took effect, what changed), Home Office Counting Rules.
    (
        2018,
        "April 2018: a course of conduct amounting to stalking or harassment is recorded as well as the most serious other offence",
    ),
    (
        2020,
        "April 2020: conduct towards a former partner is recorded as stalking unless the police are satisfied it is harassment only",
    ),
)
# 8Q from the year ending March 2021 on is not comparable with earlier years (the April 2020 change);
# the first whole year ending December after that change is 2021.
FIRST_COMPARABLE_YEAR = 2021
STALKING_CAVEAT = (
    "Stalking has its own offence code (8Q) only from April 2014, so the year ending December 2014 holds "
    "nine months. Counting-rule changes in April 2018 and April 2020 raised recorded stalking: figures from "
    f"{FIRST_COMPARABLE_YEAR} on are not comparable with earlier years, so a rise across those years is "
    "largely a change in recording, not in stalking."
)
MALICIOUS_COMMUNICATIONS_CAVEAT = (
    "Malicious communications (8R) are listed only from 2017/18, and fall steeply from 2023/24 while harassment "
    "rises: probably a change in how they are recorded, not a real fall (not confirmed by the Home Office)."
)
MEASURES: tuple[Measure, ...] = (
    Measure("stalking", "stalking_8Q", "8Q", "Stalking (8Q)", "stalking offences", STALKING_CAVEAT),
    Measure(
        "harassment",
        "harassment_8L",
        "8L",
        "Harassment (8L)",
        "harassment offences",
        "Before April 2014 stalking was counted within harassment (8L).",
    ),
    Measure(
        "aggravated_harassment",
        "racially_religiously_aggravated_harassment_8M",
        "8M",
        "Racially or religiously aggravated harassment (8M)",
        "racially or religiously aggravated harassment offences",
        "The source holds nine small negative quarterly adjustments (−1 or −2, 2012/13 to 2016/17); they are kept.",
    ),
    Measure(
        "malicious_communications",
        "malicious_communications_8R",
        "8R",
        "Malicious communications (8R)",
        "malicious communications offences",
        MALICIOUS_COMMUNICATIONS_CAVEAT,
    ),
    Measure(
        "coercive_control",
        "controlling_coercive_behaviour_8U",
        "8U",
        "Controlling or coercive behaviour (8U)",
        "controlling or coercive behaviour offences",
        "Controlling or coercive behaviour (8U) is listed only from 2020/21.",
    ),
    Measure(
        "group",
        "stalking_harassment_group",
        "",
        "Stalking and harassment group (8L + 8M + 8Q + 8R + 8U)",
        "stalking and harassment offences (the ONS group)",
        f"{OFFENCE_GROUP_CAVEAT} Codes enter the group as they were created (8R from 2017/18, 8U from 2020/21). "
        f"{MALICIOUS_COMMUNICATIONS_CAVEAT}",
    ),
)
MEASURE = {measure.key: measure for measure in MEASURES}
HEADLINE_MEASURE = MEASURE["stalking"]
# shared/data/PROVENANCE.md section 6: the City of London has a tiny resident population.
RATE_CAVEAT = "The City of London's resident population is tiny, so its rate per head is not meaningful."
HOME_OFFICE_CRIME_SOURCE = (
    "Home Office, police recorded crime open data tables by police force area (released 23 April 2026)"
)
HOME_OFFICE_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Source: Home Office, police recorded crime open data tables."
)
