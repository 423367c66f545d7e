"""One-way sensitivity of a scenario's present value (the planner's tornado chart).

Each factor is swung down and up by the same share with everything else held, reusing the compiled
scenario so a full tornado costs a few milliseconds (``bench/scenarios.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from coverage.errors import InputError
from coverage.planner.costing import Knobs, compile_scenario, compute_costs
from coverage.planner.editing import SETTING_NAMES
from coverage.planner.schema import (
    Scenario,
)

TORNADO_FACTORS = ("salaries", "oncosts", "caseload", "referral_rate", "optimism_bias", "discount_rate")


# The factors the planner's chart swings: the inputs of the cost itself. The discount rate is the
# Treasury's convention for comparing years (Green Book, 3.5%), stated beside the chart instead.
COST_INPUT_FACTORS = tuple(factor for factor in TORNADO_FACTORS if factor != "discount_rate")


# The names the planner's tables use (coverage.planner.editing.SETTING_NAMES), so a setting is called
# the same on the chart as in the table where it is edited.
_FACTOR_LABELS = {
    "salaries": f"{SETTING_NAMES['salary']}, all roles",
    "oncosts": f"{SETTING_NAMES['oncost_rate']}, all roles",
    "caseload": f"{SETTING_NAMES['caseload_per_fte']}, demand-driven roles",
    "referral_rate": SETTING_NAMES["referral_rate"],
    "optimism_bias": f"{SETTING_NAMES['optimism_bias']} (± percentage points)",
    "discount_rate": SETTING_NAMES["discount_rate"],
}


def tornado(
    scenario: Scenario,
    forces: pd.DataFrame,
    offences_by_force: Mapping[str, float] | None = None,
    factors: Iterable[str] = TORNADO_FACTORS,
    swing: float = 0.2,
    *,
    existing_units: Iterable[str] = (),
) -> pd.DataFrame:
    """One-way sensitivity of the present value: each factor at (1 − swing) and (1 + swing) of its value.

    Optimism bias moves by ± ``swing`` (as a fraction, i.e. ±20 percentage points; never below 0),
    because its default is 0. Returns one row per factor, largest range first, with the PV at the
    factor's low and high setting (``pv_low``, ``pv_high``), ``range`` = |pv_high − pv_low| and ``base_pv``.
    """
    factors = list(factors)
    unknown = [f for f in factors if f not in TORNADO_FACTORS]
    if unknown:
        raise InputError(
            f"unknown factor(s) {', '.join(unknown)}; choose from {', '.join(TORNADO_FACTORS)}", where="tornado"
        )
    if not (0 < swing < 1):
        raise InputError("swing must be between 0 and 1 (0.2 = ±20%)", where="tornado")
    c = compile_scenario(scenario, forces, offences_by_force, existing_units=existing_units)
    base = compute_costs(c, full=False)["pv"]
    ob0 = scenario.optimism_bias.value
    r0 = scenario.discount_rate.value
    rows = []
    for f in factors:
        lo_k, hi_k = Knobs(), Knobs()
        if f == "salaries":
            lo_k.salary, hi_k.salary = 1 - swing, 1 + swing
            lo_in, hi_in = f"×{1 - swing:g}", f"×{1 + swing:g}"
        elif f == "oncosts":
            lo_k.oncost, hi_k.oncost = 1 - swing, 1 + swing
            lo_in, hi_in = f"×{1 - swing:g}", f"×{1 + swing:g}"
        elif f == "caseload":
            lo_k.caseload, hi_k.caseload = 1 - swing, 1 + swing
            lo_in, hi_in = f"×{1 - swing:g}", f"×{1 + swing:g}"
        elif f == "referral_rate":
            lo_k.referrals, hi_k.referrals = 1 - swing, 1 + swing
            lo_in, hi_in = f"×{1 - swing:g}", f"×{1 + swing:g}"
        elif f == "optimism_bias":
            lo_k.optimism_bias, hi_k.optimism_bias = max(0.0, ob0 - swing), ob0 + swing
            lo_in, hi_in = f"{lo_k.optimism_bias:.0%}", f"{hi_k.optimism_bias:.0%}"
        else:  # discount_rate
            lo_k.discount_rate, hi_k.discount_rate = r0 * (1 - swing), r0 * (1 + swing)
            lo_in, hi_in = f"{lo_k.discount_rate:.2%}", f"{hi_k.discount_rate:.2%}"
        pv_lo = compute_costs(c, lo_k, full=False)["pv"]
        pv_hi = compute_costs(c, hi_k, full=False)["pv"]
        rows.append(
            {
                "factor": f,
                "label": _FACTOR_LABELS[f],
                "low_input": lo_in,
                "high_input": hi_in,
                "pv_low": pv_lo,
                "pv_high": pv_hi,
                "pv_min": min(pv_lo, pv_hi),
                "pv_max": max(pv_lo, pv_hi),
                "range": abs(pv_hi - pv_lo),
                "base_pv": base,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "factor",
            "label",
            "low_input",
            "high_input",
            "pv_low",
            "pv_high",
            "pv_min",
            "pv_max",
            "range",
            "base_pv",
        ],
    )
    return frame.sort_values("range", ascending=False, kind="stable").reset_index(drop=True)
