"""Scenario schema version 2: migration from version 1, on-costs from the dated rules, regional units,
warnings, placement rules, the 8Q referral rate, and the planner's state."""

from __future__ import annotations

import copy
import datetime
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage import paths
from coverage.errors import InputError, path_text, problems_of
from coverage.model.demand import read_recorded_crime
from coverage.model.indicators import read_indicators
from coverage.planner import state as planner
from coverage.planner.costing import compile_scenario, run_scenario
from coverage.planner.demand import demand_offences
from coverage.planner.editing import Placement, roles_table, where_on_page
from coverage.planner.migrate import OVERRIDE_NOTE, V1_PENSION_BY_AGENCY, migrate_v1
from coverage.planner.rules import BANDED_SCHEMES, PENSION_SCHEMES, load_rulebook, oncost, rule_date
from coverage.planner.schema import (
    load_preset,
    load_scenario_file,
    load_scenario_text,
    preset_ids,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    scenario_to_yaml,
)
from coverage.planner.store import SQLiteScenarioStore

V1_DIR = Path(__file__).parent / "fixtures" / "scenarios_v1"
V1_FILES = sorted(V1_DIR.glob("*.yaml"))
EXPECTED = json.loads((V1_DIR / "expected_totals.json").read_text())
TOTALS = ("total_cost_nominal", "total_cost_real", "present_value", "fte_total", "steady_annual_cost_real")

CHESHIRE, MET, CITY, KENT, HAMPSHIRE = "E23000006", "E23000001", "E23000034", "E23000032", "E23000030"
ISAC = 6  # the Cheshire preset's advocate: the one role with a hand-set on-cost


@pytest.fixture(scope="module")
def crime(forces):
    return read_recorded_crime(paths.DATA_DIR / "indicators" / "recorded_crime.csv", force_codes=set(forces["code"]))


@pytest.fixture(scope="module")
def indicators(forces):
    return read_indicators(paths.DATA_DIR / "indicators" / "indicators.csv", force_codes=set(forces["code"]))


@pytest.fixture(scope="module")
def offences_8q_2018(crime, indicators):
    return demand_offences(load_preset("cheshire_hru_like"), crime, indicators).offences


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


@pytest.fixture
def cheshire() -> dict:
    return scenario_to_dict(load_preset("cheshire_hru_like"))


def _refused(data, where="test.yaml") -> InputError:
    with pytest.raises(InputError) as info:
        scenario_from_dict(data, where=where)
    return info.value


def _located(error: InputError) -> dict[str, str]:
    return {path_text(p.path): p.message for p in problems_of(error)}


def _costed(scenario, forces, crime, indicators, **kwargs):
    return run_scenario(scenario, forces, demand_offences(scenario, crime, indicators).offences, **kwargs)


# --------------------------------------------------------------------------------------------
# Migration: schema 1 files open, and cost exactly what they cost before
# --------------------------------------------------------------------------------------------


def test_the_v1_fixtures_are_the_five_presets_with_their_totals():
    assert [f.name for f in V1_FILES] == sorted(EXPECTED) and len(V1_FILES) == 5


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.stem)
def test_a_v1_file_opens_migrates_and_keeps_its_totals(path, forces, crime, indicators):
    raw = yaml.safe_load(path.read_text())
    assert raw["schema_version"] == 1
    scenario = load_scenario_file(path)
    assert scenario.schema_version == 2
    result = _costed(scenario, forces, crime, indicators)
    for key in TOTALS:
        assert result.totals[key] == pytest.approx(EXPECTED[path.name][key], rel=1e-6, abs=1e-9), key
    # one unit per schema 1 deployment, in the force it named
    assert [d.forces for d in scenario.deployments] == [[d["force_code"]] for d in raw["deployments"]]
    rate = raw.get("demand", {}) and raw["demand"].get("referral_rate")
    if rate:
        migrated = scenario.demand.referral_rate
        assert migrated.offence_code == "stalking_harassment_group" and migrated.offences_period == "YE Dec 2023"


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.stem)
def test_hand_set_v1_oncost_rates_become_overrides(path):
    raw = yaml.safe_load(path.read_text())
    scenario = load_scenario_file(path)
    hand_set = 0
    for unit_raw, unit in zip(raw["unit_models"], scenario.unit_models, strict=True):
        for role_raw, role in zip(unit_raw.get("roles") or [], unit.roles, strict=True):
            assert role.role == role_raw["role"]
            if "oncost_rate" in role_raw:
                hand_set += 1
                assert role.oncost_override is not None
                assert role.oncost_override.value == role_raw["oncost_rate"]
                assert role.oncost_override.note == OVERRIDE_NOTE
                assert role.oncost_override.sources == role.sources
            assert role.pension_scheme == V1_PENSION_BY_AGENCY[role_raw["agency"]]
    assert hand_set == sum(len(u.get("roles") or []) for u in raw["unit_models"])


