"""The scenario planner core (schema version 2): schema and file checks, presets, the cost model, outputs,
properties. Migration from version 1, regional units, dated rules and the planner state are in
tests/test_planner_v2.py."""

from __future__ import annotations

import copy
import io
import json
import math

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coverage import paths
from coverage.errors import InputError, InputErrors, path_text, problems_of
from coverage.model.demand import read_recorded_crime
from coverage.model.indicators import read_indicators
from coverage.outputs.scenario_workbook import scenario_workbook
from coverage.planner.costing import (
    counts_as_multi_agency_unit,
    coverage_before_after,
    present_value,
    run_scenario,
    to_json_summary,
    with_deployments,
)
from coverage.planner.demand import demand_offences
from coverage.planner.editing import edited_scenario, fixed_table, params_table, roles_table
from coverage.planner.schema import (
    MAX_FILE_BYTES,
    SCHEMA_VERSION,
    SOURCE_ID_FORM,
    list_presets,
    load_preset,
    load_scenario_bytes,
    load_scenario_file,
    load_scenario_text,
    preset_ids,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    scenario_to_yaml,
    source_ids_used,
)
from coverage.planner.sensitivity import TORNADO_FACTORS, tornado
from coverage.sources import load_registry

CHESHIRE, MET, HAMPSHIRE = "E23000006", "E23000001", "E23000030"
KENT = "E23000032"
PRESETS = ["advocacy_only", "cheshire_hru_like", "hampshire_masp_like", "london_2020_21_grants", "met_stac_like"]
# The presets' referral rate: 260 referrals in 10 months (312 a year) over Cheshire's 364 stalking (8Q)
# offences in the year ending December 2018 (data/planner/referral_rate_8q.yaml).
CHESHIRE_8Q_2018 = 364
RATE_8Q = 312 / CHESHIRE_8Q_2018


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def offences(forces) -> dict[str, float]:
    """Police-recorded stalking (8Q) by force, YE Dec 2018: what the presets' referral rate multiplies."""
    codes = set(forces["code"])
    crime = read_recorded_crime(paths.DATA_DIR / "indicators" / "recorded_crime.csv", force_codes=codes)
    indicators = read_indicators(paths.DATA_DIR / "indicators" / "indicators.csv", force_codes=codes)
    basis = demand_offences(load_preset("cheshire_hru_like"), crime, indicators)
    assert basis.offence_code == "8Q" and basis.period == "YE Dec 2018"
    assert len(basis.offences) == 43
    return basis.offences


@pytest.fixture
def cheshire_dict() -> dict:
    return scenario_to_dict(load_preset("cheshire_hru_like"))


def _expect(data, *needles):
    with pytest.raises(InputError) as info:
        scenario_from_dict(data, where="test.yaml")
    text = str(info.value)
    for needle in needles:
        assert needle in text, text
    return info.value


def _paths(error: InputError) -> list[str]:
    return [path_text(p.path) for p in problems_of(error)]


# --------------------------------------------------------------------------------------------
# Schema: bad input names the field
# --------------------------------------------------------------------------------------------


def test_salary_out_of_bounds_names_the_role_field(cheshire_dict):
    cheshire_dict["unit_models"][0]["roles"][2]["salary"] = 10_000_000
    error = _expect(cheshire_dict, "unit_models[0].roles[2].salary: must be between £10,000 and £250,000")
    assert [p.path for p in problems_of(error)] == [("unit_models", 0, "roles", 2, "salary")]


def test_negative_fte_is_refused(cheshire_dict):
    cheshire_dict["unit_models"][0]["roles"][0]["fte"] = -1
    error = _expect(cheshire_dict, "unit_models[0].roles[0].fte: must be between 0 and 100")
    assert _paths(error) == ["unit_models[0].roles[0].fte"]


def test_discount_rate_of_300_percent_is_refused(cheshire_dict):
    cheshire_dict["discount_rate"]["value"] = 3.0
    error = _expect(cheshire_dict, "discount_rate: must be between 0% and 20%")
    assert [p.path for p in problems_of(error)] == [("discount_rate",)]
    cheshire_dict["discount_rate"] = 3.0  # a bare number is checked the same way
    _expect(cheshire_dict, "discount_rate: must be between 0% and 20%")


