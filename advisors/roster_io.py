"""社区救助顾问人员清单 (checklist 1) out to Excel and back in.

The export is `ROSTER_EXPORT`, served through the project's one export path
(`changning_aid.exports`): the advisors of the user's scope, keyed by the stable 顾问编号,
the phone masked. The import reads the same file back (or the empty template filled in
by hand), plans what it would do, and writes nothing until the user confirms:

1. `read_roster` finds the header row (after the export's banner line, after a title line,
   or first in the file) and numbers every row as Excel shows it: in an exported file the
   banner is row 1, the headers row 2 and the first advisor row 3. A file without every
   column of the template is refused as a whole ("文件不是人员清单模板").
2. `plan_import` compares each row with the stored advisor (`exports.row_changes`, which
   takes a masked phone equal to the mask of the stored one as unchanged) after reading
   every cell into its value and back into the text the export writes, so that a date
   typed as 2024/3/1 or kept by Excel as a date, or skills listed in another order, are
   no change. It runs a fixed number of queries whatever the number of rows.
3. `apply_plan` writes the plan through `advisors.services` (register_advisor,
   update_advisor, set_advisor_stations, advisor_leave): the same roles, scope checks,
   validation and audit as the pages. The view calls it in one transaction, after planning
   the kept file again and finding the plan the user previewed: all or nothing.

How the columns are treated (decided here, shown on the import page):

- 顾问编号: empty for a new advisor (the number is generated); otherwise it must be an
  advisor of the user's scope (an unknown number and one of another street get the same
  answer), once in the file.
- 街镇: an advisor's street never changes (left empty, it is no change). For a new advisor
  it names the street (a street manager may leave it empty: their own street; bureau staff
  may leave it empty when the primary station says it).
- Stations are matched by code (`stations.views.exports.station_code`: the committee's code
  for a 居委服务点, the street's for a 街镇服务站): 主要服务站点代码 and 其他服务站点代码
  (several, separated by 、 or ；). 主要服务站点 (the standard name) is there to read; when
  the code is empty the name is looked up instead, and a name contradicting the code is an
  error. Every station must be of the advisor's street.
- 备案状态, 备案编号, 备案日期 are the bureau's and are exported for reference. An import
  that leaves them as they are (or empty) is fine; one that changes them is an error
  ("备案信息须通过备案流程办理"): filing goes through the filing flow, with its
  FilingEvent history. A new advisor is 待备案 with neither number nor date.
- 离岗日期 and 离岗原因 follow `services.advisor_leave`: an advisor who has not left may be
  given a leaving date with its reason; an advisor who has left cannot have either changed
  by an import.
- 手机号码: the mask of the stored number is no change; anything else must be a full
  11-digit mainland mobile number (or empty, to remove it).
- Choice columns (性别, 人员类别, 社会工作职业资格, 技能) take the labels the export writes;
  an empty 社会工作职业资格 is 无.
"""

import copy
import datetime
import hashlib
import io
import json
import re
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import Role
from advisors import services
from advisors.choices import Background, FilingStatus, Gender, Skill, SocialWorkLevel
from advisors.models import Advisor, AdvisorStation
from changning_aid import exports
from changning_aid.exports import Column, ExportSpec, field_columns, row_changes
from changning_aid.sensitive.masking import PHONE, is_unchanged, looks_masked
from stations.models import Station, Street
from stations.views.exports import station_code

UPLOAD_KIND = "advisors.roster_import"
MAX_ROWS = 5000
SKILL_JOINER = "、"
CODE_JOINER = "、"
LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")
MOBILE = re.compile(r"1[3-9][0-9]{9}")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
# A title or banner line may come before the headers (the export's banner does).
HEADER_SEARCH_ROWS = 3
STREET_CODE = re.compile(r"[0-9]{9}")


# The export -------------------------------------------------------------------------------


def primary_station_name(advisor):
    station = advisor.primary_station
    return station.name if station else ""


def primary_station_code(advisor):
    station = advisor.primary_station
    return station_code(station) if station else ""


def other_station_codes(advisor):
    """The codes of the stations an advisor serves besides the primary one, sorted."""
    return join_codes(link.station for link in advisor.station_links.all() if not link.is_primary)


def join_codes(stations):
    return CODE_JOINER.join(sorted(station_code(station) for station in stations))


