"""The running app in Debian's Chromium: 43 force shapes, the legend, a click, and no CDN at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.apprunner import record_outside_requests, running_app

pytestmark = pytest.mark.browser

if not shutil.which("chromium") and not __import__("os").path.exists("/usr/bin/chromium"):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

# The Map page's map is drawn in the page itself (a Components v2 component, no iframe).
MAP = ".atlas-inline-map"
# The live Leaflet map, for scripts run in the page (the component leaves it on its container).
LEAFLET_MAP = f"document.querySelector('{MAP} .leaflet-container').atlasMap"


def wait_for_shapes(page, count: int = 43, timeout_ms: float = 30_000):
    """The page once its map has drawn ``count`` force areas."""
    page.wait_for_function(
        f"document.querySelectorAll('{MAP} path.leaflet-interactive').length >= {count}", timeout=timeout_ms
    )
    return page


def _map_top(page) -> float:
    return page.evaluate(f"document.querySelector('{MAP}').getBoundingClientRect().top")


def test_map_draws_43_forces_and_legend_without_internet(app_url, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url)
    wait_for_shapes(page)
    assert page.locator(f"{MAP} path.leaflet-interactive").count() == 43
    assert page.locator("iframe").count() == 0  # drawn in the page, not in a frame of its own
    legend = page.locator(".atlas-legend")
    legend.wait_for()
    legend_text = legend.inner_text()
    for label in ("Multi-agency stalking unit", "National services only", "Unknown (not searched)"):
        assert label in legend_text
    # The key folds away to show the forces under it, and comes back.
    item = page.locator(".atlas-legend-item").first
    page.get_by_role("button", name="Hide key").click()
    item.wait_for(state="hidden")
    page.get_by_role("button", name="Show key").click()
    item.wait_for(state="visible")
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "Office for National Statistics" in attribution
    page.get_by_text("All 43 force areas").wait_for()
    page.screenshot(path=str(tmp_path / "map.png"), full_page=True)
    assert outside == [], f"the page tried to reach other hosts: {outside[:5]}"
    context.close()


def test_on_a_narrow_window_the_columns_stack_and_the_key_starts_folded(app_url, browser):
    context = browser.new_context(viewport={"width": 800, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    wait_for_shapes(page)
    page.get_by_role("button", name="Show key").wait_for(timeout=10_000)
    assert not page.locator(".atlas-legend-item").first.is_visible()
    # The force table sits below the map, not squeezed beside it.
    map_box = page.locator(MAP).bounding_box()
    table_box = page.get_by_text("All 43 force areas").bounding_box()
    assert table_box["y"] > map_box["y"] + map_box["height"]
    page.get_by_role("button", name="Show key").click()
    page.locator(".atlas-legend-item").first.wait_for(state="visible")
    context.close()


def test_requests_to_other_hosts_fail_and_are_recorded(app_url, browser):
    # The guard the no-CDN tests rely on: a request for a CDN fails in this browser and is listed.
    context = browser.new_context()
    outside = record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url + "/_stcore/health")
    # no-cors, so only a network failure (not a CORS refusal) can reject the fetch.
    outcome = page.evaluate(
        "fetch('https://unpkg.com/leaflet@1.9.3/dist/leaflet.js', {mode: 'no-cors'})"
        ".then(() => 'reached', () => 'failed')"
    )
    assert outcome == "failed"
    assert outside == ["https://unpkg.com/leaflet@1.9.3/dist/leaflet.js"]
    context.close()


def test_hovering_a_force_names_it_with_its_class_and_population(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    wait_for_shapes(page)
    # Features are drawn in code order; index 5 is E23000006, Cheshire. The event goes to the shape
    # itself: a real pointer at its centre could land on a service badge, which has its own tooltip.
    page.locator(f"{MAP} path.leaflet-interactive").nth(5).dispatch_event("mouseover")
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    text = tooltip.inner_text()
    assert "Cheshire" in text and "Multi-agency stalking unit" in text
    assert "1,119,495" in text  # ONS mid-2023 population, as in data/forces.csv
    context.close()


def test_clicking_a_force_opens_its_profile(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url)
    wait_for_shapes(page)
    # Features are drawn in code order; index 5 is E23000006, Cheshire.
    page.locator(f"{MAP} path.leaflet-interactive").nth(5).dispatch_event("click")
    page.get_by_role("heading", name="Cheshire").wait_for(timeout=20_000)
    page.get_by_text("Cheshire: Multi-agency stalking unit.").wait_for()
    assert "force=E23000006" in page.url
    context.close()


def test_link_with_force_reproduces_the_view(app_url, browser):
    context = browser.new_context()
    record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url + "/?force=E23000034")
    page.get_by_role("heading", name="City of London").wait_for(timeout=30_000)
    page.get_by_text("looked for a stalking-specific local service here and found none").wait_for()
    context.close()


def test_a_profile_chart_downloads_as_png_and_svg(app_url, browser):
    # The images are drawn when asked for (by vl-convert in its own process: coverage/outputs/renderer.py).
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    record_outside_requests(context, app_url)
    page = context.new_page()
    page.goto(app_url + "/?force=E23000006")
    page.get_by_role("heading", name="Cheshire").wait_for(timeout=30_000)
    files = {}
    for label in ("Chart as PNG", "Chart as SVG"):
        button = page.get_by_role("button", name=label).first
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=60_000) as download:
            button.click()
        files[label] = Path(download.value.path()).read_bytes()
    assert files["Chart as PNG"].startswith(b"\x89PNG")
    assert b"<svg" in files["Chart as SVG"][:200] and b"Cheshire" in files["Chart as SVG"]
    context.close()


def test_postcode_link_reproduces_the_answer_when_opened_first(browser):
    # A shared link may be the first page anyone opens on a fresh server: it must still run inside the
    # app (sidebar, wide layout), not as a stand-alone page script.
    with running_app() as fresh_url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        outside = record_outside_requests(context, fresh_url)
        page = context.new_page()
        page.goto(fresh_url + "/lottery?q=SO14")
        page.get_by_role("heading", name="Hampshire: Multi-agency stalking unit").wait_for(timeout=30_000)
        page.get_by_text("Data vintage").wait_for(timeout=10_000)
        assert outside == []
        context.close()


@pytest.mark.parametrize(
    "path, ready",
    [
        ("/?force=E23000006", "Demand beside provision"),
        ("/lottery?q=SO14", "The postcode lottery in numbers"),
        ("/scenarios", "Cost by year."),
        ("/briefing?force=E23000006", "Services listed in the briefing"),
        ("/evidence", "Upload an edited register"),
        ("/methods", "How a force area is classed"),
    ],
)
def test_no_serious_accessibility_violations(app_url, browser, path, ready):
    # axe-core's WCAG rules on each page as a visitor sees it. "Minor" findings inside Streamlit's own
    # widgets are left out; anything serious or critical (contrast, names, keyboard access) fails.
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url + path)
    page.get_by_text(ready).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    violations = Axe().run(page).response["violations"]
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious
    context.close()


# --- The map that behaves: the wheel, tooltips inside the map, controls over the sea, the hatch -------

# Every force area's shape (a Leaflet polygon with a feature) and its centre (the centre of its largest
# ring, so an island does not stand for Cumbria), as points in the page's viewport.
_FORCE_CENTRES = f"""() => {{
    const map = {LEAFLET_MAP}, box = map.getContainer().getBoundingClientRect(), centres = [];
    const rings = (latlngs) => latlngs.length && latlngs[0] instanceof L.LatLng
        ? [latlngs] : latlngs.reduce((all, part) => all.concat(rings(part)), []);
    const area = (ring) => {{ const b = L.bounds(ring.map((ll) => map.latLngToContainerPoint(ll)));
        return (b.max.x - b.min.x) * (b.max.y - b.min.y); }};
    map.eachLayer((layer) => {{
        if (!(layer instanceof L.Polygon) || !layer.feature || layer.options.interactive === false) return;
        const ring = rings(layer.getLatLngs()).sort((a, b) => area(b) - area(a))[0];
        const point = map.latLngToContainerPoint(L.PolyUtil.polygonCenter(ring, map.options.crs));
        centres.push({{name: layer.feature.properties.name, x: box.left + point.x, y: box.top + point.y}});
    }});
    return centres;
}}"""

# A point of the map (in the page's viewport) over neither a force, a badge nor a control: the sea.
_SEA_POINT = f"""() => {{
    const box = document.querySelector('{MAP} .leaflet-container').getBoundingClientRect();
    for (let y = box.height * 0.9; y > box.height * 0.5; y -= 5) {{
        for (let x = box.width * 0.5; x < box.width * 0.95; x += 5) {{
            const el = document.elementFromPoint(box.left + x, box.top + y);
            if (el && el.closest('{MAP}') && !el.closest('.leaflet-control, .leaflet-marker-icon, .leaflet-tooltip')
                && !el.matches('path.leaflet-interactive')) return {{x: box.left + x, y: box.top + y}};
        }}
    }}
    return null;
}}"""


def _open_map(browser, app_url: str, viewport: dict, path: str = ""):
    """A new visitor's Map page at ``viewport``, once the map is drawn and its controls have laid out."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(app_url + path)
    wait_for_shapes(page)
    page.locator(".atlas-fold").first.wait_for()
    return context, page