def test_migration_is_pure_and_moves_source_text_into_ids():
    raw = yaml.safe_load((V1_DIR / "cheshire_hru_like.yaml").read_text())
    before = copy.deepcopy(raw)
    out = migrate_v1(raw)
    assert raw == before  # the input is not changed
    assert out["schema_version"] == 2
    assert out["discount_rate"]["sources"] == ["P014"] and "source" not in out["discount_rate"]
    assert out["deployments"] == [{"forces": [CHESHIRE], "start_year_offset": 0, "unit_model": "cheshire_hru_like"}]
    lead = out["unit_models"][0]["roles"][0]
    assert lead["sources"] == ["S054", "S154", "P005", "P007"]
    assert "S054 (DS lead)" in lead["note"]  # the words beside the ids are kept


def test_a_v1_scenario_saved_in_a_store_still_opens(tmp_path, forces, crime, indicators):
    store = SQLiteScenarioStore(tmp_path / "scenarios.sqlite")
    v1_text = (V1_DIR / "cheshire_hru_like.yaml").read_text()
    migrated = load_scenario_text(v1_text)
    assert store.save("Migrated Cheshire", migrated) == 1
    # a version written by the previous release: the v1 YAML text, stored as schema version 1
    with sqlite3.connect(tmp_path / "scenarios.sqlite") as con:
        con.execute(
            "INSERT INTO scenarios (workspace, name, owner, created_at) VALUES ('personal', 'Old Cheshire', "
            "'local', '2025-01-01T00:00:00+00:00')"
        )
        con.execute(
            "INSERT INTO scenario_versions (workspace, name, version, created_at, saved_by, schema_version, hash, "
            "body, note) VALUES ('personal', 'Old Cheshire', 1, '2025-01-01T00:00:00+00:00', 'local', 1, 'v1', ?, '')",
            (v1_text,),
        )
    listed = {info.name: info for info in store.list()}
    assert listed["Old Cheshire"].ok and listed["Old Cheshire"].schema_version == 1
    assert listed["Migrated Cheshire"].ok and listed["Migrated Cheshire"].schema_version == 2
    old = store.load("Old Cheshire")
    assert old.schema_version == 2 and old == migrated
    assert store.load("Migrated Cheshire") == migrated
    result = _costed(old, forces, crime, indicators)
    assert result.totals["present_value"] == pytest.approx(EXPECTED["cheshire_hru_like.yaml"]["present_value"])
    # saving it again writes a version 2 text that still costs the same
    assert store.save("Old Cheshire", old) == 2
    with sqlite3.connect(tmp_path / "scenarios.sqlite") as con:
        version, body = con.execute(
            "SELECT schema_version, body FROM scenario_versions WHERE name = 'Old Cheshire' AND version = 2"
        ).fetchone()
    assert version == 2 and yaml.safe_load(body)["schema_version"] == 2
    assert scenario_hash(store.load("Old Cheshire")) == scenario_hash(old)


# --------------------------------------------------------------------------------------------
# On-costs from the dated rules
# --------------------------------------------------------------------------------------------

# every scheme with a shipped rate (the LGPS rate is set fund by fund, so it needs an override)
SCHEMES = [s for s in PENSION_SCHEMES if s == "none" or load_rulebook().parameter(f"employer_pension.{s}").values]
PROPS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _roles_scenario(roles: list[dict], start_year: int, horizon: int = 6) -> dict:
    data = scenario_to_dict(load_preset("met_stac_like"))  # fixed posts only
    unit = data["unit_models"][0]
    template = unit["roles"][0]
    unit["roles"] = [
        {**template, "role": f"Role {i}", "salary": r["salary"], "pension_scheme": r["scheme"], "fte": 1.0}
        for i, r in enumerate(roles)
    ]
    for role in unit["roles"]:
        role.pop("oncost_override", None)
    data["start_year"], data["horizon_years"] = start_year, horizon
    return data


role_specs = st.lists(
    st.fixed_dictionaries({"salary": st.floats(10_000, 250_000, allow_nan=False), "scheme": st.sampled_from(SCHEMES)}),
    min_size=1,
    max_size=4,
)


