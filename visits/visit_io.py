"""Visit records out to Excel and back in: a street's month of paper visit records.

The export is an `ExportSpec` served through the project's one export path
(`changning_aid.exports`): any period, cut to the user's scope, ID numbers masked, the
走访编号 as its key. The import (`VisitImport`, on the machinery of
`changning_aid.imports`) reads the same file back, or the empty template filled in by hand:
the preview lists every visit to be added and every error with its Excel row number;
nothing is written until the user confirms, and then all or nothing.

Decisions (shown on the import page):

- An import adds visits; it never changes one. A row with an empty 走访编号 is a new visit.
  A row with an existing 走访编号 (an exported file sent back with new rows added) is left
  as it is when it is identical to the stored visit, and refused when anything differs:
  visits are corrected on their own page, where the rules of `update_visit` apply.
- The person is named by 档案号 (a person of the importer's scope; anyone else gets the same
  answer as an unknown number), the advisor by 顾问编号 (an advisor of the person's street,
  active on the visit's date). 姓名 is checked against the 档案号 when it is filled in, so
  that a mistyped number does not file a visit under someone else. 身份证号, 居委, 顾问 and
  录入时间 are for reading only.
- The rules are those of `visits.services.record_visit` for street managers and bureau
  staff (the only users who import): any past date, never a future one; not after the
  person left the register; a failed attempt (无人在家, 拒访) keeps no quick checks; a
  follow-up needs its date. A new row repeating a kept visit of the same person, day,
  advisor and method (already stored, or earlier in the file) is refused as a duplicate,
  so that a file imported twice does not count a visit twice.
- Writing: one INSERT per visit with numbers handed out per street in the transaction, and
  the follow-ups of each person completed once, after the person's last new visit
  (`visits.services.complete_follow_ups`), so that a month of a street's records is written
  in seconds with the same result as entering them one by one.
"""

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import Role
from advisors.models import Advisor
from cases.choices import RecipientStatus
from cases.models import Recipient
from changning_aid import imports
from changning_aid.exports import Column, ExportSpec, field_columns, row_changes
from changning_aid.imports import CellError, Importer, PlannedRow
from changning_aid.numbering import next_number
from visits import services, summaries
from visits.choices import FAILED_RESULTS, QUICK_CHECKS, CheckLevel, VisitMethod, VisitResult
from visits.models import VISIT_NUMBER_PREFIX, Visit

H_VISIT_NUMBER = gettext_lazy("走访编号")
H_FILE_NUMBER = gettext_lazy("档案号")
H_NAME = gettext_lazy("姓名")
H_ID_NUMBER = gettext_lazy("身份证号")
H_COMMITTEE = gettext_lazy("居委")
H_VISITED_AT = gettext_lazy("走访时间")
H_ADVISOR_NUMBER = gettext_lazy("顾问编号")
H_ADVISOR = gettext_lazy("顾问")
H_RECORDED_AT = gettext_lazy("录入时间")
YES, NO = gettext_lazy("是"), gettext_lazy("否")
TIME_FORMATS = ("%H:%M", "%H:%M:%S")


def visit_time(visit):
    return visit.visited_at.strftime("%H:%M") if visit.visited_at else ""


VISIT_EXPORT = ExportSpec(
    model=Visit,
    name=gettext_lazy("走访记录"),
    key=Column(H_VISIT_NUMBER, "visit_number"),
    columns=[
        Column(H_FILE_NUMBER, "recipient.file_number"),
        Column(H_NAME, "recipient.name"),
        Column(H_ID_NUMBER, "recipient.id_number"),
        Column(H_COMMITTEE, "recipient.committee.name"),
        *field_columns(Visit, "visited_on"),
        Column(H_VISITED_AT, visit_time),
        *field_columns(
            Visit,
            "method",
            "result",
            "findings",
            *(name for name, _label in QUICK_CHECKS),
            "follow_up_required",
            "follow_up_by",
            "follow_up_note",
        ),
        Column(H_ADVISOR_NUMBER, "advisor.advisor_number"),
        Column(H_ADVISOR, "advisor.name"),
        *field_columns(Visit, "recorded_at"),
    ],
    related=["recipient__committee", "advisor"],
)
# Columns written for people to read; an import does not read them.
READING_HEADERS = tuple(
    str(header) for header in (H_NAME, H_ID_NUMBER, H_COMMITTEE, H_ADVISOR, H_RECORDED_AT)
)


def header_of(name):
    return str(Visit._meta.get_field(name).verbose_name)


# Cells ------------------------------------------------------------------------------------


