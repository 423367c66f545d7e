"""Shared fixtures: small synthetic boundary files, the shipped force table, and ../shared when present."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from coverage import paths
from coverage.model.forces import force_names, read_force_table

SHARED_DIR = paths.REPO_ROOT.parent / "shared"
SHARED_DATA = SHARED_DIR / "data"
SHARED_RESEARCH = SHARED_DIR / "research"


@pytest.fixture(scope="session")
def forces():
    return read_force_table(paths.FORCES_CSV)


@pytest.fixture(scope="session")
def known_forces(forces) -> dict[str, str]:
    return force_names(forces)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "PROVENANCE.md").exists():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


def grid_boundaries(known_forces: dict[str, str], *, code_field="PFA23CD", name_field="PFA23NM") -> gpd.GeoDataFrame:
    """43 adjoining 10 km squares on the British National Grid, one per force code."""
    codes = sorted(known_forces)
    squares = [
        shapely.box(
            400_000 + (i % 7) * 10_000,
            200_000 + (i // 7) * 10_000,
            410_000 + (i % 7) * 10_000,
            210_000 + (i // 7) * 10_000,
        )
        for i in range(len(codes))
    ]
    return gpd.GeoDataFrame(
        {code_field: codes, name_field: [known_forces[c] for c in codes]}, geometry=squares, crs=27700
    )


@pytest.fixture
def grid(known_forces) -> gpd.GeoDataFrame:
    return grid_boundaries(known_forces)


# The browser tests' app and Chromium: one server and one browser per test module (each module's
# pages start from a fresh server), Debian's /usr/bin/chromium, never a downloaded browser.
@pytest.fixture(scope="module")
def app_url():
    from tests.apprunner import running_app

    with running_app() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.apprunner import launch_chromium

    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
