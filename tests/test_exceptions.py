"""Every exception kamlib raises to a user is public and a KamError, whose message says
what to do: a caller can catch ``kamlib.errors.KamError`` (or the one it expects by name)
and never meets a private class.

The source of every kamlib module is read: each exception class it defines, and each
``raise`` of a private name (a helper building the exception), is checked.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import kamlib
from kamlib.errors import KamError

NOT_FOR_USERS = {
    "kamlib.cli.Stopped": "how Ctrl-C ends a run inside the CLI; never reaches a caller",
    "kamlib.sample._write.SampleContractError": "the sample generator's check of its own "
    "output against the contract: a fault in kamlib, not in anyone's input",
    "kamlib.economics.value._base.NotFittedError": "scikit-learn's convention for an "
    "estimator used before fit: a programming error, caught as scikit-learn's",
    "kamlib.words.catalogue.UnknownLanguageError": "kamlib.words sits below kamlib.errors in "
    "the layers, so it cannot import KamError; a ValueError whose message lists languages",
}
"""Exception classes that are not KamErrors, and why."""


def kamlib_modules() -> list[str]:
    found = [kamlib.__name__]
    for module in pkgutil.walk_packages(kamlib.__path__, prefix="kamlib."):
        found.append(module.name)
    return found


MODULES = kamlib_modules()


def exception_classes(module) -> list[type[BaseException]]:
    """The exception classes a module defines (warnings are warned, not raised)."""
    return [value for _, value in inspect.getmembers(module, inspect.isclass)
            if issubclass(value, BaseException) and not issubclass(value, Warning)
            and value.__module__ == module.__name__]


def test_every_kamlib_module_is_scanned():
    assert {"kamlib.data.load", "kamlib.data.criteria", "kamlib.errors", "kamlib.cli"} <= set(
        MODULES)
    assert len([m for m in MODULES if m.startswith("kamlib.selection.")]) > 5


@pytest.mark.parametrize("name", MODULES)
def test_exceptions_defined_are_public_kam_errors(name):
    module = importlib.import_module(name)
    for error in exception_classes(module):
        where = f"{name}.{error.__qualname__}"
        assert not error.__name__.startswith("_"), f"{where} is private: make it public"
        if where not in NOT_FOR_USERS:
            assert issubclass(error, KamError), f"{where} must subclass kamlib.errors.KamError"
            assert (error.__doc__ or "").strip(), f"{where} needs a docstring saying when"


def private_raises(source: str) -> list[tuple[int, str]]:
    """The line and name of each ``raise _name(...)`` or ``raise _name``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id.startswith("_"):
                found.append((node.lineno, target.id))
    return found


@pytest.mark.parametrize("name", MODULES)
def test_a_private_helper_raises_only_a_public_kam_error(name):
    """``raise _criteria_problem(...)`` is fine when the helper returns a public KamError;
    a private exception class raised to the caller is not."""
    module = importlib.import_module(name)
    source = Path(inspect.getfile(module)).read_text(encoding="utf-8")
    for line, helper in private_raises(source):
        raised = getattr(module, helper)
        assert not inspect.isclass(raised), f"{name}, line {line}: raises private {helper}"
        hints = inspect.get_annotations(raised, eval_str=True)
        returned = hints.get("return")
        assert inspect.isclass(returned) and issubclass(returned, KamError), (
            f"{name}, line {line}: {helper} must be annotated to return a public KamError")
        assert not returned.__name__.startswith("_"), f"{name}, line {line}: {returned}"


def test_the_scan_finds_a_private_exception_raised():
    source = "class _Hidden(Exception):\n    pass\n\ndef f():\n    raise _Hidden('x')\n"
    assert private_raises(source) == [(5, "_Hidden")]


def test_reading_the_criteria_raises_a_read_error_saying_what_to_do(tmp_path):
    from kamlib.data.criteria import read_criteria
    from kamlib.errors import ReadError

    path = tmp_path / "selection_criteria.yml"
    path.write_text("agreed_by: [board\n", encoding="utf-8")
    with pytest.raises(ReadError, match="Fix: ") as caught:
        read_criteria(path)
    assert isinstance(caught.value, KamError)
    assert caught.value.problem.file == "selection_criteria.yml"


def test_a_yaml_syntax_error_is_a_kam_error_with_its_fix(tmp_path):
    from kamlib.data.yaml_files import YamlSyntaxError, read_yaml

    path = tmp_path / "mapping.yml"
    path.write_text("tables:\n\taccounts: {}\n", encoding="utf-8")
    with pytest.raises(YamlSyntaxError, match="Fix: indent with spaces only") as caught:
        read_yaml(path)
    assert isinstance(caught.value, KamError)