def skills_text(advisor):
    return join_skills(advisor.skills)


def join_skills(values):
    return SKILL_JOINER.join(str(Skill(value).label) for value in values if value in Skill.values)


def station_links_prefetch():
    """An advisor's stations, with what their codes and names are made of, in one query."""
    return Prefetch(
        "station_links",
        queryset=AdvisorStation.objects.select_related(
            "station__district", "station__street", "station__committee"
        ),
    )


H_STREET = gettext_lazy("街镇")
H_PRIMARY = gettext_lazy("主要服务站点")
H_PRIMARY_CODE = gettext_lazy("主要服务站点代码")
H_OTHER_CODES = gettext_lazy("其他服务站点代码")
H_SKILLS = gettext_lazy("技能")

ROSTER_EXPORT = ExportSpec(
    model=Advisor,
    name=gettext_lazy("社区救助顾问人员清单"),
    key=Column(Advisor._meta.get_field("advisor_number").verbose_name, "advisor_number"),
    columns=[
        Column(H_STREET, "street.name"),
        *field_columns(Advisor, "name", "gender", "mobile"),
        Column(H_PRIMARY, primary_station_name),
        Column(H_PRIMARY_CODE, primary_station_code),
        Column(H_OTHER_CODES, other_station_codes),
        *field_columns(Advisor, "background", "social_work_level", "certificate_number"),
        Column(H_SKILLS, skills_text),
        *field_columns(
            Advisor,
            "uniform_issued_on",
            "badge_issued_on",
            "star_year",
            "backbone_year",
            "started_on",
            "left_on",
            "leave_reason",
            "filing_status",
            "filing_number",
            "filed_on",
        ),
    ],
    related=["street"],
    prefetch=[station_links_prefetch()],
)


def header_of(field_name):
    """The column header of an advisor field, as the export writes it."""
    return str(Advisor._meta.get_field(field_name).verbose_name)


# The fields an import may change on an advisor (services.EDITABLE_FIELDS but the login).
DETAIL_FIELDS = (
    "name",
    "gender",
    "mobile",
    "background",
    "social_work_level",
    "certificate_number",
    "skills",
    "uniform_issued_on",
    "badge_issued_on",
    "star_year",
    "backbone_year",
    "started_on",
)
LEAVE_FIELDS = ("left_on", "leave_reason")
FILING_FIELDS = ("filing_status", "filing_number", "filed_on")


def station_headers():
    return {str(H_PRIMARY), str(H_PRIMARY_CODE), str(H_OTHER_CODES)}


# The empty template -------------------------------------------------------------------------


def template_workbook(user):
    """The empty roster template: the headers on the first sheet, how to fill it in and
    the codes of the stations the user may assign on the second."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = exports._sheet_title(ROSTER_EXPORT.name)
    sheet.append(ROSTER_EXPORT.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(_("填写说明"))
    lines = [
        _("第一个工作表的第一行是表头,请勿修改;从第二行起每行一名顾问。"),
        _("顾问编号:新增顾问留空,由系统生成;修改已有顾问时请保留导出文件中的编号。"),
        _("日期:写成 2024-03-01;年度写成 2024。"),
        _("性别:%(choices)s") % {"choices": "、".join(map(str, Gender.labels))},
        _("人员类别:%(choices)s") % {"choices": "、".join(map(str, Background.labels))},
        _("社会工作职业资格:%(choices)s(留空即为无)")
        % {"choices": "、".join(map(str, SocialWorkLevel.labels))},
        _("技能:%(choices)s,多项用“、”分隔") % {"choices": "、".join(map(str, Skill.labels))},
        _("服务站点按下表的站点代码填写;其他服务站点可填多个,用“、”分隔。"),
        _("备案状态、备案编号、备案日期由区民政局通过备案流程办理,新增顾问请留空。"),
        _("离岗:填写离岗日期和离岗原因;已离岗顾问的离岗信息不能通过导入修改。"),
        "",
    ]
    for line in lines:
        notes.append([exports.neutralise(line)])
    notes.append([_("站点代码"), _("标准名称"), _("街镇")])
    stations = (
        Station.objects.visible_to(user)
        .exclude(street__isnull=True)
        .select_related("district", "street", "committee")
        .order_by("street__code", "kind", "committee__code", "pk")
    )
    for station in stations:
        notes.append(
            [
                exports.neutralise(station_code(station)),
                exports.neutralise(station.name),
                exports.neutralise(station.street.name),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Reading a file back ------------------------------------------------------------------------


class RosterFileError(Exception):
    """The file as a whole cannot be imported (not the template, unreadable, too long)."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class RosterFile:
    header_line: int
    rows: list  # (line as Excel numbers it, {header: text})


