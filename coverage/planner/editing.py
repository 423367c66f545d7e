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

from coverage.errors import InputError, InputErrors, PathPart, Problem, path_text, problems_of
from coverage.planner.rules import RuleBook, load_rulebook, oncost, rule_date
from coverage.planner.schema import (
    RAMP_MAX_YEARS,
    SOURCE_ID_FORM,
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
    ParamSpec("referral_rate", "Referral rate", "referrals a year per recorded offence", "demand.referral_rate"),
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

# One name for each setting, used by the tables, the problems, the tornado chart and the downloads.
SETTING_NAMES = {
    "salary": "Salary (£ a year)",
    "oncost_rate": "On-costs (% of salary)",
    "caseload_per_fte": "Referrals a year per FTE",
    "referral_rate": "Referral rate",
    "optimism_bias": "Optimism bias",
    "discount_rate": "Discount rate",
}

ROLE_FIELDS = [
    "role",
    "agency",
    "pension_scheme",
    "grade",
    "salary",
    "oncost_rate",
    "oncost_basis",
    "overhead_rate",
    "fte_mode",
    "fte",
    "caseload_per_fte",
    "sources",
    "assumption",
    "note",
]
ROLE_LABELS = {
    "role": "Role",
    "agency": "Agency",
    "pension_scheme": "Pension scheme",
    "grade": "Grade",
    "salary": SETTING_NAMES["salary"],
    "oncost_rate": SETTING_NAMES["oncost_rate"],
    "oncost_basis": "How the on-costs are set",
    "overhead_rate": "Overheads (%)",
    "fte_mode": "FTE set by",
    "fte": "FTE (fixed posts)",
    "caseload_per_fte": SETTING_NAMES["caseload_per_fte"],
    "sources": "Sources",
    "assumption": "Assumption",
    "note": "Note",
}
FIXED_FIELDS = ["item", "agency", "amount", "index", "sources", "assumption", "note"]
FIXED_LABELS = {
    "item": "Item",
    "agency": "Agency",
    "amount": "Amount (£ a year)",
    "index": "Grows with",
    "sources": "Sources",
    "assumption": "Assumption",
    "note": "Note",
}
PERCENT_FIELDS = {"oncost_rate", "overhead_rate"}
ROLE_NUMBERS = ("salary", "oncost_rate", "overhead_rate", "fte", "caseload_per_fte")
PENSION_LABELS = {
    "police": "Police pension",
    "nhs": "NHS pension",
    "local_government": "Local government (LGPS)",
    "civil_service": "Civil service",
    "auto_enrolment": "Auto-enrolment minimum",
    "none": "None in the model",
}

MODES = {
    "one": "One force",
    "list": "A list of forces",
    "no_unit": "Every force with no multi-agency unit",
    "waves": "In two waves",
    "shared": "One unit for several forces",
    "file": "As in the opened scenario",
}


def sources_text(sources: Any) -> str:
    """['P015', 'P016'] → 'P015; P016' (as a table cell shows them)."""
    if isinstance(sources, (list, tuple)):
        return "; ".join(str(s) for s in sources)
    return "" if _blank(sources) else str(sources)


def provenance(sources: Any, assumption: Any, user_input: Any = False) -> str:
    """'P014', 'P015; P016 (assumption)', 'user input (assumption)', 'assumption' or 'not stated'."""
    text = sources_text(sources).strip()
    flag = True if _blank(assumption) else bool(assumption)
    if not _blank(user_input) and bool(user_input):
        text = "; ".join(t for t in ("user input", text) if t)
    if text and flag:
        return f"{text} (assumption)"
    if text:
        return text
    return "assumption" if flag else "not stated"


def parse_sources(text: Any, path: tuple[PathPart, ...]) -> tuple[list[str], list[Problem]]:
    """'S054; S154' (commas, semicolons or spaces) → ['S054', 'S154'], or a problem naming the cell."""
    if _blank(text):
        return [], []
    parts = [p for p in re.split(r"[;,\s]+", str(text).strip()) if p]
    bad = [p for p in parts if not SOURCE_ID_FORM.match(p)]
    if bad:
        return [], [
            Problem(
                path,
                f"'{bad[0][:30]}' is not a source id: list ids such as S054; S154 (put any other words in the note)",
            )
        ]
    return list(dict.fromkeys(parts)), []


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
        return {"value": data[spec.key], "sources": [], "assumption": False, "note": ""}
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
            "sources": rr.get("sources", []),
            "assumption": rr.get("assumption", True),
            "user_input": rr.get("user_input", False),
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
                "Source": provenance(param.get("sources"), param.get("assumption"), param.get("user_input"))
                if spec.key not in ("horizon_years", "start_year")
                else "scenario setting",
                "Note": note,
            }
        )
    return pd.DataFrame(rows, columns=["key", *PARAM_COLUMNS]).set_index("key")


