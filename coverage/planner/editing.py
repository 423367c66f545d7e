"""The Scenario planner's editable tables, and the way back from them to a scenario.

Pure (no Streamlit): it turns a scenario into the tables a planner edits (scenario-level numbers,
staff roles, fixed costs), turns the edited tables back into a scenario with every problem named by
its field path, places units (one force, a list, every force without a unit, waves) and says where
on the page a problem is. ``ui/scenario_view.py`` holds the page's state, loaders and callbacks.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from coverage.errors import InputError, InputErrors
from coverage.planner.schema import (
    RAMP_MAX_YEARS,
    Scenario,
    fiscal_year_label,
    scenario_from_dict,
)

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
        "recruitment_training_cost_per_new_fte",
        "Recruitment and training",
        "£ per new FTE",
        "unit_models[{u}].recruitment_training_cost_per_new_fte",
    ),
    ParamSpec(
        "attrition_rate", "Staff turnover", "% of posts re-filled a year", "unit_models[{u}].attrition_rate", 100
    ),
)
SPEC_BY_KEY = {s.key: s for s in PARAM_SPECS}
PARAM_COLUMNS = ["Parameter", "Value", "Unit", "Source", "Note"]

ROLE_FIELDS = [
    "role",
    "agency",
    "grade",
    "salary",
    "oncost_rate",
    "overhead_rate",
    "fte_mode",
    "fte",
    "caseload_per_fte",
    "source",
    "assumption",
    "note",
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


def _param_of(data: Mapping[str, Any], spec: ParamSpec, u: int) -> dict[str, Any] | None:
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
        return {
            "value": value,
            "source": rr.get("source", ""),
            "assumption": rr.get("assumption", True),
            "note": rr.get("note", ""),
        }
    if spec.key == "fixed_referrals_per_year":
        demand = data.get("demand") or {}
        return demand.get("fixed_referrals_per_year") or None
    if spec.path.startswith("unit_models"):
        unit: Mapping[str, Any] = data["unit_models"][u]
        return unit.get(spec.key)
    return data.get(spec.key)


def params_table(data: Mapping[str, Any], unit_index: int = 0) -> pd.DataFrame:
    """One row per number (index = its key): label, value as shown, unit, source-or-assumption, note."""
    rows = []
    for spec in PARAM_SPECS:
        param = _param_of(data, spec, unit_index)
        if param is None:
            continue
        value = param["value"]
        note = param.get("note", "") or ""
        if isinstance(value, list):
            note = (
                f"Year by year in the file: {', '.join(f'{_shown(v, spec.scale):g}' for v in value)} (the last "
                f"repeats); the first is shown, and a new value here replaces the list. " + note
            )
            value = value[0]
        rows.append(
            {
                "key": spec.key,
                "Parameter": spec.label,
                "Value": _shown(value, spec.scale),
                "Unit": spec.unit,
                "Source": provenance(param.get("source"), param.get("assumption"))
                if spec.key not in ("horizon_years", "start_year")
                else "scenario setting",
                "Note": note,
            }
        )
    return pd.DataFrame(rows, columns=["key", *PARAM_COLUMNS]).set_index("key")


def roles_table(data: Mapping[str, Any], unit_index: int = 0) -> pd.DataFrame:
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


def fixed_table(data: Mapping[str, Any], unit_index: int = 0) -> pd.DataFrame:
    lines = data["unit_models"][unit_index].get("fixed_costs") or []
    frame = pd.DataFrame([{f: line.get(f) for f in FIXED_FIELDS} for line in lines], columns=FIXED_FIELDS)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").astype(float)
    frame["assumption"] = frame["assumption"].astype(bool)
    return frame


# --------------------------------------------------------------------------------------------
# Edited tables → scenario
# --------------------------------------------------------------------------------------------


def apply_params(data: dict[str, Any], table: pd.DataFrame, unit_index: int = 0) -> list[str]:
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
        before = float(cast(float, original.at[key, "Value"]))  # params_table's Value column holds floats
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
        note = (
            f"Set on the Scenario planner; the file had {_fmt_shown(before, spec.unit)} "
            f"({provenance(old.get('source'), old.get('assumption'))})."
        )
        new = {"value": stored, "source": "user input", "assumption": True, "note": note}
        if spec.key == "referral_rate":
            rr = data["demand"]["referral_rate"]
            data["demand"]["referral_rate"] = {
                "value": stored,
                "source": "user input",
                "assumption": True,
                "confidence": "low",
                "note": note,
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


# --------------------------------------------------------------------------------------------
# Ramp-up: the share of a unit's posts filled in its first years, typed as "50, 80"
# --------------------------------------------------------------------------------------------

_RAMP_SPLIT = re.compile(r"[,;\s]+")


def ramp_text(data: Mapping[str, Any], unit_index: int = 0) -> str:
    """The unit's ramp-up as the planner types it: percentages for years 1, 2, … ("" = fully staffed)."""
    ramp = (data["unit_models"][unit_index].get("ramp_up") or {}).get("value")
    values = ramp if isinstance(ramp, list) else ([] if ramp is None else [ramp])
    return ", ".join(f"{_shown(float(v), 100):g}" for v in values)