@pytest.mark.parametrize(
    "path, value, needle",
    [
        (("optimism_bias", "value"), 5, "optimism_bias: must be between 0% and 200%"),
        (("pay_uplift", "value"), 0.5, "pay_uplift: must be between -5% and 10%"),
        (("gdp_deflator", "value"), [0.02, 0.9], "gdp_deflator: value[1] must be between -5% and 20%"),
        (("non_pay_inflation", "value"), -0.5, "non_pay_inflation: must be between -5% and 20%"),
        (("horizon_years",), 31, "horizon_years: must be between 1 and 30"),
        (("horizon_years",), 0, "horizon_years: must be between 1 and 30"),
        (("start_year",), 1850, "start_year: must be a year between 2000 and 2100"),
        (
            ("unit_models", 0, "roles", 1, "caseload_per_fte"),
            0,
            "roles[1].caseload_per_fte: must be between 1 and 5,000",
        ),
        (
            ("unit_models", 0, "roles", 1, "oncost_override"),
            2.0,
            "roles[1].oncost_override: must be between 0% and 80% (found 200%)",
        ),
        (
            ("unit_models", 0, "roles", 6, "oncost_override"),
            {"value": -0.1, "sources": ["S163"], "assumption": True, "note": "hand-set"},
            "roles[6].oncost_override: must be between 0% and 80% (found -10%)",
        ),
        (("unit_models", 0, "roles", 1, "overhead_rate"), -0.1, "roles[1].overhead_rate: must be between 0% and 150%"),
        (
            ("unit_models", 0, "roles", 1, "pension_scheme"),
            "teachers",
            "unit_models[0].roles[1].pension_scheme: Input should be 'police'",
        ),
        (
            ("unit_models", 0, "attrition_rate", "value"),
            0.9,
            "unit_models[0].attrition_rate: must be between 0% and 60%",
        ),
        (("unit_models", 0, "non_pay", "value"), 9e9, "unit_models[0].non_pay: must be between £0 and £5,000,000"),
        (
            ("unit_models", 0, "recruitment_training_cost_per_new_fte", "value"),
            -1,
            "recruitment_training_cost_per_new_fte: must be between £0 and £100,000",
        ),
        (
            ("unit_models", 0, "ramp_up", "value"),
            [0.5, 1.5],
            "unit_models[0].ramp_up: value[1] must be between 0% and 100%",
        ),
        (
            ("unit_models", 0, "ramp_up", "value"),
            [0, 1],
            "unit_models[0].ramp_up: the first year's fraction must be above 0",
        ),
        (("unit_models", 0, "roles", 0, "agency"), "army", "unit_models[0].roles[0].agency: Input should be 'police'"),
        (("unit_models", 0, "roles", 0, "fte_mode"), "guess", "unit_models[0].roles[0].fte_mode"),
        (("unit_models", 0, "roles", 0, "fte"), True, "roles[0].fte: must be a number, not true/false"),
        (("unit_models", 0, "roles", 0, "salary"), "lots", "roles[0].salary: Input should be a valid number"),
        (("unit_models", 0, "attrition_rate", "value"), float("nan"), "attrition_rate.value: must be a finite number"),
        (("unit_models", 0, "roles", 0, "salary"), float("inf"), "roles[0].salary: must be a finite number"),
        (
            ("deployments", 0, "forces"),
            ["E9"],
            "deployments[0].forces[0]: 'E9' is not an ONS police force area code",
        ),
        (("deployments", 0, "forces"), [], "deployments[0].forces: List should have at least 1 item"),
        (
            ("deployments", 0, "start_year_offset"),
            10,
            "deployments[0].start_year_offset: 10 is beyond the 10-year horizon",
        ),
        (("deployments", 0, "unit_model"), "cheshire_hru_lik", "did you mean 'cheshire_hru_like'"),
        (("unit_models", 0, "id"), "Bad Id", "unit_models[0].id: must be lower-case letters"),
        (
            ("demand", "referral_rate", "observed_months"),
            0,
            "demand.referral_rate.observed_months: must be between 1 and 120",
        ),
        (
            ("demand", "referral_rate", "offence_code"),
            "8L",
            "demand.referral_rate.offence_code: Input should be '8Q' or 'stalking_harassment_group'",
        ),
        (
            ("demand", "referral_rate", "offences_period"),
            "2019",
            "demand.referral_rate.offences_period: '2019' is not a period like 'YE Dec 2025'",
        ),
    ],
)
def test_bounds_and_types_name_the_field(cheshire_dict, path, value, needle):
    target = cheshire_dict
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    _expect(cheshire_dict, needle)


def test_unknown_keys_are_refused_with_a_suggestion(cheshire_dict):
    cheshire_dict["unit_models"][0]["roles"][1]["salry"] = 40_000
    _expect(cheshire_dict, "unit_models[0].roles[1].salry: unknown field (did you mean 'salary'?)")
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["discount"] = 0.035
    _expect(data, "discount: unknown field")
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["discount_rate"]["sorces"] = ["P014"]
    _expect(data, "discount_rate.sorces: unknown field (did you mean 'sources'?)")
    # the schema 1 field names are not version 2 fields
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["unit_models"][0]["roles"][0]["oncost_rate"] = 0.3
    _expect(data, "unit_models[0].roles[0].oncost_rate: unknown field (did you mean 'oncost_override'?)")


def test_newer_schema_version_is_refused_saying_which_version_this_app_reads(cheshire_dict):
    cheshire_dict["schema_version"] = SCHEMA_VERSION + 1
    error = _expect(
        cheshire_dict, f"schema version {SCHEMA_VERSION + 1}", f"this app reads up to version {SCHEMA_VERSION}"
    )
    assert str(error).startswith("test.yaml: schema_version:")
    assert [p.path for p in problems_of(error)] == [("schema_version",)]


def test_missing_or_bad_schema_version(cheshire_dict):
    del cheshire_dict["schema_version"]
    _expect(cheshire_dict, "schema_version: is required")
    cheshire_dict["schema_version"] = "one"
    _expect(cheshire_dict, "schema_version: must be a whole number")
    cheshire_dict["schema_version"] = True
    _expect(cheshire_dict, "schema_version: must be a whole number")
    cheshire_dict["schema_version"] = 0
    _expect(cheshire_dict, f"schema_version: must be {SCHEMA_VERSION}")


def test_mode_needs_its_number(cheshire_dict):
    role = cheshire_dict["unit_models"][0]["roles"][0]
    role["fte"] = None
    _expect(cheshire_dict, "unit_models[0].roles[0]: fte is required when fte_mode is 'fixed'")
    role["fte"], role["fte_mode"], role["caseload_per_fte"] = 1, "demand", None
    _expect(cheshire_dict, "unit_models[0].roles[0]: caseload_per_fte is required when fte_mode is 'demand'")


def test_a_role_needs_a_pension_scheme(cheshire_dict):
    del cheshire_dict["unit_models"][0]["roles"][3]["pension_scheme"]
    error = _expect(cheshire_dict, "unit_models[0].roles[3].pension_scheme: is required")
    assert [p.path for p in problems_of(error)] == [("unit_models", 0, "roles", 3, "pension_scheme")]


def test_demand_roles_need_a_demand_section(cheshire_dict):
    cheshire_dict["demand"] = None
    _expect(cheshire_dict, "unit_models[0].roles[1].fte_mode: 'demand' needs a demand section")


def test_demand_needs_exactly_one_kind(cheshire_dict):
    cheshire_dict["demand"]["fixed_referrals_per_year"] = 100
    _expect(cheshire_dict, "demand: give exactly one of referral_rate or fixed_referrals_per_year")


def test_referral_rate_derivation_is_checked(cheshire_dict):
    rr = cheshire_dict["demand"]["referral_rate"]
    rr["value"] = 0.5
    _expect(cheshire_dict, "demand.referral_rate: value 0.5 disagrees with its derivation")
    rr["value"] = None
    rr["observed_months"] = None
    _expect(cheshire_dict, "give all of observed_referrals, observed_months and reference_offences")


def test_price_year_must_match_the_price_base(cheshire_dict):
    cheshire_dict["price_base_year"] = 2025
    cheshire_dict["start_year"] = 2026
    _expect(cheshire_dict, "unit_models[0].price_year: 'cheshire_hru_like' is priced in 2024/25", "2025/26")


def test_start_before_price_base_is_refused(cheshire_dict):
    cheshire_dict["start_year"] = 2023
    _expect(cheshire_dict, "start_year: 2023 is before price_base_year 2024")