def _scenario_rules(data: Mapping[str, Any], rules: RuleBook | None) -> RuleBook:
    book = rules if rules is not None else load_rulebook()
    overrides = data.get("parameter_overrides") or {}
    if not overrides:
        return book
    try:
        return book.with_overrides(
            {
                name: [(_as_date(o.get("from")), float(o["value"]), str(o.get("note", ""))) for o in values]
                for name, values in overrides.items()
            }
        )
    except (InputError, KeyError, TypeError, ValueError):
        return book  # the scenario's own check reports a bad override with its field path


def _as_date(value: Any) -> Any:
    import datetime as _dt

    return value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value))


def role_oncost(role: Mapping[str, Any], first_year: int, book: RuleBook) -> tuple[float | None, str]:
    """A role's on-cost rate in the scenario's first year and how it is set, for the roles table."""
    override = role.get("oncost_override")
    if override:
        return float(override["value"]), "set by hand: " + provenance(
            override.get("sources"), override.get("assumption", True), override.get("user_input")
        )
    try:
        worked = oncost(book, str(role.get("pension_scheme")), float(role["salary"]), first_year)
    except (InputError, KeyError, TypeError, ValueError) as error:
        return None, f"cannot be worked out: {getattr(error, 'reason', error)}"
    return worked.rate, "from the rules: " + worked.explanation


def oncosts_shown_differ(shown: pd.DataFrame | None, data: Mapping[str, Any], unit_index: int) -> bool:
    """Whether the roles table as the planner sees it shows different on-costs from those ``data`` works
    out (a salary, scheme or rule changed): then the table must be drawn again, or it would show stale rates."""
    if shown is None:
        return False
    now = roles_table(data, unit_index)
    if len(now) != len(shown):
        return True
    for before, after, basis_before, basis_after in zip(
        shown["oncost_rate"], now["oncost_rate"], shown["oncost_basis"], now["oncost_basis"]
    ):
        a, b = _number(before), _number(after)
        if (a is None) != (b is None) or (a is not None and b is not None and not _same(a, b)):
            return True
        if str(basis_before) != str(basis_after):
            return True
    return False


def roles_table(data: Mapping[str, Any], unit_index: int = 0, rules: RuleBook | None = None) -> pd.DataFrame:
    """The roles of one unit model as the planner edits them; on-costs as worked out for the first year."""
    roles = data["unit_models"][unit_index].get("roles") or []
    book = _scenario_rules(data, rules)
    rows = []
    for r in roles:
        row = {f: r.get(f) for f in ROLE_FIELDS}
        row["sources"] = sources_text(r.get("sources"))
        rate, basis = role_oncost(r, int(data["start_year"]), book)
        row["oncost_rate"], row["oncost_basis"] = rate, basis
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
    frame = pd.DataFrame(
        [{**{f: line.get(f) for f in FIXED_FIELDS}, "sources": sources_text(line.get("sources"))} for line in lines],
        columns=FIXED_FIELDS,
    )
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").astype(float)
    frame["assumption"] = frame["assumption"].astype(bool)
    return frame


# --------------------------------------------------------------------------------------------
# Edited tables → scenario
# --------------------------------------------------------------------------------------------


def _path(text: str) -> tuple[PathPart, ...]:
    """'unit_models[0].non_pay' → ('unit_models', 0, 'non_pay')."""
    out: list[PathPart] = []
    for name, index in re.findall(r"([A-Za-z_]\w*)|\[(\d+)\]", text):
        out.append(int(index) if index else name)
    return tuple(out)


def _was(before_text: str, old: Mapping[str, Any]) -> str:
    return (
        f"Set on the Scenario planner; it was {before_text} "
        f"({provenance(old.get('sources'), old.get('assumption'), old.get('user_input'))})."
    )