def apply_ramp(data: dict[str, Any], text: str | None, unit_index: int = 0) -> list[str]:
    """Write a typed ramp-up ("50, 80", "50% 80%" or blank) into ``data`` (in place); return problems.

    Unchanged text keeps the file's source; a change becomes user input and an assumption, with the
    file's values in its note. The schema then checks the bounds (0–100%, first year above 0)."""
    path = f"unit_models[{unit_index}].ramp_up"
    if text is None:
        return []
    before = ramp_text(data, unit_index)
    parts = [part.rstrip("%") for part in _RAMP_SPLIT.split(str(text).strip()) if part]
    shown: list[float] = []
    for part in parts:
        number = _number(part)
        if number is None:
            return [f"{path}: '{part[:20]}' is not a percentage; type one per year, e.g. 50, 80"]
        shown.append(number)
    if len(shown) > RAMP_MAX_YEARS:
        return [f"{path}: {len(shown)} years given; at most {RAMP_MAX_YEARS} (the years after are fully staffed)"]
    if ", ".join(f"{v:g}" for v in shown) == before:
        return []
    old = data["unit_models"][unit_index].get("ramp_up") or {}
    was = ", ".join(f"{v}%" for v in before.split(", ")) if before else "none"
    data["unit_models"][unit_index]["ramp_up"] = {
        "value": [v / 100 for v in shown],
        "source": "user input",
        "assumption": True,
        "note": (
            f"Set on the Scenario planner; the file had {was} ({provenance(old.get('source'), old.get('assumption'))})."
        ),
    }
    return []


def _text_cell(row: Mapping[str, Any] | pd.Series, name: str) -> str:
    value = row.get(name)
    return "" if _blank(value) else str(value).strip()