def yes_no(value, header):
    value = value.strip()
    if value in ("", str(NO)):
        return False, str(NO)
    if value == str(YES):
        return True, str(YES)
    raise CellError(_("%(column)s请填写“是”或“否”。") % {"column": header})


def time_of_day(value, header):
    value = value.strip().replace("：", ":")
    if not value:
        return None, ""
    for pattern in TIME_FORMATS:
        try:
            moment = datetime.datetime.strptime(value, pattern).time()
        except ValueError:
            continue
        return moment, moment.strftime("%H:%M")
    raise CellError(
        _("%(column)s“%(value)s”不是有效的时间,请写成 14:30 的格式。")
        % {"column": header, "value": value}
    )


class _Reader:
    """Reads cells into `values` (field: value) and `canonical` (header: text as exported)."""

    def __init__(self, cells):
        self.cells = cells
        self.values, self.canonical, self.errors = {}, {}, []

    def cell(self, header):
        return self.cells.get(str(header), "")

    def read(self, name, reader, *args, header=None, **kwargs):
        header = str(header or header_of(name))
        try:
            self.values[name], self.canonical[header] = reader(
                self.cell(header), header, *args, **kwargs
            )
        except CellError as error:
            self.values[name] = None
            self.errors.append(str(error))


# The import -------------------------------------------------------------------------------


def _column(rows, header):
    return {cells.get(str(header), "").strip().upper() for _line, _key, cells in rows} - {""}


class _NumberAllocator:
    """Hands out the 走访编号 of one street after another within the import's transaction."""

    def __init__(self):
        self.next = {}

    def take(self, street):
        prefix = f"{VISIT_NUMBER_PREFIX}{street.code}"
        if street.pk not in self.next:
            number = next_number(Visit, "visit_number", prefix, 7)
            self.next[street.pk] = int(number[len(prefix) :])
        sequence = self.next[street.pk]
        self.next[street.pk] = sequence + 1
        return f"{prefix}{sequence:07d}"


class _VisitScope:
    """What a file's rows are looked up in, loaded in a fixed number of queries."""

    def __init__(self, user, rows, *, lock):
        self.user = user
        self.today = timezone.localdate()
        keys = {key for _line, key, _cells in rows if key}
        visits = (
            Visit.objects.visible_to(user)
            .filter(visit_number__in=keys)
            .select_related(*VISIT_EXPORT.related)
        )
        if lock:
            visits = visits.select_for_update(of=("self",))
        self.visits = {visit.visit_number: visit for visit in visits}
        people = (
            Recipient.objects.visible_to(user)
            .filter(file_number__in=_column(rows, H_FILE_NUMBER))
            .select_related("street", "committee")
        )
        self.recipients = {person.file_number: person for person in people}
        self.advisors = {
            advisor.advisor_number: advisor
            for advisor in Advisor.objects.visible_to(user).filter(
                advisor_number__in=_column(rows, H_ADVISOR_NUMBER)
            )
        }
        # The kept visits a new row could repeat: same people, same days.
        days = {imports.parse_date(cells.get(header_of("visited_on"), "")) for *_x, cells in rows}
        self.stored = {}
        for visit in (
            Visit.objects.kept()
            .filter(
                recipient__in=[person.pk for person in self.recipients.values()],
                visited_on__in=days - {None},
            )
            .only("visit_number", "recipient", "advisor", "visited_on", "method")
        ):
            self.stored.setdefault(self._same(visit), visit.visit_number)
        # The people's open follow-ups, completed after their new visits are written.
        self.open_follow_ups = set(
            services.open_follow_ups(
                Visit.objects.filter(recipient__in=[p.pk for p in self.recipients.values()])
            ).values_list("recipient", flat=True)
        )
        # The last new row of each person: the follow-ups are completed once it is written,
        # for the people with open follow-ups and those whose new rows ask for one.
        self.last_line, asking = {}, set()
        for line, key, cells in rows:
            if not key:
                number = cells.get(str(H_FILE_NUMBER), "").strip().upper()
                self.last_line[number] = line
                if cells.get(header_of("follow_up_required"), "").strip() == str(YES):
                    asking.add(number)
        self.follow_up_people = asking | {
            person.file_number
            for person in self.recipients.values()
            if person.pk in self.open_follow_ups
        }
        self.in_file = {}
        self.numbers = _NumberAllocator()

    @staticmethod
    def _same(visit):
        return (visit.recipient_id, visit.visited_on, visit.advisor_id, visit.method)


