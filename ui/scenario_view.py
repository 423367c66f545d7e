"""The Scenario planner's tables, state and helpers.

The first part is pure (no Streamlit calls): it turns a scenario into the editable tables the page
shows, turns the edited tables back into a scenario (every problem named by its field path), places
units (one force, a list, every force without a unit, waves) and says where on the page a problem is.
The second part holds the cached loaders (keyed on a scenario's hash) and render helpers (problem
tables, charts with PNG/SVG downloads). The last part names every session-state key of the page and
holds its callbacks (save, open, duplicate, delete, restore, upload, compare) and the link handling.

(The pure part could move to ``coverage/`` — e.g. ``coverage/scenario_tables.py`` — so the CLI and
other pages can use it; it imports nothing from Streamlit.)
"""

from __future__ import annotations

import copy
import io
import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import vl_convert as vlc
from streamlit import session_state as ss

from coverage import atlas_data, paths
from coverage.errors import InputError, InputErrors
from coverage.lottery import offences_by_force
from coverage.profile import escape_markdown
from coverage.scenario_charts import money
from coverage.scenario_schema import (
    MAX_FILE_BYTES,
    Scenario,
    fiscal_year_label,
    list_presets,
    load_preset,
    load_scenario_bytes,
    read_source_list,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    scenario_to_yaml,
)
from coverage.scenarios import ScenarioResult, run_scenario, to_xlsx, tornado
from coverage.services import neutralise_formula
from coverage.store import SQLiteScenarioStore, default_db_path
from ui import data as ui_data

# --------------------------------------------------------------------------------------------
# Scenario-level and unit-level numbers: one row each in the assumptions table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    key: str  # row id in the table
    label: str
    unit: str
    path: str  # the schema's field path, with {u} for the unit model's index
    scale: float = 1.0  # shown = stored × scale (rates are shown as percentages)
    whole: bool = False


PARAM_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("horizon_years", "Horizon", "years (1 to 30)", "horizon_years", whole=True),
    ParamSpec("start_year", "First year", "financial year starting (2026 = 2026/27)", "start_year", whole=True),
    ParamSpec("discount_rate", "Discount rate", "% a year, real (Green Book: 3.5)", "discount_rate", 100),
    ParamSpec("optimism_bias", "Optimism bias", "% added to every cost", "optimism_bias", 100),
    ParamSpec("pay_uplift", "Real pay uplift", "% a year above the GDP deflator", "pay_uplift", 100),
    ParamSpec("non_pay_inflation", "Non-pay inflation", "% a year, nominal", "non_pay_inflation", 100),
    ParamSpec("gdp_deflator", "GDP deflator (general inflation)", "% a year", "gdp_deflator", 100),
    ParamSpec("referral_rate", "Referral rate", "referrals a year per recorded offence", "demand.referral_rate.value"),
    ParamSpec("fixed_referrals_per_year", "Referrals a year per unit", "referrals", "demand.fixed_referrals_per_year"),
    ParamSpec("non_pay", "Non-pay per unit", "£ a year", "unit_models[{u}].non_pay"),
    ParamSpec(
        "recruitment_training_cost_per_new_fte", "Recruitment and training", "£ per new FTE",
        "unit_models[{u}].recruitment_training_cost_per_new_fte",
    ),
    ParamSpec("attrition_rate", "Staff turnover", "% of posts re-filled a year", "unit_models[{u}].attrition_rate", 100),
)
SPEC_BY_KEY = {s.key: s for s in PARAM_SPECS}
PARAM_COLUMNS = ["Parameter", "Value", "Unit", "Source", "Note"]

