"""Scenario files for the staffing and cost planner: schema, validation, YAML in and out, presets.

A *scenario* says which police force areas get a new stalking unit, from which financial year, and
what each unit looks like (its *unit model*: roles, salaries, on-costs, non-pay, ramp-up), plus the
economic assumptions (price base, deflator, discount rate, optimism bias). ``coverage.planner.costing`` turns
it into FTE and cost tables; ``coverage.planner.store`` saves versions of it.

Conventions (see also ``data/scenarios/SOURCES.md``):

* Money is GBP at the prices of the financial year that starts in ``price_base_year`` (2024 means
  2024/25 prices). Every unit model states its ``price_year`` and it must equal the scenario's
  ``price_base_year``: amounts are never silently re-priced.
* Rates are fractions (0.035 is 3.5%).
* Every default number carries its provenance in its own fields: scenario-level and unit-level numbers
  are ``{value, source, assumption, note}`` objects; each role and fixed-cost line has its own
  ``source`` and ``assumption``. A bare number typed by a user is accepted and recorded as
  ``assumption: true`` with source ``"user input"``.
* Files are read with ``yaml.safe_load`` only, must be at most 1 MB, must be one mapping, must not use
  YAML anchors/aliases, and may not contain unknown keys. Every problem is reported with the field
  path, for example ``unit_models[0].roles[2].salary: must be between £10,000 and £250,000``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar, cast

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from coverage import paths
from coverage.errors import InputError, InputErrors, Problem
from coverage.sources import SOURCE_ID_PATTERN, load_registry
from coverage.vocabulary import FORCE_CODE_PATTERN, FORCE_CODE_RANGE

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 files are migrated on the way in (coverage.planner.migrate)
MAX_FILE_BYTES = 1_000_000
KIND = "scenario"

PRESETS_DIR = paths.DATA_DIR / "scenarios" / "presets"

AGENCIES = ("police", "probation", "nhs", "voluntary", "cps", "other")
Agency = Literal["police", "probation", "nhs", "voluntary", "cps", "other"]
# The employer pension scheme a role's on-cost is worked out from (data/planner/rules/employer_pension.yaml);
# "none" for a post with no employer pension in the model (e.g. a contracted service).
# "auto_enrolment": the statutory minimum on the band of qualifying earnings (voluntary-sector posts).
PENSION_SCHEMES = ("police", "nhs", "local_government", "civil_service", "auto_enrolment", "none")
PensionScheme = Literal["police", "nhs", "local_government", "civil_service", "auto_enrolment", "none"]
SOURCE_ID_FORM = SOURCE_ID_PATTERN  # a registry id: a capital letter and three digits (coverage.sources)

UNIT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,59}$")

# Bounds: (low, high, kind). kind decides how the bound is written in a message.
SALARY_BOUNDS = (10_000, 250_000, "money")
ONCOST_BOUNDS = (0.0, 0.8, "percent")
OVERHEAD_BOUNDS = (0.0, 1.5, "percent")
FTE_BOUNDS = (0.0, 100.0, "number")
CASELOAD_BOUNDS = (1.0, 5_000.0, "number")
FIXED_COST_BOUNDS = (0, 10_000_000, "money")
NON_PAY_BOUNDS = (0, 5_000_000, "money")
RECRUITMENT_BOUNDS = (0, 100_000, "money")
ATTRITION_BOUNDS = (0.0, 0.6, "percent")
RAMP_BOUNDS = (0.0, 1.0, "percent")
RAMP_MAX_YEARS = 10  # a ramp-up lists at most this many first years; the years after are fully staffed
DISCOUNT_BOUNDS = (0.0, 0.2, "percent")
OPTIMISM_BOUNDS = (0.0, 2.0, "percent")
PAY_UPLIFT_BOUNDS = (-0.05, 0.1, "percent")
INFLATION_BOUNDS = (-0.05, 0.2, "percent")
REFERRAL_RATE_BOUNDS = (0.0, 5.0, "number")
FIXED_REFERRALS_BOUNDS = (0.0, 100_000.0, "number")
YEAR_BOUNDS = (2000, 2100)
MAX_HORIZON = 30


# --------------------------------------------------------------------------------------------
# Number checks with messages that say what is allowed
# --------------------------------------------------------------------------------------------


def _fmt(value: float, kind: str) -> str:
    if kind == "money":
        return f"£{value:,.0f}"
    if kind == "percent":
        text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
        return f"{text}%"
    return f"{value:,g}"


def _between(low: float, high: float, kind: str) -> Callable[[float | None], float | None]:
    def check(value: float | None) -> float | None:
        if value is None:
            return value
        if not (low <= value <= high):
            raise ValueError(f"must be between {_fmt(low, kind)} and {_fmt(high, kind)}")
        return value

    return check


_T = TypeVar("_T")


def _no_bool(value: _T) -> _T:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


# A number field is ``Annotated[Number, AfterValidator(_between(*BOUNDS))]``: no true/false, then the bounds.
Number = Annotated[float, BeforeValidator(_no_bool)]
OptionalNumber = Annotated[float | None, BeforeValidator(_no_bool)]


def _year(value: int) -> int:
    if not (YEAR_BOUNDS[0] <= value <= YEAR_BOUNDS[1]):
        raise ValueError(
            f"must be a year between {YEAR_BOUNDS[0]} and {YEAR_BOUNDS[1]} (the first year of a financial year)"
        )
    return value


Year = Annotated[int, BeforeValidator(_no_bool), AfterValidator(_year)]


def _visible(value: str) -> str:
    """Refuse characters a reader cannot see: zero-width, direction-changing and other format or control
    characters make one name look like another (or reverse what follows). Newlines and tabs are text."""
    for position, char in enumerate(value):
        if char in "\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs"):
            raise ValueError(
                f"holds an invisible or direction-changing character (U+{ord(char):04X}) at position {position + 1}; "
                "retype it without that character"
            )
    return value


ShortText = Annotated[str, Field(max_length=200), AfterValidator(_visible)]
LongText = Annotated[str, Field(max_length=4_000), AfterValidator(_visible)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


# --------------------------------------------------------------------------------------------
# Numbers with provenance
# --------------------------------------------------------------------------------------------


def _source_id_form(value: str) -> str:
    if not SOURCE_ID_FORM.match(value):
        raise ValueError(
            f"'{value[:40]}' is not a source id (a capital letter and three digits, e.g. S054); "
            "describe the source in the note instead"
        )
    return value


SourceId = Annotated[str, AfterValidator(_source_id_form)]
SourceIds = Annotated[list[SourceId], Field(max_length=30)]


class Param(_Model):
    """A number with its provenance: the value, its source ids, whether it is an assumption, and whether
    a planner typed it (``user_input``: the note then says what it replaced and where that came from)."""

    value: float
    sources: SourceIds = []
    assumption: bool = True
    user_input: bool = False
    note: LongText = ""

    @field_validator("value", mode="before")
    @classmethod
    def _value_not_bool(cls, value: object) -> object:
        return _no_bool(value)


class SeriesParam(_Model):
    """A rate that may change by year: one number, or a list for years 1, 2, … (the last repeats)."""

    value: float | list[float]
    sources: SourceIds = []
    assumption: bool = True
    user_input: bool = False
    note: LongText = ""

    @field_validator("value", mode="before")
    @classmethod
    def _value_not_bool(cls, value: object) -> object:
        if isinstance(value, list):
            return [_no_bool(v) for v in value]
        return _no_bool(value)

    def values(self) -> list[float]:
        return list(self.value) if isinstance(self.value, list) else [float(self.value)]


def _coerce_param(value: object) -> object:
    """A bare number (or list) typed by a user becomes a Param marked as an assumption."""
    if isinstance(value, (int, float, list)) and not isinstance(value, bool):
        return {"value": value, "assumption": True, "user_input": True}
    return value


def _param_between(
    low: float, high: float, kind: str, *, min_len: int = 1, max_len: int = 60
) -> Callable[[Param | SeriesParam | None], Param | SeriesParam | None]:
    def check(param: Param | SeriesParam | None) -> Param | SeriesParam | None:
        if param is None:
            return param
        values = param.values() if isinstance(param, SeriesParam) else [param.value]
        if (
            isinstance(param, SeriesParam)
            and isinstance(param.value, list)
            and not (min_len <= len(param.value) <= max_len)
        ):
            raise ValueError(f"needs between {min_len} and {max_len} values; got {len(param.value)}")
        for i, v in enumerate(values):
            if not (low <= v <= high):
                where = f"value[{i}] " if isinstance(param, SeriesParam) and isinstance(param.value, list) else ""
                raise ValueError(f"{where}must be between {_fmt(low, kind)} and {_fmt(high, kind)}".strip())
        return param

    return check


# A provenance field is ``Annotated[UserParam, AfterValidator(_param_between(*BOUNDS))]`` (``UserSeries``
# for a rate by year): a bare number becomes a Param, then the bounds are checked.
UserParam = Annotated[Param, BeforeValidator(_coerce_param)]
UserSeries = Annotated[SeriesParam, BeforeValidator(_coerce_param)]


def _ramp_check(param: SeriesParam) -> SeriesParam:
    values = param.values()
    if values and values[0] <= 0:
        raise ValueError("the first year's fraction must be above 0 (a unit that starts has some staff)")
    return param


RampParam = Annotated[
    SeriesParam,
    BeforeValidator(_coerce_param),
    AfterValidator(_param_between(*RAMP_BOUNDS, min_len=0, max_len=RAMP_MAX_YEARS)),
    AfterValidator(_ramp_check),
]


# --------------------------------------------------------------------------------------------
# Unit models
# --------------------------------------------------------------------------------------------


class Role(_Model):
    """One role in a unit: who employs it, its pay, its on-costs and how its FTE is set."""

    role: Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_visible)]
    agency: Agency
    grade: ShortText = ""
    salary: Annotated[Number, AfterValidator(_between(*SALARY_BOUNDS))]
    pension_scheme: PensionScheme
    # Employer on-costs (NI + pension) are worked out from the dated rules for the salary, the scheme and
    # each costed year; an override replaces them with one stated rate (schema 1 files keep theirs here).
    oncost_override: Annotated[UserParam, AfterValidator(_param_between(*ONCOST_BOUNDS))] | None = None
    overhead_rate: Annotated[Number, AfterValidator(_between(*OVERHEAD_BOUNDS))] = 0.0
    fte_mode: Literal["fixed", "demand"] = "fixed"
    fte: Annotated[OptionalNumber, AfterValidator(_between(*FTE_BOUNDS))] = None
    caseload_per_fte: Annotated[OptionalNumber, AfterValidator(_between(*CASELOAD_BOUNDS))] = None
    sources: SourceIds = []
    assumption: bool = True
    user_input: bool = False
    note: LongText = ""

    @model_validator(mode="after")
    def _mode_needs_its_number(self) -> Self:
        if self.fte_mode == "fixed" and self.fte is None:
            raise ValueError("fte is required when fte_mode is 'fixed'")
        if self.fte_mode == "demand" and self.caseload_per_fte is None:
            raise ValueError("caseload_per_fte is required when fte_mode is 'demand'")
        return self


class FixedCost(_Model):
    """A cost line with no FTE behind it in the model: a grant, a contract, a commissioned service."""

    item: Annotated[str, Field(min_length=1, max_length=160), AfterValidator(_visible)]
    agency: Agency
    amount: Annotated[Number, AfterValidator(_between(*FIXED_COST_BOUNDS))]
    index: Literal["pay", "non_pay"] = "non_pay"
    sources: SourceIds = []
    assumption: bool = True
    user_input: bool = False
    note: LongText = ""


class UnitModel(_Model):
    """What one unit in one force area costs: its roles, fixed lines, non-pay, recruitment and ramp-up."""

    id: Annotated[str, Field(min_length=1, max_length=60)]
    name: Annotated[str, Field(min_length=1, max_length=160), AfterValidator(_visible)]
    description: LongText = ""
    price_year: Year
    roles: Annotated[list[Role], Field(max_length=80)] = []
    fixed_costs: Annotated[list[FixedCost], Field(max_length=40)] = []
    non_pay: Annotated[UserParam, AfterValidator(_param_between(*NON_PAY_BOUNDS))]
    non_pay_agency: Agency = "other"
    recruitment_training_cost_per_new_fte: Annotated[UserParam, AfterValidator(_param_between(*RECRUITMENT_BOUNDS))]
    attrition_rate: Annotated[UserParam, AfterValidator(_param_between(*ATTRITION_BOUNDS))]
    ramp_up: RampParam
    sources: SourceIds = []
    note: LongText = ""

    @field_validator("id")
    @classmethod
    def _id_form(cls, value: str) -> str:
        if not UNIT_ID_RE.match(value):
            raise ValueError("must be lower-case letters, digits and underscores (e.g. cheshire_hru_like)")
        return value

    @model_validator(mode="after")
    def _has_something_to_cost(self) -> Self:
        if not self.roles and not self.fixed_costs and self.non_pay.value == 0:
            raise ValueError("a unit model needs at least one role, fixed-cost line or non-pay amount")
        return self


# --------------------------------------------------------------------------------------------
# Demand
# --------------------------------------------------------------------------------------------


DEMAND_OFFENCES = {
    "8Q": "police-recorded stalking offences (Home Office offence code 8Q)",
    "stalking_harassment_group": (
        "police-recorded offences in the ONS 'Stalking and harassment' group (stalking with harassment, "
        "racially or religiously aggravated harassment and malicious communications): the basis of schema 1 files"
    ),
}
OffenceCode = Literal["8Q", "stalking_harassment_group"]
PERIOD_FORM = re.compile(r"^YE Dec \d{4}$")


def _period_form(value: str | None) -> str | None:
    if value is not None and not PERIOD_FORM.match(value):
        raise ValueError(f"'{value[:40]}' is not a period like 'YE Dec 2025' (a year ending December)")
    return value


class ReferralRate(_Model):
    """Referrals to a unit a year per police-recorded offence of ``offence_code`` in ``offences_period``.

    Either give ``value`` directly, or its derivation (observed referrals over some months, set against
    the recorded offences of the same area over a year); if both are given they must agree. The rate is
    applied to each force's offences in ``offences_period`` (blank: the latest year the atlas holds).
    """

    value: Annotated[OptionalNumber, AfterValidator(_between(*REFERRAL_RATE_BOUNDS))] = None
    observed_referrals: Annotated[OptionalNumber, AfterValidator(_between(0.0, 1_000_000.0, "number"))] = None
    observed_months: Annotated[OptionalNumber, AfterValidator(_between(1.0, 120.0, "number"))] = None
    reference_offences: Annotated[OptionalNumber, AfterValidator(_between(1.0, 10_000_000.0, "number"))] = None
    reference_area: ShortText = ""
    reference_period: ShortText = ""
    referral_period: ShortText = ""  # when the observed referrals were made, e.g. "June 2018 to about April 2019"
    offence_code: OffenceCode = "8Q"
    offences_period: Annotated[ShortText | None, AfterValidator(_period_form)] = None
    sources: SourceIds = []
    assumption: bool = True
    user_input: bool = False
    confidence: Literal["high", "medium", "low"] = "low"
    note: LongText = ""

    @model_validator(mode="after")
    def _value_or_derivation(self) -> Self:
        parts = (self.observed_referrals, self.observed_months, self.reference_offences)
        derived = None
        if (
            self.observed_referrals is not None
            and self.observed_months is not None
            and self.reference_offences is not None
        ):
            derived = self.observed_referrals * 12.0 / self.observed_months / self.reference_offences
            if derived > REFERRAL_RATE_BOUNDS[1]:
                raise ValueError(
                    f"the derived rate (referrals per year ÷ offences) is above {REFERRAL_RATE_BOUNDS[1]:g} "
                    "referrals per offence"
                )
        elif any(p is not None for p in parts):
            raise ValueError("give all of observed_referrals, observed_months and reference_offences, or none")
        if self.value is None and derived is None:
            raise ValueError("give value, or observed_referrals + observed_months + reference_offences")
        if (
            self.value is not None
            and derived is not None
            and abs(self.value - derived) > 1e-6 * max(derived, 1e-12) + 1e-12
        ):
            raise ValueError(f"value {self.value:g} disagrees with its derivation ({derived:.8g})")
        return self

    @property
    def rate(self) -> float:
        if self.value is not None:
            return float(self.value)
        # _value_or_derivation makes sure all three are set when value is not
        referrals, months, offences = cast(
            tuple[float, float, float], (self.observed_referrals, self.observed_months, self.reference_offences)
        )
        return referrals * 12.0 / months / offences


class Demand(_Model):
    """How many referrals a unit gets a year: a rate per recorded offence, or a fixed number per unit."""

    referral_rate: ReferralRate | None = None
    fixed_referrals_per_year: Annotated[UserParam, AfterValidator(_param_between(*FIXED_REFERRALS_BOUNDS))] | None = (
        None
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.referral_rate is None) == (self.fixed_referrals_per_year is None):
            raise ValueError("give exactly one of referral_rate or fixed_referrals_per_year")
        return self


# --------------------------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------------------------


def _force_code_form(value: str) -> str:
    if not FORCE_CODE_PATTERN.match(value):
        raise ValueError(f"'{value[:40]}' is not an ONS police force area code ({FORCE_CODE_RANGE})")
    return value


ForceCode = Annotated[str, AfterValidator(_force_code_form)]


class Deployment(_Model):
    """One unit serving one or more force areas (a regional or hosted unit serves several: their demand is
    summed and each counts as covered), starting ``start_year_offset`` years after the first year."""

    forces: Annotated[list[ForceCode], Field(min_length=1, max_length=43)]
    name: ShortText = ""  # e.g. "Wales-wide unit"; blank: named after its forces
    start_year_offset: Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=MAX_HORIZON - 1)] = 0
    unit_model: str

    @field_validator("forces")
    @classmethod
    def _each_force_once(cls, value: list[str]) -> list[str]:
        twice = sorted({code for code in value if value.count(code) > 1})
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once; a unit serves each force once")
        return value


PLACEMENT_RULES = {"every_force_without_unit": "every force area with no multi-agency stalking unit in the register"}


class PlacementRule(_Model):
    """A placement kept as a rule, resolved against the register in use each time the scenario is costed."""

    rule: Literal["every_force_without_unit"]
    unit_model: str
    start_year_offset: Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=MAX_HORIZON - 1)] = 0


class DatedOverride(_Model):
    """A planner's value for a dated rule (e.g. employer NI 16% from 6 April 2027), labelled user input."""

    from_: Annotated[date, Field(alias="from")]
    value: Number
    note: LongText = ""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True, populate_by_name=True)