@PROPS
@given(
    roles=role_specs,
    pick=st.integers(0, 3),
    raise_by=st.floats(0.01, 100_000, allow_nan=False),
    start=st.integers(2024, 2032),
)
def test_property_a_higher_salary_never_lowers_that_roles_oncost_in_any_year(
    forces, book, roles, pick, raise_by, start
):
    """As a share of salary for a flat-rate scheme (and a banded one up to its upper limit); in pounds for all
    (above the auto-enrolment upper limit the pension in pounds is capped, so its share falls: by design)."""
    data = _roles_scenario(roles, start)
    before = compile_scenario(scenario_from_dict(data), forces, {MET: 1_000})
    k = pick % len(roles)
    role = data["unit_models"][0]["roles"][k]
    old_salary = role["salary"]
    role["salary"] = new_salary = min(old_salary + raise_by, 250_000)
    after = compile_scenario(scenario_from_dict(data), forces, {MET: 1_000})
    assert (after.oncost[k] * new_salary >= before.oncost[k] * old_salary).all()
    scheme = role["pension_scheme"]
    if scheme in BANDED_SCHEMES:
        upper = np.asarray(
            [book.value(f"employer_pension.{scheme}_upper_limit", rule_date(int(y))) for y in before.years]
        )
        within = new_salary <= upper
        assert (after.oncost[k][within] >= before.oncost[k][within]).all()
    else:
        assert (after.oncost[k] >= before.oncost[k]).all()
    # one line per role, then the unit's non-pay (no on-cost)
    assert before.oncost.shape == after.oncost.shape == (len(roles) + 1, 6)
    assert list(before.is_staff) == [True] * len(roles) + [False]
    others = [i for i in range(len(roles) + 1) if i != k]
    assert np.array_equal(after.oncost[others], before.oncost[others])  # the other lines are untouched
    assert (before.oncost[-1] == 0).all()


@PROPS
@given(roles=role_specs, start=st.integers(2024, 2032))
def test_property_derived_oncosts_equal_the_rules(forces, book, roles, start):
    compiled = compile_scenario(scenario_from_dict(_roles_scenario(roles, start)), forces, {MET: 1_000})
    for i, r in enumerate(roles):
        for t, year in enumerate(compiled.years):
            expected = oncost(book, r["scheme"], r["salary"], int(year)).rate
            assert compiled.oncost[i, t] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def _with_hand_set_isac(data: dict) -> dict:
    data["unit_models"][0]["roles"][ISAC]["oncost_override"] = {
        "value": 0.1462,
        "sources": ["S163", "P005"],
        "assumption": True,
        "note": "hand-set for the test",
    }
    return data


def test_banded_oncosts_are_exactly_the_rules_and_never_fall_within_the_band(forces, book):
    """The auto-enrolment share is worked out as rules.oncost works it out, to the last bit, so a salary one
    ulp higher never gets a lower rate (rate × (min(s, upper) − lower) ÷ s can fall)."""
    lower = book.value("employer_pension.auto_enrolment_lower_limit", rule_date(2026))
    upper = book.value("employer_pension.auto_enrolment_upper_limit", rule_date(2026))
    salaries = np.random.default_rng(7).uniform(max(lower, 10_000), upper, 200)
    pairs = [(float(x), float(np.nextafter(x, np.inf))) for x in salaries]
    compiled = [
        compile_scenario(
            scenario_from_dict(_roles_scenario([{"salary": s, "scheme": "auto_enrolment"} for s in chunk], 2026, 1)),
            forces,
            {MET: 1_000},
        ).oncost[: len(chunk), 0]
        for chunk in ([s for pair in pairs[i : i + 40] for s in pair] for i in range(0, len(pairs), 40))
    ]
    rates = np.concatenate(compiled)
    flat = [s for pair in pairs for s in pair]
    assert list(rates) == [oncost(book, "auto_enrolment", s, 2026).rate for s in flat]
    assert (rates[1::2] >= rates[0::2]).all()


def test_cheshire_preset_oncosts_by_year(cheshire, forces, book, offences_8q_2018):
    compiled = compile_scenario(load_preset("cheshire_hru_like"), forces, offences_8q_2018)
    ni = 0.15  # employer NI on pay above £5,000 (from 6 April 2025)
    lead = 0.353 + ni * (1 - 5_000 / 51_408)  # police pension on the whole salary
    assert compiled.oncost[0] == pytest.approx([lead] * 10, rel=1e-12)
    assert compiled.oncost[0, 0] == pytest.approx(oncost(book, "police", 51_408, 2026).rate, rel=1e-12)
    isac = load_preset("cheshire_hru_like").unit_models[0].roles[ISAC]
    assert isac.oncost_override is None and isac.salary == 22_221
    expected = oncost(book, isac.pension_scheme, 22_221, 2026).rate
    assert compiled.oncost[ISAC] == pytest.approx([expected] * 10, rel=1e-12)
    if isac.pension_scheme == "auto_enrolment":  # 3% on qualifying earnings, £6,240 to £50,270
        assert expected == pytest.approx(0.03 * (22_221 - 6_240) / 22_221 + ni * (1 - 5_000 / 22_221), rel=1e-12)
    # a hand-set rate replaces the rules in every year
    hand_set = compile_scenario(scenario_from_dict(_with_hand_set_isac(cheshire)), forces, offences_8q_2018)
    assert list(hand_set.oncost[ISAC]) == [0.1462] * 10
    assert np.array_equal(np.delete(hand_set.oncost, ISAC, axis=0), np.delete(compiled.oncost, ISAC, axis=0))


