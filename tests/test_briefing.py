"""Briefing packs: the files are there, stand alone (source, licence and the atlas's credit inside
every image and the PDF), carry data text as text, neutralise formulas, never show an address, and
refuse bad input; the PDF is tagged (PDF/UA-1's machine-checkable rules, checked with pypdf); the
headline chart comes square and landscape at exact pixel sizes."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject

from coverage import paths
from coverage.errors import InputError
from coverage.export import csv_bytes, xlsx_bytes
from coverage.model import atlas_data
from coverage.outputs.briefing import (
    NATIONAL_SLUG,
    SHARE_FORMATS,
    atlas_credit,
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
CREDIT = "From the Stalking Provision Atlas"
# A deployment's address, with characters SVG and XMP must escape.
PUBLIC_URL = "https://atlas.example.org/stalking?from=briefing&v=1"


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
        f"{stem}-rates-square.png",  # a force's headline chart, for sharing
        f"{stem}-rates-landscape.png",
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
    pngs = {n for n in names if n.endswith(".png")}
    assert len(pngs) == 6  # map, ranked rates, coverage, trend; the coverage chart square and landscape
    assert {f"briefing-{NATIONAL_SLUG}-coverage-square.png", f"briefing-{NATIONAL_SLUG}-coverage-landscape.png"} <= pngs


def test_pngs_are_at_least_twice_the_chart_size(cheshire):
    _, paths = cheshire
    for png in [p for p in paths if p.suffix == ".png" and not p.stem.endswith(("-square", "-landscape"))]:
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


# ---------------------------------------------------------------------------------------------
# The atlas's address (ATLAS_PUBLIC_URL) on every image and the PDF


@pytest.fixture(scope="module")
def with_url(data):
    """Cheshire's pack with a scenario (every kind of chart) where the deployment gave its address."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "PUBLIC_URL", PUBLIC_URL)
        return build_briefing(data, CHESHIRE, "cheshire_hru_like")


@pytest.fixture(scope="module")
def without_url(data):
    """The national pack where the deployment gave no address (whatever this machine's environment says)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "PUBLIC_URL", "")
        return build_briefing(data)


def _image_texts(pack) -> dict[str, str]:
    """File name → the words inside: every chart's SVG and the SVG each sharing image was drawn from."""
    texts = {chart.file_names(pack.stem)["svg"]: _svg_text(chart.ready().svg) for chart in pack.charts}
    texts |= {image.file_name(pack.stem): _svg_text(image.ready().svg) for image in pack.share}
    return texts


def test_the_credit_names_the_atlas_and_only_an_address_it_was_given():
    assert atlas_credit(PUBLIC_URL) == f"{CREDIT}: {PUBLIC_URL}"
    assert atlas_credit("") == atlas_credit(None) == CREDIT
    assert atlas_credit(" https://a.example\n") == f"{CREDIT}: https://a.example"


def test_with_an_address_every_image_and_the_pdf_give_it(with_url):
    texts = _image_texts(with_url)
    assert len(texts) == 7  # map, ranked, trend, coverage, scenario cost; the ranked chart square and landscape
    for name, text in texts.items():
        assert f"{CREDIT}: {PUBLIC_URL}" in text, name
    pdf_text = _pdf_text(with_url.pdf)
    assert f"{CREDIT}: {PUBLIC_URL}" in pdf_text
    assert f"{CREDIT}: {PUBLIC_URL}" in with_url.files[f"{with_url.stem}-README.txt"].decode("utf-8")
    # Still one A4 page listing every service, none cut to "… and N more".
    reader = PdfReader(io.BytesIO(with_url.pdf))
    assert len(reader.pages) == 1
    assert " more services: see" not in pdf_text and " more items: see" not in pdf_text
    for name in _local_service_names(with_url):
        assert name in pdf_text


def test_without_an_address_they_name_the_atlas_and_no_address(without_url):
    texts = _image_texts(without_url)
    assert len(texts) == 6  # map, ranked, trend, coverage; the coverage chart square and landscape
    pdf_text = _pdf_text(without_url.pdf)
    readme = without_url.files[f"{without_url.stem}-README.txt"].decode("utf-8")
    for name, text in [*texts.items(), ("pdf", pdf_text), ("README", readme)]:
        assert CREDIT in text, name
        assert f"{CREDIT}:" not in text and "example.org" not in text, name