class VisitImport(Importer):
    spec = VISIT_EXPORT
    upload_kind = "visits.visits_import"
    list_name = gettext_lazy("走访记录")
    unit = gettext_lazy("条")

    def scope(self, user, rows, *, lock):
        return _VisitScope(user, rows, lock=lock)

    def subject(self, key, cells):
        return key or cells.get(str(H_FILE_NUMBER), "").strip()

    def plan_row(self, line, key, cells, scope):
        visit = None
        if key:
            visit = scope.visits.get(key)
            if visit is None:
                return None, [self.unknown_key(key)]
        reader = _Reader(cells)
        reader.read("visited_on", imports.date, required=True)
        reader.read("visited_at", time_of_day, header=H_VISITED_AT)
        reader.read("method", imports.choice, VisitMethod, required=True)
        reader.read("result", imports.choice, VisitResult)
        if reader.values["result"] == "":
            reader.values["result"] = VisitResult.COMPLETED
            reader.canonical[header_of("result")] = str(VisitResult.COMPLETED.label)
        reader.read("findings", imports.text, max_length=2000)
        for name, _label in QUICK_CHECKS:
            reader.read(name, imports.choice, CheckLevel)
        reader.read("follow_up_required", yes_no)
        reader.read("follow_up_by", imports.date)
        reader.read("follow_up_note", imports.text, max_length=200)
        recipient = self._found(reader, scope.recipients, H_FILE_NUMBER)
        advisor = self._found(reader, scope.advisors, H_ADVISOR_NUMBER)
        if reader.errors:
            return None, reader.errors
        if visit is not None:
            return self._unchanged(visit, reader)
        return self._creation(line, reader, scope, recipient, advisor)

    @staticmethod
    def _found(reader, table, header):
        value = reader.cell(header).strip().upper()
        reader.canonical[str(header)] = value
        if not value:
            reader.errors.append(_("请填写%(column)s。") % {"column": header})
            return None
        found = table.get(value)
        if found is None:
            reader.errors.append(
                _("%(column)s“%(value)s”不存在,或不在您的管理范围内。")
                % {"column": header, "value": value}
            )
        return found

    def _unchanged(self, visit, reader):
        changes = row_changes(visit, reader.canonical, VISIT_EXPORT)
        for header in READING_HEADERS:
            changes.pop(header, None)
        if not changes:
            return None, []
        return None, [
            _(
                "已登记的走访记录不能通过导入修改(%(columns)s);请在走访记录页面修改。"
                "新的走访请另起一行,走访编号留空。"
            )
            % {"columns": "、".join(changes)}
        ]

    def _creation(self, line, reader, scope, recipient, advisor):
        values = reader.values
        day = values["visited_on"]
        errors = []
        name = reader.cell(H_NAME).strip()
        if name and name != recipient.name:
            errors.append(
                _("姓名“%(name)s”与档案号 %(number)s 的人员不符,请核对档案号。")
                % {"name": name, "number": recipient.file_number}
            )
        if day > scope.today:
            errors.append(_("走访日期不能晚于今天。"))
        if recipient.is_anonymised:
            errors.append(_("该档案已匿名化,不能登记走访。"))
        elif recipient.status == RecipientStatus.EXITED and day > recipient.exited_on:
            errors.append(
                _("该对象已于 %(date)s 退出,不能登记之后的走访。")
                % {"date": recipient.exited_on.isoformat()}
            )
        if advisor.street_id != recipient.street_id:
            errors.append(_("走访顾问必须是该对象所在街镇的顾问。"))
        elif not advisor.is_active_on(day):
            errors.append(
                _("%(name)s 在 %(date)s 不是在岗顾问。")
                % {"name": advisor.name, "date": day.isoformat()}
            )
        fields = {
            name: values[name]
            for name in (
                "visited_at",
                "findings",
                *(check for check, _label in QUICK_CHECKS),
                "follow_up_required",
                "follow_up_by",
                "follow_up_note",
            )
        }
        if values["result"] in FAILED_RESULTS:
            for check, _label in QUICK_CHECKS:
                if fields[check]:
                    errors.append(
                        _("未成功的走访(无人在家、拒访)不填写%(column)s。")
                        % {"column": header_of(check)}
                    )
        checked = Visit(
            recipient=recipient,
            advisor=advisor,
            visited_on=day,
            method=values["method"],
            result=values["result"],
            **fields,
        )
        errors += imports.model_errors(
            checked,
            header_of,
            exclude=["visit_number", "recipient", "advisor", "followed_up_by", "recorded_by"],
        )
        asked = fields["follow_up_by"] or fields["follow_up_note"]
        if not fields["follow_up_required"] and asked:
            errors.append(_("不需要跟进时,跟进期限和跟进事项请留空。"))
        same = _VisitScope._same(checked)
        if same in scope.stored:
            errors.append(
                _("该对象在 %(date)s 已有同一顾问、同一方式的走访记录(%(number)s),请勿重复导入。")
                % {"date": day.isoformat(), "number": scope.stored[same]}
            )
        elif same in scope.in_file:
            errors.append(
                _("与第 %(line)s 行重复:同一对象、同一日期、同一顾问、同一方式。")
                % {"line": scope.in_file[same]}
            )
        else:
            scope.in_file[same] = line
        if errors:
            return None, errors
        canonical = dict(reader.canonical)
        canonical[str(H_ADVISOR)] = advisor.name
        shown = [
            (header, canonical[header])
            for header in VISIT_EXPORT.headers[1:]
            if canonical.get(header)
            and header not in (str(H_NAME), str(H_ID_NUMBER), str(H_COMMITTEE))
        ]
        row = PlannedRow(
            line=line,
            name=f"{recipient.name}({recipient.file_number})",
            street=recipient.street,
            values=shown,
            action={
                "recipient": recipient,
                "advisor": advisor,
                "visited_on": day,
                "method": values["method"],
                "result": values["result"],
                "fields": fields,
                "numbers": scope.numbers,
                "complete_follow_ups": scope.last_line.get(recipient.file_number) == line
                and recipient.file_number in scope.follow_up_people,
            },
        )
        return row, []

    def apply_row(self, actor, row):
        return import_visit(actor=actor, **row.action)

    def apply(self, actor, plan):
        """The rows one by one (see `Importer.apply`), with one refresh of the month summaries
        (C9) for the whole file instead of one per visit, in the import's transaction."""
        with summaries.deferred():
            for row in (*plan.creations, *plan.updates):
                self.apply_row(actor, row)

    def notes(self, user):
        return [
            _("第一个工作表的第一行是表头,请勿修改;从第二行起每次走访一行。"),
            _("走访编号:新的走访留空,由系统生成;导入只新增走访,已登记的走访请在走访记录页面修改。"),
            _(
                "档案号:走访对象的档案号(在困难人员名单中查看);姓名可填可不填,填写时须与档案号一致。"
            ),
            _("顾问编号:走访顾问的编号(见下表),须是该对象所在街镇、走访当日在岗的顾问。"),
            _("走访日期写成 2026-03-01,不能晚于今天;走访时间可留空,或写成 14:30。"),
            _("走访方式:%s") % "、".join(map(str, VisitMethod.labels)),
            _("走访结果:%s(留空即为走访完成);无人在家、拒访登记在案,但不计入每月走访。")
            % "、".join(map(str, VisitResult.labels)),
            _("生活状况、健康状况、居住安全、心理状态:%s,可留空;未成功的走访不填。")
            % "、".join(map(str, CheckLevel.labels)),
            _("需要跟进:是 或 否(留空即为否);需要跟进时须填写跟进期限。"),
            _("身份证号、居委、顾问姓名和录入时间供阅读,导入时不读取。"),
        ]

    def tables(self, user):
        today = timezone.localdate()
        advisors = (
            Advisor.objects.visible_to(user)
            .filter(Q(left_on__isnull=True) | Q(left_on__gt=today - datetime.timedelta(days=400)))
            .select_related("street")
            .order_by("street__code", "advisor_number")
        )
        return [
            (
                [_("顾问编号"), _("顾问"), _("街镇"), _("离岗日期")],
                [
                    (
                        advisor.advisor_number,
                        advisor.name,
                        advisor.street.name,
                        advisor.left_on.isoformat() if advisor.left_on else "",
                    )
                    for advisor in advisors
                ],
            )
        ]


def import_visit(
    *,
    actor,
    recipient,
    advisor,
    visited_on,
    method,
    result,
    fields,
    numbers,
    complete_follow_ups,
):
    """Write one planned visit of an import (inside the import's transaction).

    The row was checked when the plan was made, under locks, with the rules of
    `services.record_visit` for keepers; the role is checked again here.
    """
    from changning_aid.writes import require_role

    require_role(actor, services.KEEPERS, _("只有街镇管理员和区民政局可以导入走访记录。"))
    visit = Visit(
        visit_number=numbers.take(recipient.street),
        recipient=recipient,
        advisor=advisor,
        visited_on=visited_on,
        method=method,
        result=result,
        recorded_by=actor,
        **fields,
    )
    visit.save(force_insert=True)
    if complete_follow_ups:
        services.complete_follow_ups(recipient)
    return visit


VISITS = VisitImport()


def template_workbook(user):
    return imports.template_workbook(VISITS, VISITS.notes(user), VISITS.tables(user))


def can_import(user):
    """Street managers (their street) and bureau staff (their district) import visits."""
    return user.role in (Role.STREET_MANAGER, Role.BUREAU)
