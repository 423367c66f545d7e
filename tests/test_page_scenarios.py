"""The Scenario planner page as a planner uses it: AppTest runs of app.py switched to the page.

The page draws everything from one ``PlannerState`` (``st.session_state["scn_state"]``); every editable
widget's key carries the state's generation (``scn_<name>_<G>``, tables ``scn_<table>_<G>_<unit>``), so the
helpers below read the generation before each interaction. Expected figures come from the core alone
(``run_scenario`` on the offences ``demand_offences`` picks), formatted as the page formats them. The
browser run of the planner is tests/test_browser_planner.py.
"""

from __future__ import annotations

import copy
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from coverage import paths
from coverage.errors import InputError
from coverage.export import csv_bytes
from coverage.model import atlas_data
from coverage.outputs.scenario_charts import money
from coverage.planner import editing as tables
from coverage.planner.costing import run_scenario, with_deployments
from coverage.planner.demand import demand_offences
from coverage.planner.rules import load_rulebook
from coverage.planner.schema import load_preset, scenario_from_dict, scenario_to_dict, scenario_to_yaml
from coverage.planner.store import SQLiteScenarioStore
from ui import scenario_view as view

TIMEOUT = 120
PAGE = "app_pages/scenarios.py"
CHESHIRE, KENT, LANCASHIRE, CUMBRIA, DORSET = "E23000006", "E23000032", "E23000003", "E23000002", "E23000039"
WALES = ["W15000001", "W15000002", "W15000003", "W15000004"]
CASH = "Total cost, cash (nominal)"
PV = "Present value (2024/25 prices)"
UNITS = "Forces with a multi-agency unit"
V1 = paths.REPO_ROOT / "tests" / "fixtures" / "scenarios_v1"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def scenario_db(monkeypatch, tmp_path) -> Path:
    """Every test gets its own empty scenario store."""
    path = tmp_path / "scenarios.sqlite"
    monkeypatch.setenv("ATLAS_SCENARIO_DB", str(path))
    return path


@pytest.fixture(scope="module")
def atlas():
    return atlas_data.load_all()


@pytest.fixture(scope="module")
def existing(atlas) -> set[str]:
    return atlas_data.forces_with_multi_agency_unit(atlas.forces, atlas.register)


def costed(atlas, existing, scenario):
    """The core's result for a scenario, on the offences its referral rate is applied to."""
    offences = demand_offences(scenario, atlas.crime, atlas.indicators).offences
    return run_scenario(scenario, atlas.forces, offences, existing_units=existing)


def preset_data(preset: str = "cheshire_hru_like") -> dict:
    return scenario_to_dict(load_preset(preset))


def expected(atlas, existing, codes=(CHESHIRE,), *, preset="cheshire_hru_like", wave2=(), wave2_year=3, data=None):
    """The totals the page should show, from the core alone."""
    scenario = with_deployments(scenario_from_dict(data) if data else load_preset(preset), codes)
    if wave2:
        d = scenario_to_dict(scenario)
        uid = d["unit_models"][0]["id"]
        d["deployments"] += [{"forces": [c], "start_year_offset": wave2_year - 1, "unit_model": uid} for c in wave2]
        scenario = scenario_from_dict(d)
    return costed(atlas, existing, scenario).totals


def page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(PAGE)
    return at.run()


def state(at: AppTest):
    return at.session_state["scn_state"]


def key(at: AppTest, name: str) -> str:
    """A widget's key for the state on screen: scn_<name>_<generation>."""
    return f"scn_{name}_{state(at).generation}"


def table_key(at: AppTest, name: str) -> str:
    """An editable table's (or the ramp-up box's) key: scn_<name>_<generation>_<unit id>."""
    s = state(at)
    return f"scn_{name}_{s.generation}_{s.unit_id}"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def cash(at: AppTest) -> str:
    return metrics(at)[CASH]