def test_the_address_is_read_from_the_environment():
    command = [sys.executable, "-c", "from coverage import paths; print(repr(paths.PUBLIC_URL))"]
    environment = {k: v for k, v in os.environ.items() if k != "ATLAS_PUBLIC_URL"}
    unset = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    assert unset.stdout.strip() == "''"
    given = subprocess.run(
        command,
        env={**environment, "ATLAS_PUBLIC_URL": "  https://a.example/atlas \n"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert given.stdout.strip() == "'https://a.example/atlas'"


def test_the_command_line_pack_carries_the_deployments_address(tmp_path):
    environment = {**os.environ, "ATLAS_PUBLIC_URL": PUBLIC_URL}
    subprocess.run(
        [sys.executable, "-m", "coverage", "briefing", "--force", CHESHIRE, "--out", str(tmp_path)],
        env=environment,
        cwd=paths.REPO_ROOT,
        check=True,
        capture_output=True,
    )
    stem = f"briefing-{CHESHIRE}"
    assert f"{CREDIT}: {PUBLIC_URL}" in _svg_text((tmp_path / f"{stem}-rates.svg").read_text(encoding="utf-8"))
    assert f"{CREDIT}: {PUBLIC_URL}" in _pdf_text((tmp_path / f"{stem}.pdf").read_bytes())


# ---------------------------------------------------------------------------------------------
# The headline chart for sharing: square and landscape


def test_sharing_images_have_exact_pixel_sizes_and_are_in_the_zip_and_readme(cheshire, national):
    for (out, paths_written), stem, chart in (
        (cheshire, f"briefing-{CHESHIRE}-cheshire_hru_like", "rates"),
        (national, f"briefing-{NATIONAL_SLUG}", "coverage"),
    ):
        readme = (out / f"{stem}-README.txt").read_text(encoding="utf-8")
        with zipfile.ZipFile(paths_written[-1]) as archive:
            zipped = set(archive.namelist())
        for shape, (size, _) in SHARE_FORMATS.items():
            name = f"{stem}-{chart}-{shape}.png"
            assert _png_size((out / name).read_bytes()) == size, name
            assert name in zipped and name in readme
        assert SHARE_FORMATS["square"][0] == (1080, 1080) and SHARE_FORMATS["landscape"][0] == (1200, 675)


def test_sharing_images_carry_title_takeaway_source_and_licence(with_url, without_url):
    for pack, chart_key in ((with_url, "rates"), (without_url, "coverage")):
        assert [(image.chart_key, image.shape) for image in pack.share] == [
            (chart_key, "square"),
            (chart_key, "landscape"),
        ]
        for image in pack.share:
            text = _svg_text(image.ready().svg)
            squeezed = "".join(text.split())  # a wrapped title's lines are runs of one text element
            assert "".join(image.text.title.split()) in squeezed
            assert "".join(image.text.takeaway.split()) in squeezed
            assert ONS_ATTRIBUTION in text and "Open Government Licence" in text
            assert image.alt_text and image.alt_text in pack.files[f"{pack.stem}-README.txt"].decode("utf-8")
    ranked = with_url.share[0]
    assert ranked.text.title == "Cheshire: police recorded stalking offences per 1,000 population"
    assert "Cheshire: 2.69" in _svg_text(ranked.svg)  # the force's column is labelled
    assert "14th highest of 43" in ranked.text.takeaway


# ---------------------------------------------------------------------------------------------
# The PDF is tagged: PDF/UA-1's machine-checkable rules, checked with pypdf

# The standard structure types of PDF 1.7 (ISO 32000-1, 14.8.4): PDF/UA-1 needs a role map for any other.
STANDARD_TYPES = frozenset(
    "Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private P H H1 H2 H3 H4 H5 H6 L LI Lbl LBody Table TR TH TD THead TBody TFoot Span Quote Note Reference BibEntry Code Link Annot Ruby RB RT RP Warichu WT WP Figure Formula Form".split()  # noqa: SIM905
)
# Operators that put marks on the page: text, painted paths, images, shadings.
PAINTING = frozenset(
    [b"Tj", b"TJ", b"'", b'"', b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"Do", b"sh", b"INLINE IMAGE"]
)
XMP = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
}


def _kids(element) -> list:
    k = element.get("/K")
    if k is None:
        return []
    return list(k) if isinstance(k, list) else [k]


def _structure(reader: PdfReader) -> list[tuple[int, str, object, list[int], int]]:
    """Every structure element in reading order: (depth, type, element, its MCIDs, its parent's object number)."""
    found = []

    def walk(reference, depth: int, parent: int) -> None:
        element = reference.get_object()
        mcids = []
        for kid in _kids(element):
            if isinstance(kid, int):
                mcids.append(int(kid))
            elif isinstance(kid.get_object(), DictionaryObject) and kid.get_object().get("/Type") == "/MCR":
                mcids.append(int(kid.get_object()["/MCID"]))
        found.append((depth, str(element["/S"])[1:], element, mcids, parent))
        for kid in _kids(element):
            if not isinstance(kid, int) and kid.get_object().get("/Type") not in ("/MCR", "/OBJR"):
                walk(kid, depth + 1, reference.idnum)

    tree = reader.trailer["/Root"]["/StructTreeRoot"]
    for top in _kids(tree):
        walk(top, 0, reader.trailer["/Root"].raw_get("/StructTreeRoot").idnum)
    return found


def pdf_ua_problems(content: bytes) -> list[str]:
    """What breaks a machine-checkable rule of PDF/UA-1 (ISO 14289-1, as the Matterhorn protocol
    and veraPDF's profile number them): a list of problems, empty if none."""
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    problems = []
    # 7.1: tagged, with a title shown; 7.2: a language; 5: the PDF/UA identifier in XMP.
    if not (root.get("/MarkInfo") or {}).get("/Marked"):
        problems.append("7.1-11: MarkInfo /Marked is not true")
    if (root.get("/MarkInfo") or {}).get("/Suspects"):
        problems.append("7.1-11: MarkInfo /Suspects is true")
    if not (root.get("/ViewerPreferences") or {}).get("/DisplayDocTitle"):
        problems.append("7.1-10: ViewerPreferences /DisplayDocTitle is not true")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", str(root.get("/Lang", ""))):
        problems.append(f"7.2-34: no document language (/Lang {root.get('/Lang')!r})")
    if not str((reader.metadata or {}).get("/Title") or "").strip():
        problems.append("7.1-9: no /Title in the document information")
    if "/Metadata" not in root:
        problems.append("7.1-8: no XMP metadata stream")
    else:
        xmp = ET.fromstring(root["/Metadata"].get_object().get_data())
        part = xmp.find(".//pdfuaid:part", XMP)
        if part is None or (part.text or "").strip() != "1":
            problems.append("5-1: XMP has no pdfuaid:part 1")
        title = xmp.find(".//dc:title/rdf:Alt/rdf:li", XMP)
        if title is None or not (title.text or "").strip():
            problems.append("7.1-9: XMP has no dc:title")
    if "/StructTreeRoot" not in root:
        return [*problems, "7.1: no structure tree"]

    # The structure tree: standard types, parents, alternate text, headings, lists.
    elements = _structure(reader)
    owner: dict[int, object] = {}
    headings = []
    for depth, kind, element, mcids, parent in elements:
        if kind not in STANDARD_TYPES:
            problems.append(f"7.1-5: non-standard structure type {kind} (and no role map)")
        if element.raw_get("/P").idnum != parent:
            problems.append(f"structure: {kind} does not point back to its parent")
        if kind == "Figure" and not str(element.get("/Alt") or element.get("/ActualText") or "").strip():
            problems.append("7.3-1: a Figure without alternate text")
        if kind.startswith("H") and kind[1:].isdigit():
            headings.append(int(kind[1:]))
        kid_kinds = {str(k.get_object()["/S"])[1:] for k in _kids(element) if not isinstance(k, int)}
        if kind == "L" and not kid_kinds <= {"LI", "Caption", "L"}:
            problems.append(f"7.6-1: a list holds {sorted(kid_kinds)}")
        if kind == "LI" and not kid_kinds <= {"Lbl", "LBody"}:
            problems.append(f"7.6-2: a list item holds {sorted(kid_kinds)}")
        if kind in ("LI", "LBody", "Lbl") and depth == 0:
            problems.append(f"7.6: {kind} outside a list")
        for mcid in mcids:
            if mcid in owner:
                problems.append(f"structure: marked content {mcid} belongs to two elements")
            owner[mcid] = element
            if "/Pg" not in element:
                problems.append(f"structure: {kind} holds marked content but names no page (/Pg)")
    if headings and headings[0] != 1:
        problems.append(f"7.4.2-1: the first heading is H{headings[0]}")
    for before, after in itertools.pairwise(headings):
        if after > before + 1:
            problems.append(f"7.4.2-1: heading levels skip from H{before} to H{after}")

    # Page content: every mark tagged or an artifact, never both; each MCID once, found in the parent tree.
    for number, page in enumerate(reader.pages, start=1):
        if page.get("/Annots") and page.get("/Tabs") != "/S":
            problems.append(f"7.18.3-1: page {number} has annotations but no /Tabs /S")
        stack: list[tuple[str, int | None]] = []
        seen: list[int] = []
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator in (b"BDC", b"BMC"):
                tag = str(operands[0])
                properties = operands[1] if operator == b"BDC" and len(operands) > 1 else {}
                mcid = properties.get("/MCID") if isinstance(properties, dict) else None
                inside_artifact = any(t == "/Artifact" for t, _ in stack)
                inside_tagged = any(m is not None for _, m in stack)
                if mcid is not None and (inside_artifact or inside_tagged):
                    problems.append(
                        f"7.1-2: tagged content {mcid} inside {'an artifact' if inside_artifact else 'tagged content'}"
                    )
                if tag == "/Artifact" and inside_tagged:
                    problems.append("7.1-1: an artifact inside tagged content")
                if mcid is not None:
                    seen.append(int(mcid))
                stack.append((tag, None if mcid is None else int(mcid)))
            elif operator == b"EMC":
                if not stack:
                    problems.append(f"page {number}: EMC without BDC/BMC")
                else:
                    stack.pop()
            elif operator in PAINTING and not any(t == "/Artifact" or m is not None for t, m in stack):
                problems.append(f"7.1-3: page {number}: {operator.decode()} neither tagged nor an artifact")
        if stack:
            problems.append(f"page {number}: marked content left open")
        if len(seen) != len(set(seen)):
            problems.append(f"page {number}: an MCID is used twice")
        if seen:
            if "/StructParents" not in page:
                problems.append(f"page {number}: marked content but no /StructParents")
            else:
                nums = list(reader.trailer["/Root"]["/StructTreeRoot"]["/ParentTree"]["/Nums"])
                tree = dict(zip(nums[::2], nums[1::2]))
                entries = tree.get(page["/StructParents"])
                entries = entries.get_object() if entries is not None else []
                for mcid in seen:
                    if mcid not in owner:
                        problems.append(f"page {number}: MCID {mcid} belongs to no structure element")
                    elif mcid >= len(entries) or entries[mcid].get_object() != owner[mcid]:
                        problems.append(f"page {number}: the parent tree does not lead MCID {mcid} to its element")
        # 7.21: fonts embedded, with a ToUnicode map.
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = (descendant.get("/FontDescriptor") or {}) if descendant else {}
            if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"7.21.4.1: font {font.get('/BaseFont')} is not embedded")
            if "/ToUnicode" not in font:
                problems.append(f"7.21.7: font {font.get('/BaseFont')} has no ToUnicode map")
    return problems


