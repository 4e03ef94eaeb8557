"""Factories for 政策找人: lists as files, sources, uploads processed, leads."""

import csv
import datetime
import io

from cases import leads as lead_services
from cases.lead_models import DEFAULT_FACT_COLUMNS, DEFAULT_MAPPING, LeadSource

DEFAULT_HEADERS = [*DEFAULT_MAPPING.values(), *DEFAULT_FACT_COLUMNS]


def csv_bytes(rows, headers=DEFAULT_HEADERS, encoding="utf-8-sig"):
    """A list as a CSV file: `rows` are lists of cells, or dicts by header."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers] if isinstance(row, dict) else row)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=DEFAULT_HEADERS):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h, "") for h in headers] if isinstance(row, dict) else list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_source(district, name="区残联·残疾人证", **fields):
    return LeadSource.objects.create(district=district, name=name, **fields)


def upload_list(
    actor,
    source,
    rows,
    *,
    headers=DEFAULT_HEADERS,
    mapping=None,
    fact_columns=None,
    received_on=datetime.date(2026, 11, 2),
    today=None,
):
    """Receive and process a CSV list through the services, as the pages do."""
    upload = lead_services.receive_list(
        actor=actor,
        source=source,
        received_on=received_on,
        file_name="名单.csv",
        file_format="csv",
        content=csv_bytes(rows, headers),
    )
    if mapping is None:
        mapping, fact_columns = lead_services.suggested_mapping(source, headers)
    return lead_services.process_upload(
        actor=actor, upload=upload, mapping=mapping, fact_columns=fact_columns or [], today=today
    )
