"""`manage.py import_leads --source NAME FILE [--date YYYY-MM-DD] [--district CODE]`.

Processes a department's list (政策找人) the way the bureau's pages do, for scheduled
exchanges: the district is the only bureau district unless `--district` is given; the
source is found by name in the district, or created; the columns are read through the
source's remembered mapping, else the default template's headers (姓名, 身份证号, 居委代码,
地址, 情况说明). The list is received and processed in one transaction (`cases.leads`,
with no user), and the report is printed in Chinese: the counts, then the invalid and the
unplaceable rows. A bad file, an unknown district or missing mapped columns stop the
command with a Chinese message and store nothing.

The run is recorded in the audit trail: its writes carry the command's name (`audit.apps`
wraps every command), and an access record (导入) names the list, like the page's.
"""

import datetime
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from audit.choices import AccessAction
from audit.models import AccessRecord
from cases import leads
from cases.choices import LeadRowOutcome
from cases.lead_models import DEFAULT_FACT_COLUMNS, DEFAULT_MAPPING, LeadSource, LeadUpload
from cases.lead_upload_forms import csv_as_utf8
from cases.views.lead_uploads import COUNTS, summary
from changning_aid.uploads import FORMATS, XLSX, content_problem
from supervision.engine import single_district

LISTED_OUTCOMES = (LeadRowOutcome.INVALID, LeadRowOutcome.UNPLACEABLE)


class Failed(Exception):
    """Stops the run inside its transaction (so that nothing is stored) with a message."""


class Command(BaseCommand):
    help = (
        "导入其他部门提供的线索名单(.xlsx 或 .csv),与困难人员档案比对:已在册的记入档案,"
        "未在册的成为线索。按来源上次的列对应读取,没有时按默认模板表头"
        "(姓名、身份证号、居委代码、地址、情况说明)。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="名单文件的路径(.xlsx 或 .csv)")
        parser.add_argument("--source", required=True, help="线索来源名称;区内没有时新建。")
        parser.add_argument("--date", default=None, help="名单日期 YYYY-MM-DD;默认今天。")
        parser.add_argument("--district", default=None, help="区代码;只有一个区时可省略。")

    def handle(self, *args, file, source, date, district, **options):
        try:
            district = single_district(district)
        except ValueError as error:
            raise CommandError(str(error)) from error
        received_on = self._date(date)
        name = (source or "").strip()
        if not name:
            raise CommandError("请用 --source 指定线索来源名称。")
        file_format, content = self._read(file)
        try:
            with transaction.atomic():
                upload = self._import(district, name, received_on, file, file_format, content)
        except Failed as failure:
            raise CommandError(str(failure)) from None
        self._report(upload)

    def _date(self, text):
        today = timezone.localdate()
        if not text:
            return today
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"名单日期“{text}”无效,请写成 2026-11-02 的格式。") from None
        if day > today:
            raise CommandError("名单日期不能晚于今天。")
        return day

    def _read(self, file):
        path = Path(file)
        file_format = path.suffix.lower().lstrip(".")
        if file_format not in FORMATS:
            raise CommandError(f"只能导入 .xlsx 或 .csv 文件:{path.name}")
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {file}:{exc.strerror or exc}") from exc
        if file_format != XLSX:
            content = csv_as_utf8(content)
        problem = content_problem(content, file_format)
        if problem:
            raise CommandError(f"{path.name}:{problem}")
        return file_format, content

    def _import(self, district, name, received_on, file, file_format, content):
        source = LeadSource.objects.select_for_update().filter(district=district, name=name).first()
        created = source is None
        if created:
            # Without a mapping: the first list is read by the default template's headers,
            # and processing it remembers that mapping on the source.
            source = LeadSource(district=district, name=name)
            try:
                source.full_clean(exclude=["district"])
            except ValidationError as error:
                raise Failed("线索来源名称无效:" + " ".join(error.messages)) from None
            source.save()
        headers = self._headers(source, content, file_format)
        mapping, facts = leads.suggested_mapping(source, headers)
        try:
            mapping, facts = leads.check_mapping(mapping, facts, headers)
        except ValidationError as error:
            if source.has_mapping:
                hint = (
                    f"来源“{name}”上次的列对应在本名单中不全;"
                    "如名单格式已变,请在网页上传一次并重设列对应。"
                )
            else:
                headers_text = "、".join([*DEFAULT_MAPPING.values(), *DEFAULT_FACT_COLUMNS])
                hint = f"名单的表头应含:{headers_text}(至少姓名、身份证号)。"
            raise Failed(" ".join(error.messages) + hint) from None
        # As `leads.receive_list` keeps a list (it wants a bureau user; here there is none).
        upload = LeadUpload.objects.create(
            district=district,
            source=source,
            received_on=received_on,
            file_name=Path(file).name[:200],
            state=LeadUpload.State.MAPPING,
            content=bytes(content),
            headers=headers + [f"\x00{file_format}"],
            uploaded_by=None,
        )
        try:
            upload = leads.process_upload(
                actor=None, upload=upload, mapping=mapping, fact_columns=facts
            )
        except ValidationError as error:
            raise Failed(" ".join(error.messages)) from None
        AccessRecord.objects.create(
            action=AccessAction.IMPORT,
            object_type=ContentType.objects.get_for_model(LeadUpload),
            object_id=str(upload.pk),
            object_repr=str(upload)[:200],
            district=district,
            path="manage.py import_leads",
            detail=f"线索名单 {source.name}({received_on.isoformat()}):{upload.file_name},"
            f"{summary(upload)}(命令行导入{',新建来源' if created else ''})",
        )
        return upload

    def _headers(self, source, content, file_format):
        """The list's headers, found as `leads.receive_list` finds them."""
        id_header = (source.mapping or {}).get("id_number") if source.has_mapping else None
        try:
            try:
                headers, rows = leads.read_list(content, file_format)
            except ValidationError:
                if not id_header:
                    raise
                headers, rows = leads.read_list(content, file_format, id_header=id_header)
            if id_header and id_header not in headers:
                headers, rows = leads.read_list(content, file_format, id_header=id_header)
        except ValidationError as error:
            raise Failed(" ".join(error.messages)) from None
        if not rows:
            raise Failed("名单中没有数据行。")
        return headers

    def _report(self, upload):
        out = self.stdout
        out.write(
            f"名单 {upload.number} 已处理:来源 {upload.source.name},"
            f"名单日期 {upload.received_on.isoformat()},文件 {upload.file_name}"
        )
        out.write(f"行数:{upload.rows_total}")
        for _outcome, field, label in COUNTS:
            out.write(f"{label}:{getattr(upload, field)}")
        for outcome in LISTED_OUTCOMES:
            rows = [row for row in upload.report if row[1] == outcome]
            if not rows:
                continue
            out.write(f"{LeadRowOutcome(outcome).label}的行({len(rows)}):")
            for line, _outcome, reference, reason in rows:
                ref = f" {reference}" if reference else ""
                out.write(f"  第 {line} 行{ref}:{reason}")