def _rows_back(
    table: pd.DataFrame,
    original: pd.DataFrame,
    stored: Sequence[Mapping[str, Any]],
    *,
    path: str,
    fields: list[str],
    required_text: Iterable[str],
    required_numbers: Iterable[str],
    optional_numbers: Iterable[str],
    labels: Mapping[str, str],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of an edited table as schema dicts; blank required cells reported by field path."""
    out: list[dict[str, Any]] = []
    problems: list[str] = []
    # the tables have a RangeIndex: a row label found in ``original`` is that row's position in ``stored``
    for i, (index, row) in enumerate(table.iterrows()):
        where = f"{path}[{i}]"
        record: dict[str, Any] = {}
        changes: list[str] = []
        before = original.loc[cast(int, index)] if index in original.index else None
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
                    record[name] = stored[cast(int, index)][name]
                    continue
                unit = "%" if name in PERCENT_FIELDS else ""
                old_text = "blank" if old is None else f"{old:,.10g}{unit}"
                changes.append(f"{labels[name].split(' (')[0].lower()} {old_text} → {number:,.10g}{unit}")
            record[name] = number / 100 if name in PERCENT_FIELDS else number
        assumption = row.get("assumption")
        record["assumption"] = True if _blank(assumption) else bool(assumption)
        if changes:
            record["assumption"] = True
            record["note"] = (
                record.get("note", "") + " Changed on the Scenario planner: " + "; ".join(changes) + "."
            ).strip()
        out.append(record)
    return out, problems


def apply_roles(data: dict[str, Any], table: pd.DataFrame, unit_index: int = 0) -> list[str]:
    original = roles_table(data, unit_index)
    roles, problems = _rows_back(
        table,
        original,
        data["unit_models"][unit_index].get("roles") or [],
        path=f"unit_models[{unit_index}].roles",
        fields=ROLE_FIELDS,
        required_text=("role", "agency", "fte_mode"),
        required_numbers=("salary", "oncost_rate", "overhead_rate"),
        optional_numbers=("fte", "caseload_per_fte"),
        labels=ROLE_LABELS,
    )
    data["unit_models"][unit_index]["roles"] = roles
    return problems


def apply_fixed(data: dict[str, Any], table: pd.DataFrame, unit_index: int = 0) -> list[str]:
    original = fixed_table(data, unit_index)
    lines, problems = _rows_back(
        table,
        original,
        data["unit_models"][unit_index].get("fixed_costs") or [],
        path=f"unit_models[{unit_index}].fixed_costs",
        fields=FIXED_FIELDS,
        required_text=("item", "agency", "index"),
        required_numbers=("amount",),
        optional_numbers=(),
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


def placement_from_deployments(deployments: Sequence[Mapping[str, Any]]) -> Placement:
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


def deployments_for(
    placement: Placement, unit_id: str, no_unit_codes: Iterable[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Deployments for a placement, and problems (e.g. a force in both waves) by field path."""
    p = placement
    problems: list[str] = []

    def dep(code: str, offset: int = 0) -> dict[str, Any]:
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


def placement_summary(deployments: Sequence[Mapping[str, Any]], names: Mapping[str, str], start_year: int) -> str:
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
        parts.append(
            f"{count} unit{'s' if count != 1 else ''} in {where} from {fiscal_year_label(start_year + offset)}"
        )
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# The whole edit
# --------------------------------------------------------------------------------------------


def edited_scenario(
    base: Mapping[str, Any],
    *,
    unit_index: int,
    params: pd.DataFrame | None,
    roles: pd.DataFrame | None,
    fixed: pd.DataFrame | None,
    deployments: list[dict[str, Any]],
    ramp: str | None = None,
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
    problems += apply_ramp(data, ramp, unit_index)
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


def where_on_page(path: str, data: Mapping[str, Any] | None = None) -> str:
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
        if name == "ramp_up":
            return "Assumptions tab, “Ramp-up” box"
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


def problem_rows(
    error: InputError, data: Mapping[str, Any] | None = None, *, file_name: str | None = None
) -> pd.DataFrame:
    """One problem per row: the field path, where it is (page table or file) and what is wrong."""
    problems = error.problems if isinstance(error, InputErrors) else [error.reason]
    rows = []
    for problem in problems:
        for line in str(problem).split("\n"):
            if not line.strip():
                continue
            path, message = split_problem(line)
            where = f"File {file_name}" if file_name else where_on_page(path, data)
            rows.append(
                {
                    "Field": path or "(whole file)" if file_name else path or "(scenario)",
                    "Where": where,
                    "Problem": message,
                }
            )
    return pd.DataFrame(rows, columns=["Field", "Where", "Problem"])


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------


def file_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
    return stem[:60] or "scenario"