def read_roster(content, file_format):
    """The header row and the advisor rows of a roster file, each with its row number.

    Cells are read as `exports.read_export` reads them (numbers as Excel gives them back,
    neutralised cells restored); empty rows are skipped but keep their numbers.
    """
    try:
        table = exports._read_xlsx(content) if file_format == "xlsx" else exports._read_csv(content)
    except Exception as exc:
        # A damaged or hostile file may fail deep inside the workbook reader in many ways.
        raise RosterFileError(_("无法读取文件内容,请确认文件没有损坏后重新上传。")) from exc
    numbered = [
        (index, row) for index, row in enumerate(table, start=1) if any(c.strip() for c in row)
    ]
    key = str(ROSTER_EXPORT.key.header)
    header_at = next(
        (
            position
            for position, (_line, row) in enumerate(numbered[:HEADER_SEARCH_ROWS])
            if key in [cell.strip() for cell in row]
        ),
        None,
    )
    if header_at is None:
        raise RosterFileError(
            _("文件不是人员清单模板:找不到表头“%(key)s”。请下载模板或导出人员清单后填写。")
            % {"key": key}
        )
    header_line, header_cells = numbered[header_at]
    header = [exports.unneutralise(cell.strip()) for cell in header_cells]
    missing = [name for name in ROSTER_EXPORT.headers if name not in header]
    if missing:
        raise RosterFileError(
            _("文件不是人员清单模板:缺少列 %(columns)s。请下载模板或导出人员清单后填写。")
            % {"columns": "、".join(missing)},
            header_line,
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise RosterFileError(
            _("表头中的列 %(columns)s 重复出现,请删除多余的列。")
            % {"columns": "、".join(repeated)},
            header_line,
        )
    rows = numbered[header_at + 1 :]
    if len(rows) > MAX_ROWS:
        raise RosterFileError(
            _("文件共 %(rows)s 行,超过一次最多导入的 %(max)s 行,请分批导入。")
            % {"rows": len(rows), "max": MAX_ROWS}
        )
    return RosterFile(
        header_line=header_line,
        rows=[
            (
                line,
                {
                    name: exports.unneutralise(cells[index].strip()) if index < len(cells) else ""
                    for index, name in enumerate(header)
                    if name
                },
            )
            for line, cells in rows
        ],
    )


# Planning -----------------------------------------------------------------------------------


@dataclass
class RowError:
    """Why one row (or the file, `line` None or the header row) cannot be imported."""

    line: int | None
    subject: str
    message: str


@dataclass
class RosterRow:
    """One row of the file that creates or changes an advisor."""

    line: int
    advisor: Advisor | None = None
    street: Street | None = None
    name: str = ""
    fields: dict = field(default_factory=dict)
    stations: list | None = None
    primary: Station | None = None
    leave: tuple | None = None
    changes: dict = field(default_factory=dict)  # header -> (stored, incoming)
    values: list = field(default_factory=list)  # a new advisor's (header, text), filled ones

    @property
    def number(self):
        return self.advisor.advisor_number if self.advisor else ""


@dataclass
class RosterPlan:
    """What an import would do: advisors to create and to change, rows left as they are,
    and every error. Only a plan without errors is applied."""

    rows: int = 0
    creations: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    unchanged: int = 0
    errors: list = field(default_factory=list)

    @property
    def has_changes(self):
        return bool(self.creations or self.updates)

    def digest(self):
        """A fingerprint of what the user sees in the preview, to confirm exactly that."""
        summary = {
            "create": [[row.line, row.values] for row in self.creations],
            "update": [[row.line, row.number, sorted(row.changes.items())] for row in self.updates],
            "errors": [[error.line, error.subject, error.message] for error in self.errors],
            "unchanged": self.unchanged,
        }
        text = json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def streets(self):
        """The streets the plan writes to."""
        found = {row.street.pk: row.street for row in self.creations}
        found.update({row.advisor.street_id: row.advisor.street for row in self.updates})
        return list(found.values())


class _CellError(Exception):
    pass


class _Scope:
    """What a plan looks things up in, loaded in a fixed number of queries."""

    def __init__(self, user, numbers, *, lock):
        self.user = user
        advisors = (
            Advisor.objects.visible_to(user)
            .filter(advisor_number__in=numbers)
            .select_related("street", "user")
            .prefetch_related(station_links_prefetch())
        )
        if lock:
            # The advisors stay as planned until the transaction that applies the plan ends.
            advisors = advisors.select_for_update(of=("self",))
        self.advisors = {advisor.advisor_number: advisor for advisor in advisors}
        self.streets = {street.pk: street for street in Street.objects.visible_to(user)}
        self.streets_by_name = {}
        for street in self.streets.values():
            self.streets_by_name.setdefault(street.name, []).append(street)
        self.stations_by_code, self.stations_by_name = {}, {}
        stations = Station.objects.visible_to(user).select_related(
            "district", "street", "committee"
        )
        for station in stations:
            self.stations_by_code.setdefault(station_code(station), []).append(station)
            self.stations_by_name.setdefault(station.name, []).append(station)

    @property
    def own_street(self):
        if self.user.role == Role.STREET_MANAGER:
            return self.streets.get(self.user.street_id)
        return None


def plan_import(*, user, content, file_format, lock=False):
    """The plan of a roster file for `user`: what it would create and change, and its errors.

    Nothing is written. `lock` (when applying) locks the advisors the file names.
    """
    plan = RosterPlan()
    try:
        roster = read_roster(content, file_format)
    except RosterFileError as error:
        plan.errors.append(RowError(error.line, "", error.message))
        return plan
    plan.rows = len(roster.rows)
    key = str(ROSTER_EXPORT.key.header)
    numbers = {cells.get(key, "").strip().upper() for _line, cells in roster.rows}
    scope = _Scope(user, numbers - {""}, lock=lock)
    seen = {}
    for line, cells in roster.rows:
        number = cells.get(key, "").strip().upper()
        subject = number or cells.get(header_of("name"), "").strip()
        if number and number in seen:
            plan.errors.append(
                RowError(
                    line,
                    subject,
                    _("顾问编号“%(number)s”在文件中重复出现(第 %(line)s 行已有)。")
                    % {"number": number, "line": seen[number]},
                )
            )
            continue
        if number:
            seen[number] = line
        row, errors = _plan_row(line, number, cells, scope)
        plan.errors.extend(RowError(line, subject, message) for message in errors)
        if errors:
            continue
        if row is None:
            plan.unchanged += 1
        elif row.advisor is None:
            plan.creations.append(row)
        else:
            plan.updates.append(row)
    return plan


def _plan_row(line, number, cells, scope):
    """The row's creation or change (None when it changes nothing), and its errors."""
    advisor = None
    if number:
        advisor = scope.advisors.get(number)
        if advisor is None:
            return None, [
                _("顾问编号“%(number)s”不存在,或不在您的管理范围内。") % {"number": number}
            ]
    values, canonical, errors = _read_cells(cells, advisor)
    street, street_errors = _street_of(cells, advisor, scope, values)
    errors += street_errors
    primary, stations, station_errors = _stations_of(cells, advisor, street, scope)
    errors += station_errors
    # The station columns as the export would write the stations the row names.
    canonical[str(H_PRIMARY)] = primary.name if primary else ""
    canonical[str(H_PRIMARY_CODE)] = station_code(primary) if primary else ""
    canonical[str(H_OTHER_CODES)] = join_codes(s for s in stations if s != primary)
    if errors:
        return None, errors
    if advisor is None:
        return _creation(line, street, values, canonical, primary, stations)
    return _update(line, advisor, values, canonical, primary, stations)


def _creation(line, street, values, canonical, primary, stations):
    errors = []
    if values["filing_status"] not in ("", FilingStatus.PENDING) or (
        values["filing_number"] or values["filed_on"]
    ):
        errors.append(
            _(
                "备案信息须通过备案流程办理:新增的顾问为“待备案”,请将备案状态、备案编号、备案日期留空。"
            )
        )
    if primary is None:
        errors.append(_("请填写主要服务站点代码。"))
    if values["leave_reason"] and not values["left_on"]:
        errors.append(_("填写离岗原因时请同时填写离岗日期。"))
    fields = {name: values[name] for name in DETAIL_FIELDS}
    fields.update({name: values[name] for name in LEAVE_FIELDS if values[name]})
    errors += _model_errors(Advisor(street=street, **fields))
    if errors:
        return None, errors
    hidden = {str(H_STREET), *(header_of(name) for name in FILING_FIELDS)}
    shown = [
        (header, canonical[header])
        for header in ROSTER_EXPORT.headers[1:]
        if canonical.get(header) and header not in hidden
    ]
    row = RosterRow(
        line=line,
        street=street,
        name=values["name"],
        fields=fields,
        stations=stations,
        primary=primary,
        values=[(str(H_STREET), street.name), *shown],
    )
    return row, []


def _update(line, advisor, values, canonical, primary, stations):
    # The street and the filing are there for reference: left empty, they are no change.
    for header in (str(H_STREET), *(header_of(name) for name in FILING_FIELDS)):
        if not canonical.get(header):
            canonical.pop(header, None)
    changes = row_changes(advisor, canonical, ROSTER_EXPORT)
    if not changes:
        return None, []
    errors = []
    if str(H_STREET) in changes:
        errors.append(
            _("顾问所属街镇不能通过导入修改(现为%(street)s)。") % {"street": advisor.street.name}
        )
    if any(header_of(name) in changes for name in FILING_FIELDS):
        errors.append(
            _("备案信息须通过备案流程办理,不能通过导入修改备案状态、备案编号或备案日期。")
        )
    leave = None
    if any(header_of(name) in changes for name in LEAVE_FIELDS):
        if advisor.left_on:
            errors.append(
                _("该顾问已于%(date)s离岗,离岗信息不能通过导入修改。")
                % {"date": advisor.left_on.isoformat()}
            )
        elif not values["left_on"]:
            errors.append(_("填写离岗原因时请同时填写离岗日期。"))
        else:
            leave = (values["left_on"], values["leave_reason"])
    fields = {name: values[name] for name in DETAIL_FIELDS if header_of(name) in changes}
    if station_headers() & set(changes) and primary is None:
        errors.append(_("请填写主要服务站点代码:顾问至少要有一个服务站点。"))
    # The advisor as the import would leave it, validated without touching the stored one.
    checked = copy.copy(advisor)
    for name, value in fields.items():
        setattr(checked, name, value)
    if leave:
        checked.left_on, checked.leave_reason = leave[0], leave[1].strip()
    errors += _model_errors(checked)
    if errors:
        return None, errors
    row = RosterRow(
        line=line,
        advisor=advisor,
        street=advisor.street,
        name=advisor.name,
        fields=fields,
        stations=stations if station_headers() & set(changes) else None,
        primary=primary,
        leave=leave,
        changes=changes,
    )
    return row, []


def _model_errors(advisor):
    """The advisor's own validation (fields and cross-field rules), without queries."""
    try:
        advisor.full_clean(
            exclude=["advisor_number", "street", "user", "name_initials"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        messages = []
        for name, field_messages in error.message_dict.items():
            label = "" if name == NON_FIELD_ERRORS else header_of(name)
            for message in field_messages:
                messages.append(message if label in message else f"{label}:{message}")
        return messages
    return []


# Cells --------------------------------------------------------------------------------------


def _read_cells(cells, advisor):
    """Every cell read into its value: ({field: value}, {header: text as exported}, errors)."""
    values, canonical, errors = {}, {}, []

    def read(name, reader, *args):
        header = header_of(name)
        try:
            values[name], canonical[header] = reader(cells.get(header, ""), header, *args)
        except _CellError as error:
            values[name] = None
            errors.append(str(error))

    read("name", _text, True)
    read("gender", _choice, Gender, True)
    read("mobile", _mobile, advisor)
    read("background", _choice, Background, True)
    read("social_work_level", _choice, SocialWorkLevel, False)
    if values["social_work_level"] == "":
        values["social_work_level"] = SocialWorkLevel.NONE
        canonical[header_of("social_work_level")] = str(SocialWorkLevel.NONE.label)
    read("certificate_number", _text, False)
    try:
        values["skills"], canonical[str(H_SKILLS)] = _skills(cells.get(str(H_SKILLS), ""), advisor)
    except _CellError as error:
        errors.append(str(error))
    for name in ("uniform_issued_on", "badge_issued_on", "left_on", "filed_on"):
        read(name, _date, False)
    read("started_on", _date, True)
    read("star_year", _year)
    read("backbone_year", _year)
    read("leave_reason", _text, False)
    read("filing_status", _choice, FilingStatus, False)
    read("filing_number", _text, False)
    canonical[str(H_STREET)] = cells.get(str(H_STREET), "").strip()
    return values, canonical, errors


def _text(text, header, required):
    text = text.strip()
    if required and not text:
        raise _CellError(_("请填写%(column)s。") % {"column": header})
    return text, text


def _choice(text, header, choices, required):
    text = text.strip()
    if not text:
        if required:
            raise _CellError(_("请填写%(column)s。") % {"column": header})
        return "", ""
    for value, label in choices.choices:
        if text in (str(label), value):
            return value, str(label)
    raise _CellError(
        _("%(column)s“%(value)s”不是可选的值,可填:%(choices)s。")
        % {"column": header, "value": text, "choices": "、".join(map(str, choices.labels))}
    )


def _mobile(text, header, advisor):
    text = re.sub(r"[\s-]", "", text)
    stored = advisor.mobile if advisor else ""
    if stored and is_unchanged(PHONE, stored=stored, incoming=text):
        return stored, text
    if not text:
        return "", ""
    if looks_masked(PHONE, text):
        raise _CellError(
            _("手机号码“%(value)s”是遮盖后的号码,与现有号码不符;请填写完整的11位手机号码。")
            % {"value": text}
        )
    if not MOBILE.fullmatch(text):
        raise _CellError(_("手机号码“%(value)s”不是有效的11位手机号码。") % {"value": text})
    return text, text


def _skills(text, advisor):
    labels = {str(label): value for value, label in Skill.choices}
    chosen, unknown = [], []
    for item in LIST_SEPARATORS.split(text.strip()):
        if not item:
            continue
        value = labels.get(item) or (item if item in Skill.values else None)
        if value is None:
            unknown.append(item)
        elif value not in chosen:
            chosen.append(value)
    if unknown:
        raise _CellError(
            _("技能“%(value)s”不是可选的值,可填:%(choices)s,多项用“、”分隔。")
            % {"value": "、".join(unknown), "choices": "、".join(map(str, Skill.labels))}
        )
    if advisor is not None and set(chosen) == set(advisor.skills):
        chosen = list(advisor.skills)  # the same skills in another order are no change
    return chosen, join_skills(chosen)


def parse_date(text):
    """A date as people type it in a sheet (2024-03-01, 2024/3/1, 2024年3月1日), or as
    Excel gives a date cell back (2024-03-01 00:00:00); None when it is none of these."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", text):
        text = text[:10]
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _date(text, header, required):
    text = text.strip()
    if not text:
        if required:
            raise _CellError(_("请填写%(column)s。") % {"column": header})
        return None, ""
    day = parse_date(text)
    if day is None or not 1900 <= day.year <= 2100:
        raise _CellError(
            _("%(column)s“%(value)s”不是有效的日期,请写成 2024-03-01 的格式。")
            % {"column": header, "value": text}
        )
    return day, day.isoformat()


def _year(text, header):
    text = text.strip().removesuffix("年")
    if not text:
        return None, ""
    if not re.fullmatch(r"[0-9]{4}(\.0+)?", text):
        raise _CellError(
            _("%(column)s“%(value)s”应为年份,例如 2024。") % {"column": header, "value": text}
        )
    year = int(text[:4])
    return year, str(year)


# Street and stations ------------------------------------------------------------------------


def _street_of(cells, advisor, scope, values):
    """The street of the row's advisor: the stored one, or the one a new row names."""
    if advisor is not None:
        return advisor.street, []
    name = cells.get(str(H_STREET), "").strip()
    own = scope.own_street
    if not name:
        if own is not None:
            return own, []
        code = cells.get(str(H_PRIMARY_CODE), "").strip().upper()
        found = scope.stations_by_code.get(code, [])
        if len(found) == 1 and found[0].street_id in scope.streets:
            return scope.streets[found[0].street_id], []
        return None, [_("请填写街镇。")]
    streets = scope.streets_by_name.get(name, [])
    if len(streets) == 1:
        return streets[0], []
    if own is not None:
        return None, [
            _("街镇“%(street)s”不是本街镇:您只能导入%(own)s的顾问。")
            % {"street": name, "own": own.name}
        ]
    return None, [_("街镇“%(street)s”不存在,或不在您的管理范围内。") % {"street": name}]


def _stations_of(cells, advisor, street, scope):
    """(primary, all stations, errors) from the station columns; (None, [], []) when empty."""
    errors = []
    code = cells.get(str(H_PRIMARY_CODE), "").strip().upper()
    name = cells.get(str(H_PRIMARY), "").strip()
    primary = None
    if code:
        try:
            primary = _station_by_code(code, street, scope)
        except _CellError as error:
            errors.append(str(error))
        stored_name = primary_station_name(advisor) if advisor else ""
        if primary is not None and name and name not in (primary.name, stored_name):
            errors.append(
                _(
                    "主要服务站点“%(name)s”与主要服务站点代码“%(code)s”(%(station)s)不一致,"
                    "请核对:站点以代码为准。"
                )
                % {"name": name, "code": code, "station": primary.name}
            )
    elif name:
        found = scope.stations_by_name.get(name, [])
        if len(found) != 1:
            errors.append(
                _("找不到名为“%(name)s”的服务站点,请填写主要服务站点代码。") % {"name": name}
            )
        else:
            primary = found[0]
            errors += _outside_street(primary, street, scope)
    stations = [primary] if primary else []
    for other in LIST_SEPARATORS.split(cells.get(str(H_OTHER_CODES), "").strip().upper()):
        if not other:
            continue
        try:
            station = _station_by_code(other, street, scope)
        except _CellError as error:
            errors.append(str(error))
            continue
        if station not in stations:
            stations.append(station)
    if stations and primary is None and not errors:
        errors.append(_("填写其他服务站点时,请同时填写主要服务站点代码。"))
    return primary, stations, errors


def _station_by_code(code, street, scope):
    found = scope.stations_by_code.get(code, [])
    if len(found) > 1:
        raise _CellError(
            _("站点代码“%(code)s”对应多个站点,无法确定,请联系区民政局。") % {"code": code}
        )
    if not found:
        street_code = code[:9]
        if street is not None and STREET_CODE.fullmatch(street_code) and street_code != street.code:
            raise _CellError(_not_of_street(code, street, scope))
        raise _CellError(_("站点代码“%(code)s”不存在,或不在您的管理范围内。") % {"code": code})
    errors = _outside_street(found[0], street, scope)
    if errors:
        raise _CellError(errors[0])
    return found[0]


def _outside_street(station, street, scope):
    if street is None or station.street_id == street.pk:
        return []
    return [_not_of_street(station_code(station), street, scope)]


def _not_of_street(code, street, scope):
    if scope.own_street is not None:
        return _("站点代码“%(code)s”的站点不属于本街镇,不能设为本街镇顾问的服务站点。") % {
            "code": code
        }
    return _("站点代码“%(code)s”的站点不属于顾问所在的%(street)s。") % {
        "code": code,
        "street": street.name,
    }


# Applying -----------------------------------------------------------------------------------


def apply_plan(*, actor, plan):
    """Write a plan without errors through the advisor services; returns (created, changed).

    Call it inside one transaction with the plan made under `lock=True`: a refusal by a
    service raises, and the caller's transaction takes every write of the file back.
    """
    if plan.errors:
        raise ValidationError(_("文件中有错误,不能导入。"))
    for row in plan.creations:
        advisor = services.register_advisor(actor=actor, street=row.street, **row.fields)
        services.set_advisor_stations(
            actor=actor, advisor=advisor, stations=row.stations, primary=row.primary
        )
    for row in plan.updates:
        advisor = row.advisor
        if row.fields:
            services.update_advisor(actor=actor, advisor=advisor, **row.fields)
        if row.stations is not None:
            services.set_advisor_stations(
                actor=actor, advisor=advisor, stations=row.stations, primary=row.primary
            )
        if row.leave:
            services.advisor_leave(
                actor=actor, advisor=advisor, left_on=row.leave[0], reason=row.leave[1]
            )
    return len(plan.creations), len(plan.updates)
