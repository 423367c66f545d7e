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
from collections.abc import Callable
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
from coverage.errors import InputError, InputErrors
from coverage.vocabulary import FORCE_CODE_PATTERN, FORCE_CODE_RANGE

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 1_000_000
KIND = "scenario"

PRESETS_DIR = paths.DATA_DIR / "scenarios" / "presets"
SOURCES_MD = paths.DATA_DIR / "scenarios" / "SOURCES.md"

AGENCIES = ("police", "probation", "nhs", "voluntary", "cps", "other")
Agency = Literal["police", "probation", "nhs", "voluntary", "cps", "other"]

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
REFERRAL_RATE_BOUNDS = (0.0, 1.0, "number")
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
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=4_000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


# --------------------------------------------------------------------------------------------
# Numbers with provenance
# --------------------------------------------------------------------------------------------


class Param(_Model):
    """A number with its provenance: the value, the source id(s) and whether it is an assumption."""

    value: float
    source: LongText = ""
    assumption: bool = True
    note: LongText = ""

    @field_validator("value", mode="before")
    @classmethod
    def _value_not_bool(cls, value: object) -> object:
        return _no_bool(value)


class SeriesParam(_Model):
    """A rate that may change by year: one number, or a list for years 1, 2, … (the last repeats)."""

    value: float | list[float]
    source: LongText = ""
    assumption: bool = True
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
        return {"value": value, "source": "user input", "assumption": True}
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

    role: Annotated[str, Field(min_length=1, max_length=120)]
    agency: Agency
    grade: ShortText = ""
    salary: Annotated[Number, AfterValidator(_between(*SALARY_BOUNDS))]
    oncost_rate: Annotated[Number, AfterValidator(_between(*ONCOST_BOUNDS))]
    overhead_rate: Annotated[Number, AfterValidator(_between(*OVERHEAD_BOUNDS))] = 0.0
    fte_mode: Literal["fixed", "demand"] = "fixed"
    fte: Annotated[OptionalNumber, AfterValidator(_between(*FTE_BOUNDS))] = None
    caseload_per_fte: Annotated[OptionalNumber, AfterValidator(_between(*CASELOAD_BOUNDS))] = None
    source: LongText = ""
    assumption: bool = True
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

    item: Annotated[str, Field(min_length=1, max_length=160)]
    agency: Agency
    amount: Annotated[Number, AfterValidator(_between(*FIXED_COST_BOUNDS))]
    index: Literal["pay", "non_pay"] = "non_pay"
    source: LongText = ""
    assumption: bool = True
    note: LongText = ""


class UnitModel(_Model):
    """What one unit in one force area costs: its roles, fixed lines, non-pay, recruitment and ramp-up."""

    id: Annotated[str, Field(min_length=1, max_length=60)]
    name: Annotated[str, Field(min_length=1, max_length=160)]
    description: LongText = ""
    price_year: Year
    roles: Annotated[list[Role], Field(max_length=80)] = []
    fixed_costs: Annotated[list[FixedCost], Field(max_length=40)] = []
    non_pay: Annotated[UserParam, AfterValidator(_param_between(*NON_PAY_BOUNDS))]
    non_pay_agency: Agency = "other"
    recruitment_training_cost_per_new_fte: Annotated[UserParam, AfterValidator(_param_between(*RECRUITMENT_BOUNDS))]
    attrition_rate: Annotated[UserParam, AfterValidator(_param_between(*ATTRITION_BOUNDS))]
    ramp_up: RampParam
    sources: LongText = ""

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


class ReferralRate(_Model):
    """Referrals to a unit per police-recorded offence in the ONS 'Stalking and harassment' group.

    Either give ``value`` directly, or its derivation (observed referrals over some months, set against
    the recorded offences of the same area over a year); if both are given they must agree.
    """

    value: Annotated[OptionalNumber, AfterValidator(_between(*REFERRAL_RATE_BOUNDS))] = None
    observed_referrals: Annotated[OptionalNumber, AfterValidator(_between(0.0, 1_000_000.0, "number"))] = None
    observed_months: Annotated[OptionalNumber, AfterValidator(_between(1.0, 120.0, "number"))] = None
    reference_offences: Annotated[OptionalNumber, AfterValidator(_between(1.0, 10_000_000.0, "number"))] = None
    reference_area: ShortText = ""
    reference_period: ShortText = ""
    offence_group: LongText = (
        "ONS police-recorded 'Stalking and harassment' offence group, which also includes harassment and "
        "malicious communications: the rate is per offence in that whole group, not per stalking offence"
    )
    source: LongText = ""
    assumption: bool = True
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
                raise ValueError("the derived rate (referrals per year ÷ offences) is above 1 referral per offence")
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