def _map_in_view(page) -> None:
    """Scroll the page so the whole map is in the viewport (the map is 620 px tall)."""
    page.locator(MAP).evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(200)


def _zoom(page) -> float:
    return page.evaluate(f"{LEAFLET_MAP}.getZoom()")


def _wheel_zooms(page) -> bool:
    return page.evaluate(f"{LEAFLET_MAP}.scrollWheelZoom.enabled()")


def _settled(page) -> None:
    """Wait until the map has finished an animated zoom."""
    page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim')", timeout=5_000)
    page.wait_for_timeout(100)


def test_the_wheel_scrolls_the_page_until_the_map_is_clicked(app_url, browser):
    context, page = _open_map(browser, app_url, {"width": 1440, "height": 900})
    start = _zoom(page)
    top = _map_top(page)
    sea = page.evaluate(_SEA_POINT)
    assert sea, "no sea in the map to point at"

    # Before a click: the wheel over the map scrolls the page and leaves the map's zoom alone.
    page.mouse.move(sea["x"], sea["y"])
    page.mouse.wheel(0, 250)
    page.wait_for_function(f"() => document.querySelector('{MAP}').getBoundingClientRect().top < {top - 50}")
    page.wait_for_timeout(500)  # Leaflet's wheel zoom would have run by now
    assert _zoom(page) == start
    assert not _wheel_zooms(page)

    # After a click on the map: the wheel zooms it and the page stays put.
    _map_in_view(page)
    top = _map_top(page)
    sea = page.evaluate(_SEA_POINT)
    page.mouse.click(sea["x"], sea["y"])
    assert _wheel_zooms(page)
    page.mouse.wheel(0, -250)
    page.wait_for_function(f"() => {LEAFLET_MAP}.getZoom() > {start}", timeout=5_000)
    page.wait_for_timeout(300)
    assert _map_top(page) == top

    # Once the pointer leaves the map, the wheel scrolls the page again.
    page.mouse.move(5, 5)
    page.wait_for_function(f"() => !{LEAFLET_MAP}.scrollWheelZoom.enabled()", timeout=5_000)
    zoomed = _zoom(page)
    page.mouse.move(sea["x"], sea["y"])
    page.mouse.wheel(0, 250)
    page.wait_for_function(f"() => document.querySelector('{MAP}').getBoundingClientRect().top < {top - 50}")
    page.wait_for_timeout(500)
    assert _zoom(page) == zoomed

    # The zoom buttons and the keyboard zoom at any time.
    _map_in_view(page)
    page.get_by_role("button", name="Zoom out").click()
    page.wait_for_function(f"() => {LEAFLET_MAP}.getZoom() < {zoomed}", timeout=5_000)
    _settled(page)  # Leaflet ignores a zoom asked for while it is still zooming
    before_key = _zoom(page)
    page.locator(f"{MAP} .leaflet-container").press("Equal")  # Leaflet zooms in on "+" / "="
    page.wait_for_function(f"() => {LEAFLET_MAP}.getZoom() > {before_key}", timeout=5_000)
    context.close()


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}])
def test_tooltips_stay_inside_the_map(app_url, browser, viewport):
    context, page = _open_map(browser, app_url, viewport)
    _map_in_view(page)
    # Every force's centre, and the land nearest each edge of the map (where a tooltip would spill).
    points = page.evaluate(_FORCE_CENTRES)
    points += page.evaluate(
        f"""() => {{
            const box = document.querySelector('{MAP} .leaflet-container').getBoundingClientRect(), land = [];
            for (let y = 2; y < box.height; y += 4) for (let x = 2; x < box.width; x += 4) {{
                const el = document.elementFromPoint(box.left + x, box.top + y);
                if (el && el.matches('{MAP} path.leaflet-interactive')) land.push({{name: 'edge', x: box.left + x, y: box.top + y}});
            }}
            const by = (key, sign) => land.reduce((a, b) => (sign * b[key] < sign * a[key] ? b : a));
            return [by('x', 1), by('x', -1), by('y', 1), by('y', -1)];
        }}"""
    )
    outside, shown = [], 0
    for point in points:
        page.mouse.move(point["x"], point["y"])
        spills = page.evaluate(
            f"""() => {{
                const map = document.querySelector('{MAP} .leaflet-container').getBoundingClientRect();
                return [...document.querySelectorAll('{MAP} .leaflet-tooltip')].map((tip) => {{
                    const r = tip.getBoundingClientRect();
                    return r.left < map.left - 0.5 || r.top < map.top - 0.5
                        || r.right > map.right + 0.5 || r.bottom > map.bottom + 0.5;
                }});
            }}"""
        )
        shown += len(spills)
        outside += [point["name"]] * sum(spills)
    assert outside == []
    assert shown >= len(points) - 2  # a pointer on a force (or its badge) shows a tooltip
    # The content is the force, its class and its population, above the pointer.
    page.mouse.move(points[-1]["x"], points[-1]["y"])  # the southernmost land: Cornwall
    text = page.locator(f"{MAP} .leaflet-tooltip.foliumtooltip").inner_text()
    assert "Devon & Cornwall" in text and "Specialist advocacy" in text and "1,822,182" in text
    context.close()


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}])
def test_the_key_and_layer_switches_hide_no_force_at_the_default_view(app_url, browser, viewport, tmp_path):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(app_url)
    wait_for_shapes(page)
    page.locator(".atlas-fold").nth(1).wait_for()
    page.wait_for_timeout(300)  # the controls are laid out once the map's script has run
    _map_in_view(page)
    controls = f"{MAP} .atlas-legend, {MAP} .leaflet-control-layers"
    # No force's centre is under the key or the layer switches ...
    covered = page.evaluate(
        f"""(centres) => centres.filter((c) => {{
            const el = document.elementFromPoint(c.x, c.y);
            return !el || el.closest({controls!r});
        }}).map((c) => c.name)""",
        page.evaluate(_FORCE_CENTRES),
    )
    assert covered == []
    # ... nor any part of a force or a badge: every few pixels under each control, nothing but sea.
    under = page.evaluate(
        f"""() => {{
            const found = new Set();
            for (const control of document.querySelectorAll({controls!r})) {{
                const r = control.getBoundingClientRect();
                for (let y = r.top; y <= r.bottom; y += 3) for (let x = r.left; x <= r.right; x += 3) {{
                    for (const el of document.elementsFromPoint(x, y)) {{
                        if (el.matches('path.leaflet-interactive') || el.closest('.leaflet-marker-icon')) {{
                            found.add(control.className.split(' ')[0]);
                        }}
                    }}
                }}
            }}
            return [...found];
        }}"""
    )
    assert under == []
    if viewport["width"] >= 1400:  # on a desktop both fit in the sea, open
        assert page.locator(".atlas-legend-item").first.is_visible()
        assert page.locator(".leaflet-control-layers-selector").first.is_visible()
    else:  # on a phone they start folded, and open on request
        page.get_by_role("button", name="Show key").click()
        page.locator(".atlas-legend-item").first.wait_for(state="visible")
        page.get_by_role("button", name="Show layers").click()
        page.locator(".leaflet-control-layers-selector").first.wait_for(state="visible")
    context.close()


