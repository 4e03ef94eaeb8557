"""Checklists 2-4 (needs, resources, services) out to Excel and back in.

Each list is an `ExportSpec` served through the project's one export path
(`changning_aid.exports`) and an `Importer` of `changning_aid.imports` that reads the same
file back (or the empty template filled in by hand): the preview lists every row to be
created or changed and every error with its Excel row number; nothing is written until the
user confirms, and then all or nothing, through `cases.services`.

Rows are keyed by the stable numbers: 需求编号, 资源编号, 服务编号 (empty for a new row,
the number is generated). Other rows are named by their own stable keys: a need by the
person's 档案号, a service by 站点代码 / 顾问编号 / 档案号 / 需求编号 / 资源编号, a resource's
committee by its 居委代码. Everything is looked up through `visible_to(user)`: a key of
another street gets the same answer as an unknown one ("不存在,或不在您的管理范围内").

Columns marked "for reading" (a person's name, a street or station name, an advisor's
name) are written by the export so that people can read the file; an import ignores them.

How each list's columns are treated (decided here, shown on the import pages):

- Needs: 档案号 names the person (fixed once the need exists). 状态 follows the services'
  transitions (待评估 → 待对接 → 已对接 → 已解决 / 无法解决); closing needs 办结日期, 无法解决
  a reason in 办结情况; a new need starts 待评估 and may be imported straight into 待对接,
  已解决 or 无法解决. The linked resources (对接资源编号) are done on the need's page: an
  import that changes them is refused.
- Resources: 覆盖范围 / 街镇 / 居委代码 place a new resource (a street manager's go to their
  street; 全区 is the bureau's); they cannot be changed by an import. District-wide
  resources are changed by the bureau only.
- Services: a service record is a record of what was done: new rows are added; a row
  with an existing 服务编号 that changes anything is refused.
"""

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import Role
from advisors.models import Advisor, AdvisorStation
from cases import services
from cases.choices import (
    CLOSED_NEED_STATUSES,
    NEED_TRANSITIONS,
    AreaLevel,
    NeedCategory,
    NeedSource,
    NeedStatus,
    ResourceType,
    ServiceItem,
    ServiceStep,
    ServiceTask,
    Urgency,
)
from cases.models import Need, NeedResource, Recipient, Resource, ServiceRecord
from changning_aid import imports
from changning_aid.exports import Column, ExportSpec, field_columns, prefetched, row_changes
from changning_aid.imports import CellError, Importer, PlannedRow
from stations.models import Committee, Station, Street
from stations.views.exports import station_code

H_FILE_NUMBER = gettext_lazy("档案号")
H_PERSON = gettext_lazy("姓名")
H_STREET = gettext_lazy("街镇")
H_COMMITTEE = gettext_lazy("居委")
H_COMMITTEE_CODE = gettext_lazy("居委代码")
H_ADVISOR_NUMBER = gettext_lazy("顾问编号")
H_ADVISOR = gettext_lazy("责任顾问")
H_RESOURCE_NUMBERS = gettext_lazy("对接资源编号")
H_STATION_CODE = gettext_lazy("站点代码")
H_STATION = gettext_lazy("服务站点")
H_SERVICE_ADVISOR = gettext_lazy("服务顾问")
H_SERVICE_PERSON = gettext_lazy("服务对象")
H_NEED_NUMBER = gettext_lazy("需求编号")
H_RESOURCE_NUMBER = gettext_lazy("资源编号")


def header_of(model):
    return lambda name: str(model._meta.get_field(name).verbose_name)


def _today():
    return timezone.localdate()


class _Reader:
    """Reads cells into `values` (field: value) and `canonical` (header: text as exported),
    collecting the Chinese reasons of cells that cannot be read."""

    def __init__(self, cells, model):
        self.cells = cells
        self.header_of = header_of(model)
        self.values, self.canonical, self.errors = {}, {}, []

    def cell(self, header):
        return self.cells.get(str(header), "")

    def read(self, name, reader, *args, header=None, **kwargs):
        header = str(header or self.header_of(name))
        try:
            self.values[name], self.canonical[header] = reader(
                self.cell(header), header, *args, **kwargs
            )
        except CellError as error:
            self.values[name] = None
            self.errors.append(str(error))


