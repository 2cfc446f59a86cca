"""The run layer: executing the workbooks and publishing their reports.

:mod:`.runner` runs the notebooks; :mod:`.cache` validates the data once per run into the
run cache every workbook is given; :mod:`.kernels` starts them early; :mod:`.notebook_engine` and
:mod:`.progress` follow each cell; :mod:`.side_by_side` runs workbooks in parallel;
:mod:`.publishing` replaces a report only by a complete one.
"""