def apply_params(data: dict[str, Any], table: pd.DataFrame, unit_index: int = 0) -> list[Problem]:
    """Write the assumptions table's values into ``data`` (in place); return problems by field path.

    An unchanged value keeps its sources. A changed one becomes user input and an assumption, with a note
    saying what it replaced and where that came from.
    """
    problems: list[Problem] = []
    original = params_table(data, unit_index)
    for key, row in table.iterrows():
        spec = SPEC_BY_KEY.get(str(key))
        if spec is None or key not in original.index:
            continue
        path = _path(spec.path.format(u=unit_index))
        raw = row.get("Value")
        if _blank(raw):
            problems.append(Problem(path, f"is blank; enter a number ({spec.unit})"))
            continue
        shown = _number(raw)
        if shown is None:
            problems.append(Problem(path, f"'{raw}' is not a number"))
            continue
        before = float(cast(float, original.at[key, "Value"]))  # params_table's Value column holds floats
        if _same(shown, before):
            continue
        if spec.whole:
            if shown != int(shown):
                problems.append(Problem(path, "must be a whole number"))
                continue
            data[spec.key] = int(shown)
            continue
        stored = shown / spec.scale
        old = _param_of(data, spec, unit_index) or {}
        note = _was(_fmt_shown(before, spec.unit), old)
        new = {"value": stored, "sources": [], "assumption": True, "user_input": True, "note": note}
        if spec.key == "referral_rate":
            rr = data["demand"]["referral_rate"]
            kept = {k: rr[k] for k in ("offence_code", "offences_period", "reference_area") if k in rr}
            data["demand"]["referral_rate"] = {**new, "confidence": "low", **kept}
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


