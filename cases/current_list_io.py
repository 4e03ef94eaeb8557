"""The monthly list of current recipients (现有救助对象月度名单) in: read, previewed, confirmed.

The city's assistance system gives each street, every month, the list of its current
recipients. A keeper imports it for a month (this month or last month): the file is read
here, every row is checked, and the plan shows who continues, who joins, who is newly
registered and whose period ends, before anything is written; `cases.services` holds the
rules of the periods (`month_list_change`) and writes them (`import_current_list`). The
pages are `cases.views.current_list`; the upload is kept between preview and confirmation
like every import of the project (`changning_aid.uploads`).

The file: a sheet (.xlsx, or CSV in UTF-8) whose header row (among its first three filled
rows) holds 身份证号, 姓名, 居委代码 and 救助类别, and optionally 地址 and 联系电话; other
columns are ignored. At most 20,000 rows (a district's list is about 10,000).

How rows are read:

- 身份证号 is the key: a full, valid number (GB 11643), found on the register through its
  keyed hash. A number listed twice, or held by someone the user does not see (another
  street, another district), is an error of its row that names nobody; a person who left the
  register (已退出) cannot be listed.
- People already registered: only their being current changes. Their name, committee,
  address, phone and categories stay as the register has them (changed on their page or by
  the register's import); a 居委代码, when given, must be one the user sees, and of the
  person's street.
- A new number is a new person (在册) of the committee its 居委代码 names (required, in the
  user's scope), with the 姓名 (required), the gender the number codes, the 救助类别 (names
  joined by 、, from the list in use), 地址 and 联系电话.

Which people the list decides: for a street manager, every registered person of their street;
for bureau staff, the registered people of the streets that the file's people belong to (a
street without a single row in the file is left as it is). Anyone of those streets who is
current and not on the list has their period ended on the eve of the month (see the rules
in `cases.services`).
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import services
from cases.choices import RecipientStatus
from cases.models import AssistanceCategory, Recipient
from changning_aid import exports, imports
from changning_aid.imports import FileError, RowError
from changning_aid.sensitive.fields import hash_id_number
from changning_aid.sensitive.idnumbers import id_number_problem, normalize_id_number
from changning_aid.sensitive.masking import ID_NUMBER, PHONE, mask
from stations.models import Committee, Street

UPLOAD_KIND = "cases.current_list_import"
MAX_ROWS = 20000
# The preview lists at most this many people of each kind (all are counted).
PREVIEW_ROWS = 1000

H_ID_NUMBER = gettext_lazy("身份证号")
H_NAME = gettext_lazy("姓名")
H_COMMITTEE_CODE = gettext_lazy("居委代码")
H_CATEGORIES = gettext_lazy("救助类别")
H_ADDRESS = gettext_lazy("地址")
H_PHONE = gettext_lazy("联系电话")
REQUIRED_HEADERS = (H_ID_NUMBER, H_NAME, H_COMMITTEE_CODE, H_CATEGORIES)
OPTIONAL_HEADERS = (H_ADDRESS, H_PHONE)
# The register's own word for the address column, accepted too.
ADDRESS_ALIASES = (H_ADDRESS, gettext_lazy("居住地址"))
LIST_NAME = gettext_lazy("现有救助对象月度名单")


@dataclass(frozen=True)
class ListFormat:
    """The list's name and its template's headers (what `imports.template_workbook` reads)."""

    name: str
    headers: list


class CurrentListFormat:
    """The import as `changning_aid.imports.template_workbook` sees it."""

    spec = ListFormat(
        name=LIST_NAME, headers=[str(header) for header in (*REQUIRED_HEADERS, *OPTIONAL_HEADERS)]
    )
    list_name = LIST_NAME


CURRENT_LIST = CurrentListFormat()


# Months ------------------------------------------------------------------------------------


def month_value(first):
    """A month as it goes into forms and addresses: 2026-11."""
    return f"{first:%Y-%m}"


def month_label(first):
    return _("%(year)s年%(month)s月") % {"year": first.year, "month": first.month}


def parse_month(text, today=None):
    """The first day of a month given as 2026-11, if its list may be imported; else None."""
    try:
        first = datetime.datetime.strptime((text or "").strip(), "%Y-%m").date()
    except ValueError:
        return None
    return first if first in services.list_months(today) else None


def month_choices(today=None):
    """(value, label) of the months whose list may be imported: this month first."""
    this_month, last_month = services.list_months(today)
    return [
        (month_value(this_month), _("%(month)s(本月)") % {"month": month_label(this_month)}),
        (month_value(last_month), _("%(month)s(上月)") % {"month": month_label(last_month)}),
    ]


# The plan -----------------------------------------------------------------------------------


@dataclass
class ListEntry:
    """A person already registered, as the preview shows them: the Excel row (None for
    someone not on the list), their 档案号, name and committee, the masked ID number of the
    row, and their periods that reach the month before and after the import."""

    line: int | None
    recipient_id: int
    file_number: str
    name: str
    committee: str
    id_number: str
    periods_before: tuple
    periods_after: tuple
    periods_kept: tuple = ()

    @property
    def before(self):
        return periods_text(self.periods_before)

    @property
    def after(self):
        return periods_text(self.periods_after)

    @property
    def kept(self):
        return periods_text(self.periods_kept) if self.periods_kept else ""


@dataclass
class NewcomerEntry:
    """A new person of the list, as the preview shows them (numbers masked)."""

    line: int
    name: str
    id_number: str
    committee: str
    categories: str
    address: str
    phone: str


@dataclass
class CurrentListPlan:
    """What importing a list would do for its month; only a plan without errors is applied.

    `unchanged` and `extended` continue (the extended with a period reopened), `joining` are
    registered people who become current, `registering` new people, `ending` the people whose
    period ends on the eve of the month, `keeping` those not on the list whose period begins
    within the month and is kept. `listed`, `newcomers` and `streets` are what
    `services.import_current_list` is given.
    """

    first: datetime.date
    rows: int = 0
    streets: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    extended: list = field(default_factory=list)
    joining: list = field(default_factory=list)
    registering: list = field(default_factory=list)
    ending: list = field(default_factory=list)
    keeping: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    listed: list = field(default_factory=list)
    newcomers: list = field(default_factory=list)
    _digest_rows: list = field(default_factory=list, repr=False)

    @property
    def last(self):
        return services.month_end(self.first)

    @property
    def continuing(self):
        return len(self.unchanged) + len(self.extended)

    @property
    def has_changes(self):
        return bool(self.extended or self.joining or self.registering or self.ending)

    @property
    def can_confirm(self):
        return self.has_changes and not self.errors

    def counts(self):
        """The number of people of each kind, as `services.import_current_list` returns them."""
        return {
            "continue": self.continuing,
            "extend": len(self.extended),
            "join": len(self.joining),
            "register": len(self.registering),
            "end": len(self.ending),
            "keep": len(self.keeping),
        }

    def digest(self):
        """A fingerprint of what the preview shows, to confirm exactly that."""
        summary = {
            "month": month_value(self.first),
            "streets": sorted(street.pk for street in self.streets),
            "people": self._digest_rows,
            "errors": [[error.line, error.subject, error.message] for error in self.errors],
        }
        text = json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def periods_text(periods):
    """2025-01-01 ~ 至今；2024-03-01 ~ 2024-06-30 ("无" for none)."""
    if not periods:
        return _("无")
    return "；".join(
        f"{starts_on.isoformat()} ~ {ends_on.isoformat() if ends_on else _('至今')}"
        for starts_on, ends_on in periods
    )


# Reading ------------------------------------------------------------------------------------


def read_list(content, file_format):
    """The rows `(line, {header: text})` of a list file, numbered as Excel numbers them."""
    try:
        header_line, header, rows = exports.read_rows(
            content, file_format, key_header=H_ID_NUMBER, search_rows=imports.HEADER_SEARCH_ROWS
        )
    except ValueError:
        raise FileError(
            _("文件不是%(list)s:找不到表头“%(key)s”。请下载模板,或使用市救助系统导出的名单。")
            % {"list": LIST_NAME, "key": H_ID_NUMBER}
        ) from None
    except Exception as exc:
        # A damaged or hostile file may fail deep inside the workbook reader in many ways.
        raise FileError(_("无法读取文件内容,请确认文件没有损坏后重新上传。")) from exc
    missing = [str(name) for name in REQUIRED_HEADERS if str(name) not in header]
    if missing:
        raise FileError(
            _("文件缺少列 %(columns)s。请下载模板,按模板的表头填写。")
            % {"columns": "、".join(missing)},
            header_line,
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise FileError(
            _("表头中的列 %(columns)s 重复出现,请删除多余的列。")
            % {"columns": "、".join(repeated)},
            header_line,
        )
    if not rows:
        raise FileError(_("文件中没有名单数据:表头下面没有任何人员。"), header_line)
    if len(rows) > MAX_ROWS:
        raise FileError(
            _("文件共 %(rows)s 行,超过一次最多导入的 %(max)s 行,请分街镇导入。")
            % {"rows": len(rows), "max": MAX_ROWS}
        )
    return rows


@dataclass
class _Row:
    """One row of the list, its cells read (stripped) under the names of the columns."""

    line: int
    number: str
    name: str
    code: str
    categories: str
    address: str
    phone: str
    problem: str | None = None
    digest: str | None = None

    @classmethod
    def rows_of(cls, rows):
        # The headers' texts once for the file (they are translated strings).
        number, name, code = str(H_ID_NUMBER), str(H_NAME), str(H_COMMITTEE_CODE)
        categories, phone = str(H_CATEGORIES), str(H_PHONE)
        addresses = [str(header) for header in ADDRESS_ALIASES]
        parsed = []
        for line, cells in rows:
            row = cls(
                line=line,
                number=normalize_id_number(cells.get(number, "")),
                name=cells.get(name, "").strip(),
                code=cells.get(code, "").strip().upper(),
                categories=cells.get(categories, "").strip(),
                address=next((cells[h].strip() for h in addresses if cells.get(h, "").strip()), ""),
                phone=cells.get(phone, "").strip(),
            )
            if row.number:
                row.problem = id_number_problem(row.number)
                if row.problem is None:
                    row.digest = hash_id_number(row.number)
            parsed.append(row)
        return parsed

    @property
    def subject(self):
        """How the errors table names the row: its masked ID number, never a name."""
        return mask(ID_NUMBER, self.number)


class _Scope:
    """What the rows are looked up in, in a fixed number of queries whatever their number."""

    def __init__(self, user, rows):
        self.user = user
        digests = {row.digest for row in rows if row.digest}
        holders = {}
        for part in services.in_parts(digests):
            for holder in Recipient.objects.filter(id_number_hash__in=part).values(
                "pk", "id_number_hash", "street_id", "status"
            ):
                holders[holder["id_number_hash"]] = holder
        self.holders = holders
        # Which of them the user sees, with what names them: only those are ever named.
        self.visible = {}
        for part in services.in_parts([holder["pk"] for holder in holders.values()]):
            self.visible.update(
                (person["pk"], person)
                for person in Recipient.objects.visible_to(user)
                .filter(pk__in=part)
                .values("pk", "file_number", "name", "committee__name")
            )
        codes = {row.code for row in rows} - {""}
        self.committees = {
            committee.code.upper(): committee
            for committee in Committee.objects.visible_to(user)
            .filter(code__in=codes)
            .select_related("street")
        }
        self.streets = {street.pk: street for street in Street.objects.visible_to(user)}
        self.categories = {}
        for item in AssistanceCategory.objects.visible_to(user).order_by("order", "pk"):
            self.categories.setdefault(item.name, item)


def plan_list(user, content, file_format, first, *, lock=False):
    """The plan of a list file for `user` and the month beginning on `first`.

    Nothing is written. `lock` (when confirming) locks the people the list decides.
    """
    plan = CurrentListPlan(first=first)
    try:
        rows = read_list(content, file_format)
    except FileError as error:
        plan.errors.append(RowError(error.line, "", error.message))
        return plan
    plan.rows = len(rows)
    parsed = _Row.rows_of(rows)
    scope = _Scope(user, parsed)
    listed = {}  # recipient id: (row, holder)
    newcomers = []  # (row, ListedNewcomer)
    seen = {}
    for row in parsed:
        reasons = _row_problems(row, seen)
        if not reasons:
            holder = scope.holders.get(row.digest)
            if holder is None:
                newcomer, reasons = _newcomer(row, scope)
                if newcomer is not None:
                    newcomers.append((row, newcomer))
            else:
                reasons = _listed_problems(row, holder, scope)
                if not reasons:
                    listed[holder["pk"]] = (row, holder)
        plan.errors.extend(RowError(row.line, row.subject, reason) for reason in reasons)
    if plan.errors:
        # With a row left out, the people it names would show as ending: no plan is shown.
        return plan
    if user.is_street_manager:
        street_ids = {user.street_id}
    else:
        street_ids = {holder["street_id"] for _row, holder in listed.values()}
        street_ids |= {newcomer.committee.street_id for _row, newcomer in newcomers}
    plan.streets = sorted(
        (scope.streets[pk] for pk in street_ids if pk in scope.streets),
        key=lambda street: street.code,
    )
    plan.listed = list(listed)
    plan.newcomers = [newcomer for _row, newcomer in newcomers]
    changes = services.plan_current_list(
        actor=user, first=first, streets=street_ids, listed=plan.listed, lock=lock
    )
    _fill_entries(plan, changes, listed, scope)
    for row, newcomer in newcomers:
        plan.registering.append(
            NewcomerEntry(
                line=row.line,
                name=newcomer.name,
                id_number=row.subject,
                committee=newcomer.committee.name,
                categories=imports.joined(item.name for item in newcomer.categories),
                address=newcomer.address,
                phone=mask(PHONE, newcomer.phone),
            )
        )
        plan._digest_rows.append(
            [
                "register",
                row.line,
                row.digest,
                newcomer.name,
                newcomer.committee.pk,
                [item.pk for item in newcomer.categories],
                newcomer.address,
                newcomer.phone,
            ]
        )
    return plan


def _row_problems(row, seen):
    """What is wrong with a row's ID number (empty, invalid, listed twice)."""
    if not row.number:
        return [_("请填写身份证号。")]
    if row.problem:
        return [str(row.problem)]
    earlier = seen.get(row.number)
    if earlier is not None:
        return [_("身份证号与第 %(line)s 行相同,同一人在名单中只能出现一次。") % {"line": earlier}]
    seen[row.number] = row.line
    return []