def _advisor_of(reader, scope, header=H_ADVISOR_NUMBER):
    """The advisor a row names by 顾问编号 (None when empty), with its canonical text."""
    number = reader.cell(header).strip().upper()
    reader.canonical[str(header)] = number
    if not number:
        return None
    advisor = scope.advisors.get(number)
    if advisor is None:
        reader.errors.append(
            _("顾问编号“%(number)s”不存在,或不在您的管理范围内。") % {"number": number}
        )
    return advisor


def _own_street(user, streets):
    if user.role == Role.STREET_MANAGER:
        return streets.get(user.street_id)
    return None


def _values_shown(spec, canonical, hidden=()):
    """A creation's filled columns, in the order of the file, for the preview."""
    return [
        (header, canonical[header])
        for header in spec.headers[1:]
        if canonical.get(header) and header not in hidden
    ]


# Checklist 2: needs -----------------------------------------------------------------------


def resource_numbers(need):
    return imports.joined(
        sorted(
            link.resource.resource_number
            for link in prefetched(need, "exported_resource_links", "resource_links")
        )
    )


NEED_EXPORT = ExportSpec(
    model=Need,
    name=gettext_lazy("困难人员需求清单"),
    key=Column(Need._meta.get_field("need_number").verbose_name, "need_number"),
    columns=[
        Column(H_FILE_NUMBER, "recipient.file_number"),
        Column(H_PERSON, "recipient.name"),
        Column(H_STREET, "recipient.street.name"),
        Column(H_COMMITTEE, "recipient.committee.name"),
        *field_columns(
            Need,
            "category",
            "description",
            "source",
            "found_on",
            "urgency",
            "status",
            "closed_on",
            "outcome",
        ),
        Column(H_ADVISOR_NUMBER, "advisor.advisor_number"),
        Column(H_ADVISOR, "advisor.name"),
        Column(H_RESOURCE_NUMBERS, resource_numbers),
    ],
    related=["recipient__street", "recipient__committee", "advisor"],
    prefetch=[
        Prefetch(
            "resource_links",
            queryset=NeedResource.objects.select_related("resource"),
            to_attr="exported_resource_links",
        )
    ],
)
NEED_DETAILS = ("category", "description", "source", "found_on", "urgency", "outcome")
need_header = header_of(Need)


class _NeedScope:
    def __init__(self, user, rows, *, lock):
        keys = {key for _line, key, _cells in rows if key}
        numbers = {cells.get(str(H_FILE_NUMBER), "").strip().upper() for _line, _key, cells in rows}
        advisor_numbers = {
            cells.get(str(H_ADVISOR_NUMBER), "").strip().upper() for _line, _key, cells in rows
        }
        needs = (
            Need.objects.visible_to(user)
            .filter(need_number__in=keys)
            .select_related(*NEED_EXPORT.related)
            .prefetch_related(*NEED_EXPORT.prefetch)
        )
        if lock:
            needs = needs.select_for_update(of=("self",))
        self.needs = {need.need_number: need for need in needs}
        self.recipients = {
            recipient.file_number: recipient
            for recipient in Recipient.objects.visible_to(user)
            .filter(file_number__in=numbers - {""})
            .select_related("street", "committee", "advisor")
        }
        self.advisors = {
            advisor.advisor_number: advisor
            for advisor in Advisor.objects.visible_to(user).filter(
                advisor_number__in=advisor_numbers - {""}
            )
        }