def apply_ramp(data: dict[str, Any], text: str | None, unit_index: int = 0) -> list[Problem]:
    """Write a typed ramp-up ("50, 80", "50% 80%" or blank) into ``data`` (in place); return problems.

    Unchanged text keeps the file's source; a change becomes user input and an assumption, with the
    file's values in its note. The schema then checks the bounds (0–100%, first year above 0)."""
    path: tuple[PathPart, ...] = ("unit_models", unit_index, "ramp_up")
    if text is None:
        return []
    before = ramp_text(data, unit_index)
    parts = [part.rstrip("%") for part in _RAMP_SPLIT.split(str(text).strip()) if part]
    shown: list[float] = []
    for part in parts:
        number = _number(part)
        if number is None:
            return [Problem(path, f"'{part[:20]}' is not a percentage; type one per year, e.g. 50, 80")]
        shown.append(number)
    if len(shown) > RAMP_MAX_YEARS:
        return [
            Problem(path, f"{len(shown)} years given; at most {RAMP_MAX_YEARS} (the years after are fully staffed)")
        ]
    if ", ".join(f"{v:g}" for v in shown) == before:
        return []
    old = data["unit_models"][unit_index].get("ramp_up") or {}
    was = ", ".join(f"{v}%" for v in before.split(", ")) if before else "none"
    data["unit_models"][unit_index]["ramp_up"] = {
        "value": [v / 100 for v in shown],
        "sources": [],
        "assumption": True,
        "user_input": True,
        "note": _was(was, old),
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
    path: tuple[PathPart, ...],
    fields: list[str],
    required_text: Iterable[str],
    required_numbers: Iterable[str],
    optional_numbers: Iterable[str],
    labels: Mapping[str, str],
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Rows of an edited table as schema dicts; blank required cells reported by field path.

    A changed number is recorded in the row's note (old → new), and the row becomes user input and an
    assumption. An on-cost typed by the planner becomes the role's override; a blank on-cost cell means
    "work it out from the rules"."""
    out: list[dict[str, Any]] = []
    problems: list[Problem] = []
    # the tables have a RangeIndex: a row label found in ``original`` is that row's position in ``stored``
    for i, (index, row) in enumerate(table.iterrows()):
        where = (*path, i)
        record: dict[str, Any] = {}
        changes: list[str] = []
        position = cast(int, index) if index in original.index else None
        before = original.loc[position] if position is not None else None
        kept = stored[position] if position is not None and position < len(stored) else {}
        for name in required_text:
            text = _text_cell(row, name)
            if not text:
                problems.append(Problem((*where, name), "is blank"))
            record[name] = text
        for name in ("grade", "note"):
            if name in fields:
                record[name] = _text_cell(row, name)
        record["sources"], found = parse_sources(row.get("sources"), (*where, "sources"))
        problems += found
        for name in (*required_numbers, *optional_numbers):
            raw = row.get(name)
            old = _number(before.get(name)) if before is not None else None
            if _blank(raw):
                if name in required_numbers:
                    problems.append(Problem((*where, name), "is blank; enter a number"))
                elif name == "oncost_rate" and old is not None and kept.get("oncost_override"):
                    changes.append("on-costs set by hand removed: worked out from the rules")
                continue
            number = _number(raw)
            if number is None:
                problems.append(Problem((*where, name), f"'{raw}' is not a number"))
                continue
            unit = "%" if name in PERCENT_FIELDS else ""
            if before is not None and old is not None and _same(old, number):
                if name == "oncost_rate":
                    if kept.get("oncost_override"):
                        record["oncost_override"] = kept["oncost_override"]
                    continue
                # unchanged: keep the stored number exactly (44.54 / 100 is not always 0.4454)
                record[name] = kept.get(name, number / 100 if name in PERCENT_FIELDS else number)
                continue
            if before is not None:
                old_text = "blank" if old is None else f"{old:,.10g}{unit}"
                changes.append(f"{labels[name].split(' (')[0].lower()} {old_text} → {number:,.10g}{unit}")
            value = number / 100 if name in PERCENT_FIELDS else number
            if name == "oncost_rate":
                basis = _text_cell(cast(pd.Series, before), "oncost_basis") if before is not None else ""
                record["oncost_override"] = {
                    "value": value,
                    "sources": [],
                    "assumption": True,
                    "user_input": True,
                    "note": f"Set on the Scenario planner; it was {old_text if before is not None else 'not set'} "
                    f"({basis or 'new row'}).",
                }
                continue
            record[name] = value
        assumption = row.get("assumption")
        record["assumption"] = True if _blank(assumption) else bool(assumption)
        record["user_input"] = bool(kept.get("user_input", position is None))
        if changes:
            record["assumption"] = True
            record["user_input"] = True
            record["note"] = (
                record.get("note", "") + " Changed on the Scenario planner: " + "; ".join(changes) + "."
            ).strip()
        out.append(record)
    return out, problems


def apply_roles(
    data: dict[str, Any], table: pd.DataFrame, unit_index: int = 0, rules: RuleBook | None = None
) -> list[Problem]:
    original = roles_table(data, unit_index, rules)
    roles, problems = _rows_back(
        table,
        original,
        data["unit_models"][unit_index].get("roles") or [],
        path=("unit_models", unit_index, "roles"),
        fields=ROLE_FIELDS,
        required_text=("role", "agency", "pension_scheme", "fte_mode"),
        required_numbers=("salary", "overhead_rate"),
        optional_numbers=("oncost_rate", "fte", "caseload_per_fte"),
        labels=ROLE_LABELS,
    )
    data["unit_models"][unit_index]["roles"] = roles
    return problems


def apply_fixed(data: dict[str, Any], table: pd.DataFrame, unit_index: int = 0) -> list[Problem]:
    original = fixed_table(data, unit_index)
    lines, problems = _rows_back(
        table,
        original,
        data["unit_models"][unit_index].get("fixed_costs") or [],
        path=("unit_models", unit_index, "fixed_costs"),
        fields=FIXED_FIELDS,
        required_text=("item", "agency", "index"),
        required_numbers=("amount",),
        optional_numbers=(),
        labels=FIXED_LABELS,
    )
    data["unit_models"][unit_index]["fixed_costs"] = lines
    return problems


# --------------------------------------------------------------------------------------------
# The dated rules behind the on-costs, and the planner's own values for them
# --------------------------------------------------------------------------------------------

ONCOST_RULES = (
    "employer_ni.rate",
    "employer_ni.secondary_threshold",
    "employer_pension.police",
    "employer_pension.nhs",
    "employer_pension.civil_service",
    "employer_pension.local_government",
)
RULE_COLUMNS = ["Rule", "In the first year", "In force from", "Source", "Your value"]


def _rule_shown(unit: str, value: float) -> float:
    return _shown(value, 100) if unit == "fraction" else float(value)


def _rule_unit(unit: str) -> str:
    return "%" if unit == "fraction" else "£ a year"


def rules_table(data: Mapping[str, Any], rules: RuleBook | None = None) -> pd.DataFrame:
    """The on-cost rules in force in the scenario's first year (index = rule name), and the planner's value
    for each from that year, if any. Blank 'Your value' = the shipped rule."""
    book = rules if rules is not None else load_rulebook()
    first = rule_date(int(data["start_year"]))
    overrides = data.get("parameter_overrides") or {}
    rows = []
    for name in ONCOST_RULES:
        parameter = book.parameter(name)
        try:
            value = parameter.at(first)
            shown: float | None = _rule_shown(parameter.unit, value.value)
            since = value.start.isoformat()
            source = "; ".join(f"{r.id} {r.title}" for r in value.references) or "not stated"
        except InputError:
            shown, since, source = None, "", parameter.no_default or "no value in the shipped rules"
        mine = [o for o in overrides.get(name, []) if _as_date(o.get("from")) <= first]
        own = _rule_shown(parameter.unit, float(mine[-1]["value"])) if mine else None
        rows.append(
            {
                "key": name,
                "Rule": f"{parameter.label} ({_rule_unit(parameter.unit)})",
                "In the first year": shown,
                "In force from": since,
                "Source": source,
                "Your value": own,
            }
        )
    return pd.DataFrame(rows, columns=["key", *RULE_COLUMNS]).set_index("key")


def apply_rules(data: dict[str, Any], table: pd.DataFrame, rules: RuleBook | None = None) -> list[Problem]:
    """The planner's values typed into the rules table become overrides from the first year (user input);
    a cleared value removes that override. Dated overrides from a file for later years are kept."""
    book = rules if rules is not None else load_rulebook()
    first = rule_date(int(data["start_year"]))
    before = rules_table(data, book)
    overrides: dict[str, list[dict[str, Any]]] = copy.deepcopy(dict(data.get("parameter_overrides") or {}))
    problems: list[Problem] = []
    for name, row in table.iterrows():
        key = str(name)
        if key not in before.index:
            continue
        raw, old = row.get("Your value"), before.at[key, "Your value"]
        if _blank(raw) and _blank(old):
            continue
        number = None if _blank(raw) else _number(raw)
        if not _blank(raw) and number is None:
            problems.append(Problem(("parameter_overrides", key), f"'{raw}' is not a number"))
            continue
        if number is not None and not _blank(old) and _same(number, float(cast(float, old))):
            continue
        later = [o for o in overrides.get(key, []) if _as_date(o.get("from")) > first]
        if number is None:
            kept = later
        else:
            unit = book.parameter(key).unit
            value = number / 100 if unit == "fraction" else number
            was = before.at[key, "In the first year"]
            kept = [
                {
                    "from": first.isoformat(),
                    "value": value,
                    "note": f"Set on the Scenario planner; the rules had {float(cast(float, was)):g} from "
                    f"{before.at[key, 'In force from']!s}."
                    if not _blank(was)
                    else "Set on the Scenario planner; the shipped rules have no value.",
                },
                *later,
            ]
        if kept:
            overrides[key] = kept
        else:
            overrides.pop(key, None)
    data["parameter_overrides"] = overrides
    return problems


def apply_offences_period(data: dict[str, Any], period: str | None) -> None:
    """The year of offences the referral rate is applied to (``None``: the latest the atlas holds)."""
    rate = (data.get("demand") or {}).get("referral_rate")
    if rate is not None and rate.get("offences_period") != period:
        rate["offences_period"] = period


# --------------------------------------------------------------------------------------------
# Where the units go
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where the units go, as the planner chose it on the page."""

    mode: str = "one"
    force: str | None = None
    forces: tuple[str, ...] = ()
    wave2: tuple[str, ...] = ()
    wave2_year: int = 3  # the second wave starts in this year of the scenario (1 = its first year)
    shared_name: str = ""  # the name of a unit serving several forces (mode "shared")
    file_deployments: tuple[tuple[tuple[str, ...], int, str, str], ...] = field(
        default=()
    )  # forces, offset, unit, name


def placement_from_scenario(data: Mapping[str, Any]) -> Placement:
    """The simplest placement that reproduces a scenario's units (its rule, one force, a list, two waves,
    one shared unit), else 'as in the file'."""
    rule = data.get("placement")
    if rule:
        return Placement(mode="no_unit")
    deployments: Sequence[Mapping[str, Any]] = data.get("deployments") or []
    deps = tuple(
        (
            tuple(str(c) for c in d["forces"]),
            int(d.get("start_year_offset", 0)),
            str(d["unit_model"]),
            str(d.get("name", "")),
        )
        for d in deployments
    )
    if not deps:
        return Placement(mode="list", forces=(), file_deployments=deps)
    units = {d[2] for d in deps}
    offsets = sorted({d[1] for d in deps})
    if len(deps) == 1 and len(deps[0][0]) > 1 and offsets == [0]:
        return Placement(mode="shared", forces=deps[0][0], shared_name=deps[0][3], file_deployments=deps)
    singles = all(len(d[0]) == 1 and not d[3] for d in deps)
    codes = [d[0][0] for d in deps] if singles else []
    simple = singles and len(units) <= 1 and len(set(codes)) == len(codes)
    if simple and offsets == [0]:
        if len(codes) == 1:
            return Placement(mode="one", force=codes[0], file_deployments=deps)
        return Placement(mode="list", forces=tuple(codes), file_deployments=deps)
    if simple and len(offsets) == 2 and offsets[0] == 0:
        first = tuple(d[0][0] for d in deps if d[1] == 0)
        second = tuple(d[0][0] for d in deps if d[1] == offsets[1])
        return Placement(mode="waves", forces=first, wave2=second, wave2_year=offsets[1] + 1, file_deployments=deps)
    return Placement(mode="file", file_deployments=deps)


def deployments_for(
    placement: Placement, unit_id: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, list[Problem]]:
    """The deployments and placement rule a placement stands for, and problems (e.g. a force in both waves)."""
    p = placement
    problems: list[Problem] = []

    def dep(code: str, offset: int = 0) -> dict[str, Any]:
        return {"forces": [code], "start_year_offset": offset, "unit_model": unit_id}

    if p.mode == "one":
        return ([dep(p.force)] if p.force else []), None, problems
    if p.mode == "list":
        return [dep(c) for c in dict.fromkeys(p.forces)], None, problems
    if p.mode == "no_unit":
        return [], {"rule": "every_force_without_unit", "unit_model": unit_id, "start_year_offset": 0}, problems
    if p.mode == "shared":
        forces = list(dict.fromkeys(p.forces))
        if not forces:
            return [], None, problems
        unit: dict[str, Any] = {"forces": forces, "start_year_offset": 0, "unit_model": unit_id}
        if p.shared_name.strip():
            unit["name"] = " ".join(p.shared_name.split())[:200]
        return [unit], None, problems
    if p.mode == "waves":
        both = sorted(set(p.forces) & set(p.wave2))
        if both:
            problems.append(Problem(("deployments",), f"{', '.join(both)} in both waves; put each force in one wave"))
        year = int(p.wave2_year)
        if year < 2:
            problems.append(Problem(("deployments",), "the second wave must start in year 2 or later"))
        offset = max(year - 1, 0)
        return (
            [dep(c) for c in dict.fromkeys(p.forces)] + [dep(c, offset) for c in dict.fromkeys(p.wave2)],
            None,
            problems,
        )
    if p.mode == "file":
        return (
            [
                {"forces": list(f), "start_year_offset": o, "unit_model": u, **({"name": n} if n else {})}
                for f, o, u, n in p.file_deployments
            ],
            None,
            problems,
        )
    problems.append(Problem(("deployments",), f"unknown placement '{p.mode}'"))
    return [], None, problems


def placement_summary(deployments: Sequence[Mapping[str, Any]], names: Mapping[str, str], start_year: int) -> str:
    """'12 units in 12 force areas from 2026/27', 'Wave 1: … ; wave 2: …' or '1 unit serving 4 force areas'."""
    if not deployments:
        return "No units placed yet"
    by_offset: dict[int, list[Mapping[str, Any]]] = {}
    for d in deployments:
        by_offset.setdefault(int(d["start_year_offset"]), []).append(d)
    parts = []
    for offset in sorted(by_offset):
        deps = by_offset[offset]
        codes = list(dict.fromkeys(str(c) for d in deps for c in d["forces"]))
        count = len(deps)
        if count == 1 and len(codes) == 1:
            where = names.get(codes[0], codes[0])
            parts.append(f"1 unit in {where} from {fiscal_year_label(start_year + offset)}")
        elif count == 1:
            label = str(deps[0].get("name") or "")
            parts.append(
                f"1 unit{f' ({label})' if label else ''} serving {len(codes)} force areas from "
                f"{fiscal_year_label(start_year + offset)}"
            )
        else:
            parts.append(f"{count} units in {len(codes)} force areas from {fiscal_year_label(start_year + offset)}")
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
    placement_rule: Mapping[str, Any] | None = None,
    ramp: str | None = None,
    placement_problems: Iterable[Problem] = (),
    rules: pd.DataFrame | None = None,
    offences_period: str | bool | None = False,
) -> Scenario:
    """The scenario the tables describe; ``InputError(s)`` naming every field that is wrong.

    ``offences_period`` False leaves the scenario's own period; None means the latest year."""
    data = copy.deepcopy(dict(base))
    problems = list(placement_problems)
    if offences_period is not False:
        apply_offences_period(data, cast(str | None, offences_period))
    if params is not None:
        problems += apply_params(data, params, unit_index)
    # The roles table showed on-costs worked out under the rules as they were: read it back against
    # those rules, and only then lay the planner's new rule values over them.
    if roles is not None:
        problems += apply_roles(data, roles, unit_index)
    if fixed is not None:
        problems += apply_fixed(data, fixed, unit_index)
    problems += apply_ramp(data, ramp, unit_index)
    if rules is not None:
        problems += apply_rules(data, rules)
    data["deployments"] = deployments
    data["placement"] = dict(placement_rule) if placement_rule else None
    if problems:
        if len(problems) == 1:
            raise InputError(problems[0], where="scenario")
        raise InputErrors(problems, where="scenario")
    return scenario_from_dict(data, where="scenario")


