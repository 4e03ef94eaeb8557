"""The export and import jobs of `make bench`: the lists out to Excel and the register back in.

Everything goes through the pages a user would use, with Django's test client in this
process (logged in as `benchmarks.users.bench_users()`, past the second factor as
`benchmarks.pages.logged_in_client` does), so that what is measured is the whole request:
the scope, the reading in chunks, the masking, the workbook, the audit record.

- `export.recipients_100k`: 100,000 people of the register (the first by id, of the whole
  data set) through the export pages' own path (`exports.export_file`: the same chunked
  reading, masking, neutralising and workbook writer) without a user's scope: no login's
  scope holds 100,000 people (the largest district of the Shanghai data set, 浦东新区, has
  about 70,000), and the scope is a WHERE clause of the same query, which the district's
  export measures. A data set with fewer people exports them all (the table says how
  many). It runs first: a later job's peak may reuse memory an earlier one left to the
  process, and show less than the job takes;
- `export.district_recipients`: the register (困难人员名单) of 长宁区 as .xlsx, by the bureau;
- `export.street_needs`: the needs checklist (困难人员需求清单) of 长宁区's busiest street as
  .xlsx, by that street's manager (the list's export page, no filter);
- `import.recipients_20k.preview`: 20,000 new people (`new_people`: made up, valid and
  distinct ID numbers born in the 1920s, which the data set never gives, spread over the
  district's committees with the streets' advisors, categories, key groups and periods)
  uploaded as .xlsx by the bureau on the register's import page, and their preview;
- `import.recipients_20k`: the confirmation (the file planned again under locks and written,
  all or nothing, in one transaction); then the people are checked (all there, each with its
  audit event on PostgreSQL) and removed again with the triggers held off (`remove_people`),
  so that every run starts from the same state;
- `import.recipients_20k.refused`: the same file with one bad ID number in its last row,
  uploaded, previewed (the error listed) and confirmed: nothing is written.

Each job runs `repeat` times (the refusal once): the median seconds and the largest peak
memory (`benchmarks.measured`). Targets (issue 9): the import of 20,000 people (the
confirmation that writes them, all or nothing) within `TARGET_IMPORT_SECONDS` (the table
adds the preview before it); the export of 100,000 rows with a peak under
`TARGET_EXPORT_PEAK_MB`. A wrong result (a file without every row, people missing, events
missing, a refusal that wrote something) is a failure of the run.
"""

import datetime
import io
import random
import re
import statistics
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from benchmarks import RunFigures, Section, data, measured
from benchmarks.run import _cell, _width

STREET_NEEDS = "export.street_needs"
DISTRICT_RECIPIENTS = "export.district_recipients"
RECIPIENTS_BIG = "export.recipients_100k"
IMPORT_PREVIEW = "import.recipients_20k.preview"
IMPORT = "import.recipients_20k"
IMPORT_REFUSED = "import.recipients_20k.refused"

IMPORT_ROWS = 20_000
BIG_EXPORT_ROWS = 100_000
TARGET_IMPORT_SECONDS = 20
TARGET_EXPORT_PEAK_MB = 300
PURPOSE = "基准测试:导出耗时和内存"
SEED = data.SEED + 9
# The new people are born in the 1920s: the data set's people and lists are born from 1930.
FIRST_BIRTH = datetime.date(1920, 1, 1)
BIRTH_DAYS = 3652
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class JobFailed(Exception):
    """A job's answer or result is wrong; the message (Chinese) says what."""


@dataclass
class Job(RunFigures):
    """One job's runs: `rows` handled, the median seconds and the largest peak memory."""

    name: str
    label: str
    rows: int = 0
    runs: list = field(default_factory=list)


# Exports ----------------------------------------------------------------------------------


def export_through_page(client, list_name):
    """The .xlsx the export page of the list `list_name` gives (no filter); JobFailed."""
    url = reverse(f"cases:{list_name}_export")
    response = client.get(url, {"purpose": PURPOSE, "format": "xlsx"}, secure=True)
    if response.status_code != 200 or response.get("Content-Type") != XLSX_TYPE:
        raise JobFailed(f"{url} 应答 {response.status_code},不是 .xlsx 文件")
    return response.content


