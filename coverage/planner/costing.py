"""The staffing and cost model: new stalking units, force by force, year by year.

``run_scenario(scenario, forces, offences_by_force)`` is pure and vectorised (numpy): one row per cost
line (a role, a fixed-cost line, or a unit's non-pay) and one column per year, then tidy tables.

Method (every step is visible in the output columns):

* **Years.** Year 1 is the financial year starting in ``start_year`` (2026 → 2026/27); the horizon runs
  ``horizon_years`` years. A deployment starts ``start_year_offset`` years after year 1.
* **FTE.** ``fixed`` roles have their stated FTE. ``demand`` roles have
  FTE = referrals per year ÷ caseload per FTE, **not rounded** (a planner rounds to posts; the model
  keeps the fraction so totals are exact). Referrals per year in a force = referral rate × that force's
  police-recorded offences in the ONS "Stalking and harassment" group (which also includes harassment
  and malicious communications), or a fixed number per unit. Ramp-up multiplies FTE in the unit's first
  years (``[0.5, 0.8]`` → 50% in its first year, 80% in its second, 100% after).
* **Prices.** All inputs are at ``price_base_year`` prices (2024 → 2024/25). The GDP deflator
  ``g_y`` gives the price index ``D_Y = Π_{y=base+1..Y}(1+g_y)``. Real pay per FTE grows by
  ``pay_uplift`` a year from the price base: real pay in year Y = loaded cost × (1+pay_uplift)^(Y−base);
  nominal = real × D_Y. Non-pay (and fixed lines indexed to non-pay) grow by ``non_pay_inflation``
  in nominal terms; real = nominal ÷ D_Y. Loaded cost per FTE = salary × (1 + on-cost rate) × (1 +
  overhead rate): overheads are charged on salary plus employer on-costs.
* **Recruitment.** New hires in a year = the rise in FTE since last year + attrition rate × last
  year's FTE (leavers replaced); each costs ``recruitment_training_cost_per_new_fte`` (non-pay indexed).
* **Non-pay and fixed lines** are paid in full from the unit's first year (ramp-up scales FTE only).
* **Optimism bias** multiplies every cost: cost = (staff + recruitment + non-pay + fixed) × (1 + OB);
  the uplift is shown in its own ``optimism_bias`` column.
* **Discounting** (HM Treasury Green Book convention): real costs are discounted at the scenario's
  rate with year 1 as year 0 of the appraisal, i.e. undiscounted: discount factor = 1/(1+r)^(t−1) for
  year t = 1, 2, …. The horizon is at most 30 years, inside the Green Book's 3.5% band (years 0–30).
* **Steady state** (``fte_total``, ``steady_annual_cost_real``, ``cost_per_referral``,
  ``cost_per_100k_16plus``): every deployed unit fully staffed, for one year at year-1 real prices,
  with recruitment only replacing attrition; per 100,000 people aged 16+ in the forces covered
  (each force counted once).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict, cast, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage.errors import InputError, InputErrors, Problem
from coverage.planner.rules import BANDED_SCHEMES, RuleBook, load_rulebook, oncost, rule_date
from coverage.planner.schema import (
    AGENCIES,
    DEMAND_OFFENCES,
    Deployment,
    ReferralRate,
    Scenario,
    UnitModel,
    fiscal_year_label,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
)

__all__ = [
    "ScenarioResult",
    "coverage_before_after",
    "present_value",
    "run_scenario",
    "scenario_hash",
    "to_json_summary",
    "with_deployments",
]

FORCE_COLUMNS_NEEDED = ("code", "name", "pop_mid2023_16plus")
LINE_TYPES = ("staff", "fixed", "non_pay")
NON_PAY_LINE = "Unit non-pay (accommodation, IT, travel, supervision)"

DETAIL_COLUMNS = [
    "area_codes",
    "area_name",
    "unit_model",
    "deployment",
    "year",
    "year_index",
    "fiscal_year",
    "line_type",
    "role",
    "agency",
    "grade",
    "fte",
    "staff_cost_nominal",
    "staff_cost_real",
    "non_pay",
    "non_pay_real",
    "fixed_cost",
    "fixed_cost_real",
    "recruitment",
    "recruitment_real",
    "optimism_bias",
    "optimism_bias_real",
    "cost_nominal",
    "cost_real",
    "discount_factor",
    "pv",
]


# --------------------------------------------------------------------------------------------
# Compile: scenario + forces + offences → flat arrays (one entry per cost line)
# --------------------------------------------------------------------------------------------


@dataclass
class CompiledScenario:
    scenario: Scenario
    years: np.ndarray
    t: np.ndarray
    deflator: np.ndarray  # D_Y, price index relative to price base (nominal = real × D)
    pay_real: np.ndarray  # real pay index (1+u)^(Y-base)
    non_pay_nominal: np.ndarray  # N_Y nominal non-pay index
    # per line (text columns are small integer codes into the lists beside them)
    key: np.ndarray  # index into keys: (line_type, role, agency)
    keys: list[tuple[str, str, str]]
    grade: np.ndarray
    grades: list[str]
    agency: np.ndarray  # index into AGENCIES
    line_type: np.ndarray  # 0 staff, 1 fixed, 2 non_pay
    unit: np.ndarray
    unit_ids: list[str]
    dep: np.ndarray  # index into deployments
    offset: np.ndarray
    is_staff: np.ndarray
    is_demand: np.ndarray
    salary: np.ndarray
    oncost: np.ndarray  # (lines, years): employer NI + pension as a share of salary, by the dated rules
    overhead: np.ndarray
    fte_fixed: np.ndarray
    caseload: np.ndarray
    amount: np.ndarray
    pay_indexed: np.ndarray
    rec_cost: np.ndarray
    attrition: np.ndarray
    ramp: np.ndarray  # (L, T) ramp table row of each line's unit, padded with 1.0
    # per deployment (a placement rule resolved against the register)
    deployments: list[Deployment]
    dep_share: np.ndarray  # (deployments, forces): each force's share of a unit's cost (population 16+)
    dep_referrals: np.ndarray  # referrals per year per deployment (nan when no demand section)
    force_referrals: np.ndarray  # referrals per year from each covered force
    dep_labels: list[str]
    # per force (only forces with a deployment)
    force_codes: list[str]
    force_names: list[str]
    force_pop16: np.ndarray


def _rate_path(values: list[float], n: int) -> np.ndarray:
    """Rates for growth years 1..n after the price base; the last given value repeats."""
    if n <= 0:
        return np.zeros(0)
    arr = np.asarray(values, dtype=float)
    idx = np.minimum(np.arange(n), len(arr) - 1)
    return arr[idx]


def _index(values: list[float], base: int, years: npt.NDArray[np.int_]) -> np.ndarray:
    n = int(years.max()) - base
    cum = np.concatenate([[1.0], np.cumprod(1.0 + _rate_path(values, n))])
    return cum[years - base]


def _check_forces(forces: pd.DataFrame) -> None:
    missing = [c for c in FORCE_COLUMNS_NEEDED if c not in getattr(forces, "columns", [])]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", where="force table")


def compile_scenario(
    scenario: Scenario,
    forces: pd.DataFrame,
    offences_by_force: Mapping[str, float] | None,
    *,
    existing_units: Iterable[str] = (),
    rules: RuleBook | None = None,
) -> CompiledScenario:
    _check_forces(forces)
    s = scenario
    T = s.horizon_years
    t = np.arange(T)
    years = s.start_year + t
    base = s.price_base_year
    deflator = _index(s.gdp_deflator.values(), base, years)
    non_pay_nominal = _index(s.non_pay_inflation.values(), base, years)
    pay_real = (1.0 + s.pay_uplift.value) ** (years - base).astype(float)

    codes = list(forces["code"].astype(str))
    names = dict(zip(codes, forces["name"].astype(str)))
    pops = dict(zip(codes, pd.to_numeric(forces["pop_mid2023_16plus"], errors="coerce").astype(float)))

    deployments = resolved_deployments(s, codes, existing_units)
    problems: list[Problem] = []
    for i, d in enumerate(s.deployments):
        for j, code in enumerate(d.forces):
            if code not in names:
                problems.append(Problem(("deployments", i, "forces", j), f"{code} is not in the force table"))
    if problems:
        raise InputErrors(problems, where="scenario")

    covered: list[str] = list(dict.fromkeys(code for d in deployments for code in d.forces))
    force_pos = {c: i for i, c in enumerate(covered)}
    F = len(covered)
    n_dep = len(deployments)
    # A unit serving several forces is shared among them in proportion to their population aged 16+
    # (for the by-force table only; the unit is costed once).
    share = np.zeros((n_dep, F))
    for i, d in enumerate(deployments):
        weights = np.asarray([pops[c] if math.isfinite(pops[c]) else 0.0 for c in d.forces], dtype=float)
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(d.forces), 1.0 / len(d.forces))
        for code, weight in zip(d.forces, weights):
            share[i, force_pos[code]] = weight

    # referrals per deployment: the rate times the summed offences of the forces it serves
    dep_refs = np.full(n_dep, np.nan)
    force_refs = np.full(F, np.nan)
    if s.demand is not None:
        if s.demand.fixed_referrals_per_year is not None:
            dep_refs[:] = s.demand.fixed_referrals_per_year.value
            force_refs = share.T @ dep_refs if n_dep else force_refs
        else:
            rate = cast(ReferralRate, s.demand.referral_rate).rate  # Demand: one of the two is always set
            offences = offences_by_force if offences_by_force is not None else {}
            basis = DEMAND_OFFENCES[cast(ReferralRate, s.demand.referral_rate).offence_code]
            usable: dict[str, float] = {}
            for code in covered:
                value = offences.get(code, None)
                try:
                    value = float(value) if value is not None else None
                except (TypeError, ValueError):
                    value = None
                if value is None or not math.isfinite(value) or value < 0:
                    problems.append(
                        Problem(
                            (), f"{names[code]} ({code}): no usable count of {basis}, which the referral rate needs"
                        )
                    )
                    continue
                usable[code] = value
            if problems:
                raise InputErrors(problems, where="offences_by_force")
            for i, d in enumerate(deployments):
                dep_refs[i] = rate * sum(usable[code] for code in d.forces)
            force_refs = np.asarray([rate * usable[code] for code in covered], dtype=float)

    book = rulebook_for(s, rules)
    year_tuple = tuple(int(y) for y in years)

    def rule_path(name: str) -> np.ndarray:
        return _rule_path(book, name, year_tuple)

    def pension_path(scheme: str, salary: float) -> np.ndarray:
        """The employer pension as a share of ``salary`` in each year (as coverage.planner.rules.oncost)."""
        if scheme == "none":
            return np.zeros(T)
        name = f"employer_pension.{scheme}"
        try:
            rate = rule_path(name)
            if scheme not in BANDED_SCHEMES:
                return rate
            lower, upper = rule_path(f"{name}_lower_limit"), rule_path(f"{name}_upper_limit")
        except InputError:
            oncost(book, scheme, 100_000.0, year_tuple[0])  # raises the rules' own message (e.g. no LGPS default)
            raise
        # a band of pay (qualifying earnings): the rate on the part of the salary inside it
        # written as coverage.planner.rules.oncost does, so the two agree to the last bit
        share: np.ndarray = np.where(
            salary <= lower,
            0.0,
            np.where(salary <= upper, rate * (1.0 - lower / salary), rate * ((upper - lower) / salary)),
        )
        return share

    # one template table holding every unit's lines; deployments index into it
    unit_ids = [u.id for u in s.unit_models]
    upos = {uid: i for i, uid in enumerate(unit_ids)}
    ramp_table = np.ones((len(unit_ids), T))
    tpl: dict[str, list[Any]] = {  # one column per name, of mixed types (text, flags, numbers)
        k: []
        for k in (
            "line_type",
            "role",
            "agency",
            "grade",
            "is_staff",
            "is_demand",
            "salary",
            "oncost",
            "overhead",
            "fte_fixed",
            "caseload",
            "amount",
            "pay_indexed",
            "rec_cost",
            "attrition",
            "unit",
        )
    }
    starts, counts = [], []
    oncost_rows: list[np.ndarray] = []  # (years,) employer on-cost rate of each template line
    for ui, u in enumerate(s.unit_models):
        vals = u.ramp_up.values()
        k = min(len(vals), T)
        ramp_table[ui, :k] = vals[:k]
        rows: list[tuple[Any, ...]] = []  # one cell per tpl column, line_type to pay_indexed
        for ri, r in enumerate(u.roles):
            if r.oncost_override is not None:
                oncost_rows.append(np.full(T, r.oncost_override.value))
            else:
                try:
                    pension = pension_path(r.pension_scheme, r.salary)
                    ni_rate = rule_path("employer_ni.rate")
                    ni_threshold = rule_path("employer_ni.secondary_threshold")
                except InputError as error:
                    raise InputError(
                        Problem(("unit_models", ui, "roles", ri, "pension_scheme"), error.reason), where="scenario"
                    ) from None
                # as coverage.planner.rules.oncost: NI on pay above the threshold, as a share of salary
                oncost_rows.append(pension + ni_rate * np.maximum(1.0 - ni_threshold / r.salary, 0.0))
            rows.append(
                (
                    "staff",
                    r.role,
                    r.agency,
                    r.grade,
                    True,
                    r.fte_mode == "demand",
                    r.salary,
                    0.0,  # on-cost: a row by year in oncost_rows
                    r.overhead_rate,
                    r.fte if r.fte is not None else np.nan,
                    r.caseload_per_fte if r.caseload_per_fte is not None else np.nan,
                    0.0,
                    True,
                )
            )
        for fc in u.fixed_costs:
            oncost_rows.append(np.zeros(T))
            rows.append(
                (
                    "fixed",
                    fc.item,
                    fc.agency,
                    "",
                    False,
                    False,
                    0.0,
                    0.0,
                    0.0,
                    np.nan,
                    np.nan,
                    fc.amount,
                    fc.index == "pay",
                )
            )
        if u.non_pay.value > 0:
            oncost_rows.append(np.zeros(T))
            rows.append(
                (
                    "non_pay",
                    NON_PAY_LINE,
                    u.non_pay_agency,
                    "",
                    False,
                    False,
                    0.0,
                    0.0,
                    0.0,
                    np.nan,
                    np.nan,
                    u.non_pay.value,
                    False,
                )
            )
        starts.append(len(tpl["line_type"]))
        counts.append(len(rows))
        for row in rows:
            for key, value in zip(
                (
                    "line_type",
                    "role",
                    "agency",
                    "grade",
                    "is_staff",
                    "is_demand",
                    "salary",
                    "oncost",
                    "overhead",
                    "fte_fixed",
                    "caseload",
                    "amount",
                    "pay_indexed",
                ),
                row,
            ):
                tpl[key].append(value)
            tpl["rec_cost"].append(u.recruitment_training_cost_per_new_fte.value)
            tpl["attrition"].append(u.attrition_rate.value)
            tpl["unit"].append(ui)

    dep_unit = np.fromiter((upos[d.unit_model] for d in deployments), dtype=int, count=n_dep)
    dep_offset = np.fromiter((d.start_year_offset for d in deployments), dtype=int, count=n_dep)
    starts_a, counts_a = np.asarray(starts, dtype=int), np.asarray(counts, dtype=int)
    per_dep = counts_a[dep_unit] if n_dep else np.zeros(0, dtype=int)
    L = int(per_dep.sum())
    dep = np.repeat(np.arange(n_dep), per_dep)
    first_line = np.concatenate([[0], np.cumsum(per_dep)[:-1]]) if n_dep else np.zeros(0, dtype=int)
    tix = (
        (np.repeat(starts_a[dep_unit], per_dep) + np.arange(L) - np.repeat(first_line, per_dep))
        if L
        else np.zeros(0, dtype=int)
    )

    def take(name: str, dtype: npt.DTypeLike = float) -> np.ndarray:
        return np.asarray(tpl[name], dtype=dtype)[tix] if L else np.zeros(0, dtype=dtype)

    # small integer codes for the text columns (tables group on these, not on strings)
    key_index: dict[tuple[str, str, str], int] = {}
    tpl_key = np.asarray(
        [
            key_index.setdefault((lt, ro, ag), len(key_index))
            for lt, ro, ag in zip(tpl["line_type"], tpl["role"], tpl["agency"])
        ],
        dtype=int,
    )
    keys = list(key_index)
    grade_index: dict[str, int] = {}
    tpl_grade = np.asarray([grade_index.setdefault(g, len(grade_index)) for g in tpl["grade"]], dtype=int)
    agency_codes = {a: i for i, a in enumerate(AGENCIES)}
    tpl_agency = np.asarray([agency_codes[a] for a in tpl["agency"]], dtype=int)
    line_types = ["staff", "fixed", "non_pay"]
    tpl_lt = np.asarray([line_types.index(x) for x in tpl["line_type"]], dtype=int)

    return CompiledScenario(
        scenario=s,
        years=years,
        t=t,
        deflator=deflator,
        pay_real=pay_real,
        non_pay_nominal=non_pay_nominal,
        key=tpl_key[tix] if L else np.zeros(0, dtype=int),
        keys=keys,
        grade=tpl_grade[tix] if L else np.zeros(0, dtype=int),
        grades=list(grade_index),
        agency=tpl_agency[tix] if L else np.zeros(0, dtype=int),
        line_type=tpl_lt[tix] if L else np.zeros(0, dtype=int),
        unit=take("unit", int),
        unit_ids=unit_ids,
        dep=dep,
        offset=dep_offset[dep] if L else np.zeros(0, dtype=int),
        is_staff=take("is_staff", bool),
        is_demand=take("is_demand", bool),
        salary=take("salary"),
        oncost=(np.asarray(oncost_rows).reshape(-1, T)[tix] if L else np.zeros((0, T))),
        overhead=take("overhead"),
        fte_fixed=take("fte_fixed"),
        caseload=take("caseload"),
        amount=take("amount"),
        pay_indexed=take("pay_indexed", bool),
        rec_cost=take("rec_cost"),
        attrition=take("attrition"),
        ramp=ramp_table[take("unit", int)] if L else np.ones((0, T)),
        deployments=deployments,
        dep_share=share,
        dep_referrals=dep_refs,
        force_referrals=force_refs,
        dep_labels=[deployment_label(d, names) for d in deployments],
        force_codes=covered,
        force_names=[names[c] for c in covered],
        force_pop16=np.asarray([pops[c] for c in covered], dtype=float),
    )


# --------------------------------------------------------------------------------------------
# Deployments, rules and warnings
# --------------------------------------------------------------------------------------------


def resolved_deployments(
    scenario: Scenario, force_codes: Sequence[str], existing_units: Iterable[str]
) -> list[Deployment]:
    """The scenario's units: its listed deployments, or its placement rule applied to the register in use
    (``existing_units`` are the forces that already have a multi-agency unit)."""
    rule = scenario.placement
    if rule is None:
        return list(scenario.deployments)
    have = set(existing_units)
    return [
        Deployment(forces=[code], start_year_offset=rule.start_year_offset, unit_model=rule.unit_model)
        for code in sorted(force_codes)
        if code not in have
    ]


def deployment_label(deployment: Deployment, names: Mapping[str, str]) -> str:
    """A unit's name, or the force (or forces) it serves."""
    if deployment.name:
        return deployment.name
    listed = [names.get(code, code) for code in deployment.forces]
    if len(listed) <= 3:
        return " + ".join(listed)
    return f"{listed[0]} + {len(listed) - 1} other forces"


