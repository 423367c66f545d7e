"""`python -m coverage`: exit codes, one-line reasons on stderr, and a reproducible data build."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import pytest

from coverage import paths
from coverage.build.data import build_data


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "coverage", *args],
        cwd=paths.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_validate_shipped_files_succeeds():
    result = run_cli("validate", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True


def test_validate_good_boundaries_exits_0(shared_data):
    result = run_cli(
        "validate", "--boundaries", str(shared_data / "boundaries/original/PFA_DEC_2023_EW_BSC.shp"), "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["boundaries"]
    assert report["forces"] == 43 and report["code_field"] == "PFA23CD" and report["crs"] == "EPSG:27700"


@pytest.mark.parametrize(
    "content, name, reason",
    [
        ("code,name\n", "forces.csv", "unsupported file type '.csv'"),
        ("not json at all", "pfa.geojson", "cannot be read as a boundary file"),
    ],
)
def test_validate_bad_boundaries_exits_2_with_one_line(tmp_path, content, name, reason):
    bad = tmp_path / name
    bad.write_text(content)
    result = run_cli("validate", "--boundaries", str(bad))
    assert result.returncode == 2
    assert reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_validate_bad_register_exits_2_naming_row_and_field(tmp_path):
    lines = paths.SERVICES_CSV.read_text(encoding="utf-8").splitlines()
    met = next(i for i, line in enumerate(lines) if line.startswith("E23000001-multi_agency_unit"))
    lines[met] = lines[met].replace(",E23000001,", ",E23000099,", 1)
    bad = tmp_path / "register.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("validate", "--services", str(bad))
    assert result.returncode == 2
    assert f"line {met + 1}" in result.stderr and "force_codes" in result.stderr and "E23000099" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_source_folder_is_bad_input(tmp_path):
    result = run_cli("build-data", "--source", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "not found" in result.stderr


def test_build_data_reproduces_the_shipped_files(shared_data, tmp_path):
    report = build_data(shared_data, data_dir=tmp_path)
    assert report.boundary_kb <= 200
    assert report.max_deviation_m <= 500
    assert report.overlap_gap_km2 <= 0.5
    for written in report.written:
        shipped = paths.DATA_DIR / written.relative_to(tmp_path)
        assert filecmp.cmp(written, shipped, shallow=False), f"{shipped} differs from what build-data writes"


def test_lookup_answers_a_postcode_and_exits_2_for_an_unknown_one():
    result = run_cli("lookup", "SO14", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["force_code"] == "E23000030" and answer["kind"] == "outward_code"
    unknown = run_cli("lookup", "ZZ99 9ZZ")
    assert unknown.returncode == 2
    assert "ZZ99" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    invalid = run_cli("lookup", "<script>alert(1)</script>")
    assert invalid.returncode == 2 and "<script>" not in invalid.stderr


def test_lookup_outside_england_and_wales_is_an_answer_not_an_error():
    result = run_cli("lookup", "BT1 1AA")
    assert result.returncode == 0
    assert "Northern Ireland" in result.stdout


def test_summary_json_has_the_national_figures():
    result = run_cli("summary", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for key in (
        "forces",
        "forces_with_multi_agency_unit",
        "population_16plus_share_multi_agency_unit",
        "offences_share_multi_agency_unit",
        "forces_with_no_specialist_service",
    ):
        assert key in figures
    assert figures["forces"] == 43
    assert 0 < figures["population_16plus_share_multi_agency_unit"] < 1
    assert figures["by_year"][-1]["year"] == 2026


def test_cost_json_and_workbook(tmp_path):
    workbook = tmp_path / "cost.xlsx"
    result = run_cli(
        "cost", str(paths.SCENARIO_PRESETS_DIR / "cheshire_hru_like.yaml"), "--json", "--xlsx", str(workbook)
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for key in ("total_cost_nominal", "total_cost_real", "present_value", "fte_total", "by_year", "by_force"):
        assert key in summary
    assert {"year", "cost_nominal", "cost_real", "fte"} <= set(summary["by_year"][0])
    # schema 2 preset: the 8Q rate on Cheshire's stalking offences in the year ending December 2018
    assert summary["referrals_per_year"] == 312.0 and summary["fte_total"] == 11.0
    assert [f["code"] for f in summary["by_force"]] == ["E23000006"] and len(summary["by_year"]) == 10
    assert summary["coverage"]["already_covered_in_scenario"] == ["E23000006"]  # Cheshire has a unit already
    import openpyxl

    assert {"Inputs", "Results", "Sources"} <= set(openpyxl.load_workbook(workbook).sheetnames)


def test_cost_opens_a_schema_1_file_and_costs_it_as_before():
    fixtures = Path(__file__).parent / "fixtures" / "scenarios_v1"
    expected = json.loads((fixtures / "expected_totals.json").read_text())["cheshire_hru_like.yaml"]
    result = run_cli("cost", str(fixtures / "cheshire_hru_like.yaml"), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for key in ("total_cost_nominal", "total_cost_real", "present_value", "fte_total", "steady_annual_cost_real"):
        assert summary[key] == pytest.approx(expected[key], abs=0.006), key  # the summary is rounded to pence


def test_cost_refuses_a_file_that_is_not_a_scenario(tmp_path):
    bad = tmp_path / "register.yaml"
    bad.write_text("- just\n- a list\n")
    result = run_cli("cost", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "expected a mapping of fields, got a list" in result.stderr


def test_cost_refuses_a_bad_v2_file_naming_the_field(tmp_path):
    text = (paths.SCENARIO_PRESETS_DIR / "cheshire_hru_like.yaml").read_text()
    bad = tmp_path / "plan.yaml"
    bad.write_text(text.replace("pension_scheme: nhs", "pension_scheme: teachers", 1))
    result = run_cli("cost", str(bad))
    assert result.returncode == 2
    assert "unit_models[0].roles[3].pension_scheme" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
