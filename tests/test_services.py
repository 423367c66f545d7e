"""Tests of the service register: loading, validation, export, provision classes and the build."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from coverage.errors import InputErrors
from coverage.register_build import build_register, force_code_for_name, force_name_index, parse_source_list
from coverage.services import (
    MAX_ROWS,
    PROVISION_CLASS_LABELS,
    PROVISION_CLASSES,
    PROVISION_RULES,
    REGISTER_COLUMNS,
    SOURCES_COLUMNS,
    export_register_csv,
    load_register,
    load_sources,
    neutralise_formula,
    provision_by_force,
    services_for_force,
    validate_register,
)

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
    defaults = {column: "" for column in REGISTER_COLUMNS}
    defaults.update(coverage="force_wide", status="active", source_ids="S001", confidence="high", last_verified="2026-02")
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


def test_sources_load():
    sources = load_sources(FIXTURES / "sources.csv")
    assert list(sources.columns) == SOURCES_COLUMNS
    assert list(sources["source_id"]) == ["S001", "S002", "R001"]


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


def test_unreadable_csv():
    header = ",".join(REGISTER_COLUMNS)
    message = only_problem(f'{header}\n"{"x" * 200_000}"\n'.encode())
    assert "register.csv line 2" in message and "not a readable CSV" in message


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
        (0, "service_type", "masip", "'masip' is not an allowed service_type; allowed: multi_agency_unit, stalking_clinic"),
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


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("url", "javascript:alert(1)", "is not a single http(s) web address"),
        ("title", "", "title is missing"),
        ("source_id", "s1", "should be capital letters then digits"),
    ],
)
def test_sources_problems(field, value, expected):
    rows = list(csv.reader((FIXTURES / "sources.csv").open(newline="", encoding="utf-8")))
    rows[1][rows[0].index(field)] = value
    with pytest.raises(InputErrors) as caught:
        load_sources(to_csv_bytes(rows))
    assert caught.value.problems[0].startswith(f"sources.csv line 2, field '{field}': ")
    assert expected in caught.value.problems[0]


def test_duplicate_source_id():
    rows = list(csv.reader((FIXTURES / "sources.csv").open(newline="", encoding="utf-8")))
    rows[2][0] = "S001"
    with pytest.raises(InputErrors) as caught:
        load_sources(to_csv_bytes(rows))
    assert caught.value.problems == [
        "sources.csv line 3, field 'source_id': duplicate source_id 'S001' (first used on line 2)"
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


# ---------------------------------------------------------------------------------------------
# Provision classes


def test_provision_classes_and_rules_are_described():
    assert PROVISION_CLASSES == ("multi_agency_unit", "clinic_or_panel", "none_found", "unknown")
    assert set(PROVISION_CLASS_LABELS) == set(PROVISION_CLASSES)
    assert all(rule.endswith(".") for rule in PROVISION_RULES)


def test_fixture_register_classes():
    table = load(FIXTURES / "register.csv")
    result = provision_by_force(table, FORCE_CODES)
    assert list(result.columns) == ["code", "provision_class", "units", "n_services"]
    assert list(result["code"]) == FORCE_CODES
    assert classes(table, FORCE_CODES) == {
        "E23000001": "multi_agency_unit",
        "E23000034": "unknown",
        "E23000035": "none_found",
        "W15000002": "none_found",  # its only unit has ended
    }
    met = result.iloc[0]
    assert met["units"] == "Stalking Threat Assessment Centre (STAC)" and met["n_services"] == 1


@pytest.mark.parametrize("status", ["active", "pilot", "unknown"])
def test_unit_counts_unless_ended(status):
    table = register({"force_codes": "E23000001", "service_type": "multi_agency_unit", "status": status})
    assert classes(table, ["E23000001"]) == {"E23000001": "multi_agency_unit"}


def test_ended_unit_does_not_count_but_shows_the_force_was_searched():
    table = register(
        {"force_codes": "E23000001", "service_type": "multi_agency_unit", "status": "ended"},
        {"force_codes": "E23000001", "service_type": "stalking_clinic", "status": "ended"},
    )
    assert classes(table, ["E23000001"]) == {"E23000001": "none_found"}


def test_unit_beats_clinic_and_clinic_beats_none_found():
    table = register(
        {"force_codes": "E23000001", "service_type": "stalking_clinic", "service_name": "Clinic"},
        {"force_codes": "E23000001", "service_type": "multi_agency_unit", "service_name": "Unit A - detail"},
        {"force_codes": "E23000001", "service_type": "multi_agency_unit", "service_name": "Unit B", "status": "pilot"},
        {"force_codes": "E23000035", "service_type": "stalking_clinic", "service_name": "Panel"},
        {"force_codes": "E23000035", "service_type": "none_found", "status": "unknown"},
    )
    result = provision_by_force(table, ["E23000001", "E23000035"]).set_index("code")
    assert result.loc["E23000001", "provision_class"] == "multi_agency_unit"
    assert result.loc["E23000001", "units"] == "Unit A; Unit B"
    assert result.loc["E23000001", "n_services"] == 2
    assert result.loc["E23000035", "provision_class"] == "clinic_or_panel"


def test_national_rows_do_not_change_a_forces_class():
    table = register(
        {"force_codes": "ALL", "service_type": "multi_agency_unit", "coverage": "national"},
        {"force_codes": "ALL", "service_type": "helpline", "coverage": "national"},
        {"force_codes": "E23000035", "service_type": "none_found", "status": "unknown"},
    )
    assert classes(table, ["E23000001", "E23000035"]) == {"E23000001": "unknown", "E23000035": "none_found"}


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


def test_services_for_force_lists_local_rows_then_national():
    table = load(FIXTURES / "register.csv")
    with_national = services_for_force(table, "E23000001")
    assert list(with_national["service_id"]) == ["E23000001-multi_agency_unit-1", "ALL-helpline-1"]
    local_only = services_for_force(table, "E23000001", include_national=False)
    assert list(local_only["service_id"]) == ["E23000001-multi_agency_unit-1"]
    assert list(services_for_force(table, "E23000034", include_national=False)["service_id"]) == []


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


def test_build_from_fixture_research():
    built, sources = build_register(FIXTURES / "research", fixture_forces())
    assert list(built.columns) == REGISTER_COLUMNS and list(sources.columns) == SOURCES_COLUMNS
    assert list(built["service_id"]) == [
        "E23000001-multi_agency_unit-1",
        "E23000001-stalking_clinic-1",
        "E23000035-none_found-1",
        "W15000002-stalking_clinic-1",
    ]
    unit = built.iloc[0]
    assert unit["service_name"] == "Stalking Threat Assessment Centre (STAC)"
    assert unit["notes"] == "MASIP pilot site; NHSE funded"
    assert unit["coverage"] == "force_wide" and unit["last_verified"] == "2026-02" and unit["funding"] == ""
    clinic = built.iloc[1]
    assert clinic["service_name"] == "Old clinic" and clinic["notes"] == "police, probation; monthly"
    assert built.iloc[3]["coverage"] == "unknown"
    assert built.iloc[2]["source_ids"] == "R001"
    assert "R001" in set(sources["source_id"])
    assert classes(built, FORCE_CODES) == {
        "E23000001": "multi_agency_unit",
        "E23000034": "unknown",  # City of London was not searched in depth
        "E23000035": "none_found",
        "W15000002": "clinic_or_panel",
    }


def test_build_accepts_display_name_for_city_of_london():
    display_names = fixture_forces().replace({"London, City of": "City of London"})
    built, _ = build_register(FIXTURES / "research", display_names)
    assert "E23000034" not in set(built["force_codes"])


def copy_research(tmp_path: Path) -> Path:
    target = tmp_path / "research"
    shutil.copytree(FIXTURES / "research", target)
    return target


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


# ---------------------------------------------------------------------------------------------
# Building from the real research draft

EXPECTED_REAL_CLASSES = {
    "multi_agency_unit": {"E23000001", "E23000030", "E23000006", "E23000023", "E23000008"},
    "clinic_or_panel": {"E23000037", "E23000028", "E23000019"},
    "unknown": {"E23000034"},
}


def test_build_from_real_research_draft():
    if not RESEARCH_DIR.is_dir() or not ONS_FORCE_LOOKUP.exists():
        pytest.skip("the shared research draft and ONS lookup are not present")
    all_forces = ons_forces()
    assert len(all_forces) == 43
    built, sources = build_register(RESEARCH_DIR, all_forces)

    result = provision_by_force(built, list(all_forces["code"]))
    by_class: dict[str, set[str]] = {}
    for code, provision_class in zip(result["code"], result["provision_class"]):
        by_class.setdefault(provision_class, set()).add(code)
    for provision_class, codes in EXPECTED_REAL_CLASSES.items():
        assert by_class[provision_class] == codes
    assert len(by_class["none_found"]) == 34

    known_sources = set(sources["source_id"])
    for service_id, cell in zip(built["service_id"], built["source_ids"]):
        cited = cell.split(";")
        assert cited and set(cited) <= known_sources, service_id

    # The built tables are exactly what the shipped-file loaders accept.
    reloaded_sources = load_sources(sources.to_csv(index=False).encode())
    reloaded = load_register(
        built.to_csv(index=False).encode(), force_codes=all_forces["code"], source_ids=reloaded_sources["source_id"]
    )
    pd.testing.assert_frame_equal(reloaded, built)
