"""Tests of coverage.model.indicators: parsing the ONS tables, the long table, validation, comparators."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from coverage import paths
from coverage.build.indicators import build_indicators
from coverage.errors import InputError
from coverage.model import indicators as ind
from coverage.model.forces import similar_forces
from coverage.model.indicators import (
    CHANGE,
    CHANGE_PERIOD,
    INDICATOR_COLUMNS,
    OFFENCES,
    PERIOD_2022,
    PERIOD_2023,
    POPULATION_16PLUS,
    POPULATION_PERIOD,
    RATE,
    indicators_csv,
    read_indicators,
    validate_indicators,
)
from coverage.vocabulary import OFFENCE_GROUP_CODES

FIXTURES = Path(__file__).parent / "fixtures" / "indicators"
FILE_2022 = "ons_pfa_recorded_crime_by_offence_group_december2022.csv"
FILE_2023 = "ons_pfa_recorded_crime_by_offence_group_december2023.csv"

# The five forces in the fixture tables, with their ONS "Stalking and harassment" counts
# (ONS Police force area data tables, years ending December 2022 and 2023).
FIXTURE_COUNTS = {
    "E23000013": (12_162, 11_499),  # Cleveland
    "E23000008": (9_745, 9_994),  # Durham
    "E23000006": (16_097, 13_691),  # Cheshire
    "E23000002": (5_829, 4_918),  # Cumbria
    "W15000002": (9_000, 9_380),  # Gwent
}
CHESHIRE, GWENT, WEST_YORKSHIRE = "E23000006", "W15000002", "E23000010"
ENGLAND_AND_WALES, ENGLAND, WALES = "K04000001", "E92000001", "W92000004"
NORTH_EAST, NORTH_WEST = "E12000001", "E12000002"


def value(frame: pd.DataFrame, code: str, indicator: str, period: str) -> float:
    match = frame[(frame["area_code"] == code) & (frame["indicator"] == indicator) & (frame["period"] == period)]
    assert len(match) == 1, (code, indicator, period)
    return match["value"].iloc[0]


def source(frame: pd.DataFrame, code: str, indicator: str, period: str) -> str:
    match = frame[(frame["area_code"] == code) & (frame["indicator"] == indicator) & (frame["period"] == period)]
    return match["source"].iloc[0]


@pytest.fixture(scope="module")
def fixture_forces(forces) -> pd.DataFrame:
    return forces[forces["code"].isin(FIXTURE_COUNTS)].reset_index(drop=True)


@pytest.fixture(scope="module")
def built(fixture_forces) -> pd.DataFrame:
    return build_indicators(FIXTURES, fixture_forces)


@pytest.fixture
def source_copy(tmp_path) -> Path:
    """A writable copy of the fixture source folder, for breaking one thing at a time."""
    shutil.copytree(FIXTURES / "crime", tmp_path / "crime")
    return tmp_path


def edit(folder: Path, name: str, old: str, new: str) -> Path:
    path = folder / "crime" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


# ---------------------------------------------------------------------------------------------
# Parsing the ONS tables (fixtures)


def test_fixture_build_has_the_long_columns_and_every_area(built, fixture_forces):
    assert list(built.columns) == INDICATOR_COLUMNS
    areas = built.drop_duplicates("area_code").set_index("area_code")["area_type"].to_dict()
    assert areas == {
        **dict.fromkeys(FIXTURE_COUNTS, "force"),
        NORTH_EAST: "region",
        NORTH_WEST: "region",
        ENGLAND: "country",
        WALES: "country",
        ENGLAND_AND_WALES: "england_and_wales",
    }
    # 10 areas × (2 offence counts + 2 populations + 2 rates + 1 change)
    assert len(built) == 10 * 7
    assert not built.duplicated(["area_code", "indicator", "period"]).any()
    assert built["unit"].ne("").all() and built["source"].ne("").all()


def test_counts_with_space_separators_and_multiline_header_are_parsed(built):
    for code, (count_2022, count_2023) in FIXTURE_COUNTS.items():
        assert value(built, code, OFFENCES, PERIOD_2022) == count_2022
        assert value(built, code, OFFENCES, PERIOD_2023) == count_2023


def test_comparators_are_sums_of_their_forces(built, fixture_forces):
    assert value(built, NORTH_EAST, OFFENCES, PERIOD_2023) == 11_499 + 9_994
    assert value(built, WALES, OFFENCES, PERIOD_2022) == 9_000
    assert value(built, ENGLAND, OFFENCES, PERIOD_2022) == 12_162 + 9_745 + 16_097 + 5_829
    assert value(built, ENGLAND_AND_WALES, OFFENCES, PERIOD_2023) == sum(c[1] for c in FIXTURE_COUNTS.values())
    assert (
        value(built, ENGLAND_AND_WALES, POPULATION_16PLUS, POPULATION_PERIOD)
        == fixture_forces["pop_mid2023_16plus"].sum()
    )
    assert (
        value(built, NORTH_WEST, "population_all_ages", POPULATION_PERIOD)
        == fixture_forces.loc[fixture_forces["region_code"] == NORTH_WEST, "pop_mid2023"].sum()
    )


def test_england_and_wales_excludes_british_transport_police_and_says_so(built):
    text_2022 = source(built, ENGLAND_AND_WALES, OFFENCES, PERIOD_2022)
    text_2023 = source(built, ENGLAND_AND_WALES, RATE, PERIOD_2023)
    assert "excludes British Transport Police" in text_2022
    assert "(53,103) includes 270 BTP offences" in text_2022
    assert "(49,781) includes 299 BTP offences" in text_2023
    assert "British Transport Police" not in source(built, ENGLAND, OFFENCES, PERIOD_2022)


def test_every_rate_is_count_over_population_16plus_times_1000(built):
    for code in built["area_code"].unique():
        population = value(built, code, POPULATION_16PLUS, POPULATION_PERIOD)
        for period in (PERIOD_2022, PERIOD_2023):
            assert value(built, code, RATE, period) == value(built, code, OFFENCES, period) / population * 1000
        before, after = value(built, code, OFFENCES, PERIOD_2022), value(built, code, OFFENCES, PERIOD_2023)
        assert value(built, code, CHANGE, CHANGE_PERIOD) == (after - before) / before * 100


def test_sources_name_the_ons_tables_the_year_and_the_licence(built):
    text = source(built, CHESHIRE, OFFENCES, PERIOD_2023)
    assert "ONS Police force area data tables" in text
    assert "year ending December 2023" in text
    assert "Open Government Licence v3.0" in text
    assert "mid-2023" in source(built, CHESHIRE, RATE, PERIOD_2022)


def test_labels_and_notes_name_every_offence_in_the_group():
    for indicator in (OFFENCES, RATE, CHANGE):
        for code, offence in OFFENCE_GROUP_CODES:
            if code != "8Q":
                assert offence in ind.INDICATOR_LABELS[indicator]
            assert f"{offence} ({code})" in ind.INDICATOR_NOTES[indicator]
    assert "mid-2023" in ind.INDICATOR_NOTES[RATE] and "both years" in ind.INDICATOR_NOTES[RATE].lower()
    assert set(ind.INDICATOR_LABELS) == set(ind.INDICATOR_NOTES) == set(ind.INDICATORS)


def test_missing_offence_column_names_file_and_column(source_copy, fixture_forces):
    edit(source_copy, FILE_2023, ";Stalking and harassment;", ";Stalking;")
    with pytest.raises(InputError) as error:
        build_indicators(source_copy, fixture_forces)
    assert FILE_2023 in str(error.value)
    assert "'Stalking and harassment'" in str(error.value)


def test_missing_force_row_names_file_and_force(source_copy, fixture_forces):
    edit(source_copy, FILE_2022, "E23000008;Durham;61 503;24 666;9745;2 255\n", "")
    with pytest.raises(InputError) as error:
        build_indicators(source_copy, fixture_forces)
    assert FILE_2022 in str(error.value)
    assert "E23000008" in str(error.value)


def test_missing_file_is_named(source_copy, fixture_forces):
    (source_copy / "crime" / FILE_2022).unlink()
    with pytest.raises(InputError, match=FILE_2022):
        build_indicators(source_copy, fixture_forces)


def test_region_row_that_is_not_the_sum_of_its_forces_is_an_error(source_copy, fixture_forces):
    edit(source_copy, FILE_2023, "North West;117 088;51 414;18 609;", "North West;117 088;51 414;18 610;")
    with pytest.raises(InputError) as error:
        build_indicators(source_copy, fixture_forces)
    assert FILE_2023 in str(error.value)
    assert "North West (E12000002) row 18,610 differs from the sum of its 2 forces (18,609)" in str(error.value)


def test_england_and_wales_must_exceed_forces_by_the_btp_row(source_copy, fixture_forces):
    edit(source_copy, FILE_2022, "Police;61 647;11 491;270;", "Police;61 647;11 491;271;")
    with pytest.raises(InputError) as error:
        build_indicators(source_copy, fixture_forces)
    assert "not the British Transport Police count 271" in str(error.value)


def test_unreadable_count_names_file_line_and_field(source_copy, fixture_forces):
    edit(source_copy, FILE_2023, "Cumbria;36 297;15 601;4 918;", "Cumbria;36 297;15 601;[x];")
    with pytest.raises(InputError) as error:
        build_indicators(source_copy, fixture_forces)
    message = str(error.value)
    assert FILE_2023 in message
    assert "line 11, field 'Stalking and harassment': '[x]' is not a whole number" in message


def test_force_code_not_in_the_force_table_is_an_error(source_copy, fixture_forces):
    edit(source_copy, FILE_2023, "E23000002;Cumbria", "E23000099;Cumbria")
    with pytest.raises(InputError) as error:
        build_indicators(source_copy, fixture_forces)
    assert "E23000099" in str(error.value) and "E23000002" in str(error.value)


def test_repeated_area_code_is_an_error(source_copy, fixture_forces):
    path = source_copy / "crime" / FILE_2023
    path.write_text(path.read_text() + "W15000002;Gwent;1;1;1;1\n")
    with pytest.raises(InputError, match=r"line 14: area code W15000002 appears twice \(first on line 13\)"):
        build_indicators(source_copy, fixture_forces)


# ---------------------------------------------------------------------------------------------
# Validation and the shipped CSV


def test_validate_accepts_the_build_and_keeps_value_as_float(built, fixture_forces):
    clean = validate_indicators(built, force_codes=fixture_forces["code"])
    assert clean["value"].dtype == "float64"
    pd.testing.assert_frame_equal(clean, built)


@pytest.mark.parametrize(
    ("column", "bad", "expected"),
    [
        ("area_code", "E23000099", "field 'area_code': unknown area code 'E23000099'"),
        ("area_code", "S12000033", "field 'area_code': unknown area code 'S12000033'"),
        ("area_type", "county", "field 'area_type': 'county' is not an area type"),
        ("indicator", "burglary", "field 'indicator': unknown indicator 'burglary'"),
        ("period", "YE Dec 2021", "field 'period': period 'YE Dec 2021' is not one of"),
        ("value", -5.0, "field 'value': -5 is negative"),
        ("value", "lots", "field 'value': 'lots' is not a number"),
        ("value", 12.5, "field 'value': 12.5 is not a whole number of offences"),
        ("unit", "", "field 'unit': unit is missing"),
        ("source", "  ", "field 'source': source is missing"),
    ],
)
def test_validate_names_line_and_field(built, fixture_forces, column, bad, expected):
    frame = built.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[3, column] = bad  # row 3 is line 5 (header on line 1)
    assert frame.loc[3, "indicator"] == OFFENCES or column == "indicator"
    with pytest.raises(InputError) as error:
        validate_indicators(frame, force_codes=fixture_forces["code"], name="indicators.csv")
    assert f"indicators.csv line 5, {expected}" in str(error.value)


def test_negative_change_is_allowed(built, fixture_forces):
    changes = built[built["indicator"] == CHANGE]
    assert (changes["value"] < 0).any()
    validate_indicators(built, force_codes=fixture_forces["code"])


def test_duplicate_row_is_reported_with_both_lines(built, fixture_forces):
    frame = pd.concat([built, built.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError) as error:
        validate_indicators(frame, force_codes=fixture_forces["code"])
    assert f"indicators.csv line {len(frame) + 1}, field 'area_code': duplicate row" in str(error.value)
    assert "(first on line 2)" in str(error.value)


def test_area_type_must_fit_the_code(built, fixture_forces):
    frame = built.copy()
    row = frame.index[frame["area_code"] == CHESHIRE][0]
    frame.loc[row, "area_type"] = "region"
    with pytest.raises(InputError, match=rf"line {row + 2}, field 'area_type': area type 'region' does not fit"):
        validate_indicators(frame, force_codes=fixture_forces["code"])


def test_missing_column_is_reported_on_line_1(built, fixture_forces):
    with pytest.raises(InputError, match="indicators.csv line 1: missing column.*source"):
        validate_indicators(built.drop(columns="source"), force_codes=fixture_forces["code"])


def test_csv_round_trip_is_exact(built, fixture_forces, tmp_path):
    path = tmp_path / "indicators.csv"
    path.write_text(indicators_csv(built), encoding="utf-8")
    text = path.read_text()
    assert f"{CHESHIRE},Cheshire,force,{OFFENCES},{PERIOD_2023},13691,offences," in text
    pd.testing.assert_frame_equal(read_indicators(path, force_codes=fixture_forces["code"]), built, check_exact=True)
    # A plain pandas export (counts written as 13691.0) reads back exactly too.
    built.to_csv(path, index=False)
    pd.testing.assert_frame_equal(read_indicators(path, force_codes=fixture_forces["code"]), built, check_exact=True)


def test_read_reports_csv_line_numbers(built, fixture_forces, tmp_path):
    path = tmp_path / "indicators.csv"
    lines = indicators_csv(built).splitlines()
    lines[6] = lines[6].replace(",force,", ",country,")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"indicators.csv line 7, field 'area_type'"):
        read_indicators(path, force_codes=fixture_forces["code"])


def test_read_missing_file_says_how_to_build_it(tmp_path):
    with pytest.raises(InputError, match="build-data"):
        read_indicators(tmp_path / "nope.csv", force_codes=[])


def test_shipped_file_path_is_inside_the_repository():
    assert ind.INDICATORS_CSV == paths.DATA_DIR / "indicators" / "indicators.csv"


def test_module_does_not_import_streamlit():
    assert "streamlit" not in Path(ind.__file__).read_text()


# ---------------------------------------------------------------------------------------------
# Display, ranking and comparators


def test_similar_forces(forces):
    peers = similar_forces(forces, CHESHIRE)
    assert len(peers) == 5 and len(set(peers)) == 5 and CHESHIRE not in peers
    assert set(peers) <= set(forces["code"])
    assert similar_forces(forces, CHESHIRE, n=2) == peers[:2]
    assert similar_forces(forces, CHESHIRE, n=0) == []
    with pytest.raises(InputError):
        similar_forces(forces, "E23000099")


def test_similar_forces_finds_a_twin(forces):
    twin = forces.copy()
    cheshire = twin["code"] == CHESHIRE
    for column in ("pop_mid2023", "pop_mid2023_16plus", "area_sq_km"):
        twin.loc[twin["code"] == "E23000013", column] = twin.loc[cheshire, column].iloc[0]
    assert similar_forces(twin, CHESHIRE, n=1) == ["E23000013"]


def test_similar_forces_says_it_is_not_hmicfrs():
    assert "NOT HMICFRS" in similar_forces.__doc__


def test_dataset_entry_is_complete_and_precise():
    entry = ind.INDICATOR_DATASET
    assert set(entry) == {"title", "publisher", "period", "licence", "attribution", "obtained_from", "processing"}
    assert entry["attribution"] == (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0."
    )
    assert "burysek/immigration_and_crime" in entry["obtained_from"] and "7609310" in entry["obtained_from"]
    assert "Police force area data tables" in entry["obtained_from"]
    assert "malicious communications" in entry["processing"]


# ---------------------------------------------------------------------------------------------
# Property: a pooled peer rate lies between the peers' own rates


# ---------------------------------------------------------------------------------------------
# The real ONS tables (skipped when ../shared/data is not beside the checkout)


@pytest.fixture(scope="module")
def real(shared_data, forces) -> pd.DataFrame:
    return build_indicators(shared_data, forces)


def test_real_cheshire_counts(real):
    assert value(real, CHESHIRE, OFFENCES, PERIOD_2023) == 13_691
    assert value(real, CHESHIRE, OFFENCES, PERIOD_2022) == 16_097


def test_real_england_and_wales_is_the_43_force_sum_without_btp(real):
    assert value(real, ENGLAND_AND_WALES, OFFENCES, PERIOD_2023) == 663_227
    assert value(real, ENGLAND_AND_WALES, OFFENCES, PERIOD_2022) == 706_997
    assert "(663,526) includes 299 BTP offences" in source(real, ENGLAND_AND_WALES, OFFENCES, PERIOD_2023)
    assert "(707,267) includes 270 BTP offences" in source(real, ENGLAND_AND_WALES, OFFENCES, PERIOD_2022)
    # The dataset description quotes the same BTP figures.
    assert (
        "270 offences in the year ending December 2022, 299 in the year ending December 2023"
        in (ind.INDICATOR_DATASET["processing"])
    )


def test_real_every_force_and_comparator_is_present(real, forces):
    for period in (PERIOD_2022, PERIOD_2023):
        rows = real[(real["indicator"] == OFFENCES) & (real["period"] == period)]
        assert set(forces["code"]) <= set(rows["area_code"])
        assert rows["area_type"].value_counts().to_dict() == {
            "force": 43,
            "region": 9,
            "country": 2,
            "england_and_wales": 1,
        }


def test_real_population_matches_the_ons_england_and_wales_totals(real):
    # ONS mid-2023 estimates: England and Wales 60,854,727 people, 49,657,862 aged 16+ (PROVENANCE.md §3).
    assert value(real, ENGLAND_AND_WALES, "population_all_ages", POPULATION_PERIOD) == 60_854_727
    assert value(real, ENGLAND_AND_WALES, POPULATION_16PLUS, POPULATION_PERIOD) == 49_657_862


def test_real_every_rate_is_count_over_population_16plus_times_1000(real):
    for code in real["area_code"].unique():
        population = value(real, code, POPULATION_16PLUS, POPULATION_PERIOD)
        for period in (PERIOD_2022, PERIOD_2023):
            assert value(real, code, RATE, period) == value(real, code, OFFENCES, period) / population * 1000


def test_real_build_validates_and_round_trips(real, forces, tmp_path):
    path = tmp_path / "indicators.csv"
    path.write_text(indicators_csv(real), encoding="utf-8")
    back = read_indicators(path, force_codes=forces["code"])
    pd.testing.assert_frame_equal(back, real, check_exact=True)
    assert back["value"].notna().all()
