"""Value for money of a scenario: the break-even (Green Book switching value) beside published costs of harm.

No published effect size says how much harm a stalking unit prevents per referral, so the atlas never
estimates a benefit, a net present value or a benefit/cost ratio. It shows what the evidence allows
(docs/research/planner_value_for_money.md, caution C5):

* **Break-even.** The Green Book switching value (HM Treasury Green Book 5.60, source P014): the benefit per
  referral at which the net present value is zero, PV(costs) / Σ referrals_t × discount factor_t.
* **Benchmarks.** Published costs of harm (``data/planner/harm_costs.yaml``) set beside it, uprated to the
  scenario's price base where the source states a price year, each with what it is *not*.
* **The default referral rate** (``data/planner/referral_rate_8q.yaml``): Cheshire IASU referrals (2018-19) per
  police-recorded stalking offence (8Q) in the matching year, with the legacy v1 rate per offence of the ONS
  'Stalking and harassment' group.

Pure functions: no Streamlit, no deflator data (the caller passes its own deflator index).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coverage import paths
from coverage.errors import InputError

HARM_COSTS_YAML = paths.DATA_DIR / "planner" / "harm_costs.yaml"
REFERRAL_RATE_YAML = paths.DATA_DIR / "planner" / "referral_rate_8q.yaml"

MAX_FILE_BYTES = 100_000  # each file is a few KB
MAX_YAML_EVENTS = 20_000
SOURCE_ID_PATTERN = r"^[A-Z]\d{3}$"  # ids of data/services/sources.csv and data/scenarios/SOURCES.md
PRICE_YEAR_BOUNDS = (1990, 2100)

Covers = Literal["state costs", "victim costs", "both"]
Status = Literal["primary", "secondary"]
RateKind = Literal["stalking_8q", "legacy_group"]


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HarmCost:
    """One published cost of harm, with where it comes from and what it is not."""

    id: str
    label: str
    amount: float  # GBP at price_year prices
    price_year: int | None  # first year of the financial year (2016 = 2016/17); None: the source states none
    per: str  # the unit the amount is for, e.g. "victim of domestic abuse"
    covers: str  # "state costs", "victim costs" or "both"
    source_ids: tuple[str, ...]
    title: str
    url: str
    status: str  # "primary" (read at the publisher) or "secondary" (read in a page that reports it)
    caveat: str
    quote: str
    citation: str = ""  # short name for a sentence, e.g. "Oliver et al. 2019"
    price_year_note: str = ""  # how the price year is known (stated, inferred) or why there is none
    quote_source: str = ""  # where the quoted words were read
    is_not: str = ""  # what the figure is not, in a sentence a planner can quote


@dataclass(frozen=True)
class Uprated:
    """A cost of harm at the scenario's price base."""

    cost: HarmCost
    amount: float
    price_year: int
    factor: float  # index(price_year) / index(cost.price_year)


@dataclass(frozen=True)
class BreakEven:
    pv_cost: float
    pv_referrals: float  # Σ referrals_t × discount factor_t
    switching_value_per_referral: float | None  # None when there are no referrals (or they are unknown)
    referrals_total: float  # undiscounted


@dataclass(frozen=True)
class ValueForMoney:
    break_even: BreakEven
    benchmarks: tuple[Uprated, ...]  # costs with a price year, at the scenario's price base
    comparisons: tuple[str, ...]  # plain sentences a planner can quote
    effect_size_note: str
    not_uprated: tuple[HarmCost, ...] = ()  # costs whose source states no price year: shown as published


@dataclass(frozen=True)
class ReferralRateDefault:
    value: float  # referrals a year per recorded offence
    observed_referrals: float
    observed_months: float
    reference_offences: float
    reference_area: str
    reference_period: str  # as in the dataset's period column, e.g. "YE Dec 2018"
    referral_period: str
    months_apart: float  # between the midpoints of the referral window and the offence year
    offence_code: str
    source_ids: tuple[str, ...]
    caveats: tuple[str, ...]
    label: str = ""
    legacy: bool = False
    referral_area: str = ""
    reference_dataset: str = ""
    overlap_months: float = 0.0  # referral months that fall inside the offence year
    confidence: str = "low"


# --------------------------------------------------------------------------------------------
# File schemas
# --------------------------------------------------------------------------------------------