class NeedImport(Importer):
    spec = NEED_EXPORT
    upload_kind = "cases.needs_import"
    list_name = gettext_lazy("需求清单")
    unit = gettext_lazy("项")

    def scope(self, user, rows, *, lock):
        return _NeedScope(user, rows, lock=lock)

    def subject(self, key, cells):
        return key or cells.get(str(H_FILE_NUMBER), "").strip()

    def plan_row(self, line, key, cells, scope):
        need = None
        if key:
            need = scope.needs.get(key)
            if need is None:
                return None, [self.unknown_key(key)]
        reader = _Reader(cells, Need)
        reader.read("category", imports.choice, NeedCategory, required=True)
        reader.read("description", imports.text, required=True)
        reader.read("source", imports.choice, NeedSource, required=True)
        reader.read("found_on", imports.date, required=True)
        reader.read("urgency", imports.choice, Urgency)
        if reader.values["urgency"] == "":
            reader.values["urgency"] = Urgency.NORMAL
            reader.canonical[need_header("urgency")] = str(Urgency.NORMAL.label)
        reader.read("status", imports.choice, NeedStatus, required=need is not None)
        if reader.values["status"] == "":
            reader.values["status"] = NeedStatus.TO_ASSESS
            reader.canonical[need_header("status")] = str(NeedStatus.TO_ASSESS.label)
        reader.read("closed_on", imports.date)
        reader.read("outcome", imports.text, max_length=500)
        advisor = _advisor_of(reader, scope)
        links = imports.joined(sorted(imports.items(reader.cell(H_RESOURCE_NUMBERS).upper())))
        reader.canonical[str(H_RESOURCE_NUMBERS)] = links
        recipient = self._recipient(reader, scope, need)
        if reader.errors:
            return None, reader.errors
        if need is None:
            return self._creation(line, reader, recipient, advisor)
        return self._update(line, reader, need, advisor)

    def _recipient(self, reader, scope, need):
        number = reader.cell(H_FILE_NUMBER).strip().upper()
        if not number:
            if need is not None:
                return need.recipient
            reader.errors.append(_("请填写档案号。"))
            return None
        recipient = scope.recipients.get(number)
        if need is not None and number != need.recipient.file_number:
            reader.errors.append(
                _("需求所属的困难人员不能通过导入修改(现为档案号 %(number)s)。")
                % {"number": need.recipient.file_number}
            )
        elif recipient is None:
            reader.errors.append(
                _("档案号“%(number)s”不存在,或不在您的管理范围内。") % {"number": number}
            )
        return recipient

    def _advisor_errors(self, advisor, recipient):
        if advisor is None:
            return []
        if advisor.street_id != recipient.street_id:
            return [_("责任顾问必须是本街镇的顾问。")]
        if not advisor.is_active_on(_today()):
            return [_("%(name)s 不是在岗顾问,不能负责。") % {"name": advisor.name}]
        return []

    def _creation(self, line, reader, recipient, advisor):
        values, canonical = reader.values, reader.canonical
        errors = []
        if recipient.status != "registered":
            errors.append(_("已退出的人员不能登记新的需求。"))
        if canonical[str(H_RESOURCE_NUMBERS)]:
            errors.append(_("对接资源请在需求页面办理:新增需求时“对接资源编号”请留空。"))
        status = NeedStatus(values["status"])
        if status != NeedStatus.TO_ASSESS and status not in NEED_TRANSITIONS[NeedStatus.TO_ASSESS]:
            errors.append(
                _("新登记的需求为“待评估”,不能直接设为“%(status)s”。") % {"status": status.label}
            )
        if advisor is not None and advisor != recipient.advisor:
            errors += self._advisor_errors(advisor, recipient)
        checked = Need(
            recipient=recipient,
            advisor=advisor or recipient.advisor,
            **{name: values[name] for name in (*NEED_DETAILS, "status", "closed_on")},
        )
        errors += imports.model_errors(
            checked, need_header, exclude=["need_number", "recipient", "advisor"]
        )
        if errors:
            return None, errors
        hidden = {str(H_PERSON), str(H_STREET), str(H_COMMITTEE), str(H_ADVISOR)}
        row = PlannedRow(
            line=line,
            name=f"{recipient.name}({recipient.file_number})",
            street=recipient.street,
            values=_values_shown(NEED_EXPORT, canonical, hidden),
            action={
                "recipient": recipient,
                "advisor": advisor,
                "fields": {name: values[name] for name in NEED_DETAILS},
                "status": status,
                "closed_on": values["closed_on"],
            },
        )
        return row, []

    def _update(self, line, reader, need, advisor):
        values, canonical = reader.values, reader.canonical
        changes = row_changes(need, canonical, NEED_EXPORT)
        if not changes:
            return None, []
        errors = []
        if str(H_RESOURCE_NUMBERS) in changes:
            errors.append(_("对接资源请在需求页面办理,不能通过导入修改“对接资源编号”。"))
        fields = {name: values[name] for name in NEED_DETAILS if need_header(name) in changes}
        if str(H_ADVISOR_NUMBER) in changes:
            fields["advisor"] = advisor
            errors += self._advisor_errors(advisor, need.recipient)
        status = NeedStatus(values["status"])
        status_changed = need_header("status") in changes
        if status_changed and status not in NEED_TRANSITIONS[NeedStatus(need.status)]:
            errors.append(
                _("需求不能从“%(from)s”变为“%(to)s”。")
                % {"from": need.get_status_display(), "to": status.label}
            )
        if (
            need_header("closed_on") in changes
            and not status_changed
            and need.status in CLOSED_NEED_STATUSES
        ):
            errors.append(_("已办结需求的办结日期不能通过导入修改。"))
        checked = imports.changed_copy(
            need, {**fields, "status": status, "closed_on": values["closed_on"]}
        )
        errors += imports.model_errors(
            checked, need_header, exclude=["need_number", "recipient", "advisor"]
        )
        if errors:
            return None, errors
        row = PlannedRow(
            line=line,
            key=need.need_number,
            name=f"{need.recipient.name}({need.recipient.file_number})",
            obj=need,
            street=need.recipient.street,
            changes=changes,
            action={
                "fields": fields,
                "status": status if status_changed else None,
                "closed_on": values["closed_on"],
                "outcome": values["outcome"],
            },
        )
        return row, []

    def apply_row(self, actor, row):
        action = row.action
        if row.is_creation:
            fields = dict(action["fields"])
            outcome = fields.pop("outcome")
            need = services.record_need(
                actor=actor, recipient=action["recipient"], advisor=action["advisor"], **fields
            )
            if outcome:
                services.update_need(actor=actor, need=need, outcome=outcome)
            if action["status"] != NeedStatus.TO_ASSESS:
                services.change_need_status(
                    actor=actor,
                    need=need,
                    status=action["status"],
                    on=action["closed_on"],
                    outcome=outcome,
                )
            return need
        need = row.obj
        if action["fields"]:
            services.update_need(actor=actor, need=need, **action["fields"])
        if action["status"] is not None:
            services.change_need_status(
                actor=actor,
                need=need,
                status=action["status"],
                on=action["closed_on"],
                outcome=action["outcome"],
            )
        return need

    def notes(self, user):
        return [
            _("第一个工作表的第一行是表头,请勿修改;从第二行起每行一项需求。"),
            _("需求编号:新增需求留空,由系统生成;修改已有需求时请保留导出文件中的编号。"),
            _(
                "档案号:困难人员的档案号(在困难人员名单中查看);姓名、街镇、居委、责任顾问供阅读,导入时不读取。"
            ),
            _("需求类别:%s") % "、".join(map(str, NeedCategory.labels)),
            _("发现方式:%s") % "、".join(map(str, NeedSource.labels)),
            _("紧急程度:%s(留空即为一般)") % "、".join(map(str, Urgency.labels)),
            _(
                "状态:待评估→待对接→已对接→已解决/无法解决;办结时填写办结日期,无法解决时在办结情况中说明原因。"
            ),
            _("顾问编号:责任顾问的编号,留空即为该人员的责任顾问。"),
            _("日期写成 2024-03-01。对接资源请在需求页面办理,新增需求时“对接资源编号”留空。"),
        ]


