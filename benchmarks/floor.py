"""The floor of ``kam run all``: papermill running N empty notebooks, one after the other.

``python -m benchmarks.floor N FOLDER``: the same kernel (``kam-workbooks``) and one
Python process, as ``kam run all`` uses, but notebooks with one empty cell: what
starting kernels and executing notebooks costs before any work is done.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import papermill as pm

from kamlib.run.runner import KERNEL


def main(count: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "empty.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    nbformat.write(notebook, empty)
    for i in range(count):
        pm.execute_notebook(empty, folder / f"executed-{i}.ipynb", kernel_name=KERNEL,
                            progress_bar=False)


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