def test_areas_with_nothing_found_locally_are_hatched_on_the_map_and_in_the_key(app_url, browser):
    from io import BytesIO

    from PIL import Image

    context, page = _open_map(browser, app_url, {"width": 1440, "height": 900})
    fills = page.evaluate(
        f"""() => {{
            const fills = {{}};
            {LEAFLET_MAP}.eachLayer((layer) => {{
                if (layer instanceof L.Polygon && layer.feature && layer.getElement()) {{
                    const key = layer.feature.properties.category;
                    (fills[key] = fills[key] || new Set()).add(layer.getElement().getAttribute('fill'));
                }}
            }});
            return Object.fromEntries(Object.entries(fills).map(([k, v]) => [k, [...v]]));
        }}"""
    )
    assert fills["national_only"] == ["url(#atlas-hatch-national_only)"]
    assert fills["other_local"] == ["#ADD1F1"]  # the palest blue stays a plain fill
    assert all(
        not fill.startswith("url(") for key, values in fills.items() if key != "national_only" for fill in values
    )
    # The pattern is in the map's SVG: light grey under dark grey lines, as on the static map.
    pattern = page.locator(f"{MAP} svg defs pattern#atlas-hatch-national_only")
    assert pattern.count() == 1
    assert pattern.locator("rect").nth(0).get_attribute("fill") == "#E6E6E6"
    assert pattern.locator("rect").nth(1).get_attribute("fill") == "#4D4D4D"
    # And it is drawn: inside Cumbria (nothing found locally, no badge) both dark lines and light ground.
    _map_in_view(page)
    cumbria = next(c for c in page.evaluate(_FORCE_CENTRES) if c["name"] == "Cumbria")
    shot = page.screenshot(clip={"x": cumbria["x"] - 8, "y": cumbria["y"] - 8, "width": 16, "height": 16})
    grey = [sum(pixel[:3]) / 3 for pixel in Image.open(BytesIO(shot)).convert("RGB").getdata()]
    assert min(grey) < 140 and max(grey) > 200, (min(grey), max(grey))
    # The key's swatch carries the same hatch; "unknown" keeps its dashed outline.
    swatches = page.locator(".atlas-swatch")
    items = page.locator(".atlas-legend-item").all_inner_texts()
    national = next(i for i, text in enumerate(items) if text.startswith("National services only"))
    unknown = next(i for i, text in enumerate(items) if text.startswith("Unknown"))
    assert "repeating-linear-gradient" in swatches.nth(national).evaluate("el => getComputedStyle(el).backgroundImage")
    assert swatches.nth(unknown).evaluate("el => getComputedStyle(el).borderTopStyle") == "dashed"
    context.close()