NI_16 = {"employer_ni.rate": [{"from": "2027-04-06", "value": 0.16, "note": "planner's test: 16% from 2027"}]}


def test_a_rule_override_changes_derived_oncosts_from_its_year_only(cheshire, forces, book, offences_8q_2018):
    _with_hand_set_isac(cheshire)
    base = compile_scenario(scenario_from_dict(cheshire), forces, offences_8q_2018)
    cheshire["parameter_overrides"] = NI_16
    changed_scenario = scenario_from_dict(cheshire)
    changed = compile_scenario(changed_scenario, forces, offences_8q_2018)
    years = list(changed.years)
    assert years[:2] == [2026, 2027] and rule_date(2027) == datetime.date(2027, 4, 6)
    derived = [j for j, r in enumerate(changed_scenario.unit_models[0].roles) if r.oncost_override is None]
    assert len(derived) == 7
    for j in derived:
        assert changed.oncost[j, 0] == base.oncost[j, 0]  # 2026/27: the shipped 15%
        assert (changed.oncost[j, 1:] > base.oncost[j, 1:]).all()  # 2027/28 on: 16%
        salary = changed.salary[j]
        assert changed.oncost[j, 1:] - base.oncost[j, 1:] == pytest.approx([0.01 * (1 - 5_000 / salary)] * 9)
    assert np.array_equal(changed.oncost[ISAC], base.oncost[ISAC])  # an override role keeps its rate
    # the same as costing with a rule book that has the override
    overridden = book.with_overrides({"employer_ni.rate": [(datetime.date(2027, 4, 6), 0.16, "test")]})
    del cheshire["parameter_overrides"]
    direct = compile_scenario(scenario_from_dict(cheshire), forces, offences_8q_2018, rules=overridden)
    assert np.allclose(direct.oncost, changed.oncost, rtol=1e-14, atol=0)
    for j in derived:
        role = changed_scenario.unit_models[0].roles[j]
        assert changed.oncost[j, 3] == pytest.approx(oncost(overridden, role.pension_scheme, role.salary, 2029).rate)
    totals_before = run_scenario(scenario_from_dict(cheshire), forces, offences_8q_2018).by_year
    totals_after = run_scenario(changed_scenario, forces, offences_8q_2018).by_year
    assert totals_after["cost_real"].iloc[0] == totals_before["cost_real"].iloc[0]
    assert (totals_after["cost_real"].iloc[1:].to_numpy() > totals_before["cost_real"].iloc[1:].to_numpy()).all()


def test_an_override_survives_yaml_and_is_shown_as_the_planners_value(cheshire):
    cheshire["parameter_overrides"] = NI_16
    again = load_scenario_text(scenario_to_yaml(scenario_from_dict(cheshire)))
    (override,) = again.parameter_overrides["employer_ni.rate"]
    assert override.from_ == datetime.date(2027, 4, 6) and override.value == 0.16


# --------------------------------------------------------------------------------------------
# Bad input is refused with the field named
# --------------------------------------------------------------------------------------------


def test_an_unknown_pension_scheme_in_a_v2_file_names_the_role(cheshire):
    cheshire["unit_models"][0]["roles"][3]["pension_scheme"] = "teachers"
    with pytest.raises(InputError) as info:
        load_scenario_text(yaml.safe_dump(cheshire), where="plan.yaml")
    found = _located(info.value)
    assert list(found) == ["unit_models[0].roles[3].pension_scheme"]
    message = found["unit_models[0].roles[3].pension_scheme"]
    assert message.startswith("Input should be 'police', 'nhs', 'local_government', 'civil_service'")
    assert message.endswith("or 'none'")
    assert str(info.value).startswith("plan.yaml: unit_models[0].roles[3].pension_scheme:")
    where = where_on_page(problems_of(info.value)[0].path, cheshire)
    assert where == "Roles table, row 4 (Forensic psychologist), column “Pension scheme”"


def test_an_override_dated_beyond_the_horizon_is_refused(cheshire):
    cheshire["parameter_overrides"] = {"employer_ni.rate": [{"from": "2040-04-06", "value": 0.16}]}
    found = _located(_refused(cheshire))
    assert list(found) == ["parameter_overrides.employer_ni.rate[0].from"]
    assert (
        "2040-04-06 is after the scenario's last year (2035/36" in found["parameter_overrides.employer_ni.rate[0].from"]
    )


def test_override_dates_must_increase(cheshire):
    cheshire["parameter_overrides"] = {
        "employer_ni.rate": [{"from": "2028-04-06", "value": 0.16}, {"from": "2027-04-06", "value": 0.17}]
    }
    assert _located(_refused(cheshire)) == {
        "parameter_overrides.employer_ni.rate": "dates must increase, each date once"
    }