def _default_discount() -> Param:
    return Param(
        value=0.035,
        sources=["P014"],
        assumption=False,
        note="HM Treasury Green Book social time preference rate, 3.5% a year for years 0-30 (real terms)",
    )


def _default_optimism() -> Param:
    return Param(
        value=0.0,
        assumption=True,
        note="No optimism-bias uplift by default; the Green Book expects an uplift set for the project, so set one",
    )


def _default_pay_uplift() -> Param:
    return Param(value=0.0, assumption=True, note="Real pay growth above the GDP deflator, per year")


def _default_deflator() -> SeriesParam:
    return SeriesParam(
        value=0.02,
        sources=["P015", "P016"],
        assumption=True,
        note=(
            "2% a year. The HM Treasury GDP deflator series (OBR forecasts) was found but its numbers were "
            "not retrieved; 2% is the inflation target, close to the OBR's CPI forecast for 2026 (2.1%)"
        ),
    )


def _default_non_pay_inflation() -> SeriesParam:
    return SeriesParam(
        value=0.02,
        sources=["P015", "P016"],
        assumption=True,
        note="Nominal non-pay inflation; set equal to the GDP deflator, so non-pay is flat in real terms",
    )


class Scenario(_Model):
    """A costed plan: unit models deployed to force areas over a horizon, with economic assumptions."""

    schema_version: int
    kind: Literal["scenario"] = "scenario"
    name: Annotated[str, Field(min_length=1, max_length=160), AfterValidator(_visible)]
    description: LongText = ""
    price_base_year: Year
    start_year: Year
    horizon_years: Annotated[int, BeforeValidator(_no_bool), AfterValidator(_between(1, MAX_HORIZON, "number"))]
    discount_rate: Annotated[UserParam, AfterValidator(_param_between(*DISCOUNT_BOUNDS))] = Field(
        default_factory=_default_discount
    )
    optimism_bias: Annotated[UserParam, AfterValidator(_param_between(*OPTIMISM_BOUNDS))] = Field(
        default_factory=_default_optimism
    )
    pay_uplift: Annotated[UserParam, AfterValidator(_param_between(*PAY_UPLIFT_BOUNDS))] = Field(
        default_factory=_default_pay_uplift
    )
    non_pay_inflation: Annotated[UserSeries, AfterValidator(_param_between(*INFLATION_BOUNDS))] = Field(
        default_factory=_default_non_pay_inflation
    )
    gdp_deflator: Annotated[UserSeries, AfterValidator(_param_between(*INFLATION_BOUNDS))] = Field(
        default_factory=_default_deflator
    )
    deployments: Annotated[list[Deployment], Field(max_length=500)] = []
    placement: PlacementRule | None = None
    unit_models: Annotated[list[UnitModel], Field(min_length=1, max_length=20)]
    demand: Demand | None = None
    # Planner values for the dated rules (on-costs, deflator): rule name → values by date, each user input.
    parameter_overrides: Annotated[
        dict[str, Annotated[list[DatedOverride], Field(min_length=1, max_length=40)]], Field(max_length=40)
    ] = {}
    notes: LongText = ""

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_readable(cls, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number (this app reads scenario schema versions 1 and {SCHEMA_VERSION})")
        if value > SCHEMA_VERSION:
            raise ValueError(
                f"this file uses scenario schema version {value}, but this app reads up to version {SCHEMA_VERSION}: "
                "open it with a newer version of the atlas"
            )
        if value != SCHEMA_VERSION:
            raise ValueError(f"must be {SCHEMA_VERSION} (version 1 files are migrated when they are opened)")
        return value

    @property
    def last_year(self) -> int:
        return self.start_year + self.horizon_years - 1

    def placed_unit_models(self) -> set[str]:
        used = {d.unit_model for d in self.deployments}
        if self.placement is not None:
            used.add(self.placement.unit_model)
        return used

    # Convenience -------------------------------------------------------------------------
    def unit(self, unit_id: str) -> UnitModel:
        for unit in self.unit_models:
            if unit.id == unit_id:
                return unit
        raise KeyError(unit_id)

    @property
    def years(self) -> list[int]:
        return [self.start_year + t for t in range(self.horizon_years)]


def cross_check(scenario: Scenario) -> list[Problem]:
    """Checks that span fields, each with the path of the field to change."""
    s = scenario
    problems: list[Problem] = []
    ids = [u.id for u in s.unit_models]
    for i, uid in enumerate(ids):
        if ids.index(uid) != i:
            problems.append(Problem(("unit_models", i, "id"), f"'{uid}' is used by more than one unit model"))
    for i, unit in enumerate(s.unit_models):
        if unit.price_year != s.price_base_year:
            problems.append(
                Problem(
                    ("unit_models", i, "price_year"),
                    f"'{unit.id}' is priced in {fiscal_year_label(unit.price_year)} but the scenario's price base is "
                    f"{fiscal_year_label(s.price_base_year)}; re-price the unit or change price_base_year",
                )
            )
    if s.start_year < s.price_base_year:
        problems.append(
            Problem(
                ("start_year",),
                f"{s.start_year} is before price_base_year {s.price_base_year}; the first year costed must not come "
                "before the price base",
            )
        )

    def unknown_unit(path: tuple[str | int, ...], uid: str) -> None:
        if uid not in ids:
            hint = difflib.get_close_matches(uid, ids, n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else f" (defined: {', '.join(ids)})"
            problems.append(Problem(path, f"'{uid}' is not in unit_models{extra}"))

    for i, dep in enumerate(s.deployments):
        unknown_unit(("deployments", i, "unit_model"), dep.unit_model)
        if dep.start_year_offset >= s.horizon_years:
            problems.append(
                Problem(
                    ("deployments", i, "start_year_offset"),
                    f"{dep.start_year_offset} is beyond the {s.horizon_years}-year horizon (0 is the first year)",
                )
            )
    if s.placement is not None:
        unknown_unit(("placement", "unit_model"), s.placement.unit_model)
        if s.placement.start_year_offset >= s.horizon_years:
            problems.append(
                Problem(
                    ("placement", "start_year_offset"),
                    f"{s.placement.start_year_offset} is beyond the {s.horizon_years}-year horizon",
                )
            )
        if s.deployments:
            problems.append(
                Problem(
                    ("placement",),
                    "a placement rule places every unit itself; remove the listed deployments or the rule",
                )
            )
    used = s.placed_unit_models()
    for i, unit in enumerate(s.unit_models):
        if unit.id not in used:
            continue
        for j, role in enumerate(unit.roles):
            if role.fte_mode == "demand" and s.demand is None:
                problems.append(
                    Problem(
                        ("unit_models", i, "roles", j, "fte_mode"),
                        "'demand' needs a demand section (referral_rate or fixed_referrals_per_year)",
                    )
                )
    horizon_end = date(s.last_year + 1, 4, 5)  # the last day of the last financial year costed
    for name, values in s.parameter_overrides.items():
        for k, override in enumerate(values):
            if override.from_ > horizon_end:
                problems.append(
                    Problem(
                        ("parameter_overrides", name, k, "from"),
                        f"{override.from_.isoformat()} is after the scenario's last year "
                        f"({fiscal_year_label(s.last_year)}, which ends on {horizon_end.isoformat()})",
                    )
                )
        dates = [o.from_ for o in values]
        if dates != sorted(set(dates)):
            problems.append(Problem(("parameter_overrides", name), "dates must increase, each date once"))
    return problems


def walk_sources(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every source id in a scenario (as a dict) with the path of its ``sources`` list entry."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "sources" and isinstance(value, list):
                for i, sid in enumerate(value):
                    yield (*path, key, i), str(sid)
            else:
                yield from walk_sources(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from walk_sources(value, (*path, i))


def demand_description(scenario: Scenario) -> str:
    """The offences a scenario's referral rate is applied to, in words ('' without a rate)."""
    rate = scenario.demand.referral_rate if scenario.demand is not None else None
    if rate is None:
        return ""
    return f"{DEMAND_OFFENCES[rate.offence_code]}, {rate.offences_period or 'the latest year'}"


def fiscal_year_label(year: int) -> str:
    """2026 → '2026/27'."""
    return f"{year}/{(year + 1) % 100:02d}"


# --------------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------------

_PREFIX_RE = re.compile(r"^Value error, |^Assertion failed, ")


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """A pydantic error location as the user's field path: union and validator branches dropped."""
    out: list[int | str] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
            continue
        text = str(part)
        # Pydantic names union and function branches in the loc; users never wrote them.
        if "function-" in text or text in {"float", "int", "list[float]", "str", "Param", "SeriesParam"}:
            continue
        out.append("from" if text == "from_" else text)
    return tuple(out)


def _known_fields(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


_MODEL_AT: dict[str, type[BaseModel]] = {
    "unit_models": UnitModel,
    "roles": Role,
    "fixed_costs": FixedCost,
    "deployments": Deployment,
    "placement": PlacementRule,
    "demand": Demand,
    "referral_rate": ReferralRate,
    "parameter_overrides": DatedOverride,
}
_PARAM_FIELDS = {
    "discount_rate",
    "optimism_bias",
    "pay_uplift",
    "non_pay",
    "recruitment_training_cost_per_new_fte",
    "attrition_rate",
    "fixed_referrals_per_year",
    "oncost_override",
}
_SERIES_FIELDS = {"non_pay_inflation", "gdp_deflator", "ramp_up"}


def _model_for(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    names = [p for p in loc[:-1] if isinstance(p, str)]
    if not names:
        return Scenario
    last = names[-1]
    if last in _MODEL_AT:
        return _MODEL_AT[last]
    if last in _PARAM_FIELDS:
        return Param
    return SeriesParam if last in _SERIES_FIELDS else None


def _found(value: Any, *, percent: bool = False) -> str:
    """' (found -22,221)' for the number a bound refused, so the reader can find it in the file;
    rates (stored as fractions) are shown as percentages, like their bounds."""
    if isinstance(value, dict):
        value = value.get("value")
    elif hasattr(value, "value"):
        value = value.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return f" (found {value * 100:,.10g}%)" if percent else f" (found {value:,.10g})"


def validation_problems(error: ValidationError) -> list[Problem]:
    """Pydantic errors as problems with a field path: (unit_models, 0, roles, 2, salary) 'must be between …'."""
    problems: list[Problem] = []
    for err in error.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        path = _clean_loc(loc)
        kind = err.get("type", "")
        msg = _PREFIX_RE.sub("", str(err.get("msg", "")))
        if kind == "extra_forbidden":
            field = str(loc[-1]) if loc else "?"
            hint = difflib.get_close_matches(field, _known_fields(_model_for(loc)), n=1)
            msg = "unknown field" + (f" (did you mean '{hint[0]}'?)" if hint else "")
        elif kind == "missing":
            msg = "is required"
        elif kind == "finite_number":
            msg = "must be a finite number"
        if msg.startswith("must be between"):
            msg += _found(err.get("input"), percent="%" in msg)
        problems.append(Problem(path, msg))
    # the same problem can be reported by several union branches; keep the first of each
    return list(dict.fromkeys(problems))


def _raise(problems: list[Problem], where: str) -> None:
    if len(problems) == 1:
        raise InputError(problems[0], where=where)
    raise InputErrors(problems, where=where)


def source_problems(data: Mapping[str, Any]) -> list[Problem]:
    """A source id that is not in the atlas's sources registry, with the field that cites it."""
    registry = load_registry()
    problems = []
    for path, sid in walk_sources(data):
        if sid in registry or not SOURCE_ID_FORM.match(sid):
            continue  # a malformed id is reported by the schema itself
        hint = difflib.get_close_matches(sid, list(registry), n=1)
        problems.append(
            Problem(
                path,
                f"unknown source id '{sid}'"
                + (f" (did you mean '{hint[0]}'?)" if hint else "")
                + "; sources are listed in data/sources.csv",
            )
        )
    return problems


def override_problems(scenario: Scenario, names: Iterable[str]) -> list[Problem]:
    """An override of a rule the rule book does not have."""
    known = sorted(names)
    problems = []
    for name in scenario.parameter_overrides:
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            problems.append(
                Problem(
                    ("parameter_overrides", name),
                    "is not a rule in data/planner/rules"
                    + (f" (did you mean '{hint[0]}'?)" if hint else f" (rules: {', '.join(known)})"),
                )
            )
    return problems


def scenario_from_dict(data: Any, *, where: str = "scenario") -> Scenario:
    """Validate a parsed scenario (a mapping) and return it; ``InputError(s)`` naming each field otherwise.

    A schema version 1 scenario is migrated to version 2 first (``coverage.planner.migrate``), keeping
    its hand-set on-cost rates as overrides so that its totals do not change."""
    if not isinstance(data, dict):
        raise InputError(f"is not a scenario: expected a mapping of fields, got {_describe(data)}", where=where)
    if "kind" in data and data["kind"] != KIND:
        raise InputError(f"kind: is '{data['kind']}', not '{KIND}': this is not a scenario file", where=where)
    if "schema_version" not in data:
        hint = _guess_kind(data)
        raise InputError(
            "schema_version: is required" + (f" ({hint})" if hint else " (this does not look like a scenario file)"),
            where=where,
        )
    if data["schema_version"] == 1 and not isinstance(data["schema_version"], bool):
        from coverage.planner.migrate import migrate_v1

        data = migrate_v1(data)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        _raise(validation_problems(exc), where)
    problems = cross_check(scenario) + source_problems(data)
    if scenario.parameter_overrides:
        from coverage.planner.rules import load_rulebook

        problems += override_problems(scenario, load_rulebook().parameters)
    if problems:
        _raise(problems, where)
    return scenario


def _describe(data: Any) -> str:
    if data is None:
        return "an empty document"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return "a line of text"
    return f"a {type(data).__name__}"


def _guess_kind(data: dict[str, Any]) -> str:
    if data.get("type") in {"FeatureCollection", "Feature", "Topology"}:
        return "this looks like a GeoJSON/TopoJSON boundary file"
    if {"service_name", "force_code"} <= set(data) or "services" in data:
        return "this looks like a service register"
    if "roles" in data and "id" in data:
        return "this looks like a single unit model; put it under unit_models in a scenario"
    return ""


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:5] if line.strip()]
    return len(lines) >= 2 and all(line.count(",") >= 2 or line.count(";") >= 2 for line in lines[:2])


# A scenario nests about six deep (unit models → roles → a role → a parameter → its value list); deeper
# nesting is not a scenario, and very deep nesting makes the parser and validator recurse for minutes.
MAX_YAML_DEPTH = 20
MAX_YAML_EVENTS = 200_000  # a preset is about 2,000 parse events; a national rollout file about 10,000


def _refuse_aliases(text: str, where: str) -> None:
    """Refuse, before anything is built, what could make a small file cost a lot: YAML anchors/aliases
    (which expand a small file into a huge structure, the 'billion laughs'), nesting deeper than any
    scenario, and more parse events than any scenario file has."""
    depth = events = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            events += 1
            if isinstance(event, yaml.AliasEvent):
                raise InputError(
                    "YAML anchors and aliases (&name / *name) are not allowed in scenario files", where=where
                )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else 0
                    raise InputError(
                        f"line {line}: nested more than {MAX_YAML_DEPTH} levels deep; a scenario nests about six",
                        where=where,
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            if events > MAX_YAML_EVENTS:
                raise InputError(
                    f"holds more than {MAX_YAML_EVENTS:,} YAML items; a scenario holds a few thousand", where=where
                )
    except yaml.YAMLError:
        return  # reported by safe_load below with its line number


def load_scenario_text(text: str, *, where: str = "scenario") -> Scenario:
    """Parse and validate scenario YAML (or JSON, which is YAML) text."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise InputError(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; a scenario file is a few KB", where=where)
    if "\x00" in text:
        raise InputError("is not a text file", where=where)
    _refuse_aliases(text, where)
    csv_message = "is a CSV table (for example a service register), not a scenario; scenario files are YAML"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        if _looks_like_csv(text):
            raise InputError(csv_message, where=where) from None
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"is not valid YAML{at}: {problem}", where=where) from None
    if isinstance(data, str) and _looks_like_csv(text):
        raise InputError(csv_message, where=where)
    return scenario_from_dict(data, where=where)


def load_scenario_bytes(data: bytes, *, where: str = "scenario") -> Scenario:
    """Validate uploaded bytes (size first, then UTF-8, then YAML)."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; a scenario file is a few KB", where=where)
    if data[:4] == b"PK\x03\x04":
        raise InputError("is a zip or Excel file, not a scenario YAML file", where=where)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("is not a UTF-8 text file, so not a scenario YAML file", where=where) from None
    return load_scenario_text(text, where=where)


def load_scenario_file(path: Path | str) -> Scenario:
    """Read a scenario YAML file (refuses files over 1 MB before reading them)."""
    path = Path(path)
    where = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", where=where) from None
    if size > MAX_FILE_BYTES:
        raise InputError(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; a scenario file is a few KB", where=where)
    return load_scenario_bytes(path.read_bytes(), where=where)


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain JSON-able dict; loading it back gives an equal scenario."""
    return scenario.model_dump(mode="json")


def scenario_to_yaml(scenario: Scenario) -> str:
    return yaml.safe_dump(scenario_to_dict(scenario), sort_keys=False, allow_unicode=True, width=110)


def scenario_to_json(scenario: Scenario) -> str:
    return json.dumps(scenario_to_dict(scenario), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the canonical JSON (keys sorted): the same scenario always gives the same hash."""
    return hashlib.sha256(scenario_to_json(scenario).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Presets and source list
# --------------------------------------------------------------------------------------------


def preset_ids(directory: Path = PRESETS_DIR) -> list[str]:
    return sorted(p.stem for p in Path(directory).glob("*.yaml"))


def load_preset(preset_id: str, directory: Path = PRESETS_DIR) -> Scenario:
    """A shipped preset scenario by id (file stem), e.g. ``cheshire_hru_like``."""
    if preset_id not in preset_ids(directory):
        raise InputError(f"no preset '{preset_id}' (presets: {', '.join(preset_ids(directory))})", where="preset")
    return load_scenario_file(Path(directory) / f"{preset_id}.yaml")


def list_presets(directory: Path = PRESETS_DIR) -> list[dict[str, str]]:
    """Id, name and description of every shipped preset."""
    out = []
    for pid in preset_ids(directory):
        s = load_preset(pid, directory)
        out.append({"id": pid, "name": s.name, "description": s.description})
    return out


def source_ids_used(scenario: Scenario) -> list[str]:
    """Every source id a scenario cites, sorted."""
    return sorted({sid for _, sid in walk_sources(scenario_to_dict(scenario))})
