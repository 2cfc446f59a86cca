"""The package installs: its wheel, installed with pip (not editable) into a fresh virtual
environment, runs ``kam run all`` on the sample from any folder, with no kernel to
install and nothing written where it runs.

Slow (a minute or two, most of it pip installing the dependencies): marked ``installs``.
``make test`` and CI run it; deselect it with ``pytest -m "not installs"``. CI builds the
wheel once (``make wheel``) and names it in ``KAM_WHEEL``; otherwise the test builds one
from a copy of the working tree (setuptools builds in the source folder and would leave
``build/`` behind). The dependencies come from the package index pip is configured with,
through pip's cache: quick once they are cached. Offline, point pip at a folder of wheels
(``PIP_NO_INDEX=1 PIP_FIND_LINKS=/path/to/wheels``) or deselect the test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO, SAMPLE
from kamlib.run.runner import WORKBOOKS

pytestmark = pytest.mark.installs

PIP_TIMEOUT = 1800  # a cold cache downloads a few hundred MB of wheels


def test_the_installed_package_runs_every_workbook_from_any_folder(tmp_path):
    wheel = _wheel(tmp_path / "dist")
    python = _fresh_venv(tmp_path / "venv")
    _run(python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", str(wheel),
         timeout=PIP_TIMEOUT, env=_user_env(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "reports"

    result = subprocess.run([str(python.parent / "kam"), "run", "all", "--data", str(SAMPLE),
                             "--out", str(out), "--quiet"], capture_output=True, text=True,
                            timeout=900, cwd=elsewhere, env=_user_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    reports = {r.parent.name: r for r in out.glob("*/*/report.html")}
    assert sorted(reports) == sorted(WORKBOOKS)
    for name, report in reports.items():  # each from its notebook, with the package's template
        html = report.read_text(encoding="utf-8")
        assert WORKBOOKS[name].title in html and "Plotly.newPlot(" in html
    assert not list(elsewhere.iterdir())  # nothing written where kam ran
    for report in reports.values():
        manifest = json.loads((report.parent / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["packages"]["kam-workbooks"]  # installed, with its version
        assert manifest["git_commit"] is None  # an installed package names no checkout
    assert _installed_kamlib(python, tmp_path).is_relative_to(tmp_path / "venv")


def _wheel(dist: Path) -> Path:
    """CI's wheel (KAM_WHEEL), or one built here from a copy of the working tree."""
    if os.environ.get("KAM_WHEEL"):
        return Path(os.environ["KAM_WHEEL"]).resolve(strict=True)
    source = dist.parent / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "kamlib", source / "kamlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if importlib.util.find_spec("build"):
        command = ["-m", "build", "--wheel", "--outdir", str(dist), str(source)]
    else:
        command = ["-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                   "--wheel-dir", str(dist), str(source)]
    _run(Path(sys.executable), *command, timeout=PIP_TIMEOUT)
    wheels = list(dist.glob("kam_workbooks-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _fresh_venv(folder: Path) -> Path:
    """A virtual environment of the interpreter the tests run on, with pip and nothing else."""
    _run(Path(sys.executable), "-m", "venv", str(folder), timeout=300)
    return folder / "bin" / "python"


def _user_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user who never set anything up: no PYTHONPATH (here it may
    point at the checkout, which would hide the installed package) and an empty Jupyter
    data folder, so that no kernel installed for the checkout is found."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "JUPYTER", "VIRTUAL_ENV"))}
    return env | {"JUPYTER_DATA_DIR": str(tmp_path / "jupyter"), "COLUMNS": "200"}


def _installed_kamlib(python: Path, tmp_path: Path) -> Path:
    done = subprocess.run([str(python), "-c", "import kamlib; print(kamlib.__file__)"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=_user_env(tmp_path), check=True)
    return Path(done.stdout.strip())


def _run(python: Path, *args: str, timeout: int, env: dict[str, str] | None = None) -> None:
    done = subprocess.run([str(python), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert done.returncode == 0, f"{python} {' '.join(args)}\n{done.stdout}{done.stderr}"