# Checklist 3: resources -------------------------------------------------------------------

RESOURCE_EXPORT = ExportSpec(
    model=Resource,
    name=gettext_lazy("社会救助资源清单"),
    key=Column(Resource._meta.get_field("resource_number").verbose_name, "resource_number"),
    columns=[
        *field_columns(
            Resource,
            "name",
            "resource_type",
            "provider",
            "contact",
            "offers",
            "eligibility",
            "area_level",
        ),
        Column(H_STREET, "street.name"),
        Column(H_COMMITTEE_CODE, "committee.code"),
        Column(H_COMMITTEE, "committee.name"),
        *field_columns(Resource, "capacity", "valid_from", "valid_to", "legal_basis"),
    ],
    related=["street", "committee", "district"],
)
RESOURCE_DETAILS = services.RESOURCE_FIELDS
resource_header = header_of(Resource)


class _ResourceScope:
    def __init__(self, user, rows, *, lock):
        self.user = user
        keys = {key for _line, key, _cells in rows if key}
        resources = Resource.objects.visible_to(user).filter(resource_number__in=keys)
        resources = resources.select_related(*RESOURCE_EXPORT.related)
        if lock:
            resources = resources.select_for_update(of=("self",))
        self.resources = {resource.resource_number: resource for resource in resources}
        self.streets = {
            street.pk: street
            for street in Street.objects.visible_to(user).select_related("district")
        }
        self.streets_by_name = {}
        for street in self.streets.values():
            self.streets_by_name.setdefault(street.name, []).append(street)
        codes = {
            cells.get(str(H_COMMITTEE_CODE), "").strip().upper() for _line, _key, cells in rows
        }
        self.committees = {
            committee.code.upper(): committee
            for committee in Committee.objects.visible_to(user)
            .filter(code__in=codes - {""})
            .select_related("street__district")
        }
        self.own_street = _own_street(user, self.streets)


