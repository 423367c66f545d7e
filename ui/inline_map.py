"""The Map page's map, drawn in the page itself with Streamlit's Custom Components v2 (no iframe).

folium builds the map and ``coverage.outputs.maps.inline_map_spec`` compiles it; this module caches the
compiled map once per server for each boundary file and register, and mounts the component
(``static/map_component/inline_map.js``) with it. Every run sends the same compiled map (the component
keeps its live Leaflet map while that is unchanged) and two small values it applies in place: the
selected force's outline and the basemap. A click on a force comes back as the ``clicked`` trigger.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import streamlit as st

from coverage import paths
from coverage.vocabulary import PROVISION_CLASS_LABELS, PROVISION_CLASSES
from ui import data

COMPONENT_JS = paths.STATIC_DIR / "map_component" / "inline_map.js"
HEIGHT_PX = 620
CLICKED = "clicked"

# isolate_styles=False: Leaflet positions its panes and controls with its own stylesheet, loaded once
# into the page (a shadow root would need it copied into every mount), and the hatching's SVG pattern
# and the tests' accessibility checks see the map as part of the page.
_component = st.components.v2.component(
    "atlas_inline_map",
    js=COMPONENT_JS.read_text(encoding="utf-8"),
    css=".atlas-inline-map {position: relative; width: 100%;}",
    isolate_styles=False,
)


@st.cache_resource(show_spinner=False, max_entries=16)
def _atlas_spec(boundaries_version: str, register_version: str, _boundaries: dict, _table) -> dict[str, Any]:
    from coverage.outputs.maps import atlas_map, inline_map_spec, openstreetmap_layer  # folium: the Map page's

    labels = {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}
    points = data._badge_points(boundaries_version, _boundaries)
    fmap = atlas_map(_boundaries, _table, labels, points=points)
    return inline_map_spec(fmap, basemap=openstreetmap_layer())


def atlas_spec(boundaries: dict, boundaries_version: str) -> dict[str, Any]:
    """The compiled Map page map for these boundaries and the register in use, built once per server.

    Cached as a shared object (cache_resource): it is only read, and copying its 260 KB out of
    st.cache_data on every rerun would cost more than the page's own work."""
    return _atlas_spec(boundaries_version, data.register_version(), boundaries, data.provision())


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

    ``on_click`` runs before the rerun a click starts (read the click with ``trigger_value(key)``)."""
    _component(
        key=key,
        data={"map": spec, "selected": selected, "basemap": basemap, "height": height},
        on_clicked_change=on_click,
    )
