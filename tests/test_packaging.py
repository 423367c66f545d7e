"""Packaging: pyproject's dependency ranges and requirements.txt's pins agree; the CLI entry points run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from coverage import paths

PYPROJECT = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file: no comments, blanks or pip options (-r, -e)."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def pinned_version(requirement: Requirement) -> Version:
    specifiers = list(requirement.specifier)
    assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{requirement} is not pinned with =="
    return Version(specifiers[0].version)


def pins(path: Path) -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in requirement_lines(path):
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{requirement.name} is pinned twice in {path.name}"
        found[name] = pinned_version(requirement)
    return found


def declared_dependencies() -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in map(Requirement, PYPROJECT["project"]["dependencies"])}


def test_every_pin_is_a_declared_dependency_inside_its_range():
    declared = declared_dependencies()
    for name, version in pins(paths.REPO_ROOT / "requirements.txt").items():
        assert name in declared, f"{name} is pinned in requirements.txt but not in pyproject's dependencies"
        specifier = declared[name].specifier
        assert specifier.contains(version, prereleases=True), f"{name}=={version} is outside pyproject's {specifier}"


def test_every_declared_dependency_is_pinned():
    pinned = pins(paths.REPO_ROOT / "requirements.txt")
    missing = sorted(set(declared_dependencies()) - set(pinned))
    assert not missing, f"in pyproject's dependencies but not pinned in requirements.txt: {missing}"


def test_dev_requirements_build_on_the_runtime_pins():
    lines = [
        line.strip() for line in (paths.REPO_ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    ]
    assert "-r requirements.txt" in lines
    assert "-e ." in lines, "the atlas console script and bench/ scripts need the package installed"
    # Every tool is pinned too, so a contributor's checks and CI's are the same versions.
    runtime = pins(paths.REPO_ROOT / "requirements.txt")
    for name in pins(paths.REPO_ROOT / "requirements-dev.txt"):
        assert name not in runtime, f"{name} is pinned in both requirements files"


def test_the_atlas_console_script_is_the_cli():
    assert PYPROJECT["project"]["scripts"]["atlas"] == "coverage.cli:atlas"
    from coverage import cli

    assert callable(cli.atlas)


def run_help(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*command, "--help"], cwd=paths.REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_python_m_coverage_help_exits_0():
    result = run_help([sys.executable, "-m", "coverage"])
    assert result.returncode == 0, result.stderr
    assert "python -m coverage" in result.stdout


def test_atlas_help_exits_0():
    # The script beside this interpreter first: the one this environment installed, not another's on PATH.
    atlas = shutil.which("atlas", path=str(Path(sys.executable).parent)) or shutil.which("atlas")
    if atlas is None:
        pytest.skip("the atlas console script is not installed (pip install -e .)")
    result = run_help([atlas])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: atlas")
