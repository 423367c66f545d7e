"""Recorded crime by offence code: the build from the Home Office table, the shipped file, rates and trends."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage import paths
from coverage.build.recorded_crime import SOURCE_DIR, build_recorded_crime, find_source
from coverage.errors import InputError
from coverage.model import demand
from coverage.model.demand import (
    area_populations,
    change,
    comparison,
    force_ranking,
    latest_period,
    read_recorded_crime,
    recorded_crime_csv,
    trend,
)
from coverage.vocabulary import FIRST_COMPARABLE_YEAR, MEASURE

CHESHIRE = "E23000006"
ENGLAND_AND_WALES = "K04000001"
ANNUAL = "home_office_prc_pfa_offence_codes_8L_8M_8Q_8R_8U_annual_2013_2025.csv"


@pytest.fixture(scope="module")
def crime(forces) -> pd.DataFrame:
    return read_recorded_crime(force_codes=list(forces["code"]))


def _source_copy(shared_data: Path, tmp_path: Path, edit=None) -> Path:
    """A copy of shared/data/crime with the annual file optionally edited (a pandas frame of text)."""
    (tmp_path / SOURCE_DIR).mkdir(parents=True)
    table = pd.read_csv(shared_data / SOURCE_DIR / ANNUAL, dtype=str, keep_default_na=False)
    if edit is not None:
        table = edit(table)
    table.to_csv(tmp_path / SOURCE_DIR / ANNUAL, index=False)
    return tmp_path


def _set(table: pd.DataFrame, period: str, column: str, value: str) -> pd.DataFrame:
    table.loc[(table.pfa_code == CHESHIRE) & (table.period == period), column] = value
    return table


# ---------------------------------------------------------------------------------------------
# The shipped file


def test_shipped_figures_equal_the_home_office_table(crime):
    latest = latest_period(crime)
    assert latest == "YE Dec 2025"
    rows = crime[crime["period"] == latest].set_index("area_code")
    assert rows.loc[ENGLAND_AND_WALES, "stalking_8Q"] == 143_855
    assert rows.loc[CHESHIRE, "stalking_8Q"] == 3_006
    # The group is the sum of the five codes (13,342 for Cheshire in YE Dec 2025).
    codes = [m.column for m in MEASURE.values() if m.code]
    assert rows.loc[CHESHIRE, "stalking_harassment_group"] == rows.loc[CHESHIRE, codes].sum() == 13_342
    # Regions and countries are sums of their forces.
    forces_rows = rows[rows["area_type"] == "force"]
    assert forces_rows["stalking_8Q"].sum() == 143_855


def test_every_rate_is_the_count_over_the_population(crime, forces):
    ranking = force_ranking(crime, forces, "stalking", "YE Dec 2025")
    assert len(ranking) == 43
    population = forces.set_index("code")
    for row in ranking.itertuples():
        assert row.rate_all_ages == pytest.approx(row.offences / population.loc[row.code, "pop_mid2023"] * 1000)
        assert row.rate_16plus == pytest.approx(row.offences / population.loc[row.code, "pop_mid2023_16plus"] * 1000)
    assert list(ranking["rank"].head(1)) == [1]
    assert ranking["rate_all_ages"].is_monotonic_decreasing
    cheshire = ranking.set_index("code").loc[CHESHIRE]
    assert cheshire["offences_previous"] == 3_149  # YE Dec 2024
    assert cheshire["change_pct"] == pytest.approx((3_006 - 3_149) / 3_149 * 100)


def test_area_populations_sum_the_forces(forces):
    population = area_populations(forces)
    assert population.loc[ENGLAND_AND_WALES, "pop_all_ages"] == forces["pop_mid2023"].sum()
    wales = forces[forces["country"] == "Wales"]
    assert population.loc["W92000004", "pop_16plus"] == wales["pop_mid2023_16plus"].sum()


def test_comparison_with_region_england_and_wales_and_peers(crime, forces):
    table = comparison(crime, forces, CHESHIRE, "stalking", "YE Dec 2025", ["E23000010", "E23000032"])
    assert list(table["comparator"]) == ["Cheshire", "North West", "England and Wales", "Peer group (2 forces)"]
    assert table.loc[0, "difference"] == 0
    peers = crime[(crime["period"] == "YE Dec 2025") & crime["area_code"].isin(["E23000010", "E23000032"])]
    pop = forces.set_index("code").loc[["E23000010", "E23000032"], "pop_mid2023"].sum()
    assert table.loc[3, "rate_all_ages"] == pytest.approx(peers["stalking_8Q"].sum() / pop * 1000)


def test_trend_marks_the_years_before_the_counting_rule_break(crime, forces):
    rows = trend(crime, forces, [CHESHIRE, ENGLAND_AND_WALES], "stalking")
    assert rows["year_ending"].min() == 2014  # 8Q exists from April 2014
    assert rows["year_ending"].max() == 2025
    assert set(rows.loc[~rows["comparable"], "year_ending"]) == set(range(2014, FIRST_COMPARABLE_YEAR))
    # Other measures carry no stalking break.
    assert trend(crime, forces, [CHESHIRE], "harassment")["comparable"].all()


def test_change_since_last_year_and_since_the_first_comparable_year(crime):
    result = change(crime, ENGLAND_AND_WALES, "stalking", "YE Dec 2025")
    assert result.since_previous_pct == pytest.approx((143_855 - 134_524) / 134_524 * 100)
    assert result.baseline_period == "YE Dec 2021"
    assert result.since_baseline_pct == pytest.approx((143_855 - 116_564) / 116_564 * 100)
    assert math.isnan(change(crime, ENGLAND_AND_WALES, "stalking", "YE Dec 2021").since_baseline_pct)


def test_a_code_not_listed_is_blank_never_zero(crime):
    early = crime[crime["period"] == "YE Dec 2013"]
    assert early["stalking_8Q"].isna().all()  # stalking had no code of its own before April 2014
    assert early["controlling_coercive_behaviour_8U"].isna().all()
    assert latest_period(crime, "coercive_control") == "YE Dec 2025"


def test_the_shipped_file_round_trips_exactly(crime):
    text = (paths.DATA_DIR / "indicators" / "recorded_crime.csv").read_text(encoding="utf-8")
    assert recorded_crime_csv(crime) == text


def test_unknown_measure_is_refused(crime, forces):
    with pytest.raises(InputError, match="unknown measure 'burglary'"):
        force_ranking(crime, forces, "burglary", "YE Dec 2025")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.drop(columns="stalking_8Q"), "missing column"),
        (lambda t: t.rename(columns={"harassment_8L": "harassment"}), "missing column"),
        (lambda t: t.assign(), None),
        (
            lambda t: _set(t, "YE Dec 2024", "stalking_8Q", "about 3k"),
            r"field 'stalking_8Q': 'about 3k' is not a number",
        ),
        (lambda t: _set(t, "YE Dec 2024", "stalking_8Q", "3149.5"), "is not a whole number"),
        (
            lambda t: t[~((t.pfa_code == CHESHIRE) & (t.period == "YE Dec 2024"))],
            "YE Dec 2024 has no row for E23000006",
        ),
    ],
)
def test_the_build_refuses_bad_releases_naming_file_line_and_field(shared_data, tmp_path, forces, edit, message):
    source = _source_copy(shared_data, tmp_path, edit)
    if message is None:
        build_recorded_crime(source, forces)
        return
    with pytest.raises(InputError, match=message):
        build_recorded_crime(source, forces)


def test_a_listed_code_without_a_count_is_refused_with_its_line(shared_data, tmp_path, forces):
    def blank(table):
        table.loc[(table.pfa_code == CHESHIRE) & (table.period == "YE Dec 2024"), "stalking_8Q"] = ""
        return table

    with pytest.raises(
        InputError, match=r"line \d+, field 'stalking_8Q': 8Q is listed for YE Dec 2024 but has no count"
    ):
        build_recorded_crime(_source_copy(shared_data, tmp_path, blank), forces)


def test_a_negative_adjustment_is_kept_and_noted(shared_data, tmp_path, forces):
    def negative(table):
        mask = (table.pfa_code == CHESHIRE) & (table.period == "YE Dec 2015")
        table.loc[mask, "racially_religiously_aggravated_harassment_8M"] = "-1"
        # the England and Wales check would then disagree, so drop the source's own total for that year
        return table[~((table.pfa_code == ENGLAND_AND_WALES) & (table.period == "YE Dec 2015"))]

    built = build_recorded_crime(_source_copy(shared_data, tmp_path, negative), forces)
    cell = built.table.set_index(["area_code", "period"]).loc[
        (CHESHIRE, "YE Dec 2015"), "racially_religiously_aggravated_harassment_8M"
    ]
    assert cell == -1
    assert any("negative count -1 kept as published" in note for note in built.notes)


def test_a_release_without_the_last_year_makes_the_previous_year_the_headline(shared_data, tmp_path, forces):
    """Periods are data: drop YE Dec 2025 from the release and 'latest' becomes YE Dec 2024 with no code change."""
    source = _source_copy(shared_data, tmp_path, lambda t: t[t.period != "YE Dec 2025"])
    built = build_recorded_crime(source, forces)
    assert latest_period(built.table) == "YE Dec 2024"
    ranking = force_ranking(built.table, forces, "stalking", latest_period(built.table))
    assert ranking.set_index("code").loc[CHESHIRE, "offences"] == 3_149


def test_two_releases_side_by_side_are_refused(shared_data, tmp_path):
    source = _source_copy(shared_data, tmp_path)
    shutil.copy(source / SOURCE_DIR / ANNUAL, source / SOURCE_DIR / ANNUAL.replace("2025", "2026"))
    with pytest.raises(InputError, match="more than one release"):
        find_source(source)


def test_reading_a_damaged_shipped_file_names_line_and_field(tmp_path, forces):
    text = (paths.DATA_DIR / "indicators" / "recorded_crime.csv").read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(text) if ",force," in line)
    text[number] = text[number].replace(",force,", ",region,")
    bad = tmp_path / "recorded_crime.csv"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"line {number + 1}, field 'area_type': 'region' does not fit"):
        read_recorded_crime(bad, force_codes=list(forces["code"]))
    with pytest.raises(InputError, match="not found"):
        read_recorded_crime(tmp_path / "missing.csv", force_codes=list(forces["code"]))


def test_format_helpers():
    assert demand.format_rate(4.6249) == "4.62"
    assert demand.format_rate(None) == "n/a"
    assert demand.format_change(-14.94) == "\u221214.9%"
    assert demand.format_count(143855) == "143,855"


def test_a_refused_release_leaves_data_untouched(shared_data, tmp_path, forces):
    """build-data builds in a staging folder: a bad input never leaves a half-built data/."""
    from coverage.build.data import build_data

    source = tmp_path / "shared-data"
    source.mkdir()
    for entry in shared_data.iterdir():
        if entry.name != "crime":
            (source / entry.name).symlink_to(entry)
    _source_copy(shared_data, source, lambda t: t.drop(columns="stalking_8Q"))
    for entry in (shared_data / SOURCE_DIR).iterdir():
        if entry.name != ANNUAL:
            (source / SOURCE_DIR / entry.name).symlink_to(entry)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "kept.txt").write_text("what the user had", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        build_data(source, shared_data.parent / "research", data_dir=data_dir)
    assert sorted(p.name for p in data_dir.iterdir()) == ["kept.txt"]


APP_HEADLINE = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=120)
at.query_params["force"] = "E23000006"
at.run()
assert not at.exception, at.exception
print("\\n".join(m.label + "=" + m.value for m in at.metric))
"""