def frame(at: AppTest, column: str) -> pd.DataFrame:
    """The last table on the page with this column."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[-1]


def problems(at: AppTest) -> pd.DataFrame:
    """The problems table shown under an error: columns Field / Where / Problem."""
    table = frame(at, "Problem")
    assert list(table.columns) == ["Field", "Where", "Problem"]
    return table


def qp(at: AppTest, name: str) -> list[str]:
    value = at.query_params.get(name, [])
    return list(value) if isinstance(value, (list, tuple)) else [value]


def texts(at: AppTest) -> str:
    return "\n".join(x.value for x in [*at.markdown, *at.caption, *at.subheader, *at.header])


def summary(at: AppTest) -> str:
    """The sticky one-line summary (the markdown inside the container keyed scn_summary)."""
    line = next((m.value for m in at.markdown if m.value.startswith("**") and " · cash **" in m.value), None)
    assert line, "no sticky summary"
    return line


def seed(at: AppTest, widget: str, edited=None, added=None, deleted=None) -> AppTest:
    """Edit a data editor as the browser does: its state holds the edited, added and deleted rows."""
    at.session_state[widget] = {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}
    return at.run()


def edit_roles(at: AppTest, **changes) -> AppTest:
    return seed(at, table_key(at, "roles"), **changes)


def edit_params(at: AppTest, edits: dict) -> AppTest:
    rows = list(tables.params_table(state(at).base, state(at).unit_index).index)
    return seed(at, table_key(at, "params"), {rows.index(k): v for k, v in edits.items()})


def place(at: AppTest, mode: str, forces: list[str] | None = None) -> AppTest:
    at.radio(key=key(at, "where")).set_value(mode).run()
    if forces is not None:
        name = {"list": "forces", "waves": "forces_w1", "shared": "shared"}[mode]
        at.multiselect(key=key(at, name)).set_value(forces).run()
    return at


def clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def on_screen(at: AppTest) -> dict:
    return dict(state(at).scenario)


# --------------------------------------------------------------------------------------------
# Default view, placement and the link
# --------------------------------------------------------------------------------------------


def test_default_view_shows_the_cores_totals_the_summary_and_the_link(atlas, existing):
    at = clean(page())
    assert at.title[0].value == "Scenario planner"
    t = expected(atlas, existing)
    shown = metrics(at)
    assert shown[CASH] == money(t["total_cost_nominal"])
    assert shown["Total cost, real (2024/25 prices)"] == money(t["total_cost_real"])
    assert shown[PV] == money(t["present_value"])
    assert shown["Staff, fully staffed (FTE)"] == f"{t['fte_total']:,.1f}"
    assert shown["Cost per referral, a year"] == money(t["cost_per_referral"], exact=True)
    assert shown["Cost per 100,000 aged 16+, a year"] == money(t["cost_per_100k_16plus"], exact=True)
    assert shown[UNITS] == "4 → 4"  # Cheshire already has one
    text = texts(at)
    assert "2024/25 prices" in text and "in cash" in text and "discounted at 3.5%" in text
    assert "Already has a multi-agency unit" in text
    assert "**Cost by year.** In cash, the cost goes from" in text
    # the sticky summary says the same cash total as the metric, and nothing has changed yet
    line = summary(at)
    assert f"cash **{shown[CASH]}**" in line and f"present value **{shown[PV]}**" in line
    assert "changed from the preset" not in line
    assert qp(at, "preset") == ["cheshire_hru_like"] and qp(at, "forces") == [CHESHIRE]
    assert not at.error


def test_choosing_forces_changes_the_totals_and_the_link(atlas, existing):
    at = page()
    at.selectbox(key=key(at, "force")).set_value(KENT).run()
    clean(at)
    assert cash(at) == money(expected(atlas, existing, [KENT])["total_cost_nominal"])
    assert metrics(at)[UNITS] == "4 → 5"
    assert qp(at, "forces") == [KENT]

    place(at, "list", [KENT, LANCASHIRE, CUMBRIA])
    clean(at)
    assert cash(at) == money(expected(atlas, existing, [KENT, LANCASHIRE, CUMBRIA])["total_cost_nominal"])
    assert metrics(at)[UNITS] == "4 → 7"
    assert qp(at, "where") == ["list"] and qp(at, "forces") == [KENT, LANCASHIRE, CUMBRIA]


def test_switching_placement_modes_keeps_what_was_chosen():
    at = page()
    at.selectbox(key=key(at, "force")).set_value(KENT).run()
    place(at, "list")
    assert at.multiselect(key=key(at, "forces")).value == [KENT]  # the list starts from the force chosen
    at.multiselect(key=key(at, "forces")).set_value([KENT, DORSET]).run()
    place(at, "one")
    assert at.selectbox(key=key(at, "force")).value == KENT
    place(at, "no_unit")
    place(at, "list")
    clean(at)
    assert at.multiselect(key=key(at, "forces")).value == [KENT, DORSET]


def test_every_force_without_a_unit_is_placed_saved_and_reopened_as_a_rule(atlas, existing):
    at = place(page(), "no_unit")
    clean(at)
    no_unit = sorted(set(atlas.forces["code"]) - existing)
    assert len(no_unit) == 39
    assert cash(at) == money(expected(atlas, existing, no_unit)["total_cost_nominal"])
    assert metrics(at)[UNITS] == "4 → 43"
    assert metrics(at)["People aged 16+ served by one"].endswith("→ 100%")
    assert on_screen(at)["placement"]["rule"] == "every_force_without_unit"

    save(at, "Everywhere else")
    stored = SQLiteScenarioStore().load("Everywhere else")
    assert stored.placement is not None and stored.placement.rule == "every_force_without_unit"
    assert stored.deployments == []
    again = open_saved(page(), "Everywhere else")
    assert again.radio(key=key(again, "where")).value == "no_unit"
    assert on_screen(again)["placement"]["rule"] == "every_force_without_unit"
    assert cash(again) == cash(at)


def test_waves_start_the_second_group_later(atlas, existing):
    at = place(page(), "waves", [KENT])
    at.multiselect(key=key(at, "wave2")).set_value([LANCASHIRE, CUMBRIA]).run()
    clean(at)
    first = expected(atlas, existing, [KENT], wave2=[LANCASHIRE, CUMBRIA], wave2_year=3)
    assert cash(at) == money(first["total_cost_nominal"])
    assert "from 2028/29" in texts(at)
    at.number_input(key=key(at, "wave2_year")).set_value(5).run()
    later = expected(atlas, existing, [KENT], wave2=[LANCASHIRE, CUMBRIA], wave2_year=5)
    assert cash(at) == money(later["total_cost_nominal"])
    assert later["total_cost_nominal"] < first["total_cost_nominal"]
    assert qp(at, "wave2") == [LANCASHIRE, CUMBRIA] and qp(at, "from") == ["5"]

    # the same force in both waves is refused, naming the field; the last good totals stay
    at.multiselect(key=key(at, "wave2")).set_value([LANCASHIRE, CUMBRIA, KENT]).run()
    clean(at)
    assert "not used" in at.error[0].value
    table = problems(at)
    assert "in both waves" in " ".join(table["Problem"])
    assert table["Where"].iloc[0] == "Where the units go"
    assert cash(at) == money(later["total_cost_nominal"])


def test_one_unit_for_several_forces_serves_the_four_welsh_forces():
    at = place(page(), "shared", WALES)
    at.text_input(key=key(at, "shared_name")).input("Wales-wide unit").run()
    clean(at)
    assert not at.error
    assert metrics(at)[UNITS] == "4 → 8"
    assert "**1 unit** in 4 force areas" in texts(at)
    assert "1 unit (Wales-wide unit) serving 4 force areas" in summary(at)
    units = frame(at, "Forces served")
    assert list(units["Unit"]) == ["Wales-wide unit"] and len(units["Forces served"].iloc[0].split(", ")) == 4
    assert on_screen(at)["deployments"] == [
        {"forces": WALES, "start_year_offset": 0, "unit_model": "cheshire_hru_like", "name": "Wales-wide unit"}
    ]
    assert set(frame(at, "Units serving it")["Code"]) == set(WALES)


def test_a_link_reproduces_the_view(atlas, existing):
    at = clean(page({"preset": "advocacy_only", "where": "list", "forces": [KENT, DORSET]}))
    assert cash(at) == money(expected(atlas, existing, [KENT, DORSET], preset="advocacy_only")["total_cost_nominal"])
    assert at.selectbox(key=key(at, "preset")).value == "advocacy_only"
    assert at.multiselect(key=key(at, "forces")).value == [KENT, DORSET]


def test_a_link_with_unknown_values_is_ignored_not_an_error(atlas, existing):
    at = clean(page({"preset": "<script>", "where": "everywhere", "forces": ["E23999999", "x"], "saved": "nope"}))
    assert cash(at) == money(expected(atlas, existing)["total_cost_nominal"])
    assert at.selectbox(key=key(at, "preset")).value == "cheshire_hru_like"
    assert "no saved scenario 'nope'" in at.error[0].value


def test_changing_the_preset_keeps_the_forces_and_clears_the_save_name(atlas, existing):
    at = place(page(), "list", [KENT, DORSET])
    at.text_input(key=key(at, "save_name")).input("My plan").run()
    at.selectbox(key=key(at, "preset")).set_value("met_stac_like").run()
    clean(at)
    assert cash(at) == money(expected(atlas, existing, [KENT, DORSET], preset="met_stac_like")["total_cost_nominal"])
    assert at.multiselect(key=key(at, "forces")).value == [KENT, DORSET]
    assert at.text_input(key=key(at, "save_name")).value == ""
    assert qp(at, "preset") == ["met_stac_like"]


def test_an_advocacy_only_service_is_costed_but_adds_no_multi_agency_unit(atlas, existing):
    at = place(page(), "list", [KENT, DORSET])
    at.selectbox(key=key(at, "preset")).set_value("advocacy_only").run()
    clean(at)
    assert cash(at) == money(expected(atlas, existing, [KENT, DORSET], preset="advocacy_only")["total_cost_nominal"])
    assert metrics(at)[UNITS] == "4 → 4"
    unit_name = load_preset("advocacy_only").unit_models[0].name[:20]
    assert any("Not a multi-agency unit" in c.value and unit_name in c.value for c in at.caption)


# --------------------------------------------------------------------------------------------
# Editing assumptions; bad values are refused and the last good scenario stays
# --------------------------------------------------------------------------------------------


def test_editing_a_salary_changes_the_totals_records_user_input_and_lists_the_change(atlas, existing):
    at = page()
    before = cash(at)
    edit_roles(at, edited={0: {"salary": 60_000}})
    clean(at)
    assert not at.error
    data = preset_data()
    data["unit_models"][0]["roles"][0]["salary"] = 60_000
    assert cash(at) == money(expected(atlas, existing, data=data)["total_cost_nominal"]) != before
    role = on_screen(at)["unit_models"][0]["roles"][0]
    assert role["user_input"] is True and role["assumption"] is True
    assert "salary 51,408 → 60,000" in role["note"]
    # the sticky summary and the expander say what changed from the preset, with was and now
    assert f"cash **{cash(at)}**" in summary(at) and "1 figure changed from the preset" in summary(at)
    assert [e.label for e in at.expander if e.label.startswith("What you changed")] == [
        "What you changed from the preset (1)"
    ]
    changes = frame(at, "Was")
    assert list(changes.columns) == ["Setting", "Was", "Now", "Change"]
    row = changes.iloc[0]
    assert "Detective sergeant" in row["Setting"] and "Salary" in row["Setting"]
    assert (row["Was"], row["Now"]) == ("£51,408", "£60,000")


def test_editing_a_salary_of_a_rules_derived_role_changes_its_on_cost_in_the_table():
    at = page()
    assert not state(at).base["unit_models"][0]["roles"][0].get("oncost_override")  # derived from the rules
    edit_roles(at, edited={0: {"salary": 60_000}})
    clean(at)
    role = on_screen(at)["unit_models"][0]["roles"][0]
    assert not role.get("oncost_override")  # still from the rules, so costed at the new salary's rate
    rate, basis = tables.role_oncost(role, int(on_screen(at)["start_year"]), load_rulebook())
    # what the table shows in that row: the editor's data with the browser's edits on top
    drawn = frame(at, "oncost_basis").copy()
    for row, cells in at.session_state[table_key(at, "roles")]["edited_rows"].items():
        for column, value in cells.items():
            drawn.loc[int(row), column] = value
    assert drawn.loc[0, "salary"] == 60_000
    assert drawn.loc[0, "oncost_rate"] == pytest.approx(rate * 100)
    assert "60,000" in drawn.loc[0, "oncost_basis"]


def test_editing_scenario_parameters_changes_present_value_and_records_user_input(atlas, existing):
    at = edit_params(page(), {"discount_rate": {"Value": 1.5}, "optimism_bias": {"Value": 20}})
    clean(at)
    data = preset_data()
    data["discount_rate"]["value"] = 0.015
    data["optimism_bias"]["value"] = 0.2
    assert metrics(at)[PV] == money(expected(atlas, existing, data=data)["present_value"])
    rate = on_screen(at)["discount_rate"]
    assert rate["user_input"] is True and rate["assumption"] is True
    assert "it was 3.5% (P014)" in rate["note"]
    assert "20% optimism bias" in texts(at)


def test_adding_and_deleting_roles():
    at = page()
    edit_roles(
        at,
        added=[
            {
                "role": "Analyst",
                "agency": "police",
                "pension_scheme": "police",
                "salary": 35_000,
                "oncost_rate": 30,
                "overhead_rate": 20,
                "fte_mode": "fixed",
                "fte": 0.5,
            }
        ],
        deleted=[7],
    )
    clean(at)
    assert not at.error
    roles = on_screen(at)["unit_models"][0]["roles"]
    names = [r["role"] for r in roles]
    assert names[-1] == "Analyst" and len(roles) == 8
    assert "Specialist CPS prosecutor" not in names
    assert roles[-1]["oncost_override"]["value"] == pytest.approx(0.3)
    assert roles[-1]["user_input"] is True


@pytest.mark.parametrize(
    "table, edit, field, where, message",
    [
        ("roles", {0: {"fte": -1}}, "unit_models[0].roles[0].fte", "Roles table, row 1", "must be between 0 and"),
        (
            "roles",
            {1: {"salary": 10_000_000}},
            "unit_models[0].roles[1].salary",
            "Roles table, row 2 (Detective constable), column “Salary (£ a year)”",
            "must be between £10,000 and £250,000",
        ),
        ("roles", {2: {"salary": None}}, "unit_models[0].roles[2].salary", "Roles table, row 3", "is blank"),
        ("roles", {3: {"role": None}}, "unit_models[0].roles[3].role", "Roles table, row 4", "is blank"),
        (
            "params",
            {"discount_rate": {"Value": 300}},
            "discount_rate",
            "Assumptions table, “Discount rate”",
            "must be between 0% and 20%",
        ),
        ("params", {"referral_rate": {"Value": None}}, "demand.referral_rate", "Assumptions table", "is blank"),
        ("params", {"horizon_years": {"Value": 2.5}}, "horizon_years", "Assumptions table", "must be a whole number"),
    ],
    ids=["fte-1", "salary10m", "blank-salary", "blank-role", "discount300", "blank-rate", "horizon2.5"],
)
def test_bad_values_are_refused_naming_the_field_and_cell_and_the_last_good_totals_stay(
    table, edit, field, where, message
):
    at = page()
    before, good = metrics(at), on_screen(at)
    edit_params(at, edit) if table == "params" else edit_roles(at, edited=edit)
    clean(at)
    assert "not used" in at.error[0].value and "last valid scenario" in at.error[0].value
    shown = problems(at)
    row = shown[shown["Field"].str.startswith(field)]
    assert not row.empty, shown.to_string()
    assert message in row["Problem"].iloc[0]
    assert row["Where"].iloc[0].startswith(where)
    assert metrics(at) == before
    assert on_screen(at) == good
    if table == "roles" and "salary" in field and edit[1 if 1 in edit else 2]["salary"]:
        # saving now is refused too: nothing invalid reaches the store
        save(at, "Broken")
        assert any("Not saved" in e.value for e in at.error)
        assert SQLiteScenarioStore().list() == []


def test_fixing_the_bad_value_brings_the_new_figures_back(atlas, existing):
    at = edit_roles(page(), edited={1: {"salary": 10_000_000}})
    assert at.error
    edit_roles(at, edited={1: {"salary": 50_000}})
    clean(at)
    assert not at.error
    data = preset_data()
    data["unit_models"][0]["roles"][1]["salary"] = 50_000
    assert cash(at) == money(expected(atlas, existing, data=data)["total_cost_nominal"])


def test_an_employer_ni_rate_typed_in_the_rules_table_raises_the_total(atlas, existing):
    at = page()
    before = on_screen(at)
    rows = list(frame(at, "Your value").index)
    seed(at, key(at, "rules"), {rows.index("employer_ni.rate"): {"Your value": 16}})
    clean(at)
    assert not at.error
    override = on_screen(at)["parameter_overrides"]["employer_ni.rate"]
    assert override[0]["value"] == pytest.approx(0.16)
    data = copy.deepcopy(before)
    data["parameter_overrides"] = on_screen(at)["parameter_overrides"]
    t = expected(atlas, existing, data=data)
    assert t["total_cost_nominal"] > expected(atlas, existing)["total_cost_nominal"]
    assert cash(at) == money(t["total_cost_nominal"])
    assert [r.get("oncost_override") for r in on_screen(at)["unit_models"][0]["roles"]] == [
        r.get("oncost_override") for r in before["unit_models"][0]["roles"]
    ]


def test_applying_the_referral_rate_to_the_latest_year_raises_referrals(atlas, existing):
    at = page()
    box = at.selectbox(key=key(at, "period"))
    assert box.value == "YE Dec 2018"
    before = frame(at, "Referrals a year")["Referrals a year"].max()
    box.select_index(0).run()  # "the latest year (YE Dec …)"
    clean(at)
    assert not at.error
    assert on_screen(at)["demand"]["referral_rate"]["offences_period"] is None
    after = frame(at, "Referrals a year")["Referrals a year"].max()
    assert after > before
    t = costed(atlas, existing, scenario_from_dict(on_screen(at))).totals
    assert cash(at) == money(t["total_cost_nominal"])
    assert "Offences the referral rate is applied to" in set(frame(at, "Was")["Setting"])


def test_is_it_worth_it_gives_the_break_even_per_referral_at_the_price_base():
    at = page()
    text = texts(at)
    assert "**Is it worth it?**" in text
    sentence = next(m.value for m in at.markdown if "Each referral would need to avert" in m.value)
    assert "2024/25 prices" in sentence
    costs = frame(at, "Published cost of harm")
    assert "At 2024/25 prices £" in costs.columns and len(costs) >= 1
    assert costs["Source"].str.len().gt(0).all()


def test_ramp_up_is_typed_as_percentages_and_a_bad_one_keeps_the_totals(atlas, existing):
    at = page()
    assert at.text_input(key=table_key(at, "ramp")).value == "50, 80"
    at.text_input(key=table_key(at, "ramp")).input("100").run()
    clean(at)
    assert not at.error
    ramp = on_screen(at)["unit_models"][0]["ramp_up"]
    assert ramp["value"] == [1.0] and ramp["user_input"] is True and "50%, 80%" in ramp["note"]
    data = preset_data()
    data["unit_models"][0]["ramp_up"] = ramp
    full = money(expected(atlas, existing, data=data)["total_cost_nominal"])
    assert cash(at) == full
    at.text_input(key=table_key(at, "ramp")).input("0, 40").run()
    clean(at)
    assert "not used" in at.error[0].value
    assert cash(at) == full
    row = problems(at).iloc[0]
    assert "first year" in row["Problem"] and row["Where"] == "Assumptions tab, “Ramp-up” box"


@pytest.mark.parametrize("typed", ["fifty", "50, 150", ", ".join(["50"] * 11)])
def test_a_bad_ramp_up_is_refused_naming_the_box(typed):
    data = preset_data()
    with pytest.raises(InputError) as caught:
        tables.edited_scenario(
            data, unit_index=0, params=None, roles=None, fixed=None, deployments=data["deployments"], ramp=typed
        )
    rows = tables.problem_rows(caught.value, data)
    assert set(rows["Where"]) == {"Assumptions tab, “Ramp-up” box"}


@pytest.mark.parametrize(
    "preset", ["cheshire_hru_like", "hampshire_masp_like", "london_2020_21_grants", "met_stac_like", "advocacy_only"]
)
def test_unedited_tables_give_back_the_same_scenario(preset):
    """What the page does on every run with nothing typed: draw the tables, read them back."""
    data = preset_data(preset)
    placement = tables.placement_from_scenario(data)
    deployments, rule, placement_problems = tables.deployments_for(placement, data["unit_models"][0]["id"])
    scenario = tables.edited_scenario(
        data,
        unit_index=0,
        params=tables.params_table(data),
        roles=tables.roles_table(data),
        fixed=tables.fixed_table(data),
        ramp=tables.ramp_text(data),
        deployments=deployments,
        placement_rule=rule,
        placement_problems=placement_problems,
        rules=tables.rules_table(data),
        offences_period=((data.get("demand") or {}).get("referral_rate") or {}).get("offences_period", False),
    )
    assert scenario_to_dict(scenario) == data


def test_problems_are_located_on_the_page():
    data = preset_data()
    roles = tables.roles_table(data)
    roles.loc[2, "caseload_per_fte"] = None  # a demand role with no caseload
    roles.loc[0, "oncost_rate"] = 95
    with pytest.raises(InputError) as caught:
        tables.edited_scenario(
            data, unit_index=0, params=None, roles=roles, fixed=None, deployments=data["deployments"]
        )
    rows = tables.problem_rows(caught.value, data)
    where = {field.removesuffix(".value"): place for field, place in zip(rows["Field"], rows["Where"], strict=True)}
    assert where["unit_models[0].roles[0].oncost_override"] == (
        "Roles table, row 1 (Detective sergeant (unit lead)), column “On-costs (% of salary)”"
    )
    assert where["unit_models[0].roles[2]"] == "Roles table, row 3 (Probation officer)"
    assert tables.where_on_page(("deployments", 3, "forces")) == "Where the units go"
    assert tables.where_on_page(("unit_models", 0, "non_pay")) == "Assumptions table, “Non-pay per unit”"
    assert tables.where_on_page(("parameter_overrides", "employer_ni.rate")) == "Assumptions tab, “Rules” table"


# --------------------------------------------------------------------------------------------
# Save, list, reopen, duplicate, delete, restore
# --------------------------------------------------------------------------------------------


def save(at: AppTest, name: str) -> AppTest:
    at.text_input(key=key(at, "save_name")).input(name).run()
    return at.button(key="scn_save").click().run()


def open_saved(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="scn_saved_pick").set_value(name).run()
    return clean(at.button(key="scn_open").click().run())


def test_save_list_reopen_duplicate_restore_and_delete():
    at = clean(save(page(), "Plan A"))
    assert "Saved “Plan A” as version 1." in at.success[0].value
    assert at.text_input(key=key(at, "save_name")).value == "Plan A"
    cheshire_cash = cash(at)

    at.selectbox(key=key(at, "force")).set_value(KENT).run()
    kent_cash = cash(at)
    save(at, "Plan A")
    assert "version 2" in at.success[0].value
    listing = frame(at, "Versions")
    assert list(listing["Name"]) == ["Plan A"] and list(listing["Versions"]) == [2]
    assert qp(at, "saved") == ["Plan A"] and "preset" not in at.query_params

    # reopen in a fresh session (another planner, same store): the latest version
    other = open_saved(page(), "Plan A")
    assert cash(other) == kent_cash
    assert "Opened “Plan A”" in other.success[0].value
    assert other.text_input(key=key(other, "save_name")).value == "Plan A"
    assert cash(clean(page({"saved": "Plan A"}))) == kent_cash  # a link to it reopens it

    # duplicate; a name already taken is refused
    other.text_input(key="scn_dup_name").input("Plan B").run()
    other.button(key="scn_duplicate").click().run()
    assert "Copied “Plan A” to “Plan B”" in other.success[0].value
    assert [i.name for i in SQLiteScenarioStore().list()] == ["Plan A", "Plan B"]
    other.text_input(key="scn_dup_name").input("Plan B").run()
    other.button(key="scn_duplicate").click().run()
    assert "already exists" in other.error[0].value

    # restore version 1 of Plan A: it becomes version 3 and is opened
    other.selectbox(key="scn_saved_pick").set_value("Plan A").run()
    other.selectbox(key="scn_version_pick").set_value(1).run()
    clean(other.button(key="scn_restore").click().run())
    assert "Version 1 of “Plan A” is current again (saved as version 3)" in other.success[0].value
    assert cash(other) == cheshire_cash
    assert [v.version for v in SQLiteScenarioStore().versions("Plan A")] == [1, 2, 3]

    # delete asks first, then removes every version; the scenario stays on screen
    other.selectbox(key="scn_saved_pick").set_value("Plan A").run()
    other.button(key="scn_delete").click().run()
    confirm = other.warning[0].value
    assert confirm.startswith("Delete “Plan A”") and "3 versions?" in confirm
    clean(other.button(key="scn_delete_yes").click().run())
    assert "Deleted “Plan A” (3 versions)" in other.success[0].value
    assert [i.name for i in SQLiteScenarioStore().list()] == ["Plan B"]
    assert cash(other) == cheshire_cash


def test_a_damaged_store_row_is_listed_not_fatal(scenario_db):
    SQLiteScenarioStore().save("Good", load_preset("advocacy_only"))
    with sqlite3.connect(scenario_db) as con:
        con.execute("INSERT INTO scenarios VALUES ('personal', 'Bad', 'local', '2026-01-01', NULL, NULL)")
        con.execute(
            "INSERT INTO scenario_versions VALUES ('personal', 'Bad', 1, '2026-01-01', 'local', 2, 'x', "
            "'kind: nonsense', '')"
        )
    at = clean(page())
    listing = frame(at, "Versions").set_index("Name")
    assert set(listing.index) == {"Bad", "Good"}
    assert listing.loc["Bad", "Valid"].startswith("no:") and listing.loc["Good", "Valid"] == "yes"
    before = cash(at)
    open_saved(at, "Bad")
    assert "not a scenario file" in at.error[0].value
    assert cash(at) == before


# --------------------------------------------------------------------------------------------
# YAML download and upload
# --------------------------------------------------------------------------------------------


@pytest.fixture
def media(monkeypatch) -> dict[str, bytes]:
    """What the page hands to download buttons, by file name."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, (bytes, str)):
            files[filename] = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return files


