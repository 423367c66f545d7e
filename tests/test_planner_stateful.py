"""The Scenario planner cannot drift: random sequences of a planner's actions, checked after every step.

A Hypothesis state machine drives the page through AppTest: switch preset, edit a salary or a caseload,
type a ramp-up, change where the units go, upload a file, save, open a saved scenario, choose another
unit model, add the scenario on screen to the comparison. After every step it checks that

* the totals on screen equal the pure model's totals for the YAML file the page would download,
  costed by the command line (``atlas cost FILE --json``), with the page's own formatting;
* the comparison row of every entry that is the scenario on screen shows those same totals;
* the Save name box, the preset box and the URL describe the scenario on screen.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from coverage import cli, paths
from coverage.outputs.scenario_charts import money
from coverage.planner.schema import load_preset, preset_ids, scenario_from_dict, scenario_to_dict, scenario_to_yaml

PAGE = "app_pages/scenarios.py"
TIMEOUT = 120
FORCES = ["E23000006", "E23000032", "E23000003", "E23000034", "E23000001", "E23000039"]


def two_unit_file() -> bytes:
    """A scenario with two unit models (the second with its own ramp-up), to exercise choosing a unit."""
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    second = copy.deepcopy(data["unit_models"][0])
    second.update(id="second_unit", name="Second unit")
    second["ramp_up"] = {"value": [0.25], "sources": [], "assumption": True, "note": "a quarter in year one"}
    data["unit_models"].append(second)
    data["deployments"].append({"forces": ["E23000032"], "start_year_offset": 1, "unit_model": "second_unit"})
    return scenario_to_yaml(scenario_from_dict(data)).encode()


def cli_totals(yaml_text: bytes, tmp: Path) -> dict:
    """The downloaded file costed by the command line, as a user would."""
    path = tmp / "downloaded.yaml"
    path.write_bytes(yaml_text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["cost", str(path), "--json"]) == 0
    return json.loads(out.getvalue())


class Planner(RuleBasedStateMachine):
    media: dict[str, bytes]
    tmp: Path

    def __init__(self) -> None:
        super().__init__()
        self.saved: list[str] = []
        self.at = AppTest.from_file(str(paths.REPO_ROOT / PAGE), default_timeout=TIMEOUT)
        self.run()

    # -- helpers --------------------------------------------------------------------------
    def run(self) -> None:
        self.media.clear()
        self.at.run()
        assert not self.at.exception, [e.value for e in self.at.exception]

    @property
    def state(self):
        return self.at.session_state["scn_state"]

    def key(self, name: str) -> str:
        return f"scn_{name}_{self.state.generation}"

    def editor(self, name: str) -> str:
        return f"scn_{name}_{self.state.generation}_{self.state.unit_id}"

    # -- actions --------------------------------------------------------------------------
    @rule(preset=st.sampled_from(preset_ids()))
    def switch_preset(self, preset: str) -> None:
        self.at.selectbox(key=self.key("preset")).set_value(preset)
        self.run()
        assert self.state.origin.kind == "preset" and self.state.origin.preset == preset
        assert self.state.save_name == ""

    @rule(salary=st.integers(min_value=20_000, max_value=90_000))
    def edit_first_salary(self, salary: int) -> None:
        if not self.state.base["unit_models"][self.state.unit_index].get("roles"):
            return
        self.at.session_state[self.editor("roles")] = {
            "edited_rows": {0: {"salary": salary}},
            "added_rows": [],
            "deleted_rows": [],
        }
        self.run()

    @rule(caseload=st.sampled_from([50, 104, 200, 0]))
    def edit_last_caseload(self, caseload: int) -> None:
        roles = self.state.base["unit_models"][self.state.unit_index].get("roles") or []
        if not roles:
            return
        self.at.session_state[self.editor("roles")] = {
            "edited_rows": {len(roles) - 1: {"caseload_per_fte": caseload}},  # 0 is refused: stays on screen
            "added_rows": [],
            "deleted_rows": [],
        }
        self.run()

    @rule(ramp=st.sampled_from(["", "50, 80", "100", "0"]))
    def type_ramp(self, ramp: str) -> None:
        self.at.text_input(key=self.editor("ramp")).input(ramp)
        self.run()

    @rule(
        mode=st.sampled_from(["one", "list", "no_unit", "shared"]), forces=st.lists(st.sampled_from(FORCES), max_size=3)
    )
    def place(self, mode: str, forces: list[str]) -> None:
        self.at.radio(key=self.key("where")).set_value(mode)
        self.run()
        if mode == "one" and forces:
            self.at.selectbox(key=self.key("force")).set_value(forces[0])
            self.run()
        elif mode in ("list", "shared"):
            self.at.multiselect(key=self.key("forces" if mode == "list" else "shared")).set_value(
                list(dict.fromkeys(forces))
            )
            self.run()

    @rule()
    def upload_two_units(self) -> None:
        uploader = next(u for u in self.at.get("file_uploader") if u.key == "scn_upload")
        uploader.set_value(("two_units.yaml", two_unit_file(), "application/x-yaml"))
        self.run()
        assert self.state.origin.kind == "upload"
        assert self.state.save_name == scenario_from_dict(yaml.safe_load(two_unit_file())).name

    @precondition(lambda self: len(self.state.unit_ids) > 1)
    @rule(data=st.data())
    def choose_unit(self, data) -> None:
        unit = data.draw(st.sampled_from(self.state.unit_ids))
        self.at.selectbox(key=self.key("unit")).set_value(unit)
        self.run()

    @rule(name=st.sampled_from(["North West plan", "Wales option"]))
    def save(self, name: str) -> None:
        self.at.text_input(key=self.key("save_name")).input(name)
        self.run()
        had_problems = bool(self.state.problems)
        self.at.button(key="scn_save").click()
        self.run()
        if not had_problems:
            assert self.state.origin.kind == "saved" and self.state.origin.saved == name
            assert self.state.save_name == name
            self.saved.append(name)

    @precondition(lambda self: bool(self.saved))
    @rule(data=st.data())
    def open_saved(self, data) -> None:
        name = data.draw(st.sampled_from(sorted(set(self.saved))))
        self.at.selectbox(key="scn_saved_pick").set_value(name)
        self.run()
        self.at.button(key="scn_open").click()
        self.run()
        assert self.state.origin.kind == "saved" and self.state.save_name == name

    @rule()
    def compare_current(self) -> None:
        self.at.button(key="scn_compare_add").click()
        self.run()

    # -- what must always hold ---------------------------------------------------------------
    @invariant()
    def totals_match_the_downloaded_file(self) -> None:
        downloads = [content for name, content in self.media.items() if name.endswith(".yaml")]
        assert len(downloads) == 1, sorted(self.media)
        assert downloads[0].decode() == scenario_to_yaml(scenario_from_dict(dict(self.state.scenario)))
        totals = cli_totals(downloads[0], self.tmp)
        shown = {m.label: m.value for m in self.at.metric}
        assert shown["Total cost, cash (nominal)"] == money(totals["total_cost_nominal"])
        real = next(v for k, v in shown.items() if k.startswith("Total cost, real"))
        assert real == money(totals["total_cost_real"])
        pv = next(v for k, v in shown.items() if k.startswith("Present value"))
        assert pv == money(totals["present_value"])
        assert shown["Staff, fully staffed (FTE)"] == f"{totals['fte_total']:,.1f}"
        for entry in self.state.compare:
            if entry.hash == self.state.scenario_hash:
                table = next(d.value for d in self.at.dataframe if "Total cost, cash" in list(d.value.index))
                column = table[entry.label]
                assert column["Total cost, cash"] == money(totals["total_cost_nominal"], exact=True)
                assert column["Present value"] == money(totals["present_value"], exact=True)

    @invariant()
    def boxes_and_link_describe_the_scenario_on_screen(self) -> None:
        state = self.state
        assert self.at.text_input(key=self.key("save_name")).value == state.save_name
        preset_box = self.at.selectbox(key=self.key("preset"))
        link = dict(self.at.query_params)
        if state.origin.kind == "preset":
            assert preset_box.value == state.origin.preset
            assert self.at.query_params.get("preset") in ([state.origin.preset], state.origin.preset)
        else:
            assert preset_box.value is None
            assert "preset" not in link


def test_the_planner_never_drifts(monkeypatch, tmp_path):
    media: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, (bytes, str)):
            media[filename] = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    monkeypatch.setenv("ATLAS_SCENARIO_DB", str(tmp_path / "scenarios.sqlite"))
    Planner.media = media
    Planner.tmp = tmp_path
    run_state_machine_as_test(
        Planner,
        settings=settings(
            max_examples=10,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.parametrize("preset", ["advocacy_only", "met_stac_like"])
def test_switching_preset_then_an_unrelated_click_keeps_the_totals(preset):
    """The reported bug: after switching the unit model, the previous preset's ramp-up stayed in its box and
    one unrelated click later it was applied, moving the total."""
    at = AppTest.from_file(str(paths.REPO_ROOT / PAGE), default_timeout=TIMEOUT).run()
    generation = at.session_state["scn_state"].generation
    at.text_input(key=f"scn_ramp_{generation}_cheshire_hru_like").input("100").run()
    at.selectbox(key=f"scn_preset_{at.session_state['scn_state'].generation}").set_value(preset).run()
    first = {m.label: m.value for m in at.metric}
    at.button(key="scn_compare_add").click().run()
    assert {m.label: m.value for m in at.metric} == first
    state = at.session_state["scn_state"]
    assert state.scenario["unit_models"][0]["ramp_up"] == load_preset(preset).unit_models[0].ramp_up.model_dump()
