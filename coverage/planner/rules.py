"""Dated rules for the planner: employer National Insurance, employer pension rates (and the automatic-enrolment
minimum), the Green Book discount rate and the GDP deflator, read from ``data/planner/rules/*.yaml`` (the
PolicyEngine parameter pattern).

Each file is a namespace (its stem, e.g. ``employer_ni``) holding parameters; each parameter is a series of
values, each in force from a date and each with at least one reference. A reference is an id in the atlas's one
sources registry, ``data/sources.csv`` (:mod:`coverage.sources`), with an optional ``locator`` (a paragraph,
table or article); its publisher, title and web address are read from the registry, the one place they are
kept. :func:`oncost` turns the rules in force at the start of a financial year into a role's on-cost rate, with
the arithmetic spelled out, so no preset needs a hand-worked ``oncost_rate`` again.

Files are read with ``yaml.safe_load`` only, must be at most 100 KB, must be one mapping, must not use YAML
anchors/aliases and may not contain unknown keys. Every problem is an :class:`~coverage.errors.InputError`
naming the file and the field, e.g. ``parameters.rate.values[1].from: dates must increase`` or
``parameters.rate.values[0].references[0].id: unknown source id 'P99' (did you mean 'P099'?)``.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from coverage import paths
from coverage.errors import InputError, InputErrors
from coverage.sources import (
    SOURCE_ID_PATTERN,
    SOURCES_CSV,
    Source,
    load_registry,
    source_ids_in_text,
    unknown_source_message,
)

RULES_DIR = paths.DATA_DIR / "planner" / "rules"

# "auto_enrolment": the employer's statutory minimum under automatic enrolment (Pensions Act 2008), a rate on the
# band of qualifying earnings, for voluntary-sector posts; "none": no employer pension (e.g. a contracted post)
PENSION_SCHEMES = ("police", "nhs", "local_government", "civil_service", "auto_enrolment", "none")
SCHEME_LABELS = {
    "police": "police pension",
    "nhs": "NHS pension",
    "local_government": "LGPS pension",
    "civil_service": "Civil Service pension",
    "auto_enrolment": "auto-enrolment minimum pension",
    "none": "no employer pension",
}
# Schemes whose rate applies to a band of pay (qualifying earnings), not to the whole salary: the rate is
# ``employer_pension.<scheme>`` and the band's limits ``employer_pension.<scheme>_lower_limit`` / ``_upper_limit``.
BANDED_SCHEMES = ("auto_enrolment",)

UNITS = ("fraction", "gbp_per_year", "index")
# what a value of each unit may be: (lowest, highest, lowest is allowed, words for the message)
_UNIT_RANGE: dict[str, tuple[float, float, bool, str]] = {
    "fraction": (0.0, 1.0, True, "between 0 and 1 (a fraction: 0.15 means 15%)"),
    "gbp_per_year": (0.0, 1_000_000.0, True, "between £0 and £1,000,000 a year"),
    "index": (0.0, 10_000.0, False, "greater than 0 and at most 10,000"),
}

# The parameters the planner needs, and the unit each must be in. A rules directory without them is refused.
REQUIRED_PARAMETERS: dict[str, str] = {
    "employer_ni.rate": "fraction",
    "employer_ni.secondary_threshold": "gbp_per_year",
    **{f"employer_pension.{scheme}": "fraction" for scheme in PENSION_SCHEMES if scheme != "none"},
    **{
        f"employer_pension.{scheme}_{end}_limit": "gbp_per_year"
        for scheme in BANDED_SCHEMES
        for end in ("lower", "upper")
    },
    "green_book.discount_rate": "fraction",
    "gdp_deflator.index": "index",
}

MAX_RULE_FILE_BYTES = 100_000
_MAX_YAML_DEPTH = 10  # a rules file nests five deep (parameters → a parameter → values → a value → references)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# ---------------------------------------------------------------------------------------------------------------
# The rules as the code sees them


@dataclass(frozen=True)
class Reference:
    """A source a rule cites: its id in the sources registry (``data/sources.csv``), with the registry's title
    and web address, and where in the source the rule is (``locator``: a paragraph, table or article)."""

    id: str
    title: str
    href: str
    publisher: str = ""
    locator: str = ""


@dataclass(frozen=True)
class DatedValue:
    start: datetime.date  # in force from this date until the next value's start
    value: float
    references: tuple[Reference, ...]
    note: str
    user_input: bool = False  # True: the planner set it (an override), not the shipped rules
    forecast: bool = False  # True: a forecast (the GDP deflator's future years), not outturn


@dataclass(frozen=True)
class Parameter:
    name: str  # "employer_ni.rate"
    label: str
    unit: str
    values: tuple[DatedValue, ...]
    description: str = ""
    no_default: str = ""  # why the shipped rules hold no value (e.g. LGPS rates are set fund by fund)
    references: tuple[Reference, ...] = ()  # sources for the description / no_default
    where: str = ""  # the file it came from

    def at(self, when: datetime.date) -> DatedValue:
        """The value in force on ``when``; InputError if ``when`` is before the first value (or there is none)."""
        if not self.values:
            raise InputError(f"{self.name} has no value: {self.no_default or 'none was given'}")
        found: DatedValue | None = None
        for value in self.values:
            if value.start > when:
                break
            found = value
        if found is None:
            first = self.values[0].start
            raise InputError(
                f"{self.name} has no value on {_day(when)}: its first value is from {_day(first)} "
                f"(set one from an earlier date as an override)"
            )
        return found


@dataclass(frozen=True, eq=False)
class RuleBook:
    """All parameters by full name ("employer_ni.rate"); immutable (see :meth:`with_overrides`)."""

    parameters: Mapping[str, Parameter]

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def parameter(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            raise InputError(_unknown("parameter", name, self.parameters)) from None

    def at(self, name: str, when: datetime.date) -> DatedValue:
        return self.parameter(name).at(when)

    def value(self, name: str, when: datetime.date) -> float:
        return self.at(name, when).value

    def with_overrides(self, overrides: Mapping[str, Sequence[tuple[datetime.date, float, str]]]) -> RuleBook:
        """A new book with the planner's own values merged in: each override is (from date, value, note), marked
        ``user_input=True`` with no references; one on the same date as a shipped value replaces it."""
        updated = dict(self.parameters)
        problems: list[str] = []
        for name, entries in overrides.items():
            if name not in self.parameters:
                problems.append(f"overrides: {_unknown('parameter', name, self.parameters)}")
                continue
            parameter = self.parameters[name]
            merged = {value.start: value for value in parameter.values}
            for i, entry in enumerate(entries):
                value = _override_value(parameter, entry, f"overrides.{name}[{i}]", problems)
                if value is not None:
                    merged[value.start] = value
            updated[name] = Parameter(
                name=parameter.name,
                label=parameter.label,
                unit=parameter.unit,
                values=tuple(merged[start] for start in sorted(merged)),
                description=parameter.description,
                no_default=parameter.no_default,
                references=parameter.references,
                where=parameter.where,
            )
        _raise(problems, where=None)
        return RuleBook(updated)

    def deflator_index(self, fiscal_year: int) -> float:
        """``gdp_deflator.index`` for the financial year starting in ``fiscal_year`` (2024 → 2024-25)."""
        parameter = self.parameter("gdp_deflator.index")
        if not parameter.values:
            raise InputError(f"gdp_deflator.index has no value: {parameter.no_default or 'none was given'}")
        first, last = _fiscal_year(parameter.values[0].start), _fiscal_year(parameter.values[-1].start)
        if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int) or not first <= fiscal_year <= last:
            raise InputError(
                f"gdp_deflator.index covers {_fy(first)} to {_fy(last)}; {_fy_text(fiscal_year)} is outside it "
                "(set a value for that year as an override)"
            )
        return parameter.at(datetime.date(fiscal_year, 4, 1)).value


def rule_date(fiscal_year: int) -> datetime.date:
    """6 April of ``fiscal_year``: a financial year is costed with the rules in force at the start of the tax
    year (pension changes take effect on 1 April and NI changes on 6 April, so both are in force by then)."""
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int) or not 1900 <= fiscal_year <= 2200:
        raise InputError(f"fiscal_year: must be a year such as 2024 (found {fiscal_year!r})")
    return datetime.date(fiscal_year, 4, 6)


# ---------------------------------------------------------------------------------------------------------------
# On-costs


@dataclass(frozen=True)
class OnCost:
    rate: float  # employer NI + pension, as a fraction of salary
    employer_ni: float  # fraction of salary
    pension: float  # fraction of salary (for a banded scheme it depends on the salary: see pension_band)
    ni_rate: float
    ni_threshold: float
    pension_rate: float  # the scheme's rate: of the whole salary, or (banded scheme) of the pay inside pension_band
    references: tuple[Reference, ...]
    user_input: bool  # True if any value used was an override
    explanation: str
    pension_band: tuple[float, float] | None = None  # (lower, upper) £ a year of a banded scheme, else None


def oncost(book: RuleBook, scheme: str, salary: float, fiscal_year: int) -> OnCost:
    """A role's employer on-cost rate for its salary, pension scheme and financial year.

    Employer NI share = NI rate × max(0, salary − secondary threshold) ÷ salary. Pension share = the scheme's
    rate on the whole salary (scheme "none": 0), or for a banded scheme (``auto_enrolment``) the rate on the
    qualifying earnings: rate × max(0, min(salary, upper limit) − lower limit) ÷ salary. The rules are those in
    force on :func:`rule_date` of ``fiscal_year``.

    A higher salary never lowers the NI share, nor the pension share of a flat-rate scheme, so for those schemes
    it never lowers the total rate. For a banded scheme it does not up to the upper limit; above it the pension
    share falls (the pension in pounds is capped) and the total rate falls whenever NI rate × threshold is below
    pension rate × (upper − lower), as it is under the shipped rules (15% × £5,000 = £750 < 3% × £44,030 =
    £1,320.90). The total on-cost in pounds (rate × salary) never falls for any scheme.
    """
    if scheme not in PENSION_SCHEMES:
        raise InputError(f"scheme: {_unknown('pension scheme', scheme, PENSION_SCHEMES, listing=True)}")
    if isinstance(salary, bool) or not isinstance(salary, (int, float)) or not math.isfinite(salary) or salary <= 0:
        raise InputError(f"salary: must be a positive number of pounds a year (found {salary!r})")
    when = rule_date(fiscal_year)
    salary = float(salary)
    ni = book.at("employer_ni.rate", when)
    threshold = book.at("employer_ni.secondary_threshold", when)
    pension: DatedValue | None = None
    band: tuple[DatedValue, DatedValue] | None = None
    if scheme == "none":
        pension_rate = pension_share = 0.0
    else:
        name = f"employer_pension.{scheme}"
        parameter = book.parameter(name)
        if not parameter.values:
            raise InputError(
                f"{name} has no default value: {parameter.no_default} The planner must set "
                f"`{name}` as an override for their fund (from date, rate as a fraction, note)."
            )
        pension = parameter.at(when)
        pension_rate = pension_share = pension.value
        if scheme in BANDED_SCHEMES:
            band = (book.at(f"{name}_lower_limit", when), book.at(f"{name}_upper_limit", when))
            lower, upper = band[0].value, band[1].value
            if upper <= lower:
                raise InputError(
                    f"{name}_upper_limit ({_gbp(upper)}) must be above {name}_lower_limit ({_gbp(lower)}) "
                    f"on {_day(when)}"
                )
            # written as for NI below so that, in floating point too, the share never falls up to the upper limit
            if salary <= lower:
                pension_share = 0.0
            elif salary <= upper:
                pension_share = pension_rate * (1.0 - lower / salary)
            else:
                pension_share = pension_rate * ((upper - lower) / salary)
    used = [value for value in (pension, *(band or ()), ni, threshold) if value is not None]
    # 1 − t/s (not (s − t)/s) so that, in floating point too, a higher salary never gives a lower share
    ni_share = ni.value * (1.0 - threshold.value / salary) if salary > threshold.value else 0.0
    rate = pension_share + ni_share
    user_input = any(value.user_input for value in used)
    references = _unique(ref for value in used for ref in value.references)

    def mark(value: DatedValue) -> str:
        return " (your value)" if value.user_input else ""

    def share_of(share: float) -> str:
        return f"{_pct(share)} of {_gbp(salary)}" if share > 0 else f"none on {_gbp(salary)}"

    if pension is None:
        pension_text = SCHEME_LABELS["none"]
    elif band is None:
        pension_text = f"{SCHEME_LABELS[scheme]} {_pct(pension_rate)}{mark(pension)}"
    else:
        pension_text = (
            f"{SCHEME_LABELS[scheme]} {_pct(pension_rate)}{mark(pension)} of pay between "
            f"{_gbp(band[0].value)}{mark(band[0])} and {_gbp(band[1].value)}{mark(band[1])} ({share_of(pension_share)})"
        )
    explanation = (
        f"{pension_text} + employer NI {_pct(ni.value)}{mark(ni)} on pay above {_gbp(threshold.value)}{mark(threshold)} "
        f"({share_of(ni_share)}) = {_pct(rate)} (rules in force on {_day(when)})"
    )
    return OnCost(
        rate=rate,
        employer_ni=ni_share,
        pension=pension_share,
        ni_rate=ni.value,
        ni_threshold=threshold.value,
        pension_rate=pension_rate,
        references=references,
        user_input=user_input,
        explanation=explanation,
        pension_band=(band[0].value, band[1].value) if band is not None else None,
    )


# ---------------------------------------------------------------------------------------------------------------
# Reading the files


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number (found {_describe(value)})")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        raise ValueError("must be a date (YYYY-MM-DD) without a time")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be a date written YYYY-MM-DD (found {value!r})")


def _source_id(value: Any) -> Any:
    if not isinstance(value, str) or not SOURCE_ID_PATTERN.match(value.strip()):
        raise ValueError(
            f"must be a source id of the sources registry, a capital letter and three digits such as P007 "
            f"(found {value!r})"
        )
    return value.strip()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True, strict=False)


class _ReferenceIn(_Strict):
    id: Annotated[str, BeforeValidator(_source_id)]
    locator: Annotated[str, Field(max_length=200)] = ""


class _ValueIn(_Strict):
    start: Annotated[datetime.date, BeforeValidator(_iso_date), Field(alias="from")]
    value: Annotated[float, BeforeValidator(_number)]
    references: list[_ReferenceIn]
    note: Annotated[str, Field(max_length=2000)] = ""
    forecast: StrictBool = False


class _ParameterIn(_Strict):
    label: Annotated[str, Field(min_length=1, max_length=200)]
    unit: Literal["fraction", "gbp_per_year", "index"]
    description: Annotated[str, Field(max_length=4000)] = ""
    no_default: Annotated[str, Field(max_length=4000)] = ""
    references: list[_ReferenceIn] = []
    values: list[_ValueIn]


class _FileIn(_Strict):
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    parameters: dict[str, _ParameterIn]


_FIELDS = {
    "file": ("description", "parameters"),
    "parameter": ("label", "unit", "description", "no_default", "references", "values"),
    "value": ("from", "value", "references", "note", "forecast"),
    "reference": ("id", "locator"),
}


def _level(loc: tuple[Any, ...]) -> str:
    """Which kind of mapping a field location sits in (for 'did you mean')."""
    if len(loc) >= 3 and isinstance(loc[-2], int) and loc[-3] == "references":
        return "reference"
    if len(loc) >= 3 and isinstance(loc[-2], int) and loc[-3] == "values":
        return "value"
    if len(loc) == 3 and loc[0] == "parameters":
        return "parameter"
    return "file"


def _loc_text(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _problems(error: ValidationError) -> list[str]:
    problems: list[str] = []
    for err in error.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        message = re.sub(r"^(Value error|Assertion failed), ", "", str(err.get("msg", "")))
        if kind == "extra_forbidden":
            hint = difflib.get_close_matches(str(loc[-1]), _FIELDS[_level(loc)], n=1)
            known = ", ".join(_FIELDS[_level(loc)])
            message = "unknown field" + (f" (did you mean '{hint[0]}'?)" if hint else f" (known: {known})")
            if _level(loc) == "reference" and loc[-1] in {"title", "href", "url", "publisher"}:
                message += (
                    "; a reference is a source id, and the source's title and web address are kept in the sources "
                    "registry, data/sources.csv"
                )
        elif kind == "missing":
            message = "is required"
        elif kind in {"dict_type", "model_type"}:
            message = f"must be a mapping of fields (found {_describe(err.get('input'))})"
        elif kind == "list_type":
            message = f"must be a list (found {_describe(err.get('input'))})"
        elif kind == "finite_number":
            message = "must be a finite number"
        elif kind == "literal_error":
            message = f"must be one of {', '.join(UNITS)} (found {err.get('input')!r})"
        path = _loc_text(loc)
        problems.append(f"{path}: {message}" if path else message)
    return list(dict.fromkeys(problems))


def _check(parsed: _FileIn, registry: Mapping[str, Source]) -> list[str]:
    """What the schema cannot say: names, references on every value (each in the sources registry), dates that
    increase, values in range."""
    problems = _reference_problems(parsed, registry)
    if not parsed.parameters:
        problems.append("parameters: needs at least one parameter")
    for name, parameter in parsed.parameters.items():
        at = f"parameters.{name}"
        if not _NAME.match(name):
            problems.append(f"{at}: a parameter name is lower_case letters, digits and _ (found '{name}')")
        if parameter.no_default:
            if parameter.values:
                problems.append(f"{at}.values: must be empty when no_default says why there is no value")
            if not parameter.references:
                problems.append(f"{at}.references: no_default needs at least one reference saying why")
        elif not parameter.values:
            problems.append(f"{at}.values: needs at least one dated value (or no_default saying why there is none)")
        low, high, low_ok, words = _UNIT_RANGE[parameter.unit]
        for i, value in enumerate(parameter.values):
            if not value.references:
                problems.append(f"{at}.values[{i}].references: every value needs at least one reference (a source id)")
            if not (low <= value.value <= high and (low_ok or value.value > low)):
                problems.append(
                    f"{at}.values[{i}].value: must be {words} for unit {parameter.unit} (found {value.value:g})"
                )
            if i and value.start <= parameter.values[i - 1].start:
                problems.append(
                    f"{at}.values[{i}].from: dates must increase ({value.start} is not after {parameter.values[i - 1].start})"
                )
    return problems


def _reference_problems(parsed: _FileIn, registry: Mapping[str, Source]) -> list[str]:
    """Every reference id, and every id a description or note mentions, must be in the sources registry; a
    reference's source must have a web address there."""
    problems: list[str] = []

    def refs(at: str, references: Iterable[_ReferenceIn]) -> None:
        for j, ref in enumerate(references):
            source = registry.get(ref.id)
            if source is None:
                problems.append(f"{at}.references[{j}].id: {unknown_source_message(ref.id, registry)} {_ADD_SOURCE}")
            elif not source.url:
                problems.append(
                    f"{at}.references[{j}].id: source {ref.id} has no web address in the sources registry; "
                    "a rule's reference needs one"
                )

    def mentions(at: str, text: str) -> None:
        for source_id in source_ids_in_text(text):
            if source_id not in registry:
                problems.append(f"{at}: mentions {unknown_source_message(source_id, registry)} {_ADD_SOURCE}")

    mentions("description", parsed.description)
    for name, parameter in parsed.parameters.items():
        at = f"parameters.{name}"
        mentions(f"{at}.description", parameter.description)
        mentions(f"{at}.no_default", parameter.no_default)
        refs(at, parameter.references)
        for i, value in enumerate(parameter.values):
            refs(f"{at}.values[{i}]", value.references)
            mentions(f"{at}.values[{i}].note", value.note)
    return problems