def test_the_map_has_no_serious_accessibility_violations(app_url, browser):
    # axe-core on the map, now part of the page: the key, the layer switches, their fold buttons and
    # Leaflet's controls (the page-level checks above cover it too, beside everything else).
    from axe_playwright_python.sync_playwright import Axe

    context, page = _open_map(browser, app_url, {"width": 1440, "height": 900})
    violations = Axe().run(page, context=MAP).response["violations"]
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious
    context.close()


# --- The inline map across reruns: one live map, restyled, nothing fetched again ----------------------


def _tag_live_map(page) -> None:
    page.evaluate(f"{LEAFLET_MAP}.testTag = 'the first map'")


def _same_live_map(page) -> bool:
    return page.evaluate(
        f"document.querySelectorAll('{MAP} .leaflet-container').length === 1 && {LEAFLET_MAP}.testTag === 'the first map'"
    )


# The codes of the forces outlined as selected (a non-interactive copy of the force's shape, in orange).
_OUTLINED = f"""() => {{
    const codes = [];
    {LEAFLET_MAP}.eachLayer((layer) => {{
        if (layer instanceof L.Path && layer.feature && layer.options.interactive === false
            && layer.options.color === '#F46A25') codes.push(layer.feature.properties.code);
    }});
    return codes;
}}"""