class Deployment(_Model):
    """One unit in one force area, starting ``start_year_offset`` years after the scenario's first year."""

    force_code: str
    start_year_offset: Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=MAX_HORIZON - 1)] = 0
    unit_model: str

    @field_validator("force_code")
    @classmethod
    def _code_form(cls, value: str) -> str:
        if not FORCE_CODE_PATTERN.match(value):
            raise ValueError(f"'{value}' is not an ONS police force area code ({FORCE_CODE_RANGE})")
        return value


def _default_discount() -> Param:
    return Param(
        value=0.035,
        source="P014",
        assumption=False,
        note="HM Treasury Green Book social time preference rate, 3.5% a year for years 0-30 (real terms)",
    )


def _default_optimism() -> Param:
    return Param(
        value=0.0,
        source="",
        assumption=True,
        note="No optimism-bias uplift by default; the Green Book expects an uplift set for the project, so set one",
    )


def _default_pay_uplift() -> Param:
    return Param(value=0.0, source="", assumption=True, note="Real pay growth above the GDP deflator, per year")


def _default_deflator() -> SeriesParam:
    return SeriesParam(
        value=0.02,
        source="P015; P016",
        assumption=True,
        note=(
            "2% a year. The HM Treasury GDP deflator series (OBR forecasts) was found but its numbers were "
            "not retrieved; 2% is the inflation target, close to the OBR's CPI forecast for 2026 (2.1%)"
        ),
    )


def _default_non_pay_inflation() -> SeriesParam:
    return SeriesParam(
        value=0.02,
        source="P015; P016",
        assumption=True,
        note="Nominal non-pay inflation; set equal to the GDP deflator, so non-pay is flat in real terms",
    )