_ADD_SOURCE = (
    "(every source is in the sources registry, data/sources.csv: add a new one to "
    "coverage/build/curated_sources.csv and run `atlas build-data`)"
)


def _reference(ref: _ReferenceIn, registry: Mapping[str, Source]) -> Reference:
    source = registry[ref.id]
    return Reference(ref.id, source.title, source.url, source.publisher, ref.locator)


def _refuse_aliases(text: str, where: str) -> None:
    """Refuse YAML anchors/aliases (which can make a small file expand into a huge one) and deep nesting."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise InputError("YAML anchors and aliases (&name / *name) are not allowed in rules files", where=where)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > _MAX_YAML_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else 0
                    raise InputError(f"line {line}: nested more than {_MAX_YAML_DEPTH} levels deep", where=where)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # reported by safe_load, with its line number


def _where(path: Path) -> str:
    try:
        return path.resolve().relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def load_rule_file(path: Path | str, registry: Mapping[str, Source] | None = None) -> dict[str, Parameter]:
    """One rules file's parameters, named "<file stem>.<parameter>"; InputError(s) naming file and field.

    Reference ids are checked against ``registry`` (default: the shipped sources registry, ``data/sources.csv``)
    and each reference takes its title and web address from it."""
    path = Path(path)
    where = _where(path)
    namespace = path.stem
    if not _NAME.match(namespace):
        raise InputError("the file name must be lower_case letters, digits and _ (it names the rules)", where=where)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", where=where) from None
    if size > MAX_RULE_FILE_BYTES:
        raise InputError(f"is larger than {MAX_RULE_FILE_BYTES // 1000} KB; a rules file is a few KB", where=where)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("is not a UTF-8 text file", where=where) from None
    _refuse_aliases(text, where)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"is not valid YAML{at}: {problem}", where=where) from None
    if not isinstance(data, dict):
        raise InputError(
            f"is not a rules file: expected a mapping with 'description' and 'parameters', got {_describe(data)}",
            where=where,
        )
    try:
        parsed = _FileIn.model_validate(data)
    except ValidationError as exc:
        _raise(_problems(exc), where=where)
        raise  # pragma: no cover - _raise always raises when there are problems
    known = load_registry() if registry is None else registry
    _raise(_check(parsed, known), where=where)
    return {
        f"{namespace}.{name}": Parameter(
            name=f"{namespace}.{name}",
            label=parameter.label,
            unit=parameter.unit,
            values=tuple(
                DatedValue(
                    start=value.start,
                    value=float(value.value),
                    references=tuple(_reference(r, known) for r in value.references),
                    note=value.note,
                    forecast=value.forecast,
                )
                for value in parameter.values
            ),
            description=parameter.description,
            no_default=parameter.no_default,
            references=tuple(_reference(r, known) for r in parameter.references),
            where=where,
        )
        for name, parameter in parsed.parameters.items()
    }


def load_rulebook(directory: Path = RULES_DIR, sources: Path = SOURCES_CSV) -> RuleBook:
    """Every ``*.yaml`` rules file in ``directory``, checked (reference ids against the sources registry at
    ``sources``), as one book (cached per resolved directory and registry)."""
    return _load_rulebook(str(Path(directory).resolve()), str(Path(sources).resolve()))


@functools.lru_cache(maxsize=8)
def _load_rulebook(directory: str, sources: str) -> RuleBook:
    folder = Path(directory)
    where = _where(folder)
    if not folder.is_dir():
        raise InputError("no rules directory here", where=where)
    parameters: dict[str, Parameter] = {}
    errors: list[InputError] = []
    registry = load_registry(Path(sources))
    for path in sorted(folder.glob("*.yaml")):
        try:
            parameters.update(load_rule_file(path, registry))
        except InputError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors([str(exc) for exc in errors], where=where)
    problems = []
    for name, unit in REQUIRED_PARAMETERS.items():
        if name not in parameters:
            problems.append(f"{name}: is required (the planner costs roles with it)")
        elif parameters[name].unit != unit:
            problems.append(f"{name}: unit must be {unit} (found {parameters[name].unit})")
    _raise(problems, where=where)
    return RuleBook(parameters)


# ---------------------------------------------------------------------------------------------------------------
# Small helpers


def _override_value(parameter: Parameter, entry: Any, at: str, problems: list[str]) -> DatedValue | None:
    try:
        start, value, note = entry
    except (TypeError, ValueError):
        problems.append(f"{at}: must be (from date, value, note)")
        return None
    if isinstance(start, datetime.datetime) or not isinstance(start, datetime.date):
        problems.append(f"{at}: the from date must be a date (found {start!r})")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(f"{at}: the value must be a finite number (found {value!r})")
        return None
    low, high, low_ok, words = _UNIT_RANGE[parameter.unit]
    if not (low <= value <= high and (low_ok or value > low)):
        problems.append(f"{at}: {parameter.name} must be {words} (found {value:g})")
        return None
    if not isinstance(note, str):
        problems.append(f"{at}: the note must be text (found {note!r})")
        return None
    return DatedValue(start=start, value=float(value), references=(), note=note, user_input=True)


def _raise(problems: list[str], *, where: str | None) -> None:
    if len(problems) == 1:
        raise InputError(problems[0], where=where)
    if problems:
        raise InputErrors(problems, where=where)


def _unknown(kind: str, name: object, known: Iterable[str], *, listing: bool = False) -> str:
    options = list(known)
    hint = difflib.get_close_matches(str(name), options, n=1)
    text = f"'{name}' is not a known {kind}"
    if hint:
        text += f" (did you mean '{hint[0]}'?)"
    if listing or not hint:
        text += f"; known: {', '.join(options)}"
    return text


def _unique(references: Iterable[Reference]) -> tuple[Reference, ...]:
    return tuple(dict.fromkeys(references))


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return f"a {type(value).__name__}"


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _gbp(amount: float) -> str:
    return f"£{amount:,.0f}" if float(amount).is_integer() else f"£{amount:,.2f}"


def _day(when: datetime.date) -> str:
    return f"{when.day} {when:%B} {when.year}"


def _fiscal_year(start: datetime.date) -> int:
    return start.year if start.month >= 4 else start.year - 1


def _fy(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


def _fy_text(year: object) -> str:
    return _fy(year) if isinstance(year, int) and not isinstance(year, bool) else repr(year)


__all__ = [
    "BANDED_SCHEMES",
    "PENSION_SCHEMES",
    "RULES_DIR",
    "SCHEME_LABELS",
    "DatedValue",
    "OnCost",
    "Parameter",
    "Reference",
    "RuleBook",
    "load_rule_file",
    "load_rulebook",
    "oncost",
    "rule_date",
]
