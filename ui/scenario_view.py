"""The Scenario planner's loaders, render helpers and callbacks.

The planner's state and every action on it are pure and live in ``coverage/planner/state.py``; the
editable tables and the way back from them in ``coverage/planner/editing.py``. This module holds the
cached loaders (keyed on a scenario's hash), render helpers (problem tables, charts with PNG/SVG
downloads), the one session key that holds the state, the widget keys (each carries the state's
generation, so a new scenario gets new widgets), the callbacks and the link handling.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit import session_state as ss

from coverage import paths
from coverage.errors import InputError
from coverage.model import atlas_data
from coverage.model.forces import force_names as forces_by_name
from coverage.outputs import renderer
from coverage.outputs.charts import footer_text, screen_spec
from coverage.outputs.scenario_charts import money
from coverage.outputs.scenario_workbook import scenario_workbook
from coverage.planner import state as planner
from coverage.planner.costing import ScenarioResult, run_scenario
from coverage.planner.demand import DemandBasis, available_periods, demand_offences
from coverage.planner.editing import Placement, placement_summary, problem_rows
from coverage.planner.schema import (
    MAX_FILE_BYTES,
    Scenario,
    list_presets,
    load_preset,
    load_scenario_bytes,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    scenario_to_yaml,
)
from coverage.planner.sensitivity import COST_INPUT_FACTORS, tornado
from coverage.planner.state import PlannerState
from coverage.planner.store import ScenarioStore, StoreUnavailable
from coverage.sources import load_registry
from ui import access
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
    """The sources registry as plain rows, for the 'Sources cited' table."""
    return {
        sid: {"publisher": src.publisher, "title": src.title, "date": src.date, "url": src.url}
        for sid, src in load_registry().items()
    }


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


def demand(scenario: Scenario) -> DemandBasis:
    """The offences the scenario's referral rate is applied to (the same call as the CLI's)."""
    atlas = ui_data.atlas(str(paths.DATA_DIR))
    return demand_offences(scenario, atlas.crime, atlas.indicators)


@st.cache_data(show_spinner=False)
def crime_periods(data_dir: str = str(paths.DATA_DIR)) -> list[str]:
    return available_periods(ui_data.atlas(data_dir).crime)


@st.cache_data(show_spinner=False)
def _shipped_unknown_provision(data_dir: str = str(paths.DATA_DIR)) -> tuple[str, ...]:
    """Forces whose register rows are all of unknown status: the planner warns before placing a unit there."""
    atlas = ui_data.atlas(data_dir)
    table = atlas_data.provision_table(atlas.forces, atlas.register)
    unknown = table["class_status_unknown"].fillna(False).astype(bool)
    return tuple(sorted(str(c) for c in table.loc[unknown, "code"]))


# cache_resource, not cache_data: a result is never changed after it is made, so every session can share it
# without the pickle copy cache_data makes on every hit (a national rollout's result is several MB).
@st.cache_resource(show_spinner=False, max_entries=64)
def run(digest: str, existing: tuple[str, ...], _scenario: Scenario) -> ScenarioResult:
    """Cost a scenario, keyed on its hash (``scenario_hash``) and the forces that already have a unit."""
    return run_scenario(
        _scenario,
        forces_table(),
        demand(_scenario).offences,
        existing_units=existing,
        unknown_provision=_shipped_unknown_provision(),
    )


@st.cache_data(show_spinner=False, max_entries=128)
def tornado_frame(digest: str, existing: tuple[str, ...], _scenario: Scenario) -> pd.DataFrame:
    return tornado(
        _scenario, forces_table(), demand(_scenario).offences, factors=COST_INPUT_FACTORS, existing_units=existing
    )


@st.cache_data(show_spinner=False, max_entries=64)
def yaml_text(digest: str, _scenario: Scenario) -> str:
    """The scenario as the YAML file people download (keyed on its hash)."""
    return scenario_to_yaml(_scenario)


@st.cache_data(show_spinner=False, max_entries=256)
def chart_spec(key: tuple, _build: Callable[[], Any]) -> dict:
    """A chart's Vega-Lite spec, built once per key: the chart's kind and the hash of everything drawn in it.

    Not validated against the Vega-Lite schema here: validation is most of the ~0.1 s Altair takes per chart,
    too slow for a rerun after each edit; tests/test_scenario_charts.py validates every chart the builders make."""
    return _build().to_dict(validate=False)


def store() -> ScenarioStore:
    """The configured scenario store (SQLite or PostgreSQL); public deployments have none and never call this."""
    found = access.store()
    if found is None:
        raise StoreUnavailable("this public atlas keeps no scenarios on the server")
    return found


def workspace() -> dict[str, str]:
    return {"workspace": access.deployment().workspace}


def who() -> dict[str, str]:
    """The signed-in user and their workspace, for every write."""
    return {"actor": access.actor(), **workspace()}


def store_problem(error: BaseException) -> str:
    """What to tell the user when the store fails: its own words when it has them."""
    if isinstance(error, StoreUnavailable):
        return escape_markdown(str(error))
    return f"the scenario store could not be used ({type(error).__name__})"


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
        data=lambda: renderer.vegalite_to_png(json.dumps(spec), scale=2),
        file_name=f"{stem}.png",
        mime="image/png",
        key=f"{stem}_png",
        on_click="ignore",
    )
    right.download_button(
        "Chart as SVG",
        data=lambda: renderer.vegalite_to_svg(json.dumps(spec)),
        file_name=f"{stem}.svg",
        mime="image/svg+xml",
        key=f"{stem}_svg",
        on_click="ignore",
    )


def xlsx_bytes(result: ScenarioResult) -> bytes:
    return scenario_workbook(result)


# ============================================================================================
# The planner's state (one session key) and the widget keys that carry its generation
# ============================================================================================

STATE = "scn_state"
DEFAULT_PRESET = "cheshire_hru_like"
UPLOAD = "scn_upload"
UPLOAD_PROBLEM = "scn_upload_problem"
SAVED_PICK = "scn_saved_pick"
VERSION_PICK = "scn_version_pick"
DUP_NAME = "scn_dup_name"
CONFIRM_DELETE = "scn_confirm_delete"
COMPARE_SAVED = "scn_compare_saved"
MAX_COMPARE = planner.MAX_COMPARE


def state() -> PlannerState:
    return ss[STATE]


def put(new: PlannerState) -> None:
    ss[STATE] = new


def key(name: str) -> str:
    """A widget key for this state's generation: a new scenario gets new widgets, so no widget keeps a
    value typed for the previous one."""
    current = state()
    return f"scn_{name}_{current.generation}"


def editor_key(name: str) -> str:
    current = state()
    return f"scn_{name}_{current.generation}_{current.unit_id}"


def force_names() -> dict[str, str]:
    return forces_by_name(forces_table())


def presets() -> dict[str, dict]:
    return {p["id"]: p for p in preset_choices()}


def say(kind: str, text: str) -> None:
    put(planner.say(state(), kind, text))


def check_runs(scenario: Scenario) -> None:
    """Raise the cost model's ``InputError`` (an unknown force, missing offence counts) before a scenario
    replaces the one on screen."""
    run(scenario_hash(scenario), existing_units(), scenario)


def start(qp: Mapping[str, Any] | None = None) -> None:
    """First visit: the URL reproduces a view (?preset=…&where=…&forces=…&wave2=…&from=…, or ?saved=…)."""
    if STATE in ss:
        return
    qp = qp if qp is not None else st.query_params
    choices = presets()
    default = DEFAULT_PRESET if DEFAULT_PRESET in choices else next(iter(choices))
    preset = qp.get("preset") if qp.get("preset") in choices else default
    put(planner.from_preset(preset, preset_dict(preset)))
    names = force_names()
    mode = qp.get("where")
    if mode in ("one", "list", "no_unit", "waves", "shared"):
        listed = [c for c in st.query_params.get_all("forces") if c in names]
        try:
            year = int(qp.get("from", 3))
        except ValueError:
            year = 3
        placement = Placement(
            mode=mode,
            force=listed[0] if listed else state().placement.force,
            forces=tuple(listed),
            wave2=tuple(c for c in st.query_params.get_all("wave2") if c in names),
            wave2_year=max(2, min(year, 30)),
        )
        put(planner.edited(state(), planner.Edits(), placement))
    if qp.get("scenario"):
        open_link(str(qp.get("scenario")))
    elif qp.get("saved") and access.deployment().writes_to_store:
        open_saved(str(qp.get("saved")))


def open_link(token: str) -> None:
    """A share link: the scenario it carries, checked like an upload; a bad link changes nothing."""
    from coverage.planner.share import scenario_from_token

    try:
        scenario = scenario_from_token(token)
        check_runs(scenario)
    except InputError as error:
        say("error", f"{escape_markdown(str(error))} The scenario on screen is the default preset.")
        return
    put(planner.from_link(scenario_to_dict(scenario), state()))
    say("success", f"Opened “{escape_markdown(scenario.name)}” from the link.")


def open_saved(name: str, version: int | None = None) -> bool:
    try:
        scenario = store().load(name, version, **workspace())
        check_runs(scenario)
    except InputError as error:
        say("error", f"{escape_markdown(str(error))} The scenario on screen is unchanged.")
        return False
    except (sqlite3.Error, OSError) as error:
        say("error", f"Not opened: {store_problem(error)}. The scenario on screen is unchanged.")
        return False
    versions = [v.version for v in store().versions(name, **workspace())]
    put(planner.from_saved(name, version or (versions[-1] if versions else None), scenario_to_dict(scenario), state()))
    return True


def on_preset(widget: str) -> None:
    preset = ss.get(widget)
    if preset in presets():
        put(planner.from_preset(preset, preset_dict(preset), state()))


def on_unit(widget: str) -> None:
    put(planner.choose_unit(state(), str(ss.get(widget))))


def on_upload() -> None:
    uploaded = ss.get(UPLOAD)
    ss.pop(UPLOAD_PROBLEM, None)
    if uploaded is None:
        return
    name = uploaded.name
    try:
        if uploaded.size > MAX_FILE_BYTES:
            raise InputError(
                f"is {uploaded.size / 1_000_000:,.1f} MB; a scenario file is at most {MAX_FILE_BYTES // 1_000_000} MB "
                "(a few KB is usual)",
                where=name,
            )
        scenario = load_scenario_bytes(uploaded.getvalue(), where=name)
        check_runs(scenario)
    except InputError as error:
        ss[UPLOAD_PROBLEM] = (name, error)
        return
    put(planner.from_upload(name, scenario_to_dict(scenario), state()))
    say(
        "success",
        f"Opened {escape_markdown(name)}: “{escape_markdown(scenario.name)}”. Edit it below, save it, or add it "
        "to the comparison.",
    )


_NOT_WRITTEN = object()


def _write_to_store(action, *, refused: str, failed: str):
    """Run one write to the scenario store; on bad input or a store failure say so and return
    ``_NOT_WRITTEN`` (the scenario on screen and in the store are unchanged)."""
    try:
        return action()
    except InputError as error:
        say("error", f"{refused}{escape_markdown(str(error))}")
    except (sqlite3.Error, OSError) as error:
        say("error", f"{failed}: {store_problem(error)}. Nothing saved before was changed.")
    return _NOT_WRITTEN


def on_save(widget: str) -> None:
    current = state()
    name = " ".join(str(ss.get(widget) or "").split())
    if current.problems:
        say(
            "error",
            "Not saved: the tables have problems (listed at the top). Fix them first; the last valid "
            "scenario is still on screen.",
        )
        return
    good = {**dict(current.scenario), **({"name": name[:160]} if name else {})}
    version = _write_to_store(
        lambda: store().save(name, scenario_from_dict(good), **who()), refused="Not saved: ", failed="Not saved"
    )
    if version is _NOT_WRITTEN:
        return
    put(planner.saved_as(state(), name, int(version)))
    say("success", f"Saved “{escape_markdown(name)}” as version {version}.")
    ss[SAVED_PICK] = name
    ss.pop(VERSION_PICK, None)


def on_open() -> None:
    name = ss.get(SAVED_PICK)
    if name and open_saved(name):
        say("success", f"Opened “{escape_markdown(name)}”.")


def on_duplicate() -> None:
    name, new = ss.get(SAVED_PICK), " ".join(str(ss.get(DUP_NAME) or "").split())
    if (
        _write_to_store(
            lambda: store().duplicate(name, new, **who()), refused="Not duplicated: ", failed="Not duplicated"
        )
        is _NOT_WRITTEN
    ):
        return
    say("success", f"Copied “{escape_markdown(name)}” to “{escape_markdown(new)}”.")
    ss[SAVED_PICK] = new
    ss.pop(VERSION_PICK, None)


def on_delete(confirmed: bool) -> None:
    name = ss.get(SAVED_PICK)
    if not confirmed:
        ss[CONFIRM_DELETE] = name
        return
    ss.pop(CONFIRM_DELETE, None)
    count = _write_to_store(lambda: store().delete(name, **who()), refused="", failed="Not deleted")
    if count is _NOT_WRITTEN:
        return
    put(planner.deleted(state(), name))
    say(
        "success",
        f"Deleted “{escape_markdown(name)}” ({count} version{'s' if count != 1 else ''}). It can be recovered "
        "for 30 days under Recently deleted.",
    )
    ss.pop(SAVED_PICK, None)
    ss.pop(VERSION_PICK, None)


def on_cancel_delete() -> None:
    ss.pop(CONFIRM_DELETE, None)


def on_restore() -> None:
    name, version = ss.get(SAVED_PICK), ss.get(VERSION_PICK)
    new_version = _write_to_store(
        lambda: store().restore(name, int(version), **who()), refused="Not restored: ", failed="Not restored"
    )
    if new_version is _NOT_WRITTEN:
        return
    ss.pop(VERSION_PICK, None)
    if open_saved(name):
        say(
            "success",
            f"Version {version} of “{escape_markdown(name)}” is current again (saved as version "
            f"{new_version}) and is open.",
        )


def on_compare_current(label: str) -> None:
    if state().problems:
        say("warning", "The tables have problems, so the last valid scenario (on screen) was added.")
    put(planner.add_to_compare(state(), label))


def on_compare_saved() -> None:
    name = ss.get(COMPARE_SAVED)
    if not name:
        return
    try:
        scenario = store().load(name, **workspace())
    except (InputError, sqlite3.Error, OSError) as error:
        say("error", f"Could not add “{escape_markdown(name)}”: {escape_markdown(str(error))}")
        return
    put(planner.add_to_compare(state(), name, scenario_to_dict(scenario)))


def on_compare_remove(index: int) -> None:
    put(planner.remove_from_compare(state(), index))


def on_compare_clear() -> None:
    put(planner.clear_compare(state()))


def mirror_to_link() -> None:
    """Write what the state says into the URL (only what changed), so a link reproduces the view."""
    params = planner.link_params(state())
    for name in ("preset", "saved", "where", "forces", "wave2", "from"):
        if name in params:
            wanted = [params[name]] if isinstance(params[name], str) else list(params[name])
            if st.query_params.get_all(name) != wanted:
                st.query_params[name] = params[name]
        elif name in st.query_params:
            del st.query_params[name]


def comparison_tables(
    entries: tuple[planner.CompareEntry, ...], existing: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The side-by-side table (measures × scenarios, as text) and the numbers the chart needs."""
    names = force_names()
    rows, summary = {}, []
    for entry in entries:
        s = scenario_from_dict(dict(entry.scenario))
        r = run(entry.hash, existing, s)
        tt, cc = r.totals, r.coverage
        summary.append(
            {
                "label": entry.label,
                "present_value": tt["present_value"],
                "total_cost_nominal": tt["total_cost_nominal"],
                "fte_total": tt["fte_total"],
                "horizon_years": tt["horizon_years"],
                "price_base": r.price_base,
            }
        )
        per_referral, per_100k = tt["cost_per_referral"], tt["cost_per_100k_16plus"]
        deployments = [d.model_dump() for d in r_deployments(r)]
        rows[entry.label] = {
            "Unit model": ", ".join(u.name for u in s.unit_models),
            "Where": placement_summary(deployments, names, s.start_year),
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


def r_deployments(result: ScenarioResult) -> list:
    """The units a result costed (a placement rule resolved), as deployments."""
    return list(result.deployments)


def as_errors(problems) -> InputError:
    from coverage.errors import InputErrors

    return InputErrors(list(problems), where="scenario")


def reference_for(current: PlannerState) -> dict:
    return dict(current.reference)


def reference_name(current: PlannerState) -> str:
    return current.reference_name


# ---- Tables as shown (and downloaded: the same names and rounding) -------------------------


def _money_shown(frame: pd.DataFrame, price_base: str, *, cash: bool = True) -> dict[str, pd.Series]:
    """The money columns every cost table shows, named and rounded as on screen."""
    columns = {"Cash £": frame["cost_nominal"].round(0)} if cash else {}
    return {**columns, f"Real £ ({price_base})": frame["cost_real"].round(0), "Present value £": frame["pv"].round(0)}


def shown_by_year(result: ScenarioResult) -> pd.DataFrame:
    frame = result.by_year
    return pd.DataFrame(
        {
            "Year": frame["fiscal_year"],
            "FTE": frame["fte"].round(1),
            "Referrals a year": frame["referrals"].round(0) if "referrals" in frame else None,
            **_money_shown(frame, result.price_base),
        }
    )


def shown_by_force(result: ScenarioResult) -> pd.DataFrame:
    frame = result.by_force
    return pd.DataFrame(
        {
            "Code": frame["code"],
            "Force area": frame["name"],
            "Units serving it": frame["units"],
            "FTE": frame["fte"].round(1),
            **_money_shown(frame, result.price_base),
            "Referrals a year": frame["referrals_per_year"].round(0),
            "Population 16+": frame["pop_16plus"].round(0),
        }
    )


def shown_by_role(result: ScenarioResult) -> pd.DataFrame:
    from coverage.outputs.scenario_charts import AGENCY_LABELS

    frame = result.by_role
    return pd.DataFrame(
        {
            "Role": frame["role"],
            "Agency": frame["agency"].map(AGENCY_LABELS),
            "FTE": frame["fte"].round(2),
            **_money_shown(frame, result.price_base),
        }
    )


def shown_by_unit(result: ScenarioResult) -> pd.DataFrame:
    frame = result.by_unit
    return pd.DataFrame(
        {
            "Unit": frame["unit"],
            "Forces served": frame["forces"],
            "From": frame["first_year"],
            "FTE": frame["fte"].round(1),
            **_money_shown(frame, result.price_base, cash=False),
            "Referrals a year": frame["referrals_per_year"].round(0),
        }
    )


def show_value_for_money(result: ScenarioResult, scenario: Scenario) -> None:
    """Is it worth it? The break-even (Green Book switching value) beside published costs of harm."""
    from coverage.planner.rules import load_rulebook
    from coverage.planner.value import value_for_money

    by_year = result.by_year
    st.markdown("**Is it worth it?**")
    try:
        vfm = value_for_money(
            result.totals["present_value"],
            list(by_year["referrals"]),
            list(by_year["discount_factor"]),
            scenario.price_base_year,
            load_rulebook().deflator_index,
        )
    except InputError as error:
        st.info(f"The break-even cannot be worked out: {escape_markdown(error.reason)}")
        return
    for sentence in vfm.comparisons:
        st.markdown(escape_markdown(sentence))
    rows = [
        {
            "Published cost of harm": b.cost.label,
            f"At {result.price_base} £": round(b.amount),
            "As published": f"£{b.cost.amount:,.0f} ({b.cost.price_year}/{(b.cost.price_year + 1) % 100:02d} prices)",
            "Per": b.cost.per,
            "What it is not": b.cost.is_not or b.cost.caveat,
            "Source": ", ".join(b.cost.source_ids) + f" ({b.cost.status})",
        }
        for b in vfm.benchmarks
    ] + [
        {
            "Published cost of harm": c.label,
            f"At {result.price_base} £": None,
            "As published": f"£{c.amount:,.2f} (no price year stated: not uprated)",
            "Per": c.per,
            "What it is not": c.is_not or c.caveat,
            "Source": ", ".join(c.source_ids) + f" ({c.status})",
        }
        for c in vfm.not_uprated
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(escape_markdown(vfm.effect_size_note))


def on_recover(name: str) -> None:
    if (
        _write_to_store(
            lambda: store().restore_deleted(name, **who()), refused="Not recovered: ", failed="Not recovered"
        )
        is _NOT_WRITTEN
    ):
        return
    say("success", f"Recovered “{escape_markdown(name)}” with all its versions.")
    ss[SAVED_PICK] = name


# ---- Save, open and share: the store panel (personal and team) or what a public atlas offers --------


def saved_names() -> list[str]:
    if not access.deployment().writes_to_store:
        return []
    try:
        return [i.name for i in store().list(**workspace())]
    except (sqlite3.Error, OSError):
        return []


def _when(text: str) -> str:
    return text.replace("T", " ")[:16]


def save_panel(current: PlannerState) -> PlannerState:
    """Save, the saved scenarios (owner and who saved each version), open, duplicate, restore, delete and
    recover. A public deployment keeps nothing on the server: it says so and offers files and links."""
    from dataclasses import replace

    deployment = access.deployment()
    if not deployment.writes_to_store:
        st.subheader("Keep it")
        st.info(
            "This public atlas keeps nothing on its server: your scenarios stay in this browser tab. Keep one by "
            "downloading it as a file, or copy its link (beside this); either opens it again here."
        )
        return current
    st.subheader("Save")
    typed = st.text_input(
        "Name", value=current.save_name, key=key("save_name"), max_chars=120, placeholder="e.g. North West, two waves"
    )
    if typed != current.save_name:
        current = replace(current, save_name=typed)
        put(current)
    user = access.actor()
    name_specific = False
    try:
        why = store().write_refusal()
        allowed = not why
        if allowed and typed.strip():
            allowed, why = store().can_write(" ".join(typed.split()), user, **workspace())
            name_specific = not allowed
    except (sqlite3.Error, OSError) as error:
        allowed, why = False, store_problem(error)
    st.button(
        "Save",
        key="scn_save",
        on_click=on_save,
        args=(key("save_name"),),
        type="primary",
        disabled=not allowed,
        help=why or "Saving under an existing name adds a new version; earlier versions are kept.",
    )
    if not allowed:
        advice = " Save it under a new name instead." if name_specific else ""
        st.caption(f"Saving is not possible: {escape_markdown(why.rstrip('.'))}.{advice}")
    st.subheader("Saved scenarios")
    try:
        listing = store().list(**workspace())
        deleted = [i for i in store().list(include_deleted=True, **workspace()) if i.deleted_at]
    except (sqlite3.Error, OSError) as error:
        st.error(f"The scenario store cannot be read: {store_problem(error)}. Saving is unavailable.")
        return current
    if not listing:
        st.info("No saved scenarios yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Name": i.name,
                        "Owner": i.owner,
                        "Versions": i.versions,
                        "Latest": i.latest_version,
                        "Saved (UTC)": _when(i.updated_at),
                        "Saved by": i.updated_by,
                        "Valid": "yes" if i.ok else f"no: {i.problem}",
                    }
                    for i in listing
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        listed = [i.name for i in listing]
        if ss.get(SAVED_PICK) not in listed:
            ss[SAVED_PICK] = listed[0]
        st.selectbox("Saved scenario", listed, key=SAVED_PICK)
        pick = ss[SAVED_PICK]
        try:
            may_change, reason = store().can_write(pick, user, **workspace())
        except (sqlite3.Error, OSError) as error:
            may_change, reason = False, store_problem(error)
        b1, b2 = st.columns(2)
        b1.button("Open", key="scn_open", on_click=on_open)
        b2.button(
            "Delete…",
            key="scn_delete",
            on_click=on_delete,
            args=(False,),
            disabled=not may_change,
            help=reason or "Deleted scenarios can be recovered for 30 days.",
        )
        if not may_change:
            st.caption(f"Read-only for you: {escape_markdown(reason)}")
        if ss.get(CONFIRM_DELETE) == pick and may_change:
            count = next(i.versions for i in listing if i.name == pick)
            st.warning(
                f"Delete “{escape_markdown(pick)}” and its {count} version{'s' if count != 1 else ''}? "
                "It can be recovered for 30 days."
            )
            c1, c2 = st.columns(2)
            c1.button("Yes, delete", key="scn_delete_yes", on_click=on_delete, args=(True,))
            c2.button("Cancel", key="scn_delete_no", on_click=on_cancel_delete)
        st.text_input("Copy it as", key=DUP_NAME, max_chars=120, placeholder="New name")
        st.button("Duplicate", key="scn_duplicate", on_click=on_duplicate, help="The copy is yours.")
        try:
            versions = store().versions(pick, **workspace())
        except (InputError, sqlite3.Error, OSError) as error:
            versions = []
            st.error(f"The versions of “{escape_markdown(pick)}” cannot be read: {store_problem(error)}.")
        numbers = [v.version for v in versions]
        labels = {
            v.version: f"Version {v.version}, {_when(v.created_at)} UTC, saved by {v.saved_by}"
            + (f" ({v.note})" if v.note else "")
            for v in versions
        }
        if numbers:
            if ss.get(VERSION_PICK) not in numbers:
                ss[VERSION_PICK] = numbers[-2] if len(numbers) > 1 else numbers[-1]
            st.selectbox("Versions", numbers, format_func=labels.get, key=VERSION_PICK)
            st.button(
                "Make this version current again",
                key="scn_restore",
                on_click=on_restore,
                disabled=len(numbers) < 2 or not may_change,
                help=reason or "Copies the chosen version forward as the newest one; no version is ever overwritten.",
            )
    if deleted:
        with st.expander(f"Recently deleted ({len(deleted)})"):
            for i, info in enumerate(deleted):
                until = _when(str(info.recoverable_until or ""))
                st.markdown(
                    f"“{escape_markdown(info.name)}”, deleted by {escape_markdown(str(info.deleted_by))} on "
                    f"{_when(str(info.deleted_at))} UTC; recoverable until {until} UTC."
                )
                st.button("Recover", key=f"scn_recover_{i}", on_click=on_recover, args=(info.name,))
    return current


def share_link_panel(scenario: Scenario) -> None:
    """A link that carries the scenario itself (nothing is kept on the server)."""
    from coverage.planner.share import PARAM, share_token

    st.subheader("Share as a link")
    try:
        token = share_token(scenario)
    except InputError as error:
        st.info(escape_markdown(error.reason))
        return
    base = paths.PUBLIC_URL.rstrip("/") if paths.PUBLIC_URL else ""
    st.code(f"{base}/scenarios?{PARAM}={token}", language=None, wrap_lines=True)
    st.caption(
        "The link holds the whole scenario (compressed), so whoever opens it sees these figures; nothing is "
        "stored on the server."
    )