_Text = Annotated[str, Field(min_length=1, max_length=2_000)]
_SourceIds = Annotated[list[Annotated[str, Field(pattern=SOURCE_ID_PATTERN)]], Field(min_length=1, max_length=20)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True, strict=True)


class _HarmCostEntry(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: _Text
    citation: _Text
    amount: Annotated[float, Field(gt=0, le=1e9, strict=False)]
    price_year: Annotated[int, Field(ge=PRICE_YEAR_BOUNDS[0], le=PRICE_YEAR_BOUNDS[1])] | None
    price_year_note: _Text
    per: _Text
    covers: Covers
    source_ids: _SourceIds
    title: _Text
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500)]
    status: Status
    quote: _Text
    quote_source: _Text
    is_not: _Text
    caveat: _Text


class _HarmCostFile(_Strict):
    schema_version: Literal[1]
    kind: Literal["harm_costs"]
    effect_size: None
    effect_size_reason: _Text
    harm_costs: Annotated[list[_HarmCostEntry], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _unique_ids(self) -> _HarmCostFile:
        ids = [c.id for c in self.harm_costs]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"harm cost ids must be unique; repeated: {', '.join(repeated)}")
        return self


class _RateEntry(_Strict):
    label: _Text
    legacy: bool
    value: Annotated[float, Field(gt=0, le=100, strict=False)]
    observed_referrals: Annotated[float, Field(gt=0, le=1e6, strict=False)]
    observed_months: Annotated[float, Field(gt=0, le=120, strict=False)]
    referral_period: _Text
    referral_area: _Text
    reference_offences: Annotated[float, Field(gt=0, le=1e7, strict=False)]
    reference_area: _Text
    reference_period: _Text
    reference_dataset: _Text
    offence_code: _Text
    months_apart: Annotated[float, Field(ge=0, le=600, strict=False)]
    overlap_months: Annotated[float, Field(ge=0, le=120, strict=False)]
    confidence: Literal["low", "medium", "high"]
    source_ids: _SourceIds
    caveats: Annotated[list[_Text], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _value_is_the_arithmetic(self) -> _RateEntry:
        # The value is stated in the file for readers; it must be what its inputs give.
        expected = self.observed_referrals * 12 / self.observed_months / self.reference_offences
        if not math.isclose(self.value, expected, rel_tol=1e-6):
            raise ValueError(
                f"value {self.value} is not observed_referrals x 12 / observed_months / reference_offences "
                f"= {expected:.6g}"
            )
        if self.overlap_months > self.observed_months:
            raise ValueError("overlap_months cannot exceed observed_months")
        return self


class _RateFile(_Strict):
    schema_version: Literal[1]
    kind: Literal["referral_rate_defaults"]
    default: RateKind
    rates: dict[RateKind, _RateEntry]

    @model_validator(mode="after")
    def _both_rates(self) -> _RateFile:
        missing = sorted({"stalking_8q", "legacy_group"} - set(self.rates))
        if missing:
            raise ValueError(f"rates must include {', '.join(missing)}")
        if self.rates["legacy_group"].legacy is not True or self.rates["stalking_8q"].legacy is not False:
            raise ValueError("legacy_group must be marked legacy: true and stalking_8q legacy: false")
        return self


def _read_yaml(path: Path) -> Any:
    """Bounded YAML read: at most 100 KB, no anchors/aliases, a bounded number of items, safe_load only."""
    where = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", where=where) from None
    if size > MAX_FILE_BYTES:
        raise InputError(f"is larger than {MAX_FILE_BYTES // 1000} KB; this file is a few KB", where=where)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("is not a UTF-8 text file", where=where) from None
    try:
        for events, event in enumerate(yaml.parse(text, Loader=yaml.SafeLoader), start=1):
            if isinstance(event, yaml.AliasEvent):
                raise InputError("YAML anchors and aliases (&name / *name) are not allowed", where=where)
            if events > MAX_YAML_EVENTS:
                raise InputError(f"holds more than {MAX_YAML_EVENTS:,} YAML items", where=where)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"is not valid YAML{at}", where=where) from None
    if not isinstance(data, dict):
        raise InputError("must be a YAML mapping", where=where)
    return data


def _validation_message(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(part) for part in err["loc"])
        problems.append(f"{loc}: {err['msg']}" if loc else str(err["msg"]))
    return "; ".join(problems)