def test_the_app_headline_follows_the_data_not_the_code(shared_data, tmp_path, forces):
    """A new release is a new file plus build-data: here one without YE Dec 2025, and the Map page's
    headline becomes YE Dec 2024 with no change to the code."""
    import subprocess
    import sys

    source = _source_copy(shared_data, tmp_path / "source", lambda t: t[t.period != "YE Dec 2025"])
    built = build_recorded_crime(source, forces)
    data_dir = tmp_path / "data"
    shutil.copytree(paths.DATA_DIR, data_dir)
    (data_dir / "indicators" / "recorded_crime.csv").write_text(recorded_crime_csv(built.table), encoding="utf-8")
    env = {**__import__("os").environ, "ATLAS_DATA_DIR": str(data_dir)}
    shown = subprocess.run(
        [sys.executable, "-c", APP_HEADLINE],
        cwd=paths.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "Stalking (8Q), YE Dec 2024=3,149" in shown.stdout
    assert "YE Dec 2025" not in shown.stdout


def test_a_welsh_force_is_compared_with_wales(crime, forces):
    from coverage.model.forces import similar_forces

    gwent = "W15000002"
    table = comparison(crime, forces, gwent, "stalking", "YE Dec 2025", similar_forces(forces, gwent))
    assert list(table["code"])[:3] == [gwent, "W92000004", ENGLAND_AND_WALES]
    assert table["comparator"].iloc[1] == "Wales"
    assert table["comparator"].iloc[3] == "Peer group (5 forces)"


def test_comparison_rejects_unknown_codes(crime, forces):
    with pytest.raises(InputError, match="unknown force code"):
        comparison(crime, forces, "E23999999", "stalking", "YE Dec 2025")
    with pytest.raises(InputError, match="unknown peer force code"):
        comparison(crime, forces, CHESHIRE, "stalking", "YE Dec 2025", ["nope"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_pooled_peer_rate_lies_between_the_peers_own_rates(crime, forces, data):
    codes = list(forces["code"])
    peers = data.draw(st.lists(st.sampled_from(codes), min_size=1, max_size=10, unique=True))
    target = data.draw(st.sampled_from(codes))
    measure = data.draw(st.sampled_from(["stalking", "harassment", "group"]))
    period = data.draw(st.sampled_from(["YE Dec 2021", "YE Dec 2025"]))
    pooled = comparison(crime, forces, target, measure, period, peers)["rate_all_ages"].iloc[-1]
    rates = force_ranking(crime, forces, measure, period).set_index("code").loc[peers, "rate_all_ages"]
    assert rates.min() * (1 - 1e-12) <= pooled <= rates.max() * (1 + 1e-12)
