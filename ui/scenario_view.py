"""The Scenario planner's state, loaders and render helpers.

The editable tables and the way back from them to a scenario are pure and live in
``coverage/scenario_tables.py``. This module holds the cached loaders (keyed on a scenario's hash),
render helpers (problem tables, charts with PNG/SVG downloads), the name of every session-state key
of the page, its callbacks (save, open, duplicate, delete, restore, upload, compare) and the link
handling.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import vl_convert as vlc
from streamlit import session_state as ss

from coverage import paths
from coverage.errors import InputError
from coverage.model import atlas_data
from coverage.model.forces import force_names as forces_by_name
from coverage.model.indicators import planner_offences_by_force
from coverage.outputs.charts import footer_text, screen_spec
from coverage.outputs.scenario_charts import money
from coverage.outputs.scenario_workbook import scenario_workbook
from coverage.planner.costing import ScenarioResult, run_scenario
from coverage.planner.editing import (
    Placement,
    placement_from_deployments,
    placement_summary,
    problem_rows,
    ramp_text,
)
from coverage.planner.schema import (
    MAX_FILE_BYTES,
    Scenario,
    list_presets,
    load_preset,
    load_scenario_bytes,
    read_source_list,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    scenario_to_yaml,
)
from coverage.planner.sensitivity import COST_INPUT_FACTORS, tornado
from coverage.planner.store import SQLiteScenarioStore, default_db_path
from ui import data as ui_data
from ui.markdown import escape_markdown


@st.cache_data(show_spinner=False)
def preset_choices(directory: str = str(paths.DATA_DIR / "scenarios" / "presets")) -> list[dict]:
    return list_presets(Path(directory))


@st.cache_data(show_spinner=False, max_entries=32)
def preset_dict(preset_id: str) -> dict:
    return scenario_to_dict(load_preset(preset_id))


@st.cache_data(show_spinner=False)
def source_list() -> dict[str, dict[str, str]]:
    return read_source_list()


@st.cache_data(show_spinner=False)
def forces_table(data_dir: str = str(paths.DATA_DIR)) -> pd.DataFrame:
    return ui_data.atlas(data_dir).forces


@st.cache_data(show_spinner=False, max_entries=8)
def _existing_units(forces: pd.DataFrame, register: pd.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(atlas_data.forces_with_multi_agency_unit(forces, register)))


@st.cache_data(show_spinner=False)
def _shipped_existing_units(data_dir: str = str(paths.DATA_DIR)) -> tuple[str, ...]:
    atlas = ui_data.atlas(data_dir)
    return _existing_units(atlas.forces, atlas.register)


def existing_units() -> tuple[str, ...]:
    """Forces that already have a multi-agency unit, in the register this visitor is using
    (their uploaded register from 'Edit the evidence', else the shipped one)."""
    uploaded = st.session_state.get(ui_data.REGISTER_KEY)
    if uploaded is not None:
        return _existing_units(forces_table(), uploaded)
    return _shipped_existing_units()


@st.cache_data(show_spinner=False)
def offences(data_dir: str = str(paths.DATA_DIR)) -> dict[str, float]:
    return planner_offences_by_force(ui_data.atlas(data_dir).indicators)


@st.cache_data(show_spinner=False, max_entries=256)
def run(digest: str, existing: tuple[str, ...], _scenario: Scenario) -> ScenarioResult:
    """Cost a scenario, keyed on its hash (``scenario_hash``) and the forces that already have a unit."""
    return run_scenario(_scenario, forces_table(), offences(), existing_units=existing)


@st.cache_data(show_spinner=False, max_entries=128)
def tornado_frame(digest: str, _scenario: Scenario) -> pd.DataFrame:
    return tornado(_scenario, forces_table(), offences(), factors=COST_INPUT_FACTORS)


@st.cache_data(show_spinner=False, max_entries=64)
def yaml_text(digest: str, _scenario: Scenario) -> str:
    """The scenario as the YAML file people download (keyed on its hash)."""
    return scenario_to_yaml(_scenario)


@st.cache_data(show_spinner=False, max_entries=256)
def chart_spec(key: tuple, _build: Callable[[], Any]) -> dict:
    """A chart's Vega-Lite spec, built (and validated) once per key: the chart's kind and the hash of
    everything drawn in it. Altair builds and validates a spec in about 0.1 s, too slow for every run."""
    return _build().to_dict()


def store() -> SQLiteScenarioStore:
    """The scenario store at $ATLAS_SCENARIO_DB, or the default path."""
    return SQLiteScenarioStore(default_db_path())


def show_problems(
    message: str, error: InputError, data: Mapping | None = None, *, file_name: str | None = None
) -> None:
    st.error(message)
    st.dataframe(problem_rows(error, data, file_name=file_name), hide_index=True, width="stretch")


def show_chart(spec: dict, stem: str, description: str) -> None:
    """The chart (its takeaway is also its alt text) and PNG/SVG downloads made only when asked for."""
    # Fitted to the column (a phone included); the downloads carry takeaway and source inside the image.
    st.vega_lite_chart(screen_spec(spec), width="stretch", alt=description[:1000])
    st.caption(escape_markdown(footer_text(spec)))
    left, right = st.columns(2)
    left.download_button(
        "Chart as PNG",
        data=lambda: vlc.vegalite_to_png(json.dumps(spec), scale=2),
        file_name=f"{stem}.png",
        mime="image/png",
        key=f"{stem}_png",
        on_click="ignore",
    )
    right.download_button(
        "Chart as SVG",
        data=lambda: vlc.vegalite_to_svg(json.dumps(spec)),
        file_name=f"{stem}.svg",
        mime="image/svg+xml",
        key=f"{stem}_svg",
        on_click="ignore",
    )


def xlsx_bytes(result: ScenarioResult) -> bytes:
    return scenario_workbook(result)


# ============================================================================================
# Page state and callbacks. Every key is named here; the selection is mirrored in the URL.
# Callbacks run before the page script, so what they change is drawn in the same run.
# ============================================================================================

PRESET = "scn_preset"
WHERE = "scn_where"
FORCE = "scn_force"
FORCES = "scn_forces"
WAVE2 = "scn_wave2"
WAVE2_YEAR = "scn_wave2_year"
UNIT = "scn_unit"
PARAMS = "scn_params"
ROLES = "scn_roles"
FIXED = "scn_fixed"
RAMP = "scn_ramp"
BASE = "scn_base"  # the scenario being edited, before the edits in the tables (a dict)
BASE_LABEL = "scn_base_label"
BASE_SAVED = "scn_base_saved"  # the store name the base came from, if any
FILE_DEPS = "scn_file_deployments"
LAST_GOOD = "scn_last_good"  # the last scenario that validated and ran (a dict): what the page shows
COMPARE = "scn_compare"
FLASH = "scn_flash"
UPLOAD = "scn_upload"
UPLOAD_PROBLEM = "scn_upload_problem"
SAVE_NAME = "scn_save_name"
SAVED_PICK = "scn_saved_pick"
VERSION_PICK = "scn_version_pick"
DUP_NAME = "scn_dup_name"
CONFIRM_DELETE = "scn_confirm_delete"
COMPARE_SAVED = "scn_compare_saved"
MAX_COMPARE = 4
EDITOR_KEYS = (PARAMS, ROLES, FIXED, RAMP, UNIT)

DEFAULT_PRESET = "cheshire_hru_like"
HAS_PROBLEMS = "scn_has_problems"


def force_names() -> dict[str, str]:
    forces = forces_table()
    return forces_by_name(forces)


def presets() -> dict[str, dict]:
    return {p["id"]: p for p in preset_choices()}


def flash(kind: str, text: str) -> None:
    ss.setdefault(FLASH, []).append((kind, text))


def set_placement(placement: Placement) -> None:
    names = force_names()
    ss[WHERE] = placement.mode
    ss[FORCE] = placement.force if placement.force in names else ss.get(FORCE)
    ss[FORCES] = [c for c in placement.forces if c in names]
    ss[WAVE2] = [c for c in placement.wave2 if c in names]
    ss[WAVE2_YEAR] = int(placement.wave2_year)
    ss[FILE_DEPS] = list(placement.file_deployments)
    remember_placement_widgets()


PLACEMENT_KEYS = {"one": (FORCE,), "list": (FORCES,), "waves": (FORCES, WAVE2, WAVE2_YEAR), "no_unit": (), "file": ()}
DRAWN_MODE = "scn_drawn_mode"


def restore_placement_widgets(mode: str) -> None:
    """Streamlit does not keep a widget's value through runs that do not draw it (the force list while
    'One force' is chosen). When the placement mode changes, put back what the planner had chosen."""
    if ss.get(DRAWN_MODE) == mode:
        return
    for key in PLACEMENT_KEYS.get(mode, ()):
        kept = ss.get(f"{key}_kept")
        if kept is not None:
            ss[key] = kept
    single = ss.get(f"{FORCE}_kept")
    if mode in ("list", "waves") and not ss.get(FORCES) and single:
        ss[FORCES] = [single]  # a list starts from the force already chosen


def remember_placement_widgets(mode: str | None = None) -> None:
    """Keep the values of the placement widgets drawn in this run (all of them when ``mode`` is None)."""
    keys = {k for ks in PLACEMENT_KEYS.values() for k in ks} if mode is None else PLACEMENT_KEYS.get(mode, ())
    for key in keys:
        if key in ss:
            ss[f"{key}_kept"] = ss[key]
    if mode is not None:
        ss[DRAWN_MODE] = mode


def set_base(base: dict, label: str, *, saved: str | None = None, placement: bool = True) -> None:
    """Start editing ``base``: the tables are rebuilt from it, and (optionally) its placement is shown."""
    ss[BASE] = base
    ss[BASE_LABEL] = label
    ss[BASE_SAVED] = saved
    if saved:
        ss[SAVE_NAME] = saved  # saving again adds a version to the same name
    for key in EDITOR_KEYS:
        ss.pop(key, None)
    found = placement_from_deployments(base.get("deployments") or [])
    if placement:
        set_placement(found)
    else:
        ss[FILE_DEPS] = list(found.file_deployments)


def check_runs(scenario: Scenario) -> None:
    """Raise the cost model's ``InputError`` (an unknown force, missing offence counts) before a scenario
    replaces the one on screen."""
    run(scenario_hash(scenario), existing_units(), scenario)


def open_saved(name: str, version: int | None = None) -> bool:
    try:
        scenario = store().load(name, version)
        check_runs(scenario)
    except InputError as error:
        flash("error", f"{escape_markdown(str(error))} The scenario on screen is unchanged.")
        return False
    except (sqlite3.Error, OSError) as error:
        flash("error", f"The scenario store could not be read ({type(error).__name__}).")
        return False
    set_base(scenario_to_dict(scenario), f"saved scenario “{name}”", saved=name)
    return True


def on_unit_change() -> None:
    """The tables and the ramp-up box are keyed by name, not by unit model: a unit's edits must not be
    applied to the next one, so they are set aside and the new unit's own values are shown."""
    for key in (PARAMS, ROLES, FIXED):
        ss.pop(key, None)
    base = ss[BASE]
    ids = [unit["id"] for unit in base["unit_models"]]
    index = ids.index(ss[UNIT]) if ss.get(UNIT) in ids else 0
    ss[RAMP] = ramp_text(base, index)  # set, not removed: a removed box would keep what the browser holds
    flash(
        "info",
        f"Now editing “{escape_markdown(base['unit_models'][index]['name'])}”: its own values are shown; "
        "unsaved edits to the other unit model were set aside.",
    )