def _listed_problems(row, holder, scope):
    """Why a registered person cannot be on the user's list ([] when they can)."""
    if holder["pk"] not in scope.visible:
        if scope.user.is_street_manager:
            return [_("该身份证号不属于本街镇的困难人员(已在其他街镇建档),请核实名单。")]
        return [_("该身份证号不属于本区的困难人员(已在其他区建档),请核实名单。")]
    if holder["status"] != RecipientStatus.REGISTERED:
        return [
            _(
                "该人员(档案号 %(number)s)已退出,不能通过名单认定为现有救助对象;"
                "如重新纳入救助,请先在档案中办理重新在册。"
            )
            % {"number": scope.visible[holder["pk"]]["file_number"]}
        ]
    code = row.code
    if not code:
        return []
    committee = scope.committees.get(code)
    if committee is None:
        return [_("居委代码“%(code)s”不存在,或不在您的管理范围内。") % {"code": code}]
    if committee.street_id != holder["street_id"]:
        own = scope.streets.get(holder["street_id"])
        return [
            _(
                "居委代码“%(code)s”属于%(street)s,而该人员(档案号 %(number)s)的档案在%(own)s;"
                "请先在档案中核实其居委。"
            )
            % {
                "code": code,
                "street": committee.street.name,
                "number": scope.visible[holder["pk"]]["file_number"],
                "own": own.name if own else "",
            }
        ]
    return []