def test_several_problems_are_all_reported(cheshire_dict):
    cheshire_dict["unit_models"][0]["roles"][0]["salary"] = 5
    cheshire_dict["unit_models"][0]["roles"][1]["oncost_override"] = 9
    cheshire_dict["discount_rate"]["value"] = -1
    with pytest.raises(InputErrors) as info:
        scenario_from_dict(cheshire_dict, where="x.yaml")
    problems = info.value.problems
    assert len(problems) == 3
    assert any(p.startswith("unit_models[0].roles[0].salary") for p in problems)
    assert any(p.startswith("discount_rate") for p in problems)
    assert sorted(p.path for p in problems_of(info.value)) == sorted(
        [
            ("unit_models", 0, "roles", 0, "salary"),
            ("unit_models", 0, "roles", 1, "oncost_override"),
            ("discount_rate",),
        ]
    )


def test_a_bare_number_is_accepted_and_marked_as_user_input(cheshire_dict):
    cheshire_dict["optimism_bias"] = 0.25
    cheshire_dict["unit_models"][0]["roles"][0]["oncost_override"] = 0.3
    s = scenario_from_dict(cheshire_dict)
    assert s.optimism_bias.value == 0.25
    assert s.optimism_bias.assumption is True and s.optimism_bias.user_input is True
    assert s.optimism_bias.sources == []
    override = s.unit_models[0].roles[0].oncost_override
    assert override is not None and override.value == 0.3 and override.user_input is True


# --------------------------------------------------------------------------------------------
# Edited tables: a blank cell is refused with its field, and nothing else is lost
# --------------------------------------------------------------------------------------------


def test_blank_cells_are_refused_naming_each_field(cheshire_dict):
    roles = roles_table(cheshire_dict, 0)
    roles.loc[0, "salary"] = None
    roles.loc[1, "role"] = ""
    roles.loc[2, "pension_scheme"] = None
    params = params_table(cheshire_dict, 0)
    params.loc["discount_rate", "Value"] = None
    with pytest.raises(InputErrors) as info:
        edited_scenario(
            cheshire_dict,
            unit_index=0,
            params=params,
            roles=roles,
            fixed=None,
            deployments=cheshire_dict["deployments"],
        )
    found = {p.path: p.message for p in problems_of(info.value)}
    assert found[("unit_models", 0, "roles", 0, "salary")] == "is blank; enter a number"
    assert found[("unit_models", 0, "roles", 1, "role")] == "is blank"
    assert found[("unit_models", 0, "roles", 2, "pension_scheme")] == "is blank"
    assert found[("discount_rate",)].startswith("is blank; enter a number")
    assert len(found) == 4
    # the input is not changed by a refused edit
    assert cheshire_dict == scenario_to_dict(load_preset("cheshire_hru_like"))


def test_a_blank_fixed_cost_amount_is_refused():
    data = scenario_to_dict(load_preset("hampshire_masp_like"))
    fixed = fixed_table(data, 0)
    fixed.loc[0, "amount"] = float("nan")
    with pytest.raises(InputError) as info:
        edited_scenario(data, unit_index=0, params=None, roles=None, fixed=fixed, deployments=data["deployments"])
    assert [(p.path, p.message) for p in problems_of(info.value)] == [
        (("unit_models", 0, "fixed_costs", 0, "amount"), "is blank; enter a number")
    ]


def test_a_blank_oncost_cell_means_work_it_out_from_the_rules(cheshire_dict):
    isac = cheshire_dict["unit_models"][0]["roles"][6]
    isac["oncost_override"] = {"value": 0.1462, "sources": ["S163"], "assumption": True, "note": "hand-set"}
    roles = roles_table(cheshire_dict, 0)
    assert roles.loc[6, "oncost_rate"] == pytest.approx(14.62)  # the hand-set rate, as a percentage
    assert roles.loc[6, "oncost_basis"].startswith("set by hand")
    roles.loc[6, "oncost_rate"] = None
    s = edited_scenario(
        cheshire_dict, unit_index=0, params=None, roles=roles, fixed=None, deployments=cheshire_dict["deployments"]
    )
    assert s.unit_models[0].roles[6].oncost_override is None
    assert s.unit_models[0].roles[6].pension_scheme == isac["pension_scheme"]
    assert roles_table(scenario_to_dict(s), 0).loc[6, "oncost_basis"].startswith("from the rules")


# --------------------------------------------------------------------------------------------
# Files: size, YAML, kind
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, needle",
    [
        ("code,name,service_name\nE23000006,Cheshire,ISAC\n", "is a CSV table (for example a service register)"),
        ("- 1\n- 2\n", "expected a mapping of fields, got a list"),
        ("", "got an empty document"),
        ("just words\n", "got a line of text"),
        ("kind: unit_model\nschema_version: 2\n", "kind: is 'unit_model', not 'scenario'"),
        ("type: FeatureCollection\nfeatures: []\n", "looks like a GeoJSON/TopoJSON boundary file"),
        ("service_name: x\nforce_code: E23000006\n", "looks like a service register"),
        ("id: x\nroles: []\n", "looks like a single unit model"),
        ("name: [unclosed\n", "is not valid YAML at line"),
        ("a: &anchor [1, 2]\nb: *anchor\n", "anchors and aliases"),
        ("!!python/object/apply:os.system ['echo hi']\n", "is not valid YAML"),
        ("a: 1\n---\nb: 2\n", "is not valid YAML"),
        ("schema_version: 3\nname: x\n", "this app reads up to version 2"),
    ],
)
def test_wrong_files_are_refused(text, needle):
    with pytest.raises(InputError) as info:
        load_scenario_text(text, where="upload.yaml")
    assert needle in str(info.value)
    assert str(info.value).startswith("upload.yaml: ")


def test_binary_and_office_files_are_refused():
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        load_scenario_bytes(b"\xff\xfe\x00\x01garbage", where="x")
    with pytest.raises(InputError, match="zip or Excel"):
        load_scenario_bytes(b"PK\x03\x04rest-of-xlsx", where="x.xlsx")
    with pytest.raises(InputError, match="not a text file"):
        load_scenario_text("name: x\x00\n", where="x")


def test_files_over_1_mb_are_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("notes: '" + "x" * (MAX_FILE_BYTES + 10) + "'\n")
    with pytest.raises(InputError, match="larger than 1 MB"):
        load_scenario_file(big)
    with pytest.raises(InputError, match="larger than 1 MB"):
        load_scenario_bytes(big.read_bytes())
    with pytest.raises(InputError, match="larger than 1 MB"):
        load_scenario_text(big.read_text())