def test_an_unknown_rule_name_is_refused_with_a_suggestion(cheshire):
    cheshire["parameter_overrides"] = {"employer_ni.rat": [{"from": "2027-04-06", "value": 0.16}]}
    error = _refused(cheshire)
    assert [p.path for p in problems_of(error)] == [("parameter_overrides", "employer_ni.rat")]
    assert "did you mean 'employer_ni.rate'?" in problems_of(error)[0].message


def test_an_unknown_source_id_is_refused_with_a_suggestion(cheshire):
    cheshire["unit_models"][0]["roles"][2]["sources"] = ["S054", "S999"]  # S999: not registered
    cheshire["discount_rate"]["sources"] = ["P914"]
    found = _located(_refused(cheshire))
    assert set(found) == {"unit_models[0].roles[2].sources[1]", "discount_rate.sources[0]"}
    assert found["discount_rate.sources[0]"].startswith("unknown source id 'P914' (did you mean 'P014'?)")
    assert found["unit_models[0].roles[2].sources[1]"].startswith("unknown source id 'S999'")
    assert "data/sources.csv" in found["unit_models[0].roles[2].sources[1]"]


def test_a_malformed_source_id_is_refused(cheshire):
    cheshire["gdp_deflator"]["sources"] = ["P015", "HM Treasury"]
    found = _located(_refused(cheshire))
    assert list(found) == ["gdp_deflator.sources[1]"]
    assert "'HM Treasury' is not a source id" in found["gdp_deflator.sources[1]"]


def test_a_regional_unit_listing_a_force_twice_is_refused(cheshire):
    cheshire["deployments"] = [{"forces": ["W15000001", "W15000002", "W15000001"], "unit_model": "cheshire_hru_like"}]
    found = _located(_refused(cheshire))
    assert found == {"deployments[0].forces": "lists W15000001 more than once; a unit serves each force once"}


def test_a_placement_rule_with_deployments_is_refused(cheshire):
    cheshire["placement"] = {"rule": "every_force_without_unit", "unit_model": "cheshire_hru_like"}
    found = _located(_refused(cheshire))
    assert list(found) == ["placement"]
    assert "remove the listed deployments or the rule" in found["placement"]
    cheshire["placement"]["unit_model"] = "nowhere"
    cheshire["deployments"] = []
    assert list(_located(_refused(cheshire))) == ["placement.unit_model"]


def test_an_offences_period_not_in_the_data_is_refused(cheshire, crime, indicators):
    cheshire["demand"]["referral_rate"]["offences_period"] = "YE Dec 1999"
    scenario = scenario_from_dict(cheshire)  # a well-formed period: the data decide
    with pytest.raises(InputError) as info:
        demand_offences(scenario, crime, indicators)
    problems = problems_of(info.value)
    assert [p.path for p in problems] == [("demand", "referral_rate", "offences_period")]
    assert "'YE Dec 1999' is not a period of the recorded-crime table (it has YE Dec 2013 to YE Dec 2025)" in str(
        info.value
    )
    # a period the data have is used
    cheshire["demand"]["referral_rate"]["offences_period"] = "YE Dec 2025"
    basis = demand_offences(scenario_from_dict(cheshire), crime, indicators)
    assert basis.period == "YE Dec 2025" and basis.offences[CHESHIRE] == 3_006


# --------------------------------------------------------------------------------------------
# Regional and hosted units
# --------------------------------------------------------------------------------------------


def _wales(forces) -> list[str]:
    codes = sorted(forces.loc[forces["region"] == "Wales", "code"])
    assert codes == ["W15000001", "W15000002", "W15000003", "W15000004"]
    return codes


