"""Seeded synthetic companies for the benchmarks, generated once into a gitignored cache.

Every data set is the sample company of :mod:`kamlib.sample` (same generator as
``data/sample``), streamed to Parquet in chunks so memory stays bounded: invoice lines
and activities are folders of part files, which kamlib reads in place. Companies keep
100 invoice lines per account over three years, so the account counts of the selection
and lifetime-value cases and the line counts of the value cases describe one family:
10 thousand accounts have 1 million lines, 1 million accounts 100 million lines.

A finished data set holds ``.complete`` with the arguments it was made with; anything
else in the folder (an interrupted run) is regenerated.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".data"
LINES_PER_ACCOUNT = 100
SEED = 7


@dataclass(frozen=True)
class Company:
    """A synthetic company: ``accounts`` accounts with about ``lines`` invoice lines."""

    accounts: int
    lines: int
    seed: int = SEED

    @property
    def name(self) -> str:
        return f"accounts{_short(self.accounts)}-lines{_short(self.lines)}-seed{self.seed}"

    @property
    def folder(self) -> Path:
        return CACHE / self.name


def company(accounts: int) -> Company:
    return Company(accounts, accounts * LINES_PER_ACCOUNT)


def _short(n: int) -> str:
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


def ensure(spec: Company, log=print) -> Path:
    """The data set's folder, generated first if it is not complete."""
    marker = spec.folder / ".complete"
    if marker.is_file() and json.loads(marker.read_text()) == asdict(spec):
        return spec.folder
    from kamlib.sample import write_sample  # imported here: only needed when generating

    shutil.rmtree(spec.folder, ignore_errors=True)
    spec.folder.with_suffix(".lifetime.parquet").unlink(missing_ok=True)  # cases' cached inputs
    log(f"generating {spec.name} (once; cached in {CACHE})")
    write_sample(spec.folder, accounts=spec.accounts, invoice_lines=spec.lines, seed=spec.seed,
                 file_format="parquet")
    marker.write_text(json.dumps(asdict(spec)))
    return spec.folder


if __name__ == "__main__":  # python -m benchmarks.datasets ACCOUNTS...: generate ahead
    import sys

    for n in sys.argv[1:]:
        print(ensure(company(int(n))))
