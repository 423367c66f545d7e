"""Scenario files of schema version 1, read as version 2.

Version 1 stored a role's employer on-costs as one hand-worked rate (``oncost_rate``), sources as free
text (``source: "S054 (DS lead); S154 (salary)"``), one force per deployment (``force_code``) and a
referral rate per offence in the ONS 'Stalking and harassment' group. Version 2 works on-costs out from
dated rules, cites sources as lists of registry ids, lets a unit serve several forces and rates demand
on stalking offences (8Q).

``migrate_v1`` keeps what a version 1 file meant, so its totals do not change:

* each hand-set on-cost rate becomes an explicit ``oncost_override`` (with the role's sources), and the
  role gets the pension scheme its agency implies, used only if the override is removed;
* source text becomes the ids it mentions; any words beside them move into the note;
* ``force_code`` becomes ``forces: [force_code]``;
* the referral rate keeps its basis: per 'Stalking and harassment' group offence, applied to the year
  ending December 2023, the period version 1 used (``coverage.model.indicators.PLANNER_DEMAND_PERIOD``).

It is a pure function on plain data. It transforms only what has the version 1 shape and leaves
anything else as it is, for validation to report with its field path.
"""

from __future__ import annotations

import copy
import re
from typing import Any

# Version 1 applied its referral rate to this period of 'Stalking and harassment' group offences
# (coverage.model.indicators.PLANNER_DEMAND_PERIOD in the release that wrote version 1 files).
V1_DEMAND_PERIOD = "YE Dec 2023"

# The scheme a version 1 role's agency implies (used only when its on-cost override is removed).
# Probation and the CPS are civil service employers (Civil Service Pension Scheme, source P008).
V1_PENSION_BY_AGENCY = {
    "police": "police",
    "nhs": "nhs",
    "probation": "civil_service",
    "cps": "civil_service",
    "voluntary": "none",
    "other": "none",
}

_SOURCE_ID = re.compile(r"\b[A-Z]\d{3}\b")
_ONLY_IDS = re.compile(r"^[\s;,]*(?:[A-Z]\d{3}[\s;,]*)*$")
_PARAM_KEYS = ("discount_rate", "optimism_bias", "pay_uplift", "non_pay_inflation", "gdp_deflator")
_UNIT_PARAM_KEYS = ("non_pay", "recruitment_training_cost_per_new_fte", "attrition_rate", "ramp_up")
OVERRIDE_NOTE = (
    "On-cost rate set by hand in a schema 1 file, kept as an override so the file's totals are unchanged; "
    "remove it to work the on-cost out from the dated rules for the salary and pension scheme."
)


def _ids_and_rest(text: Any) -> tuple[list[str], str]:
    """Source ids mentioned in a version 1 source text, and the text itself when it says more than ids."""
    if not isinstance(text, str):
        return [], ""
    ids = list(dict.fromkeys(_SOURCE_ID.findall(text)))
    if text.strip().lower() == "user input":
        return [], ""
    rest = "" if _ONLY_IDS.match(text) else text.strip()
    return ids, rest


def _with_note(note: Any, extra: str) -> str:
    base = note.strip() if isinstance(note, str) else ""
    return f"{base} {extra}".strip() if extra else base


def _sources_field(record: dict[str, Any], key: str = "source") -> None:
    """``source: "S054 (lead); S154"`` → ``sources: [S054, S154]``, the words kept in the note."""
    if key not in record:
        return
    text = record.pop(key)
    ids, rest = _ids_and_rest(text)
    if isinstance(text, str) and text.strip().lower() == "user input":
        record["user_input"] = True
    record["sources"] = ids
    if rest:
        record["note"] = _with_note(record.get("note"), f"Sources (as written in schema 1): {rest}.")


def _param(record: dict[str, Any], key: str) -> None:
    value = record.get(key)
    if isinstance(value, dict):
        _sources_field(value)


def migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A version 1 scenario (a mapping) as version 2; the input is not changed."""
    out = copy.deepcopy(data)
    out["schema_version"] = 2
    for key in _PARAM_KEYS:
        _param(out, key)
    for unit in out.get("unit_models") or []:
        if not isinstance(unit, dict):
            continue
        for key in _UNIT_PARAM_KEYS:
            _param(unit, key)
        if isinstance(unit.get("sources"), str):
            ids, rest = _ids_and_rest(unit["sources"])
            unit["sources"] = ids
            if rest:
                unit["note"] = _with_note(unit.get("note"), f"Sources (as written in schema 1): {rest}.")
        for role in unit.get("roles") or []:
            if not isinstance(role, dict):
                continue
            _sources_field(role)
            if "oncost_rate" in role:
                role["oncost_override"] = {
                    "value": role.pop("oncost_rate"),
                    "sources": list(role.get("sources") or []),
                    "assumption": bool(role.get("assumption", True)),
                    "note": OVERRIDE_NOTE,
                }
            role.setdefault("pension_scheme", V1_PENSION_BY_AGENCY.get(str(role.get("agency")), "none"))
        for line in unit.get("fixed_costs") or []:
            if isinstance(line, dict):
                _sources_field(line)
    for dep in out.get("deployments") or []:
        if isinstance(dep, dict) and "force_code" in dep:
            dep["forces"] = [dep.pop("force_code")]
    demand = out.get("demand")
    if isinstance(demand, dict):
        _param(demand, "fixed_referrals_per_year")
        rate = demand.get("referral_rate")
        if isinstance(rate, dict):
            _sources_field(rate)
            rate.pop("offence_group", None)
            rate["offence_code"] = "stalking_harassment_group"
            rate.setdefault("offences_period", V1_DEMAND_PERIOD)
    return out