@functools.lru_cache(maxsize=256)
def _rule_path(book: RuleBook, name: str, years: tuple[int, ...]) -> np.ndarray:
    """A rule's value in each costed financial year (the rules in force on 6 April of each); read once per
    rule book (immutable, hashed by identity) and years, so re-costing the same scenario reads no rules."""
    path = np.asarray([book.value(name, rule_date(year)) for year in years])
    path.flags.writeable = False
    return path


def rulebook_for(scenario: Scenario, rules: RuleBook | None = None) -> RuleBook:
    """The dated rules with the scenario's own values (labelled user input) laid over them."""
    book = rules if rules is not None else load_rulebook()
    if not scenario.parameter_overrides:
        return book
    return book.with_overrides(
        {
            name: [(o.from_, float(o.value), o.note) for o in values]
            for name, values in scenario.parameter_overrides.items()
        }
    )


def result_warnings(c: CompiledScenario, steady: np.ndarray, unknown_provision: Iterable[str]) -> list[str]:
    """Forces whose figures need a second look: provision the register does not know, and units whose
    demand would not fill one post of any of their demand-driven roles."""
    warnings: list[str] = []
    names = dict(zip(c.force_codes, c.force_names))
    unknown = [code for code in c.force_codes if code in set(unknown_provision)]
    if unknown:
        warnings.append(
            "The register does not know what specialist provision "
            + ", ".join(names[code] for code in unknown)
            + " already has: a unit there may duplicate a service the register has not found."
        )
    for i, label in enumerate(c.dep_labels):
        lines = (c.dep == i) & c.is_demand & c.is_staff
        if lines.any() and float(steady[lines].max()) < 1.0:
            refs = c.dep_referrals[i]
            warnings.append(
                f"{label}: about {refs:,.0f} referrals a year would not fill one post of any demand-driven role "
                f"(the largest is {float(steady[lines].max()):.2f} FTE). A unit shared with a neighbouring force "
                "(a regional or hosted unit) may fit better."
            )
    return warnings


