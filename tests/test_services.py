"""Tests of the service register: loading, validation, export, provision classes and the build."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from coverage import paths
from coverage.build import register as register_build
from coverage.build.register import (
    ADDED_NONE_FOUND_NAME,
    CHECK_DATE,
    NONE_FOUND_NAME,
    REVIEW_CHECK_DATE,
    AddedService,
    Correction,
    FundingNote,
    OtherRowRule,
    assemble_register,
    build_register,
    force_code_for_name,
    force_name_index,
    parse_source_list,
)
from coverage.build.sources import mark_planner_use, planner_input_files, read_curated_sources, registry_csv
from coverage.errors import InputErrors
from coverage.export import neutralise_formula
from coverage.model.register import (
    MAX_FIELD_CHARS,
    MAX_LINES,
    MAX_ROWS,
    PROVISION_FLAGS_COLUMNS,
    PROVISION_RULES,
    REGISTER_COLUMNS,
    REGISTER_DIFF_COLUMNS,
    SOURCES_COLUMNS,
    check_upload,
    export_register_csv,
    load_register,
    provision_by_force,
    provision_flags,
    register_diff,
    services_for_force,
    validate_register,
)
from coverage.sources import load_registry, parse_registry
from coverage.vocabulary import PROVISION_CLASS_LABELS, PROVISION_CLASSES

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "services"
SHARED = REPO_ROOT.parent / "shared"
RESEARCH_DIR = SHARED / "research"
ONS_FORCE_LOOKUP = SHARED / "data" / "lookups" / "lad23_to_pfa23_dec2023.csv"


def fixture_forces() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "forces.csv", dtype=str, keep_default_na=False)


def ons_forces() -> pd.DataFrame:
    lookup = pd.read_csv(ONS_FORCE_LOOKUP, dtype=str, keep_default_na=False)
    pairs = lookup[["PFA23CD", "PFA23NM"]].drop_duplicates()
    return pairs.rename(columns={"PFA23CD": "code", "PFA23NM": "name"}).sort_values("code", ignore_index=True)


def forces() -> pd.DataFrame:
    return ons_forces() if ONS_FORCE_LOOKUP.exists() else fixture_forces()


FORCE_CODES = list(fixture_forces()["code"])
SOURCE_IDS = ["S001", "S002", "R001"]


def register_rows() -> list[list[str]]:
    with (FIXTURES / "register.csv").open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def to_csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def register_with(row: int, field: str, value: str) -> bytes:
    """The fixture register with one cell changed; data row ``row`` sits on CSV line ``row + 2``."""
    rows = register_rows()
    rows[row + 1][rows[0].index(field)] = value
    return to_csv_bytes(rows)


def load(data, **kwargs) -> pd.DataFrame:
    return load_register(data, force_codes=FORCE_CODES, source_ids=SOURCE_IDS, **kwargs)


def problems_of(data, **kwargs) -> list[str]:
    with pytest.raises(InputErrors) as caught:
        load(data, **kwargs)
    return caught.value.problems


def only_problem(data, **kwargs) -> str:
    problems = problems_of(data, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


def register(*rows: dict[str, str]) -> pd.DataFrame:
    defaults = dict.fromkeys(REGISTER_COLUMNS, "")
    defaults.update(
        coverage="force_wide", status="active", source_ids="S001", confidence="high", last_verified="2026-02"
    )
    records = [{**defaults, "service_id": f"row-{number}", **row} for number, row in enumerate(rows)]
    return pd.DataFrame(records, columns=REGISTER_COLUMNS)


def classes(table: pd.DataFrame, codes: list[str]) -> dict[str, str]:
    result = provision_by_force(table, codes)
    return dict(zip(result["code"], result["provision_class"]))


# ---------------------------------------------------------------------------------------------
# Loading a valid file


def test_valid_register_loads_as_text_in_schema_order():
    table = load(FIXTURES / "register.csv")
    assert list(table.columns) == REGISTER_COLUMNS
    assert len(table) == 4
    assert table.loc[0, "start_year"] == "2018"
    assert table.loc[0, "end_year"] == ""
    assert all(isinstance(value, str) for value in table.to_numpy().ravel())


def test_register_loads_from_bytes_file_like_and_bom():
    data = (FIXTURES / "register.csv").read_bytes()
    assert len(load(io.BytesIO(data))) == 4
    assert len(load("\ufeff".encode() + data)) == 4


def test_text_is_kept_verbatim_but_stripped():
    table = load(register_with(0, "service_name", "  <script>alert('x')</script> & co  "))
    assert table.loc[0, "service_name"] == "<script>alert('x')</script> & co"


def test_tab_and_newline_are_allowed_in_text():
    table = load(register_with(0, "notes", "first\tline\nsecond line"))
    assert table.loc[0, "notes"] == "first\tline\nsecond line"


def test_list_cells_are_normalised():
    table = load(register_with(0, "source_ids", " S001 ; S002 "))
    assert table.loc[0, "source_ids"] == "S001;S002"


# ---------------------------------------------------------------------------------------------
# File-level problems


def test_undecodable_bytes_are_not_utf8():
    data = (FIXTURES / "register.csv").read_text(encoding="utf-8").replace("Old unit", "Old unit £5").encode("latin-1")
    message = only_problem(data)
    assert "register.csv line 4" in message and "not UTF-8" in message


@pytest.mark.parametrize("data", [b"", b"  \n\n ", b",,,\n , ,\n"])
def test_empty_file(data):
    message = only_problem(data)
    assert message.startswith("register.csv: the file is empty")


def test_text_that_is_not_a_register():
    message = only_problem(b'{"services": []}\n')
    assert "register.csv line 1" in message and "does not look like the service register" in message


def test_a_field_past_the_csv_modules_own_limit_is_named_not_called_unreadable():
    header = ",".join(REGISTER_COLUMNS)
    message = only_problem(f'{header}\n"{"x" * 200_000}"\n'.encode())
    assert message == "register.csv line 2, field 'service_id': is too long; the limit is 10,000 characters"


def test_missing_and_extra_columns_are_named():
    rows = [row[:-1] + ["blue"] for row in register_rows()]
    rows[0][-1] = "colour"
    problems = problems_of(to_csv_bytes(rows))
    assert any("line 1" in p and "missing column(s) 'notes'" in p for p in problems)
    assert any("line 1" in p and "unexpected column(s) 'colour'" in p for p in problems)


def test_row_with_wrong_number_of_fields():
    rows = register_rows()
    rows[2].append("surplus")
    message = only_problem(to_csv_bytes(rows))
    assert message == "register.csv line 3: has 15 field(s) but the header has 14"


def test_too_many_rows():
    rows = register_rows()
    template = rows[1]
    rows[1:] = [[f"unit-{number}"] + template[1:] for number in range(MAX_ROWS + 1)]
    message = only_problem(to_csv_bytes(rows))
    assert "more than 5,000 rows" in message


def test_a_file_of_one_20_mb_field_is_refused_naming_line_and_field():
    import time

    for content in (b"x" * 20_000_000, b'"' + b"x" * 19_999_990 + b'"', b'"' + b"x" * 19_999_990):
        started = time.perf_counter()
        message = only_problem(content, name="one_field.csv")
        print(f"one 20 MB field refused in {time.perf_counter() - started:.2f} s")
        assert message == ("one_field.csv line 1, field 1 of the header: is too long; the limit is 10,000 characters")


def test_a_20_mb_cell_in_a_row_names_its_line_and_column():
    rows = register_rows()
    rows[2][rows[0].index("notes")] = "n" * 19_000_000  # past the csv module's own 131,072-character limit
    assert only_problem(to_csv_bytes(rows)) == (
        "register.csv line 3, field 'notes': is too long; the limit is 10,000 characters"
    )
    rows[2][rows[0].index("notes")] = 'a "quoted" word, ' * 10_000  # quotes and commas inside the cell
    assert only_problem(to_csv_bytes(rows)).startswith("register.csv line 3, field 'notes': is too long")
    assert csv.field_size_limit() == 131_072  # the csv module's process-wide limit is left alone


def test_a_cell_over_the_field_limit_gives_its_length():
    rows = register_rows()
    rows[1][rows[0].index("provider")] = "p" * (MAX_FIELD_CHARS + 1)
    rows[3][rows[0].index("funding")] = "f" * 20_000  # the rest of the file is still read
    assert problems_of(to_csv_bytes(rows)) == [
        "register.csv line 2, field 'provider': is 10,001 characters long; the limit is 10,000 characters",
        "register.csv line 4, field 'funding': is 20,000 characters long; the limit is 10,000 characters",
    ]
    rows = register_rows()
    rows[1][rows[0].index("notes")] = "n" * MAX_FIELD_CHARS
    assert len(load(to_csv_bytes(rows))) == 4  # at the limit is allowed


def test_lines_are_counted_before_parsing():
    header = register_rows()[0]
    content = (",".join(header) + "\n" + "x\n" * MAX_LINES).encode()
    assert (
        only_problem(content)
        == "register.csv: has 50,002 lines; the limit is 50,000 (at most 5,000 rows, some on several lines)"
    )


def test_a_huge_header_name_is_shortened_in_the_message():
    rows = register_rows()
    rows[0][-1] = "c" * 5_000
    messages = " ".join(problems_of(to_csv_bytes(rows)))
    assert "c" * 61 not in messages and "'" + "c" * 60 + "…'" in messages


def test_check_upload_returns_the_register_and_its_formula_cells_and_pickles():
    import pickle

    rows = register_rows()
    rows[1][rows[0].index("provider")] = "=HYPERLINK(1)"
    checked = check_upload(to_csv_bytes(rows), force_codes=FORCE_CODES, source_ids=SOURCE_IDS, name="up.csv")
    again = pickle.loads(pickle.dumps(checked))
    assert len(again.register) == 4 and again.register.equals(checked.register)
    assert again.formula_cells[["line", "column"]].values.tolist() == [[2, "provider"]]
    with pytest.raises(InputErrors) as refused:
        check_upload(b"", force_codes=FORCE_CODES, name="up.csv")
    error = pickle.loads(pickle.dumps(refused.value))  # as a worker process sends it back
    assert error.problems == refused.value.problems and "up.csv: the file is empty" in error.problems[0]


def test_file_name_appears_in_messages():
    message = only_problem(register_with(0, "status", "open"), name="upload.csv")
    assert message.startswith("upload.csv line 2, field 'status'")


def test_line_numbers_follow_multi_line_fields():
    rows = register_rows()
    rows[1][rows[0].index("notes")] = "one\ntwo\nthree"
    rows[2][rows[0].index("status")] = "open"
    message = only_problem(to_csv_bytes(rows))
    assert message.startswith("register.csv line 5, field 'status'")


def test_every_problem_is_reported():
    rows = register_rows()
    rows[1][rows[0].index("status")] = "open"
    rows[3][rows[0].index("confidence")] = ""
    problems = problems_of(to_csv_bytes(rows))
    assert [p.split(":")[0] for p in problems] == [
        "register.csv line 2, field 'status'",
        "register.csv line 4, field 'confidence'",
    ]


# ---------------------------------------------------------------------------------------------
# Field-level problems


@pytest.mark.parametrize(
    ("row", "field", "value", "expected"),
    [
        (
            0,
            "service_type",
            "masip",
            "'masip' is not an allowed service_type; allowed: multi_agency_unit, stalking_clinic",
        ),
        (0, "status", "open", "'open' is not an allowed status; allowed: active, pilot, ended, unknown"),
        (0, "coverage", "full", "'full' is not an allowed coverage; allowed: force_wide, partial, national, unknown"),
        (0, "confidence", "certain", "'certain' is not an allowed confidence; allowed: high, medium, low"),
        (0, "confidence", "", "confidence is missing"),
        (0, "force_codes", "E23000099", "unknown force code 'E23000099'"),
        (0, "force_codes", "", "no force code given"),
        (0, "force_codes", "ALL;E23000001", "cannot be combined"),
        (0, "coverage", "national", "coverage 'national' needs force_codes ALL"),
        (3, "coverage", "force_wide", "contradicts force_codes ALL"),
        (0, "source_ids", "S001;S999", "unknown source id 'S999'"),
        (0, "source_ids", "S01", "unknown source id 'S01' (did you mean 'S001'?); not in data/sources.csv"),
        (0, "source_ids", "", "no source id given"),
        (0, "source_ids", " ; ", "no source id given"),
        (2, "end_year", "2014", "end_year 2014 is before start_year 2015"),
        (0, "start_year", "1989", "year 1989 is outside 1990-2100"),
        (0, "end_year", "2101", "year 2101 is outside 1990-2100"),
        (0, "start_year", "2019.0", "'2019.0' is not a whole year"),
        (0, "start_year", "twenty", "'twenty' is not a whole year"),
        (0, "last_verified", "", "last_verified is missing"),
        (0, "last_verified", "2026-13", "'2026-13' is not a date in the form YYYY-MM or YYYY-MM-DD"),
        (0, "last_verified", "02/2026", "is not a date"),
        (0, "last_verified", "2026-02-30", "is not a date"),
        (0, "service_name", "", "service_name is missing"),
        (0, "service_id", "", "service_id is missing"),
        (0, "service_id", "a b", "may contain only letters"),
        (0, "notes", "ring\x07bell", "control character U+0007"),
        (0, "provider", "carriage\rreturn", "control character U+000D"),
    ],
)
def test_field_problem_names_line_and_field(row, field, value, expected):
    message = only_problem(register_with(row, field, value))
    assert message.startswith(f"register.csv line {row + 2}, field '{field}': ")
    assert expected in message


def test_duplicate_service_id_names_both_lines():
    message = only_problem(register_with(2, "service_id", "E23000001-multi_agency_unit-1"))
    assert message.startswith("register.csv line 4, field 'service_id': duplicate service_id")
    assert "first used on line 2" in message


def test_validate_register_reports_frame_rows_as_csv_lines():
    table = load(FIXTURES / "register.csv")
    table.loc[1, "status"] = "open"
    with pytest.raises(InputErrors) as caught:
        validate_register(table, force_codes=FORCE_CODES, source_ids=SOURCE_IDS, name="edited table")
    assert caught.value.problems == [
        "edited table line 3, field 'status': 'open' is not an allowed status; allowed: active, pilot, ended, unknown"
    ]


# ---------------------------------------------------------------------------------------------
# Export


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+44 20", "'+44 20"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tindent", "'\tindent"),
        ("\rreturn", "'\rreturn"),
        ("Safe name = fine", "Safe name = fine"),
        ("", ""),
    ],
)
def test_neutralise_formula(value, expected):
    assert neutralise_formula(value) == expected


def test_export_neutralises_formula_cells_only():
    table = load(register_with(0, "service_name", '=HYPERLINK("http://x","y")'))
    exported = export_register_csv(table)
    assert exported.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0] == REGISTER_COLUMNS
    assert rows[1][REGISTER_COLUMNS.index("service_name")] == '\'=HYPERLINK("http://x","y")'
    assert rows[2][REGISTER_COLUMNS.index("service_name")] == table.loc[1, "service_name"]


def test_a_downloaded_register_uploads_back_unchanged():
    # The quote a download adds before = + - @ comes off on upload: a round trip changes nothing.
    table = load(register_with(0, "service_name", '=HYPERLINK("http://x","y")'))
    table.loc[1, "provider"] = "+44 helpline"
    table.loc[2, "notes"] = "@mention"
    again = load(export_register_csv(table))
    pd.testing.assert_frame_equal(again, table)


# ---------------------------------------------------------------------------------------------
# Provision classes


def flags_of(table: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    return provision_flags(table, codes).set_index("code")


def test_provision_classes_and_rules_are_described():
    assert PROVISION_CLASSES == (
        "multi_agency_unit",
        "clinic_or_panel",
        "advocacy",
        "other_local",
        "national_only",
        "unknown",
    )
    assert PROVISION_CLASS_LABELS == {
        "multi_agency_unit": "Multi-agency stalking unit",
        "clinic_or_panel": "Multi-agency clinic or panel",
        "advocacy": "Specialist advocacy, no multi-agency unit",
        "other_local": "Perpetrator programme or police team only",
        "national_only": "National services only (none found locally)",
        "unknown": "Unknown (not searched)",
    }
    assert all(rule.endswith(".") for rule in PROVISION_RULES)


def test_fixture_register_classes():
    table = load(FIXTURES / "register.csv")
    result = provision_by_force(table, FORCE_CODES)
    assert list(result.columns) == ["code", "provision_class", "units", "n_services"]
    assert list(result["code"]) == FORCE_CODES
    assert classes(table, FORCE_CODES) == {
        "E23000001": "multi_agency_unit",
        "E23000034": "unknown",
        "E23000035": "national_only",
        "W15000002": "national_only",  # its only unit has ended
        "E23000026": "unknown",
        "E23000017": "unknown",
    }
    met = result.iloc[0]
    assert met["units"] == "Stalking Threat Assessment Centre (STAC)" and met["n_services"] == 1


@pytest.mark.parametrize("status", ["active", "pilot", "unknown"])
def test_unit_counts_unless_ended(status):
    table = register({"force_codes": "E23000001", "service_type": "multi_agency_unit", "status": status})
    assert classes(table, ["E23000001"]) == {"E23000001": "multi_agency_unit"}


def test_ended_services_do_not_count_but_show_the_force_was_searched():
    table = register(
        {"force_codes": "E23000001", "service_type": "multi_agency_unit", "status": "ended"},
        {"force_codes": "E23000001", "service_type": "stalking_clinic", "status": "ended"},
        {"force_codes": "E23000001", "service_type": "advocacy", "status": "ended"},
        {"force_codes": "E23000001", "service_type": "police_team", "status": "ended"},
    )
    assert classes(table, ["E23000001"]) == {"E23000001": "national_only"}
    flags = flags_of(table, ["E23000001"]).loc["E23000001"]
    assert flags["searched"] and not flags[["has_multi_agency_unit", "has_advocacy", "has_police_team"]].any()


@pytest.mark.parametrize(
    ("service_types", "expected"),
    [
        (["police_team", "advocacy", "stalking_clinic", "multi_agency_unit"], "multi_agency_unit"),
        (["police_team", "stalking_clinic", "advocacy"], "clinic_or_panel"),
        (["perpetrator_programme", "advocacy", "none_found"], "advocacy"),
        (["perpetrator_programme"], "other_local"),
        (["police_team", "none_found"], "other_local"),
        (["none_found"], "national_only"),
        (["education"], "national_only"),
        (["funding_stream"], "national_only"),
        (["helpline"], "national_only"),
        ([], "unknown"),
    ],
)
def test_the_best_counting_local_service_sets_the_class(service_types, expected):
    table = register(*({"force_codes": "E23000035", "service_type": kind} for kind in service_types))
    assert classes(table, ["E23000035"]) == {"E23000035": expected}


def test_class_earning_names_and_counts():
    table = register(
        {"force_codes": "E23000001", "service_type": "stalking_clinic", "service_name": "Clinic"},
        {"force_codes": "E23000001", "service_type": "multi_agency_unit", "service_name": "Unit A - detail"},
        {"force_codes": "E23000001", "service_type": "multi_agency_unit", "service_name": "Unit B", "status": "pilot"},
        {"force_codes": "E23000035", "service_type": "police_team", "service_name": "Team"},
        {"force_codes": "E23000035", "service_type": "perpetrator_programme", "service_name": "COBI"},
        {"force_codes": "E23000035", "service_type": "none_found", "status": "unknown"},
    )
    result = provision_by_force(table, ["E23000001", "E23000035", "W15000002"]).set_index("code")
    assert result.loc["E23000001", "units"] == "Unit A; Unit B"
    assert result.loc["E23000001", "n_services"] == 2
    assert result.loc["E23000035", "provision_class"] == "other_local"
    assert result.loc["E23000035", "units"] == "Team; COBI"
    assert result.loc["W15000002", "units"] == "" and result.loc["W15000002", "n_services"] == 0


def test_national_rows_do_not_change_a_forces_class():
    table = register(
        {"force_codes": "ALL", "service_type": "multi_agency_unit", "coverage": "national"},
        {"force_codes": "ALL", "service_type": "advocacy", "coverage": "national"},
        {"force_codes": "ALL", "service_type": "helpline", "coverage": "national"},
        {"force_codes": "E23000035", "service_type": "none_found", "status": "unknown"},
    )
    assert classes(table, ["E23000001", "E23000035"]) == {"E23000001": "unknown", "E23000035": "national_only"}
    assert not flags_of(table, ["E23000001"]).loc["E23000001", "has_advocacy"]


def test_no_rows_is_unknown():
    assert classes(register(), ["E23000001"]) == {"E23000001": "unknown"}
    result = provision_by_force(register(), ["E23000001"])
    assert result.loc[0, "units"] == "" and result.loc[0, "n_services"] == 0


def test_a_row_covering_several_forces_counts_for_each():
    table = register({"force_codes": "E23000001;E23000035", "service_type": "stalking_clinic", "coverage": "partial"})
    assert classes(table, ["E23000001", "E23000035", "W15000002"]) == {
        "E23000001": "clinic_or_panel",
        "E23000035": "clinic_or_panel",
        "W15000002": "unknown",
    }


def test_provision_flags_columns_and_types():
    table = register(
        {"force_codes": "E23000001", "service_type": "multi_agency_unit"},
        {"force_codes": "E23000001", "service_type": "advocacy", "status": "pilot"},
        {"force_codes": "E23000001", "service_type": "perpetrator_programme", "status": "ended"},
        {"force_codes": "E23000035", "service_type": "police_team"},
        {"force_codes": "E23000035", "service_type": "stalking_clinic", "status": "unknown"},
    )
    result = provision_flags(table, ["E23000001", "E23000035", "W15000002"])
    assert list(result.columns) == PROVISION_FLAGS_COLUMNS
    assert list(result["code"]) == ["E23000001", "E23000035", "W15000002"]
    rows = result.set_index("code").to_dict(orient="index")
    assert rows["E23000001"] == {
        "has_multi_agency_unit": True,
        "has_clinic_or_panel": False,
        "has_advocacy": True,
        "has_perpetrator_programme": False,  # ended
        "has_police_team": False,
        "searched": True,
        "provision_class": "multi_agency_unit",
        "status_unknown_types": "",
        "class_status_unknown": False,
    }
    assert rows["E23000035"]["has_clinic_or_panel"] and rows["E23000035"]["has_police_team"]
    assert rows["E23000035"]["status_unknown_types"] == "stalking_clinic"
    assert rows["E23000035"]["class_status_unknown"]
    assert rows["W15000002"]["provision_class"] == "unknown" and not rows["W15000002"]["searched"]
    for column in PROVISION_FLAGS_COLUMNS[1:7] + ["class_status_unknown"]:
        assert result[column].dtype == bool, column


def test_status_unknown_types_lists_types_that_count_only_through_unknown_rows():
    table = register(
        {"force_codes": "E23000001", "service_type": "advocacy", "status": "unknown"},
        {"force_codes": "E23000001", "service_type": "advocacy", "status": "active"},
        {"force_codes": "E23000001", "service_type": "perpetrator_programme", "status": "unknown"},
        {"force_codes": "E23000001", "service_type": "police_team", "status": "unknown"},
        {"force_codes": "E23000001", "service_type": "education", "status": "unknown"},
        {"force_codes": "E23000001", "service_type": "multi_agency_unit", "status": "ended"},
    )
    flags = flags_of(table, ["E23000001"]).loc["E23000001"]
    assert flags["status_unknown_types"] == "perpetrator_programme;police_team"
    assert flags["provision_class"] == "advocacy" and not flags["class_status_unknown"]


def test_services_for_force_lists_local_rows_then_national():
    table = load(FIXTURES / "register.csv")
    with_national = services_for_force(table, "E23000001")
    assert list(with_national["service_id"]) == ["E23000001-multi_agency_unit-1", "ALL-helpline-1"]
    local_only = services_for_force(table, "E23000001", include_national=False)
    assert list(local_only["service_id"]) == ["E23000001-multi_agency_unit-1"]
    assert list(services_for_force(table, "E23000034", include_national=False)["service_id"]) == []


# ---------------------------------------------------------------------------------------------
# Register diff


def diff_records(old: pd.DataFrame, new: pd.DataFrame) -> list[tuple[str, str, str, str, str]]:
    result = register_diff(old, new)
    assert list(result.columns) == REGISTER_DIFF_COLUMNS
    return [tuple(row) for row in result.itertuples(index=False)]


def test_register_diff_of_identical_registers_is_empty():
    table = load(FIXTURES / "register.csv")
    result = register_diff(table, table.copy())
    assert list(result.columns) == REGISTER_DIFF_COLUMNS and result.empty


def test_register_diff_added_removed_and_changed():
    old = register(
        {"service_id": "a", "service_name": "Kept", "status": "active"},
        {"service_id": "b", "service_name": "Gone"},
    )
    new = register(
        {"service_id": "a", "service_name": "Kept", "status": "unknown", "end_year": "2026"},
        {"service_id": "c", "service_name": "New one"},
    )
    assert diff_records(old, new) == [
        ("changed", "a", "end_year", "", "2026"),
        ("changed", "a", "status", "active", "unknown"),
        ("removed", "b", "", "Gone", ""),
        ("added", "c", "", "", "New one"),
    ]


def test_register_diff_compares_text_and_ignores_row_order():
    old = register({"service_id": "a", "start_year": "2019"}, {"service_id": "b", "notes": None})
    new = register({"service_id": "b"}, {"service_id": "a"}).astype(object)
    new["start_year"] = ["", 2019]
    new["notes"] = [float("nan"), " "]
    assert diff_records(old, new) == []


def test_register_diff_column_in_one_version_only_counts_as_blank():
    old = register({"service_id": "a"})
    new = register({"service_id": "a"}).assign(reviewer="AB")
    assert diff_records(old, new) == [("changed", "a", "reviewer", "", "AB")]


@pytest.mark.parametrize("which", ["old", "new"])
def test_register_diff_rejects_repeated_or_missing_ids(which):
    good = register({"service_id": "a"})
    bad = register({"service_id": "a"}, {"service_id": "a"})
    with pytest.raises(ValueError, match=f"the {which} register lists service_id 'a' more than once"):
        register_diff(bad, good) if which == "old" else register_diff(good, bad)
    with pytest.raises(ValueError, match="no service_id column"):
        register_diff(good.drop(columns=["service_id"]), good)


def test_register_diff_of_build_correction():
    """A correction shows up as field changes of one service."""
    built, _ = build_register(FIXTURES / "research", fixture_forces())
    edited = built.copy()
    edited.loc[edited["service_id"] == "W15000002-stalking_clinic-1", ["status", "end_year"]] = ["ended", "2025"]
    assert diff_records(built, edited) == [
        ("changed", "W15000002-stalking_clinic-1", "end_year", "", "2025"),
        ("changed", "W15000002-stalking_clinic-1", "status", "pilot", "ended"),
    ]


# ---------------------------------------------------------------------------------------------
# Building from the research draft (small fixture)


def test_force_names_match_ignoring_case_spacing_and_ampersand():
    index = force_name_index(fixture_forces())
    assert force_code_for_name("  devon  AND cornwall ", index) == "E23000035"
    assert force_code_for_name("City of London", index) == "E23000034"
    assert force_code_for_name("Atlantis", index) is None


def test_source_list_parsing():
    sources = parse_source_list(FIXTURES / "research" / "services_and_demand.md").set_index("source_id")
    assert sources.loc["S001", "title"] == "A unit launches"
    assert sources.loc["S001", "note"] == "excerpt only"
    assert sources.loc["S002", "publisher"] == "Paper One; Paper Two"
    assert sources.loc["S002", "title"] == "Clinic story (with a - dash)"
    assert sources.loc["S002", "url"] == "https://example.org/a"
    assert sources.loc["S002", "note"] == "also at https://example.org/b"
    assert sources.loc["S003", "url"] == ""
    assert sources.loc["S003", "note"] == "URL not captured; secondary citation"
    assert sources.loc["S004", "date"] == "undated (c.2019-22)"
    assert sources.loc["S004", "note"] == "figures (two of them) not read"


@pytest.fixture
def no_overlay(monkeypatch):
    """The build without the verification overlay (which names rows of the real draft, like the Met's)."""
    for name in ("FUNDING", "CORRECTIONS", "ADDED_SERVICES"):
        monkeypatch.setattr(register_build, name, ())


def test_build_from_fixture_research(no_overlay):
    built, sources = build_register(FIXTURES / "research", fixture_forces())
    assert list(built.columns) == REGISTER_COLUMNS and list(sources.columns) == SOURCES_COLUMNS
    assert list(built["service_id"]) == [
        "ALL-education-1",
        "ALL-helpline-1",
        "E23000001-multi_agency_unit-1",
        "E23000001-stalking_clinic-1",
        "E23000017-none_found-1",
        "E23000026-none_found-1",
        "E23000026-police_team-1",
        "E23000035-advocacy-1",
        "W15000002-stalking_clinic-1",
    ]
    rows = built.set_index("service_id")
    unit = rows.loc["E23000001-multi_agency_unit-1"]
    assert unit["service_name"] == "Stalking Threat Assessment Centre (STAC)"
    assert unit["notes"] == "MASIP pilot site; NHSE funded"
    assert unit["coverage"] == "force_wide" and unit["last_verified"] == "2026-02" and unit["funding"] == ""
    clinic = rows.loc["E23000001-stalking_clinic-1"]
    assert clinic["service_name"] == "Old clinic" and clinic["notes"] == "police, probation; monthly"
    assert rows.loc["W15000002-stalking_clinic-1", "coverage"] == "unknown"
    assert rows.loc["E23000035-advocacy-1", "service_type"] == "advocacy"  # draft "isac"
    # National rows: force code ALL, coverage national; "other" typed through the curated rules.
    assert rows.loc["ALL-education-1", ["force_codes", "coverage"]].tolist() == ["ALL", "national"]
    # A draft "nothing found" row: fixed name, low confidence, its sources (none here) plus R001.
    nothing = rows.loc["E23000017-none_found-1"]
    assert nothing["service_name"] == NONE_FOUND_NAME and nothing["source_ids"] == "R001"
    assert nothing["confidence"] == "low" and nothing["status"] == "unknown"
    assert nothing["notes"] == "Research draft: No stalking-specific local service identified in this search"
    # A force with only a police team gets an added none_found row.
    added = rows.loc["E23000026-none_found-1"]
    assert added["service_name"] == ADDED_NONE_FOUND_NAME and added["source_ids"] == "R001"
    assert {"R001", "V001"} <= set(sources["source_id"])
    assert classes(built, FORCE_CODES) == {
        "E23000001": "multi_agency_unit",
        "E23000034": "unknown",  # City of London was not searched in depth
        "E23000035": "advocacy",
        "W15000002": "clinic_or_panel",
        "E23000026": "other_local",
        "E23000017": "national_only",
    }


def test_build_reports_what_it_left_out_and_unused_curation():
    built = assemble_register(FIXTURES / "research", fixture_forces())
    assert built.left_out == [
        "service_register_draft.csv line 6: City of London: 'nothing found' row left out: "
        "the force was not searched in depth"
    ]
    # The real curation names rows the small fixture does not have.
    assert any("Durham" in item for item in built.unused_curation)


def test_build_accepts_display_name_for_city_of_london():
    display_names = fixture_forces().replace({"London, City of": "City of London"})
    built = assemble_register(FIXTURES / "research", display_names)
    # The draft's City "nothing found" row is still left out (the research did not search the City); the
    # City's only row is the December 2026 review's none_found row, which cites that search, not R001.
    assert any("City of London: 'nothing found' row left out" in item for item in built.left_out)
    city = built.register[built.register["force_codes"] == "E23000034"]
    assert list(city["service_id"]) == ["E23000034-none_found-1"]
    assert "R001" not in city.iloc[0]["source_ids"].split(";")
    assert city.iloc[0]["last_verified"] == REVIEW_CHECK_DATE


def copy_research(tmp_path: Path, source: Path = FIXTURES / "research") -> Path:
    target = tmp_path / "research"
    shutil.copytree(source, target)
    return target


def append_draft_row(research: Path, line: str) -> int:
    draft = research / "service_register_draft.csv"
    text = draft.read_text(encoding="utf-8")
    text = text if text.endswith("\n") else text + "\n"
    draft.write_text(text + line + "\n", encoding="utf-8")
    return len(text.splitlines()) + 1


def test_build_rejects_unmatched_force_name(tmp_path):
    research = copy_research(tmp_path)
    draft = research / "service_register_draft.csv"
    draft.write_text(draft.read_text(encoding="utf-8").replace("Gwent,", "Gwentshire,"), encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        build_register(research, fixture_forces())
    assert caught.value.problems == [
        "service_register_draft.csv line 7, field 'force_name': 'Gwentshire' matches no police force area name"
    ]


def test_build_rejects_unit_without_source(tmp_path):
    research = copy_research(tmp_path)
    draft = research / "service_register_draft.csv"
    draft.write_text(draft.read_text(encoding="utf-8").replace(",pilot,S003;S004,", ",pilot,,"), encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        build_register(research, fixture_forces())
    assert caught.value.problems == ["service_register_draft.csv line 7, field 'source_id': no source id given"]


def test_build_rejects_malformed_source_entry(tmp_path):
    research = copy_research(tmp_path)
    report = research / "services_and_demand.md"
    text = report.read_text(encoding="utf-8").replace("Hansard - *A speech*", "Hansard - A speech")
    report.write_text(text, encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        build_register(research, fixture_forces())
    assert caught.value.problems[0].startswith("services_and_demand.md line 15: source entry not in the form")


def test_build_rejects_an_unmapped_other_row(tmp_path):
    research = copy_research(tmp_path)
    line = append_draft_row(research, "Gwent,other,Stalking awareness roadshow,Gwent Police,full,2025,,active,S003,low")
    with pytest.raises(InputErrors) as caught:
        build_register(research, fixture_forces())
    [problem] = caught.value.problems
    assert problem.startswith(f"service_register_draft.csv line {line}, field 'service_type': 'other' row ")
    assert "Stalking awareness roadshow" in problem and "OTHER_ROW_RULES" in problem


def test_build_rejects_an_other_row_matching_two_rules(tmp_path, monkeypatch):
    rules = (OtherRowRule("Gwent", "roadshow", "police_team", "x"), OtherRowRule("Gwent", "awareness", None, "y"))
    monkeypatch.setattr(register_build, "OTHER_ROW_RULES", rules)
    research = copy_research(tmp_path)
    append_draft_row(research, "Gwent,other,Stalking awareness roadshow,Gwent Police,full,2025,,active,S003,low")
    with pytest.raises(InputErrors, match="matches 2 curated rules"):
        build_register(research, fixture_forces())


def test_other_rules_can_leave_a_row_out_with_a_reason(tmp_path, monkeypatch):
    rules = (*register_build.OTHER_ROW_RULES, OtherRowRule("Gwent", "roadshow", None, "an awareness event"))
    monkeypatch.setattr(register_build, "OTHER_ROW_RULES", rules)
    research = copy_research(tmp_path)
    line = append_draft_row(research, "Gwent,other,Stalking awareness roadshow,Gwent Police,full,2025,,active,S003,low")
    built = assemble_register(research, fixture_forces())
    assert (
        f"service_register_draft.csv line {line}: Gwent: 'Stalking awareness roadshow' left out: an awareness event"
        in built.left_out
    )
    assert "Stalking awareness roadshow" not in set(built.register["service_name"])


def test_funding_corrections_and_added_services_are_applied(monkeypatch):
    monkeypatch.setattr(register_build, "FUNDING", (FundingNote("Gwent", "stalking panel", "Gwent PCC"),))
    monkeypatch.setattr(
        register_build,
        "CORRECTIONS",
        (
            Correction(
                "Gwent",
                "stalking panel",
                "panel ended in 2025 (V002).",
                changes=(("status", "ended"), ("end_year", "2025")),
                add_sources=("V002",),
            ),
            Correction(
                "Metropolitan Police", "Stalking Threat Assessment Centre", "confirmed (V001).", add_sources=("V001",)
            ),
        ),
    )
    monkeypatch.setattr(
        register_build,
        "ADDED_SERVICES",
        (
            AddedService(
                "Gwent",
                {
                    "service_type": "advocacy",
                    "service_name": "New ISAC",
                    "coverage": "unknown",
                    "status": "active",
                    "source_ids": "V003",
                    "confidence": "medium",
                },
            ),
        ),
    )
    built = assemble_register(FIXTURES / "research", fixture_forces())
    assert all(item.startswith("other-row rule") for item in built.unused_curation)
    rows = built.register.set_index("service_id")
    panel = rows.loc["W15000002-stalking_clinic-1"]
    assert panel[["status", "end_year", "funding", "source_ids", "last_verified"]].tolist() == [
        "ended",
        "2025",
        "Gwent PCC",
        "S003;S004;V002",
        CHECK_DATE,
    ]
    assert panel["notes"].endswith("against stored copies of public pages: panel ended in 2025 (V002).")
    assert rows.loc["E23000001-multi_agency_unit-1", "source_ids"] == "S001;S002;V001"
    new = rows.loc["W15000002-advocacy-1"]
    assert new["service_name"] == "New ISAC" and new["last_verified"] == CHECK_DATE
    # The panel has ended, but the added advocacy counts: no none_found row for Gwent.
    assert "W15000002-none_found-1" not in rows.index


def test_ended_specialist_service_leads_to_an_added_none_found_row(monkeypatch):
    monkeypatch.setattr(
        register_build,
        "CORRECTIONS",
        (Correction("Gwent", "stalking panel", "ended.", changes=(("status", "ended"),)),),
    )
    built, _ = build_register(FIXTURES / "research", fixture_forces())
    assert "W15000002-none_found-1" in set(built["service_id"])
    assert classes(built, ["W15000002"]) == {"W15000002": "national_only"}


def test_a_curated_fragment_matching_two_rows_is_an_error(monkeypatch):
    monkeypatch.setattr(register_build, "FUNDING", (FundingNote("Metropolitan Police", "c", "x"),))
    with pytest.raises(InputErrors, match="matches 2 draft rows"):
        build_register(FIXTURES / "research", fixture_forces())


def test_a_correction_citing_an_unknown_source_is_an_error(monkeypatch):
    monkeypatch.setattr(
        register_build, "CORRECTIONS", (Correction("Gwent", "stalking panel", "x", add_sources=("V999",)),)
    )
    with pytest.raises(InputErrors, match="unknown source id"):
        build_register(FIXTURES / "research", fixture_forces())


# ---------------------------------------------------------------------------------------------
# Building from the real research draft

DATA_SERVICES = REPO_ROOT / "data" / "services"
EXPECTED_REAL_CLASSES = {
    # Durham's D-SIP was a multi-agency unit in the draft; the verification (data/services/CHANGES.md)
    # reclassified it as a multi-agency panel: no co-located team or clinical perpetrator work was found.
    "multi_agency_unit": {"E23000001", "E23000030", "E23000006", "E23000023"},
    "clinic_or_panel": {"E23000037", "E23000028", "E23000019", "E23000008"},
}
# The December 2026 review searched the City of London (none found): no force is left unknown.
CITY_OF_LONDON = "E23000034"


def needs_real_research():
    if not RESEARCH_DIR.is_dir() or not ONS_FORCE_LOOKUP.exists():
        pytest.skip("the shared research draft and ONS lookup are not present")


@pytest.fixture(scope="module")
def real_build():
    needs_real_research()
    return assemble_register(RESEARCH_DIR, ons_forces())


def test_real_build_covers_every_force(real_build):
    codes = list(ons_forces()["code"])
    assert len(codes) == 43
    local_codes = {code for cell in real_build.register["force_codes"] if cell != "ALL" for code in cell.split(";")}
    assert set(codes) <= local_codes  # every force, City of London included, has a row saying what was found


def test_real_build_every_row_resolves_to_a_source(real_build):
    known_sources = set(real_build.sources["source_id"])
    for service_id, cell in zip(real_build.register["service_id"], real_build.register["source_ids"]):
        cited = [item for item in cell.split(";") if item]
        assert cited and set(cited) <= known_sources, service_id


def test_real_build_classes(real_build):
    result = provision_by_force(real_build.register, list(ons_forces()["code"]))
    by_class: dict[str, set[str]] = {}
    for code, provision_class in zip(result["code"], result["provision_class"]):
        by_class.setdefault(provision_class, set()).add(code)
    for provision_class, codes in EXPECTED_REAL_CLASSES.items():
        assert by_class[provision_class] == codes, provision_class
    assert "unknown" not in by_class  # every force was searched
    assert CITY_OF_LONDON in by_class["national_only"]
    assert set(by_class) == set(PROVISION_CLASSES) - {"unknown"}
    assert sum(len(codes) for codes in by_class.values()) == 43


def test_real_build_every_searched_force_says_what_was_found(real_build):
    register = real_build.register
    flags = provision_flags(register, list(ons_forces()["code"])).set_index("code")
    for code, row in flags.iterrows():
        assert row["searched"], code
        specialist = row[
            ["has_multi_agency_unit", "has_clinic_or_panel", "has_advocacy", "has_perpetrator_programme"]
        ].any()
        has_none_found = ((register["force_codes"] == code) & (register["service_type"] == "none_found")).any()
        assert specialist != has_none_found, code


def test_real_build_uses_every_curated_entry_and_leaves_out_only_listed_rows(real_build):
    assert real_build.unused_curation == []
    assert [item.split(": ")[1] for item in real_build.left_out] == ["City of London", "Devon and Cornwall", "Kent"]


def test_real_build_notes_cite_only_the_rows_own_sources(real_build):
    for _, row in real_build.register.iterrows():
        cited_in_notes = set(re.findall(r"\b[SRV]\d{3}\b", row["notes"]))
        assert cited_in_notes <= set(row["source_ids"].split(";")), row["service_id"]


def test_real_build_types_and_national_rows(real_build):
    register = real_build.register.set_index("service_id")
    national = register[register["force_codes"] == "ALL"]
    assert set(national["coverage"]) == {"national"}
    assert sorted(national["service_type"]) == ["advocacy", "education", "funding_stream", "helpline"]
    assert set(register["service_type"]) <= set(register_build.DRAFT_SERVICE_TYPES.values()) | {
        "none_found",
        "police_team",
        "education",
        "funding_stream",
    }
    # Draft rows without source ids take table A's ids plus R001.
    assert register.loc["W15000002-none_found-1", "source_ids"].startswith("S129;R001")
    assert register.loc["E23000012-none_found-1", "source_ids"].startswith("R001")


def test_real_build_rows_reload_unchanged(real_build):
    reloaded_registry = parse_registry(registry_csv(real_build.registry))
    assert reloaded_registry == real_build.registry
    reloaded = load_register(
        real_build.register.to_csv(index=False).encode(), force_codes=ons_forces()["code"], source_ids=reloaded_registry
    )
    pd.testing.assert_frame_equal(reloaded, real_build.register)


def test_real_build_registry_holds_the_register_sources_and_the_curated_ones(real_build):
    registry = real_build.registry
    assert set(real_build.sources["source_id"]) <= set(registry)
    assert all("register" in registry[sid].used_for for sid in real_build.sources["source_id"])
    curated = read_curated_sources()
    assert set(curated) <= set(registry)
    # An id in both inputs keeps the research's wording, both notes and both uses.
    s038 = registry["S038"]
    assert s038.used_for == ("register", "planner")
    assert s038.note.startswith(real_build.sources.set_index("source_id").loc["S038", "note"])
    assert s038.note.endswith(curated["S038"].note)
    assert registry["S145"].used_for == ("register", "planner", "indicators")
    assert registry["P001"].used_for == ("planner",) and registry["D001"].used_for == ("indicators",)


def test_real_build_rejects_an_unmapped_other_row(tmp_path):
    needs_real_research()
    research = copy_research(tmp_path, RESEARCH_DIR)
    line = append_draft_row(
        research, "Suffolk,other,Stalking awareness roadshow,Suffolk Police,full,2025,,active,S171,low"
    )
    with pytest.raises(InputErrors) as caught:
        build_register(research, ons_forces())
    [problem] = caught.value.problems
    assert problem.startswith(f"service_register_draft.csv line {line}, field 'service_type': 'other' row ")


VERIFICATION_RESULTS = {"confirmed", "contradicted", "not_found", "partly_confirmed"}


def test_verification_log_matches_the_build(real_build):
    path = DATA_SERVICES / "verification.csv"
    if not path.exists():
        pytest.skip("data/services/verification.csv is not present")
    log = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(log.columns) == ["service_id", "claim_checked", "result", "evidence", "checked_on", "note"]
    assert set(log["result"]) <= VERIFICATION_RESULTS
    assert set(log["checked_on"]) == {CHECK_DATE, REVIEW_CHECK_DATE}
    built_ids = set(real_build.register["service_id"])
    logged = {item for item in log["service_id"] if item}
    assert logged <= built_ids, logged - built_ids
    for checked_on in (CHECK_DATE, REVIEW_CHECK_DATE):
        checked = set(real_build.register.loc[real_build.register["last_verified"] == checked_on, "service_id"])
        logged_then = {item for item, day in zip(log["service_id"], log["checked_on"]) if item and day == checked_on}
        assert checked <= logged_then, (checked_on, checked - logged_then)
    # Every source added by the verification is cited in the log.
    verification_sources = {s for s in real_build.sources["source_id"] if s.startswith("V")}
    cited = {source for text in log["evidence"] for source in verification_sources if f"[{source}]" in text}
    assert cited == verification_sources


def test_real_build_counts_the_nhs_england_480k_once(real_build):
    # MOPAC PCD 1653 (S039): the NHS England money is mainly for stalking advocacy, so only the London
    # Stalking Support Service row carries it; the STAC unit keeps MOPAC's business-as-usual funding.
    met = real_build.register[real_build.register["force_codes"] == "E23000001"].set_index("service_id")
    carrying = [service_id for service_id, funding in met["funding"].items() if "480k" in funding]
    assert carrying == ["E23000001-advocacy-1"]
    unit = met.loc["E23000001-multi_agency_unit-1"]
    # The stated exception to the funding rule: active, with its reasons and sources in the note.
    assert unit["status"] == "active" and "exception to the funding rule" in unit["notes"]
    assert {"S038", "S039", "S041", "V001"} <= set(unit["source_ids"].split(";"))
    assert met.loc["E23000001-advocacy-1", "status"] == "unknown"


def test_real_build_review_changes(real_build):
    rows = real_build.register.set_index("service_id")
    reviewed = rows[rows["last_verified"] == REVIEW_CHECK_DATE]
    # 14 corrected rows and 4 added ones, each logged in verification.csv.
    assert len(reviewed) == 18
    # Services the review found: three police teams and the City's none_found row.
    for service_id, source in [
        ("E23000033-police_team-1", "V026"),
        ("E23000035-police_team-1", "V028"),
        ("E23000008-police_team-1", "S068"),
        ("E23000034-none_found-1", "V030"),
    ]:
        assert source in rows.loc[service_id, "source_ids"].split(";"), service_id
    # The funding rule applied to every row: Derbyshire's three-year funding from Aug 2022 has ended.
    assert rows.loc["E23000018-advocacy-1", ["status", "end_year"]].tolist() == ["unknown", "2025"]
    assert rows.loc["E23000019-stalking_clinic-1", "status"] == "active"  # still running in Apr 2024 (V022)
    assert rows.loc["E23000028-advocacy-1", "coverage"] == "partial"
    assert rows.loc["E23000037-stalking_clinic-1", "confidence"] == "low"
    # New sources run on from the November check, with no gap.
    review_sources = sorted(s for s in real_build.sources["source_id"] if s.startswith("V") and int(s[1:]) >= 20)
    assert review_sources == [f"V{number:03d}" for number in range(20, 33)]


def test_shipped_register_is_the_build(real_build):
    shipped_register = DATA_SERVICES / "register.csv"
    if not shipped_register.exists():
        pytest.skip("data/services/register.csv is not present")
    shipped = pd.read_csv(shipped_register, dtype=str, keep_default_na=False)
    assert register_diff(shipped, real_build.register).empty
    assert dict(load_registry(paths.SOURCES_CSV)) == mark_planner_use(real_build.registry, planner_input_files())
    assert not (DATA_SERVICES / "sources.csv").exists()  # the one registry is data/sources.csv