def upload(at: AppTest, name: str, content: bytes, mime: str = "application/x-yaml") -> AppTest:
    uploader = next(u for u in at.get("file_uploader") if u.key == "scn_upload")
    return uploader.set_value((name, content, mime)).run()


def two_unit_file() -> bytes:
    data = preset_data()
    second = copy.deepcopy(data["unit_models"][0])
    second.update(id="second_unit", name="Second unit")
    second["ramp_up"] = {"value": [0.25], "sources": [], "assumption": True, "note": "a quarter in year one"}
    data["unit_models"].append(second)
    return scenario_to_yaml(scenario_from_dict(data)).encode()


def test_switching_unit_model_never_carries_one_units_edits_into_another():
    at = clean(upload(page(), "two_units.yaml", two_unit_file()))
    at.text_input(key=table_key(at, "ramp")).input("100").run()
    at.selectbox(key=key(at, "unit")).set_value("second_unit").run()
    clean(at)
    assert state(at).unit_id == "second_unit"
    assert at.text_input(key=table_key(at, "ramp")).value == "25"  # its own ramp-up, not the first unit's edit
    first, second = on_screen(at)["unit_models"]
    assert second["ramp_up"]["value"] == [0.25] and not second["ramp_up"].get("user_input")
    assert first["ramp_up"]["value"] == [1.0]  # the edit stays with the unit it was typed for
    assert any("Now editing “Second unit”" in i.value for i in at.info)