# --------------------------------------------------------------------------------------------
# Compute
# --------------------------------------------------------------------------------------------


@dataclass
class Knobs:
    """Multipliers and overrides used by the tornado; all neutral by default."""

    salary: float = 1.0
    oncost: float = 1.0
    caseload: float = 1.0
    referrals: float = 1.0
    optimism_bias: float | None = None
    discount_rate: float | None = None


def _steady_fte(c: CompiledScenario, k: Knobs) -> np.ndarray:
    refs = c.dep_referrals[c.dep] * k.referrals if len(c.dep) else np.zeros(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        demand_fte = refs / (c.caseload * k.caseload)
    fte = np.where(c.is_demand, demand_fte, c.fte_fixed)
    return np.where(c.is_staff, np.nan_to_num(fte, nan=0.0), 0.0)


class _PresentValue(TypedDict):
    pv: float


class _Computed(TypedDict):
    """``compute_costs(c)`` in full: (lines, years) arrays unless noted."""

    active: np.ndarray  # bool: the line's unit has started
    fte: np.ndarray
    steady: np.ndarray  # (lines,): FTE fully staffed
    disc: np.ndarray  # (years,): discount factor
    ob: float
    r: float
    staff_real: np.ndarray
    staff_nom: np.ndarray
    rec_real: np.ndarray
    rec_nom: np.ndarray
    fixed_real: np.ndarray
    fixed_nom: np.ndarray
    np_real: np.ndarray
    np_nom: np.ndarray
    ob_real: np.ndarray
    ob_nom: np.ndarray
    cost_real: np.ndarray
    cost_nom: np.ndarray
    pv: np.ndarray
    pv_total: float
    loaded: np.ndarray  # (lines, years): loaded cost per FTE at price-base pay
    non_pay_real: np.ndarray  # (years,): real non-pay index


@overload
def compute_costs(c: CompiledScenario, k: Knobs | None = None, *, full: Literal[True] = True) -> _Computed: ...
@overload
def compute_costs(c: CompiledScenario, k: Knobs | None = None, *, full: Literal[False]) -> _PresentValue: ...
def compute_costs(c: CompiledScenario, k: Knobs | None = None, *, full: bool = True) -> _Computed | _PresentValue:
    k = k or Knobs()
    s = c.scenario
    ob = s.optimism_bias.value if k.optimism_bias is None else k.optimism_bias
    r = s.discount_rate.value if k.discount_rate is None else k.discount_rate
    T = len(c.t)
    disc = 1.0 / (1.0 + r) ** c.t.astype(float)
    non_pay_real = c.non_pay_nominal / c.deflator

    steady = _steady_fte(c, k)
    kk = c.t[None, :] - c.offset[:, None]
    active = kk >= 0
    ramp = np.where(active, np.take_along_axis(c.ramp, np.clip(kk, 0, T - 1), axis=1), 0.0)
    fte = steady[:, None] * ramp

    loaded = (c.salary * k.salary)[:, None] * (1.0 + c.oncost * k.oncost) * (1.0 + c.overhead)[:, None]
    staff_real = fte * loaded * c.pay_real[None, :]

    prev = np.zeros_like(fte)
    prev[:, 1:] = fte[:, :-1]
    hires = np.maximum(fte - prev, 0.0) + c.attrition[:, None] * prev
    rec_real = hires * c.rec_cost[:, None] * non_pay_real[None, :]

    idx_real = np.where(c.pay_indexed[:, None], c.pay_real[None, :], non_pay_real[None, :])
    amt_real = c.amount[:, None] * active * idx_real

    sub_real = staff_real + rec_real + amt_real
    cost_real = sub_real * (1.0 + ob)
    pv_total = float((cost_real.sum(axis=0) * disc).sum()) if cost_real.size else 0.0
    if not full:
        return {"pv": pv_total}

    D = c.deflator[None, :]
    is_fixed = (c.line_type == 1)[:, None]
    is_np = (c.line_type == 2)[:, None]
    out: _Computed = {
        "active": active,
        "fte": fte,
        "steady": steady,
        "disc": disc,
        "ob": ob,
        "r": r,
        "staff_real": staff_real,
        "staff_nom": staff_real * D,
        "rec_real": rec_real,
        "rec_nom": rec_real * D,
        "fixed_real": amt_real * is_fixed,
        "fixed_nom": amt_real * is_fixed * D,
        "np_real": amt_real * is_np,
        "np_nom": amt_real * is_np * D,
        "ob_real": sub_real * ob,
        "ob_nom": sub_real * ob * D,
        "cost_real": cost_real,
        "cost_nom": cost_real * D,
        "pv": cost_real * disc[None, :],
        "pv_total": pv_total,
        "loaded": loaded,
        "non_pay_real": non_pay_real,
    }
    return out


def present_value(
    scenario: Scenario, forces: pd.DataFrame, offences_by_force: Mapping[str, float] | None = None
) -> float:
    """Present value (real, discounted) of a scenario's costs, without building tables."""
    return compute_costs(compile_scenario(scenario, forces, offences_by_force), full=False)["pv"]


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    scenario: Scenario
    scenario_hash: str
    price_base: str  # e.g. "2024/25 prices"
    detail_builder: Callable[[], pd.DataFrame] = field(repr=False)
    by_year: pd.DataFrame
    by_force: pd.DataFrame
    by_role: pd.DataFrame
    by_agency: pd.DataFrame
    totals: dict[str, Any]
    coverage: dict[str, Any] = field(default_factory=dict)
    by_unit: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per unit (deployment)
    warnings: list[str] = field(default_factory=list)  # forces whose result needs a second look
    deployments: list[Deployment] = field(default_factory=list)  # the units costed (a placement rule resolved)
    _detail: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def detail(self) -> pd.DataFrame:
        """One row per cost line and year in which its unit runs (see DETAIL_COLUMNS)."""
        if self._detail is None:
            self._detail = self.detail_builder()
        return self._detail


# What makes a unit model a multi-agency stalking unit, for coverage: the police and at least one of
# probation or health work in it (as staff or as funded lines). That is the MASIP model the pilots
# evaluated (Tompson, Belur & Jerath, UCL, 2020: police, probation, clinical psychologists and advocates
# on one case). An advocacy-only service is costed like any other, but adds no unit to coverage.
MULTI_AGENCY_CORE = "police"
MULTI_AGENCY_PARTNERS = frozenset({"probation", "nhs"})


def counts_as_multi_agency_unit(unit: UnitModel) -> bool:
    """True when a unit model's roles and fixed lines include the police and probation or the NHS."""
    agencies = {r.agency for r in unit.roles} | {f.agency for f in unit.fixed_costs}
    return MULTI_AGENCY_CORE in agencies and bool(agencies & MULTI_AGENCY_PARTNERS)


def coverage_before_after(forces: pd.DataFrame, existing: Iterable[str], deployed: Iterable[str]) -> dict[str, Any]:
    """Forces with a multi-agency unit, and their share of the 16+ population, before → after."""
    _check_forces(forces)
    codes = list(forces["code"].astype(str))
    pop = dict(zip(codes, pd.to_numeric(forces["pop_mid2023_16plus"], errors="coerce").astype(float)))
    existing = set(existing)
    unknown = sorted(c for c in existing if c not in pop)
    if unknown:
        raise InputError(f"not force codes in the force table: {', '.join(unknown)}", where="existing units")
    deployed = set(deployed)
    after = existing | deployed
    total = float(sum(pop.values()))

    def share(cs: Iterable[str]) -> float:
        return float(sum(pop[c] for c in cs) / total) if total else 0.0

    return {
        "forces_total": len(codes),
        "before_forces": len(existing),
        "after_forces": len(after),
        "before_share_16plus": share(existing),
        "after_share_16plus": share(after),
        "added_forces": sorted(after - existing),
        "already_covered_in_scenario": sorted(existing & deployed),
    }


def run_scenario(
    scenario: Scenario,
    forces: pd.DataFrame,
    offences_by_force: Mapping[str, float] | None = None,
    *,
    existing_units: Iterable[str] = (),
    unknown_provision: Iterable[str] = (),
    rules: RuleBook | None = None,
) -> ScenarioResult:
    """Cost a scenario: FTE and cost per force, role and year; totals in nominal, real and present value.

    ``offences_by_force`` maps ONS force code → police-recorded offences in the 'Stalking and harassment'
    group for a year (needed when the scenario's demand is a referral rate). ``existing_units`` are the
    force codes that already have a multi-agency unit (for the coverage before → after figures).

    Text columns of ``detail`` (force, unit, fiscal year, line type, role, agency, grade) are pandas
    categoricals: they compare and export like strings but keep the national table small and fast.
    """
    existing_units = tuple(existing_units)
    c = compile_scenario(scenario, forces, offences_by_force, existing_units=existing_units, rules=rules)
    m = compute_costs(c)
    s = scenario
    force_names_of = dict(zip(forces["code"].astype(str), forces["name"].astype(str)))
    T = len(c.t)
    L = len(c.line_type)
    labels = [fiscal_year_label(int(y)) for y in c.years]

    # detail: one row per active (line, year); built only when asked for (a national rollout has ~11,000
    # rows, and the page, the CLI and the briefing never show it), then kept
    def build_detail() -> pd.DataFrame:
        li, yi = np.nonzero(m["active"])
        role_names = list(dict.fromkeys(k[1] for k in c.keys))
        role_of_key = np.asarray([role_names.index(k[1]) for k in c.keys], dtype=int)

        def cat(codes: np.ndarray, categories: Iterable[str]) -> pd.Categorical:
            return pd.Categorical.from_codes(
                np.asarray(codes, dtype=int), categories=pd.Index(list(categories), dtype=object)
            )

        detail = pd.DataFrame(
            {
                # two units may serve the same forces (or share a name): categories from the distinct values
                "area_codes": pd.Categorical(
                    np.asarray(["+".join(d.forces) for d in c.deployments], dtype=object)[c.dep[li]]
                ),
                "area_name": pd.Categorical(np.asarray(c.dep_labels, dtype=object)[c.dep[li]]),
                "unit_model": cat(c.unit[li], c.unit_ids),
                "deployment": c.dep[li],
                "year": c.years[yi],
                "year_index": yi + 1,
                "fiscal_year": cat(yi, labels),
                "line_type": cat(c.line_type[li], LINE_TYPES),
                "role": cat(role_of_key[c.key[li]] if len(li) else np.zeros(0, dtype=int), role_names),
                "agency": cat(c.agency[li], AGENCIES),
                "grade": cat(c.grade[li], c.grades),
                "fte": m["fte"][li, yi],
                "staff_cost_nominal": m["staff_nom"][li, yi],
                "staff_cost_real": m["staff_real"][li, yi],
                "non_pay": m["np_nom"][li, yi],
                "non_pay_real": m["np_real"][li, yi],
                "fixed_cost": m["fixed_nom"][li, yi],
                "fixed_cost_real": m["fixed_real"][li, yi],
                "recruitment": m["rec_nom"][li, yi],
                "recruitment_real": m["rec_real"][li, yi],
                "optimism_bias": m["ob_nom"][li, yi],
                "optimism_bias_real": m["ob_real"][li, yi],
                "cost_nominal": m["cost_nom"][li, yi],
                "cost_real": m["cost_real"][li, yi],
                "discount_factor": m["disc"][yi],
                "pv": m["pv"][li, yi],
            },
            columns=DETAIL_COLUMNS,
        )
        return detail

    by_year = pd.DataFrame(
        {
            "year": c.years,
            "fiscal_year": labels,
            "fte": m["fte"].sum(axis=0) if L else np.zeros(T),
            "cost_nominal": m["cost_nom"].sum(axis=0) if L else np.zeros(T),
            "cost_real": m["cost_real"].sum(axis=0) if L else np.zeros(T),
            "discount_factor": m["disc"],
            "pv": m["pv"].sum(axis=0) if L else np.zeros(T),
        }
    )

    F = len(c.force_codes)
    n_dep = len(c.deployments)
    line_nom = m["cost_nom"].sum(axis=1)
    line_real = m["cost_real"].sum(axis=1)
    line_pv = m["pv"].sum(axis=1)
    steady = m["steady"]
    has_demand = s.demand is not None

    def per_dep(weights: np.ndarray) -> np.ndarray:
        return np.bincount(c.dep, weights=weights, minlength=n_dep) if L else np.zeros(n_dep)

    dep_fte, dep_nom, dep_real, dep_pv = per_dep(steady), per_dep(line_nom), per_dep(line_real), per_dep(line_pv)
    W = c.dep_share
    by_force = pd.DataFrame(
        {
            "code": c.force_codes,
            "name": c.force_names,
            "units": (W > 0).sum(axis=0) if F else np.zeros(0, dtype=int),
            "fte": W.T @ dep_fte if F else np.zeros(0),
            "cost_nominal": W.T @ dep_nom if F else np.zeros(0),
            "cost_real": W.T @ dep_real if F else np.zeros(0),
            "pv": W.T @ dep_pv if F else np.zeros(0),
            "referrals_per_year": c.force_referrals if has_demand else np.full(F, np.nan),
            "pop_16plus": c.force_pop16,
        }
    )
    by_unit = pd.DataFrame(
        {
            "unit": c.dep_labels,
            "forces": [", ".join(force_names_of.get(code, code) for code in d.forces) for d in c.deployments],
            "unit_model": [d.unit_model for d in c.deployments],
            "first_year": [fiscal_year_label(s.start_year + d.start_year_offset) for d in c.deployments],
            "fte": dep_fte,
            "cost_real": dep_real,
            "pv": dep_pv,
            "referrals_per_year": c.dep_referrals,
        }
    )
    dep_active = (c.t[None, :] >= np.asarray([d.start_year_offset for d in c.deployments])[:, None]) if n_dep else None
    referrals_by_year = (
        (np.nan_to_num(c.dep_referrals)[:, None] * dep_active).sum(axis=0)
        if has_demand and dep_active is not None
        else np.full(T, np.nan if has_demand is False else 0.0)
    )
    by_year["referrals"] = referrals_by_year

    def group(codes: np.ndarray, labels_: Sequence[tuple[str, ...]], names: list[str]) -> pd.DataFrame:
        n = len(labels_)
        used = np.bincount(codes, minlength=n) > 0 if L else np.zeros(n, dtype=bool)
        frame = pd.DataFrame([lab for lab, u in zip(labels_, used) if u], columns=names)
        for col, weights in (("fte", steady), ("cost_nominal", line_nom), ("cost_real", line_real), ("pv", line_pv)):
            frame[col] = np.bincount(codes, weights=weights, minlength=n)[used] if L else np.zeros(0)
        return frame.sort_values("cost_real", ascending=False, kind="stable").reset_index(drop=True)

    by_role = group(c.key, [(ro, ag, lt) for lt, ro, ag in c.keys], ["role", "agency", "line_type"])
    by_agency = group(c.agency, [(a,) for a in AGENCIES], ["agency"])

    # steady state: one year, everything fully staffed, at year-1 real prices
    ob = m["ob"]
    p0 = c.pay_real[0]
    np0 = m["non_pay_real"][0]
    steady_cost = (
        (
            steady * m["loaded"][:, 0] * p0
            + c.attrition * steady * c.rec_cost * np0
            + c.amount * np.where(c.pay_indexed, p0, np0)
        ).sum()
        * (1.0 + ob)
        if L
        else 0.0
    )
    pop_cov = float(c.force_pop16.sum()) if F else 0.0
    refs_total = float(np.nansum(c.dep_referrals)) if has_demand else None
    totals: dict[str, Any] = {
        "scenario_name": s.name,
        "price_base": f"{fiscal_year_label(s.price_base_year)} prices",
        "first_year": fiscal_year_label(s.start_year),
        "last_year": fiscal_year_label(s.start_year + s.horizon_years - 1),
        "horizon_years": s.horizon_years,
        "discount_rate": m["r"],
        "optimism_bias": ob,
        "total_cost_nominal": float(by_year["cost_nominal"].sum()),
        "total_cost_real": float(by_year["cost_real"].sum()),
        "present_value": float(m["pv_total"]),
        "fte_total": float(steady.sum()),
        "fte_peak": float(by_year["fte"].max()) if T else 0.0,
        "year1_cost_nominal": float(by_year["cost_nominal"].iloc[0]),
        "year1_cost_real": float(by_year["cost_real"].iloc[0]),
        "steady_annual_cost_real": float(steady_cost),
        "referrals_per_year": refs_total,
        "cost_per_referral": (float(steady_cost) / refs_total) if refs_total else None,
        "forces_covered": F,
        "pop_16plus_covered": pop_cov,
        "cost_per_100k_16plus": (float(steady_cost) / pop_cov * 100_000) if pop_cov else None,
        "units": n_dep,
    }
    multi_agency = {u.id for u in s.unit_models if counts_as_multi_agency_unit(u)}
    coverage = coverage_before_after(
        forces,
        existing_units,
        sorted({code for d in c.deployments if d.unit_model in multi_agency for code in d.forces}),
    )
    coverage["unit_models_not_multi_agency"] = sorted(
        u.name for u in s.unit_models if u.id not in multi_agency and any(d.unit_model == u.id for d in c.deployments)
    )
    return ScenarioResult(
        scenario=s,
        scenario_hash=scenario_hash(s),
        price_base=totals["price_base"],
        detail_builder=build_detail,
        by_year=by_year,
        by_force=by_force,
        by_role=by_role,
        by_agency=by_agency,
        totals=totals,
        coverage=coverage,
        by_unit=by_unit,
        warnings=result_warnings(c, steady, unknown_provision),
        deployments=list(c.deployments),
    )


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------


def _num(x: float | None, digits: int = 2) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return round(x, digits)


class _YearRow(Protocol):
    """The columns of a ``ScenarioResult.by_year`` row (from ``itertuples``) that the summary reads."""

    year: int
    fiscal_year: str
    cost_nominal: float
    cost_real: float
    pv: float
    fte: float


class _ForceRow(Protocol):
    """The columns of a ``ScenarioResult.by_force`` row (from ``itertuples``) that the summary reads."""

    code: str
    name: str
    cost_nominal: float
    cost_real: float
    pv: float
    fte: float


def to_json_summary(result: ScenarioResult) -> dict[str, Any]:
    """A JSON-ready summary: totals, by_year and by_force (money rounded to pence, FTE to 3 dp)."""
    t = result.totals
    summary: dict[str, Any] = {
        "scenario": result.scenario.name,
        "scenario_hash": result.scenario_hash,
        "price_base": result.price_base,
        "first_year": t["first_year"],
        "horizon_years": t["horizon_years"],
        "discount_rate": t["discount_rate"],
        "optimism_bias": t["optimism_bias"],
        "total_cost_nominal": _num(t["total_cost_nominal"]),
        "total_cost_real": _num(t["total_cost_real"]),
        "present_value": _num(t["present_value"]),
        "fte_total": _num(t["fte_total"], 3),
        "year1_cost_nominal": _num(t["year1_cost_nominal"]),
        "year1_cost_real": _num(t["year1_cost_real"]),
        "steady_annual_cost_real": _num(t["steady_annual_cost_real"]),
        "referrals_per_year": _num(t["referrals_per_year"], 1),
        "cost_per_referral": _num(t["cost_per_referral"]),
        "cost_per_100k_16plus": _num(t["cost_per_100k_16plus"]),
        "forces_covered": t["forces_covered"],
        "coverage": result.coverage,
        "by_year": [
            {
                "year": int(r.year),
                "fiscal_year": r.fiscal_year,
                "cost_nominal": _num(r.cost_nominal),
                "cost_real": _num(r.cost_real),
                "pv": _num(r.pv),
                "fte": _num(r.fte, 3),
            }
            for r in cast(Iterator[_YearRow], result.by_year.itertuples(index=False))
        ],
        "by_force": [
            {
                "code": r.code,
                "name": r.name,
                "cost_nominal": _num(r.cost_nominal),
                "cost_real": _num(r.cost_real),
                "pv": _num(r.pv),
                "fte": _num(r.fte, 3),
            }
            for r in cast(Iterator[_ForceRow], result.by_force.itertuples(index=False))
        ],
    }
    return summary


def with_deployments(
    scenario: Scenario, force_codes: Iterable[str], unit_model: str | None = None, start_year_offset: int = 0
) -> Scenario:
    """A copy of ``scenario`` with one unit (``unit_model``, default the first) in each of ``force_codes``."""
    data = scenario_to_dict(scenario)
    uid = unit_model or scenario.unit_models[0].id
    data["deployments"] = [
        {"forces": [code], "start_year_offset": start_year_offset, "unit_model": uid} for code in force_codes
    ]
    data["placement"] = None
    return scenario_from_dict(data, where="scenario")