def on_preset() -> None:
    preset = ss[PRESET]
    set_base(preset_dict(preset), f"preset “{presets()[preset]['name']}”", placement=False)


def on_upload() -> None:
    uploaded = ss.get(UPLOAD)
    ss.pop(UPLOAD_PROBLEM, None)
    if uploaded is None:
        return
    name, content = uploaded.name, b""
    try:
        if uploaded.size > MAX_FILE_BYTES:
            raise InputError(
                f"is {uploaded.size / 1_000_000:,.1f} MB; a scenario file is at most {MAX_FILE_BYTES // 1_000_000} MB "
                "(a few KB is usual)",
                where=name,
            )
        content = uploaded.getvalue()
        scenario = load_scenario_bytes(content, where=name)
        check_runs(scenario)
    except InputError as error:
        ss[UPLOAD_PROBLEM] = (name, error)
        return
    set_base(scenario_to_dict(scenario), f"uploaded file “{name}”")
    flash(
        "success",
        f"Opened {escape_markdown(name)}: “{escape_markdown(scenario.name)}”, {len(scenario.deployments)} "
        "unit(s). Edit it below, save it, or add it to the comparison.",
    )


_NOT_WRITTEN = object()


def _write_to_store(action, *, refused: str, failed: str):
    """Run one write to the scenario store; on bad input or a store failure say so and return
    ``_NOT_WRITTEN`` (the scenario on screen and in the store are unchanged)."""
    try:
        return action()
    except InputError as error:
        flash("error", f"{refused}{escape_markdown(str(error))}")
    except (sqlite3.Error, OSError) as error:
        flash("error", f"{failed}: the scenario store could not be written ({type(error).__name__}).")
    return _NOT_WRITTEN