def _outlined(page) -> list[str]:
    return page.evaluate(_OUTLINED)


def _wait_until_outlined(page, code: str) -> None:
    page.wait_for_function(f"() => JSON.stringify(({_OUTLINED})()) === '[\"{code}\"]'", timeout=20_000)


def _app_requests(page) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    return requests


def test_choosing_a_force_restyles_the_live_map_and_fetches_nothing(app_url, browser):
    context, page = _open_map(browser, app_url, {"width": 1440, "height": 900})
    _tag_live_map(page)
    requests = _app_requests(page)
    assert _outlined(page) == []
    page.locator(f"{MAP} path.leaflet-interactive").nth(5).dispatch_event("click")  # Cheshire
    page.get_by_role("heading", name="Cheshire").wait_for(timeout=20_000)
    _wait_until_outlined(page, "E23000006")
    # Chosen in the list instead: the outline moves; still the same map, and no file fetched again.
    select = page.get_by_role("combobox", name="Force area")
    select.click()
    select.fill("Durham")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Durham").wait_for(timeout=20_000)
    _wait_until_outlined(page, "E23000008")
    assert page.locator(f"{MAP} path[stroke='#F46A25']").count() == 1
    assert _same_live_map(page)
    assert [url for url in requests if "/app/static/" in url or "leaflet" in url] == []
    context.close()


