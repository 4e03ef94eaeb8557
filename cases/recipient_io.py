"""The register of people in hardship (困难人员) out to Excel and back in.

The same pattern as the checklists (`cases.checklist_io`): an `ExportSpec` served through the
project's one export path, and an `Importer` of `changning_aid.imports` that reads the same
file back (or the empty template filled in by hand), previews it with row-numbered Chinese
errors and writes it all or nothing through `cases.services`.

How the columns are treated:

- 档案号 is the key: empty for a new person (the number is generated), else the person's.
- 身份证号 and 联系电话 are masked by the export. A masked value equal to the mask of the
  stored one is no change; a new person needs the full, valid number (GB 11643); a full
  number different from the stored one changes it, with the duplicate check. A number
  already on the register (or earlier in the file) is refused; the message names the
  existing 档案号 only when that person is in the user's scope.
- 居委代码 places the person (and so the street): a street manager's own street only,
  bureau staff any street of their district.
- 救助类别 and 重点人群: names joined by 、 from the vocabularies the user sees.
- 责任顾问编号: an advisor of the person's street, on duty today.
- 现有救助对象期间: `2025-01-01~2025-06-30；2026-03-01~` (empty: none); a changed cell replaces
  the periods (`services.replace_periods`: no overlap, not for people who left).
- 状态 / 退出日期 / 退出原因: 在册 → 已退出 with a date and a reason (`services.exit_register`);
  coming back onto the register is done on the person's page, not by an import.

A file may hold a whole district's register (`RecipientImport.max_rows`): the new people are
registered at once by `register_many` (the rules of `services.register_recipient`, checked in
Python, written with `bulk_create`, every row with its audit event), the changes row by row
through the services.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advisors.choices import Gender
from advisors.models import Advisor
from cases import services
from cases.choices import HardshipLevel, RecipientStatus
from cases.models import (
    AdvisorCharge,
    AssistanceCategory,
    CurrentPeriod,
    KeyGroup,
    Recipient,
    RecipientCategory,
    RecipientKeyGroup,
    next_file_number,
)
from changning_aid import imports
from changning_aid.exports import (
    Column,
    ExportSpec,
    field_columns,
    prefetched,
    row_changes,
    text_of,
)
from changning_aid.imports import CellError, Importer, PlannedRow
from changning_aid.sensitive.fields import hash_id_number
from changning_aid.sensitive.idnumbers import id_number_problem, normalize_id_number
from changning_aid.sensitive.masking import ID_NUMBER, PHONE, mask
from changning_aid.writes import require_role
from stations.models import Committee
from visits import summaries

H_FILE_NUMBER = gettext_lazy("档案号")
H_ID_NUMBER = gettext_lazy("身份证号")
H_PHONE = gettext_lazy("联系电话")
H_COMMITTEE_CODE = gettext_lazy("居委代码")
H_CATEGORIES = gettext_lazy("救助类别")
H_KEY_GROUPS = gettext_lazy("重点人群")
H_ADVISOR_NUMBER = gettext_lazy("责任顾问编号")
H_PERIODS = gettext_lazy("现有救助对象期间")

PERIOD_JOINER = "；"
PERIOD_SEPARATORS = re.compile(r"[；;\n]+")
PERIOD_DASH = re.compile(r"\s*[~～]\s*")
# What `NewRecipient.fields` may hold (committee, name and gender have their own attributes).
FIELDS = frozenset(services.RECIPIENT_FIELDS) - {"committee", "name", "gender"}
# What `register_many` checks for all the people at once rather than in `full_clean`.
UNCHECKED_ONE_BY_ONE = [
    "file_number",
    "id_number",
    "id_number_hash",
    "street",
    "committee",
    "advisor",
]
# New people are written this many rows to a statement.
BULK_BATCH = 1000
# The sequence at the end of a 档案号 (`cases.models.next_file_number`).
FILE_SEQUENCE_DIGITS = 6
# The details `services.update_recipient` changes, read from their own columns.
DETAILS = ("name", "gender", "address", "household_size", "hardship_level")


def _header(name):
    return text_of(Recipient._meta.get_field(name).verbose_name)


def _today():
    return timezone.localdate()


def period_text(starts_on, ends_on):
    return f"{starts_on.isoformat()}~{ends_on.isoformat() if ends_on else ''}"


def stored_periods(recipient):
    """The person's periods in order (those the export's prefetch loaded, when it did)."""
    periods = prefetched(recipient, "exported_periods", "periods")
    return sorted(periods, key=lambda period: period.starts_on)


def periods_text(recipient):
    return PERIOD_JOINER.join(
        period_text(p.starts_on, p.ends_on) for p in stored_periods(recipient)
    )


def category_names(recipient):
    categories = prefetched(recipient, "exported_categories", "categories")
    return imports.joined(category.name for category in categories)


def key_group_names(recipient):
    groups = prefetched(recipient, "exported_key_groups", "key_groups")
    return imports.joined(group.name for group in groups)


RECIPIENT_EXPORT = ExportSpec(
    model=Recipient,
    name=gettext_lazy("困难人员名单"),
    key=Column(H_FILE_NUMBER, "file_number"),
    columns=[
        *field_columns(Recipient, "name", "gender", "id_number", "phone", "address"),
        Column(H_COMMITTEE_CODE, "committee.code"),
        *field_columns(Recipient, "household_size"),
        Column(H_CATEGORIES, category_names),
        Column(H_KEY_GROUPS, key_group_names),
        *field_columns(Recipient, "hardship_level"),
        Column(H_ADVISOR_NUMBER, "advisor.advisor_number"),
        Column(H_PERIODS, periods_text),
        *field_columns(Recipient, "status", "exited_on", "exit_reason"),
    ],
    related=["committee", "advisor"],
    prefetch=[
        Prefetch("categories", to_attr="exported_categories"),
        Prefetch("key_groups", to_attr="exported_key_groups"),
        Prefetch(
            "periods",
            queryset=CurrentPeriod.objects.order_by("starts_on", "pk"),
            to_attr="exported_periods",
        ),
    ],
)


def parse_periods(value, header):
    """[(starts_on, ends_on)] in order from `2025-01-01~2025-06-30；2026-03-01~`, and the
    text the export writes for them; a CellError when a period cannot be read or two overlap."""
    periods = []
    for part in PERIOD_SEPARATORS.split(value.strip()):
        part = part.strip()
        if not part:
            continue
        pieces = PERIOD_DASH.split(part)
        starts_on = imports.parse_date(pieces[0]) if pieces[0] else None
        ends_on = None
        if len(pieces) == 2 and pieces[1]:
            ends_on = imports.parse_date(pieces[1])
            if ends_on is None:
                starts_on = None
        if len(pieces) != 2 or starts_on is None:
            raise CellError(
                _(
                    "%(column)s“%(value)s”无法识别,请写成 2025-01-01~2025-06-30,"
                    "至今的期间写成 2026-03-01~,多个期间用“；”分隔。"
                )
                % {"column": header, "value": part}
            )
        if ends_on is not None and ends_on < starts_on:
            raise CellError(
                _("%(column)s“%(value)s”的结束日期早于开始日期。")
                % {"column": header, "value": part}
            )
        periods.append((starts_on, ends_on))
    periods.sort(key=lambda period: period[0])
    for before, after in zip(periods, periods[1:], strict=False):
        if before[1] is None or before[1] >= after[0]:
            raise CellError(
                _("%(column)s中的 %(first)s 与 %(second)s 重叠,一个人同一天只能有一个期间。")
                % {
                    "column": header,
                    "first": period_text(*before),
                    "second": period_text(*after),
                }
            )
    return periods, PERIOD_JOINER.join(period_text(*period) for period in periods)


class _Scope:
    """What the rows are looked up in, in a fixed number of queries."""

    def __init__(self, user, rows, *, lock):
        def column(header):
            header = text_of(header)
            return {cells.get(header, "").strip().upper() for _line, _key, cells in rows} - {""}

        self.user = user
        keys = {key for _line, key, _cells in rows if key}
        recipients = (
            Recipient.objects.visible_to(user)
            .filter(file_number__in=keys)
            .select_related("street", *RECIPIENT_EXPORT.related)
            .prefetch_related(*RECIPIENT_EXPORT.prefetch)
        )
        if lock:
            recipients = recipients.select_for_update(of=("self",))
        self.recipients = {recipient.file_number: recipient for recipient in recipients}
        self.committees = {
            committee.code.upper(): committee
            for committee in Committee.objects.visible_to(user)
            .filter(code__in=column(H_COMMITTEE_CODE))
            .select_related("street")
        }
        self.advisors = {
            advisor.advisor_number: advisor
            for advisor in Advisor.objects.visible_to(user).filter(
                advisor_number__in=column(H_ADVISOR_NUMBER)
            )
        }
        self.categories = self._vocabulary(AssistanceCategory, user)
        self.key_groups = self._vocabulary(KeyGroup, user)
        # The full numbers of the file, looked up on the whole register (one person, one
        # record), and which of the records found the user may see.
        # `hashes`: {valid number: its lookup hash}, the numbers checked once here.
        self.hashes = {}
        for number in column(H_ID_NUMBER):
            number = normalize_id_number(number)
            if number and id_number_problem(number) is None:
                self.hashes[number] = hash_id_number(number)
        self.holders = {
            holder.id_number_hash: holder
            for part in services.in_parts(self.hashes.values())
            for holder in Recipient.objects.filter(id_number_hash__in=part).only(
                "pk", "file_number", "name", "id_number_hash"
            )
        }
        self.visible_holders = set()
        for part in services.in_parts([holder.pk for holder in self.holders.values()]):
            self.visible_holders.update(
                Recipient.objects.visible_to(user).filter(pk__in=part).values_list("pk", flat=True)
            )
        self.today = _today()
        self.shown_headers = RECIPIENT_EXPORT.headers[1:]
        # Full numbers met so far in the file: {number: line}.
        self.numbers_seen = {}

    @staticmethod
    def _vocabulary(model, user):
        found = {}
        for item in model.objects.visible_to(user).order_by("order", "pk"):
            found.setdefault(item.name, item)
        return found


# Registering many people at once --------------------------------------------------------------


@dataclass
class NewRecipient:
    """One person for `register_many`: what `services.register_recipient` takes (`fields`
    among `services.RECIPIENT_FIELDS`: phone, address, household size, hardship level,
    advisor), and the current-recipient periods [(starts_on, ends_on or None)]."""

    committee: Committee
    name: str
    gender: str
    id_number: str
    fields: dict = field(default_factory=dict)
    categories: list = field(default_factory=list)
    key_groups: list = field(default_factory=list)
    periods: list = field(default_factory=list)


@transaction.atomic
def register_many(*, actor, people, on=None):
    """Put `people` (`NewRecipient`) on the register at once: all or nothing.

    The rules are those of `services.register_recipient` for each person and of
    `services.replace_periods` for their periods: the actor's role, committees the actor
    sees (an advisor: of the stations they serve), valid ID numbers on nobody's record yet
    nor twice among `people` (`DuplicateRecipient`), categories and key groups in use that
    the actor sees, an active advisor of the person's street, a valid record, periods in
    order without overlap (keepers only); the 档案号 of each street follow on from the last
    one given (`next_file_number`). Checked in Python, written with `bulk_create` in a
    fixed number of queries per street and per `BULK_BATCH` people; then every new person
    must be in the actor's scope. On PostgreSQL the audit triggers record every row
    written, as for one person; each advisor's charge opens on `on` (today) as
    `charges.record_charges` opens it for a new person; the month summaries of the visit
    rule (`visits.summaries`) are refreshed for all of them at once. Returns the new
    `Recipient`s.
    """
    people = list(people)
    if not people:
        return []
    on = on or timezone.localdate()
    require_role(actor, services.WORKERS, _("您的账号不能登记困难人员。"))
    if any(person.periods for person in people):
        require_role(actor, services.KEEPERS, _("只有街镇管理员或区民政局可以变更现有救助对象。"))
    for person in people:
        unknown = sorted(set(person.fields) - FIELDS)
        if unknown:
            raise TypeError(f"register_many() got unexpected fields {', '.join(unknown)}")
    committees = _visible_committees(actor, {person.committee.pk for person in people})
    numbers = {}
    for person in people:
        number = services._clean_id_number(person.id_number)
        if number in numbers:
            raise services.DuplicateRecipient(
                _("身份证号 %(number)s 出现了两次,一人只能有一份档案。")
                % {"number": mask(ID_NUMBER, number)},
                None,
            )
        numbers[number] = person
    _refuse_registered(actor, list(numbers))
    categories = _allowed(AssistanceCategory, actor)
    key_groups = _allowed(KeyGroup, actor)
    recipients, links, periods = [], [], []
    for number, person in numbers.items():
        committee = committees[person.committee.pk]
        refused = [item for item in person.categories if item.pk not in categories]
        refused += [item for item in person.key_groups if item.pk not in key_groups]
        if refused:
            raise ValidationError(_("不可选用的项目:%s。") % "、".join(map(str, refused)))
        services._check_advisor(person.fields.get("advisor"), committee.street, on)
        recipient = Recipient(
            committee=committee,
            street=committee.street,
            name=(person.name or "").strip(),
            gender=person.gender,
            id_number=number,
            **person.fields,
        )
        recipient.refresh_derived()
        # Foreign keys: the committees just loaded and the advisors checked above; the ID
        # number: checked above and against the register at once (the field's own check
        # asks the database for each); nothing here queries the database.
        _full_clean(recipient, person, exclude=UNCHECKED_ONE_BY_ONE)
        recipients.append(recipient)
        for starts_on, ends_on in services._check_periods(person.periods):
            period = CurrentPeriod(recipient=recipient, starts_on=starts_on, ends_on=ends_on)
            _full_clean(period, person, exclude=["recipient"])
            periods.append(period)
    _number_files(recipients)
    Recipient.objects.bulk_create(recipients, batch_size=BULK_BATCH)
    for recipient, person in zip(recipients, numbers.values(), strict=True):
        if recipient.advisor_id:
            links.append(
                AdvisorCharge(recipient=recipient, advisor_id=recipient.advisor_id, starts_on=on)
            )
        links += [RecipientCategory(recipient=recipient, category=c) for c in person.categories]
        links += [RecipientKeyGroup(recipient=recipient, key_group=g) for g in person.key_groups]
    for model in (AdvisorCharge, RecipientCategory, RecipientKeyGroup):
        model.objects.bulk_create(
            [link for link in links if type(link) is model], batch_size=BULK_BATCH
        )
    CurrentPeriod.objects.bulk_create(periods, batch_size=BULK_BATCH)
    ids = [recipient.pk for recipient in recipients]
    # `bulk_create` sends no signals: the month summaries (C9) of the new people, at once.
    summaries.refresh_people(ids, new=True)
    visible = sum(
        Recipient.objects.visible_to(actor).filter(pk__in=part).count()
        for part in services.in_parts(ids)
    )
    if visible != len(ids):
        raise PermissionDenied(_("保存的数据超出了您的管理范围,已撤销。"))
    return recipients


def _visible_committees(actor, committee_ids):
    """{id: Committee} of `committee_ids`, all of which the actor must see (else 404); an
    advisor only those of the stations they serve, as `register_recipient` checks."""
    from stations.choices import StationKind
    from stations.models import Station

    committees = {
        committee.pk: committee
        for part in services.in_parts(committee_ids)
        for committee in Committee.objects.visible_to(actor)
        .filter(pk__in=part)
        .select_related("street")
    }
    if len(committees) != len(committee_ids):
        raise Http404
    if actor.is_advisor:
        served = Station.objects.filter(advisor_users=actor)
        points = set(served.filter(kind=StationKind.COMMITTEE).values_list("committee", flat=True))
        streets = set(served.filter(kind=StationKind.STREET).values_list("street", flat=True))
        if any(c.pk not in points and c.street_id not in streets for c in committees.values()):
            raise Http404
    return committees


def _refuse_registered(actor, numbers):
    """`DuplicateRecipient` for the first of `numbers` already on the register."""
    digests = {hash_id_number(number): number for number in numbers}
    for part in services.in_parts(digests):
        taken = (
            Recipient.objects.filter(id_number_hash__in=part)
            .order_by()
            .values_list("id_number_hash", flat=True)
            .first()
        )
        if taken is not None:
            services._refuse_duplicate(actor, digests[taken])


def _allowed(model, actor):
    """The ids of the vocabulary entries in use that the actor may choose."""
    return set(model.objects.visible_to(actor).in_use().values_list("pk", flat=True))


def _full_clean(obj, person, *, exclude):
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ValidationError(
            _("%(name)s:%(reason)s") % {"name": person.name, "reason": " ".join(error.messages)}
        ) from error


def _number_files(recipients):
    """Give each new person the next 档案号 of their street (`next_file_number`, one query
    per street, then counting on)."""
    following = {}
    for recipient in recipients:
        street = recipient.street
        if street.pk not in following:
            first = next_file_number(street)
            following[street.pk] = (
                first[:-FILE_SEQUENCE_DIGITS],
                int(first[-FILE_SEQUENCE_DIGITS:]),
            )
        prefix, sequence = following[street.pk]
        recipient.file_number = f"{prefix}{sequence:0{FILE_SEQUENCE_DIGITS}d}"
        following[street.pk] = (prefix, sequence + 1)


class RecipientImport(Importer):
    spec = RECIPIENT_EXPORT
    upload_kind = "cases.recipients_import"
    list_name = gettext_lazy("困难人员名单")
    unit = gettext_lazy("人")
    # A district's whole register comes back at once; new people are written in bulk.
    max_rows = 50_000

    def scope(self, user, rows, *, lock):
        return _Scope(user, rows, lock=lock)

    def subject(self, key, cells):
        return key or cells.get(_header("name"), "").strip()

    # Reading a row ----------------------------------------------------------------------

    def plan_row(self, line, key, cells, scope):
        recipient = None
        if key:
            recipient = scope.recipients.get(key)
            if recipient is None:
                return None, [self.unknown_key(key)]
        existing = recipient is not None
        reader = _Reader(cells)
        reader.read("name", imports.text, required=True, max_length=50)
        reader.read("gender", imports.choice, Gender, required=True)
        reader.read("address", imports.text, max_length=200)
        reader.read("household_size", imports.integer, required=existing, minimum=1, maximum=30)
        if not existing and not reader.cell(_header("household_size")).strip():
            reader.values["household_size"] = 1
            reader.canonical[_header("household_size")] = "1"
        reader.read("hardship_level", imports.choice, HardshipLevel, required=existing)
        if reader.values["hardship_level"] == "":
            reader.values["hardship_level"] = HardshipLevel.MEDIUM
            reader.canonical[_header("hardship_level")] = text_of(HardshipLevel.MEDIUM.label)
        reader.read("status", imports.choice, RecipientStatus, required=existing)
        if reader.values["status"] == "":
            reader.values["status"] = RecipientStatus.REGISTERED
            reader.canonical[_header("status")] = text_of(RecipientStatus.REGISTERED.label)
        reader.read("exited_on", imports.date)
        reader.read("exit_reason", imports.text, max_length=200)
        reader.read("periods", parse_periods, header=H_PERIODS)
        for header in (H_ID_NUMBER, H_PHONE):
            reader.canonical[text_of(header)] = reader.cell(header).strip()
        committee = self._committee(reader, scope)
        reader.values["categories"] = self._names(reader, scope.categories, H_CATEGORIES)
        reader.values["key_groups"] = self._names(reader, scope.key_groups, H_KEY_GROUPS)
        advisor = self._advisor(reader, scope)
        if reader.errors:
            return None, reader.errors
        if recipient is None:
            return self._creation(line, reader, scope, committee, advisor)
        return self._update(line, reader, scope, recipient, committee, advisor)

    def _committee(self, reader, scope):
        code = reader.cell(H_COMMITTEE_CODE).strip().upper()
        reader.canonical[text_of(H_COMMITTEE_CODE)] = code
        if not code:
            return None
        committee = scope.committees.get(code)
        if committee is None:
            reader.errors.append(
                _("居委代码“%(code)s”不存在,或不在您的管理范围内。") % {"code": code}
            )
        return committee

    def _names(self, reader, vocabulary, header):
        names = imports.items(reader.cell(header))
        unknown = [name for name in names if name not in vocabulary]
        if unknown:
            reader.errors.append(
                _("%(column)s中的“%(names)s”不是可选的项目,可填:%(choices)s。")
                % {
                    "column": header,
                    "names": "、".join(unknown),
                    "choices": "、".join(
                        name for name, item in vocabulary.items() if item.is_active
                    ),
                }
            )
            return []
        found = sorted((vocabulary[name] for name in names), key=lambda item: (item.order, item.pk))
        reader.canonical[text_of(header)] = imports.joined(item.name for item in found)
        return found

    def _advisor(self, reader, scope):
        number = reader.cell(H_ADVISOR_NUMBER).strip().upper()
        reader.canonical[text_of(H_ADVISOR_NUMBER)] = number
        if not number:
            return None
        advisor = scope.advisors.get(number)
        if advisor is None:
            reader.errors.append(
                _("责任顾问编号“%(number)s”不存在,或不在您的管理范围内。") % {"number": number}
            )
        return advisor

    # Checks -----------------------------------------------------------------------------

    def _id_number(self, line, text, scope, *, own=None):
        """(number, errors) of a full ID number typed in a row."""
        number = normalize_id_number(text)
        if not number:
            return "", [_("请填写身份证号。")]
        digest = scope.hashes.get(number)
        if digest is None:
            problem = id_number_problem(number)
            if problem:
                return "", [problem]
            digest = hash_id_number(number)
        earlier = scope.numbers_seen.get(number)
        if earlier is not None:
            return "", [
                _("身份证号与文件第 %(line)s 行相同,一人只能有一份档案。") % {"line": earlier}
            ]
        scope.numbers_seen[number] = line
        holder = scope.holders.get(digest)
        if holder is not None and (own is None or holder.pk != own.pk):
            if holder.pk in scope.visible_holders:
                return "", [
                    _("该身份证号已经建档:%(name)s(档案号 %(number)s),请修改已有档案。")
                    % {"name": holder.name, "number": holder.file_number}
                ]
            return "", [_("该身份证号已在其他街镇建档,一人只能有一份档案,请联系区民政局核实。")]
        return number, []

    @staticmethod
    def _advisor_errors(advisor, street, today):
        if advisor is None or street is None:
            return []
        if advisor.street_id != street.pk:
            return [_("责任顾问必须是本街镇的顾问。")]
        if not advisor.is_active_on(today):
            return [_("%(name)s 不是在岗顾问,不能负责。") % {"name": advisor.name}]
        return []

    @staticmethod
    def _in_use_errors(items, header):
        retired = [item.name for item in items if not item.is_active]
        if retired:
            return [
                _("%(column)s中的“%(names)s”已停用,不可选用。")
                % {"column": header, "names": "、".join(retired)}
            ]
        return []

    @staticmethod
    def _exit_errors(values, periods):
        exited_on = values["exited_on"]
        if exited_on and any(starts_on > exited_on for starts_on, _end in periods):
            return [_("退出日期早于一个现有救助对象期间的开始,请先调整期间。")]
        return []

    @staticmethod
    def _model_errors(obj):
        # The ID number is checked by `_id_number` (valid, once in the file, not on the
        # register, against the numbers loaded at once): the field's own check would ask
        # the database once per row.
        return imports.model_errors(
            obj,
            _header,
            exclude=[
                "file_number",
                "id_number",
                "id_number_hash",
                "street",
                "committee",
                "advisor",
            ],
        )

    @staticmethod
    def _shown(canonical, scope):
        """The creation's filled columns for the preview, the sensitive ones masked."""
        shown = []
        id_number, phone = text_of(H_ID_NUMBER), text_of(H_PHONE)
        for header in scope.shown_headers:
            value = canonical.get(header, "")
            if not value:
                continue
            if header == id_number:
                value = mask(ID_NUMBER, value)
            elif header == phone:
                value = mask(PHONE, value)
            shown.append((header, value))
        return shown

    # Plans ------------------------------------------------------------------------------

    def _creation(self, line, reader, scope, committee, advisor):
        values, canonical = reader.values, reader.canonical
        errors = []
        if committee is None:
            errors.append(_("请填写居委代码。"))
        if values["status"] != RecipientStatus.REGISTERED:
            errors.append(_("新登记的人员状态须为在册;退出请在登记后办理。"))
        number, number_errors = self._id_number(line, canonical[text_of(H_ID_NUMBER)], scope)
        errors += number_errors
        errors += self._in_use_errors(values["categories"], H_CATEGORIES)
        errors += self._in_use_errors(values["key_groups"], H_KEY_GROUPS)
        if errors:
            return None, errors
        errors += self._advisor_errors(advisor, committee.street, scope.today)
        phone = canonical[text_of(H_PHONE)]
        if "*" in phone:
            errors.append(_("新登记的人员请填写完整的联系电话,不能填写遮盖后的号码。"))
        checked = Recipient(
            committee=committee,
            street=committee.street,
            advisor=advisor,
            id_number=number,
            phone=phone,
            status=values["status"],
            exited_on=values["exited_on"],
            exit_reason=values["exit_reason"],
            **{name: values[name] for name in DETAILS},
        )
        checked.refresh_derived()
        errors += self._model_errors(checked)
        if errors:
            return None, errors
        row = PlannedRow(
            line=line,
            name=values["name"],
            street=committee.street,
            values=self._shown(canonical, scope),
            action={
                "committee": committee,
                "id_number": number,
                "fields": {
                    **{name: values[name] for name in DETAILS},
                    "phone": phone,
                    "advisor": advisor,
                },
                "categories": values["categories"],
                "key_groups": values["key_groups"],
                "periods": values["periods"],
            },
        )
        return row, []

    def _update(self, line, reader, scope, recipient, committee, advisor):
        values, canonical = reader.values, reader.canonical
        changes = row_changes(recipient, canonical, RECIPIENT_EXPORT)
        if not changes:
            return None, []
        if recipient.is_anonymised:
            return None, [_("该档案已匿名化,不能修改。")]
        errors = []
        fields = {name: values[name] for name in DETAILS if _header(name) in changes}
        checked = {**fields}
        id_number = None
        if text_of(H_ID_NUMBER) in changes:
            id_number, number_errors = self._id_number(
                line, canonical[text_of(H_ID_NUMBER)], scope, own=recipient
            )
            errors += number_errors
            checked["id_number"] = id_number
            # Shown masked in the preview, like everywhere else.
            stored, _incoming = changes[text_of(H_ID_NUMBER)]
            changes[text_of(H_ID_NUMBER)] = (stored, mask(ID_NUMBER, id_number or _incoming))
        if text_of(H_PHONE) in changes:
            phone = canonical[text_of(H_PHONE)]
            if "*" in phone:
                errors.append(_("联系电话请填写完整的号码,或保留导出文件中遮盖后的号码。"))
            fields["phone"] = checked["phone"] = phone
            stored, _incoming = changes[text_of(H_PHONE)]
            changes[text_of(H_PHONE)] = (stored, mask(PHONE, phone))
        street = recipient.street
        if text_of(H_COMMITTEE_CODE) in changes:
            if committee is None:
                errors.append(_("请填写居委代码。"))
            else:
                fields["committee"] = checked["committee"] = committee
                street = checked["street"] = committee.street
        if text_of(H_ADVISOR_NUMBER) in changes:
            fields["advisor"] = checked["advisor"] = advisor
            errors += self._advisor_errors(advisor, street, scope.today)
        categories = key_groups = periods = None
        if text_of(H_CATEGORIES) in changes:
            categories = values["categories"]
            errors += self._in_use_errors(categories, H_CATEGORIES)
        if text_of(H_KEY_GROUPS) in changes:
            key_groups = values["key_groups"]
            errors += self._in_use_errors(key_groups, H_KEY_GROUPS)
        registered = recipient.status == RecipientStatus.REGISTERED
        if text_of(H_PERIODS) in changes:
            if registered:
                periods = values["periods"]
            else:
                errors.append(_("已退出的人员不能认定为现有救助对象,不能修改现有救助对象期间。"))
        exiting = False
        exit_headers = {_header("status"), _header("exited_on"), _header("exit_reason")}
        if exit_headers & set(changes):
            if not registered:
                errors.append(
                    _(
                        "已退出人员的状态、退出日期和退出原因不能通过导入修改;重新在册请在档案页面办理。"
                    )
                )
            elif values["status"] == RecipientStatus.EXITED:
                exiting = True
                checked.update(
                    status=values["status"],
                    exited_on=values["exited_on"],
                    exit_reason=values["exit_reason"],
                )
                kept = [(p.starts_on, p.ends_on) for p in stored_periods(recipient)]
                errors += self._exit_errors(values, periods if periods is not None else kept)
            else:
                checked.update(exited_on=values["exited_on"], exit_reason=values["exit_reason"])
        errors += self._model_errors(imports.changed_copy(recipient, checked))
        if errors:
            return None, errors
        row = PlannedRow(
            line=line,
            key=recipient.file_number,
            name=recipient.name,
            obj=recipient,
            street=street,
            changes=changes,
            action={
                "fields": fields,
                "id_number": id_number,
                "categories": categories,
                "key_groups": key_groups,
                "periods": periods,
                "exit": (
                    {"exited_on": values["exited_on"], "reason": values["exit_reason"]}
                    if exiting
                    else None
                ),
            },
        )
        return row, []

    def apply(self, actor, plan):
        """The new people in bulk (`register_many`), then the changes row by row."""
        register_many(actor=actor, people=[_new_recipient(row) for row in plan.creations])
        for row in plan.updates:
            self.apply_row(actor, row)

    def apply_row(self, actor, row):
        action = row.action
        if row.is_creation:
            (recipient,) = register_many(actor=actor, people=[_new_recipient(row)])
            return recipient
        recipient = row.obj
        if action["fields"] or action["id_number"]:
            services.update_recipient(
                actor=actor,
                recipient=recipient,
                id_number=action["id_number"] or None,
                **action["fields"],
            )
        if action["categories"] is not None or action["key_groups"] is not None:
            services.set_categories(
                actor=actor,
                recipient=recipient,
                categories=action["categories"],
                key_groups=action["key_groups"],
            )
        if action["periods"] is not None:
            services.replace_periods(actor=actor, recipient=recipient, periods=action["periods"])
        if action["exit"] is not None:
            services.exit_register(
                actor=actor,
                recipient=recipient,
                exited_on=action["exit"]["exited_on"],
                reason=action["exit"]["reason"],
            )
        return recipient

    # The empty template -----------------------------------------------------------------

    def notes(self, user):
        return [
            _("第一个工作表的第一行是表头,请勿修改;从第二行起每人一行。"),
            _("档案号:新登记的人员留空,由系统生成;修改已有人员时请保留导出文件中的档案号。"),
            _(
                "身份证号:新登记的人员须填写完整的18位号码;导出文件中遮盖的号码原样保留即为不修改。联系电话同样。"
            ),
            _("性别:%s;须与身份证号一致。") % "、".join(map(str, Gender.labels)),
            _("居委代码见下表;街镇管理员只能导入本街镇的人员。"),
            _("救助类别、重点人群:可填多项,用“、”分隔,可选项见下表。"),
            _("困难程度:%s(留空即为中)。") % "、".join(map(str, HardshipLevel.labels)),
            _("责任顾问编号:本街镇在岗顾问的编号,可留空。"),
            _(
                "现有救助对象期间:写成 2025-01-01~2025-06-30,至今的期间写成 2026-03-01~,"
                "多个期间用“；”分隔,不能重叠;留空表示没有。"
            ),
            _(
                "状态:在册或已退出;退出时填写退出日期和退出原因。新登记的人员为在册;重新在册请在档案页面办理。"
            ),
        ]

    def tables(self, user):
        committees = (
            Committee.objects.visible_to(user)
            .select_related("street")
            .order_by("street__code", "code")
        )
        categories = AssistanceCategory.objects.visible_to(user).in_use().order_by("order", "pk")
        key_groups = KeyGroup.objects.visible_to(user).in_use().order_by("order", "pk")
        return [
            (
                [_("居委代码"), _("居委"), _("街镇")],
                [(c.code, c.name, c.street.name) for c in committees],
            ),
            ([_("救助类别")], [(item.name,) for item in categories]),
            ([_("重点人群")], [(item.name,) for item in key_groups]),
        ]


def _new_recipient(row):
    action = row.action
    fields = dict(action["fields"])
    return NewRecipient(
        committee=action["committee"],
        name=fields.pop("name"),
        gender=fields.pop("gender"),
        id_number=action["id_number"],
        fields=fields,
        categories=action["categories"],
        key_groups=action["key_groups"],
        periods=action["periods"],
    )


class _Reader:
    """Reads cells into `values` (field: value) and `canonical` (header: text as exported),
    collecting the Chinese reasons of cells that cannot be read."""

    def __init__(self, cells):
        self.cells = cells
        self.values, self.canonical, self.errors = {}, {}, []

    def cell(self, header):
        return self.cells.get(text_of(header), "")

    def read(self, name, reader, *args, header=None, **kwargs):
        header = text_of(header or _header(name))
        try:
            self.values[name], self.canonical[header] = reader(
                self.cell(header), header, *args, **kwargs
            )
        except CellError as error:
            self.values[name] = None
            self.errors.append(str(error))


RECIPIENTS = RecipientImport()
