"""How the atlas's maps colour and name their areas: plain data, with no map library behind it.

Pages import these without importing folium (coverage.outputs.maps), which only the build and a visitor's
own boundary or register file need (coverage.outputs.compiled_maps).
"""

from __future__ import annotations

import pandas as pd

from coverage.vocabulary import PROVISION_CLASS_LIST

# The hatching's colour, the same dark grey on the inline maps, the static map and the PDF.
HATCH = "#4D4D4D"

# Folium style of each provision class (fills from coverage.vocabulary: the Analysis Function
# sequential palette, darker means more provision). The class is also named in the tooltip, legend
# and table, and the lettered service badges mark each area's services, so colour is never the only
# cue; the two palest classes differ in more than colour: "national services only" is hatched (as on
# the static map and in the PDF) and "unknown" is white with a dashed outline.
PROVISION_STYLES: dict[str, dict[str, object]] = {
    klass.key: {
        "fillColor": klass.fill,
        "fillOpacity": 0.9,
        "dashArray": "4 3" if klass.dashed_outline else None,
        "hatch": klass.hatched,
        "pattern": klass.pattern,
    }
    for klass in PROVISION_CLASS_LIST
}

# The postcode lottery's map: where no local specialist service was found (orange), where one was (grey),
# and where nobody has searched (white, dashed). "None" is the class that matters, so it is the only one
# in colour; the legend, the tooltip and the list beside the map name each class in words.
NO_SERVICE_STYLES: dict[str, dict[str, object]] = {
    "none": {"fillColor": "#F46A25", "fillOpacity": 0.85, "dashArray": None, "pattern": "orange"},
    "some": {"fillColor": "#E6E6E6", "fillOpacity": 0.9, "dashArray": None, "pattern": "light grey"},
    "unknown": {"fillColor": "#FFFFFF", "fillOpacity": 0.9, "dashArray": "4 3", "pattern": "white, dashed outline"},
}
NO_SERVICE_LABELS = {
    "none": "No local specialist service found",
    "some": "At least one local specialist service",
    "unknown": "Unknown (not searched)",
}


def no_service_table(provision: pd.DataFrame) -> pd.DataFrame:
    """The provision table with the lottery map's class (``lottery_class``) and its words (``lottery_label``):
    an area with national services only has no local specialist service."""
    table = provision.copy()
    table["lottery_class"] = [
        "unknown" if klass == "unknown" else ("none" if klass == "national_only" else "some")
        for klass in table["provision_class"]
    ]
    table["lottery_label"] = table["lottery_class"].map(NO_SERVICE_LABELS)
    return table
