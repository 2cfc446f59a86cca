"""Every public name of the data layer is used by kamlib itself, not only by the tests.

A function only the tests call is dead weight that looks like an interface: it either
becomes private and is tested through its public caller, or goes with its tests. The
names a module defines are looked for in the code (not the docstrings) of every other
kamlib module, of the notebooks, and of the module's own other definitions.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from support import REPO

KAMLIB = REPO / "kamlib"
DATA_MODULES = sorted((KAMLIB / "data").glob("*.py"))


def names_used(source: str) -> set[str]:
    """Every name, attribute and imported name the code refers to."""
    used = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.alias):
            used.add(node.asname or node.name.split(".")[-1])
    return used


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    # IPython's magics and shell lines are not Python.
    return "\n".join(line for line in "\n".join(lines).splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def defined(tree: ast.Module) -> list[tuple[ast.stmt, str]]:
    """The module's public top-level functions, classes and constants."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            found.append((node, node.name))
        elif isinstance(node, ast.Assign):
            found += [(node, t.id) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.append((node, node.target.id))
    return [(node, name) for node, name in found
            if not name.startswith("_") and name != "__all__"]


@pytest.fixture(scope="module")
def used_elsewhere() -> dict[Path, set[str]]:
    sources = {path: names_used(path.read_text(encoding="utf-8"))
               for path in KAMLIB.rglob("*.py")}
    sources |= {path: names_used(notebook_code(path))
                for path in (KAMLIB / "notebooks").glob("*.ipynb")}
    return sources


def unused(path: Path, used_elsewhere: dict[Path, set[str]]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    others = set().union(*(names for p, names in used_elsewhere.items() if p != path))
    found = []
    for node, name in defined(tree):
        own = set().union(*(names_used(ast.unparse(n)) for n in tree.body if n is not node))
        if name not in others and name not in own:
            found.append(name)
    return found


@pytest.mark.parametrize("path", DATA_MODULES, ids=lambda p: p.name)
def test_every_public_name_of_the_data_layer_is_used(path, used_elsewhere):
    assert unused(path, used_elsewhere) == [], (
        f"{path.name}: used by no kamlib code; make it private or remove it with its tests")


def test_a_name_only_the_tests_use_is_found(tmp_path, used_elsewhere):
    module = tmp_path / "leftover.py"
    module.write_text('LEFTOVER_TABLES = ("a",)\n\n\ndef helper_of_private():\n    return 1'
                      '\n\n\ndef _private():\n    return helper_of_private()\n\n\n'
                      'def only_the_tests_call_me():\n    return 2\n', encoding="utf-8")
    assert unused(module, used_elsewhere) == ["LEFTOVER_TABLES", "only_the_tests_call_me"]
