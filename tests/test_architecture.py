"""The layers hold: import-linter checks the contracts in pyproject.toml (docs/architecture.md).

A module imports only from its own layer and the layers below it: cli, run (beside it the
sample generator), workbooks, selection and programme, reports, economics, data, errors.
Inside the data layer a second contract orders its modules, from the data made ready for a
workbook down to the contract.
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
    assert "Data layer: ready, check and engines, load" in output, output


def copy_with_import(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of kamlib and its contracts in which ``module`` (a path under kamlib) gains
    the import ``line``."""
    shutil.copytree(REPO / "kamlib", tmp_path / "kamlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    with (tmp_path / "kamlib" / module).open("a") as source:
        source.write(f"\n{line}  # noqa: E402\n")
    return tmp_path


def test_a_lower_layer_importing_a_higher_one_is_caught(tmp_path):
    result = lint_imports(copy_with_import(tmp_path, "data/periods.py",
                                           "import kamlib.run.runner"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "kamlib.data.periods -> kamlib.run.runner" in output, output


def test_the_data_layer_has_no_circle(tmp_path):
    """The large tables' checks once reached up into the engine for DuckDB's settings,
    while the engine read the loaded dataset: an import from a lower data module to a
    higher one is now caught."""
    result = lint_imports(copy_with_import(tmp_path, "data/large.py",
                                           "import kamlib.data.engine"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "kamlib.data.large -> kamlib.data.engine" in output, output


MAX_LINES = 500
"""A module holds one concept; past about 500 lines it holds two."""
LONGER_BY_DESIGN = {
    "data/contract.py": "the contract declares every input table in one place, so that one "
                        "declaration drives validation, the reference page and the sample",
}


def test_no_module_is_longer_than_about_500_lines():
    lengths = {str(p.relative_to(REPO / "kamlib")): len(p.read_text("utf-8").splitlines())
               for p in (REPO / "kamlib").rglob("*.py")}
    too_long = {m: n for m, n in lengths.items()
                if n > MAX_LINES and m not in LONGER_BY_DESIGN}
    assert not too_long, f"split these by concept (docs/architecture.md): {too_long}"
    assert all(lengths[m] <= MAX_LINES * 1.1 for m in LONGER_BY_DESIGN), lengths
