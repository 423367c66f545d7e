"""The Briefing page through Streamlit's AppTest: it runs, offers every file under a name of its
own, follows the force and scenario in the URL, and shows alt text and a data table beside each chart."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from streamlit.testing.v1 import AppTest

from coverage import paths

TIMEOUT = 120
PAGE = "app_pages/briefing.py"


def _app() -> AppTest:
    """The whole app (navigation and sidebar), switched to the Briefing page."""
    app = paths.REPO_ROOT / "app.py"
    if PAGE not in app.read_text(encoding="utf-8"):
        pytest.skip("the Briefing page is not registered in app.py")
    at = AppTest.from_file(str(app), default_timeout=TIMEOUT)
    at.switch_page(PAGE)
    return at


def _downloads(at: AppTest) -> dict[str, str]:
    """Download button label → extension of the file it serves."""
    return {b.proto.label: PurePosixPath(b.proto.url).suffix for b in at.get("download_button")}


def _query(at: AppTest, key: str):
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def test_england_and_wales_is_the_default_with_every_download():
    at = _app().run()
    assert not at.exception
    assert at.selectbox(key="briefing_force").value == ""
    assert at.header[0].value == "Briefing: England and Wales"
    downloads = [PurePosixPath(b.proto.url).suffix for b in at.get("download_button")]
    assert downloads[:2] == [".zip", ".pdf"]
    assert downloads.count(".png") == 6 and downloads.count(".svg") == 4  # 4 charts; coverage square, landscape
    assert downloads.count(".csv") == 5 and downloads.count(".xlsx") == 5  # 4 charts + services
    assert "force" not in at.query_params
    assert [s.value for s in at.subheader][:4] == [
        "Map: specialist stalking provision",
        "Ranked chart: stalking offences per 1,000 population",
        "Trend: stalking offences",
        "Coverage shares",
    ]


def test_each_chart_has_its_alt_text_and_table_beside_it():
    at = _app().run()
    assert not at.exception
    alt_texts = [c.value for c in at.code]
    assert len(alt_texts) == 5  # four charts; the sharing images of the coverage chart
    assert alt_texts[0].startswith("Map of the 43 police force areas")
    assert "stalking offences per 1,000 population, YE Dec 2025" in alt_texts[1]
    assert "counting-rule changes of April 2018 and April 2020" in alt_texts[2]
    assert alt_texts[3] == alt_texts[4]  # the coverage chart, and its square and landscape images
    tables = [d.value for d in at.dataframe]
    assert len(tables[0]) == 43  # the map: one row per force
    assert len(tables[1]) == 44  # the ranked chart: 43 bars and the England and Wales line
    assert len(tables[2]) == 36  # the trend: England and Wales, England and Wales's two countries, 2014–2025
    assert len(tables[3]) == 18  # coverage: 3 measures x 6 classes
    assert "Contains OS data © Crown copyright and database right 2023" in "\n".join(c.value for c in at.caption)


def test_switching_force_rebuilds_the_pack_and_sets_the_url():
    at = _app().run()
    at.selectbox(key="briefing_force").set_value("E23000006").run()
    assert not at.exception
    assert at.header[0].value == "Briefing: Cheshire"
    assert _query(at, "force") == "E23000006"
    assert "Cheshire is outlined in orange" in at.code[0].value
    services = at.dataframe[-2].value
    assert services["Service"].str.contains("Harm Reduction Unit").any()
    assert not {"notes", "Notes", "Address"} & set(services.columns)
    at.selectbox(key="briefing_force").set_value("").run()
    assert not at.exception
    assert at.header[0].value == "Briefing: England and Wales"
    assert "force" not in at.query_params


def test_a_link_reproduces_force_and_scenario():
    at = _app()
    at.query_params["force"] = "E23000034"
    at.query_params["scenario"] = "cheshire_hru_like"
    at.run()
    assert not at.exception
    assert at.header[0].value == "Briefing: City of London"
    assert at.selectbox(key="briefing_scenario").value == "cheshire_hru_like"
    assert "Scenario cost by year" in [s.value for s in at.subheader]
    assert [PurePosixPath(b.proto.url).suffix for b in at.get("download_button")].count(".png") == 7


def test_an_unknown_force_or_scenario_in_the_link_is_explained_not_an_error():
    at = _app()
    at.query_params["force"] = "<b>E99</b>"
    at.query_params["scenario"] = "nope"
    at.run()
    assert not at.exception
    assert at.header[0].value == "Briefing: England and Wales"
    warnings = [w.value for w in at.warning]
    assert any("No police force area has the code" in w and "\\<b\\>E99\\</b\\>" in w for w in warnings)
    assert any("No scenario preset is called" in w for w in warnings)


def test_choosing_a_scenario_adds_its_cost_chart():
    at = _app().run()
    at.selectbox(key="briefing_scenario").set_value("advocacy_only").run()
    assert not at.exception
    assert _query(at, "scenario") == "advocacy_only"
    assert len(at.code) == 6
    assert "cost" in at.code[5].value
    labels = _downloads(at)
    assert any(label.startswith("Everything as one zip") for label in labels)


def _labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_every_download_has_a_name_of_its_own():
    """A screen reader lists the buttons out of context: each says which chart and which format."""
    at = _app()
    at.query_params["force"] = "E23000006"
    at.query_params["scenario"] = "cheshire_hru_like"
    at.run()
    assert not at.exception
    labels = _labels(at)
    assert len(labels) == len(set(labels)) == 2 + 5 * 4 + 2 + 2  # zip, PDF; 5 charts x 4 files; sharing; services
    assert not {"PNG", "SVG", "CSV", "XLSX"} & set(labels)
    for chart in ("Map", "Ranked chart", "Trend chart", "Coverage chart", "Scenario cost chart"):
        for name in (f"{chart}, PNG", f"{chart}, SVG", f"{chart} data, CSV", f"{chart} data, XLSX"):
            assert name in labels
    assert "Ranked chart, square PNG (1080×1080)" in labels
    assert "Ranked chart, landscape PNG (1200×675)" in labels
    served = {b.proto.label: PurePosixPath(b.proto.url).suffix for b in at.get("download_button")}
    assert served["Ranked chart, SVG"] == ".svg" and served["Ranked chart data, XLSX"] == ".xlsx"
    assert served["Ranked chart, square PNG (1080×1080)"] == ".png"


def test_the_national_pack_shares_the_coverage_chart():
    at = _app().run()
    labels = _labels(at)
    assert "Coverage chart, square PNG (1080×1080)" in labels
    assert "Coverage chart, landscape PNG (1200×675)" in labels
    assert not any(label.startswith("Ranked chart, square") for label in labels)


def test_pictures_are_shrunk_once_to_the_width_streamlit_shows_as_it_is():
    import io

    from PIL import Image

    from ui.images import SCREEN_IMAGE_PX, fit_for_screen

    def png(width: int, height: int) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (width, height), "white").save(out, format="PNG")
        return out.getvalue()

    wide = fit_for_screen(png(2400, 1200))
    with Image.open(io.BytesIO(wide)) as image:
        assert (image.format, image.size) == ("PNG", (SCREEN_IMAGE_PX, 730))
    narrow = png(800, 400)
    assert fit_for_screen(narrow) is narrow  # already small enough: the same bytes


def test_charts_that_cannot_be_drawn_are_explained_and_the_next_visit_draws_them(monkeypatch):
    from coverage.outputs import renderer

    at = _app()
    at.query_params["force"] = "E23000035"  # a pack no other test draws, so nothing of it is cached
    monkeypatch.setattr(renderer, "DRAW_TIMEOUT_S", 0.000001)
    at.run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert "Could not draw the briefing's charts" in error and "Reload the page" in error
    assert not at.get("download_button")

    monkeypatch.undo()
    again = _app()
    again.query_params["force"] = "E23000035"
    again.run()
    assert not again.exception and not again.error
    assert again.header[0].value.startswith("Briefing: ")
