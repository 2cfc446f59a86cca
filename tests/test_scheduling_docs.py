"""The scheduling examples stay runnable: every `kam` command in docs/scheduling.md and in
the example Airflow DAG uses options and workbooks that exist.

Airflow is not a dependency: the DAG is executed against a stand-in that only records
the commands its tasks would run.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import types
from functools import cache

import pytest

from kamlib.run.runner import WORKBOOKS
from support import KAM, REPO

DOC = REPO / "docs" / "scheduling.md"
DAG_FILE = REPO / "docs" / "examples" / "airflow_kam_dag.py"
SHELL_OPERATORS = {">>", ">", "2>&1", "||", "&&", "|", ";"}


@cache
def options_of(command: str) -> set[str]:
    result = subprocess.run([str(KAM), command, "--help"], capture_output=True, text=True,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"--[a-z][a-z-]*", result.stdout))


def check_kam_command(line: str) -> None:
    words = shlex.split(line)
    words = words[: next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), None)]
    assert words[0].endswith("/kam"), line
    command, rest = words[1], words[2:]
    if command == "run":
        assert rest[0] in {*WORKBOOKS, "all"}, f"no workbook {rest[0]!r}: {line}"
    unknown = {w for w in rest if w.startswith("--")} - options_of(command)
    assert not unknown, f"kam {command} has no option {unknown}: {line}"


def doc_commands() -> list[str]:
    """kam command lines in the page's shell and cron blocks, continuations joined."""
    blocks = re.findall(r"```(?:bash|cron)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [line[line.index("/opt/kam-workbooks/.venv/bin/kam"):] for line in lines
            if "/.venv/bin/kam " in line]


def test_every_kam_command_in_the_scheduling_page_is_valid():
    commands = doc_commands()
    assert len(commands) >= 3  # the plain run, cron, the wrapper script
    for line in commands:
        check_kam_command(line)


class _Task:
    """Stands in for BashOperator: records the command, accepts >> between tasks."""

    created: list[_Task] = []

    def __init__(self, task_id: str, bash_command: str, **kwargs):
        self.task_id, self.bash_command = task_id, bash_command
        _Task.created.append(self)

    def __rshift__(self, other):
        return other


class _Dag:
    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def airflow_stand_in(monkeypatch):
    modules = {name: types.ModuleType(name) for name in (
        "airflow", "airflow.sdk", "airflow.providers", "airflow.providers.standard",
        "airflow.providers.standard.operators", "airflow.providers.standard.operators.bash")}
    modules["airflow.sdk"].DAG = _Dag
    modules["airflow.providers.standard.operators.bash"].BashOperator = _Task
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    _Task.created = []
    return _Task.created


def test_the_airflow_dag_runs_valid_kam_commands(airflow_stand_in):
    namespace: dict = {"__name__": "kam_dag"}
    exec(compile(DAG_FILE.read_text(encoding="utf-8"), str(DAG_FILE), "exec"), namespace)
    tasks = {task.task_id: task.bash_command for task in airflow_stand_in}
    assert "validate_data" in tasks and "report_value" in tasks
    assert namespace["dag"].kwargs["schedule"] == "30 6 5 1,4,7,10 *"
    for command in tasks.values():
        check_kam_command(command)
    assert all("--quiet" in c for task, c in tasks.items() if task.startswith("report_"))


def test_the_notebooks_the_scheduling_page_names_exist_in_the_checkout():
    """The page's checkout is /opt/kam-workbooks: each notebook it names is there."""
    named = re.findall(r"/opt/kam-workbooks/(\S+?\.ipynb)", DOC.read_text(encoding="utf-8"))
    assert named  # the PapermillOperator example
    for path in named:
        assert (REPO / path).is_file(), f"docs/scheduling.md names {path}, which is not there"