def _read_harm_file(path: Path) -> _HarmCostFile:
    data = _read_yaml(Path(path))
    try:
        return _HarmCostFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(_validation_message(exc), where=str(path)) from None


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------


def load_harm_costs(path: Path = HARM_COSTS_YAML) -> tuple[HarmCost, ...]:
    """The published costs of harm, validated (every field present, a source id, a status, no extras)."""
    parsed = _read_harm_file(path)
    return tuple(
        HarmCost(
            id=c.id,
            label=c.label,
            amount=float(c.amount),
            price_year=c.price_year,
            per=c.per,
            covers=c.covers,
            source_ids=tuple(c.source_ids),
            title=c.title,
            url=c.url,
            status=c.status,
            caveat=c.caveat,
            quote=c.quote,
            citation=c.citation,
            price_year_note=c.price_year_note,
            quote_source=c.quote_source,
            is_not=c.is_not,
        )
        for c in parsed.harm_costs
    )


def load_effect_size_note(path: Path = HARM_COSTS_YAML) -> str:
    """Why no effect size is applied (the file records ``effect_size: null`` with this reason)."""
    return _read_harm_file(path).effect_size_reason


def load_referral_rate(path: Path = REFERRAL_RATE_YAML, *, which: RateKind = "stalking_8q") -> ReferralRateDefault:
    """The default referral rate (per stalking 8Q offence) or the legacy v1 rate (per offence of the group)."""
    if which not in ("stalking_8q", "legacy_group"):
        raise InputError(f"unknown referral rate '{which}' (stalking_8q or legacy_group)", where="referral rate")
    data = _read_yaml(Path(path))
    try:
        parsed = _RateFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(_validation_message(exc), where=str(path)) from None
    r = parsed.rates[which]
    return ReferralRateDefault(
        value=float(r.value),
        observed_referrals=float(r.observed_referrals),
        observed_months=float(r.observed_months),
        reference_offences=float(r.reference_offences),
        reference_area=r.reference_area,
        reference_period=r.reference_period,
        referral_period=r.referral_period,
        months_apart=float(r.months_apart),
        offence_code=r.offence_code,
        source_ids=tuple(r.source_ids),
        caveats=tuple(r.caveats),
        label=r.label,
        legacy=r.legacy,
        referral_area=r.referral_area,
        reference_dataset=r.reference_dataset,
        overlap_months=float(r.overlap_months),
        confidence=r.confidence,
    )


# --------------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------------


def _index_value(deflator_index: Callable[[int], float], year: int) -> float:
    try:
        value = float(deflator_index(year))
    except (KeyError, IndexError, LookupError) as exc:
        raise InputError(f"the deflator has no index for {fy_label(year)}", where="uprating") from exc
    if not math.isfinite(value) or value <= 0:
        raise InputError(
            f"the deflator index for {fy_label(year)} must be a positive number, not {value}", where="uprating"
        )
    return value


def uprate(cost: HarmCost, to_year: int, deflator_index: Callable[[int], float]) -> Uprated:
    """The cost at ``to_year`` prices: amount × index(to_year) / index(cost.price_year) (HM Treasury's method).

    Refuses a cost whose source states no price year: it can only be shown as published.
    """
    if cost.price_year is None:
        raise InputError(
            f"'{cost.id}' has no stated price year, so it cannot be uprated; show it as published",
            where="uprating",
        )
    factor = _index_value(deflator_index, to_year) / _index_value(deflator_index, cost.price_year)
    return Uprated(cost=cost, amount=cost.amount * factor, price_year=to_year, factor=factor)


def _finite_non_negative(values: Sequence[float], name: str, *, allow_nan: bool) -> list[float]:
    out = []
    for i, v in enumerate(values):
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{name}[{i}] is not a number: {v!r}", where="break-even") from None
        if math.isnan(x):
            if not allow_nan:
                raise InputError(f"{name}[{i}] is not a number (NaN)", where="break-even")
        elif math.isinf(x) or x < 0:
            raise InputError(f"{name}[{i}] must be a finite number of zero or more, not {x}", where="break-even")
        out.append(x)
    return out


