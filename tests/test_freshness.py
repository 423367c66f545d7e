"""How fresh each force's evidence is: when the register last looked, how new its newest source is."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from coverage.model.freshness import STALE_AFTER_MONTHS, force_freshness, freshness_table, newest_month

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("12 Apr 2025", (2025, 4)),
        ("Apr 2025", (2025, 4)),
        ("Sept 2024", (2024, 9)),
        ("2025", (2025, 12)),
        ("c.2019", (2019, 12)),
        ("c.2022-23", (2023, 12)),
        ("2019/20", (2020, 12)),
        ("2026-02", (2026, 2)),
        ("2026-11-26", (2026, 11)),
        ("undated", None),
        ("", None),
        ("table A (force-by-force search)", None),
    ],
)
def test_a_source_date_is_read_as_the_latest_month_it_can_mean(text, month):
    assert newest_month(text) == month


def _register(rows):
    return pd.DataFrame(
        [{"force_codes": codes, "source_ids": ids, "last_verified": looked} for codes, ids, looked in rows]
    )


SOURCES = pd.DataFrame(
    {
        "source_id": ["S001", "S002", "S003", "R001", "V001"],
        "date": ["Apr 2018", "12 Jan 2026", "undated", "early 2026 (latest source seen dated 3 Feb 2026)", "2024"],
    }
)


def test_a_force_whose_newest_evidence_is_over_two_years_old_is_flagged():
    register = _register([("E23000024", "S001;R001", "2026-02"), ("ALL", "S002", "2026-11-26")])
    fresh = force_freshness(register, SOURCES, "E23000024", TODAY)
    # The national row's newer source does not count, and R001 (the search write-up) is not evidence.
    assert (fresh.last_looked, fresh.newest_evidence, fresh.newest_source) == ("2026-02", "Apr 2018", "S001")
    assert fresh.months_old == 104 and fresh.stale
    assert f"older than {STALE_AFTER_MONTHS} months" in fresh.summary


def test_recent_evidence_is_not_flagged_and_undated_sources_are_skipped():
    register = _register([("E23000006;E23000007", "S003;S002", "2026-11-26")])
    fresh = force_freshness(register, SOURCES, "E23000007", TODAY)
    assert fresh.newest_evidence == "Jan 2026" and not fresh.stale
    none = force_freshness(_register([("E23000006", "S003", "2026-02")]), SOURCES, "E23000006", TODAY)
    assert none.newest_evidence == "" and not none.stale and "no dated evidence" in none.summary


def test_the_shipped_register_dates_every_force(forces):
    from coverage.model import atlas_data

    data = atlas_data.load_all()
    table = freshness_table(data.register, data.sources, list(forces["code"]), TODAY)
    assert len(table) == 43
    assert (table["last_looked"] != "").all()  # every force has been looked at
    assert table["stale"].any() and not table["stale"].all()
    assert list(table["stale"]) == [bool(m is not pd.NA and m > STALE_AFTER_MONTHS) for m in table["months_old"]]
