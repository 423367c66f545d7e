"""Which police-recorded offences a scenario's referral rate is applied to.

A referral rate is per offence of one kind (``ReferralRate.offence_code``) in one period
(``offences_period``, blank for the latest year every force has a count):

* ``8Q``, police-recorded stalking (Home Office open data, years ending December; the headline basis);
* ``stalking_harassment_group``, the ONS 'Stalking and harassment' group: the basis schema 1 files were
  written on. For the year ending December 2023 it is read from the ONS table those rates were derived
  from (``coverage.model.indicators``), so a schema 1 file costs exactly as it did; other years come from
  the Home Office table.

The page, the CLI and the briefing all call :func:`demand_offences`, so a scenario is costed on the same
offences wherever it is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from coverage.errors import InputError, Problem
from coverage.model.demand import latest_period, offences_by_force
from coverage.model.indicators import PLANNER_DEMAND_PERIOD, planner_offences_by_force
from coverage.planner.schema import DEMAND_OFFENCES, Scenario

_MEASURE_OF = {"8Q": "stalking", "stalking_harassment_group": "group"}


@dataclass(frozen=True)
class DemandBasis:
    """The offences a scenario's referral rate multiplies, and what they are."""

    offence_code: str | None  # None: the scenario has no referral rate
    period: str | None
    offences: dict[str, float] = field(default_factory=dict)

    @property
    def description(self) -> str:
        if self.offence_code is None:
            return "a fixed number of referrals a year per unit, or none"
        return f"{DEMAND_OFFENCES[self.offence_code]}, {self.period}"


def available_periods(crime: pd.DataFrame) -> list[str]:
    """Periods of the recorded-crime table, oldest first."""
    frame = crime.drop_duplicates("period").sort_values("year_ending")
    return [str(p) for p in frame["period"]]


def demand_offences(scenario: Scenario, crime: pd.DataFrame, indicators: pd.DataFrame) -> DemandBasis:
    """The offences by force that ``scenario``'s referral rate is applied to (empty without a rate)."""
    rate = scenario.demand.referral_rate if scenario.demand is not None else None
    if rate is None:
        return DemandBasis(None, None)
    measure = _MEASURE_OF[rate.offence_code]
    period = rate.offences_period or latest_period(crime, measure)
    if rate.offence_code == "stalking_harassment_group" and period == PLANNER_DEMAND_PERIOD:
        return DemandBasis(rate.offence_code, period, planner_offences_by_force(indicators))
    periods = available_periods(crime)
    if period not in periods:
        raise InputError(
            Problem(
                ("demand", "referral_rate", "offences_period"),
                f"'{period}' is not a period of the recorded-crime table (it has {periods[0]} to {periods[-1]})",
            ),
            where="scenario",
        )
    return DemandBasis(rate.offence_code, period, offences_by_force(crime, measure, period))