def on_save() -> None:
    name = " ".join(str(ss.get(SAVE_NAME) or "").split())
    if ss.get(HAS_PROBLEMS):
        flash(
            "error",
            "Not saved: the tables have problems (listed at the top). Fix them first; the last valid "
            "scenario is still on screen.",
        )
        return
    good = dict(ss[LAST_GOOD])
    if name:
        good["name"] = name[:160]
    version = _write_to_store(
        lambda: store().save(name, scenario_from_dict(good)), refused="Not saved: ", failed="Not saved"
    )
    if version is _NOT_WRITTEN:
        return
    flash("success", f"Saved “{escape_markdown(name)}” as version {version}.")
    ss[SAVED_PICK] = name
    ss.pop(VERSION_PICK, None)
    set_base(good, f"saved scenario “{name}”", saved=name, placement=False)


def on_open() -> None:
    name = ss.get(SAVED_PICK)
    if name and open_saved(name):
        flash("success", f"Opened “{escape_markdown(name)}”.")


def on_duplicate() -> None:
    name, new = ss.get(SAVED_PICK), " ".join(str(ss.get(DUP_NAME) or "").split())
    if (
        _write_to_store(lambda: store().duplicate(name, new), refused="Not duplicated: ", failed="Not duplicated")
        is _NOT_WRITTEN
    ):
        return
    flash("success", f"Copied “{escape_markdown(name)}” to “{escape_markdown(new)}”.")
    ss[SAVED_PICK] = new
    ss.pop(VERSION_PICK, None)


