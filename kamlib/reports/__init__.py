"""Reports: what the workbooks show, beside them.

Charts (:mod:`.charts`), Excel exports (:mod:`.excel`), the HTML export of a report
(:mod:`.report_exporter`, with its template in ``templates/``) and the words and number
formats (:mod:`.labels`). Nothing here imports the workbooks, the runner or the CLI.
"""
