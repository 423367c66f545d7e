"""The Scenario planner's state: one value that says everything the page shows, and the actions on it.

Every widget of the planner is drawn from a :class:`PlannerState`, and every action a planner takes
(switch preset, choose a unit model, edit a table, change where the units go, upload, open, save,
delete, compare) is a function from one state to the next. The page keeps the state in its session
and never keeps a second copy of any of it, so the Save name, the preset box, the URL, the totals and
the comparison cannot disagree.

Two fields do the work that widget state used to do badly:

* ``base`` is the scenario the tables are drawn from; ``scenario`` is the one on screen (``base``
  with the table edits, placement and ramp-up applied, the last time they validated).
* ``generation`` changes whenever ``base`` is replaced. The page puts it in every editable widget's
  key, so a new base gets new widgets, and no box keeps a value typed for the previous one.

Pure: no Streamlit. The page supplies the tables the planner edited; this module validates them with
``coverage.planner.editing`` and ``coverage.planner.schema``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd

from coverage.errors import InputError, Problem, problems_of
from coverage.planner.editing import (
    Placement,
    deployments_for,
    edited_scenario,
    oncosts_shown_differ,
    placement_from_scenario,
)
from coverage.planner.schema import scenario_from_dict, scenario_hash, scenario_to_dict

OriginKind = Literal["preset", "saved", "upload", "link", "deleted"]
MAX_COMPARE = 4


@dataclass(frozen=True)
class Origin:
    """Where the scenario being edited came from."""

    kind: OriginKind
    preset: str | None = None  # the preset id, when it is a preset
    saved: str | None = None  # the store name it was opened from or saved as
    version: int | None = None
    file_name: str | None = None
    name: str | None = None  # the preset's or file's scenario name, for people

    @property
    def label(self) -> str:
        if self.kind == "saved":
            return f"saved scenario “{self.saved}”" + (f", version {self.version}" if self.version else "")
        if self.kind == "upload":
            return f"uploaded file “{self.file_name}”"
        if self.kind == "link":
            return f"scenario “{self.name}” from a shared link"
        if self.kind == "deleted":
            return f"“{self.saved}” (deleted from the store; still on screen until you change it)"
        return f"preset “{self.name or self.preset}”"


@dataclass(frozen=True)
class CompareEntry:
    label: str
    scenario: Mapping[str, Any]
    hash: str


@dataclass(frozen=True)
class Edits:
    """What the planner has typed into the tables since ``base`` was set (None: not drawn this run)."""

    params: pd.DataFrame | None = None
    roles: pd.DataFrame | None = None
    fixed: pd.DataFrame | None = None
    ramp: str | None = None
    rules: pd.DataFrame | None = None
    offences_period: str | bool | None = False  # False: not drawn; None: the latest year


@dataclass(frozen=True)
class PlannerState:
    base: Mapping[str, Any]
    origin: Origin
    unit_id: str
    placement: Placement
    save_name: str = ""
    generation: int = 0
    scenario: Mapping[str, Any] = field(default_factory=dict)  # on screen: the last edit that validated
    problems: tuple[Problem, ...] = ()
    compare: tuple[CompareEntry, ...] = ()
    messages: tuple[tuple[str, str], ...] = ()  # (kind, text) to show once: success, info, warning, error
    reference: Mapping[str, Any] = field(default_factory=dict)  # as opened: what "changed from" compares with

    @property
    def reference_name(self) -> str:
        names = {"preset": "preset", "saved": "saved version", "upload": "file", "link": "link", "deleted": "deleted"}
        return names[self.origin.kind]

    @property
    def unit_index(self) -> int:
        ids = [u["id"] for u in self.base["unit_models"]]
        return ids.index(self.unit_id) if self.unit_id in ids else 0

    @property
    def unit_ids(self) -> list[str]:
        return [u["id"] for u in self.base["unit_models"]]

    @property
    def preset_id(self) -> str | None:
        return self.origin.preset if self.origin.kind == "preset" else None

    @property
    def scenario_hash(self) -> str:
        return scenario_hash(scenario_from_dict(dict(self.scenario)))


# --------------------------------------------------------------------------------------------
# Starting points: a preset, a saved scenario, an uploaded file
# --------------------------------------------------------------------------------------------


def _placed_units(data: Mapping[str, Any]) -> list[str]:
    rule = data.get("placement")
    used = [str(rule["unit_model"])] if rule else []
    used += [str(d["unit_model"]) for d in data.get("deployments") or []]
    return used


def _fresh(
    state: PlannerState | None,
    base: Mapping[str, Any],
    origin: Origin,
    *,
    save_name: str,
    keep_placement: bool,
) -> PlannerState:
    """A new state editing ``base``; the tables start again from it (a new generation)."""
    data = scenario_to_dict(scenario_from_dict(copy.deepcopy(dict(base))))
    ids = [u["id"] for u in data["unit_models"]]
    placed = [u for u in _placed_units(data) if u in ids]
    unit_id = placed[0] if placed else ids[0]
    placement = placement_from_scenario(data)
    if keep_placement and state is not None and state.placement.mode != "file":
        placement = state.placement
        data = _with_placement(data, placement, unit_id)
    return PlannerState(
        base=data,
        origin=origin,
        unit_id=unit_id,
        placement=placement,
        save_name=save_name,
        generation=(state.generation + 1) if state is not None else 0,
        scenario=data,
        problems=(),
        compare=state.compare if state is not None else (),
        reference=copy.deepcopy(data),
    )


def _with_placement(data: Mapping[str, Any], placement: Placement, unit_id: str) -> dict[str, Any]:
    deployments, rule, problems = deployments_for(placement, unit_id)
    out = copy.deepcopy(dict(data))
    if not problems:
        out["deployments"], out["placement"] = deployments, rule
    try:
        return scenario_to_dict(scenario_from_dict(out))
    except InputError:
        return dict(data)


def from_preset(preset_id: str, preset: Mapping[str, Any], state: PlannerState | None = None) -> PlannerState:
    """Start from a preset. Where the units go is kept (a planner comparing unit models keeps the forces);
    the Save name is cleared, since a preset is not a saved scenario."""
    origin = Origin("preset", preset=preset_id, name=str(preset.get("name", "")) or None)
    return _fresh(state, preset, origin, save_name="", keep_placement=state is not None)


def from_saved(
    name: str, version: int | None, scenario: Mapping[str, Any], state: PlannerState | None = None
) -> PlannerState:
    """Open a saved scenario: its own placement, and Save adds a version to the same name."""
    return _fresh(state, scenario, Origin("saved", saved=name, version=version), save_name=name, keep_placement=False)


def from_upload(file_name: str, scenario: Mapping[str, Any], state: PlannerState | None = None) -> PlannerState:
    """Open an uploaded file: its own placement; the Save name starts as the scenario's own name."""
    name = str(scenario.get("name", ""))[:120]
    return _fresh(state, scenario, Origin("upload", file_name=file_name), save_name=name, keep_placement=False)


