"""Layer contracts: import-linter checks [tool.importlinter] in pyproject.toml, and really fails when broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coverage import paths

# The command beside this interpreter first: the one this environment installed, not another's on PATH.
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="lint-imports (import-linter) is not installed")


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    assert LINT_IMPORTS is not None
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else None
    return subprocess.run([LINT_IMPORTS], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_atlas_keeps_its_layer_contracts():
    result = lint_imports(paths.REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# A throwaway package with the same kinds of contract as pyproject's: outputs above the model in
# layers, and the model forbidden from importing outputs.
CONTRACTS = """
[tool.importlinter]
root_packages = ["pkg"]

[[tool.importlinter.contracts]]
name = "model never imports outputs"
type = "forbidden"
source_modules = ["pkg.model"]
forbidden_modules = ["pkg.outputs"]

[[tool.importlinter.contracts]]
name = "outputs above model"
type = "layers"
layers = ["pkg.outputs", "pkg.model"]
"""


def write_package(root: Path, *, model_imports_outputs: bool) -> None:
    files = {
        "pyproject.toml": CONTRACTS,
        "pkg/__init__.py": "",
        "pkg/model/__init__.py": "",
        "pkg/model/a.py": "import pkg.outputs.b\n" if model_imports_outputs else "VALUE = 1\n",
        "pkg/outputs/__init__.py": "",
        "pkg/outputs/b.py": "import pkg.model.a\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_a_package_that_keeps_the_contracts_passes(tmp_path):
    write_package(tmp_path, model_imports_outputs=False)
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_a_model_that_imports_outputs_breaks_both_kinds_of_contract(tmp_path):
    write_package(tmp_path, model_imports_outputs=True)
    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "0 kept, 2 broken" in result.stdout, result.stdout + result.stderr
    assert "pkg.model.a -> pkg.outputs.b" in result.stdout
