"""The atlas's two inline maps, compiled by folium when ``atlas build-data`` runs and shipped in ``data/maps/``.

A page that draws a map for the shipped boundaries and register reads its compiled form (a few
milliseconds), so the first visit after a server starts neither imports folium nor builds the map
(about a second on a small server). Each file records a digest of what it was built from (the
boundaries and the provision table); a file whose inputs differ from those in use (another build of
``data/``, a visitor's own boundary or register file) is not used, and the map is built afresh.

folium gives every element a random id; here they are replaced by ids derived from the map's name, so
that a build is reproducible (tests/test_cli.py) and the two maps never share an element id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pandas as pd

from coverage.outputs.map_styles import NO_SERVICE_LABELS, NO_SERVICE_STYLES, no_service_table
from coverage.vocabulary import PROVISION_CLASS_LABELS, PROVISION_CLASSES

MAPS_FOLDER = "maps"
PROVISION_MAP = "provision_map"  # the Map page's
NO_SERVICE_MAP = "no_service_map"  # the postcode lottery's
NAMES = (PROVISION_MAP, NO_SERVICE_MAP)
FORMAT = 1  # the layout of a compiled-map file; a file of another format is rebuilt, not read

SOURCE_MD = """# Source

Written by `python -m coverage build-data`; do not edit by hand.

## `data/maps/provision_map.json`, `data/maps/no_service_map.json`

- **What:** the Map page's map and the postcode lottery's map, built with folium and compiled for the
  page (`coverage/outputs/compiled_maps.py`), so that the app does not build them on its first run.
- **Made from:** `data/boundaries/pfa_dec2023_simplified.geojson` (ONS police force areas, December 2023,
  Open Government Licence v3.0) and the provision of each force from `data/services/register.csv`
  (see their own `SOURCE.md`); no other figure.
- **Check:** each file records a digest of those inputs (`inputs`); the app uses a file only when the
  data in use give the same digest, and builds the map itself otherwise.
"""


def inputs_digest(boundaries: Mapping[str, Any], provision: pd.DataFrame) -> str:
    """A digest of what a map is drawn from: the boundaries and the provision table."""
    digest = hashlib.sha256(json.dumps(boundaries, sort_keys=True, separators=(",", ":")).encode())
    digest.update(provision.to_csv(index=False, lineterminator="\n").encode())
    return digest.hexdigest()[:32]


def element_ids(root: Any) -> list[str]:
    """The ids of every element in a folium (branca) element tree: its random 32-hex-digit names."""
    ids, stack = [], [root]
    while stack:
        element = stack.pop()
        ids.append(str(element._id))
        stack.extend(element._children.values())
        stack.extend(getattr(element, part) for part in ("header", "html", "script") if hasattr(element, part))
    return ids


def stable_ids(spec: dict[str, Any], name: str, ids: list[str]) -> dict[str, Any]:
    """``spec`` with folium's random element ``ids`` replaced, consistently, by ids derived from ``name``
    (numbered in the order they first appear). Only those ids change: any other text, however alike
    (a visitor's service name, a URL), is left as it is."""
    text = json.dumps(spec, sort_keys=True)
    found = sorted((text.find(element_id), element_id) for element_id in set(ids) if element_id in text)
    for index, (_, element_id) in enumerate(found):
        text = text.replace(element_id, hashlib.sha256(f"{name}:{index}".encode()).hexdigest()[:32])
    return cast(dict[str, Any], json.loads(text))


def build_spec(
    name: str,
    boundaries: dict[str, Any],
    provision: pd.DataFrame,
    *,
    points: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """Build the map ``name`` with folium and compile it for an inline component (``maps.inline_map_spec``).

    ``points`` are the badges' places (``maps.representative_points``), when the caller has them."""
    from coverage.outputs import maps  # folium: only here, never when a shipped map is read

    if name == PROVISION_MAP:
        labels = {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}
        fmap = maps.atlas_map(boundaries, provision, labels, points=points)
        spec = maps.inline_map_spec(fmap, basemap=maps.openstreetmap_layer())
    elif name == NO_SERVICE_MAP:
        fmap = maps.category_map(
            boundaries,
            no_service_table(provision),
            category_column="lottery_class",
            label_column="lottery_label",
            styles=NO_SERVICE_STYLES,
            labels=NO_SERVICE_LABELS,
            legend_title="Local specialist stalking service",
            tooltip_alias="Local service",
        )
        spec = maps.inline_map_spec(fmap)
    else:
        raise ValueError(f"no map called {name!r} (the atlas's maps: {', '.join(NAMES)})")
    return stable_ids(spec, name, element_ids(fmap.get_root()))


def compiled_path(data_dir: Path, name: str) -> Path:
    return Path(data_dir) / MAPS_FOLDER / f"{name}.json"


def compiled_json(name: str, boundaries: dict[str, Any], provision: pd.DataFrame) -> str:
    """The shipped file for the map ``name``: its format, its inputs' digest and its compiled form."""
    record = {
        "format": FORMAT,
        "name": name,
        "inputs": inputs_digest(boundaries, provision),
        "spec": build_spec(name, boundaries, provision),
    }
    return json.dumps(record, sort_keys=True, indent=1) + "\n"


def read_compiled(
    data_dir: Path, name: str, boundaries: Mapping[str, Any], provision: pd.DataFrame
) -> dict[str, Any] | None:
    """The shipped compiled map ``name`` if it was built from these boundaries and this provision table;
    None if there is none, it cannot be read, or it was built from something else."""
    try:
        record = json.loads(compiled_path(data_dir, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("name") != name:
        return None
    if record.get("inputs") != inputs_digest(boundaries, provision) or not isinstance(record.get("spec"), dict):
        return None
    return cast(dict[str, Any], record["spec"])