FIELD_HEADERS = {"name": H_NAME, "address": H_ADDRESS, "phone": H_PHONE, "gender": H_ID_NUMBER}


def _newcomer(row, scope):
    """(ListedNewcomer or None, [reasons]) for a number not on the register."""
    reasons = []
    name = row.name
    if not name:
        reasons.append(_("新登记的人员请填写姓名。"))
    code = row.code
    committee = None
    if not code:
        reasons.append(_("新登记的人员请填写居委代码。"))
    else:
        committee = scope.committees.get(code)
        if committee is None:
            reasons.append(_("居委代码“%(code)s”不存在,或不在您的管理范围内。") % {"code": code})
    names = imports.items(row.categories)
    unknown = [item for item in names if item not in scope.categories]
    retired = [
        item for item in names if item in scope.categories and not scope.categories[item].is_active
    ]
    if unknown:
        reasons.append(
            _("救助类别中的“%(names)s”不是可选的项目,可填:%(choices)s。")
            % {
                "names": "、".join(unknown),
                "choices": "、".join(
                    name for name, item in scope.categories.items() if item.is_active
                ),
            }
        )
    if retired:
        reasons.append(
            _("救助类别中的“%(names)s”已停用,不可选用。") % {"names": "、".join(retired)}
        )
    categories = sorted(
        (scope.categories[item] for item in names if item in scope.categories),
        key=lambda item: (item.order, item.pk),
    )
    person = Recipient(
        committee=committee,
        street=committee.street if committee else None,
        name=name,
        gender=services.gender_of_id_number(row.number),
        id_number=row.number,
        address=row.address,
        phone=row.phone,
    )
    reasons += imports.model_errors(
        person,
        lambda field_name: str(FIELD_HEADERS.get(field_name, field_name)),
        exclude=[*services.NEWCOMER_UNCHECKED, "advisor"],
    )
    if reasons:
        return None, list(dict.fromkeys(reasons))
    newcomer = services.ListedNewcomer(
        committee=committee,
        name=name,
        id_number=row.number,
        categories=categories,
        address=row.address,
        phone=row.phone,
    )
    return newcomer, []