def test_a_50_mb_upload_is_refused_by_its_size(tmp_path):
    fifty = 50 * 1024 * 1024
    with pytest.raises(InputError, match="larger than 1 MB"):
        load_scenario_bytes(b"a" * fifty, where="huge.yaml")
    sparse = tmp_path / "huge.yaml"
    with sparse.open("wb") as handle:  # a 50 MB file on disk is refused from its size, unread
        handle.truncate(fifty)
    with pytest.raises(InputError, match="larger than 1 MB") as info:
        load_scenario_file(sparse)
    assert str(info.value).startswith(str(sparse))


def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        load_scenario_file("/nonexistent/scenario.yaml")


def test_yaml_round_trip_and_stable_hash(tmp_path):
    s = load_preset("met_stac_like")
    text = scenario_to_yaml(s)
    assert yaml.safe_load(text)["schema_version"] == SCHEMA_VERSION == 2
    again = load_scenario_text(text)
    assert again == s
    assert scenario_hash(again) == scenario_hash(s)
    # key order does not matter
    data = scenario_to_dict(s)
    shuffled = dict(reversed(list(data.items())))
    shuffled["unit_models"] = [dict(reversed(list(u.items()))) for u in data["unit_models"]]
    assert scenario_hash(scenario_from_dict(shuffled)) == scenario_hash(s)
    # JSON is YAML too
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    assert scenario_hash(load_scenario_file(path)) == scenario_hash(s)
    # and any change changes the hash
    data["unit_models"][0]["roles"][0]["salary"] += 1
    assert scenario_hash(scenario_from_dict(data)) != scenario_hash(s)


# --------------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------------


def test_presets_are_the_five_expected_and_load():
    assert preset_ids() == PRESETS
    listed = list_presets()
    assert [p["id"] for p in listed] == PRESETS
    assert all(p["name"] and p["description"] for p in listed)


@pytest.mark.parametrize("preset_id", PRESETS)
def test_every_preset_number_has_a_source_or_an_assumption_flag(preset_id):
    s = load_preset(preset_id)
    assert s.schema_version == 2
    params = [s.discount_rate, s.optimism_bias, s.pay_uplift, s.non_pay_inflation, s.gdp_deflator]
    for u in s.unit_models:
        params += [u.non_pay, u.recruitment_training_cost_per_new_fte, u.attrition_rate, u.ramp_up]
        for r in u.roles:
            assert r.sources or r.assumption, r.role
            assert all(SOURCE_ID_FORM.match(sid) for sid in r.sources), r.role
            assert r.note or not r.assumption, f"{r.role}: an assumption needs a note saying why"
            if r.oncost_override is not None:
                params.append(r.oncost_override)
        for f in u.fixed_costs:
            assert f.sources, f.item
    for p in params:
        assert p.sources or p.assumption, p
        assert p.note, p
    if s.demand is not None and s.demand.referral_rate is not None:
        assert s.demand.referral_rate.sources and s.demand.referral_rate.confidence


def test_every_source_id_in_the_presets_is_in_the_sources_registry():
    known = load_registry()
    for pid in PRESETS:
        used = source_ids_used(load_preset(pid))
        assert used, pid
        missing = [sid for sid in used if sid not in known]
        assert not missing, f"{pid}: {missing}"
    assert known["P003"].url.startswith("http")


def test_preset_files_are_plain_safe_yaml():
    for pid in PRESETS:
        text = (paths.DATA_DIR / "scenarios" / "presets" / f"{pid}.yaml").read_text()
        assert "!!" not in text and "&" not in text.replace("&amp;", "")
        data = yaml.safe_load(text)
        assert isinstance(data, dict) and data["schema_version"] == 2
        assert "oncost_rate" not in text and "force_code" not in text  # no schema 1 fields left


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


def test_london_2020_21_grants_reproduce_672k_in_year_one(forces, offences):
    s = load_preset("london_2020_21_grants")
    assert s.price_base_year == 2020 and s.start_year == 2020
    r = run_scenario(s, forces, offences)
    year1 = r.by_year.iloc[0]
    assert year1["fiscal_year"] == "2020/21"
    assert year1["cost_nominal"] == 672_000
    assert year1["cost_real"] == 672_000
    assert year1["pv"] == 672_000
    assert r.totals["year1_cost_real"] == 672_000
    agencies = dict(zip(r.by_agency["agency"], r.by_agency["cost_real"]))
    assert agencies == {"nhs": 410_000, "voluntary": 171_000, "probation": 91_000}
    assert "police" not in agencies


def test_cheshire_referral_rate_gives_312_referrals_and_the_reported_team(forces, offences):
    assert offences[CHESHIRE] == CHESHIRE_8Q_2018
    s = load_preset("cheshire_hru_like")
    rr = s.demand.referral_rate
    assert rr.rate == pytest.approx(RATE_8Q, rel=1e-12)
    assert rr.offence_code == "8Q" and rr.offences_period == "YE Dec 2018"
    assert rr.confidence == "low"
    r = run_scenario(s, forces, offences)
    assert r.totals["referrals_per_year"] == pytest.approx(312, rel=1e-12)
    steady = dict(zip(r.by_role["role"], r.by_role["fte"]))
    assert steady["Independent stalking advocate (ISAC)"] == pytest.approx(2.0)
    assert steady["Detective constable"] == pytest.approx(3.0)
    assert r.totals["fte_total"] == pytest.approx(11.0)


def test_demand_fte_is_referrals_over_caseload_and_not_rounded(forces, cheshire_dict):
    off = {CHESHIRE: 1_000}
    r = run_scenario(scenario_from_dict(cheshire_dict), forces, off)
    refs = 1_000 * RATE_8Q
    steady = dict(zip(r.by_role["role"], r.by_role["fte"]))
    assert steady["Independent stalking advocate (ISAC)"] == pytest.approx(refs / 156)
    assert steady["Independent stalking advocate (ISAC)"] != round(steady["Independent stalking advocate (ISAC)"])
    assert r.totals["referrals_per_year"] == pytest.approx(refs)


def _p(v):
    return {"value": v, "sources": [], "assumption": True, "note": "test"}


def _single_role(**over) -> dict:
    """One fixed role of 2 FTE at £40,000 with a hand-set 25% on-cost and 20% overheads, for 5 years."""
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    unit = data["unit_models"][0]
    unit["roles"] = [dict(unit["roles"][0], fte=2.0, salary=40_000, oncost_override=_p(0.25), overhead_rate=0.2)]
    unit["non_pay"] = _p(10_000)
    unit["recruitment_training_cost_per_new_fte"] = _p(1_000)
    unit["attrition_rate"] = _p(0.1)
    unit["ramp_up"] = _p([0.5, 0.8])
    data["horizon_years"] = 5
    data["demand"] = None
    for k, v in over.items():
        data[k] = v
    return data


