"""The KAM Workbooks benchmark suite: ``make bench`` (full) or ``make bench SCALE=small``.

Not part of ``make test``: timings live here only, never in unit tests. Each case runs
in its own Python process (see :mod:`benchmarks.measure`) so that its peak memory is its
own; figures are medians of several runs; comparisons run side by side in the same
``make bench``. The results table is written to ``BENCHMARKS.md`` at the repository root.
"""