ROLE_FIELDS = [
    "role", "agency", "grade", "salary", "oncost_rate", "overhead_rate", "fte_mode", "fte", "caseload_per_fte",
    "source", "assumption", "note",
]
ROLE_LABELS = {
    "role": "Role",
    "agency": "Agency",
    "grade": "Grade",
    "salary": "Salary (£ a year)",
    "oncost_rate": "On-costs (% of salary)",
    "overhead_rate": "Overheads (%)",
    "fte_mode": "FTE set by",
    "fte": "FTE (fixed posts)",
    "caseload_per_fte": "Referrals a year per FTE",
    "source": "Source",
    "assumption": "Assumption",
    "note": "Note",
}
FIXED_FIELDS = ["item", "agency", "amount", "index", "source", "assumption", "note"]
FIXED_LABELS = {
    "item": "Item",
    "agency": "Agency",
    "amount": "Amount (£ a year)",
    "index": "Grows with",
    "source": "Source",
    "assumption": "Assumption",
    "note": "Note",
}
PERCENT_FIELDS = {"oncost_rate", "overhead_rate"}
ROLE_NUMBERS = ("salary", "oncost_rate", "overhead_rate", "fte", "caseload_per_fte")

MODES = {
    "one": "One force",
    "list": "A list of forces",
    "no_unit": "Every force with no multi-agency unit",
    "waves": "In two waves",
    "file": "As in the opened scenario",
}


