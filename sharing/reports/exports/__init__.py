"""Exports of a selection of the ledger: CSV and XLSX of every entry (streamed: memory does not
grow with the entries), a PDF report with the charts, and the JSON of the API."""
