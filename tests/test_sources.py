"""The one sources registry (data/sources.csv): it loads, every cited id is in it, bad files are refused,
and data/scenarios/SOURCES.md is generated from it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from coverage import paths
from coverage.build.sources import (
    CURATED_SOURCES_CSV,
    TABLE_PLACEHOLDER,
    mark_planner_use,
    merge_registry,
    planner_input_files,
    read_curated_sources,
    registry_csv,
    render_sources_markdown,
)
from coverage.errors import InputError, InputErrors
from coverage.model.catalogue import DATASETS
from coverage.model.register import SOURCES_COLUMNS, load_register, split_list
from coverage.sources import (
    REGISTRY_COLUMNS,
    SOURCE_ID_PATTERN,
    SOURCES_CSV,
    SOURCES_TABLE_COLUMNS,
    Source,
    check_source_ids,
    load_registry,
    parse_registry,
    source_ids_in_text,
    sources_table,
    unknown_source_ids,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "services" / "sources.csv"
SOURCES_MD = paths.DATA_DIR / "scenarios" / "SOURCES.md"


def fixture_rows() -> list[list[str]]:
    with FIXTURE.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def as_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def problems(text: str) -> list[str]:
    with pytest.raises(InputErrors) as caught:
        parse_registry(text)
    return caught.value.problems


# ---------------------------------------------------------------------------------------------
# The shipped registry


def test_shipped_registry_loads():
    registry = load_registry()
    assert SOURCES_CSV == paths.SOURCES_CSV == paths.DATA_DIR / "sources.csv"
    assert len(registry) > 200
    assert all(SOURCE_ID_PATTERN.match(sid) and source.id == sid for sid, source in registry.items())
    assert list(registry) == sorted(registry)
    assert {sid[0] for sid in registry} == {"D", "P", "R", "S", "V"}
    assert load_registry() is load_registry()  # read once
    with pytest.raises(TypeError):
        registry["X001"] = registry["R001"]  # type: ignore[index]  # read-only


def test_every_register_citation_is_in_the_registry():
    registry = load_registry()
    register = pd.read_csv(paths.SERVICES_CSV, dtype=str, keep_default_na=False)
    cited = {sid for cell in register["source_ids"] for sid in split_list(cell)}
    assert cited and unknown_source_ids(cited) == []
    assert all("register" in registry[sid].used_for for sid in cited)
    # Ids named in the register's notes are in the registry too.
    assert unknown_source_ids(source_ids_in_text(" ".join(register["notes"]))) == []


@pytest.mark.parametrize("preset", sorted(paths.SCENARIO_PRESETS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_id_a_preset_cites_is_in_the_registry(preset):
    cited = source_ids_in_text(preset.read_text(encoding="utf-8"))
    assert cited, preset.name
    assert unknown_source_ids(cited) == [], preset.name


def test_every_source_a_planner_input_cites_is_marked_planner():
    registry = load_registry()
    files = planner_input_files()
    assert any(path.parent == paths.SCENARIO_PRESETS_DIR for path in files)
    cited = {sid for path in files for sid in source_ids_in_text(path.read_text(encoding="utf-8"))}
    assert {"P001", "S055"} <= cited
    assert unknown_source_ids(cited) == []
    assert [sid for sid in cited if "planner" not in registry[sid].used_for] == []
    # Every P source is the planner's.
    assert all("planner" in s.used_for for sid, s in registry.items() if sid.startswith("P"))


def test_a_planner_input_citing_an_unknown_id_stops_the_build(tmp_path):
    preset = tmp_path / "typo.yaml"
    preset.write_text("salary:\n  value: 1\n  source: Q123 (pay scale); P001\n", encoding="utf-8")
    registry = dict(load_registry())
    with pytest.raises(InputErrors) as caught:
        mark_planner_use(registry, [preset])
    assert caught.value.problems == [f"{preset}: unknown source id 'Q123' (did you mean 'S123'?)"]
    preset.write_text("source: S099; P001\n", encoding="utf-8")
    marked = mark_planner_use(registry, [preset])
    assert marked["S099"].used_for == ("register", "planner") and registry["S099"].used_for == ("register",)


def test_every_catalogue_source_is_an_indicator_source_in_the_registry():
    registry = load_registry()
    cited = {sid for entry in DATASETS for sid in split_list(entry.source_ids)}
    assert {"D001", "D002", "S145"} <= cited
    for sid in cited:
        assert "indicators" in registry[sid].used_for, sid
    by_key = {entry.key: entry for entry in DATASETS}
    assert "D001" in by_key["recorded_crime"].source_ids and "S145" in by_key["indicators"].source_ids


def test_sources_table_has_every_source_with_its_uses():
    table = sources_table(load_registry())
    assert list(table.columns) == SOURCES_TABLE_COLUMNS
    assert table.loc[table["source_id"] == "S145", "used_for"].item() == "register;planner;indicators"
    assert len(table) == len(load_registry())


# ---------------------------------------------------------------------------------------------
# Reading a registry file


def test_fixture_registry_reads_in_file_order():
    registry = parse_registry(FIXTURE.read_text())
    assert list(registry) == ["S001", "S002", "R001"]
    assert registry["S002"] == Source(
        "S002",
        "Paper One",
        "Clinic story",
        "c.2019",
        "https://example.org/a",
        "also at https://example.org/b",
        ("register", "planner"),
    )
    assert registry["R001"].url == ""


def test_duplicate_id_is_refused():
    rows = fixture_rows()
    rows[2][0] = "S001"
    assert problems(as_text(rows)) == ["sources.csv line 3, field 'id': duplicate id 'S001' (first used on line 2)"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("id", "S1", "'S1' is not a source id (a capital letter and three digits, such as S050)"),
        ("id", "s001", "is not a source id"),
        ("id", "SS001", "is not a source id"),
        ("id", "", "is not a source id"),
        ("title", "", "title is missing"),
        ("publisher", "  ", "publisher is missing"),
        ("url", "javascript:alert(1)", "is not a single http(s) web address"),
        ("url", "https://a.org ; https://b.org", "is not a single http(s) web address"),
        ("used_for", "", "give at least one of register, planner, indicators"),
        ("used_for", "register;costs", "'costs' is not one of register, planner, indicators"),
        ("used_for", "planner;planner", "a use is listed twice"),
        ("note", "bell\x07", "control character U+0007"),
    ],
)
def test_malformed_row_is_refused_naming_line_and_field(field, value, expected):
    rows = fixture_rows()
    rows[1][rows[0].index(field)] = value
    [problem] = problems(as_text(rows))
    assert problem.startswith(f"sources.csv line 2, field '{field}': ")
    assert expected in problem


def test_wrong_header_or_no_rows_is_refused():
    rows = fixture_rows()
    rows[0][0] = "source_id"  # the old data/services/sources.csv header
    [problem] = problems(as_text(rows))
    assert problem.startswith("sources.csv line 1: the header should be " + ",".join(REGISTRY_COLUMNS))
    assert problems(as_text(fixture_rows()[:1])) == ["sources.csv: has the header but no sources"]
    assert "expected 7 fields" in problems(as_text([*fixture_rows(), ["S009", "too", "short"]]))[0]


def test_load_registry_refuses_a_malformed_or_missing_file(tmp_path):
    bad = tmp_path / "sources.csv"
    rows = fixture_rows()
    rows[3][0] = "S002"
    bad.write_text(as_text(rows), encoding="utf-8")
    with pytest.raises(InputError, match="duplicate id 'S002'"):
        load_registry(bad)
    with pytest.raises(InputError, match="not found"):
        load_registry(tmp_path / "nowhere.csv")


# ---------------------------------------------------------------------------------------------
# Checking ids


def test_unknown_ids_are_sorted_and_listed_once():
    registry = parse_registry(FIXTURE.read_text())
    assert unknown_source_ids(["S009", "S001", "P001", "S009"], registry) == ["P001", "S009"]
    assert unknown_source_ids([], registry) == []


def test_unknown_id_message_names_the_field_and_suggests_the_near_id():
    with pytest.raises(InputError) as caught:
        check_source_ids(["S054", "S99"], field="unit_models[0].roles[1].salary.source")
    error = caught.value
    assert error.where == "sources"
    assert error.reason == "unit_models[0].roles[1].salary.source: unknown source id 'S99' (did you mean 'S099'?)"
    registry = parse_registry(FIXTURE.read_text())
    with pytest.raises(InputError, match=r"^sources: salary: unknown source id 'Q123'$"):
        check_source_ids(["Q123"], field="salary", registry=registry)
    with pytest.raises(InputError, match=r"unknown source id 's002' \(did you mean 'S002'\?\)"):
        check_source_ids(["s002"], field="salary", registry=registry)
    check_source_ids(["S001", "R001"], field="salary", registry=registry)  # known ids pass


def test_source_ids_in_free_text():
    assert source_ids_in_text("S054 (DS lead); S154 (salary), and S054 again; P003/P004") == [
        "S054",
        "S154",
        "P003",
        "P004",
    ]
    # Force codes, postcodes and grades are not ids.
    assert source_ids_in_text("E23000006, SO14 1AA, band 8a, A6.7, S0541, XS054") == []


def test_register_loader_refuses_a_row_citing_an_unknown_id_naming_row_and_field(tmp_path):
    lines = paths.SERVICES_CSV.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if ",S151;S152;" in line)
    lines[number] = lines[number].replace(",S151;S152;", ",S151;S15;", 1)
    forces = pd.read_csv(paths.FORCES_CSV, dtype=str, keep_default_na=False)
    with pytest.raises(InputErrors) as caught:
        load_register("\n".join(lines).encode(), force_codes=forces["code"])  # against data/sources.csv
    assert caught.value.problems == [
        f"register.csv line {number + 1}, field 'source_ids': unknown source id 'S15' (did you mean 'S015'?); "
        "not in data/sources.csv"
    ]


# ---------------------------------------------------------------------------------------------
# Building the registry and SOURCES.md


def research_table(*rows: dict[str, str]) -> pd.DataFrame:
    blank = dict.fromkeys(SOURCES_COLUMNS, "")
    return pd.DataFrame([{**blank, **row} for row in rows], columns=SOURCES_COLUMNS)


def source(sid: str, *, title: str = "Title", date: str = "2024", note: str = "") -> Source:
    return Source(sid, "Pub", title, date, "", note, ("planner",))


def test_merge_keeps_the_research_wording_joins_notes_and_uses():
    research = research_table(
        {"source_id": "S001", "publisher": "Pub", "title": "Title", "date": "2024", "note": "excerpt only"}
    )
    merged = merge_registry(research, {"S001": source("S001", note="salary"), "P001": source("P001")})
    assert list(merged) == ["P001", "S001"]
    assert merged["S001"].note == "excerpt only; salary"
    assert merged["S001"].used_for == ("register", "planner")
    assert merged["P001"].used_for == ("planner",)


def test_merge_refuses_an_id_whose_inputs_disagree():
    research = research_table(
        {"source_id": "S001", "publisher": "Pub", "title": "Evaluation & Exploration", "date": "2024"}
    )
    with pytest.raises(InputErrors) as caught:
        merge_registry(research, {"S001": source("S001", title="Evaluation and Exploration", date="c.2024")})
    assert caught.value.problems == [
        "curated_sources.csv: source S001 has a different title from the register's sources (research source "
        "list): 'Evaluation and Exploration' here, 'Evaluation & Exploration' there; make them the same",
        "curated_sources.csv: source S001 has a different date from the register's sources (research source "
        "list): 'c.2024' here, '2024' there; make them the same",
    ]


def test_curated_sources_may_not_claim_the_register(tmp_path):
    curated = tmp_path / "curated.csv"
    rows = fixture_rows()
    curated.write_text(as_text(rows[:2]), encoding="utf-8")
    with pytest.raises(InputErrors, match="used_for 'register' is not for this file"):
        read_curated_sources(curated)
    assert all("register" not in s.used_for for s in read_curated_sources(CURATED_SOURCES_CSV).values())


def test_registry_csv_round_trips_and_equals_the_shipped_file():
    registry = load_registry()
    text = registry_csv(registry)
    assert parse_registry(text) == dict(registry)
    assert text == SOURCES_CSV.read_text(encoding="utf-8")


def test_shipped_sources_md_is_generated_from_the_registry():
    assert SOURCES_MD.read_text(encoding="utf-8") == render_sources_markdown(load_registry())


def test_sources_md_lists_the_planner_sources_and_keeps_the_prose():
    registry = load_registry()
    text = render_sources_markdown(registry)
    rows = [line for line in text.splitlines() if line.startswith("| ") and SOURCE_ID_PATTERN.match(line[2:6])]
    listed = [line[2:6] for line in rows]
    assert listed == sorted(sid for sid, s in registry.items() if "planner" in s.used_for)
    assert "P001" in listed and "S145" in listed and "R001" not in listed and "D001" not in listed
    assert "## Demand default (referral rate)" in text and "do not edit by hand" in text
    assert TABLE_PLACEHOLDER not in text
    escaped = render_sources_markdown({"P001": source("P001", note="a | b")}, template=f"x\n{TABLE_PLACEHOLDER}\n")
    assert escaped.splitlines()[-1] == "| P001 | Pub | Title | 2024 |  | a \\| b |"
    with pytest.raises(InputError, match="exactly once"):
        render_sources_markdown(registry, template="no table here")