def test_one_unit_serving_the_four_welsh_forces(cheshire, forces, offences_8q_2018):
    wales = _wales(forces)
    cheshire["deployments"] = [{"forces": wales, "unit_model": "cheshire_hru_like", "name": "Wales-wide unit"}]
    regional = run_scenario(scenario_from_dict(cheshire), forces, offences_8q_2018)
    rate = 312 / 364
    summed = sum(offences_8q_2018[c] for c in wales)
    assert summed == 269 + 319 + 488 + 91
    t = regional.totals
    assert t["referrals_per_year"] == pytest.approx(rate * summed)
    assert t["units"] == 1 and t["forces_covered"] == 4
    assert list(regional.by_unit["unit"]) == ["Wales-wide unit"]
    assert regional.by_unit["referrals_per_year"].iloc[0] == pytest.approx(rate * summed)
    assert regional.by_force.set_index("code")["referrals_per_year"].to_dict() == pytest.approx(
        {c: rate * offences_8q_2018[c] for c in wales}
    )
    # every Welsh force counts as covered
    assert regional.coverage["added_forces"] == wales and regional.coverage["after_forces"] == 4
    # costed once: the same as one unit with that many referrals a year
    single = copy.deepcopy(cheshire)
    single["deployments"] = [{"forces": ["W15000003"], "unit_model": "cheshire_hru_like"}]
    single["demand"] = {"fixed_referrals_per_year": {"value": rate * summed, "sources": [], "assumption": True}}
    one = run_scenario(scenario_from_dict(single), forces, None)
    for key in (*TOTALS, "year1_cost_real"):
        assert t[key] == pytest.approx(one.totals[key], rel=1e-12), key
    # the cost is shared among the forces by population aged 16+, and adds up
    by_force = regional.by_force.set_index("code")
    pop = forces.set_index("code").loc[wales, "pop_mid2023_16plus"].astype(float)
    assert by_force["cost_real"].sum() == pytest.approx(t["total_cost_real"])
    assert by_force["pv"].sum() == pytest.approx(t["present_value"])
    assert by_force["fte"].sum() == pytest.approx(t["fte_total"])
    assert by_force.loc[wales, "cost_real"].to_numpy() == pytest.approx(
        (t["total_cost_real"] * pop / pop.sum()).to_numpy()
    )
    assert (by_force["units"] == 1).all()


def test_the_city_of_london_served_by_the_mets_unit(cheshire, forces, offences_8q_2018):
    names = forces.set_index("code")["name"]
    assert names[MET] == "Metropolitan Police" and names[CITY] == "City of London"
    cheshire["deployments"] = [{"forces": [MET, CITY], "unit_model": "cheshire_hru_like"}]
    r = run_scenario(scenario_from_dict(cheshire), forces, offences_8q_2018)
    assert r.totals["referrals_per_year"] == pytest.approx(312 / 364 * (offences_8q_2018[MET] + offences_8q_2018[CITY]))
    assert r.totals["units"] == 1 and sorted(r.by_force["code"]) == [MET, CITY]
    assert r.coverage["added_forces"] == [MET, CITY]
    assert list(r.by_unit["unit"]) == ["Metropolitan Police + City of London"]
    assert r.by_force["cost_real"].sum() == pytest.approx(r.totals["total_cost_real"])
    assert not r.warnings


# --------------------------------------------------------------------------------------------
# Warnings
# --------------------------------------------------------------------------------------------


def test_a_demand_driven_unit_in_the_city_of_london_alone_is_warned_about(cheshire, forces, offences_8q_2018):
    cheshire["deployments"] = [{"forces": [CITY], "unit_model": "cheshire_hru_like"}]
    r = run_scenario(scenario_from_dict(cheshire), forces, offences_8q_2018)
    assert len(r.warnings) == 1
    assert r.warnings[0].startswith("City of London: about 7 referrals a year would not fill one post")
    assert "regional or hosted unit" in r.warnings[0]
    # Cheshire's own unit fills its posts: no warning
    assert run_scenario(load_preset("cheshire_hru_like"), forces, offences_8q_2018).warnings == []


def test_a_force_whose_provision_is_unknown_is_warned_about(forces, offences_8q_2018):
    preset = load_preset("cheshire_hru_like")
    r = run_scenario(preset, forces, offences_8q_2018, unknown_provision=[CHESHIRE])
    assert r.warnings == [
        "The register does not know what specialist provision Cheshire already has: a unit there may duplicate "
        "a service the register has not found."
    ]
    # a force not in the scenario is not named
    assert run_scenario(preset, forces, offences_8q_2018, unknown_provision=[KENT]).warnings == []


# --------------------------------------------------------------------------------------------
# Placement rule: every force without a unit
# --------------------------------------------------------------------------------------------


def _rule_scenario(cheshire: dict):
    cheshire["deployments"] = []
    cheshire["placement"] = {"rule": "every_force_without_unit", "unit_model": "cheshire_hru_like"}
    return scenario_from_dict(cheshire)


def test_a_placement_rule_resolves_against_the_existing_units(cheshire, forces, offences_8q_2018):
    scenario = _rule_scenario(cheshire)
    existing = {CHESHIRE, HAMPSHIRE, MET}
    r = run_scenario(scenario, forces, offences_8q_2018, existing_units=existing)
    assert r.totals["units"] == 43 - 3 == r.totals["forces_covered"]
    assert set(r.by_force["code"]) == set(forces["code"]) - existing
    assert [d.forces for d in r.deployments] == [[c] for c in sorted(set(forces["code"]) - existing)]
    assert r.coverage["after_forces"] == 43
    fewer = run_scenario(scenario, forces, offences_8q_2018, existing_units={CHESHIRE})
    assert fewer.totals["units"] == 42
    assert fewer.totals["total_cost_real"] > r.totals["total_cost_real"]
    everywhere = run_scenario(scenario, forces, offences_8q_2018)
    assert everywhere.totals["units"] == 43