def test_yaml_download_and_upload_round_trip(media):
    at = place(page(), "waves", [KENT])
    at.multiselect(key=key(at, "wave2")).set_value([DORSET]).run()
    edit_roles(at, edited={0: {"salary": 55_555}})
    assert not at.error
    shown = metrics(at)
    name = next(n for n in media if n.endswith(".yaml"))
    content = media[name]
    assert content.decode() == scenario_to_yaml(scenario_from_dict(on_screen(at)))
    second = yaml.safe_load(content)["deployments"][1]
    assert (second["forces"], second["start_year_offset"], second["unit_model"]) == ([DORSET], 2, "cheshire_hru_like")

    elsewhere = clean(upload(page(), name, content))
    assert f"Opened {name}".replace("_", "\\_") in elsewhere.success[0].value
    assert metrics(elsewhere) == shown
    assert elsewhere.radio(key=key(elsewhere, "where")).value == "waves"
    assert elsewhere.multiselect(key=key(elsewhere, "wave2")).value == [DORSET]
    assert on_screen(elsewhere) == on_screen(at)
    # an opened file is not a preset: the preset box shows none, the link names none, Save starts from its name
    assert elsewhere.selectbox(key=key(elsewhere, "preset")).value is None
    assert "preset" not in elsewhere.query_params
    assert elsewhere.text_input(key=key(elsewhere, "save_name")).value == yaml.safe_load(content)["name"]


