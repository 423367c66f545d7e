"""Where the shipped, derived data files live inside the repository.

Run-time code reads only these paths, never ``../shared``: a fresh clone must run.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# ATLAS_DATA_DIR points the app at another build of data/ (a new release being checked, a deployment's
# own copy); by default the shipped files beside the code.
DATA_DIR = Path(os.environ.get("ATLAS_DATA_DIR") or REPO_ROOT / "data")
# ATLAS_PUBLIC_URL is the address a deployment serves the atlas at (e.g. https://atlas.example.org): every chart
# footer and briefing PDF then says where it came from. Unset (the default), they name the atlas without an address,
# never a made-up one.
PUBLIC_URL = (os.environ.get("ATLAS_PUBLIC_URL") or "").strip()

BOUNDARIES_GEOJSON = DATA_DIR / "boundaries" / "pfa_dec2023_simplified.geojson"
FORCES_CSV = DATA_DIR / "forces" / "forces.csv"
SERVICES_CSV = DATA_DIR / "services" / "register.csv"
# The one sources registry: every source the register, the planner presets and the indicators cite.
SOURCES_CSV = DATA_DIR / "sources.csv"
INDICATORS_CSV = DATA_DIR / "indicators" / "indicators.csv"
SCENARIO_PRESETS_DIR = DATA_DIR / "scenarios" / "presets"

STATIC_DIR = REPO_ROOT / "static"
LEAFLET_DIR = STATIC_DIR / "vendor" / "leaflet"
