"""Where the shipped, derived data files live inside the repository.

Run-time code reads only these paths, never ``../shared``: a fresh clone must run.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"

BOUNDARIES_GEOJSON = DATA_DIR / "boundaries" / "pfa_dec2023_simplified.geojson"
FORCES_CSV = DATA_DIR / "forces" / "forces.csv"
SERVICES_CSV = DATA_DIR / "services" / "register.csv"
SOURCES_CSV = DATA_DIR / "services" / "sources.csv"
INDICATORS_CSV = DATA_DIR / "indicators" / "indicators.csv"
SCENARIO_PRESETS_DIR = DATA_DIR / "scenarios" / "presets"

STATIC_DIR = REPO_ROOT / "static"
LEAFLET_DIR = STATIC_DIR / "vendor" / "leaflet"
