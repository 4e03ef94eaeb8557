"""The lead-matching benchmark (政策找人): department lists against the register.

The bureau of 长宁区 uploads the lists of `benchmarks.data.plan_lists` through the services
the pages call, with the audit triggers on as in production (the leads' and facts' events
are part of the real cost):

1. `first_list`: 区残联's list, new to the system (matched, new leads, invalid, unplaceable);
2. `second_list`: 区医保局's list, repeating 30% of the first (facts merged into its leads);
3. `first_list_again`: the first file once more: every valid row a duplicate, nothing new;
4. `first_list_again_xlsx`: the same as an .xlsx workbook (what reading Excel adds).

Each step is two jobs: `lead_matching.<step>.upload` is `receive_list` (the upload page:
the file read and kept), `lead_matching.<step>` is `process_upload` (the mapping page's
confirmation: the file read again, every row matched, the leads and facts written, the
report saved). The target is `lead_matching.first_list` under 60 s for 100,000 rows
against 300,000 registered people on PostgreSQL.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from audit.loading import triggers_held_off
from audit.tracking import tracking_for
from benchmarks import Measurement, data, measured
from benchmarks.users import bureau_user
from cases import leads as lead_services
from cases.lead_models import Lead, LeadFact, LeadSource, LeadUpload
from stations.models import District

NAME = "lead_matching"
# (step, list, file format)
STEPS = (
    ("first_list", "first_list", "csv"),
    ("second_list", "second_list", "csv"),
    ("first_list_again", "first_list_again", "csv"),
    ("first_list_again_xlsx", "first_list_again", "xlsx"),
)
TARGET_SECONDS = 60
TARGET_JOB = f"{NAME}.first_list"


@dataclass
class ListInput:
    """A list to upload: its source, its files by format, and the counts it must give."""

    name: str
    source: str
    files: dict  # format -> bytes
    expected: dict
    rows: int


@dataclass
class StepResult:
    step: str
    file_format: str
    rows: int
    upload: Measurement
    process: Measurement
    counts: dict
    expected: dict
    file_mb: float = 0.0

    @property
    def as_planted(self):
        return self.counts == self.expected


def inputs_from_manifest(manifest):
    """The lists `benchmarks.data.prepare` wrote, read into memory."""
    return [
        ListInput(
            name=entry["name"],
            source=entry["source"],
            files={fmt: Path(path).read_bytes() for fmt, path in entry["files"].items()},
            expected=entry["expected"],
            rows=entry["rows"],
        )
        for entry in manifest["lists"]
    ]


def inputs_from_lists(lead_lists, *, xlsx=True):
    """Lists planned in memory (`benchmarks.data.plan_lists`), as files."""
    inputs = []
    files = {}
    for lead_list in lead_lists:
        if lead_list.name != "first_list_again":  # that one uploads the first list's files
            files[lead_list.name] = {"csv": lead_list.csv_bytes()}
            if xlsx and lead_list.name == "first_list":
                files[lead_list.name]["xlsx"] = lead_list.xlsx_bytes()
        content = files.get(lead_list.name) or files["first_list"]
        inputs.append(
            ListInput(
                name=lead_list.name,
                source=lead_list.source,
                files=content,
                expected=lead_list.expected,
                rows=len(lead_list.rows),
            )
        )
    return inputs


def _source(actor, name):
    source = LeadSource.objects.filter(district=actor.district_id, name=name).first()
    return source or lead_services.create_source(actor=actor, name=name, department=name[:3])


def _counts(upload):
    return {
        "matched": upload.rows_matched,
        "new_lead": upload.rows_new,
        "merged": upload.rows_merged,
        "duplicate": upload.rows_duplicate,
        "invalid": upload.rows_invalid,
        "unplaceable": upload.rows_unplaceable,
    }


def run(inputs, *, district_code=data.UPLOADER_DISTRICT, steps=STEPS):
    """Upload and process the lists step by step; a `StepResult` for each step.

    Runs in the current database, which holds the data set and no lead yet (`reset`).
    Steps whose file format the inputs lack (no .xlsx) are left out.
    """
    by_name = {item.name: item for item in inputs}
    actor = bureau_user(District.objects.get(code=district_code))
    today = timezone.localdate()
    results = []
    for position, (step, list_name, file_format) in enumerate(steps):
        item = by_name[list_name]
        content = item.files.get(file_format)
        if content is None:
            continue
        source = _source(actor, item.source)
        received_on = today - datetime.timedelta(days=len(steps) - position)
        with measured(connection) as upload_time:
            upload = lead_services.receive_list(
                actor=actor,
                source=source,
                received_on=received_on,
                file_name=f"{list_name}.{file_format}",
                file_format=file_format,
                content=content,
            )
        with measured(connection) as process_time:
            upload = lead_services.process_upload(
                actor=actor,
                upload=upload,
                mapping=data.MAPPING,
                fact_columns=data.FACT_COLUMNS,
            )
        results.append(
            StepResult(
                step=step,
                file_format=file_format,
                rows=upload.rows_total,
                upload=upload_time,
                process=process_time,
                counts=_counts(upload),
                expected=item.expected,
                file_mb=len(content) / 2**20,
            )
        )
        del upload
    return results


def jobs(results):
    """The results' jobs: `{name: {"seconds", "peak_mb"}}`."""
    out = {}
    for result in results:
        out[f"{NAME}.{result.step}.upload"] = result.upload.as_json()
        out[f"{NAME}.{result.step}"] = result.process.as_json()
    return out


def reset():
    """Delete what an earlier run wrote (lists, leads, facts and their audit events).

    Only for the benchmark's own database: its rows and events are made up. Runs with the
    triggers held off, so that deleting writes no events and the append-only event tables
    let go; without that right the rows are deleted with their triggers, events stay. Then
    vacuums the tables, so that every run starts from the same state.
    """
    models = [LeadFact, Lead, LeadUpload, LeadSource]  # the referring ones first
    quote = connection.ops.quote_name
    events = [tracking_for(model).event_model for model in models]
    with transaction.atomic(), triggers_held_off() as quiet:
        others = [
            relation.related_model
            for relation in Lead._meta.related_objects
            if relation.related_model not in models + events
            and relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__isnull": False}
            ).exists()
        ]
        if others:
            names = ", ".join(model._meta.label for model in others)
            raise RuntimeError(f"基准数据库中有引用线索的其他记录({names}),请用 --rebuild 重建。")
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")
            if quiet:
                for event in events:
                    cursor.execute(f"DELETE FROM {quote(event._meta.db_table)}")
    if connection.vendor == "postgresql":
        # Run after run, the deleted rows would pile up and each run meet a larger table.
        tables = ", ".join(quote(model._meta.db_table) for model in models + events)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {tables}")
