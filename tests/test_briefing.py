"""Briefing packs: the files are there, stand alone (source and licence inside every image and the
PDF), carry data text as text, neutralise formulas, never show an address, and refuse bad input."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from coverage.errors import InputError
from coverage.export import csv_bytes, xlsx_bytes
from coverage.model import atlas_data
from coverage.outputs.briefing import (
    NATIONAL_SLUG,
    briefing_context,
    build_briefing,
    class_shares,
    without_postcodes,
    write_briefing,
)
from coverage.outputs.static_map import MapLayout, display_text, map_base, map_spec, wrap_text
from coverage.vocabulary import ONS_ATTRIBUTION

CHESHIRE = "E23000006"
EVIL_CODE = "W15000001"  # North Wales, renamed below
EVIL_NAME = 'Ynys Môn – £ <script>alert("x")</script>, "quoted", it’s\nnew line'
FORMULA_CODE = "E23000002"  # Cumbria, renamed to a formula
FORMULA_NAME = '=HYPERLINK("http://example.invalid","click")'
POSTCODE = "CH1 1AA"
ADDRESS = "12 Secret Street"


def _svg_text(svg: str) -> str:
    """Every text run of an SVG, joined by spaces (wrapped lines join back up)."""
    root = ET.fromstring(svg)
    runs = ["".join(element.itertext()) for element in root.iter() if element.tag.endswith("}text")]
    return " ".join(" ".join(runs).split())


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])


def _read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def data():
    return atlas_data.load_all()


@pytest.fixture(scope="module")
def cheshire(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("cheshire")
    paths = write_briefing(out, CHESHIRE, data, scenario_id="cheshire_hru_like")
    return out, paths


@pytest.fixture(scope="module")
def national(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("national")
    return out, write_briefing(out, None, data)


@pytest.fixture(scope="module")
def hostile(data, tmp_path_factory):
    """The shipped data with hostile names, and an address and a postcode in the register."""
    forces = data.forces.copy()
    forces.loc[forces["code"] == EVIL_CODE, "name"] = EVIL_NAME
    forces.loc[forces["code"] == FORMULA_CODE, "name"] = FORMULA_NAME
    register = data.register.copy()
    local = register.index[register["force_codes"].str.contains(EVIL_CODE) & register["service_type"].ne("none_found")]
    if len(local) == 0:  # give the force a service to list
        row = register.iloc[[0]].copy()
        row["force_codes"] = EVIL_CODE
        row["service_id"] = "test-service"
        register = pd.concat([register, row], ignore_index=True)
        local = register.index[register["service_id"] == "test-service"]
    register.loc[local[0], "service_name"] = f"Stalking advocacy, {ADDRESS}, Bangor {POSTCODE}"
    register.loc[local[0], "provider"] = f"@provider {POSTCODE}"
    register.loc[local[0], "notes"] = f"Office at {ADDRESS}, {POSTCODE}"
    changed = dataclasses.replace(data, forces=forces, register=register)
    out = tmp_path_factory.mktemp("hostile")
    return changed, out, write_briefing(out, EVIL_CODE, changed)


# ---------------------------------------------------------------------------------------------
# Files present


def test_force_pack_has_every_file_and_a_zip_of_them(cheshire):
    out, paths = cheshire
    stem = f"briefing-{CHESHIRE}-cheshire_hru_like"
    names = {p.name for p in paths}
    for chart in ("map", "rates", "coverage", "scenario-cost"):
        for extension in ("png", "svg", "csv", "xlsx"):
            assert f"{stem}-{chart}.{extension}" in names
    assert {
        f"{stem}.pdf",
        f"{stem}-services.csv",
        f"{stem}-services.xlsx",
        f"{stem}-README.txt",
        f"{stem}.zip",
    } <= names
    assert paths[-1].name == f"{stem}.zip"
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    with zipfile.ZipFile(paths[-1]) as archive:
        assert set(archive.namelist()) == names - {f"{stem}.zip"}
        assert archive.read(f"{stem}.pdf") == (out / f"{stem}.pdf").read_bytes()


def test_national_pack_is_named_for_england_and_wales_and_has_no_scenario(national):
    _, paths = national
    names = {p.name for p in paths}
    assert f"briefing-{NATIONAL_SLUG}.pdf" in names
    assert not any("scenario" in n for n in names)
    assert len([n for n in names if n.endswith(".png")]) == 4  # map, ranked rates, coverage, trend


def test_pngs_are_at_least_twice_the_chart_size(cheshire):
    _, paths = cheshire
    for png in [p for p in paths if p.suffix == ".png"]:
        svg = png.with_suffix(".svg").read_text(encoding="utf-8")
        root = ET.fromstring(svg)
        width, height = float(root.get("width")), float(root.get("height"))
        png_width, png_height = _png_size(png.read_bytes())
        assert png_width >= 2 * width - 1 and png_height >= 2 * height - 1


# ---------------------------------------------------------------------------------------------
# Source and licence inside every image and the PDF


def test_every_svg_carries_title_source_licence_and_takeaway(cheshire, data):
    out, paths = cheshire
    pack = build_briefing(data, CHESHIRE, "cheshire_hru_like")
    for chart in pack.charts:
        text = _svg_text((out / chart.file_names(pack.stem)["svg"]).read_text(encoding="utf-8"))
        assert ONS_ATTRIBUTION in text, chart.key
        assert " ".join(chart.text.title.split()) in text
        assert " ".join(chart.text.takeaway.split()) in text
        assert "Open Government Licence" in text


def test_the_map_names_the_chosen_force_and_every_class_in_its_legend(cheshire):
    out, _ = cheshire
    text = _svg_text((out / f"briefing-{CHESHIRE}-cheshire_hru_like-map.svg").read_text(encoding="utf-8"))
    assert "Cheshire (outlined in orange)" in text
    for label in (
        "Multi-agency stalking unit (4)",
        "National services only (none found locally)",
        "Unknown (not searched) (0)",
    ):
        assert label in text


def test_pdf_is_one_a4_page_with_attribution_caveat_and_services(cheshire):
    out, _ = cheshire
    content = (out / f"briefing-{CHESHIRE}-cheshire_hru_like.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = _pdf_text(content)
    assert ONS_ATTRIBUTION in text
    flat = " ".join(text.split())
    # The headline demand is stalking (8Q) in the latest year, with its counting-rule caveat.
    assert "Stalking (8Q) offences*" in flat and "3,006" in flat and "police recorded, YE Dec 2025" in flat
    assert "not the wider stalking and harassment group" in flat
    assert "Counting-rule changes in April 2018 and 2020 mean years before 2021 are not comparable" in flat
    assert "Harm Reduction Unit" in text
    assert "Active" in text and "confidence high" in text
    assert "What was not found" in text
    assert "£" in text  # the cost line of the chosen scenario


def test_national_pdf_states_the_national_picture(national):
    out, _ = national
    text = _pdf_text((out / f"briefing-{NATIONAL_SLUG}.pdf").read_bytes())
    assert "England and Wales" in text
    assert "of 43" in text
    assert ONS_ATTRIBUTION in text
    assert "National Stalking Helpline" in text


def test_pdf_text_is_never_smaller_than_9_point(cheshire):
    out, _ = cheshire
    reader = PdfReader(io.BytesIO((out / f"briefing-{CHESHIRE}-cheshire_hru_like.pdf").read_bytes()))
    sizes = [float(size) for size in re.findall(rb"/F\d+ ([\d.]+) Tf", reader.pages[0].get_contents().get_data())]
    assert sizes and min(sizes) >= 9


# ---------------------------------------------------------------------------------------------
# Data behind the charts: exactly the rows shown, sources sheet


def test_chart_data_is_exactly_the_rows_shown(cheshire, data):
    out, _ = cheshire
    stem = f"briefing-{CHESHIRE}-cheshire_hru_like"
    assert len(_read_csv((out / f"{stem}-map.csv").read_bytes())) == 43
    rates = _read_csv((out / f"{stem}-rates.csv").read_bytes())
    assert len(rates) == 44 and rates[-1]["Area"] == "England and Wales"
    highlighted = [r for r in rates if r["Shown as"] == "Highlighted bar"]
    assert [r["Area"] for r in highlighted] == ["Cheshire"]
    assert len(_read_csv((out / f"{stem}-coverage.csv").read_bytes())) == 18
    cost = _read_csv((out / f"{stem}-scenario-cost.csv").read_bytes())
    assert len(cost) == 10 and cost[0]["Financial year"] == "2026/27"
    workbook = load_workbook(out / f"{stem}-rates.xlsx")
    assert workbook.sheetnames == ["Data", "Sources", "About"]
    assert workbook["Data"].max_row == 45
    sources = list(workbook["Sources"].iter_rows(min_row=2, values_only=True))
    assert any("Office for National Statistics" in (row[1] or "") for row in sources)


def test_coverage_shares_agree_with_the_lottery_figures(data):
    context = briefing_context(data)
    shares = class_shares(context)
    lottery = context.shares.set_index("measure")
    people = shares[shares["Measure"].str.startswith("People")].set_index("class")["Share"]
    assert people["multi_agency_unit"] == pytest.approx(lottery.loc["has_multi_agency_unit", "population_16plus_share"])
    assert people["national_only"] == pytest.approx(lottery.loc["no_specialist_service", "population_16plus_share"])
    assert people["unknown"] == pytest.approx(lottery.loc["unknown", "population_16plus_share"])
    for _, group in shares.groupby("Measure"):
        assert group["Share"].sum() == pytest.approx(1.0)


def test_csv_and_xlsx_neutralise_formulas():
    frame = pd.DataFrame({"a": ["=1+2", "+SUM(A1)", "-3", "@cmd", "plain", "\tTab"], "n": [1, -2, 3, 4, 5, 6]})
    rows = _read_csv(csv_bytes(frame))
    assert [r["a"] for r in rows] == ["'=1+2", "'+SUM(A1)", "'-3", "'@cmd", "plain", "'\tTab"]
    assert [r["n"] for r in rows] == ["1", "-2", "3", "4", "5", "6"]  # numbers stay numbers
    # In a workbook the text stays exactly as written, stored as text with Excel's quote prefix: no formula.
    workbook_bytes = xlsx_bytes([("Data", frame)])
    sheet = load_workbook(io.BytesIO(workbook_bytes))["Data"]
    assert [sheet.cell(row=i, column=1).value for i in range(2, 8)] == [
        "=1+2",
        "+SUM(A1)",
        "-3",
        "@cmd",
        "plain",
        "\tTab",
    ]
    assert sheet.cell(row=3, column=2).value == -2
    assert all(sheet.cell(row=i, column=1).data_type == "s" for i in range(2, 8))
    assert all(sheet.cell(row=i, column=1).quotePrefix for i in (2, 3, 4, 5, 7))
    with zipfile.ZipFile(io.BytesIO(workbook_bytes)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


# ---------------------------------------------------------------------------------------------
# Hostile names, addresses


def test_hostile_name_survives_into_csv_and_xlsx_exactly(hostile):
    _, out, paths = hostile
    stem = f"briefing-{EVIL_CODE}"
    rows = _read_csv((out / f"{stem}-map.csv").read_bytes())
    names = {r["ONS code"]: r["Force area"] for r in rows}
    assert names[EVIL_CODE] == EVIL_NAME
    assert names[FORMULA_CODE] == "'" + FORMULA_NAME
    sheet = load_workbook(out / f"{stem}-map.xlsx")["Data"]
    values = {row[1]: row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values[EVIL_CODE] == EVIL_NAME
    assert values[FORMULA_CODE] == FORMULA_NAME  # exact, stored as text (see test_csv_and_xlsx_neutralise_formulas)


def test_hostile_name_is_text_in_svg_and_pdf(hostile):
    _, out, paths = hostile
    stem = f"briefing-{EVIL_CODE}"
    shown = display_text(EVIL_NAME)  # the newline drawn as a space
    for chart in ("map", "rates"):
        svg = (out / f"{stem}-{chart}.svg").read_text(encoding="utf-8")
        assert "<script" not in svg.lower()
        assert "&lt;script&gt;" in svg
        assert shown in _svg_text(svg), chart
    pdf_text = _pdf_text((out / f"{stem}.pdf").read_bytes())
    assert "Ynys Môn – £" in pdf_text
    assert '<script>alert("x")</script>, "quoted", it’s new line' in pdf_text


def test_a_briefing_never_shows_an_address_or_postcode(hostile):
    changed, out, paths = hostile
    pack = build_briefing(changed, EVIL_CODE)
    assert "Stalking advocacy" in " ".join(pack.services["Service"])
    for path in paths:
        content = path.read_bytes()
        if path.suffix in (".csv", ".svg", ".txt"):
            text = content.decode("utf-8-sig")
        elif path.suffix == ".pdf":
            text = _pdf_text(content)
        elif path.suffix == ".xlsx":
            workbook = load_workbook(io.BytesIO(content))
            text = " ".join(
                str(v) for ws in workbook for row in ws.iter_rows(values_only=True) for v in row if v is not None
            )
        else:
            continue
        assert POSTCODE not in text, path.name
        assert f"Office at {ADDRESS}" not in text, path.name  # register notes are never shown


def test_postcodes_are_removed_from_service_text():
    assert without_postcodes("Unit, 1 Road, Leeds LS1 4DY") == "Unit, 1 Road, Leeds [postcode removed]"
    assert without_postcodes("SW1A2AA and M1 1AE") == "[postcode removed] and [postcode removed]"
    assert without_postcodes("Harm Reduction Unit (HRU)") == "Harm Reduction Unit (HRU)"


# ---------------------------------------------------------------------------------------------
# Bad input


def test_unknown_force_code_raises_input_error_naming_it(data, tmp_path):
    with pytest.raises(InputError, match="E23999999"):
        write_briefing(tmp_path, "E23999999", data)
    assert not list(tmp_path.iterdir())


def test_unknown_scenario_raises_input_error(data):
    with pytest.raises(InputError, match="no_such_preset"):
        build_briefing(data, CHESHIRE, "no_such_preset")


def test_blank_force_code_means_england_and_wales(data):
    assert build_briefing(data, "  ").area_name == "England and Wales"


# ---------------------------------------------------------------------------------------------
# The static map


def test_static_map_highlights_and_labels_only_the_chosen_force(data):
    context = briefing_context(data)
    base = context.base
    spec = map_spec(base, MapLayout(), CHESHIRE)
    assert [f["properties"]["code"] for f in spec["datasets"]["pfa_selected"]] == [CHESHIRE]
    assert len(spec["datasets"]["pfa_shapes"]) == 43
    assert spec["datasets"]["pfa_hatch"]  # areas with nothing found locally are hatched
    assert "Cheshire" in str(spec)
    plain = map_spec(base, MapLayout(), None)
    assert plain["datasets"]["pfa_selected"] == []


def test_a_shape_without_a_force_row_is_drawn_as_unknown(data):
    table = briefing_context(data).table
    base = map_base(data.boundaries, table[table["code"] != CHESHIRE])
    classes = {f["properties"]["code"]: f["properties"]["class"] for f in base.features}
    assert classes[CHESHIRE] == "unknown"


def test_wrap_text_keeps_every_word_and_fits():
    text = "Source: Office for National Statistics licensed under the Open Government Licence v.3.0."
    lines = wrap_text(text, 200, 11)
    assert len(lines) > 1 and " ".join(lines) == text
    assert wrap_text("", 100, 11) == [""]
    assert "".join(wrap_text("x" * 200, 50, 11)) == "x" * 200


def test_the_context_is_shared_across_packs(data):
    assert briefing_context(data) is briefing_context(data)
    changed = dataclasses.replace(data, forces=data.forces.assign(name=data.forces["name"] + " "))
    assert briefing_context(changed) is not briefing_context(data)


def test_write_briefing_creates_the_folder(data, tmp_path):
    target = tmp_path / "new" / "folder"
    paths = write_briefing(target, CHESHIRE, data)
    assert all(Path(p).parent == target for p in paths)


def test_legend_labels_fit_their_column_uncut(data):
    from coverage.outputs.briefing import MAP_LAYOUT
    from coverage.outputs.static_map import text_width

    column = MAP_LAYOUT.width / 2 - (MAP_LAYOUT.legend_font + 3) - 14
    for _, label, _ in briefing_context(data).base.legend_entries():
        assert text_width(label, MAP_LAYOUT.legend_font) <= column, label


def test_a_pack_from_an_edited_register_says_so_in_every_file(data):
    register = data.register.copy()
    register.loc[register["service_id"] == "E23000006-multi_agency_unit-1", "service_name"] = "Renamed by a user"
    edited = dataclasses.replace(data, register=register)
    pack = build_briefing(edited, CHESHIRE, "advocacy_only", edited_register="my [edits].csv")
    note = "Built from a user-edited service register (my [edits].csv), not the published"
    assert pack.stem.endswith("-edited") and all("-edited" in name for name in pack.files)
    assert note in pack.files[f"{pack.stem}-README.txt"].decode("utf-8")
    assert note in _pdf_text(pack.pdf)
    from_register = [chart for chart in pack.charts if chart.key in ("map", "coverage", "scenario-cost")]
    assert len(from_register) == 3 and all(note in _svg_text(chart.svg) for chart in from_register)
    about = load_workbook(io.BytesIO(pack.files[f"{pack.stem}-services.xlsx"]))["About"]
    assert note in about["B2"].value
    # The published register's pack says nothing of the kind, and keeps its names.
    published = build_briefing(data, CHESHIRE)
    assert not published.stem.endswith("-edited") and "user-edited" not in _pdf_text(published.pdf)


def test_an_advocacy_scenario_in_a_force_with_a_unit_is_not_called_a_unit_like_it(data):
    pack = build_briefing(data, CHESHIRE, "advocacy_only")
    text = _pdf_text(pack.pdf)
    assert "this is the cost of adding “Advocacy-only service (ISACs)” beside it" in text
    assert "running one like it" not in text


def test_the_pdf_gives_both_evidence_dates_and_flags_stale_evidence(data):
    text = " ".join(_pdf_text(build_briefing(data, "E23000024").pdf).split())  # Norfolk: newest evidence Apr 2018
    assert "Evidence: the register last looked on 2026-02; newest evidence Apr 2018 (older than 24 months" in text
    national = " ".join(_pdf_text(build_briefing(data).pdf).split())
    assert "areas the newest evidence is older than 24 months" in national