def _reading_order(content: bytes) -> list[tuple[str, str]]:
    """(structure type, its text) for every element that holds text, in the structure tree's order."""
    reader = PdfReader(io.BytesIO(content))
    texts: dict[int, list[str]] = {}
    current: list[int | None] = []

    def before(operator, operands, cm, tm):
        if operator == b"BDC":
            properties = operands[1] if len(operands) > 1 and isinstance(operands[1], dict) else {}
            current.append(properties.get("/MCID"))
        elif operator == b"BMC":
            current.append(None)
        elif operator == b"EMC" and current:
            current.pop()

    def text(value, cm, tm, font, size):
        mcid = next((m for m in reversed(current) if m is not None), None)
        if mcid is not None and value.strip():
            texts.setdefault(int(mcid), []).append(value.strip())

    reader.pages[0].extract_text(visitor_operand_before=before, visitor_text=text)
    return [
        (kind, " ".join(" ".join(texts.get(m, [])) for m in mcids))
        for _, kind, _, mcids, _ in _structure(reader)
        if mcids
    ]


def _local_service_names(pack) -> list[str]:
    from coverage.model.register import short_service_name

    local = pack.services[pack.services["Force area(s) covered"] != "All areas (national)"]
    return [display_text(short_service_name(name)) for name in local["Service"]]