def test_ramp_up_recruitment_and_attrition(forces):
    r = run_scenario(scenario_from_dict(_single_role()), forces, {})
    staff = r.detail[r.detail["line_type"] == "staff"].reset_index(drop=True)
    assert list(staff["fte"]) == pytest.approx([1.0, 1.6, 2.0, 2.0, 2.0])
    hires = [1.0, 0.6 + 0.1 * 1.0, 0.4 + 0.1 * 1.6, 0.2, 0.2]
    assert list(staff["recruitment_real"]) == pytest.approx([h * 1_000 for h in hires])
    loaded = 40_000 * 1.25 * 1.2
    assert list(staff["staff_cost_real"]) == pytest.approx([f * loaded for f in [1.0, 1.6, 2.0, 2.0, 2.0]])
    np_rows = r.detail[r.detail["line_type"] == "non_pay"]
    assert list(np_rows["non_pay_real"]) == pytest.approx([10_000] * 5)  # non-pay is not ramped


def test_deflator_pay_uplift_and_nominal_vs_real(forces):
    data = _single_role(gdp_deflator=_p([0.10, 0.05]), non_pay_inflation=_p(0.0), pay_uplift=_p(0.01))
    r = run_scenario(scenario_from_dict(data), forces, {})
    staff = r.detail[r.detail["line_type"] == "staff"].reset_index(drop=True)
    # price base 2024/25, first year 2026/27: deflator index 1.10 × 1.05, then × 1.05 a year
    D = [1.10 * 1.05 * 1.05**k for k in range(5)]
    assert list(staff["staff_cost_nominal"] / staff["staff_cost_real"]) == pytest.approx(D)
    real_per_fte = staff["staff_cost_real"] / staff["fte"]
    assert list(real_per_fte) == pytest.approx([40_000 * 1.25 * 1.2 * 1.01 ** (2 + k) for k in range(5)])
    np_rows = r.detail[r.detail["line_type"] == "non_pay"].reset_index(drop=True)
    assert list(np_rows["non_pay"]) == pytest.approx([10_000] * 5)  # 0% nominal non-pay inflation
    assert list(np_rows["non_pay_real"]) == pytest.approx([10_000 / d for d in D])


def test_a_role_without_an_override_is_costed_with_the_rules(forces):
    """Police pension 35.3% + employer NI 15% on pay above £5,000 (rules in force from April 2025)."""
    data = _single_role()
    del data["unit_models"][0]["roles"][0]["oncost_override"]
    r = run_scenario(scenario_from_dict(data), forces, {})
    staff = r.detail[r.detail["line_type"] == "staff"].reset_index(drop=True)
    oncost = 0.353 + 0.15 * (40_000 - 5_000) / 40_000
    assert list(staff["staff_cost_real"] / staff["fte"]) == pytest.approx([40_000 * (1 + oncost) * 1.2] * 5)


def test_discounting_follows_the_green_book_year_one_undiscounted(forces):
    r = run_scenario(scenario_from_dict(_single_role()), forces, {})
    assert list(r.by_year["discount_factor"]) == pytest.approx([1 / 1.035**k for k in range(5)])
    assert r.totals["present_value"] == pytest.approx((r.by_year["cost_real"] * r.by_year["discount_factor"]).sum())


def test_optimism_bias_multiplies_every_cost_and_is_shown_apart(forces):
    base = run_scenario(scenario_from_dict(_single_role()), forces, {})
    ob = run_scenario(scenario_from_dict(_single_role(optimism_bias=0.4)), forces, {})
    assert ob.totals["total_cost_real"] == pytest.approx(1.4 * base.totals["total_cost_real"])
    assert ob.detail["optimism_bias_real"].sum() == pytest.approx(0.4 * base.totals["total_cost_real"])
    assert ob.detail["staff_cost_real"].sum() == pytest.approx(base.detail["staff_cost_real"].sum())


def test_late_start_has_no_cost_before_it(forces, offences):
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["deployments"] = [{"forces": [CHESHIRE], "start_year_offset": 3, "unit_model": "cheshire_hru_like"}]
    r = run_scenario(scenario_from_dict(data), forces, offences)
    assert list(r.by_year["cost_real"][:3]) == [0, 0, 0]
    assert list(r.by_year["referrals"][:3]) == [0, 0, 0]
    assert r.by_year["referrals"].iloc[3] == pytest.approx(312)
    assert r.detail["year_index"].min() == 4
    assert r.detail["fiscal_year"].iloc[0] == "2029/30"


def test_fixed_referrals_mode(forces):
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["demand"] = {"fixed_referrals_per_year": _p(624)}
    r = run_scenario(scenario_from_dict(data), forces, None)
    steady = dict(zip(r.by_role["role"], r.by_role["fte"]))
    assert steady["Independent stalking advocate (ISAC)"] == pytest.approx(4.0)
    assert r.totals["cost_per_referral"] == pytest.approx(r.totals["steady_annual_cost_real"] / 624)


def test_missing_offences_name_the_force(forces):
    with pytest.raises(InputError) as info:
        run_scenario(load_preset("cheshire_hru_like"), forces, {MET: 10})
    assert "Cheshire (E23000006)" in str(info.value) and "8Q" in str(info.value)
    with pytest.raises(InputError, match="Cheshire"):
        run_scenario(load_preset("cheshire_hru_like"), forces, {CHESHIRE: float("nan")})
    with pytest.raises(InputError, match="Cheshire"):
        run_scenario(load_preset("cheshire_hru_like"), forces, {CHESHIRE: -5})


def test_force_not_in_table_and_bad_force_table(forces, offences):
    data = scenario_to_dict(load_preset("advocacy_only"))
    data["deployments"][0]["forces"] = [CHESHIRE, "E23000099"]
    with pytest.raises(InputError) as info:
        run_scenario(scenario_from_dict(data), forces, offences)
    assert "deployments[0].forces[1]: E23000099 is not in the force table" in str(info.value)
    assert [p.path for p in problems_of(info.value)] == [("deployments", 0, "forces", 1)]
    with pytest.raises(InputError, match="missing column"):
        run_scenario(load_preset("advocacy_only"), forces.drop(columns=["pop_mid2023_16plus"]), offences)


