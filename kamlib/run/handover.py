"""The giving side of the run's hand-over: validate a company's data once per ``kam run``
and offer it to the kernels the runner starts.

The receiving side, and what the hand-over may be used for, is described in
:mod:`kamlib.data.ready`: a workbook's :func:`~kamlib.data.ready.load_valid` takes the
data from here only while the files it was validated from are unchanged.
"""

from __future__ import annotations

import os
import pickle
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kamlib.data.load import Dataset
from kamlib.data.ready import HANDED_OVER, inputs_fingerprint, validated


@contextmanager
def handed_over(data_dir: Path, mapping: Path | None, *, beside: Path, prefix: str,
                meanwhile: Callable[[], None] | None = None) -> Iterator[Dataset]:
    """Validate the data and offer it to the kernels started inside the block (see the
    module docstring). The hand-over lives in a folder of its own made in ``beside``,
    named with ``prefix`` (the runner's work-folder names, so that a later run clears
    it if this one is killed), and is removed when the block ends.

    meanwhile: called before validating, once processes started from then on know
    where the hand-over will be (the runner starts its kernels there); nothing is
    written to ``beside`` before the data is found valid.
    """
    # Fingerprint first: a file rewritten while it is being validated counts as changed.
    fingerprint = inputs_fingerprint(Path(data_dir), mapping)
    folder = beside / f"{prefix}{secrets.token_hex(6)}"
    path = folder / "data.pickle"
    before = os.environ.get(HANDED_OVER)
    os.environ[HANDED_OVER] = str(path)
    try:
        if meanwhile is not None:
            meanwhile()
        data = validated(data_dir, mapping)
        beside.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700)  # readable by this user only
        with path.open("wb") as handle:
            pickle.dump((fingerprint, data), handle, protocol=pickle.HIGHEST_PROTOCOL)
        yield data
    finally:
        if before is None:
            os.environ.pop(HANDED_OVER, None)
        else:
            os.environ[HANDED_OVER] = before
        shutil.rmtree(folder, ignore_errors=True)