def provenance(source: Any, assumption: Any) -> str:
    """'P014', 'P015; P016 (assumption)', 'assumption' or 'not stated'."""
    text = "" if _blank(source) else str(source).strip()
    flag = True if _blank(assumption) else bool(assumption)
    if text and flag:
        return f"{text} (assumption)"
    if text:
        return text
    return "assumption" if flag else "not stated"


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any) -> float | None:
    """A finite float, or None when the cell is not a number."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _shown(value: float, scale: float) -> float:
    return round(float(value) * scale, 10)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _fmt_shown(value: float, spec_unit: str) -> str:
    if spec_unit.startswith("£"):
        return f"£{value:,.0f}"
    if spec_unit.startswith("%"):
        return f"{value:g}%"
    return f"{value:g}"


# --------------------------------------------------------------------------------------------
# Scenario → tables
# --------------------------------------------------------------------------------------------


def _param_of(data: Mapping, spec: ParamSpec, u: int) -> dict | None:
    """The {value, source, assumption, note} object behind a row (None when the scenario has no such row)."""
    if spec.key in ("horizon_years", "start_year"):
        return {"value": data[spec.key], "source": "scenario setting", "assumption": False, "note": ""}
    if spec.key == "referral_rate":
        demand = data.get("demand") or {}
        rr = demand.get("referral_rate")
        if not rr:
            return None
        value = rr.get("value")
        if value is None:
            value = rr["observed_referrals"] * 12.0 / rr["observed_months"] / rr["reference_offences"]
        return {"value": value, "source": rr.get("source", ""), "assumption": rr.get("assumption", True),
                "note": rr.get("note", "")}
    if spec.key == "fixed_referrals_per_year":
        demand = data.get("demand") or {}
        return demand.get("fixed_referrals_per_year") or None
    if spec.path.startswith("unit_models"):
        return data["unit_models"][u].get(spec.key)
    return data.get(spec.key)


def params_table(data: Mapping, unit_index: int = 0) -> pd.DataFrame:
    """One row per number (index = its key): label, value as shown, unit, source-or-assumption, note."""
    rows = []
    for spec in PARAM_SPECS:
        param = _param_of(data, spec, unit_index)
        if param is None:
            continue
        value = param["value"]
        note = param.get("note", "") or ""
        if isinstance(value, list):
            note = (f"Year by year in the file: {', '.join(f'{_shown(v, spec.scale):g}' for v in value)} (the last "
                    f"repeats); the first is shown, and a new value here replaces the list. " + note)
            value = value[0]
        rows.append({
            "key": spec.key,
            "Parameter": spec.label,
            "Value": _shown(value, spec.scale),
            "Unit": spec.unit,
            "Source": provenance(param.get("source"), param.get("assumption")) if spec.key not in (
                "horizon_years", "start_year") else "scenario setting",
            "Note": note,
        })
    return pd.DataFrame(rows, columns=["key", *PARAM_COLUMNS]).set_index("key")


def roles_table(data: Mapping, unit_index: int = 0) -> pd.DataFrame:
    roles = data["unit_models"][unit_index].get("roles") or []
    rows = []
    for r in roles:
        row = {f: r.get(f) for f in ROLE_FIELDS}
        for f in PERCENT_FIELDS:
            row[f] = _shown(row[f], 100) if row[f] is not None else None
        rows.append(row)
    frame = pd.DataFrame(rows, columns=ROLE_FIELDS)
    for f in ROLE_NUMBERS:
        frame[f] = pd.to_numeric(frame[f], errors="coerce").astype(float)
    frame["assumption"] = frame["assumption"].astype(bool)
    return frame


def fixed_table(data: Mapping, unit_index: int = 0) -> pd.DataFrame:
    lines = data["unit_models"][unit_index].get("fixed_costs") or []
    frame = pd.DataFrame([{f: line.get(f) for f in FIXED_FIELDS} for line in lines], columns=FIXED_FIELDS)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").astype(float)
    frame["assumption"] = frame["assumption"].astype(bool)
    return frame


# --------------------------------------------------------------------------------------------
# Edited tables → scenario
# --------------------------------------------------------------------------------------------


def apply_params(data: dict, table: pd.DataFrame, unit_index: int = 0) -> list[str]:
    """Write the assumptions table's values into ``data`` (in place); return problems by field path.

    An unchanged value keeps its source. A changed one becomes ``source: user input``,
    ``assumption: true`` with a note saying what the file had.
    """
    problems: list[str] = []
    original = params_table(data, unit_index)
    for key, row in table.iterrows():
        spec = SPEC_BY_KEY.get(str(key))
        if spec is None or key not in original.index:
            continue
        path = spec.path.format(u=unit_index)
        raw = row.get("Value")
        if _blank(raw):
            problems.append(f"{path}: is blank; enter a number ({spec.unit})")
            continue
        shown = _number(raw)
        if shown is None:
            problems.append(f"{path}: '{raw}' is not a number")
            continue
        before = float(original.at[key, "Value"])
        if _same(shown, before):
            continue
        if spec.whole:
            if shown != int(shown):
                problems.append(f"{path}: must be a whole number")
                continue
            data[spec.key] = int(shown)
            continue
        stored = shown / spec.scale
        old = _param_of(data, spec, unit_index) or {}
        note = (f"Set on the Scenario planner; the file had {_fmt_shown(before, spec.unit)} "
                f"({provenance(old.get('source'), old.get('assumption'))}).")
        new = {"value": stored, "source": "user input", "assumption": True, "note": note}
        if spec.key == "referral_rate":
            rr = data["demand"]["referral_rate"]
            data["demand"]["referral_rate"] = {
                "value": stored, "source": "user input", "assumption": True, "confidence": "low", "note": note,
                "offence_group": rr.get("offence_group", ""),
            }
            if not data["demand"]["referral_rate"]["offence_group"]:
                del data["demand"]["referral_rate"]["offence_group"]
        elif spec.key == "fixed_referrals_per_year":
            data["demand"]["fixed_referrals_per_year"] = new
        elif spec.path.startswith("unit_models"):
            data["unit_models"][unit_index][spec.key] = new
        else:
            data[spec.key] = new
    return problems


def _text_cell(row: Mapping, name: str) -> str:
    value = row.get(name)
    return "" if _blank(value) else str(value).strip()


def _rows_back(
    table: pd.DataFrame, original: pd.DataFrame, stored: list[Mapping], *, path: str, fields: list[str],
    required_text: Iterable[str], required_numbers: Iterable[str], optional_numbers: Iterable[str],
    labels: Mapping[str, str],
) -> tuple[list[dict], list[str]]:
    """Rows of an edited table as schema dicts; blank required cells reported by field path."""
    out: list[dict] = []
    problems: list[str] = []
    for i, (index, row) in enumerate(table.iterrows()):
        where = f"{path}[{i}]"
        record: dict[str, Any] = {}
        changes: list[str] = []
        before = original.loc[index] if index in original.index else None
        for name in required_text:
            text = _text_cell(row, name)
            if not text:
                problems.append(f"{where}.{name}: is blank")
            record[name] = text
        for name in ("grade", "source", "note"):
            if name in fields:
                record[name] = _text_cell(row, name)
        for name in (*required_numbers, *optional_numbers):
            raw = row.get(name)
            if _blank(raw):
                if name in required_numbers:
                    problems.append(f"{where}.{name}: is blank; enter a number")
                continue
            number = _number(raw)
            if number is None:
                problems.append(f"{where}.{name}: '{raw}' is not a number")
                continue
            if before is not None:
                old = _number(before.get(name))
                if old is not None and _same(old, number):
                    # unchanged: keep the stored number exactly (44.54 / 100 is not always 0.4454)
                    record[name] = stored[index][name]
                    continue
                unit = "%" if name in PERCENT_FIELDS else ""
                old_text = "blank" if old is None else f"{old:,.10g}{unit}"
                changes.append(f"{labels[name].split(' (')[0].lower()} {old_text} → {number:,.10g}{unit}")
            record[name] = number / 100 if name in PERCENT_FIELDS else number
        assumption = row.get("assumption")
        record["assumption"] = True if _blank(assumption) else bool(assumption)
        if changes:
            record["assumption"] = True
            record["note"] = (record.get("note", "") + " Changed on the Scenario planner: " + "; ".join(changes) + ".").strip()
        out.append(record)
    return out, problems


def apply_roles(data: dict, table: pd.DataFrame, unit_index: int = 0) -> list[str]:
    original = roles_table(data, unit_index)
    roles, problems = _rows_back(
        table, original, data["unit_models"][unit_index].get("roles") or [], path=f"unit_models[{unit_index}].roles", fields=ROLE_FIELDS,
        required_text=("role", "agency", "fte_mode"), required_numbers=("salary", "oncost_rate", "overhead_rate"),
        optional_numbers=("fte", "caseload_per_fte"), labels=ROLE_LABELS,
    )
    data["unit_models"][unit_index]["roles"] = roles
    return problems


def apply_fixed(data: dict, table: pd.DataFrame, unit_index: int = 0) -> list[str]:
    original = fixed_table(data, unit_index)
    lines, problems = _rows_back(
        table, original, data["unit_models"][unit_index].get("fixed_costs") or [], path=f"unit_models[{unit_index}].fixed_costs", fields=FIXED_FIELDS,
        required_text=("item", "agency", "index"), required_numbers=("amount",), optional_numbers=(),
        labels=FIXED_LABELS,
    )
    data["unit_models"][unit_index]["fixed_costs"] = lines
    return problems


# --------------------------------------------------------------------------------------------
# Where the units go
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    mode: str = "one"
    force: str | None = None
    forces: tuple[str, ...] = ()
    wave2: tuple[str, ...] = ()
    wave2_year: int = 3  # the second wave starts in this year of the scenario (1 = its first year)
    file_deployments: tuple[tuple[str, int, str], ...] = field(default=())


def placement_from_deployments(deployments: list[Mapping]) -> Placement:
    """The simplest placement that reproduces a scenario's deployments (one force, a list, two waves)."""
    deps = tuple((str(d["force_code"]), int(d.get("start_year_offset", 0)), str(d["unit_model"])) for d in deployments)
    codes = [d[0] for d in deps]
    offsets = sorted({d[1] for d in deps})
    units = {d[2] for d in deps}
    simple = len(units) <= 1 and len(set(codes)) == len(codes)
    if not deps:
        return Placement(mode="list", forces=(), file_deployments=deps)
    if simple and offsets == [0]:
        if len(codes) == 1:
            return Placement(mode="one", force=codes[0], file_deployments=deps)
        return Placement(mode="list", forces=tuple(codes), file_deployments=deps)
    if simple and len(offsets) == 2 and offsets[0] == 0:
        first = tuple(c for c, o, _ in deps if o == 0)
        second = tuple(c for c, o, _ in deps if o == offsets[1])
        return Placement(mode="waves", forces=first, wave2=second, wave2_year=offsets[1] + 1, file_deployments=deps)
    return Placement(mode="file", file_deployments=deps)