# --------------------------------------------------------------------------------------------
# Where a problem is on the page: read from its field path
# --------------------------------------------------------------------------------------------


def where_on_page(path: Sequence[PathPart], data: Mapping[str, Any] | None = None) -> str:
    """'Roles table, row 3 (Probation officer), column “Salary (£ a year)”' for a field path."""
    if not path:
        return "Scenario"
    head = path[0]
    if head == "unit_models" and len(path) >= 4 and path[2] in ("roles", "fixed_costs") and isinstance(path[3], int):
        u, kind, r = path[1], str(path[2]), int(path[3])
        name = str(path[4]) if len(path) > 4 else ""
        if name == "oncost_override":
            name = "oncost_rate"
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
    if head == "unit_models" and len(path) >= 3:
        name = str(path[2])
        if name in SPEC_BY_KEY:
            return f"Assumptions table, “{SPEC_BY_KEY[name].label}”"
        if name == "ramp_up":
            return "Assumptions tab, “Ramp-up” box"
        if name in ("roles", "fixed_costs"):
            return "Roles table" if name == "roles" else "Fixed-cost table"
        return "Unit model"
    if head == "demand":
        key = "fixed_referrals_per_year" if "fixed_referrals_per_year" in path else "referral_rate"
        return f"Assumptions table, “{SPEC_BY_KEY[key].label}”"
    if head in ("deployments", "placement"):
        return "Where the units go"
    if head == "parameter_overrides":
        return "Assumptions tab, “Rules” table"
    if head in SPEC_BY_KEY:
        return f"Assumptions table, “{SPEC_BY_KEY[str(head)].label}”"
    return "Scenario"


