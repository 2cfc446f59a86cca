"""The layers hold: import-linter checks the contracts in pyproject.toml (docs/architecture.md).

A module imports only from its own layer and the layers below it: cli, run (beside it the
sample generator), workbooks, selection and programme, reports, economics, data, errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from support import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the kamlib in ``root`` (not an installed copy), with its contracts."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_layers_contract_holds():
    result = lint_imports(REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Layers: cli, run, workbooks" in output and "0 broken" in output, output


def test_a_lower_layer_importing_a_higher_one_is_caught(tmp_path):
    shutil.copytree(REPO / "kamlib", tmp_path / "kamlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    with (tmp_path / "kamlib" / "data" / "periods.py").open("a") as module:
        module.write("\nimport kamlib.run.runner  # noqa: E402\n")
    result = lint_imports(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "kamlib.data.periods -> kamlib.run.runner" in output, output