def _fill_entries(plan, changes, listed, scope):
    """The preview's lists, from the changes the services planned."""
    unlisted_ids = [pk for pk in changes if pk not in listed]
    people = {}
    for part in services.in_parts(unlisted_ids):
        people.update(
            (person["pk"], person)
            for person in Recipient.objects.visible_to(scope.user)
            .filter(pk__in=part)
            .values("pk", "file_number", "name", "committee__name")
        )
    sections = {
        services.LIST_CONTINUE: plan.unchanged,
        services.LIST_EXTEND: plan.extended,
        services.LIST_JOIN: plan.joining,
        services.LIST_END: plan.ending,
        services.LIST_KEEP: plan.keeping,
    }
    for recipient_id, change in changes.items():
        if recipient_id in listed:
            row, _holder = listed[recipient_id]
            line, number = row.line, row.subject
            person = scope.visible[recipient_id]
            file_number, name = person["file_number"], person["name"]
            committee = person["committee__name"] or ""
        else:
            person = people[recipient_id]
            line, number = None, ""
            file_number, name = person["file_number"], person["name"]
            committee = person["committee__name"] or ""
        entry = ListEntry(
            line=line,
            recipient_id=recipient_id,
            file_number=file_number,
            name=name,
            committee=committee,
            id_number=number,
            periods_before=change.before,
            periods_after=change.after,
            periods_kept=change.kept,
        )
        sections[change.kind].append(entry)
        if change.kind == services.LIST_END and change.kept:
            plan.keeping.append(entry)
        plan._digest_rows.append(
            [change.kind, line, recipient_id, change.before, change.after, change.kept]
        )
    for section in (plan.unchanged, plan.extended, plan.joining):
        section.sort(key=lambda entry: entry.line)
    for section in (plan.ending, plan.keeping):
        section.sort(key=lambda entry: (entry.committee, entry.file_number))
    plan._digest_rows.sort(key=lambda item: (item[0], str(item[1]), str(item[2])))