def test_switching_layers_and_the_basemap_keeps_the_live_map(app_url, browser):
    context, page = _open_map(browser, app_url, {"width": 1440, "height": 900})
    _tag_live_map(page)
    badges = f"document.querySelectorAll('{MAP} .atlas-badge').length"
    before = page.evaluate(badges)
    # A service layer switched off and on in the map: no rerun at all, the badges go and come back.
    unit = page.get_by_role("checkbox", name="U: multi-agency stalking units")
    unit.uncheck()
    assert page.evaluate(badges) < before
    unit.check()
    assert page.evaluate(badges) == before
    # The basemap: its tiles (which cannot load here: no internet) join the same map, and leave it.
    tiles = f"document.querySelectorAll('{MAP} .leaflet-tile-pane .leaflet-layer').length"
    basemap = page.get_by_role("switch", name="OpenStreetMap basemap")
    basemap.check(force=True)  # its label lies over the switch itself
    page.wait_for_function(f"() => {tiles} === 1", timeout=20_000)
    assert "OpenStreetMap contributors" in page.locator(f"{MAP} .leaflet-control-attribution").inner_text()
    basemap.uncheck(force=True)
    page.wait_for_function(f"() => {tiles} === 0", timeout=20_000)
    assert "OpenStreetMap" not in page.locator(f"{MAP} .leaflet-control-attribution").inner_text()
    assert _same_live_map(page)
    assert page.evaluate(f"document.querySelectorAll('{MAP} path.leaflet-interactive').length") == 43
    context.close()


@pytest.mark.parametrize("code", ["E23000099", "not a force", "", "<b>E23000006</b>"])
def test_a_click_naming_no_force_of_this_map_changes_nothing(app_url, browser, code):
    # The browser sends whatever the clicked shape says; the page accepts only a force drawn on its map.
    context, page = _open_map(browser, app_url, {"width": 1440, "height": 900}, path="/?force=E23000030")
    page.get_by_role("heading", name="Hampshire").wait_for(timeout=20_000)
    page.evaluate(
        f"""(code) => {{
            const layers = [];
            {LEAFLET_MAP}.eachLayer((l) => {{ if (l.feature && l.options.interactive !== false) layers.push(l); }});
            layers[5].feature.properties.code = code;
            layers[5].fire('click');
        }}""",
        code,
    )
    page.wait_for_timeout(2500)  # the rerun the click started has finished
    assert page.get_by_role("heading", name="Hampshire").is_visible()
    assert page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count() == 0
    assert "force=E23000030" in page.url
    context.close()


def test_coming_back_to_the_map_shows_the_view_it_has_now_not_the_one_it_left(app_url, browser):
    # Leaving the Map page drops its selection and basemap switch; on return the live map is built again
    # and must not first show the old outline or ask a tile server for the old basemap.
    context, page = _open_map(browser, app_url, {"width": 1440, "height": 900}, path="/?force=E23000006")
    _wait_until_outlined(page, "E23000006")
    page.get_by_role("switch", name="OpenStreetMap basemap").check(force=True)
    page.wait_for_function(f"() => document.querySelectorAll('{MAP} .leaflet-tile-pane .leaflet-layer').length === 1")
    page.get_by_role("link", name="Postcode lottery").first.click()
    page.get_by_text("The postcode lottery in numbers").wait_for(timeout=60_000)
    outside = record_outside_requests(context, app_url)
    page.evaluate(
        """() => { window.__outlinesSeen = 0; new MutationObserver(() => {
            if (document.querySelector("path[stroke='#F46A25']")) window.__outlinesSeen += 1;
        }).observe(document.body, {childList: true, subtree: true, attributes: true}); }"""
    )
    page.get_by_role("link", name="Map", exact=True).first.click()
    wait_for_shapes(page)
    page.wait_for_timeout(1500)
    assert not page.get_by_role("switch", name="OpenStreetMap basemap").is_checked()
    assert _outlined(page) == []
    assert page.evaluate("window.__outlinesSeen") == 0
    assert [url for url in outside if "tile.openstreetmap.org" in url] == []
    context.close()