def test_a_v1_file_uploads_and_costs_what_it_cost_before():
    path = V1 / "cheshire_hru_like.yaml"
    totals = json.loads((V1 / "expected_totals.json").read_text())[path.name]
    at = clean(upload(page(), path.name, path.read_bytes()))
    assert not at.error
    shown = metrics(at)
    assert shown[CASH] == money(totals["total_cost_nominal"])
    assert shown["Total cost, real (2024/25 prices)"] == money(totals["total_cost_real"])
    assert shown[PV] == money(totals["present_value"])
    assert shown["Staff, fully staffed (FTE)"] == f"{totals['fte_total']:,.1f}"
    assert on_screen(at)["schema_version"] == 2


def _cheshire_yaml(**changes) -> bytes:
    data = preset_data()
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False).encode()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("scenario.yaml", "kind: scenario\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, content, needle",
    [
        ("broken.yaml", b"name: [unclosed\nkind: scenario\n", "is not valid YAML at line"),
        ("future.yaml", _cheshire_yaml(schema_version=3), "scenario schema version 3, but this app reads up to"),
        ("register.csv", paths.SERVICES_CSV.read_bytes()[:4000], "is a CSV table"),
        ("plan.zip", _zip(), "is a zip or Excel file"),
        ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a UTF-8 text file"),
        ("bad_values.yaml", _cheshire_yaml(discount_rate=3.0), "discount_rate: must be between 0% and 20%"),
        ("boundaries.geojson", b'{"type": "FeatureCollection", "features": []}', "GeoJSON"),
        (
            "unknown_force.yaml",
            _cheshire_yaml(deployments=[{"forces": ["E23000099"], "unit_model": "cheshire_hru_like"}]),
            "E23000099",
        ),
    ],
    ids=["malformed", "newer-schema", "csv", "zip", "binary", "out-of-range", "wrong-kind", "unknown-force"],
)
def test_unusable_uploads_get_a_clear_message_and_the_scenario_stays(name, content, needle):
    at = page()
    before, good = metrics(at), on_screen(at)
    clean(upload(at, name, content))
    assert f"{name.replace('_', chr(92) + '_')} cannot be opened" in at.error[-1].value
    table = problems(at)
    assert needle in " ".join(table["Field"] + ": " + table["Problem"])
    assert set(table["Where"]) == {f"File {name}"}
    assert metrics(at) == before and on_screen(at) == good
    assert state(at).origin.kind == "preset"