def test_a_placement_rule_survives_yaml_as_a_rule(cheshire, forces, offences_8q_2018):
    scenario = _rule_scenario(cheshire)
    text = scenario_to_yaml(scenario)
    raw = yaml.safe_load(text)
    assert raw["deployments"] == []
    assert raw["placement"] == {
        "rule": "every_force_without_unit",
        "unit_model": "cheshire_hru_like",
        "start_year_offset": 0,
    }
    again = load_scenario_text(text)
    assert again.placement is not None and again.placement.rule == "every_force_without_unit"
    assert again.deployments == [] and again == scenario
    # the file keeps the rule, so it places units wherever the register in use has none
    a = run_scenario(again, forces, offences_8q_2018, existing_units={CHESHIRE})
    b = run_scenario(again, forces, offences_8q_2018, existing_units={CHESHIRE, KENT, MET})
    assert (a.totals["units"], b.totals["units"]) == (42, 40)


# --------------------------------------------------------------------------------------------
# The 8Q referral rate
# --------------------------------------------------------------------------------------------


def test_the_presets_use_the_shipped_8q_referral_rate(forces, crime, indicators):
    shipped = yaml.safe_load((paths.DATA_DIR / "planner" / "referral_rate_8q.yaml").read_text())
    default = shipped["rates"][shipped["default"]]
    assert shipped["default"] == "stalking_8q" and default["offence_code"] == "8Q"
    with_rate = 0
    for pid in preset_ids():
        demand = load_preset(pid).demand
        if demand is None or demand.referral_rate is None:
            continue
        with_rate += 1
        rate = demand.referral_rate
        assert rate.rate == pytest.approx(default["value"], rel=1e-12), pid
        assert rate.offence_code == "8Q" and rate.offences_period == default["reference_period"] == "YE Dec 2018"
    assert with_rate == 4
    r = _costed(load_preset("cheshire_hru_like"), forces, crime, indicators)
    assert r.totals["referrals_per_year"] == pytest.approx(312, rel=1e-12)
    assert list(r.by_year["referrals"]) == pytest.approx([312] * 10)
    assert r.by_unit["referrals_per_year"].iloc[0] == pytest.approx(312)


# --------------------------------------------------------------------------------------------
# The planner's state
# --------------------------------------------------------------------------------------------


@pytest.fixture
def start() -> planner.PlannerState:
    return planner.from_preset("cheshire_hru_like", scenario_to_dict(load_preset("cheshire_hru_like")))


def test_a_roles_table_edit_changes_the_scenario(start):
    roles = roles_table(start.base, start.unit_index)
    roles.loc[2, "salary"] = 45_000
    edited = planner.edited(start, planner.Edits(roles=roles), start.placement)
    assert edited.problems == ()
    assert edited.scenario["unit_models"][0]["roles"][2]["salary"] == 45_000
    assert start.scenario["unit_models"][0]["roles"][2]["salary"] == 39_379
    assert edited.scenario != start.scenario and edited.scenario_hash != start.scenario_hash
    # the probation officer's on-cost is worked out from the salary, so the tables are drawn again from the edit
    assert edited.base == edited.scenario and edited.generation == start.generation + 1
    again = roles_table(edited.base, edited.unit_index)
    assert again.loc[2, "oncost_rate"] > roles_table(start.base, start.unit_index).loc[2, "oncost_rate"]


def test_an_edit_that_leaves_the_oncosts_keeps_the_tables(start):
    roles = roles_table(start.base, start.unit_index)
    roles.loc[0, "grade"] = "Sergeant (pay point 3)"
    edited = planner.edited(start, planner.Edits(roles=roles), start.placement)
    assert edited.problems == () and edited.scenario["unit_models"][0]["roles"][0]["grade"] == "Sergeant (pay point 3)"
    assert edited.base == start.base and edited.generation == start.generation


def test_an_invalid_edit_keeps_the_previous_scenario_and_names_the_fields(start):
    roles = roles_table(start.base, start.unit_index)
    roles.loc[0, "fte"] = -1
    roles.loc[2, "salary"] = 10_000_000
    edited = planner.edited(start, planner.Edits(roles=roles), start.placement)
    assert edited.scenario == start.scenario
    assert {p.path for p in edited.problems} == {
        ("unit_models", 0, "roles", 0, "fte"),
        ("unit_models", 0, "roles", 2, "salary"),
    }
    # after a good edit, a bad one keeps the good one
    roles = roles_table(start.base, start.unit_index)
    roles.loc[2, "salary"] = 45_000
    good = planner.edited(start, planner.Edits(roles=roles), start.placement)
    roles.loc[1, "caseload_per_fte"] = 0
    bad = planner.edited(good, planner.Edits(roles=roles), good.placement)
    assert bad.scenario == good.scenario and [p.path for p in bad.problems] == [
        ("unit_models", 0, "roles", 1, "caseload_per_fte")
    ]


