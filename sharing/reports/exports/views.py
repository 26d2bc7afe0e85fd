"""Downloads of a selection: CSV and XLSX of its entries, the PDF report."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from flask import Response, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from sharing.access import allow
from sharing.db import db_session
from sharing.errors import NotVisible
from sharing.reports.dashboard import rules
from sharing.reports.dashboard.views import READERS, blueprint, selection
from sharing.reports.exports import formats
from sharing.reports.labels import ENTRY_KIND_LABELS, FACTOR_KIND_LABELS, file_name
from sharing.reports.ledger.receiver import ledger_rules
from sharing.reports.names import names

# A text type gets "; charset=utf-8" from Flask: naming it here would say it twice.
TYPES = {"csv": "text/csv",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def labels() -> tuple[dict[str, str], dict[str, str]]:
    return ({k.value: str(v) for k, v in ENTRY_KIND_LABELS.items()},
            {k.value: str(v) for k, v in FACTOR_KIND_LABELS.items()})


def methodology() -> list[str]:
    configured = ledger_rules()
    return formats.methodology_lines(configured.loan_min_days, configured.displacement_rate)


@blueprint.get("/export.<file_format>")
@allow(*READERS)
def export(file_format: str) -> ResponseReturnValue:
    if file_format not in TYPES:
        raise NotVisible(file_format)
    found_names = names(db_session, str(get_locale()))
    chosen = selection(found_names).selection
    kinds, factor_kinds = labels()
    name = file_name(chosen, found_names, file_format)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if file_format == "csv":
        return Response(stream_with_context(formats.csv_chunks(db_session, chosen, found_names, kinds,
                                                                      factor_kinds)),
                        mimetype=TYPES["csv"], headers=headers)
    spooled = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the response closes it
    if file_format == "xlsx":
        formats.write_xlsx(spooled, db_session, chosen, found_names, kinds, methodology=methodology(),
                           factor_kind_labels=factor_kinds)
    else:
        formats.write_pdf(spooled, rules.figures(db_session, chosen), found_names, methodology=methodology(),
                          loan_min_days=ledger_rules().loan_min_days)
    spooled.seek(0)
    response = Response(_chunks(spooled), mimetype=TYPES[file_format], headers=headers)
    response.call_on_close(spooled.close)
    return response


def _chunks(file: tempfile.SpooledTemporaryFile[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(64 * 1024):
            yield chunk
    finally:
        file.close()
