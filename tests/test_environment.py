"""The two ways to install (pip and conda) declare the same dependencies; the kernel exists."""

from __future__ import annotations

import re
import tomllib

import yaml

from support import REPO

# Where a package's name differs between PyPI and conda-forge (which splits ibis backends).
CONDA_NAMES = {"ibis-framework[duckdb]": "ibis-duckdb", "ibis-framework[pyspark]": "ibis-pyspark"}


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_pyproject_and_environment_yml_declare_the_same_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip_side = dict(_split(r) for r in project["dependencies"]
                    + [r for extra in project["optional-dependencies"].values() for r in extra])
    pip_side = {CONDA_NAMES.get(n, n): s for n, s in pip_side.items()}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda_side = dict(_split(d) for d in env["dependencies"] if isinstance(d, str))
    python = conda_side.pop("python")
    conda_side.pop("pip")
    assert conda_side == pip_side
    assert python == project["requires-python"]


def test_the_named_kernel_is_installed():
    from jupyter_client.kernelspec import KernelSpecManager

    assert "kam-workbooks" in KernelSpecManager().find_kernel_specs()