def deployments_for(placement: Placement, unit_id: str, no_unit_codes: Iterable[str]) -> tuple[list[dict], list[str]]:
    """Deployments for a placement, and problems (e.g. a force in both waves) by field path."""
    p = placement
    problems: list[str] = []

    def dep(code: str, offset: int = 0) -> dict:
        return {"force_code": code, "start_year_offset": offset, "unit_model": unit_id}

    if p.mode == "one":
        return ([dep(p.force)] if p.force else []), problems
    if p.mode == "list":
        return [dep(c) for c in dict.fromkeys(p.forces)], problems
    if p.mode == "no_unit":
        return [dep(c) for c in sorted(set(no_unit_codes))], problems
    if p.mode == "waves":
        both = sorted(set(p.forces) & set(p.wave2))
        if both:
            problems.append(f"deployments: {', '.join(both)} in both waves; put each force in one wave")
        year = int(p.wave2_year)
        if year < 2:
            problems.append("deployments: the second wave must start in year 2 or later")
        offset = max(year - 1, 0)
        return [dep(c) for c in dict.fromkeys(p.forces)] + [dep(c, offset) for c in dict.fromkeys(p.wave2)], problems
    if p.mode == "file":
        return [{"force_code": c, "start_year_offset": o, "unit_model": u} for c, o, u in p.file_deployments], problems
    problems.append(f"deployments: unknown placement '{p.mode}'")
    return [], problems