def from_link(scenario: Mapping[str, Any], state: PlannerState | None = None) -> PlannerState:
    """Open the scenario a share link carries: its own placement; the Save name starts as its name."""
    name = str(scenario.get("name", ""))[:120]
    return _fresh(state, scenario, Origin("link", name=name), save_name=name, keep_placement=False)


def saved_as(state: PlannerState, name: str, version: int) -> PlannerState:
    """After a save: the scenario on screen becomes the base (named ``name``), and Save keeps that name."""
    data = {**dict(state.scenario), "name": name[:160]}
    new = _fresh(state, data, Origin("saved", saved=name, version=version), save_name=name, keep_placement=False)
    return replace(new, unit_id=state.unit_id if state.unit_id in new.unit_ids else new.unit_id)


def deleted(state: PlannerState, name: str) -> PlannerState:
    """A saved scenario was deleted: if it is the one on screen, say so and stop naming it as saved."""
    if state.origin.kind == "saved" and state.origin.saved == name:
        return replace(state, origin=Origin("deleted", saved=name), save_name="")
    return state


# --------------------------------------------------------------------------------------------
# Editing
# --------------------------------------------------------------------------------------------


def edited(state: PlannerState, edits: Edits, placement: Placement) -> PlannerState:
    """The tables and placement as the planner left them: the scenario on screen if they validate, else
    the problems (each with its field path) and the last scenario that did."""
    deployments, rule, placement_problems = deployments_for(placement, state.unit_id)
    try:
        candidate = edited_scenario(
            state.base,
            unit_index=state.unit_index,
            params=edits.params,
            roles=edits.roles,
            fixed=edits.fixed,
            ramp=edits.ramp,
            deployments=deployments,
            placement_rule=rule,
            placement_problems=placement_problems,
            rules=edits.rules,
            offences_period=edits.offences_period,
        )
    except InputError as error:
        return replace(state, placement=placement, problems=tuple(problems_of(error)))
    scenario = scenario_to_dict(candidate)
    if oncosts_shown_differ(edits.roles, scenario, state.unit_index):
        # a salary, pension scheme or rule changed what the on-cost column should say: the edit becomes the
        # base and the tables are drawn again (a new generation), so no stale rate stays on screen
        return replace(
            state,
            base=copy.deepcopy(scenario),
            placement=placement,
            scenario=scenario,
            problems=(),
            generation=state.generation + 1,
        )
    return replace(state, placement=placement, scenario=scenario, problems=())