class ResourceImport(Importer):
    spec = RESOURCE_EXPORT
    upload_kind = "cases.resources_import"
    list_name = gettext_lazy("资源清单")
    unit = gettext_lazy("项")

    def scope(self, user, rows, *, lock):
        return _ResourceScope(user, rows, lock=lock)

    def subject(self, key, cells):
        return key or cells.get(resource_header("name"), "").strip()

    def plan_row(self, line, key, cells, scope):
        resource = None
        if key:
            resource = scope.resources.get(key)
            if resource is None:
                return None, [self.unknown_key(key)]
        reader = _Reader(cells, Resource)
        reader.read("name", imports.text, required=True, max_length=200)
        reader.read("resource_type", imports.choice, ResourceType, required=True)
        reader.read("provider", imports.text, max_length=200)
        reader.read("contact", imports.text, max_length=100)
        reader.read("offers", imports.text)
        reader.read("eligibility", imports.text, max_length=300)
        reader.read("area_level", imports.choice, AreaLevel, required=resource is None)
        reader.read("capacity", imports.integer, minimum=0, maximum=10**9 - 1)
        reader.read("valid_from", imports.date)
        reader.read("valid_to", imports.date)
        reader.read("legal_basis", imports.text, max_length=200)
        street_name = reader.cell(H_STREET).strip()
        code = reader.cell(H_COMMITTEE_CODE).strip().upper()
        reader.canonical[str(H_STREET)] = street_name
        reader.canonical[str(H_COMMITTEE_CODE)] = code
        if reader.errors:
            return None, reader.errors
        if resource is None:
            return self._creation(line, reader, scope, street_name, code)
        return self._update(line, reader, resource, scope)

    def _area(self, reader, scope, street_name, code):
        """(street, committee, errors) of a new resource's 覆盖范围 / 街镇 / 居委代码."""
        level = reader.values["area_level"]
        committee = None
        if code:
            committee = scope.committees.get(code)
            if committee is None:
                return (
                    None,
                    None,
                    [_("居委代码“%(code)s”不存在,或不在您的管理范围内。") % {"code": code}],
                )
        if level == AreaLevel.DISTRICT:
            if scope.user.role != Role.BUREAU:
                return None, None, [_("全区资源由区民政局维护。")]
            if street_name or committee:
                return None, None, [_("全区资源不填写街镇和居委。")]
            return None, None, []
        if street_name:
            found = scope.streets_by_name.get(street_name, [])
            if len(found) != 1:
                return (
                    None,
                    None,
                    [_("街镇“%(street)s”不存在,或不在您的管理范围内。") % {"street": street_name}],
                )
            street = found[0]
        elif committee is not None:
            street = scope.streets.get(committee.street_id)
        else:
            street = scope.own_street
        if street is None:
            return None, None, [_("请填写街镇。")]
        if level == AreaLevel.STREET and committee is not None:
            return None, None, [_("街镇资源不填写居委。")]
        if level == AreaLevel.COMMITTEE and committee is None:
            return None, None, [_("居委资源须填写居委代码。")]
        if committee is not None and committee.street_id != street.pk:
            return None, None, [_("居委不在该街镇内。")]
        return street, committee, []

    def _creation(self, line, reader, scope, street_name, code):
        values = reader.values
        street, committee, errors = self._area(reader, scope, street_name, code)
        if errors:
            return None, errors
        fields = {name: values[name] for name in RESOURCE_DETAILS}
        district = street.district if street else scope.user.district
        checked = Resource(
            area_level=values["area_level"],
            district=district,
            street=street,
            committee=committee,
            **fields,
        )
        errors = imports.model_errors(
            checked,
            resource_header,
            exclude=["resource_number", "district", "street", "committee"],
        )
        if errors:
            return None, errors
        canonical = dict(reader.canonical)
        canonical[str(H_STREET)] = street.name if street else ""
        canonical[str(H_COMMITTEE)] = committee.name if committee else ""
        row = PlannedRow(
            line=line,
            name=values["name"],
            street=street,
            values=_values_shown(RESOURCE_EXPORT, canonical),
            action={
                "area_level": values["area_level"],
                "street": street,
                "committee": committee,
                "fields": fields,
            },
        )
        return row, []

    def _update(self, line, reader, resource, scope):
        canonical = dict(reader.canonical)
        # The area is there for reference: a street left empty is no change.
        if not canonical[str(H_STREET)]:
            canonical.pop(str(H_STREET))
        if not canonical[resource_header("area_level")]:
            canonical.pop(resource_header("area_level"))
        changes = row_changes(resource, canonical, RESOURCE_EXPORT)
        changes.pop(str(H_COMMITTEE), None)  # for reading only
        if not changes:
            return None, []
        errors = []
        area = {resource_header("area_level"), str(H_STREET), str(H_COMMITTEE_CODE)}
        if area & set(changes):
            errors.append(_("资源的覆盖范围、街镇和居委不能通过导入修改。"))
        if resource.area_level == AreaLevel.DISTRICT and scope.user.role != Role.BUREAU:
            errors.append(_("全区资源由区民政局维护,不能通过导入修改。"))
        fields = {
            name: reader.values[name]
            for name in RESOURCE_DETAILS
            if resource_header(name) in changes
        }
        errors += imports.model_errors(
            imports.changed_copy(resource, fields),
            resource_header,
            exclude=["resource_number", "district", "street", "committee"],
        )
        if errors:
            return None, errors
        row = PlannedRow(
            line=line,
            key=resource.resource_number,
            name=resource.name,
            obj=resource,
            street=resource.street,
            changes=changes,
            action={"fields": fields},
        )
        return row, []

    def apply_row(self, actor, row):
        if row.is_creation:
            action = row.action
            return services.create_resource(
                actor=actor,
                area_level=action["area_level"],
                street=action["street"],
                committee=action["committee"],
                **action["fields"],
            )
        return services.update_resource(actor=actor, resource=row.obj, **row.action["fields"])

    def notes(self, user):
        return [
            _("第一个工作表的第一行是表头,请勿修改;从第二行起每项资源一行。"),
            _("资源编号:新增资源留空,由系统生成;修改已有资源时请保留导出文件中的编号。"),
            _("资源类型:%s") % "、".join(map(str, ResourceType.labels)),
            _("覆盖范围:%s;全区资源由区民政局维护。") % "、".join(map(str, AreaLevel.labels)),
            _(
                "街镇:资源所属街镇的名称(街镇管理员可留空,即本街镇);居委资源填写居委代码(见下表),居委名称供阅读。"
            ),
            _("覆盖范围、街镇、居委在资源建立后不能通过导入修改。"),
            _("政策类资源必须填写政策依据(文件号)。日期写成 2024-03-01;可服务容量留空表示不限。"),
        ]

    def tables(self, user):
        committees = (
            Committee.objects.visible_to(user)
            .select_related("street")
            .order_by("street__code", "code")
        )
        return [
            (
                [_("居委代码"), _("居委"), _("街镇")],
                [(c.code, c.name, c.street.name) for c in committees],
            )
        ]


