"""The Scenario planner: AppTest runs of the page, the tables ↔ scenario conversion as pure functions,
and one browser run that takes a screenshot (bench/out/scenarios.png)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from coverage import paths
from coverage.errors import InputError
from coverage.export import csv_bytes
from coverage.model import atlas_data
from coverage.model.indicators import planner_offences_by_force
from coverage.outputs.scenario_charts import money
from coverage.planner import editing as tables
from coverage.planner.costing import run_scenario, with_deployments
from coverage.planner.schema import (
    load_preset,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    scenario_to_yaml,
)
from coverage.planner.store import SQLiteScenarioStore
from ui import scenario_view as view

TIMEOUT = 90
PAGE = "app_pages/scenarios.py"
CHESHIRE, KENT, LANCASHIRE, CUMBRIA, DORSET = "E23000006", "E23000032", "E23000003", "E23000002", "E23000039"
CASH = "Total cost, cash (nominal)"


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


def expected(atlas, existing, codes, *, preset="cheshire_hru_like", wave2=(), wave2_year=3, scenario=None):
    """The totals the page should show, from the core alone."""
    s = scenario or with_deployments(load_preset(preset), codes)
    if wave2:
        data = scenario_to_dict(s)
        data["deployments"] += [
            {"force_code": c, "start_year_offset": wave2_year - 1, "unit_model": data["unit_models"][0]["id"]}
            for c in wave2
        ]
        s = scenario_from_dict(data)
    return run_scenario(s, atlas.forces, planner_offences_by_force(atlas.indicators), existing_units=existing)


def page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def cash(at: AppTest) -> str:
    return metrics(at)[CASH]


def problems(at: AppTest):
    """The problems table shown under an error (the last table with a 'Problem' column)."""
    tables = [d.value for d in at.dataframe if "Problem" in d.value.columns]
    assert tables, "no problems table"
    return tables[-1]


def qp(at: AppTest, key: str) -> list[str]:
    value = at.query_params.get(key, [])
    return list(value) if isinstance(value, (list, tuple)) else [value]


def texts(at: AppTest) -> str:
    return "\n".join(x.value for x in [*at.markdown, *at.caption, *at.subheader, *at.header])


def seed_editor(
    at: AppTest, key: str, edited: dict | None = None, added: list | None = None, deleted: list | None = None
):
    at.session_state[key] = {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}
    return at.run()


def param_row(key: str) -> int:
    return list(tables.params_table(view.preset_dict("cheshire_hru_like")).index).index(key)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# --------------------------------------------------------------------------------------------
# Default view, placement and the link
# --------------------------------------------------------------------------------------------


def test_default_view_runs_and_shows_totals(atlas, existing):
    at = page()
    assert_clean(at)
    assert at.title[0].value == "Scenario planner"
    r = expected(atlas, existing, [CHESHIRE])
    shown = metrics(at)
    assert shown[CASH] == money(r.totals["total_cost_nominal"])
    assert shown["Total cost, real (2024/25 prices)"] == money(r.totals["total_cost_real"])
    assert shown["Present value (2024/25 prices)"] == money(r.totals["present_value"])
    assert shown["Staff, fully staffed (FTE)"] == "11.0"
    assert shown["Cost per referral, a year"] == money(r.totals["cost_per_referral"], exact=True)
    assert shown["Cost per 100,000 aged 16+, a year"] == money(r.totals["cost_per_100k_16plus"], exact=True)
    assert shown["Forces with a multi-agency unit"] == "4 → 4"  # Cheshire already has one
    text = texts(at)
    assert "2024/25 prices" in text and "in cash" in text and "discounted at 3.5%" in text
    assert "Already has a multi-agency unit" in text
    assert qp(at, "preset") == ["cheshire_hru_like"] and qp(at, "forces") == [CHESHIRE]
    # every chart has its data table and a takeaway sentence
    assert "**Cost by year.** In cash, the cost goes from" in text
    assert not at.error


def test_choosing_forces_changes_the_totals_and_the_link(atlas, existing):
    at = page()
    at.selectbox(key="scn_force").set_value(KENT).run()
    assert_clean(at)
    assert cash(at) == money(expected(atlas, existing, [KENT]).totals["total_cost_nominal"])
    assert metrics(at)["Forces with a multi-agency unit"] == "4 → 5"

    at.radio(key="scn_where").set_value("list").run()
    at.multiselect(key="scn_forces").set_value([KENT, LANCASHIRE, CUMBRIA]).run()
    assert_clean(at)
    r = expected(atlas, existing, [KENT, LANCASHIRE, CUMBRIA])
    assert cash(at) == money(r.totals["total_cost_nominal"])
    assert metrics(at)["Forces with a multi-agency unit"] == "4 → 7"
    assert qp(at, "where") == ["list"]
    assert qp(at, "forces") == [KENT, LANCASHIRE, CUMBRIA]


def test_switching_placement_modes_keeps_what_was_chosen():
    at = page()
    at.selectbox(key="scn_force").set_value(KENT).run()
    at.radio(key="scn_where").set_value("list").run()
    assert at.multiselect(key="scn_forces").value == [KENT]  # the list starts from the force chosen
    at.multiselect(key="scn_forces").set_value([KENT, DORSET]).run()
    at.radio(key="scn_where").set_value("one").run()
    assert at.selectbox(key="scn_force").value == KENT
    at.radio(key="scn_where").set_value("no_unit").run()
    at.radio(key="scn_where").set_value("list").run()
    assert_clean(at)
    assert at.multiselect(key="scn_forces").value == [KENT, DORSET]


def test_every_force_without_a_unit_reaches_all_43(atlas, existing):
    at = page()
    at.radio(key="scn_where").set_value("no_unit").run()
    assert_clean(at)
    no_unit = sorted(set(atlas.forces["code"]) - existing)
    assert len(no_unit) == 39
    r = expected(atlas, existing, no_unit)
    assert cash(at) == money(r.totals["total_cost_nominal"])
    assert metrics(at)["Forces with a multi-agency unit"] == "4 → 43"
    assert metrics(at)["People aged 16+ served by one"].endswith("→ 100%")


def test_waves_start_the_second_group_later(atlas, existing):
    at = page()
    at.radio(key="scn_where").set_value("waves").run()
    at.multiselect(key="scn_forces").set_value([KENT]).run()
    at.multiselect(key="scn_wave2").set_value([LANCASHIRE, CUMBRIA]).run()
    assert_clean(at)
    r = expected(atlas, existing, [KENT], wave2=[LANCASHIRE, CUMBRIA], wave2_year=3)
    assert cash(at) == money(r.totals["total_cost_nominal"])
    assert "from 2028/29" in texts(at)
    at.number_input(key="scn_wave2_year").set_value(5).run()
    later = expected(atlas, existing, [KENT], wave2=[LANCASHIRE, CUMBRIA], wave2_year=5)
    assert cash(at) == money(later.totals["total_cost_nominal"])
    assert later.totals["total_cost_nominal"] < r.totals["total_cost_nominal"]
    assert qp(at, "wave2") == [LANCASHIRE, CUMBRIA] and qp(at, "from") == ["5"]

    # the same force in both waves is refused, naming the field; the last good totals stay
    at.multiselect(key="scn_wave2").set_value([LANCASHIRE, CUMBRIA, KENT]).run()
    assert_clean(at)
    assert "not used" in at.error[0].value
    assert "in both waves" in " ".join(problems(at)["Problem"])
    assert problems(at)["Where"].iloc[0] == "Where the units go"
    assert cash(at) == money(later.totals["total_cost_nominal"])


def test_a_link_reproduces_the_view(atlas, existing):
    at = page({"preset": "advocacy_only", "where": "list", "forces": [KENT, DORSET]})
    assert_clean(at)
    r = expected(atlas, existing, [KENT, DORSET], preset="advocacy_only")
    assert cash(at) == money(r.totals["total_cost_nominal"])
    assert at.selectbox(key="scn_preset").value == "advocacy_only"


def test_a_link_with_unknown_values_is_ignored_not_an_error(atlas, existing):
    at = page({"preset": "<script>", "where": "everywhere", "forces": ["E23999999", "x"], "saved": "nope"})
    assert_clean(at)
    assert cash(at) == money(expected(atlas, existing, [CHESHIRE]).totals["total_cost_nominal"])
    assert "no saved scenario 'nope'" in at.error[0].value


def test_changing_the_preset_keeps_the_forces(atlas, existing):
    at = page()
    at.radio(key="scn_where").set_value("list").run()
    at.multiselect(key="scn_forces").set_value([KENT, DORSET]).run()
    at.selectbox(key="scn_preset").set_value("met_stac_like").run()
    assert_clean(at)
    r = expected(atlas, existing, [KENT, DORSET], preset="met_stac_like")
    assert cash(at) == money(r.totals["total_cost_nominal"])


def test_an_advocacy_only_service_is_costed_but_adds_no_multi_agency_unit(atlas, existing):
    at = page()
    at.radio(key="scn_where").set_value("list").run()
    at.multiselect(key="scn_forces").set_value([KENT, DORSET]).run()
    at.selectbox(key="scn_preset").set_value("advocacy_only").run()
    assert_clean(at)
    r = expected(atlas, existing, [KENT, DORSET], preset="advocacy_only")
    assert cash(at) == money(r.totals["total_cost_nominal"])
    assert metrics(at)["Forces with a multi-agency unit"] == "4 → 4"
    unit_name = load_preset("advocacy_only").unit_models[0].name[:20]
    assert any("Not a multi-agency unit" in c.value and unit_name in c.value for c in at.caption)


# --------------------------------------------------------------------------------------------
# Editing assumptions; bad values are refused and the last good scenario stays
# --------------------------------------------------------------------------------------------


def test_editing_a_salary_in_the_roles_table_changes_the_totals(atlas, existing):
    at = page()
    before = cash(at)
    seed_editor(at, "scn_roles", {0: {"salary": 60_000}})
    assert_clean(at)
    assert not at.error
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["unit_models"][0]["roles"][0]["salary"] = 60_000
    r = expected(atlas, existing, [CHESHIRE], scenario=scenario_from_dict(data))
    assert cash(at) == money(r.totals["total_cost_nominal"]) != before
    role = at.session_state["scn_last_good"]["unit_models"][0]["roles"][0]
    assert role["assumption"] is True and "salary 51,408 → 60,000" in role["note"]


def test_editing_scenario_parameters_changes_present_value_and_records_user_input(atlas, existing):
    at = page()
    seed_editor(
        at, "scn_params", {param_row("discount_rate"): {"Value": 1.5}, param_row("optimism_bias"): {"Value": 20}}
    )
    assert_clean(at)
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["discount_rate"] = 0.015
    data["optimism_bias"] = 0.2
    r = expected(atlas, existing, [CHESHIRE], scenario=scenario_from_dict(data))
    assert metrics(at)["Present value (2024/25 prices)"] == money(r.totals["present_value"])
    saved = at.session_state["scn_last_good"]
    assert saved["discount_rate"]["source"] == "user input" and saved["discount_rate"]["assumption"] is True
    assert "the file had 3.5% (P014)" in saved["discount_rate"]["note"]
    assert "20% optimism bias" in texts(at)


def test_adding_and_deleting_roles(atlas, existing):
    at = page()
    seed_editor(
        at,
        "scn_roles",
        added=[
            {
                "role": "Analyst",
                "agency": "police",
                "salary": 35_000,
                "oncost_rate": 30,
                "overhead_rate": 20,
                "fte_mode": "fixed",
                "fte": 0.5,
            }
        ],
        deleted=[7],
    )
    assert_clean(at)
    assert not at.error
    roles = at.session_state["scn_last_good"]["unit_models"][0]["roles"]
    assert [r["role"] for r in roles][-1] == "Analyst" and len(roles) == 8
    assert "Specialist CPS prosecutor" not in [r["role"] for r in roles]
    assert roles[-1]["oncost_rate"] == pytest.approx(0.3)


@pytest.mark.parametrize(
    "editor, edit, field, message",
    [
        ("scn_roles", {0: {"fte": -1}}, "unit_models[0].roles[0].fte", "must be between 0 and 100"),
        (
            "scn_roles",
            {1: {"salary": 10_000_000}},
            "unit_models[0].roles[1].salary",
            "must be between £10,000 and £250,000",
        ),
        ("scn_roles", {2: {"salary": None}}, "unit_models[0].roles[2].salary", "is blank"),
        ("scn_roles", {3: {"role": None}}, "unit_models[0].roles[3].role", "is blank"),
        ("scn_params", {"discount_rate": {"Value": 300}}, "discount_rate", "must be between 0% and 20%"),
        ("scn_params", {"referral_rate": {"Value": None}}, "demand.referral_rate.value", "is blank"),
        ("scn_params", {"horizon_years": {"Value": 40}}, "horizon_years", "must be between 1 and 30"),
        ("scn_params", {"horizon_years": {"Value": 2.5}}, "horizon_years", "must be a whole number"),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_the_last_good_totals_stay(editor, edit, field, message):
    at = page()
    before, good = metrics(at), at.session_state["scn_last_good"]
    if editor == "scn_params":
        edit = {param_row(k): v for k, v in edit.items()}
    seed_editor(at, editor, edit)
    assert_clean(at)
    assert "not used" in at.error[0].value and "last valid scenario" in at.error[0].value
    table = problems(at)
    row = table[table["Field"] == field]
    assert not row.empty, table.to_string()
    assert message in row["Problem"].iloc[0]
    assert row["Where"].iloc[0].startswith(("Roles table, row", "Assumptions table"))
    assert metrics(at) == before
    assert at.session_state["scn_last_good"] == good
    # saving now is refused too: nothing invalid reaches the store
    at.text_input(key="scn_save_name").set_value("Broken").run()
    at.button(key="scn_save").click().run()
    assert any("Not saved" in e.value for e in at.error)
    assert SQLiteScenarioStore().list() == []


def test_fixing_the_bad_value_brings_the_new_figures_back(atlas, existing):
    at = page()
    seed_editor(at, "scn_roles", {1: {"salary": 10_000_000}})
    assert at.error
    seed_editor(at, "scn_roles", {1: {"salary": 50_000}})
    assert_clean(at)
    assert not at.error
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["unit_models"][0]["roles"][1]["salary"] = 50_000
    assert cash(at) == money(
        expected(atlas, existing, [CHESHIRE], scenario=scenario_from_dict(data)).totals["total_cost_nominal"]
    )


# --------------------------------------------------------------------------------------------
# Save, list, reopen, duplicate, delete, restore
# --------------------------------------------------------------------------------------------


def _save(at: AppTest, name: str) -> AppTest:
    at.text_input(key="scn_save_name").set_value(name).run()
    return at.button(key="scn_save").click().run()


def test_save_list_reopen_duplicate_restore_and_delete(atlas, existing):
    at = page()
    _save(at, "Plan A")
    assert_clean(at)
    assert "Saved “Plan A” as version 1." in at.success[0].value
    cheshire_cash = cash(at)

    at.selectbox(key="scn_force").set_value(KENT).run()
    kent_cash = cash(at)
    _save(at, "Plan A")
    assert "version 2" in at.success[0].value
    listing = next(d.value for d in at.dataframe if "Versions" in d.value.columns)
    assert list(listing["Name"]) == ["Plan A"] and list(listing["Versions"]) == [2]
    assert qp(at, "saved") == ["Plan A"]

    # reopen in a fresh session (another planner, same store): the latest version
    other = page()
    other.selectbox(key="scn_saved_pick").set_value("Plan A").run()
    other.button(key="scn_open").click().run()
    assert_clean(other)
    assert cash(other) == kent_cash
    assert "Opened “Plan A”" in other.success[0].value

    # a link to the saved scenario reopens it
    linked = page({"saved": "Plan A"})
    assert cash(linked) == kent_cash

    # duplicate
    other.text_input(key="scn_dup_name").set_value("Plan B").run()
    other.button(key="scn_duplicate").click().run()
    assert "Copied “Plan A” to “Plan B”" in other.success[0].value
    assert [i.name for i in SQLiteScenarioStore().list()] == ["Plan A", "Plan B"]
    other.text_input(key="scn_dup_name").set_value("Plan B").run()
    other.button(key="scn_duplicate").click().run()
    assert "already exists" in other.error[0].value

    # restore the previous version of Plan A: it becomes version 3 and is opened
    other.selectbox(key="scn_saved_pick").set_value("Plan A").run()
    other.selectbox(key="scn_version_pick").set_value(1).run()
    other.button(key="scn_restore").click().run()
    assert_clean(other)
    assert "Version 1 of “Plan A” is current again (saved as version 3)" in other.success[0].value
    assert cash(other) == cheshire_cash
    assert [v.version for v in SQLiteScenarioStore().versions("Plan A")] == [1, 2, 3]

    # delete asks first, then removes every version; the scenario stays on screen
    other.selectbox(key="scn_saved_pick").set_value("Plan A").run()
    other.button(key="scn_delete").click().run()
    assert "Delete “Plan A” and all 3 of its versions?" in other.warning[0].value
    other.button(key="scn_delete_yes").click().run()
    assert_clean(other)
    assert "Deleted “Plan A” (3 versions)" in other.success[0].value
    assert [i.name for i in SQLiteScenarioStore().list()] == ["Plan B"]
    assert cash(other) == cheshire_cash


def test_a_damaged_store_row_is_listed_not_fatal(scenario_db):
    store = SQLiteScenarioStore()
    store.save("Good", load_preset("advocacy_only"))
    import sqlite3

    with sqlite3.connect(scenario_db) as con:
        con.execute("INSERT INTO scenario_versions VALUES ('Bad', 1, '2026-01-01', 1, 'x', 'kind: nonsense', '')")
    at = page()
    assert_clean(at)
    listing = next(d.value for d in at.dataframe if "Versions" in d.value.columns)
    assert set(listing["Name"]) == {"Bad", "Good"}
    assert listing.set_index("Name").loc["Bad", "Valid"].startswith("no:")
    at.selectbox(key="scn_saved_pick").set_value("Bad").run()
    at.button(key="scn_open").click().run()
    assert_clean(at)
    assert "not a scenario file" in at.error[0].value


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


def _upload(at: AppTest, name: str, content: bytes, mime: str = "application/x-yaml") -> AppTest:
    uploader = next(u for u in at.get("file_uploader") if u.key == "scn_upload")
    return uploader.set_value((name, content, mime)).run()


def test_switching_unit_model_never_carries_one_units_edits_into_another():
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    second = copy.deepcopy(data["unit_models"][0])
    second.update(id="second_unit", name="Second unit")
    second["ramp_up"] = {"value": [0.25], "source": "", "assumption": True, "note": "quarter first"}
    data["unit_models"].append(second)
    at = page()
    _upload(at, "two_units.yaml", scenario_to_yaml(scenario_from_dict(data)).encode())
    assert_clean(at)
    at.text_input(key="scn_ramp").set_value("100").run()
    at.selectbox(key="scn_unit").set_value("second_unit").run()
    assert_clean(at)
    assert at.text_input(key="scn_ramp").value == "25"  # the second unit's own ramp-up, not the first's edit
    saved = at.session_state["scn_last_good"]["unit_models"][1]["ramp_up"]
    assert saved["value"] == [0.25] and saved["source"] != "user input"
    assert any("unsaved edits to the other unit model were set aside" in i.value for i in at.info)


def test_yaml_download_and_upload_round_trip(media, atlas, existing):
    at = page()
    at.radio(key="scn_where").set_value("waves").run()
    at.multiselect(key="scn_forces").set_value([KENT]).run()
    at.multiselect(key="scn_wave2").set_value([DORSET]).run()
    seed_editor(at, "scn_roles", {0: {"salary": 55_555}})
    assert not at.error
    shown = metrics(at)
    yaml_name = next(name for name in media if name.endswith(".yaml"))
    content = media[yaml_name]
    assert content.decode() == scenario_to_yaml(scenario_from_dict(at.session_state["scn_last_good"]))
    assert yaml.safe_load(content)["deployments"][1] == {
        "force_code": DORSET,
        "start_year_offset": 2,
        "unit_model": "cheshire_hru_like",
    }

    elsewhere = page()
    _upload(elsewhere, yaml_name, content)
    assert_clean(elsewhere)
    assert f"Opened {tables.file_stem('Cheshire HRU-like unit')}.yaml".replace("_", "\\_") in elsewhere.success[0].value
    assert metrics(elsewhere) == shown
    assert elsewhere.radio(key="scn_where").value == "waves"
    assert elsewhere.multiselect(key="scn_wave2").value == [DORSET]
    assert elsewhere.session_state["scn_last_good"] == at.session_state["scn_last_good"]


def _cheshire_yaml(**changes) -> bytes:
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False).encode()


@pytest.mark.parametrize(
    "name, content, needle",
    [
        ("broken.yaml", b"name: [unclosed\nkind: scenario\n", "is not valid YAML at line"),
        ("future.yaml", _cheshire_yaml(schema_version=2), "scenario schema version 2, but this app reads version 1"),
        ("register.csv", paths.SERVICES_CSV.read_bytes()[:4000], "is a CSV table"),
        ("small.csv", b"code,name,value\nE23000006,Cheshire,1\n", "is a CSV table"),
        ("big.yaml", b"# padding\n" * 150_000, "a scenario file is at most 1 MB"),
        ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a UTF-8 text file"),
        ("bad_values.yaml", _cheshire_yaml(discount_rate=3.0), "discount_rate: must be between 0% and 20%"),
        ("boundaries.geojson", b'{"type": "FeatureCollection", "features": []}', "GeoJSON"),
        (
            "unknown_force.yaml",
            _cheshire_yaml(
                deployments=[{"force_code": "E23000099", "start_year_offset": 0, "unit_model": "cheshire_hru_like"}]
            ),
            "deployments[0].force_code: E23000099 is not in the force table",
        ),
    ],
)
def test_unusable_uploads_get_a_clear_message_and_the_scenario_stays(name, content, needle):
    at = page()
    before, good = metrics(at), at.session_state["scn_last_good"]
    _upload(at, name, content)
    assert_clean(at)
    assert f"{name.replace('_', chr(92) + '_')} cannot be opened" in at.error[-1].value
    table = problems(at)
    assert needle in " ".join(table["Field"] + ": " + table["Problem"])
    assert set(table["Where"]) == {f"File {name}"}
    assert metrics(at) == before
    assert at.session_state["scn_last_good"] == good


def test_a_50_mb_upload_is_refused_before_it_is_read():
    at = page()
    _upload(at, "huge.yaml", b"x" * 50_000_000)
    assert_clean(at)
    assert "is 50.0 MB; a scenario file is at most 1 MB" in " ".join(problems(at)["Problem"])


# --------------------------------------------------------------------------------------------
# Compare up to four
# --------------------------------------------------------------------------------------------


def test_compare_up_to_four_scenarios_and_a_fifth_is_refused_politely(atlas, existing):
    at = page()
    for code in (CHESHIRE, KENT, LANCASHIRE, CUMBRIA):
        at.selectbox(key="scn_force").set_value(code).run()
        at.button(key="scn_compare_add").click().run()
        assert_clean(at)
    table = next(d.value for d in at.dataframe if "Present value" in list(d.value.index))
    assert table.shape[1] == 4
    kent = expected(atlas, existing, [KENT])
    column = next(c for c in table.columns if "Kent" in c)
    assert table.loc["Present value", column] == money(kent.totals["present_value"], exact=True)
    assert table.loc["Forces with a unit", column] == "4 → 5"

    at.selectbox(key="scn_force").set_value(DORSET).run()
    at.button(key="scn_compare_add").click().run()
    assert_clean(at)
    assert "already holds 4 scenarios" in at.warning[0].value and "Remove one" in at.warning[0].value
    assert len(at.session_state["scn_compare"]) == 4

    # the same scenario twice is not added again
    at.button(key="scn_compare_remove_3").click().run()
    at.selectbox(key="scn_force").set_value(KENT).run()
    at.button(key="scn_compare_add").click().run()
    assert "already in the comparison" in at.info[0].value
    assert len(at.session_state["scn_compare"]) == 3
    at.button(key="scn_compare_clear").click().run()
    assert at.session_state["scn_compare"] == []


def test_a_saved_scenario_can_be_added_to_the_comparison():
    SQLiteScenarioStore().save("Advocacy in Kent", with_deployments(load_preset("advocacy_only"), [KENT]))
    at = page()
    at.selectbox(key="scn_compare_saved").set_value("Advocacy in Kent").run()
    at.button(key="scn_compare_add_saved").click().run()
    assert_clean(at)
    assert [e["label"] for e in at.session_state["scn_compare"]] == ["Advocacy in Kent"]


# --------------------------------------------------------------------------------------------
# Tables ↔ scenario, as pure functions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset", ["cheshire_hru_like", "hampshire_masp_like", "london_2020_21_grants", "met_stac_like", "advocacy_only"]
)
def test_unedited_tables_give_back_the_same_scenario(preset):
    data = scenario_to_dict(load_preset(preset))
    placement = tables.placement_from_deployments(data["deployments"])
    deployments, extra = tables.deployments_for(placement, data["unit_models"][0]["id"], [])
    scenario = tables.edited_scenario(
        data,
        unit_index=0,
        params=tables.params_table(data),
        roles=tables.roles_table(data),
        fixed=tables.fixed_table(data),
        deployments=deployments,
        ramp=tables.ramp_text(data),
    )
    assert not extra
    assert scenario_hash(scenario) == scenario_hash(load_preset(preset))


def test_every_default_shows_its_source_or_says_assumption():
    data = view.preset_dict("cheshire_hru_like")
    table = tables.params_table(data)
    assert table.loc["discount_rate", "Source"] == "P014"
    assert table.loc["optimism_bias", "Source"] == "assumption"
    assert table.loc["optimism_bias", "Value"] == 0
    assert table.loc["discount_rate", "Value"] == 3.5
    assert table.loc["gdp_deflator", "Source"] == "P015; P016 (assumption)"
    assert table["Source"].str.len().gt(0).all()
    roles = tables.roles_table(data)
    assert roles["source"].str.len().gt(0).all() and roles["assumption"].all()


def test_a_changed_value_is_marked_as_user_input_with_the_old_value():
    data = view.preset_dict("cheshire_hru_like")
    params = tables.params_table(data)
    params.loc["referral_rate", "Value"] = 0.05
    params.loc["attrition_rate", "Value"] = 12.5
    scenario = tables.edited_scenario(
        data, unit_index=0, params=params, roles=None, fixed=None, deployments=data["deployments"]
    )
    assert scenario.demand.referral_rate.rate == 0.05
    assert scenario.demand.referral_rate.source == "user input"
    assert "the file had 0.0227887" in scenario.demand.referral_rate.note
    assert scenario.unit_models[0].attrition_rate.value == pytest.approx(0.125)
    assert scenario.unit_models[0].attrition_rate.assumption is True


@pytest.mark.parametrize(
    "typed, stored",
    [("50, 80", None), ("50% 80%", None), ("100", [1.0]), ("", []), ("  25;60 ; 90 ", [0.25, 0.6, 0.9])],
)
def test_ramp_up_is_typed_as_percentages_by_year(typed, stored):
    data = view.preset_dict("cheshire_hru_like")
    assert tables.ramp_text(data) == "50, 80"
    scenario = tables.edited_scenario(
        data, unit_index=0, params=None, roles=None, fixed=None, deployments=data["deployments"], ramp=typed
    )
    ramp = scenario.unit_models[0].ramp_up
    if stored is None:  # the same years as the file: its source is kept
        assert ramp.value == [0.5, 0.8] and ramp.source == data["unit_models"][0]["ramp_up"]["source"]
    else:
        assert ramp.value == pytest.approx(stored) if stored else ramp.value == []
        assert ramp.source == "user input" and ramp.assumption is True
        assert "the file had 50%, 80%" in ramp.note


@pytest.mark.parametrize(
    "typed, message",
    [
        ("fifty", "'fifty' is not a percentage"),
        ("0, 50", "first year's fraction must be above 0"),
        ("50, 150", "between"),
        (", ".join(["50"] * 11), "at most 10"),
        ("nan", "is not a percentage"),
    ],
)
def test_a_bad_ramp_up_is_refused_naming_the_box(typed, message):
    data = view.preset_dict("cheshire_hru_like")
    with pytest.raises(InputError) as caught:
        tables.edited_scenario(
            data, unit_index=0, params=None, roles=None, fixed=None, deployments=data["deployments"], ramp=typed
        )
    table = tables.problem_rows(caught.value, data)
    row = table[table["Field"].str.startswith("unit_models[0].ramp_up")]
    assert not row.empty, table.to_string()
    assert message in row["Problem"].iloc[0]
    assert row["Where"].iloc[0] == "Assumptions tab, “Ramp-up” box"


def test_typing_a_ramp_up_on_the_page_changes_the_totals_and_a_bad_one_keeps_them(atlas, existing):
    at = page()
    at.text_input(key="scn_ramp").set_value("100").run()
    assert_clean(at)
    assert not at.error
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    data["unit_models"][0]["ramp_up"] = {"value": [1.0], "source": "user input", "assumption": True}
    full = expected(atlas, existing, [CHESHIRE], scenario=scenario_from_dict(data))
    assert cash(at) == money(full.totals["total_cost_nominal"])
    at.text_input(key="scn_ramp").set_value("0, 40").run()
    assert_clean(at)
    assert "not used" in at.error[0].value
    assert cash(at) == money(full.totals["total_cost_nominal"])
    assert "first year" in problems(at)["Problem"].iloc[0]


def test_problems_are_located_on_the_page():
    data = view.preset_dict("cheshire_hru_like")
    roles = tables.roles_table(data)
    roles.loc[2, "caseload_per_fte"] = None  # a demand role with no caseload
    roles.loc[0, "oncost_rate"] = 95
    with pytest.raises(InputError) as caught:
        tables.edited_scenario(
            data, unit_index=0, params=None, roles=roles, fixed=None, deployments=data["deployments"]
        )
    rows = tables.problem_rows(caught.value, data)
    assert set(rows["Field"]) == {"unit_models[0].roles[0].oncost_rate", "unit_models[0].roles[2]"}
    where = dict(zip(rows["Field"], rows["Where"]))
    assert where["unit_models[0].roles[0].oncost_rate"] == (
        "Roles table, row 1 (Detective sergeant (unit lead)), column “On-costs (% of salary)”"
    )
    assert where["unit_models[0].roles[2]"] == "Roles table, row 3 (Probation officer)"
    assert "caseload_per_fte is required" in " ".join(rows["Problem"])
    assert tables.where_on_page("deployments[3].force_code") == "Where the units go"
    assert tables.where_on_page("unit_models[0].non_pay") == "Assumptions table, “Non-pay per unit”"


FORCE_CODES = sorted(atlas_data.load_forces()["code"])


@settings(max_examples=60, deadline=None)
@given(
    first=st.lists(st.sampled_from(FORCE_CODES), unique=True, max_size=6),
    second=st.lists(st.sampled_from(FORCE_CODES), unique=True, max_size=6),
    year=st.integers(min_value=2, max_value=10),
)
def test_placements_round_trip_through_deployments(first, second, year):
    second = [c for c in second if c not in first]
    placement = tables.Placement(mode="waves", forces=tuple(first), wave2=tuple(second), wave2_year=year)
    deployments, extra = tables.deployments_for(placement, "u", [])
    assert not extra
    assert len(deployments) == len(first) + len(second)
    again = tables.placement_from_deployments(deployments)
    rebuilt, _ = tables.deployments_for(again, "u", [])
    assert rebuilt == deployments


def test_results_workbook_has_inputs_results_and_sources(atlas, existing):
    import io

    from openpyxl import load_workbook

    r = expected(atlas, existing, [KENT])
    book = load_workbook(io.BytesIO(view.xlsx_bytes(r)))
    assert book.sheetnames == ["Inputs", "Results", "Sources"]


def test_csv_exports_neutralise_formulas():
    import pandas as pd

    frame = pd.DataFrame({"role": ['=HYPERLINK("x")', "Nurse"], "fte": [1.0, -2.0]})
    text = csv_bytes(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "-2.0" in text  # numbers stay numbers


# --------------------------------------------------------------------------------------------
# Browser: the running app, screenshot for a human to look at
# --------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_browser_opens_scenarios_and_shows_the_totals(scenario_db):
    if not Path("/usr/bin/chromium").exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.apprunner import launch_chromium, record_outside_requests, running_app

    out = paths.REPO_ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    with running_app() as url, sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 2400})
        outside = record_outside_requests(context, url)
        browser_page = context.new_page()
        browser_page.goto(url + "/scenarios?where=list&forces=E23000032&forces=E23000039")
        browser_page.get_by_text(CASH).wait_for(timeout=60_000)
        browser_page.locator(".vega-embed").first.wait_for(timeout=30_000)
        browser_page.wait_for_timeout(1500)
        body = browser_page.inner_text("body")
        assert "Page not found" not in body  # opened first on a fresh server, it still runs inside app.py
        assert "Forces with a multi-agency unit" in body and "4 → 6" in body
        browser_page.screenshot(path=str(out / "scenarios.png"), full_page=True)
        assert outside == [], f"the page tried to reach other hosts: {outside[:5]}"
        browser.close()