def refused(state: PlannerState, error: InputError) -> PlannerState:
    """The edit validated but could not be costed (e.g. a force with no offence count): keep what was on screen."""
    return replace(state, problems=tuple(problems_of(error)))


def choose_unit(state: PlannerState, unit_id: str) -> PlannerState:
    """Edit another unit model: edits so far are kept when they validate (set aside, and said, when not),
    and the tables are drawn again for the chosen unit."""
    if unit_id not in state.unit_ids or unit_id == state.unit_id:
        return state
    kept = not state.problems
    base = state.scenario if kept else state.base
    note = (
        "Edits to the other unit model are kept."
        if kept
        else "Edits to the other unit model had problems and were set aside."
    )
    name = next(u["name"] for u in state.base["unit_models"] if u["id"] == unit_id)
    return replace(
        state,
        base=copy.deepcopy(dict(base)),
        unit_id=unit_id,
        generation=state.generation + 1,
        problems=(),
        messages=(*state.messages, ("info", f"Now editing “{name}”. {note}")),
    )


def say(state: PlannerState, kind: str, text: str) -> PlannerState:
    return replace(state, messages=(*state.messages, (kind, text)))


def said(state: PlannerState) -> tuple[PlannerState, tuple[tuple[str, str], ...]]:
    """The messages to show now, and the state without them."""
    return replace(state, messages=()), state.messages


# --------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------


def add_to_compare(state: PlannerState, label: str, scenario: Mapping[str, Any] | None = None) -> PlannerState:
    """Put a scenario (the one on screen by default) in the comparison, once, under a unique label."""
    data = dict(scenario if scenario is not None else state.scenario)
    digest = scenario_hash(scenario_from_dict(copy.deepcopy(data)))
    if any(e.hash == digest for e in state.compare):
        return say(state, "info", f"“{label}” is already in the comparison.")
    if len(state.compare) >= MAX_COMPARE:
        return say(
            state,
            "warning",
            f"The comparison already holds {MAX_COMPARE} scenarios, the most this page shows side by side. "
            "Remove one to add another.",
        )
    taken = {e.label for e in state.compare}
    final, n = label, 2
    while final in taken:
        final, n = f"{label} ({n})", n + 1
    entries = (*state.compare, CompareEntry(final, copy.deepcopy(data), digest))
    return say(
        replace(state, compare=entries),
        "success",
        f"Added “{final}” to the comparison ({len(entries)} of {MAX_COMPARE}).",
    )


def remove_from_compare(state: PlannerState, index: int) -> PlannerState:
    if not 0 <= index < len(state.compare):
        return state
    return replace(state, compare=state.compare[:index] + state.compare[index + 1 :])


def clear_compare(state: PlannerState) -> PlannerState:
    return replace(state, compare=())


# --------------------------------------------------------------------------------------------
# The link
# --------------------------------------------------------------------------------------------


def link_params(state: PlannerState) -> dict[str, str | list[str]]:
    """What the URL says: the preset or saved name the scenario came from, and where the units go.
    An uploaded file is not in the URL (a link cannot carry it), so the link names no preset then."""
    params: dict[str, str | list[str]] = {}
    if state.origin.kind == "preset" and state.origin.preset:
        params["preset"] = state.origin.preset
    elif state.origin.kind == "saved" and state.origin.saved:
        params["saved"] = state.origin.saved
    if state.origin.kind in ("preset", "saved"):
        p = state.placement
        params["where"] = p.mode
        if p.mode == "one" and p.force:
            params["forces"] = [p.force]
        elif p.mode in ("list", "waves", "shared"):
            params["forces"] = list(p.forces)
        if p.mode == "waves":
            params["wave2"] = list(p.wave2)
            params["from"] = str(p.wave2_year)
    return params