# Checklist 4: services --------------------------------------------------------------------


def service_station_code(record):
    return station_code(record.station)


SERVICE_EXPORT = ExportSpec(
    model=ServiceRecord,
    name=gettext_lazy("社区救助顾问服务清单"),
    key=Column(ServiceRecord._meta.get_field("record_number").verbose_name, "record_number"),
    columns=[
        *field_columns(ServiceRecord, "date"),
        Column(H_STATION_CODE, service_station_code),
        Column(H_STATION, "station.name"),
        Column(H_STREET, "station.street.name"),
        Column(H_ADVISOR_NUMBER, "advisor.advisor_number"),
        Column(H_SERVICE_ADVISOR, "advisor.name"),
        Column(H_FILE_NUMBER, "recipient.file_number"),
        Column(H_SERVICE_PERSON, "recipient.name"),
        *field_columns(ServiceRecord, "head_count", "item", "task", "content", "outcome"),
        Column(H_NEED_NUMBER, "need.need_number"),
        Column(H_RESOURCE_NUMBER, "resource.resource_number"),
        *field_columns(ServiceRecord, "step"),
    ],
    related=[
        "station__district",
        "station__street",
        "station__committee",
        "advisor",
        "recipient",
        "need",
        "resource",
    ],
)
service_header = header_of(ServiceRecord)
# The columns of a service that are for reading only.
SERVICE_READING = (H_STATION, H_STREET, H_SERVICE_ADVISOR, H_SERVICE_PERSON)