def break_even(pv_cost: float, referrals_by_year: Sequence[float], discount_factors: Sequence[float]) -> BreakEven:
    """The Green Book switching value per referral: PV(costs) / Σ referrals_t × discount factor_t.

    It is the harm each referral would have to avert (present value, the scenario's prices) for the net
    present value to be zero. None when there are no referrals, or they are unknown (NaN: a scenario
    without demand). Refuses negative or infinite inputs and lists of different lengths.
    """
    (cost,) = _finite_non_negative([pv_cost], "pv_cost", allow_nan=False)
    if len(referrals_by_year) != len(discount_factors):
        raise InputError(
            f"{len(referrals_by_year)} years of referrals but {len(discount_factors)} discount factors",
            where="break-even",
        )
    refs = _finite_non_negative(referrals_by_year, "referrals_by_year", allow_nan=True)
    disc = _finite_non_negative(discount_factors, "discount_factors", allow_nan=False)
    if any(d == 0 for d in disc):
        raise InputError("discount factors must be greater than zero", where="break-even")
    if any(math.isnan(r) for r in refs):
        return BreakEven(
            pv_cost=cost, pv_referrals=math.nan, switching_value_per_referral=None, referrals_total=math.nan
        )
    pv_refs = math.fsum(r * d for r, d in zip(refs, disc, strict=True))
    total = math.fsum(refs)
    switching = cost / pv_refs if pv_refs > 0 else None
    return BreakEven(pv_cost=cost, pv_referrals=pv_refs, switching_value_per_referral=switching, referrals_total=total)


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------


def fy_label(year: int) -> str:
    """2024 → '2024/25' (financial year April to March)."""
    return f"{year}/{(year + 1) % 100:02d}"


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def _multiple(benchmark: float, switching: float) -> str:
    ratio = benchmark / switching
    return f"{ratio:,.1f}×" if ratio >= 0.1 else f"{ratio:.2g}×"


def _status_words(cost: HarmCost) -> str:
    return "read in secondary sources" if cost.status == "secondary" else "read at the publisher"


def value_for_money(
    pv_cost: float,
    referrals_by_year: Sequence[float],
    discount_factors: Sequence[float],
    price_base_year: int,
    deflator_index: Callable[[int], float],
    *,
    harm_costs: Sequence[HarmCost] | None = None,
    effect_size_note: str | None = None,
) -> ValueForMoney:
    """The break-even and the published costs of harm beside it, in sentences a planner can quote.

    ``harm_costs`` and ``effect_size_note`` default to the shipped ``data/planner/harm_costs.yaml``.
    """
    be = break_even(pv_cost, referrals_by_year, discount_factors)
    costs = tuple(load_harm_costs()) if harm_costs is None else tuple(harm_costs)
    note = load_effect_size_note() if effect_size_note is None else effect_size_note
    prices = f"{fy_label(price_base_year)} prices"
    sv = be.switching_value_per_referral

    sentences: list[str] = []
    if sv is None:
        sentences.append(
            "The scenario has no referrals, so there is no break-even per referral: give it demand (a referral "
            "rate or fixed referrals a year) to see the harm each referral would need to avert."
        )
    else:
        sentences.append(
            f"Each referral would need to avert {_money(sv)} of harm (present value, {prices}) for the units "
            f"to pay for themselves."
        )

    benchmarks: list[Uprated] = []
    not_uprated: list[HarmCost] = []
    later: list[str] = []
    for c in costs:
        if c.price_year is None:
            not_uprated.append(c)
            multiple = (
                f", about {_multiple(c.amount, sv)} the break-even (only indicative: the price bases differ)"
                if sv
                else ""
            )
            later.append(
                f"{c.label}: {_money(c.amount)} as published ({c.citation}; the price year is not stated, so it "
                f"is not uprated; {_status_words(c)}){multiple}. {c.is_not}"
            )
            continue
        b = uprate(c, price_base_year, deflator_index)
        benchmarks.append(b)
        multiple = f", {_multiple(b.amount, sv)} the break-even" if sv else ""
        sentences.append(
            f"{c.label}: {_money(b.amount)} at {prices} ({c.citation}; {_money(c.amount)} at "
            f"{fy_label(c.price_year)} prices uprated with the GDP deflator; {_status_words(c)}){multiple}. "
            f"{c.is_not}"
        )
    sentences.extend(later)
    return ValueForMoney(
        break_even=be,
        benchmarks=tuple(benchmarks),
        comparisons=tuple(sentences),
        effect_size_note=note,
        not_uprated=tuple(not_uprated),
    )