def placement_summary(deployments: list[Mapping], names: Mapping[str, str], start_year: int) -> str:
    """'12 units in 12 force areas from 2026/27' or 'Wave 1: … from 2026/27; wave 2: … from 2028/29'."""
    if not deployments:
        return "No units placed yet"
    by_offset: dict[int, list[str]] = {}
    for d in deployments:
        by_offset.setdefault(int(d["start_year_offset"]), []).append(str(d["force_code"]))
    parts = []
    for offset in sorted(by_offset):
        codes = by_offset[offset]
        where = names.get(codes[0], codes[0]) if len(codes) == 1 else f"{len(set(codes))} force areas"
        count = len(codes)
        parts.append(f"{count} unit{'s' if count != 1 else ''} in {where} from {fiscal_year_label(start_year + offset)}")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# The whole edit
# --------------------------------------------------------------------------------------------


def edited_scenario(
    base: Mapping,
    *,
    unit_index: int,
    params: pd.DataFrame | None,
    roles: pd.DataFrame | None,
    fixed: pd.DataFrame | None,
    deployments: list[dict],
    placement_problems: Iterable[str] = (),
) -> Scenario:
    """The scenario the tables describe; ``InputError(s)`` naming every field that is wrong."""
    data = copy.deepcopy(dict(base))
    problems = list(placement_problems)
    if params is not None:
        problems += apply_params(data, params, unit_index)
    if roles is not None:
        problems += apply_roles(data, roles, unit_index)
    if fixed is not None:
        problems += apply_fixed(data, fixed, unit_index)
    data["deployments"] = deployments
    if problems:
        if len(problems) == 1:
            raise InputError(problems[0], where="scenario")
        raise InputErrors(problems, where="scenario")
    return scenario_from_dict(data, where="scenario")


# --------------------------------------------------------------------------------------------
# Where a problem is on the page
# --------------------------------------------------------------------------------------------

_PROBLEM_RE = re.compile(r"^(?P<path>[A-Za-z_][\w\[\]\.]*): (?P<message>.*)$", re.S)
_ROW_RE = re.compile(r"^unit_models\[(\d+)\]\.(roles|fixed_costs)\[(\d+)\](?:\.(\w+))?")
_UNIT_RE = re.compile(r"^unit_models\[(\d+)\]\.(\w+)")