class _ServiceScope:
    def __init__(self, user, rows, *, lock):
        def column(header):
            return {cells.get(str(header), "").strip().upper() for _line, _key, cells in rows} - {
                ""
            }

        keys = {key for _line, key, _cells in rows if key}
        records = (
            ServiceRecord.objects.visible_to(user)
            .filter(record_number__in=keys)
            .select_related(*SERVICE_EXPORT.related)
        )
        if lock:
            records = records.select_for_update(of=("self",))
        self.records = {record.record_number: record for record in records}
        self.stations = {}
        for station in Station.objects.visible_to(user).select_related(
            "district", "street", "committee"
        ):
            self.stations.setdefault(station_code(station).upper(), []).append(station)
        self.advisors = {
            advisor.advisor_number: advisor
            for advisor in Advisor.objects.visible_to(user)
            .filter(advisor_number__in=column(H_ADVISOR_NUMBER))
            .prefetch_related(
                Prefetch(
                    "station_links", queryset=AdvisorStation.objects.only("advisor", "station")
                )
            )
        }
        self.recipients = {
            recipient.file_number: recipient
            for recipient in Recipient.objects.visible_to(user).filter(
                file_number__in=column(H_FILE_NUMBER)
            )
        }
        self.needs = {
            need.need_number: need
            for need in Need.objects.visible_to(user).filter(need_number__in=column(H_NEED_NUMBER))
        }
        self.resources = {
            resource.resource_number: resource
            for resource in Resource.objects.visible_to(user).filter(
                resource_number__in=column(H_RESOURCE_NUMBER)
            )
        }


def _unknown(column, value):
    return _("%(column)s“%(value)s”不存在,或不在您的管理范围内。") % {
        "column": column,
        "value": value,
    }


