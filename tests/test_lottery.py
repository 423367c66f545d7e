"""Lottery metrics on small, hand-checkable registers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coverage.model.lottery import coverage_shares, inequality, services_per_force, weighted_gini

FORCES = pd.DataFrame(
    {
        "code": ["E23000001", "E23000002", "E23000003", "E23000004"],
        "pop_mid2023_16plus": [100_000, 100_000, 200_000, 100_000],
    }
)


def _row(service_id, code, service_type, start="", end="", status="active"):
    return {
        "service_id": service_id,
        "force_codes": code,
        "service_type": service_type,
        "service_name": service_id,
        "start_year": start,
        "end_year": end,
        "status": status,
    }


REGISTER = pd.DataFrame(
    [
        _row("a", "E23000001", "multi_agency_unit", "2018"),
        _row("b", "E23000001", "advocacy", "2019"),
        _row("c", "E23000002", "advocacy", "2015", "2020", status="ended"),
        _row("d", "E23000003", "none_found"),
        _row("e", "ALL", "helpline", "2010"),
    ]
)


def test_services_per_force_counts_only_local_services_in_force_in_that_year():
    codes = list(FORCES["code"])
    assert services_per_force(REGISTER, codes).to_dict() == {
        "E23000001": 2,
        "E23000002": 0,
        "E23000003": 0,
        "E23000004": 0,
    }
    assert services_per_force(REGISTER, codes, year=2019).to_dict() == {
        "E23000001": 2,
        "E23000002": 1,
        "E23000003": 0,
        "E23000004": 0,
    }
    assert services_per_force(REGISTER, codes, year=2017).to_dict()["E23000001"] == 0


def test_coverage_shares_weight_by_population_and_offences():
    flags = pd.DataFrame(
        {
            "code": FORCES["code"],
            "has_multi_agency_unit": [True, False, False, False],
            "has_clinic_or_panel": [False] * 4,
            "has_advocacy": [True, False, False, False],
            "has_perpetrator_programme": [False] * 4,
            "has_police_team": [False] * 4,
            "provision_class": ["multi_agency_unit", "national_only", "national_only", "unknown"],
        }
    )
    offences = {"E23000001": 100, "E23000002": 100, "E23000003": 100, "E23000004": 700}
    shares = coverage_shares(flags, FORCES, offences).set_index("measure")
    assert shares.loc["has_multi_agency_unit", "forces"] == 1
    assert shares.loc["has_multi_agency_unit", "population_16plus_share"] == pytest.approx(0.2)
    assert shares.loc["has_multi_agency_unit", "offences_share"] == pytest.approx(0.1)
    assert shares.loc["no_specialist_service", "forces"] == 2
    assert shares.loc["unknown", "forces"] == 1


def test_gini_is_zero_for_equal_provision_and_high_for_concentrated():
    assert weighted_gini(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(0.0)
    assert weighted_gini(np.array([0.0, 0.0, 0.0, 10.0]), np.ones(4)) == pytest.approx(0.75)


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(1, 1000)), min_size=1, max_size=40))
def test_gini_lies_between_0_and_1(pairs):
    values, weights = np.array(pairs).T
    assert -1e-9 <= weighted_gini(values, weights) <= 1 + 1e-9


def test_inequality_leaves_out_unknown_forces():
    classes = {
        "E23000001": "multi_agency_unit",
        "E23000002": "national_only",
        "E23000003": "national_only",
        "E23000004": "unknown",
    }
    result = inequality(REGISTER, FORCES, classes)
    assert result.forces_with_none == 2
    assert result.population_share_with_none == pytest.approx(0.75)
    assert 0 < result.gini <= 1