def test_a_50_mb_upload_is_refused_before_it_is_read():
    at = clean(upload(page(), "huge.yaml", b"x" * 50_000_000))
    assert "is 50.0 MB; a scenario file is at most 1 MB" in " ".join(problems(at)["Problem"])
    assert state(at).origin.kind == "preset"


# --------------------------------------------------------------------------------------------
# Compare up to four
# --------------------------------------------------------------------------------------------


def test_compare_up_to_four_scenarios_and_a_fifth_is_refused_politely(atlas, existing):
    at = page()
    for code in (CHESHIRE, KENT, LANCASHIRE, CUMBRIA):
        at.selectbox(key=key(at, "force")).set_value(code).run()
        clean(at.button(key="scn_compare_add").click().run())
    table = next(d.value for d in at.dataframe if "Present value" in list(d.value.index))
    assert table.shape[1] == 4
    column = next(c for c in table.columns if "Kent" in c)
    assert table.loc["Present value", column] == money(expected(atlas, existing, [KENT])["present_value"], exact=True)
    assert table.loc["Forces with a unit", column] == "4 → 5"

    at.selectbox(key=key(at, "force")).set_value(DORSET).run()
    clean(at.button(key="scn_compare_add").click().run())
    refusal = next(w.value for w in at.warning if "already holds" in w.value)
    assert "already holds 4 scenarios" in refusal and "Remove one" in refusal
    assert len(state(at).compare) == 4

    # the same scenario twice is not added again
    at.button(key="scn_compare_remove_3").click().run()
    at.selectbox(key=key(at, "force")).set_value(KENT).run()
    at.button(key="scn_compare_add").click().run()
    assert any("already in the comparison" in i.value for i in at.info)
    assert len(state(at).compare) == 3
    at.button(key="scn_compare_clear").click().run()
    assert state(at).compare == ()