class Scenario(_Model):
    """A costed plan: unit models deployed to force areas over a horizon, with economic assumptions."""

    schema_version: int
    kind: Literal["scenario"] = "scenario"
    name: Annotated[str, Field(min_length=1, max_length=160)]
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
    unit_models: Annotated[list[UnitModel], Field(min_length=1, max_length=20)]
    demand: Demand | None = None
    notes: LongText = ""

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_readable(cls, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number (this app reads scenario schema version {SCHEMA_VERSION})")
        if value > SCHEMA_VERSION:
            raise ValueError(
                f"this file uses scenario schema version {value}, but this app reads version {SCHEMA_VERSION}: "
                "open it with a newer version of the atlas"
            )
        if value < 1:
            raise ValueError(f"must be {SCHEMA_VERSION}")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        problems: list[str] = []
        ids = [u.id for u in self.unit_models]
        for i, uid in enumerate(ids):
            if ids.index(uid) != i:
                problems.append(f"unit_models[{i}].id: '{uid}' is used by more than one unit model")
        for i, unit in enumerate(self.unit_models):
            if unit.price_year != self.price_base_year:
                problems.append(
                    f"unit_models[{i}].price_year: '{unit.id}' is priced in {fiscal_year_label(unit.price_year)} "
                    f"but the scenario's price base is {fiscal_year_label(self.price_base_year)}; re-price the unit "
                    "or change price_base_year"
                )
        if self.start_year < self.price_base_year:
            problems.append(
                f"start_year: {self.start_year} is before price_base_year {self.price_base_year}; "
                "the first year costed must not come before the price base"
            )
        known = set(ids)
        for i, dep in enumerate(self.deployments):
            if dep.unit_model not in known:
                hint = difflib.get_close_matches(dep.unit_model, ids, n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else f" (defined: {', '.join(ids)})"
                problems.append(f"deployments[{i}].unit_model: '{dep.unit_model}' is not in unit_models{extra}")
            if dep.start_year_offset >= self.horizon_years:
                problems.append(
                    f"deployments[{i}].start_year_offset: {dep.start_year_offset} is beyond the "
                    f"{self.horizon_years}-year horizon (0 is the first year)"
                )
        used = {d.unit_model for d in self.deployments}
        for i, unit in enumerate(self.unit_models):
            if unit.id not in used:
                continue
            for j, role in enumerate(unit.roles):
                if role.fte_mode == "demand" and self.demand is None:
                    problems.append(
                        f"unit_models[{i}].roles[{j}].fte_mode: 'demand' needs a demand section "
                        "(referral_rate or fixed_referrals_per_year)"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # Convenience -------------------------------------------------------------------------
    def unit(self, unit_id: str) -> UnitModel:
        for unit in self.unit_models:
            if unit.id == unit_id:
                return unit
        raise KeyError(unit_id)

    @property
    def years(self) -> list[int]:
        return [self.start_year + t for t in range(self.horizon_years)]


def fiscal_year_label(year: int) -> str:
    """2026 → '2026/27'."""
    return f"{year}/{(year + 1) % 100:02d}"


# --------------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------------

_PREFIX_RE = re.compile(r"^Value error, |^Assertion failed, ")


def _loc_text(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # Pydantic names union and function branches in the loc; users never wrote them.
            if part in {"function-after[check(), Param]", "function-after[check(), SeriesParam]"}:
                continue
            if "function-" in str(part) or str(part) in {"float", "int", "list[float]", "str"}:
                continue
            out += ("." if out else "") + str(part)
    return out


def _known_fields(model: type[BaseModel] | None) -> list[str]:
    return list(model.model_fields) if model is not None else []


_MODEL_AT: dict[str, type[BaseModel]] = {
    "": Scenario,
    "unit_models": UnitModel,
    "roles": Role,
    "fixed_costs": FixedCost,
    "deployments": Deployment,
    "demand": Demand,
    "referral_rate": ReferralRate,
}


def _model_for(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    names = [p for p in loc[:-1] if isinstance(p, str)]
    if not names:
        return Scenario
    last = names[-1]
    if last in _MODEL_AT:
        return _MODEL_AT[last]
    return (
        Param
        if last
        in {
            "discount_rate",
            "optimism_bias",
            "pay_uplift",
            "non_pay",
            "recruitment_training_cost_per_new_fte",
            "attrition_rate",
            "fixed_referrals_per_year",
        }
        else SeriesParam
        if last in {"non_pay_inflation", "gdp_deflator", "ramp_up"}
        else None
    )


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


def validation_problems(error: ValidationError) -> list[str]:
    """Pydantic errors as short lines: 'unit_models[0].roles[2].salary: must be between …'."""
    problems: list[str] = []
    for err in error.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        path = _loc_text(loc)
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
        if kind == "value_error" and "\n" in msg:
            problems.extend(line for line in msg.split("\n") if line)
            continue
        if msg.startswith("must be between"):
            msg += _found(err.get("input"), percent="%" in msg)
        problems.append(f"{path}: {msg}" if path else msg)
    # the same problem can be reported by several union branches; keep the first of each
    seen: set[str] = set()
    unique = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique


def scenario_from_dict(data: Any, *, where: str = "scenario") -> Scenario:
    """Validate a parsed scenario (a mapping) and return it; ``InputError(s)`` naming each field otherwise."""
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
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc)
        if len(problems) == 1:
            raise InputError(problems[0], where=where) from None
        raise InputErrors(problems, where=where) from None


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


_SOURCE_ROW_RE = re.compile(r"^\|\s*([PS]\d{3})\s*\|(.*)\|\s*$")


def read_source_list(path: Path = SOURCES_MD) -> dict[str, dict[str, str]]:
    """Source ids (P001…, S038…) from the table in ``data/scenarios/SOURCES.md``.

    Table columns: id | publisher | title | date | url | used for.
    """
    out: dict[str, dict[str, str]] = {}
    if not Path(path).exists():
        return out
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = _SOURCE_ROW_RE.match(line.strip())
        if not m:
            continue
        cells = [c.strip() for c in m.group(2).split("|")]
        cells += [""] * (5 - len(cells))
        out[m.group(1)] = dict(zip(("publisher", "title", "date", "url", "used_for"), cells[:5]))
    return out


SOURCE_ID_RE = re.compile(r"\b[PS]\d{3}\b")


def source_ids_used(scenario: Scenario) -> list[str]:
    """Every P/S source id mentioned anywhere in a scenario's provenance fields, sorted."""
    text = json.dumps(scenario_to_dict(scenario))
    return sorted(set(SOURCE_ID_RE.findall(text)))