def problem_rows(
    error: InputError, data: Mapping[str, Any] | None = None, *, file_name: str | None = None
) -> pd.DataFrame:
    """One problem per row: the field path, where it is (page table or file) and what is wrong."""
    rows = []
    for problem in problems_of(error):
        field_text = path_text(problem.path)
        where = f"File {file_name}" if file_name else where_on_page(problem.path, data)
        rows.append(
            {
                "Field": field_text or ("(whole file)" if file_name else "(scenario)"),
                "Where": where,
                "Problem": problem.message,
            }
        )
    return pd.DataFrame(rows, columns=["Field", "Where", "Problem"])


# --------------------------------------------------------------------------------------------
# What changed against the starting point (the preset, file or saved version)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    setting: str
    was: str
    now: str
    change: str


def _value_of(param: Any) -> Any:
    if isinstance(param, Mapping):
        value = param.get("value")
        return value[0] if isinstance(value, list) and value else value
    return param


def _money_or_number(value: float, unit: str) -> str:
    if unit == "£":
        return f"£{value:,.0f}"
    if unit == "%":
        return f"{value * 100:,.4g}%"
    return f"{value:,.4g}"


def _delta(was: float, now: float, unit: str) -> str:
    d = now - was
    sign = "+" if d > 0 else "−"
    if unit == "£":
        text = f"{sign}£{abs(d):,.0f}"
    elif unit == "%":
        text = f"{sign}{abs(d) * 100:,.4g} points"
    else:
        text = f"{sign}{abs(d):,.4g}"
    return text + (f" ({d / was:+.0%})" if was and unit != "%" else "")