def test_tables_add_up(forces, offences):
    s = with_deployments(load_preset("met_stac_like"), [MET, CHESHIRE, HAMPSHIRE])
    r = run_scenario(s, forces, offences)
    t = r.totals
    for frame in (r.detail, r.by_year, r.by_force, r.by_role, r.by_agency, r.by_unit):
        assert frame["cost_real"].sum() == pytest.approx(t["total_cost_real"])
    for frame in (r.detail, r.by_year, r.by_force, r.by_role, r.by_agency):
        assert frame["cost_nominal"].sum() == pytest.approx(t["total_cost_nominal"])
    assert r.detail["pv"].sum() == pytest.approx(t["present_value"])
    assert r.by_unit["pv"].sum() == pytest.approx(t["present_value"])
    parts = ["staff_cost_real", "non_pay_real", "fixed_cost_real", "recruitment_real", "optimism_bias_real"]
    assert r.detail[parts].sum(axis=1).to_numpy() == pytest.approx(r.detail["cost_real"].to_numpy())
    assert r.by_force["fte"].sum() == pytest.approx(t["fte_total"]) == pytest.approx(3 * 14.7)
    assert list(r.by_force["code"]) == [MET, CHESHIRE, HAMPSHIRE]
    assert t["units"] == 3 and len(r.by_unit) == 3
    pop = forces.set_index("code").loc[[MET, CHESHIRE, HAMPSHIRE], "pop_mid2023_16plus"].astype(float).sum()
    assert t["cost_per_100k_16plus"] == pytest.approx(t["steady_annual_cost_real"] / pop * 100_000)
    assert set(r.detail.columns) >= {
        "area_codes",
        "area_name",
        "year",
        "fiscal_year",
        "role",
        "agency",
        "fte",
        "staff_cost_nominal",
        "staff_cost_real",
        "non_pay",
        "recruitment",
        "cost_nominal",
        "cost_real",
        "discount_factor",
        "pv",
    }
    assert set(r.detail["area_codes"].astype(str)) == {MET, CHESHIRE, HAMPSHIRE}


def test_no_deployments_costs_nothing(forces):
    data = scenario_to_dict(load_preset("advocacy_only"))
    data["deployments"] = []
    r = run_scenario(scenario_from_dict(data), forces, {})
    assert r.totals["total_cost_real"] == 0 and r.totals["present_value"] == 0
    assert r.totals["cost_per_100k_16plus"] is None and len(r.detail) == 0
    assert r.totals["units"] == 0 and r.by_unit.empty
    json.dumps(to_json_summary(r))


def test_coverage_before_and_after(forces, offences):
    s = with_deployments(load_preset("cheshire_hru_like"), [MET, CHESHIRE])
    assert [d.forces for d in s.deployments] == [[MET], [CHESHIRE]]
    r = run_scenario(s, forces, offences, existing_units={CHESHIRE, HAMPSHIRE})
    cov = r.coverage
    pop = forces.set_index("code")["pop_mid2023_16plus"].astype(float)
    assert cov["before_forces"] == 2 and cov["after_forces"] == 3
    assert cov["before_share_16plus"] == pytest.approx((pop[CHESHIRE] + pop[HAMPSHIRE]) / pop.sum())
    assert cov["after_share_16plus"] == pytest.approx((pop[CHESHIRE] + pop[HAMPSHIRE] + pop[MET]) / pop.sum())
    assert cov["added_forces"] == [MET] and cov["already_covered_in_scenario"] == [CHESHIRE]
    with pytest.raises(InputError, match="E99"):
        coverage_before_after(forces, {"E99"}, [])


@pytest.mark.parametrize(
    "preset, counts",
    [
        ("cheshire_hru_like", True),
        ("hampshire_masp_like", True),
        ("met_stac_like", True),
        ("advocacy_only", False),
        ("london_2020_21_grants", False),
    ],
)
def test_only_a_unit_with_police_and_probation_or_health_adds_coverage(forces, offences, preset, counts):
    # An advocacy-only service is costed, but a force with one still has no multi-agency unit.
    s = with_deployments(load_preset(preset), [KENT])
    r = run_scenario(s, forces, offences, existing_units={CHESHIRE})
    assert counts_as_multi_agency_unit(s.unit_models[0]) is counts
    assert r.coverage["after_forces"] == (2 if counts else 1)
    assert r.coverage["unit_models_not_multi_agency"] == ([] if counts else [s.unit_models[0].name])
    assert r.totals["total_cost_real"] > 0


def test_json_summary(forces, offences):
    r = run_scenario(load_preset("cheshire_hru_like"), forces, offences)
    summary = to_json_summary(r)
    text = json.dumps(summary)
    assert json.loads(text)["present_value"] == summary["present_value"]
    for key in ("total_cost_nominal", "total_cost_real", "present_value", "fte_total", "by_year", "by_force"):
        assert key in summary
    assert set(summary["by_year"][0]) >= {"year", "cost_nominal", "cost_real", "fte"}
    assert set(summary["by_force"][0]) >= {"code", "name", "cost_nominal", "fte"}
    assert summary["by_force"][0]["code"] == CHESHIRE and summary["by_force"][0]["name"] == "Cheshire"
    assert summary["price_base"] == "2024/25 prices" and summary["scenario_hash"] == scenario_hash(r.scenario)
    assert summary["referrals_per_year"] == 312.0 and summary["fte_total"] == 11.0
    assert summary["present_value"] == round(r.totals["present_value"], 2)


def test_tornado(forces, offences):
    s = load_preset("cheshire_hru_like")
    tor = tornado(s, forces, offences)
    assert list(tor.columns[:6]) == ["factor", "label", "low_input", "high_input", "pv_low", "pv_high"]
    assert sorted(tor["factor"]) == sorted(TORNADO_FACTORS)
    assert list(tor["range"]) == sorted(tor["range"], reverse=True)
    base = present_value(s, forces, offences)
    assert base == pytest.approx(run_scenario(s, forces, offences).totals["present_value"], rel=1e-12)
    assert (tor["base_pv"] == base).all()
    row = tor.set_index("factor")
    assert row.loc["salaries", "pv_high"] > base > row.loc["salaries", "pv_low"]
    assert row.loc["oncosts", "pv_high"] > base > row.loc["oncosts", "pv_low"]
    assert row.loc["discount_rate", "pv_high"] < base < row.loc["discount_rate", "pv_low"]
    assert row.loc["caseload", "pv_high"] < base  # bigger caseloads, fewer staff
    assert row.loc["referral_rate", "pv_high"] > base
    assert row.loc["optimism_bias", "pv_high"] == pytest.approx(base * 1.2)
    # a unit of fixed posts does not depend on caseloads or referrals
    met = tornado(load_preset("met_stac_like"), forces, offences).set_index("factor")
    assert met.loc["caseload", "range"] == 0 and met.loc["referral_rate", "range"] == 0
    with pytest.raises(InputError, match="unknown factor"):
        tornado(s, forces, offences, factors=("weather",))