@pytest.mark.parametrize("which", ["cheshire", "national", "hostile"])
def test_the_pdf_meets_pdf_ua_machine_checkable_rules(which, request):
    fixture = request.getfixturevalue(which)
    out, paths_written = fixture[-2:]
    pdf = next(p for p in paths_written if p.suffix == ".pdf")
    assert pdf_ua_problems(pdf.read_bytes()) == []


def test_the_pdf_has_a_structure_tree_language_and_title(cheshire, data):
    out, _ = cheshire
    content = (out / f"briefing-{CHESHIRE}-cheshire_hru_like.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert reader.metadata["/Title"] == "Specialist stalking services: Cheshire"
    xmp = ET.fromstring(root["/Metadata"].get_object().get_data())
    assert xmp.find(".//dc:title/rdf:Alt/rdf:li", XMP).text == "Specialist stalking services: Cheshire"
    assert xmp.find(".//pdfuaid:part", XMP).text == "1"
    elements = _structure(reader)
    assert elements[0][:2] == (0, "Document")
    figure = next(element for _, kind, element, _, _ in elements if kind == "Figure")
    assert str(figure["/Alt"]).startswith("Map of the 43 police force areas")
    assert "Cheshire is outlined in orange and labelled" in str(figure["/Alt"])

    # Reading order: title, subtitle, message, headline panels, the map, its key, then the right
    # column's three lists, the scenario, the notes, the sources.
    order = _reading_order(content)
    assert order[0] == ("H1", "Specialist stalking services: Cheshire")
    assert order[1][0] == "P" and order[1][1].startswith("One-page briefing from the Stalking Provision Atlas")
    assert order[2] == ("P", "Cheshire: multi-agency stalking unit.")
    assert order[3] == ("P", "Best provision found Multi-agency stalking unit service register, early 2026")
    headings = [text for kind, text in order if kind == "H2"]
    assert headings == [
        "Key: best specialist stalking provision found",
        "What exists in Cheshire",
        "What was not found",
        "National services every area can use",
        "Cost of one unit in Cheshire",
        "Sources and licence",
    ]
    listed = " | ".join(text for kind, text in order if kind == "LBody")
    for name in _local_service_names(build_briefing(data, CHESHIRE, "cheshire_hru_like")):
        assert name in listed  # every Cheshire service, as a list item
    assert "National Stalking Helpline" in listed and "Orange outline: Cheshire" in listed
    assert order[-1][0] == "P" and order[-1][1].startswith(CREDIT)  # the credit at the foot, read last


def test_a_mark_drawn_outside_the_tags_is_caught(data):
    """The checker itself: one rule drawn on the briefing page outside any tag or artifact fails it."""
    from coverage.outputs import briefing, pdf

    context = briefing_context(data)
    content = briefing._pdf_content(context, CHESHIRE, None, briefing.services_table(context, CHESHIRE))
    page = pdf._Page()
    pdf._layout(content, page, draw=True)
    assert pdf_ua_problems(bytes(page.pdf.output())) == []
    page = pdf._Page()
    pdf._layout(content, page, draw=True)
    page.pdf.line(10, 10, 50, 10)
    assert pdf_ua_problems(bytes(page.pdf.output())) == ["7.1-3: page 1: S neither tagged nor an artifact"]


def test_a_pdf_with_untagged_marks_is_caught():
    """The checker itself: an untagged fpdf2 page fails it."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="untagged")
    problems = pdf_ua_problems(bytes(pdf.output()))
    assert any(p.startswith("7.1: no structure tree") for p in problems)
    assert any(p.startswith("7.2-34") for p in problems) and any(p.startswith("5-1") or "7.1-8" in p for p in problems)