def on_delete(confirmed: bool) -> None:
    name = ss.get(SAVED_PICK)
    if not confirmed:
        ss[CONFIRM_DELETE] = name
        return
    ss.pop(CONFIRM_DELETE, None)
    count = _write_to_store(lambda: store().delete(name), refused="", failed="Not deleted")
    if count is _NOT_WRITTEN:
        return
    flash("success", f"Deleted “{escape_markdown(name)}” ({count} version{'s' if count != 1 else ''}).")
    ss.pop(SAVED_PICK, None)
    ss.pop(VERSION_PICK, None)
    if ss.get(BASE_SAVED) == name:
        ss[BASE_SAVED] = None
        ss[BASE_LABEL] = f"“{name}” (deleted from the store; still on screen until you change it)"


def on_cancel_delete() -> None:
    ss.pop(CONFIRM_DELETE, None)


def on_restore() -> None:
    name, version = ss.get(SAVED_PICK), ss.get(VERSION_PICK)
    new_version = _write_to_store(
        lambda: store().restore(name, int(version)), refused="Not restored: ", failed="Not restored"
    )
    if new_version is _NOT_WRITTEN:
        return
    ss.pop(VERSION_PICK, None)
    if open_saved(name):
        flash(
            "success",
            f"Version {version} of “{escape_markdown(name)}” is current again (saved as version "
            f"{new_version}) and is open.",
        )


def add_to_compare(label: str, scenario: dict) -> None:
    entries = ss.setdefault(COMPARE, [])
    digest = scenario_hash(scenario_from_dict(scenario))
    if any(e["hash"] == digest for e in entries):
        flash("info", f"“{escape_markdown(label)}” is already in the comparison.")
        return
    if len(entries) >= MAX_COMPARE:
        flash(
            "warning",
            f"The comparison already holds {MAX_COMPARE} scenarios, the most this page shows side by "
            "side. Remove one to add another.",
        )
        return
    taken = {e["label"] for e in entries}
    final, n = label, 2
    while final in taken:
        final, n = f"{label} ({n})", n + 1
    entries.append({"label": final, "scenario": scenario, "hash": digest})
    flash("success", f"Added “{escape_markdown(final)}” to the comparison ({len(entries)} of {MAX_COMPARE}).")


def on_compare_current(label: str) -> None:
    if ss.get(HAS_PROBLEMS):
        flash("warning", "The tables have problems, so the last valid scenario (on screen) was added.")
    add_to_compare(label, ss[LAST_GOOD])


def on_compare_saved() -> None:
    name = ss.get(COMPARE_SAVED)
    if not name:
        return
    try:
        scenario = store().load(name)
    except (InputError, sqlite3.Error, OSError) as error:
        flash("error", f"Could not add “{escape_markdown(name)}”: {escape_markdown(str(error))}")
        return
    add_to_compare(name, scenario_to_dict(scenario))


def on_compare_remove(index: int) -> None:
    entries = ss.get(COMPARE, [])
    if 0 <= index < len(entries):
        entries.pop(index)


def on_compare_clear() -> None:
    ss[COMPARE] = []


