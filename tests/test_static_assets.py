"""The app serves its own Leaflet: the vendored copy must be the XStatic 1.9.3 files, unchanged."""

from __future__ import annotations

import filecmp
from pathlib import Path

import xstatic.pkg.leaflet as xstatic_leaflet

from coverage import paths


def test_vendored_leaflet_matches_xstatic_package():
    upstream = Path(xstatic_leaflet.BASE_DIR)
    assert xstatic_leaflet.VERSION == "1.9.3"
    for relative in ("leaflet.js", "leaflet.css", "images/layers.png", "images/marker-icon.png"):
        assert filecmp.cmp(upstream / relative, paths.LEAFLET_DIR / relative, shallow=False), relative


def test_streamlit_serves_static_files_and_sends_no_usage_statistics():
    config = (paths.REPO_ROOT / ".streamlit" / "config.toml").read_text()
    assert "enableStaticServing = true" in config
    assert "gatherUsageStats = false" in config
