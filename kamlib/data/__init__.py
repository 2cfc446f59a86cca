"""The data layer: the data contract and everything that reads a company's data.

The contract (:mod:`.contract`) declares every input table; the mapping files
(:mod:`.mapping`, with :mod:`.expressions`, :mod:`.patterns`, :mod:`.yaml_files`) rename a
company's exports onto it; :mod:`.load` reads them (:mod:`.csv_files`, :mod:`.dates`,
:mod:`.large` for tables kept on disk), :mod:`.validate` checks them and :mod:`.describe`
documents them; :mod:`.engine` puts them on DuckDB or Spark through ibis; :mod:`.periods`
is the quarter; :mod:`.ready` is a company's data ready for a workbook. Nothing here
imports a higher layer.
"""