class ServiceImport(Importer):
    spec = SERVICE_EXPORT
    upload_kind = "cases.services_import"
    list_name = gettext_lazy("服务清单")
    unit = gettext_lazy("条")

    def scope(self, user, rows, *, lock):
        return _ServiceScope(user, rows, lock=lock)

    def subject(self, key, cells):
        return key or cells.get(str(H_FILE_NUMBER), "").strip()

    def plan_row(self, line, key, cells, scope):
        record = None
        if key:
            record = scope.records.get(key)
            if record is None:
                return None, [self.unknown_key(key)]
        reader = _Reader(cells, ServiceRecord)
        reader.read("date", imports.date, required=True)
        reader.read("head_count", imports.integer, minimum=1, maximum=100000)
        reader.read("item", imports.choice, ServiceItem, required=True)
        reader.read("task", imports.choice, ServiceTask, required=True)
        reader.read("content", imports.text, required=True)
        reader.read("outcome", imports.text, max_length=500)
        reader.read("step", self._step)
        found = {}
        for header, table in (
            (H_STATION_CODE, scope.stations),
            (H_ADVISOR_NUMBER, scope.advisors),
            (H_FILE_NUMBER, scope.recipients),
            (H_NEED_NUMBER, scope.needs),
            (H_RESOURCE_NUMBER, scope.resources),
        ):
            value = reader.cell(header).strip().upper()
            reader.canonical[str(header)] = value
            found[header] = None
            if not value:
                continue
            match = table.get(value)
            if isinstance(match, list):
                match = match[0] if len(match) == 1 else None
            if match is None:
                reader.errors.append(_unknown(header, value))
            found[header] = match
        if reader.errors:
            return None, reader.errors
        if record is not None:
            changes = row_changes(record, reader.canonical, SERVICE_EXPORT)
            if not changes:
                return None, []
            return None, [
                _("已登记的服务记录不能通过导入修改(%(columns)s);新的服务请另起一行,服务编号留空。")
                % {"columns": "、".join(changes)}
            ]
        return self._creation(line, reader, found)

    @staticmethod
    def _step(value, header):
        step, label = imports.choice(value, header, ServiceStep)
        if step == "":
            return ServiceStep.DISCOVER, str(ServiceStep.DISCOVER.label)
        return int(step), label

    def _creation(self, line, reader, found):
        values = reader.values
        station = found[H_STATION_CODE]
        advisor = found[H_ADVISOR_NUMBER]
        recipient = found[H_FILE_NUMBER]
        need, resource = found[H_NEED_NUMBER], found[H_RESOURCE_NUMBER]
        errors = []
        if station is None:
            errors.append(_("请填写站点代码。"))
        if advisor is None:
            errors.append(_("请填写顾问编号。"))
        if errors:
            return None, errors
        if not advisor.is_active_on(values["date"]):
            errors.append(
                _("%(name)s 在 %(date)s 不是在岗顾问。")
                % {"name": advisor.name, "date": values["date"].isoformat()}
            )
        if not any(link.station_id == station.pk for link in advisor.station_links.all()):
            errors.append(_("%(name)s 不在该站点服务。") % {"name": advisor.name})
        if (
            resource is not None
            and station.street_id
            and not services.in_street_list(resource, station.street)
        ):
            errors.append(_("该资源不在本街镇的资源清单中。"))
        fields = {name: values[name] for name in ("head_count", "outcome", "step")}
        checked = ServiceRecord(
            date=values["date"],
            advisor=advisor,
            station=station,
            recipient=recipient,
            item=values["item"],
            task=values["task"],
            content=values["content"],
            need=need,
            resource=resource,
            **fields,
        )
        errors += imports.model_errors(
            checked,
            service_header,
            exclude=[
                "record_number",
                "advisor",
                "station",
                "recipient",
                "need",
                "resource",
                "recorded_by",
            ],
        )
        if errors:
            return None, errors
        canonical = reader.canonical
        canonical[str(H_STATION)] = station.name
        canonical[str(H_SERVICE_ADVISOR)] = advisor.name
        canonical[str(H_SERVICE_PERSON)] = recipient.name if recipient else ""
        canonical[str(H_STREET)] = station.street.name if station.street_id else ""
        row = PlannedRow(
            line=line,
            name=recipient.name if recipient else _("集体活动"),
            street=station.street,
            values=_values_shown(SERVICE_EXPORT, canonical),
            action={
                "date": values["date"],
                "advisor": advisor,
                "station": station,
                "recipient": recipient,
                "item": values["item"],
                "task": values["task"],
                "content": values["content"],
                "need": need,
                "resource": resource,
                **fields,
            },
        )
        return row, []

    def apply_row(self, actor, row):
        return services.record_service(actor=actor, **row.action)

    def notes(self, user):
        return [
            _("第一个工作表的第一行是表头,请勿修改;从第二行起每条服务一行。"),
            _("服务编号:新增服务留空,由系统生成;已登记的服务记录不能通过导入修改。"),
            _(
                "站点代码见下表;顾问编号为服务顾问的编号;服务站点、街镇、服务顾问和服务对象的姓名供阅读,导入时不读取。"
            ),
            _("个人服务填写服务对象的档案号,不填参加人数;集体活动不填档案号,填写参加人数。"),
            _("服务事项:%s") % "、".join(map(str, ServiceItem.labels)),
            _(
                "服务任务:街镇服务站为政策解答、申请受理、资源链接;居委服务点为上门走访、需求排摸、政策引导、代办申请、资源链接、日常联系。"
            ),
            _("服务流程环节:%s(留空即为发现)") % "、".join(map(str, ServiceStep.labels)),
            _("相关需求、相关资源分别填写需求编号、资源编号(可留空)。日期写成 2024-03-01。"),
        ]

    def tables(self, user):
        stations = (
            Station.objects.visible_to(user)
            .exclude(street__isnull=True)
            .select_related("district", "street", "committee")
            .order_by("street__code", "kind", "committee__code", "pk")
        )
        return [
            (
                [_("站点代码"), _("标准名称"), _("街镇")],
                [(station_code(s), s.name, s.street.name) for s in stations],
            )
        ]


NEEDS = NeedImport()
RESOURCES = ResourceImport()
SERVICES = ServiceImport()

# The lists with an export and an import, by their `cases.choices.Checklist` value.
IMPORTERS = {"needs": NEEDS, "resources": RESOURCES, "services": SERVICES}


def template_workbook(importer, user):
    tables = importer.tables(user) if hasattr(importer, "tables") else ()
    return imports.template_workbook(importer, importer.notes(user), tables)