def changes_against(reference: Mapping[str, Any], scenario: Mapping[str, Any]) -> list[Change]:
    """Every figure of ``scenario`` that differs from ``reference``, named as on the page, with the change."""
    out: list[Change] = []

    def compare(setting: str, was: Any, now: Any, unit: str) -> None:
        a, b = _number(_value_of(was)), _number(_value_of(now))
        if a is None and b is None:
            return
        if a is None or b is None:
            out.append(
                Change(
                    setting,
                    "not set" if a is None else _money_or_number(a, unit),
                    "not set" if b is None else _money_or_number(b, unit),
                    "",
                )
            )
        elif not _same(a, b):
            out.append(Change(setting, _money_or_number(a, unit), _money_or_number(b, unit), _delta(a, b, unit)))

    for spec in PARAM_SPECS:
        if spec.path.startswith("unit_models") or spec.key in ("referral_rate", "fixed_referrals_per_year"):
            continue
        unit = "%" if spec.scale == 100 else ""
        compare(spec.label, reference.get(spec.key), scenario.get(spec.key), unit)
    rr_was = ((reference.get("demand") or {}).get("referral_rate")) or {}
    rr_now = ((scenario.get("demand") or {}).get("referral_rate")) or {}
    if rr_was or rr_now:
        rate_was = _param_of(reference, SPEC_BY_KEY["referral_rate"], 0) if rr_was else None
        rate_now = _param_of(scenario, SPEC_BY_KEY["referral_rate"], 0) if rr_now else None
        compare(SETTING_NAMES["referral_rate"], rate_was, rate_now, "")
        if rr_was.get("offences_period") != rr_now.get("offences_period"):
            out.append(
                Change(
                    "Offences the referral rate is applied to",
                    str(rr_was.get("offences_period") or "latest year"),
                    str(rr_now.get("offences_period") or "latest year"),
                    "",
                )
            )
    units_was = {u["id"]: u for u in reference.get("unit_models") or []}
    for unit in scenario.get("unit_models") or []:
        old = units_was.get(unit["id"])
        if old is None:
            continue
        for key, label, u in (
            ("non_pay", "Non-pay per unit", "£"),
            ("recruitment_training_cost_per_new_fte", "Recruitment and training", "£"),
            ("attrition_rate", "Staff turnover", "%"),
            ("ramp_up", "Ramp-up, first year", "%"),
        ):
            compare(f"{unit['name']}: {label}", old.get(key), unit.get(key), u)
        old_roles = old.get("roles") or []
        new_roles = unit.get("roles") or []
        for i, role in enumerate(new_roles):
            if i >= len(old_roles):
                out.append(Change(f"Role added: {role.get('role')}", "", "new row", ""))
                continue
            was = old_roles[i]
            name = str(role.get("role"))
            for key, u in (("salary", "£"), ("overhead_rate", "%"), ("fte", ""), ("caseload_per_fte", "")):
                compare(f"{name}: {ROLE_LABELS[key]}", was.get(key), role.get(key), u)
            compare(f"{name}: on-costs set by hand", was.get("oncost_override"), role.get("oncost_override"), "%")
            if was.get("pension_scheme") != role.get("pension_scheme"):
                out.append(
                    Change(
                        f"{name}: pension scheme", str(was.get("pension_scheme")), str(role.get("pension_scheme")), ""
                    )
                )
        for role in old_roles[len(new_roles) :]:
            out.append(Change(f"Role removed: {role.get('role')}", "", "", ""))
        old_lines = old.get("fixed_costs") or []
        for i, line in enumerate(unit.get("fixed_costs") or []):
            if i < len(old_lines):
                compare(
                    f"{line.get('item')}: {FIXED_LABELS['amount']}", old_lines[i].get("amount"), line.get("amount"), "£"
                )
            else:
                out.append(Change(f"Fixed-cost line added: {line.get('item')}", "", "new row", ""))
    was_rules = reference.get("parameter_overrides") or {}
    for name, values in (scenario.get("parameter_overrides") or {}).items():
        if was_rules.get(name) != values:
            out.append(Change(f"Rule {name}", "shipped rule", f"your value {values[0].get('value')}", ""))
    return out


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------


def file_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
    return stem[:60] or "scenario"