def split_problem(problem: str) -> tuple[str, str]:
    m = _PROBLEM_RE.match(problem)
    return (m.group("path"), m.group("message")) if m else ("", problem)


def where_on_page(path: str, data: Mapping | None = None) -> str:
    """'Roles table, row 3 (Probation officer), column “Salary (£ a year)”' for a field path."""
    if not path:
        return "Scenario"
    m = _ROW_RE.match(path)
    if m:
        u, kind, r, name = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
        table = "Roles table" if kind == "roles" else "Fixed-cost table"
        labels = ROLE_LABELS if kind == "roles" else FIXED_LABELS
        text = f"{table}, row {r + 1}"
        try:
            rows = data["unit_models"][u][kind] if data else []
            title = rows[r].get("role" if kind == "roles" else "item") if r < len(rows) else ""
        except (KeyError, IndexError, TypeError, AttributeError):
            title = ""
        if title:
            text += f" ({title})"
        if name in labels:
            text += f", column “{labels[name]}”"
        return text
    m = _UNIT_RE.match(path)
    if m:
        name = m.group(2)
        if name in SPEC_BY_KEY:
            return f"Assumptions table, “{SPEC_BY_KEY[name].label}”"
        if name in ("roles", "fixed_costs"):
            return "Roles table" if name == "roles" else "Fixed-cost table"
        return "Unit model"
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if head == "demand":
        key = "fixed_referrals_per_year" if "fixed_referrals" in path else "referral_rate"
        return f"Assumptions table, “{SPEC_BY_KEY[key].label}”"
    if head == "deployments":
        return "Where the units go"
    if head in SPEC_BY_KEY:
        return f"Assumptions table, “{SPEC_BY_KEY[head].label}”"
    return "Scenario"


def problem_rows(error: InputError, data: Mapping | None = None, *, file_name: str | None = None) -> pd.DataFrame:
    """One problem per row: the field path, where it is (page table or file) and what is wrong."""
    problems = error.problems if isinstance(error, InputErrors) else [error.reason]
    rows = []
    for problem in problems:
        for line in str(problem).split("\n"):
            if not line.strip():
                continue
            path, message = split_problem(line)
            where = f"File {file_name}" if file_name else where_on_page(path, data)
            rows.append({"Field": path or "(whole file)" if file_name else path or "(scenario)", "Where": where,
                         "Problem": message})
    return pd.DataFrame(rows, columns=["Field", "Where", "Problem"])


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------


def safe_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets read '£'); text cells starting with = + - @ are neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(out[column]):
            out[column] = [neutralise_formula(v) if isinstance(v, str) else v for v in out[column].astype(object)]
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def file_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
    return stem[:60] or "scenario"



# ============================================================================================
# Streamlit helpers (everything below renders; everything above is pure)
# ============================================================================================

TORNADO_FACTORS = ("salaries", "oncosts", "caseload", "referral_rate", "optimism_bias")


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
    return offences_by_force(ui_data.atlas(data_dir).indicators)


@st.cache_data(show_spinner=False, max_entries=256)
def run(digest: str, existing: tuple[str, ...], _scenario: Scenario) -> ScenarioResult:
    """Cost a scenario, keyed on its hash (``scenario_hash``) and the forces that already have a unit."""
    return run_scenario(_scenario, forces_table(), offences(), existing_units=existing)


@st.cache_data(show_spinner=False, max_entries=128)
def tornado_frame(digest: str, _scenario: Scenario) -> pd.DataFrame:
    return tornado(_scenario, forces_table(), offences(), factors=TORNADO_FACTORS)


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


def show_problems(message: str, error: InputError, data: Mapping | None = None, *, file_name: str | None = None) -> None:
    st.error(message)
    st.dataframe(problem_rows(error, data, file_name=file_name), hide_index=True, width="stretch")