def test_a_saved_scenario_can_be_added_to_the_comparison():
    SQLiteScenarioStore().save("Advocacy in Kent", with_deployments(load_preset("advocacy_only"), [KENT]))
    at = page()
    at.selectbox(key="scn_compare_saved").set_value("Advocacy in Kent").run()
    clean(at.button(key="scn_compare_add_saved").click().run())
    assert [e.label for e in state(at).compare] == ["Advocacy in Kent"]
    table = next(d.value for d in at.dataframe if "Present value" in list(d.value.index))
    assert list(table.columns) == ["Advocacy in Kent"]


# --------------------------------------------------------------------------------------------
# Exports: the workbook, and CSVs that are the tables as shown
# --------------------------------------------------------------------------------------------


def test_results_workbook_has_inputs_results_and_sources(atlas, existing):
    from openpyxl import load_workbook

    result = costed(atlas, existing, with_deployments(load_preset("cheshire_hru_like"), [KENT]))
    book = load_workbook(io.BytesIO(view.xlsx_bytes(result)))
    assert book.sheetnames == ["Inputs", "Results", "Sources"]


def test_csv_downloads_are_the_tables_as_shown_and_neutralise_formulas(atlas, existing):
    at = clean(page())
    result = costed(atlas, existing, scenario_from_dict(on_screen(at)))
    for column, shown in (("Year", view.shown_by_year), ("Units serving it", view.shown_by_force)):
        on_page = frame(at, column)
        written = pd.read_csv(io.BytesIO(csv_bytes(shown(result))), encoding="utf-8-sig")
        assert list(written.columns) == list(on_page.columns)  # the on-screen column names
        pd.testing.assert_frame_equal(written, on_page.reset_index(drop=True), check_dtype=False)
    assert list(view.shown_by_role(result).columns)[:3] == ["Role", "Agency", "FTE"]

    bad = pd.DataFrame({"Role": ['=HYPERLINK("x")', "Nurse"], "FTE": [1.0, -2.0]})
    text = csv_bytes(bad).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "-2.0" in text  # numbers stay numbers