def test_xlsx_has_three_sheets_and_neutralises_formulas(forces, offences, tmp_path):
    from openpyxl import load_workbook

    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["name"] = '=HYPERLINK("http://evil","x")'
    data["unit_models"][0]["roles"][0]["role"] = "+cmd|' /C calc'!A0"
    data["unit_models"][0]["roles"][1]["note"] = "@SUM(1,1)"
    data["unit_models"][0]["roles"][2]["grade"] = "-2+3"
    s = scenario_from_dict(data)
    r = run_scenario(s, forces, offences)
    wb = load_workbook(io.BytesIO(scenario_workbook(r, s)))
    assert wb.sheetnames == ["Inputs", "Results", "Sources"]
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    risky = [c for c in cells if c.value[:1] in ("=", "+", "-", "@")]
    # Exact text, stored as text with Excel's quote prefix: shown as written, never run.
    assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky)
    texts = [c.value for c in cells]
    assert '=HYPERLINK("http://evil","x")' in texts
    assert "+cmd|' /C calc'!A0" in texts
    sources = [row[0].value for row in wb["Sources"].iter_rows(min_row=2) if row[0].value]
    assert "S055" in sources and "P003" in sources
    title = wb["Results"]["A1"]
    assert title.value.startswith("=HYPERLINK") and title.data_type == "s" and title.quotePrefix


# --------------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------------

CODES = [CHESHIRE, MET, HAMPSHIRE, "E23000010", "W15000003", "E23000034"]
# Police-recorded stalking (8Q) offences, a plain mapping (the rate multiplies these)
PROPERTY_OFFENCES = {
    CHESHIRE: 3_006,
    MET: 18_000,
    HAMPSHIRE: 5_400,
    "E23000010": 9_800,
    "W15000003": 2_900,
    "E23000034": 40,
}
# Schemes with a shipped rate (the LGPS rate is set fund by fund, so it needs an override)
SCHEMES = ["police", "nhs", "civil_service", "none"]
money = st.floats(min_value=10_000, max_value=250_000, allow_nan=False)
frac = st.floats(min_value=0.0, max_value=0.8, allow_nan=False)


@st.composite
def roles(draw, fixed_only: bool):
    mode = "fixed" if fixed_only else draw(st.sampled_from(["fixed", "demand"]))
    role = {
        "role": draw(st.sampled_from(["Advocate", "Detective", "Psychologist", "Nurse", "Probation officer"])),
        "agency": draw(st.sampled_from(["police", "probation", "nhs", "voluntary", "cps", "other"])),
        "pension_scheme": draw(st.sampled_from(SCHEMES)),
        "salary": draw(money),
        "overhead_rate": draw(st.floats(0, 1.5)),
        "fte_mode": mode,
        "fte": draw(st.floats(0, 50)) if mode == "fixed" else None,
        "caseload_per_fte": draw(st.floats(1, 5_000)) if mode == "demand" else None,
        "sources": [],
        "assumption": True,
    }
    override = draw(st.one_of(st.none(), frac))  # hand-set, or worked out from the dated rules
    if override is not None:
        role["oncost_override"] = _p(override)
    return role


@st.composite
def scenario_dicts(draw, fixed_only: bool = False, growth_below_discount: bool = False):
    horizon = draw(st.integers(1, 12))
    units = []
    for i in range(draw(st.integers(1, 2))):
        units.append(
            {
                "id": f"unit_{i}",
                "name": f"Unit {i}",
                "price_year": 2024,
                "roles": draw(st.lists(roles(fixed_only), min_size=1, max_size=4)),
                "fixed_costs": draw(
                    st.lists(
                        st.fixed_dictionaries(
                            {
                                "item": st.just("Contract"),
                                "agency": st.sampled_from(["voluntary", "nhs"]),
                                "amount": st.floats(0, 500_000),
                                "index": st.sampled_from(["pay", "non_pay"]),
                                "sources": st.just([]),
                                "assumption": st.just(True),
                            }
                        ),
                        max_size=2,
                    )
                ),
                "non_pay": _p(draw(st.floats(0, 100_000))),
                "recruitment_training_cost_per_new_fte": _p(draw(st.floats(0, 20_000))),
                "attrition_rate": _p(draw(st.floats(0, 0.6))),
                "ramp_up": _p(draw(st.lists(st.floats(0.01, 1.0), max_size=4))),
            }
        )
    deployments = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    # one force, or a regional unit serving several
                    "forces": st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True),
                    "start_year_offset": st.integers(0, horizon - 1),
                    "unit_model": st.sampled_from([u["id"] for u in units]),
                }
            ),
            min_size=1,
            max_size=6,
        )
    )
    discount = draw(st.floats(0, 0.2))
    deflator = draw(st.one_of(st.floats(-0.05, 0.2), st.lists(st.floats(-0.05, 0.2), min_size=1, max_size=5)))
    if growth_below_discount:
        uplift = draw(st.floats(-0.05, min(discount, 0.1)))
        non_pay = deflator
        # The shipped on-cost rules are flat from 2025/26 (employer NI rose in April 2025); from then on a
        # later start moves costs to later, more discounted years at the same rates.
        start = draw(st.integers(2025, 2030))
    else:
        uplift = draw(st.floats(-0.05, 0.1))
        non_pay = draw(st.floats(-0.05, 0.2))
        start = draw(st.integers(2024, 2030))
    demand = draw(st.sampled_from(["rate", "fixed"]))
    return {
        "schema_version": 2,
        "name": "generated",
        "price_base_year": 2024,
        "start_year": start,
        "horizon_years": horizon,
        "discount_rate": _p(discount),
        "optimism_bias": _p(draw(st.floats(0, 2))),
        "pay_uplift": _p(uplift),
        "gdp_deflator": _p(deflator),
        "non_pay_inflation": _p(non_pay),
        "deployments": deployments,
        "unit_models": units,
        "demand": (
            {"referral_rate": {"value": draw(st.floats(0, 2)), "offence_code": "8Q", "sources": [], "assumption": True}}
            if demand == "rate"
            else {"fixed_referrals_per_year": _p(draw(st.floats(0, 5_000)))}
        ),
    }


PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COST_COLUMNS = [
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
    "pv",
]


def _run(data, forces):
    return run_scenario(scenario_from_dict(data), forces, PROPERTY_OFFENCES)


def test_a_regional_unit_is_one_unit_covering_its_forces(forces):
    fixed = _single_role(deployments=[{"forces": [CHESHIRE, MET], "unit_model": "cheshire_hru_like"}])
    r = run_scenario(scenario_from_dict(fixed), forces, {})
    assert r.totals["total_cost_real"] > 0 and r.totals["units"] == 1 and r.totals["forces_covered"] == 2


@PROPS
@given(data=scenario_dicts())
def test_property_costs_are_never_negative(forces, data):
    r = _run(data, forces)
    assert (r.detail[COST_COLUMNS].to_numpy() >= 0).all()
    assert (r.detail["fte"] >= 0).all()
    for key in ("total_cost_nominal", "total_cost_real", "present_value", "fte_total", "steady_annual_cost_real"):
        assert r.totals[key] >= 0 and math.isfinite(r.totals[key])
    assert (r.by_force[["fte", "cost_nominal", "cost_real", "pv"]].to_numpy() >= -1e-9).all()


@PROPS
@given(data=scenario_dicts(fixed_only=True))
def test_property_doubling_every_fixed_fte_doubles_staff_cost(forces, data):
    before = _run(data, forces)
    doubled = copy.deepcopy(data)
    for unit in doubled["unit_models"]:
        for role in unit["roles"]:
            role["fte"] *= 2
    after = _run(doubled, forces)
    for col in ("staff_cost_nominal", "staff_cost_real"):
        assert after.detail[col].sum() == pytest.approx(2 * before.detail[col].sum(), rel=1e-9, abs=1e-6)
    assert after.totals["fte_total"] == pytest.approx(2 * before.totals["fte_total"], rel=1e-9, abs=1e-9)


@PROPS
@given(data=scenario_dicts())
def test_property_zero_discount_rate_makes_pv_equal_the_real_total(forces, data):
    data["discount_rate"] = _p(0.0)
    r = _run(data, forces)
    assert r.totals["present_value"] == pytest.approx(r.totals["total_cost_real"], rel=1e-9, abs=1e-6)


@PROPS
@given(data=scenario_dicts(growth_below_discount=True), pick=st.integers(0, 5), delay=st.integers(1, 11))
def test_property_a_later_start_never_raises_the_pv(forces, data, pick, delay):
    dep = data["deployments"][pick % len(data["deployments"])]
    assume(dep["start_year_offset"] + delay < data["horizon_years"])
    before = _run(data, forces).totals["present_value"]
    dep["start_year_offset"] += delay
    after = _run(data, forces).totals["present_value"]
    assert after <= before * (1 + 1e-9) + 1e-6


@PROPS
@given(data=scenario_dicts(), pick=st.integers(0, 5))
def test_property_removing_a_force_never_raises_the_total(forces, data, pick):
    before = _run(data, forces).totals
    forces_used = sorted({code for d in data["deployments"] for code in d["forces"]})
    code = forces_used[pick % len(forces_used)]
    # the force leaves every unit that served it; a unit left serving no force goes
    for dep in data["deployments"]:
        dep["forces"] = [c for c in dep["forces"] if c != code]
    data["deployments"] = [d for d in data["deployments"] if d["forces"]]
    after = _run(data, forces).totals
    for key in ("total_cost_nominal", "total_cost_real", "present_value", "fte_total"):
        assert after[key] <= before[key] * (1 + 1e-9) + 1e-6
    assert after["forces_covered"] == before["forces_covered"] - 1


def test_two_units_serving_the_same_force_are_both_costed(forces, offences):
    """Two units in one force (a unit and a second wave, or a unit and an advocacy service), as a schema 1
    file with two deployments to one force_code could say: both are costed, line by line."""
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["deployments"] = [
        {"forces": [CHESHIRE], "start_year_offset": 0, "unit_model": "cheshire_hru_like"},
        {"forces": [CHESHIRE], "start_year_offset": 2, "unit_model": "cheshire_hru_like"},
    ]
    one = run_scenario(load_preset("cheshire_hru_like"), forces, offences)
    both = run_scenario(scenario_from_dict(data), forces, offences)
    assert both.totals["units"] == 2 and both.totals["forces_covered"] == 1
    assert both.totals["fte_total"] == pytest.approx(2 * one.totals["fte_total"])
    assert both.totals["total_cost_real"] > one.totals["total_cost_real"]
    assert both.detail["cost_real"].sum() == pytest.approx(both.totals["total_cost_real"])
    assert set(both.detail["area_codes"].astype(str)) == {CHESHIRE}


# --------------------------------------------------------------------------------------------
# Files that only look like scenarios
# --------------------------------------------------------------------------------------------


def test_a_real_register_csv_is_named_as_a_csv_not_bad_yaml():
    with pytest.raises(InputError, match="is a CSV table"):
        load_scenario_bytes(paths.SERVICES_CSV.read_bytes(), where="register.csv")


def test_a_refused_number_is_quoted_back_so_it_can_be_found():
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["unit_models"][0]["roles"][0]["salary"] = -22221
    data["discount_rate"]["value"] = 3
    with pytest.raises(InputError) as caught:
        scenario_from_dict(data)
    text = str(caught.value)
    assert "roles[0].salary: must be between £10,000 and £250,000 (found -22,221)" in text
    assert "discount_rate: must be between 0% and 20% (found 300%)" in text


def test_deeply_nested_yaml_is_refused_at_once_with_its_line():
    """A 40 KB file of nested lists once kept a core busy for minutes and ended in RecursionError;
    now the parse events are counted before anything is built (bench/scenarios.py times it)."""
    text = "name: x\nnested: " + "[" * 20_000 + "]" * 20_000 + "\n"
    with pytest.raises(InputError, match=r"line 2: nested more than 20 levels deep"):
        load_scenario_text(text, where="deep.yaml")


def test_a_scenario_with_too_many_yaml_items_is_refused():
    text = "name: x\nitems: [" + ", ".join(["1"] * 210_000) + "]\n"
    with pytest.raises(InputError, match="more than 200,000 YAML items"):
        load_scenario_text(text, where="many.yaml")
