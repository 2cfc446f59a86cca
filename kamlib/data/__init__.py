"""The data layer: the data contract and everything that reads a company's data.

The contract (:mod:`.contract`, with :mod:`.criteria` for the selection criteria file)
declares every input; the mapping files (:mod:`.mapping`, with :mod:`.expressions`,
:mod:`.patterns`, :mod:`.yaml_files`) rename a company's exports onto it, and
:mod:`.mapped_exports` applies them; :mod:`.load` reads a data folder into a
:class:`~.dataset.Dataset` (:mod:`.table_files` and :mod:`.csv_files` find and read the
files, :mod:`.values` and :mod:`.dates` parse the cells, :mod:`.repeated_rows` refuses
double exports, :mod:`.large` keeps large tables on disk); :mod:`.validate` checks them
and :mod:`.describe` documents them; :mod:`.engine` puts them on DuckDB or Spark through
ibis; :mod:`.periods` is the quarter; :mod:`.ready` is a company's data ready for a
workbook. Nothing here imports a higher layer, and inside it imports point one way (the
second layers contract in pyproject.toml).
"""