def plan_upload(user, upload, first, *, lock=False):
    """The plan of a kept upload (`changning_aid.models.PendingUpload`)."""
    file_format = upload.file_name.rsplit(".", 1)[-1].lower() if "." in upload.file_name else ""
    return plan_list(user, bytes(upload.content), file_format, first, lock=lock)


def apply_plan(user, plan):
    """Write a plan without errors through `services.import_current_list`; its counts."""
    return services.import_current_list(
        actor=user,
        first=plan.first,
        streets=plan.streets,
        listed=plan.listed,
        newcomers=plan.newcomers,
    )


# The empty template -------------------------------------------------------------------------


def template_workbook(user):
    """The empty template: the headers, how to fill them in, the committee codes and the
    assistance categories the user may use."""
    notes = [
        _(
            "第一个工作表的第一行是表头,请勿修改;从第二行起每人一行。"
            "也可直接导入市救助系统导出的名单,只要表头含有下列各列。"
        ),
        _("身份证号:完整的18位号码,按号码匹配困难人员档案;同一人只能出现一次。"),
        _(
            "姓名、居委代码、救助类别:新登记的人员须填写姓名和居委代码;"
            "已建档人员的姓名、居委、地址、电话和救助类别以档案为准,不因导入而改变。"
        ),
        _("居委代码见下表;街镇管理员只能导入本街镇的人员。"),
        _("救助类别:可填多项,用“、”分隔,可选项见下表。地址、联系电话可不填。"),
        _(
            "导入某月名单后:名单上的人员自该月1日起为现有救助对象;"
            "不在名单上、原为现有救助对象的人员,其期间于上月末日结束。"
        ),
    ]
    committees = (
        Committee.objects.visible_to(user).select_related("street").order_by("street__code", "code")
    )
    categories = AssistanceCategory.objects.visible_to(user).in_use().order_by("order", "pk")
    tables = [
        (
            [_("居委代码"), _("居委"), _("街镇")],
            [(c.code, c.name, c.street.name) for c in committees],
        ),
        ([_("救助类别")], [(item.name,) for item in categories]),
    ]
    return imports.template_workbook(CURRENT_LIST, notes, tables)
