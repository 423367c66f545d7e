"""Benchmark the scenario cost model; prints a table (and --json).

    python bench/scenarios.py
    python bench/scenarios.py --json

Targets (issue 12): a national rollout (all 43 forces × every role in the shipped presets × 10 years,
full tables) ≤ 5 ms; a tornado (5 factors × 2 runs) ≤ 0.1 s; one rerun of the planner page after a table
edit ≤ 0.3 s of server time (AppTest runs the page script in this process, so its time is the server's).
Offence counts are the shipped stalking (8Q) counts the presets' referral rate is applied to.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import pandas as pd

from coverage import paths
from coverage.model import atlas_data
from coverage.model.forces import read_force_table
from coverage.planner.costing import present_value, run_scenario, to_json_summary
from coverage.planner.demand import demand_offences
from coverage.planner.schema import load_preset, scenario_from_dict, scenario_to_dict
from coverage.planner.sensitivity import COST_INPUT_FACTORS, tornado

# The installed package knows where its checkout is (an editable install: pip install -e .).
REPO = paths.REPO_ROOT

TARGET_RUN_MS = 5.0
TARGET_TORNADO_S = 0.1
TARGET_RERUN_S = 0.3


def offences(scenario) -> tuple[dict[str, float], str]:
    data = atlas_data.load_all()
    basis = demand_offences(scenario, data.crime, data.indicators)
    return basis.offences, basis.description


def page_rerun_seconds(repeat: int, column: str = "caseload_per_fte") -> list[float]:
    """Server time of the planner's rerun(s) after one edit in the roles table (AppTest, in process).

    A caseload edit is one rerun. A salary edit of a role whose on-cost comes from the rules is two: the page
    draws its tables again so the on-cost column shows the rate for the new salary (coverage/planner/state.py)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.switch_page("app_pages/scenarios.py")
    at.run()
    at.session_state["scn_tab"] = "Assumptions"  # where a planner edits the tables (Results draws when opened)
    at.run()
    out = []
    for i in range(repeat):
        state = at.session_state["scn_state"]
        key = f"scn_roles_{state.generation}_{state.unit_id}"
        row = 1 if column == "caseload_per_fte" else 0
        value = 100 + i if column == "caseload_per_fte" else 50_000 + i
        at.session_state[key] = {"edited_rows": {row: {column: value}}, "added_rows": [], "deleted_rows": []}
        t0 = time.perf_counter()
        at.run()
        out.append(time.perf_counter() - t0)
        assert not at.exception
    return out


def national_rollout(forces: pd.DataFrame):
    """One unit model holding every role and fixed line of the four salary-based presets, in all 43 forces."""
    base = scenario_to_dict(load_preset("cheshire_hru_like"))
    unit = base["unit_models"][0]
    unit["id"], unit["name"] = "all_roles", "Every role in the shipped presets"
    unit["roles"], unit["fixed_costs"] = [], []
    for pid in ("cheshire_hru_like", "met_stac_like", "hampshire_masp_like", "advocacy_only"):
        other = scenario_to_dict(load_preset(pid))["unit_models"][0]
        unit["roles"] += other["roles"]
        unit["fixed_costs"] += other.get("fixed_costs", [])
    base["name"] = "National rollout (benchmark)"
    base["horizon_years"] = 10
    base["unit_models"] = [unit]
    base["deployments"] = [
        {"forces": [code], "start_year_offset": i % 3, "unit_model": "all_roles"}
        for i, code in enumerate(forces["code"])
    ]
    return scenario_from_dict(base, where="benchmark scenario")


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    forces = read_force_table(paths.FORCES_CSV)
    scenario = national_rollout(forces)
    off, off_source = offences(scenario)
    run_scenario(scenario, forces, off)  # warm up imports and caches

    run_times = timed(lambda: run_scenario(scenario, forces, off), args.repeat)
    pv_times = timed(lambda: present_value(scenario, forces, off), args.repeat)
    tornado_times = timed(lambda: tornado(scenario, forces, off, factors=COST_INPUT_FACTORS), max(5, args.repeat // 10))
    rerun_times = page_rerun_seconds(max(5, args.repeat // 5))
    salary_times = page_rerun_seconds(max(5, args.repeat // 5), column="salary")
    result = run_scenario(scenario, forces, off)
    summary = to_json_summary(result)

    figures = {
        "forces": len(result.by_force),
        "roles_per_unit": len(scenario.unit_models[0].roles),
        "cost_lines": len(result.by_force)
        * (
            len(scenario.unit_models[0].roles)
            + len(scenario.unit_models[0].fixed_costs)
            + (scenario.unit_models[0].non_pay.value > 0)
        ),
        "years": scenario.horizon_years,
        "detail_rows": len(result.detail),
        "offences": off_source,
        "run_scenario_ms_median": round(statistics.median(run_times) * 1000, 2),
        "run_scenario_ms_p90": round(sorted(run_times)[int(0.9 * (len(run_times) - 1))] * 1000, 2),
        "present_value_only_ms_median": round(statistics.median(pv_times) * 1000, 2),
        "tornado_s_median": round(statistics.median(tornado_times), 4),
        "page_rerun_after_edit_s_median": round(statistics.median(rerun_times), 3),
        "page_rerun_after_edit_s_max": round(max(rerun_times), 3),
        "page_reruns_after_salary_edit_s_median": round(statistics.median(salary_times), 3),
        "target_run_ms": TARGET_RUN_MS,
        "target_tornado_s": TARGET_TORNADO_S,
        "target_rerun_s": TARGET_RERUN_S,
        "national_present_value_gbp": summary["present_value"],
        "national_fte_total": summary["fte_total"],
    }
    figures["run_ok"] = figures["run_scenario_ms_median"] <= TARGET_RUN_MS
    figures["tornado_ok"] = figures["tornado_s_median"] <= TARGET_TORNADO_S
    figures["rerun_ok"] = figures["page_rerun_after_edit_s_median"] <= TARGET_RERUN_S

    if args.json:
        print(json.dumps(figures))
    else:
        width = max(len(k) for k in figures)
        print("Scenario model benchmark (national rollout: 43 forces × every preset role × 10 years)")
        for key, value in figures.items():
            print(f"  {key.ljust(width)}  {value}")
    return 0 if figures["run_ok"] and figures["tornado_ok"] and figures["rerun_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