def data_rows(content):
    """The number of rows under the banner and the header of an exported workbook."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    try:
        return sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True)) - 2
    finally:
        workbook.close()


def _measure_export(job, export, expected, repeat):
    """`export()` (a file's bytes) measured `repeat` times into `job`, each file's rows
    counted against `expected`; JobFailed."""
    for _ in range(repeat):
        with measured(connection) as run:
            content = export()
        job.runs.append(run)
        job.rows = data_rows(content)
        del content
        if job.rows != expected:
            raise JobFailed(f"文件有 {job.rows} 行,应有 {expected} 行")


def measure_page_export(job, client, list_name, expected, repeat):
    _measure_export(job, lambda: export_through_page(client, list_name), expected, repeat)


def big_export_rows(limit):
    """The register's first `limit` people by id (all when there are fewer): a queryset."""
    from cases.models import Recipient

    ids = Recipient.objects.order_by("pk").values_list("pk", flat=True)
    last = ids[limit - 1 : limit].first()
    if last is None:
        return Recipient.objects.all()
    return Recipient.objects.filter(pk__lte=last)


def measure_big_export(job, user, limit, repeat):
    from cases.recipient_io import RECIPIENT_EXPORT
    from changning_aid import exports

    rows = big_export_rows(limit)

    def export():
        return exports.export_file(
            rows, RECIPIENT_EXPORT, user=user, purpose=PURPOSE, file_format=exports.XLSX
        )

    _measure_export(job, export, rows.count(), repeat)


# The people an import registers ---------------------------------------------------------------


def _number(index):
    """The `index`-th new ID number: born in the 1920s, a sequence of its own per day."""
    from changning_aid.sensitive.idnumbers import check_character

    day = FIRST_BIRTH + datetime.timedelta(days=index % BIRTH_DAYS)
    first_17 = f"{data.UPLOADER_DISTRICT}{day:%Y%m%d}{index // BIRTH_DAYS:03d}"
    return first_17 + check_character(first_17)


def _name(rng):
    given = "".join(rng.choice(data.GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(data.SURNAMES) + given


@dataclass
class NewPeople:
    """The rows of an import of new people (dicts by the register's headers) and their
    ID numbers."""

    rows: list
    numbers: list

    def xlsx(self, headers):
        return data.xlsx_bytes(self.rows, headers=headers)


def new_people(count, district, today=None):
    """`count` new people of `district`, deterministic: rows as the register's template
    takes them (committees in turn; an active advisor of the street for most, categories,
    key groups and current periods for some)."""
    from advisors.models import Advisor, active_q
    from cases.models import AssistanceCategory, KeyGroup
    from stations.models import Committee

    today = today or timezone.localdate()
    rng = random.Random(SEED)
    committees = list(
        Committee.objects.filter(street__district=district)
        .select_related("street")
        .order_by("code")
    )
    advisors = {}
    for advisor in Advisor.objects.filter(active_q(today), street__district=district).order_by(
        "advisor_number"
    ):
        advisors.setdefault(advisor.street_id, []).append(advisor.advisor_number)
    categories = list(
        AssistanceCategory.objects.filter(district__isnull=True, is_active=True)
        .order_by("order", "pk")
        .values_list("name", flat=True)
    )
    key_groups = list(
        KeyGroup.objects.filter(district__isnull=True, is_active=True)
        .order_by("order", "pk")
        .values_list("name", flat=True)
    )
    year_ago = today.replace(day=1) - datetime.timedelta(days=365)
    rows, numbers = [], []
    for index in range(count):
        committee = committees[index % len(committees)]
        number = _number(index)
        street_advisors = advisors.get(committee.street_id) or [""]
        draw = rng.random()
        periods = ""
        if draw < 0.6:
            periods = f"{year_ago + datetime.timedelta(days=rng.randrange(300)):%Y-%m-%d}~"
        elif draw < 0.7:
            started = year_ago - datetime.timedelta(days=rng.randrange(300))
            periods = f"{started:%Y-%m-%d}~{started + datetime.timedelta(days=90):%Y-%m-%d}"
        rows.append(
            {
                "姓名": _name(rng),
                "性别": "男" if int(number[16]) % 2 else "女",
                "身份证号": number,
                "联系电话": f"13{rng.randrange(10**9):09d}" if rng.random() < 0.8 else "",
                "居住地址": f"{committee.street.name}{committee.name}{index % 97 + 1}号",
                "居委代码": committee.code,
                "家庭人口": rng.choice((1, 1, 2, 3)),
                "救助类别": "、".join(rng.sample(categories, 1)) if rng.random() < 0.5 else "",
                "重点人群": rng.choice(key_groups) if rng.random() < 0.25 else "",
                "困难程度": rng.choice(("高", "中", "中", "低")),
                "责任顾问编号": rng.choice(street_advisors) if rng.random() < 0.9 else "",
                "现有救助对象期间": periods,
                "状态": "在册",
            }
        )
        numbers.append(number)
    return NewPeople(rows=rows, numbers=numbers)


def with_bad_last_row(people):
    """The same people, the last one's ID number with a wrong check character."""
    rows = [dict(row) for row in people.rows]
    number = rows[-1]["身份证号"]
    rows[-1]["身份证号"] = number[:17] + ("0" if number[17] != "0" else "1")
    return NewPeople(rows=rows, numbers=people.numbers)


def registered_ids(numbers):
    """The ids of the people on the register holding `numbers`."""
    from cases.models import Recipient
    from cases.services import in_parts
    from changning_aid.sensitive.fields import hash_id_number

    ids = []
    for part in in_parts([hash_id_number(number) for number in numbers]):
        ids += Recipient.objects.filter(id_number_hash__in=part).values_list("pk", flat=True)
    return ids


def audited_ids(model, ids):
    """How many of the rows `ids` of `model` have their insert event."""
    from audit.tracking import INSERT, tracking_for
    from cases.services import in_parts

    events = tracking_for(model).event_model.objects
    return sum(
        events.filter(pgh_obj_id__in=part, pgh_label=INSERT).values("pgh_obj_id").distinct().count()
        for part in in_parts(ids)
    )


def _delete(cursor, table, column, ids):
    from cases.services import in_parts

    for part in in_parts(ids):
        marks = ", ".join(["%s"] * len(part))
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", part)


def remove_people(ids):
    """Delete the people `ids` (made up by `new_people`) with what the import wrote for them
    and, when the triggers can be held off, their audit events: the benchmark's own made-up
    rows only (the access records of the imports stay, as those of the exports do)."""
    from audit.loading import triggers_held_off
    from audit.tracking import tracking_for
    from cases.models import (
        AdvisorCharge,
        CurrentPeriod,
        Recipient,
        RecipientCategory,
        RecipientKeyGroup,
    )
    from visits import summaries

    if not ids:
        return
    linked = (AdvisorCharge, CurrentPeriod, RecipientCategory, RecipientKeyGroup)
    quote = connection.ops.quote_name
    with transaction.atomic(), triggers_held_off() as quiet, connection.cursor() as cursor:
        rows = {Recipient: list(ids)}
        for model in linked:
            rows[model] = list(model.objects.filter(recipient__in=ids).values_list("pk", flat=True))
        for model in linked:
            _delete(cursor, quote(model._meta.db_table), "id", rows[model])
        # Without periods the people leave the month summaries, and their committees' sums
        # go back to what they were.
        summaries.refresh_people(ids)
        _delete(cursor, quote(Recipient._meta.db_table), "id", rows[Recipient])
        if quiet:
            for model, pks in rows.items():
                event_table = quote(tracking_for(model).event_model._meta.db_table)
                _delete(cursor, event_table, "pgh_obj_id", pks)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        tables = [model._meta.db_table for model in (*linked, Recipient)]
        tables += [tracking_for(model).event_model._meta.db_table for model in rows]
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {', '.join(quote(table) for table in tables)}")


# The import through its pages ---------------------------------------------------------------

_DIGEST = re.compile(r'name="digest" value="([0-9a-f]{64})"')


def upload_and_preview(client, content, file_name):
    """Upload the file on the register's import page and open its preview: (url, page)."""
    upload_url = reverse("cases:recipients_import")
    response = client.post(
        upload_url, {"file": SimpleUploadedFile(file_name, content)}, secure=True
    )
    if response.status_code != 302:
        raise JobFailed(f"上传 {upload_url} 应答 {response.status_code}")
    preview_url = response["Location"]
    page = client.get(preview_url, secure=True)
    if page.status_code != 200:
        raise JobFailed(f"预览 {preview_url} 应答 {page.status_code}")
    return preview_url, page.content.decode()


def confirm(client, preview_url, digest):
    response = client.post(preview_url, {"digest": digest}, secure=True)
    if response.status_code != 302:
        raise JobFailed(f"确认导入 {preview_url} 应答 {response.status_code}")
    return response


def measure_import(jobs, client, people, repeat):
    """The import of `people` `repeat` times (removed after each), then the refusal."""
    from cases.models import CurrentPeriod, Recipient

    preview, imported, refused = jobs
    headers = _headers()
    content = people.xlsx(headers)
    count = len(people.rows)
    preview.rows = imported.rows = refused.rows = count
    if registered_ids(people.numbers):
        raise JobFailed("数据集中已有导入用的身份证号(上次运行未清理?)")
    for _ in range(repeat):
        with measured(connection) as run:
            preview_url, page = upload_and_preview(client, content, "困难人员名单-基准测试.xlsx")
        preview.runs.append(run)
        digest = _DIGEST.search(page)
        if digest is None:
            raise JobFailed("预览页面没有确认按钮(文件有错误?)")
        try:
            with measured(connection) as run:
                confirm(client, preview_url, digest.group(1))
            imported.runs.append(run)
            ids = registered_ids(people.numbers)
            if len(ids) != count:
                raise JobFailed(f"导入后有 {len(ids)} 人,应有 {count} 人")
            if connection.vendor == "postgresql":
                periods = CurrentPeriod.objects.filter(recipient__in=ids)
                for model, pks in (
                    (Recipient, ids),
                    (CurrentPeriod, list(periods.values_list("pk", flat=True))),
                ):
                    if audited_ids(model, pks) != len(pks):
                        raise JobFailed(f"导入的 {model._meta.verbose_name} 缺少审计记录")
        finally:
            remove_people(registered_ids(people.numbers))
    bad = with_bad_last_row(people).xlsx(headers)
    with measured(connection) as run:
        preview_url, page = upload_and_preview(client, bad, "困难人员名单-基准测试-有错.xlsx")
        confirm(client, preview_url, "0" * 64)
    refused.runs.append(run)
    if _DIGEST.search(page) is not None or f"第 {count + 1} 行" not in page:
        raise JobFailed("有错误的文件没有在预览中列出错误行")
    written = registered_ids(people.numbers)
    if written:
        remove_people(written)
        raise JobFailed(f"有错误的文件写入了 {len(written)} 人")


def _headers():
    from cases.recipient_io import RECIPIENT_EXPORT

    return RECIPIENT_EXPORT.headers


# The section -----------------------------------------------------------------------------------


def run(repeat=3, *, import_rows=IMPORT_ROWS, big_rows=BIG_EXPORT_ROWS):
    """Measure the export and import jobs (see the module): a `benchmarks.Section`."""
    from benchmarks.pages import logged_in_client
    from benchmarks.users import bench_users
    from cases.models import Need, Recipient

    section = Section()
    users = bench_users()
    bureau, manager = users["bureau"], users["street_manager"]
    jobs = {
        RECIPIENTS_BIG: Job(RECIPIENTS_BIG, "困难人员名单导出(全市前10万人,不限范围)"),
        DISTRICT_RECIPIENTS: Job(DISTRICT_RECIPIENTS, f"困难人员名单导出({bureau.district.name})"),
        STREET_NEEDS: Job(STREET_NEEDS, f"需求清单导出(街镇 {manager.street.name})"),
        IMPORT_PREVIEW: Job(IMPORT_PREVIEW, "困难人员名单导入:上传和预览"),
        IMPORT: Job(IMPORT, "困难人员名单导入:确认写入(全部导入或全部不导入)"),
        IMPORT_REFUSED: Job(IMPORT_REFUSED, "困难人员名单导入:一行有错,全部不导入"),
    }
    # The 100,000 rows first: a later job's peak may reuse memory an earlier one left to
    # the process, and shows less than it takes.
    steps = [
        (
            (RECIPIENTS_BIG,),
            lambda: measure_big_export(jobs[RECIPIENTS_BIG], bureau, big_rows, repeat),
        ),
        (
            (DISTRICT_RECIPIENTS,),
            lambda: measure_page_export(
                jobs[DISTRICT_RECIPIENTS],
                logged_in_client(bureau),
                "recipients",
                Recipient.objects.visible_to(bureau).count(),
                repeat,
            ),
        ),
        (
            (STREET_NEEDS,),
            lambda: measure_page_export(
                jobs[STREET_NEEDS],
                logged_in_client(manager),
                "needs",
                Need.objects.visible_to(manager).count(),
                repeat,
            ),
        ),
        (
            (IMPORT_PREVIEW, IMPORT, IMPORT_REFUSED),
            lambda: measure_import(
                (jobs[IMPORT_PREVIEW], jobs[IMPORT], jobs[IMPORT_REFUSED]),
                logged_in_client(bureau),
                new_people(import_rows, bureau.district),
                repeat,
            ),
        ),
    ]
    hosts = list(settings.ALLOWED_HOSTS)
    with override_settings(ALLOWED_HOSTS=[*hosts, "testserver"]):
        for names, step in steps:
            try:
                step()
            except JobFailed as failure:
                section.failures += [f"{name}({jobs[name].label}):{failure}。" for name in names]
    measured_jobs = [job for job in jobs.values() if job.runs]
    section.jobs = {job.name: job.as_json() for job in measured_jobs}
    section.lines = table(measured_jobs, import_rows=import_rows, big_rows=big_rows)
    return section


def verdict(job, *, import_rows, big_rows):
    """The target column of a job: 达到 or 未达到 (with the rows when fewer than the
    target's), or nothing for a job without a target."""
    if job.name == IMPORT:
        if job.rows < import_rows:
            return ""
        met = job.seconds <= TARGET_IMPORT_SECONDS
        return f"≤{TARGET_IMPORT_SECONDS} 秒:" + ("达到" if met else "未达到")
    if job.name == RECIPIENTS_BIG:
        met = job.peak_mb <= TARGET_EXPORT_PEAK_MB
        text = f"峰值 ≤{TARGET_EXPORT_PEAK_MB} MB:" + ("达到" if met else "未达到")
        if job.rows < big_rows:
            text += f"(只有 {job.rows:,} 行)"
        return text
    return ""


def table(jobs, *, import_rows=IMPORT_ROWS, big_rows=BIG_EXPORT_ROWS):
    """The jobs as lines of a table (Chinese headers, aligned), targets marked."""
    by_name = {job.name: job for job in jobs}
    headers = ["作业", "行数", "秒", "CPU秒(应用/库)", "峰值MB", "目标"]
    rows = []
    for job in jobs:
        cpu = statistics.median(run.cpu_seconds for run in job.runs)
        db_cpu = [run.db_cpu_seconds for run in job.runs if run.db_cpu_seconds is not None]
        rows.append(
            [
                job.name,
                f"{job.rows:,}",
                f"{job.seconds:.2f}",
                f"{cpu:.1f}/" + (f"{statistics.median(db_cpu):.1f}" if db_cpu else "-"),
                f"{job.peak_mb:.0f}",
                verdict(job, import_rows=import_rows, big_rows=big_rows),
            ]
        )
    widths = [max(_width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    left = {0, 5}
    lines = [
        "  ".join(_cell(value, widths[i], left=i in left) for i, value in enumerate(row)).rstrip()
        for row in [headers, *rows]
    ]
    lines += [f"{job.name}:{job.label}" for job in jobs]
    if IMPORT in by_name and IMPORT_PREVIEW in by_name:
        total = by_name[IMPORT].seconds + by_name[IMPORT_PREVIEW].seconds
        lines.append(
            f"导入 {by_name[IMPORT].rows:,} 人:上传和预览 {by_name[IMPORT_PREVIEW].seconds:.1f} 秒,"
            f"确认写入 {by_name[IMPORT].seconds:.1f} 秒,合计 {total:.1f} 秒。"
        )
    lines.append(
        f"目标:导入 {IMPORT_ROWS:,} 人(确认写入,全部导入或全部不导入)≤{TARGET_IMPORT_SECONDS} 秒;"
        f"导出 {BIG_EXPORT_ROWS:,} 行峰值内存 ≤{TARGET_EXPORT_PEAK_MB} MB(本进程常驻内存的增量)。"
    )
    return lines
