"""The atlas's maps (the Map page's and the postcode lottery's), drawn in the page itself with Streamlit's
Custom Components v2 (no iframe).

folium builds the map and ``coverage.outputs.maps.inline_map_spec`` compiles it; this module caches the
compiled map once per server for each boundary file and register, and mounts two components:

- the map (``static/map_component/inline_map.js``, sent with the app's own Leaflet and its styles in
  front of it, so a first visit fetches nothing before drawing). Its element is the same on every run,
  so Streamlit sends it in full once and then only a reference to it (its message cache), and the
  browser keeps its live Leaflet map;
- the view (``static/map_component/map_view.js``): the two small values that change from run to run,
  the selected force's outline and the basemap, applied to the live map in place. It takes no room.

A click on a force comes back as the map's ``clicked`` trigger.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import streamlit as st

from coverage import paths
from coverage.outputs import compiled_maps
from ui import data

COMPONENT_JS = paths.STATIC_DIR / "map_component" / "inline_map.js"
VIEW_JS = paths.STATIC_DIR / "map_component" / "map_view.js"
HEIGHT_PX = 620
CLICKED = "clicked"
# The URLs folium's compiled map names for Leaflet (coverage.outputs.maps._offline_assets): sent with the
# component instead of fetched.
LEAFLET_URL = "/app/static/vendor/leaflet"
BUNDLED = frozenset({f"{LEAFLET_URL}/leaflet.js", f"{LEAFLET_URL}/leaflet.css"})


def _leaflet_css() -> str:
    """Leaflet's stylesheet with its images addressed from the app's static folder (it is not loaded from
    that folder, so its relative ``url(images/…)`` would resolve against the page)."""
    css = (paths.LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")
    return css.replace("url(images/", f"url({LEAFLET_URL}/images/")


# isolate_styles=False: Leaflet positions its panes and controls with its own stylesheet, once in the page
# (a shadow root would need it copied into every mount), and the hatching's SVG pattern and the tests'
# accessibility checks see the map as part of the page.
_map_component = st.components.v2.component(
    "atlas_inline_map",
    js=(paths.LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8") + "\n" + COMPONENT_JS.read_text(encoding="utf-8"),
    css=_leaflet_css() + "\n.atlas-inline-map {position: relative; width: 100%;}",
    isolate_styles=False,
)
# The view draws nothing; its element container is hidden so that it adds no gap below the map. (Its
# newlines tell Streamlit the rule is inline CSS: a one-line string with "[" would be taken for a file glob.)
_view_component = st.components.v2.component(
    "atlas_inline_map_view",
    js=VIEW_JS.read_text(encoding="utf-8"),
    html='<span class="atlas-map-view" hidden></span>',
    css='[data-testid="stElementContainer"]:has(.atlas-map-view) {\n  display: none;\n}',
    isolate_styles=False,
)


@st.cache_resource(show_spinner=False, max_entries=32)
def _compiled(name: str, boundaries_version: str, register_version: str, _boundaries: dict, _table) -> dict[str, Any]:
    spec = compiled_maps.read_compiled(paths.DATA_DIR, name, _boundaries, _table)
    if spec is None:  # a visitor's own boundaries or register, or a data/ built without its maps
        points = data._badge_points(boundaries_version, _boundaries) if name == compiled_maps.PROVISION_MAP else None
        spec = compiled_maps.build_spec(name, _boundaries, _table, points=points)
    return without_bundled(spec)


def without_bundled(spec: dict[str, Any]) -> dict[str, Any]:
    """The compiled map without the files the component brings with it (Leaflet), so none is fetched."""
    return spec | {
        "js": [url for url in spec["js"] if url not in BUNDLED],
        "css_links": [url for url in spec["css_links"] if url not in BUNDLED],
    }


def compiled_map(name: str, boundaries: dict, boundaries_version: str) -> dict[str, Any]:
    """The atlas's map ``name`` (``coverage.outputs.compiled_maps.NAMES``) for these boundaries and the
    register in use, compiled once per server: read from data/maps/ when it was shipped for them, else
    built with folium.

    Cached as a shared object (cache_resource): it is only read, and copying its 260 KB out of
    st.cache_data on every rerun would cost more than the page's own work."""
    return _compiled(name, boundaries_version, data.register_version(), boundaries, data.provision())


def force_codes(boundaries: Mapping[str, Any]) -> frozenset[str]:
    """The force codes drawn from these boundaries."""
    return frozenset(str(feature.get("properties", {}).get("code")) for feature in boundaries.get("features", []))


def clicked_force(value: object, drawn: Collection[str], known: Collection[str]) -> str | None:
    """The force a map click names, if it is one drawn on the current map and known to the atlas; else None.

    A click that names nothing, something that is not a code, or a force the current boundaries do not
    draw (a visitor's own boundary file may differ from the map the browser still shows) selects nothing."""
    if isinstance(value, str) and value in drawn and value in known:
        return value
    return None


def trigger_value(key: str) -> object:
    """The value the map's last click sent (only inside the click's callback, in the run it starts)."""
    state = st.session_state.get(key)
    return state.get(CLICKED) if isinstance(state, Mapping) else None


def inline_map(
    spec: dict[str, Any],
    *,
    key: str,
    selected: str | None,
    basemap: bool,
    on_click: Callable[[], None],
    height: int = HEIGHT_PX,
) -> None:
    """Mount the inline map: ``selected`` is outlined, ``basemap`` adds OpenStreetMap's tiles.

    ``on_click`` runs before the rerun a click starts (read the click with ``trigger_value(key)``). The
    map's element carries only the compiled map, so it is the same on every run; the view follows it."""
    _map_component(key=key, data={"map": spec, "map_id": key, "height": height}, on_clicked_change=on_click)
    _view_component(key=view_key(key), data={"map_id": key, "selected": selected, "basemap": basemap})


def inline_static_map(spec: dict[str, Any], *, key: str, height: int) -> None:
    """Mount an inline map that selects nothing and never changes from run to run (no view, no clicks)."""
    _map_component(key=key, data={"map": spec, "map_id": key, "height": height, "clickable": False})


def view_key(key: str) -> str:
    """The key of the view component that goes with the map keyed ``key``."""
    return f"{key}_view"