def start_from_link() -> None:
    """First visit: the URL reproduces a view (?preset=…&where=…&forces=…&wave2=…&from=…&saved=…)."""
    if BASE in ss:
        return
    qp = st.query_params
    choices = presets()
    default = DEFAULT_PRESET if DEFAULT_PRESET in choices else next(iter(choices))
    preset = qp.get("preset") if qp.get("preset") in choices else default
    ss[PRESET] = preset
    set_base(preset_dict(preset), f"preset “{choices[preset]['name']}”")
    names = force_names()
    mode = qp.get("where")
    if mode in ("one", "list", "no_unit", "waves"):
        listed = [c for c in qp.get_all("forces") if c in names]
        try:
            year = int(qp.get("from", 3))
        except ValueError:
            year = 3
        set_placement(
            Placement(
                mode=mode,
                force=listed[0] if listed else ss.get(FORCE),
                forces=tuple(listed),
                wave2=tuple(c for c in qp.get_all("wave2") if c in names),
                wave2_year=max(2, min(year, 30)),
                file_deployments=tuple(ss.get(FILE_DEPS) or ()),
            )
        )
    if qp.get("saved"):
        open_saved(str(qp.get("saved")))


def mirror_to_link() -> None:
    """Write the selection into the URL (only what changed), so a link reproduces the view."""
    params: dict[str, str | list[str]] = {"preset": ss[PRESET], "where": ss[WHERE]}
    if ss[WHERE] == "one" and ss.get(FORCE):
        params["forces"] = [ss[FORCE]]
    elif ss[WHERE] in ("list", "waves"):
        params["forces"] = list(ss.get(FORCES) or [])
    if ss[WHERE] == "waves":
        params["wave2"] = list(ss.get(WAVE2) or [])
        params["from"] = str(ss.get(WAVE2_YEAR))
    if ss.get(BASE_SAVED):
        params["saved"] = ss[BASE_SAVED]
    for key in ("preset", "where", "forces", "wave2", "from", "saved"):
        if key in params:
            wanted = [params[key]] if isinstance(params[key], str) else params[key]
            if st.query_params.get_all(key) != wanted:
                st.query_params[key] = params[key]
        elif key in st.query_params:
            del st.query_params[key]


def placement_now() -> Placement:
    return Placement(
        mode=ss[WHERE],
        force=ss.get(FORCE),
        forces=tuple(ss.get(FORCES) or ()),
        wave2=tuple(ss.get(WAVE2) or ()),
        wave2_year=int(ss.get(WAVE2_YEAR) or 3),
        file_deployments=tuple(tuple(d) for d in (ss.get(FILE_DEPS) or ())),
    )


def comparison_tables(entries: list[dict], existing: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The side-by-side table (measures × scenarios, as text) and the numbers the chart needs."""
    names = force_names()
    rows, summary = {}, []
    for entry in entries:
        s = scenario_from_dict(entry["scenario"])
        r = run(entry["hash"], existing, s)
        tt, cc = r.totals, r.coverage
        summary.append(
            {
                "label": entry["label"],
                "present_value": tt["present_value"],
                "total_cost_nominal": tt["total_cost_nominal"],
                "fte_total": tt["fte_total"],
                "horizon_years": tt["horizon_years"],
                "price_base": r.price_base,
            }
        )
        per_referral, per_100k = tt["cost_per_referral"], tt["cost_per_100k_16plus"]
        rows[entry["label"]] = {
            "Unit model": ", ".join(u.name for u in s.unit_models),
            "Where": placement_summary(entry["scenario"]["deployments"], names, s.start_year),
            "Years": f"{tt['first_year']} to {tt['last_year']}",
            "Price base": r.price_base,
            "Units": f"{tt['units']}",
            "FTE (fully staffed)": f"{tt['fte_total']:,.1f}",
            "Total cost, cash": money(tt["total_cost_nominal"], exact=True),
            "Total cost, real": money(tt["total_cost_real"], exact=True),
            "Present value": money(tt["present_value"], exact=True),
            "Cost per referral, a year": money(per_referral, exact=True) if per_referral else "—",
            "Cost per 100,000 aged 16+, a year": money(per_100k, exact=True) if per_100k else "—",
            "Forces with a unit": f"{cc['before_forces']} → {cc['after_forces']}",
            "People 16+ served": f"{cc['before_share_16plus']:.0%} → {cc['after_share_16plus']:.0%}",
            "Discount rate": f"{tt['discount_rate']:.1%}",
            "Optimism bias": f"{tt['optimism_bias']:.0%}",
        }
    table = pd.DataFrame(rows)
    table.index.name = "Measure"
    return table, pd.DataFrame(summary)
