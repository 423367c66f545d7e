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


def test_the_server_refuses_large_uploads_and_hides_tracebacks():
    import tomllib

    config = tomllib.loads((paths.REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    from coverage.model.boundaries import MAX_UPLOAD_BYTES

    # The server's own limit is the largest any uploader needs, not Streamlit's 200 MB default.
    assert config["server"]["maxUploadSize"] * 1_000_000 == MAX_UPLOAD_BYTES
    assert config["client"]["showErrorDetails"] == "type"  # no traceback with server paths for visitors