def show_chart(spec: dict, stem: str, description: str) -> None:
    """The chart (its takeaway is also its alt text) and PNG/SVG downloads made only when asked for."""
    st.vega_lite_chart(spec, width="content", alt=description[:1000])
    left, right = st.columns(2)
    left.download_button(
        "Chart as PNG", data=lambda: vlc.vegalite_to_png(json.dumps(spec), scale=2), file_name=f"{stem}.png", mime="image/png",
        key=f"{stem}_png", on_click="ignore",
    )
    right.download_button(
        "Chart as SVG", data=lambda: vlc.vegalite_to_svg(json.dumps(spec)), file_name=f"{stem}.svg", mime="image/svg+xml",
        key=f"{stem}_svg", on_click="ignore",
    )


def xlsx_bytes(result: ScenarioResult) -> bytes:
    buffer = io.BytesIO()
    to_xlsx(result, path_or_buffer=buffer)
    return buffer.getvalue()


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
EDITOR_KEYS = (PARAMS, ROLES, FIXED, UNIT)

DEFAULT_PRESET = "cheshire_hru_like"
HAS_PROBLEMS = "scn_has_problems"


def force_names() -> dict[str, str]:
    forces = forces_table()
    return dict(zip(forces["code"].astype(str), forces["name"].astype(str)))


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
                "(a few KB is usual)", where=name,
            )
        content = uploaded.getvalue()
        scenario = load_scenario_bytes(content, where=name)
        check_runs(scenario)
    except InputError as error:
        ss[UPLOAD_PROBLEM] = (name, error)
        return
    set_base(scenario_to_dict(scenario), f"uploaded file “{name}”")
    flash("success", f"Opened {escape_markdown(name)}: “{escape_markdown(scenario.name)}”, {len(scenario.deployments)} "
                      "unit(s). Edit it below, save it, or add it to the comparison.")


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
        flash("error", "Not saved: the tables have problems (listed at the top). Fix them first; the last valid "
                        "scenario is still on screen.")
        return
    good = dict(ss[LAST_GOOD])
    if name:
        good["name"] = name[:160]
    version = _write_to_store(lambda: store().save(name, scenario_from_dict(good)), refused="Not saved: ", failed="Not saved")
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
    if _write_to_store(lambda: store().duplicate(name, new), refused="Not duplicated: ", failed="Not duplicated") is _NOT_WRITTEN:
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
    new_version = _write_to_store(lambda: store().restore(name, int(version)), refused="Not restored: ", failed="Not restored")
    if new_version is _NOT_WRITTEN:
        return
    ss.pop(VERSION_PICK, None)
    if open_saved(name):
        flash("success", f"Version {version} of “{escape_markdown(name)}” is current again (saved as version "
                          f"{new_version}) and is open.")


def add_to_compare(label: str, scenario: dict) -> None:
    entries = ss.setdefault(COMPARE, [])
    digest = scenario_hash(scenario_from_dict(scenario))
    if any(e["hash"] == digest for e in entries):
        flash("info", f"“{escape_markdown(label)}” is already in the comparison.")
        return
    if len(entries) >= MAX_COMPARE:
        flash("warning", f"The comparison already holds {MAX_COMPARE} scenarios, the most this page shows side by "
                          "side. Remove one to add another.")
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
        set_placement(Placement(
            mode=mode, force=listed[0] if listed else ss.get(FORCE), forces=tuple(listed),
            wave2=tuple(c for c in qp.get_all("wave2") if c in names), wave2_year=max(2, min(year, 30)),
            file_deployments=tuple(ss.get(FILE_DEPS) or ()),
        ))
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
        mode=ss[WHERE], force=ss.get(FORCE), forces=tuple(ss.get(FORCES) or ()), wave2=tuple(ss.get(WAVE2) or ()),
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
        summary.append({"label": entry["label"], "present_value": tt["present_value"],
                        "total_cost_nominal": tt["total_cost_nominal"], "fte_total": tt["fte_total"],
                        "horizon_years": tt["horizon_years"], "price_base": r.price_base})
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