def test_an_upload_is_named_after_its_scenario_and_a_preset_then_clears_it(start):
    uploaded = planner.from_upload("met plan.yaml", scenario_to_dict(load_preset("met_stac_like")), start)
    assert uploaded.save_name == "Met STAC-like unit"
    assert uploaded.origin.kind == "upload" and uploaded.origin.file_name == "met plan.yaml"
    assert "preset" not in planner.link_params(uploaded) and uploaded.preset_id is None
    assert uploaded.generation == start.generation + 1
    again = planner.from_preset("cheshire_hru_like", scenario_to_dict(load_preset("cheshire_hru_like")), uploaded)
    assert again.save_name == "" and again.origin.kind == "preset"
    assert planner.link_params(again)["preset"] == "cheshire_hru_like"


def test_saved_as_makes_the_scenario_on_screen_a_saved_one(start):
    roles = roles_table(start.base, start.unit_index)
    roles.loc[2, "salary"] = 45_000
    edited = planner.edited(start, planner.Edits(roles=roles), start.placement)
    saved = planner.saved_as(edited, "Cheshire with a better-paid PO", 1)
    assert saved.origin.kind == "saved" and saved.origin.saved == "Cheshire with a better-paid PO"
    assert saved.origin.version == 1 and saved.save_name == "Cheshire with a better-paid PO"
    assert saved.base["unit_models"][0]["roles"][2]["salary"] == 45_000
    assert saved.base["name"] == "Cheshire with a better-paid PO"
    assert planner.link_params(saved)["saved"] == "Cheshire with a better-paid PO"


def _two_units() -> dict:
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["unit_models"].append(scenario_to_dict(load_preset("advocacy_only"))["unit_models"][0])
    data["deployments"].append({"forces": [KENT], "start_year_offset": 0, "unit_model": "advocacy_only"})
    return data


def test_choosing_another_unit_model_draws_new_tables():
    state = planner.from_upload("two.yaml", _two_units())
    assert state.unit_ids == ["cheshire_hru_like", "advocacy_only"] and state.unit_id == "cheshire_hru_like"
    other = planner.choose_unit(state, "advocacy_only")
    assert other.unit_id == "advocacy_only" and other.unit_index == 1
    assert other.generation == state.generation + 1
    assert other.messages[-1][0] == "info" and "Edits to the other unit model are kept." in other.messages[-1][1]
    assert planner.choose_unit(other, "advocacy_only") is other  # the same unit: nothing changes
    assert planner.choose_unit(other, "nowhere") is other
    # edits with problems are set aside when switching
    roles = roles_table(other.base, other.unit_index)
    roles.loc[0, "salary"] = 5
    broken = planner.edited(other, planner.Edits(roles=roles), other.placement)
    assert broken.problems
    back = planner.choose_unit(broken, "cheshire_hru_like")
    assert back.problems == () and back.base == other.base and "set aside" in back.messages[-1][1]


def test_the_comparison_holds_each_scenario_once_and_at_most_four(start):
    state = planner.add_to_compare(start, "Cheshire")
    state = planner.add_to_compare(state, "Cheshire again")  # the same scenario
    assert [e.label for e in state.compare] == ["Cheshire"]
    assert state.messages[-1] == ("info", "“Cheshire again” is already in the comparison.")
    for years in (5, 6, 7, 8):
        data = dict(start.scenario, horizon_years=years)
        state = planner.add_to_compare(state, "Cheshire", data)
    assert [e.label for e in state.compare] == ["Cheshire", "Cheshire (2)", "Cheshire (3)", "Cheshire (4)"]
    assert len({e.hash for e in state.compare}) == 4
    assert state.messages[-1][0] == "warning" and "already holds 4 scenarios" in state.messages[-1][1]
    assert planner.remove_from_compare(state, 0).compare == state.compare[1:]


def test_every_force_without_a_unit_is_kept_as_a_rule_in_the_state(start, forces, offences_8q_2018):
    state = planner.edited(start, planner.Edits(), Placement(mode="no_unit"))
    assert state.problems == ()
    assert state.scenario["deployments"] == []
    assert state.scenario["placement"] == {
        "rule": "every_force_without_unit",
        "unit_model": "cheshire_hru_like",
        "start_year_offset": 0,
    }
    scenario = scenario_from_dict(dict(state.scenario))
    r = run_scenario(scenario, forces, offences_8q_2018, existing_units={CHESHIRE, MET})
    assert r.totals["units"] == 41
    # the rule comes back as the same placement when the scenario is opened again
    reopened = planner.from_upload("rule.yaml", state.scenario)
    assert reopened.placement.mode == "no_unit" and reopened.scenario["placement"]["rule"] == "every_force_without_unit"
