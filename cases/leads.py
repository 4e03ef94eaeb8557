"""政策找人: matching other departments' lists with the register, and a lead's path.

The bureau receives a list (`receive_list`), maps its columns once per source (the mapping
is remembered on the `LeadSource`), and processes it (`process_upload`; the command
`manage.py import_leads` does both). Each row:

- with no name or an ID number that fails GB 11643 is reported (无效), never guessed;
- whose ID number is on the register (any street, any district: one person, one record)
  adds the source's facts to that person's file; a fact not seen before from that source
  flags the file for the responsible advisor (情况变化) — decision: every new fact on a
  registered person is a change of their situation (a fact already recorded is a
  duplicate and adds nothing, so a monthly list that says the same again flags nothing);
- whose ID number names an existing lead adds its facts to that lead (并入), and a second
  source raises the lead's `source_count`, which ranks it higher; a lead closed as 不符合 or
  无法联系 that a new fact names again is reopened (待核实) — decision: new evidence is worth
  another look; an enrolled lead is a recipient, so its person is matched above;
- otherwise becomes a new lead, placed in the committee whose code the row gives (a code
  of the uploader's district), or else in the one committee of the district whose people
  on the register live at exactly that address; with neither it is a lead waiting for
  bureau staff to place it (无法定位). A lead placed in a committee goes to the advisor of
  that committee's point (the active one whose primary station it is, else any active
  one, else nobody: the street manager assigns it).

A fact is identified by its source, the person and what it says (`fact_key`): uploading a
list twice, or a later list that repeats a fact, adds nothing. The rows of one list are
processed in one transaction: the valid rows are written, the bad ones reported (a lead
list is not all-or-nothing). Every step reads and writes in a fixed number of queries per
chunk of rows, so a list of 100,000 rows is matched in well under a minute.

A lead's path: 待核实 → 已走访 (a counted `Visit` with `lead` set, with the needs it raised)
→ 纳入 (`enrol_lead`: a `Recipient` with categories; the lead's visits and needs move to the
new file) / 不符合 (with a reason) / 无法联系 (with a reason; decision: allowed without a
successful visit, since failed attempts are what make a person unreachable, but at least
one attempt must be recorded).
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from advisors.models import Advisor, AdvisorStation, active_q
from cases.choices import (
    OPEN_LEAD_STATUSES,
    LeadField,
    LeadRowOutcome,
    LeadStatus,
)
from cases.lead_models import (
    DEFAULT_FACT_COLUMNS,
    DEFAULT_MAPPING,
    LEAD_NUMBER_PREFIX,
    Lead,
    LeadFact,
    LeadSource,
    LeadUpload,
)
from changning_aid import exports
from changning_aid.numbering import next_number
from changning_aid.scoping import ensure_still_visible
from changning_aid.sensitive.fields import hash_id_number
from changning_aid.sensitive.idnumbers import id_number_problem, normalize_id_number
from changning_aid.sensitive.masking import mask_id_number
from changning_aid.writes import require_role, visible_or_404
from stations.choices import StationKind
from stations.models import Committee

CHUNK = 2000
MAX_LEAD_ROWS = 200_000
MAX_FACT_COLUMNS = 12
MAX_FACT_LENGTH = 200
CLOSING_STATUSES = (LeadStatus.INELIGIBLE, LeadStatus.UNREACHABLE)


def _bureau_only(actor):
    require_role(actor, (Role.BUREAU,), _("只有区民政局可以上传和处理线索名单。"))


# Reading a list -------------------------------------------------------------------------------


def _utf8(content):
    """CSV from other departments is often GB18030 (Excel's 中文 CSV); read either."""
    try:
        content.decode("utf-8-sig")
        return content
    except UnicodeDecodeError:
        try:
            return content.decode("gb18030").encode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                _("无法识别文件的文字编码,请另存为 UTF-8 或 .xlsx 后上传。")
            ) from None


def read_list(content, file_format, *, id_header=None):
    """`(header, rows)` of a list: `rows` a list of `(excel_line, {header: text})`.

    The header row is the first filled row (or, when `id_header` is known, the first of the
    first three filled rows that holds it). Raises ValidationError in Chinese.
    """
    if file_format == exports.CSV:
        content = _utf8(content)
    try:
        _line, header, rows = exports.read_rows(
            content, file_format, key_header=id_header, search_rows=3
        )
    except ValueError:
        if id_header:
            raise ValidationError(
                _("名单中找不到列“%(column)s”。请检查文件,或重新设定列对应。")
                % {"column": id_header}
            ) from None
        raise ValidationError(_("名单是空的:找不到表头。")) from None
    except Exception as exc:
        raise ValidationError(_("无法读取文件内容,请确认文件没有损坏后重新上传。")) from exc
    header = [name for name in header if name]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValidationError(
            _("表头中的列 %(columns)s 重复出现,请删除多余的列。") % {"columns": "、".join(repeated)}
        )
    if len(rows) > MAX_LEAD_ROWS:
        raise ValidationError(
            _("名单共 %(rows)s 行,超过一次最多处理的 %(max)s 行,请分批上传。")
            % {"rows": len(rows), "max": MAX_LEAD_ROWS}
        )
    return header, rows


# Mapping --------------------------------------------------------------------------------------


def check_mapping(mapping, fact_columns, headers):
    """The cleaned `(mapping, fact_columns)` for a list with `headers`, or ValidationError.

    The name and the ID number are required; the committee code, the address and the phone
    are optional; a header maps to one field at most, and fact columns are other headers.
    """
    known = set(LeadField.values)
    mapping = {key: (value or "").strip() for key, value in (mapping or {}).items() if key in known}
    mapping = {key: value for key, value in mapping.items() if value}
    fact_columns = [c for c in dict.fromkeys(fact_columns or ()) if c]
    errors = []
    for required in (LeadField.NAME, LeadField.ID_NUMBER):
        if required not in mapping:
            errors.append(_("请指定“%(field)s”对应的列。") % {"field": required.label})
    missing = [c for c in [*mapping.values(), *fact_columns] if c not in headers]
    if missing:
        errors.append(
            _("名单中没有列 %(columns)s,请重新设定列对应。") % {"columns": "、".join(missing)}
        )
    used = list(mapping.values())
    if len(set(used)) != len(used):
        errors.append(_("同一列不能对应多个字段。"))
    overlap = set(used) & set(fact_columns)
    if overlap:
        errors.append(
            _("列 %(columns)s 已对应到字段,不能再作为情况列。")
            % {"columns": "、".join(sorted(overlap))}
        )
    if len(fact_columns) > MAX_FACT_COLUMNS:
        errors.append(_("情况列最多 %(n)s 列。") % {"n": MAX_FACT_COLUMNS})
    if errors:
        raise ValidationError(errors)
    return mapping, fact_columns


def default_mapping_for(headers):
    """The default template's mapping and facts, where the list has those headers."""
    mapping = {key: header for key, header in DEFAULT_MAPPING.items() if header in headers}
    facts = [header for header in DEFAULT_FACT_COLUMNS if header in headers]
    return mapping, facts


def suggested_mapping(source, headers):
    """The source's remembered mapping, else the default template's (what the form shows)."""
    if source.has_mapping:
        return dict(source.mapping), list(source.fact_columns or [])
    return default_mapping_for(headers)


# Receiving and processing -------------------------------------------------------------------


@transaction.atomic
def create_source(*, actor, name, department="", description=""):
    _bureau_only(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写来源名称。")})
    if LeadSource.objects.filter(district=actor.district_id, name=name).exists():
        raise ValidationError({"name": _("已有同名的线索来源。")})
    source = LeadSource(
        district_id=actor.district_id,
        name=name,
        department=(department or "").strip(),
        description=(description or "").strip(),
        created_by=actor,
    )
    source.full_clean()
    source.save()
    return source


@transaction.atomic
def receive_list(*, actor, source, received_on, file_name, file_format, content):
    """Keep a list until its columns are mapped: a `LeadUpload` in state 待设定列对应."""
    _bureau_only(actor)
    visible_or_404(LeadSource.objects, actor, source)
    if received_on is None:
        raise ValidationError({"received_on": _("请填写名单日期。")})
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _("名单日期不能晚于今天。")})
    id_header = (source.mapping or {}).get("id_number") if source.has_mapping else None
    try:
        headers, rows = read_list(content, file_format)
    except ValidationError:
        if not id_header:
            raise
        headers, rows = read_list(content, file_format, id_header=id_header)
    if id_header and id_header not in headers:
        # A title line before the headers: look for the remembered ID column's header.
        headers, rows = read_list(content, file_format, id_header=id_header)
    if not rows:
        raise ValidationError(_("名单中没有数据行。"))
    return LeadUpload.objects.create(
        district=source.district,
        source=source,
        received_on=received_on,
        file_name=(file_name or "")[:200],
        state=LeadUpload.State.MAPPING,
        content=bytes(content),
        headers=headers,
        file_format=file_format,
        uploaded_by=actor,
    )


def upload_format(upload):
    return upload.file_format


def upload_headers(upload):
    return list(upload.headers)


@transaction.atomic
def discard_list(*, actor, upload):
    _bureau_only(actor)
    upload = visible_or_404(LeadUpload.objects.select_for_update(), actor, upload)
    if upload.state != LeadUpload.State.MAPPING:
        raise ValidationError(_("该名单已处理,不能放弃。"))
    upload.state = LeadUpload.State.DISCARDED
    upload.content = None
    upload.save(update_fields=["state", "content"])
    return upload


@transaction.atomic
def process_upload(*, actor, upload, mapping, fact_columns, today=None):
    """Map, remember the mapping on the source, match every row, and clear the file.

    `actor` is None for the command line (scheduled exchanges). Returns the upload with
    its counts and report.
    """
    if actor is not None:
        _bureau_only(actor)
        upload = visible_or_404(LeadUpload.objects.select_for_update(), actor, upload)
    else:
        upload = LeadUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.state != LeadUpload.State.MAPPING:
        raise ValidationError(_("该名单已经处理过了。"))
    mapping, fact_columns = check_mapping(mapping, fact_columns, upload_headers(upload))
    _header, rows = read_list(
        bytes(upload.content), upload_format(upload), id_header=mapping["id_number"]
    )
    source = LeadSource.objects.select_for_update().get(pk=upload.source_id)
    if source.mapping != mapping or source.fact_columns != fact_columns:
        source.mapping = mapping
        source.fact_columns = fact_columns
        source.save(update_fields=["mapping", "fact_columns", "updated_at"])
    today = today or timezone.localdate()
    drafts = [_draft(line, cells, mapping, fact_columns, today) for line, cells in rows]
    report = match_rows(upload=upload, source=source, drafts=drafts, today=today)
    upload.state = LeadUpload.State.PROCESSED
    upload.content = None
    upload.processed_at = timezone.now()
    upload.rows_total = len(drafts)
    for outcome, count in report.counts().items():
        setattr(upload, _COUNT_FIELDS[outcome], count)
    upload.report = report.rows
    upload.save()
    return upload


_COUNT_FIELDS = {
    LeadRowOutcome.MATCHED: "rows_matched",
    LeadRowOutcome.NEW_LEAD: "rows_new",
    LeadRowOutcome.MERGED: "rows_merged",
    LeadRowOutcome.DUPLICATE: "rows_duplicate",
    LeadRowOutcome.INVALID: "rows_invalid",
    LeadRowOutcome.UNPLACEABLE: "rows_unplaceable",
}


@dataclass
class Draft:
    """One row of a list, read through the mapping."""

    line: int
    name: str
    id_number: str
    committee_code: str = ""
    address: str = ""
    phone: str = ""
    facts: dict = field(default_factory=dict)
    problem: str = ""
    digest: str = ""


def _draft(line, cells, mapping, fact_columns, today=None):
    def cell(key):
        header = mapping.get(key)
        return (cells.get(header) or "").strip() if header else ""

    draft = Draft(
        line=line,
        name=cell("name")[:50],
        id_number=normalize_id_number(cell("id_number")),
        committee_code=cell("committee_code"),
        address=cell("address")[:200],
        phone=cell("phone")[:30],
        facts={c: (cells.get(c) or "").strip()[:MAX_FACT_LENGTH] for c in fact_columns},
    )
    if not draft.id_number:
        draft.problem = _("身份证号为空")
    else:
        problem = id_number_problem(draft.id_number, today=today)
        if problem:
            draft.problem = str(problem)
    if not draft.problem and not draft.name:
        draft.problem = _("姓名为空")
    if not draft.problem:
        draft.digest = hash_id_number(draft.id_number)
    return draft


def fact_key(source_id, digest, facts):
    """What identifies a fact: the source, the person, and what it says (not when)."""
    text = json.dumps(
        [source_id, digest, sorted((k, v) for k, v in facts.items() if v)], ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class KnownLead:
    """A lead already stored, as matching needs it (read without decrypting anything)."""

    pk: int
    district_id: int
    street_id: int | None
    status: str
    lead_number: str


@dataclass
class Report:
    rows: list = field(default_factory=list)  # [line, outcome, reference, reason]

    def add(self, line, outcome, reference="", reason=""):
        self.rows.append([line, str(outcome), reference, str(reason)])

    def counts(self):
        counts = dict.fromkeys(LeadRowOutcome, 0)
        for _line, outcome, _ref, _reason in self.rows:
            counts[LeadRowOutcome(outcome)] += 1
        return counts


def _chunks(items, size=CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def committee_advisors(district_id, on):
    """{committee pk: advisor pk} of the district's committee points: the active advisor
    whose primary station the point is, else the first active one (by advisor number)."""
    links = (
        AdvisorStation.objects.filter(
            station__kind=StationKind.COMMITTEE,
            station__district_id=district_id,
            station__committee__isnull=False,
        )
        .filter(active_q(on, prefix="advisor__"))
        .order_by("station__committee", "-is_primary", "advisor__advisor_number")
        .values_list("station__committee", "advisor")
    )
    chosen = {}
    for committee_id, advisor_id in links:
        chosen.setdefault(committee_id, advisor_id)
    return chosen


def _placements(district_id, drafts):
    """({committee code: (committee pk, street pk)}, {address: (committee pk, street pk)})."""
    codes = {d.committee_code for d in drafts if d.committee_code}
    by_code = {}
    for part in _chunks(sorted(codes)):
        for code, pk, street in Committee.objects.filter(
            code__in=part, street__district_id=district_id
        ).values_list("code", "pk", "street"):
            by_code[code] = (pk, street)
    from cases.models import Recipient

    addresses = {d.address for d in drafts if d.address and d.committee_code not in by_code}
    found = {}
    for part in _chunks(sorted(addresses)):
        for address, committee, street in (
            Recipient.objects.filter(street__district_id=district_id, address__in=part)
            .order_by()
            .values_list("address", "committee", "street")
            .distinct()
        ):
            found.setdefault(address, set()).add((committee, street))
    by_address = {a: next(iter(places)) for a, places in found.items() if len(places) == 1}
    ambiguous = {a for a, places in found.items() if len(places) > 1}
    return by_code, by_address, ambiguous


def match_rows(*, upload, source, drafts, today=None):
    """Match `drafts` (rows of `upload` from `source`) and write what they add. See module."""
    from cases.models import Recipient

    today = today or timezone.localdate()
    district_id = upload.district_id
    report = Report()
    valid = [d for d in drafts if not d.problem]
    digests = sorted({d.digest for d in valid})

    recipients = {}
    leads = {}
    for part in _chunks(digests):
        for pk, digest, street, district, number in Recipient.objects.filter(
            id_number_hash__in=part
        ).values_list("pk", "id_number_hash", "street", "street__district", "file_number"):
            recipients[digest] = (pk, street, district, number)
        for pk, digest, district, street, status, number in Lead.objects.filter(
            id_number_hash__in=part
        ).values_list("pk", "id_number_hash", "district", "street", "status", "lead_number"):
            leads[digest] = KnownLead(pk, district, street, status, number)
    keys = {d.line: fact_key(source.pk, d.digest, d.facts) for d in valid}
    known_keys = set()
    for part in _chunks(sorted(set(keys.values()))):
        known_keys.update(
            LeadFact.objects.filter(fact_key__in=part).values_list("fact_key", flat=True)
        )

    fresh = [d for d in valid if d.digest not in recipients and d.digest not in leads]
    by_code, by_address, ambiguous = _placements(district_id, fresh)
    advisors = committee_advisors(district_id, today)
    first_number = next_number(
        Lead, "lead_number", f"{LEAD_NUMBER_PREFIX}{upload.district.code}", 7
    )
    sequence = int(first_number[-7:])
    prefix = first_number[:-7]

    new_leads = {}  # digest -> Lead (unsaved)
    facts = []  # (draft, LeadFact unsaved, digest)
    touched_leads = set()
    reopened = set()
    for draft in drafts:
        if draft.problem:
            report.add(draft.line, LeadRowOutcome.INVALID, _masked(draft.id_number), draft.problem)
            continue
        key = keys[draft.line]
        if key in known_keys:
            reference = _reference_of(draft.digest, recipients, leads, new_leads, district_id)
            report.add(draft.line, LeadRowOutcome.DUPLICATE, reference, _("该来源已提供过相同情况"))
            continue
        known_keys.add(key)
        fact = LeadFact(
            source=source,
            upload=upload,
            received_on=upload.received_on,
            facts={k: v for k, v in draft.facts.items() if v},
            fact_key=key,
        )
        if draft.digest in recipients:
            pk, street, district, number = recipients[draft.digest]
            fact.recipient_id = pk
            fact.street_id = street
            fact.district_id = district
            fact.changes_situation = True
            facts.append((draft, fact, None))
            report.add(
                draft.line,
                LeadRowOutcome.MATCHED,
                _recipient_reference(number, district, district_id),
                "",
            )
            continue
        lead = leads.get(draft.digest) or new_leads.get(draft.digest)
        if lead is not None:
            fact.district_id = lead.district_id
            fact.street_id = lead.street_id
            facts.append((draft, fact, draft.digest))
            if lead.pk:
                touched_leads.add(lead.pk)
                if lead.status in CLOSING_STATUSES:
                    reopened.add(lead.pk)
            report.add(
                draft.line,
                LeadRowOutcome.MERGED,
                lead.lead_number if lead.district_id == district_id else _("其他区的线索"),
                "",
            )
            continue
        lead = Lead(
            district_id=district_id,
            name=draft.name,
            id_number=draft.id_number,
            address=draft.address,
            phone=_clean_phone(draft.phone),
            found_on=today,
            first_upload=upload,
            lead_number=f"{prefix}{sequence:07d}",
        )
        sequence += 1
        place = by_code.get(draft.committee_code) or by_address.get(draft.address)
        if place:
            lead.committee_id, lead.street_id = place
            lead.placed_on = today
            lead.advisor_id = advisors.get(lead.committee_id)
            outcome, reason = LeadRowOutcome.NEW_LEAD, ""
        else:
            outcome, reason = LeadRowOutcome.UNPLACEABLE, _unplaceable_reason(draft, ambiguous)
        lead.refresh_derived()
        new_leads[draft.digest] = lead
        fact.district_id = district_id
        fact.street_id = lead.street_id
        facts.append((draft, fact, draft.digest))
        report.add(draft.line, outcome, lead.lead_number, reason)

    created = list(new_leads.values())
    for part in _chunks(created, 1000):
        Lead.objects.bulk_create(part)
    for _draft_row, fact, digest in facts:
        if digest is not None:
            fact.lead_id = (leads.get(digest) or new_leads[digest]).pk
    for part in _chunks([fact for _d, fact, _g in facts], 2000):
        LeadFact.objects.bulk_create(part)
    if touched_leads:
        _refresh_source_counts(touched_leads, reopened)
    _notify_changed_situations([fact for _d, fact, _g in facts if fact.recipient_id])
    return report


def _clean_phone(phone):
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "-")
    return digits[:20]


def _masked(number):
    if number and len(number) == 18:
        return mask_id_number(number)
    return ""


def _reference_of(digest, recipients, leads, new_leads, district_id):
    if digest in recipients:
        _pk, _street, district, number = recipients[digest]
        return _recipient_reference(number, district, district_id)
    lead = leads.get(digest) or new_leads.get(digest)
    if lead is None:
        return ""
    return lead.lead_number if lead.district_id == district_id else _("其他区的线索")


def _recipient_reference(file_number, district, district_id):
    """The file number of a registered person of the uploader's district; of another
    district only that the person is registered there (not where)."""
    if district != district_id:
        return _("其他区在册")
    return file_number


def _unplaceable_reason(draft, ambiguous):
    if draft.committee_code:
        return _("居委代码 %(code)s 不是本区的居委") % {"code": draft.committee_code[:20]}
    if draft.address in ambiguous:
        return _("地址对应多个居委,需人工分派")
    if draft.address:
        return _("地址与在册人员地址均不一致")
    return _("未提供居委代码和地址")


def _refresh_source_counts(lead_ids, reopened):
    ids = sorted(lead_ids)
    distinct_sources = (
        LeadFact.objects.filter(lead=OuterRef("pk"))
        .order_by()
        .values("lead")
        .annotate(n=Count("source", distinct=True))
        .values("n")
    )
    now = timezone.now()
    for part in _chunks(ids):
        Lead.objects.filter(pk__in=part).update(
            source_count=Subquery(distinct_sources), updated_at=now
        )
    for part in _chunks(sorted(reopened)):
        Lead.objects.filter(pk__in=part, status__in=CLOSING_STATUSES).update(
            status=LeadStatus.PENDING,
            closed_on=None,
            closed_by=None,
            close_reason="",
            updated_at=now,
        )


def _notify_changed_situations(facts):
    """One notification per responsible advisor, naming how many of their people changed."""
    if not facts:
        return
    from cases.models import Recipient
    from notifications.choices import NotificationKind
    from notifications.services import notify

    recipient_ids = sorted({fact.recipient_id for fact in facts})
    per_advisor_user = {}
    upload_id = facts[0].upload_id
    for part in _chunks(recipient_ids):
        for user_id in Recipient.objects.filter(
            pk__in=part, advisor__user__isnull=False
        ).values_list("advisor__user", flat=True):
            per_advisor_user[user_id] = per_advisor_user.get(user_id, 0) + 1
    from accounts.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in=list(per_advisor_user))}
    for user_id, count in per_advisor_user.items():
        notify(
            [users[user_id]],
            kind=NotificationKind.SITUATION_CHANGED,
            title=_("名单比对:您负责的 %(n)s 名对象情况有变化,请核实") % {"n": count},
            dedupe_key=f"situation-changed-{upload_id}",
            url="/visits/desk/#situation-changes",
        )


# A lead's path -----------------------------------------------------------------------------


def _lead_for_update(actor, lead):
    """The lead, if the actor sees it, locked (locked by key: the advisor's scope has outer
    joins, which PostgreSQL cannot lock)."""
    visible = visible_or_404(Lead.objects, actor, lead)
    return Lead.objects.select_for_update().get(pk=visible.pk)


def _require_open(lead):
    if lead.is_anonymised:
        raise ValidationError(_("该线索已匿名化。"))
    if not lead.is_open:
        raise ValidationError(
            _("该线索已办结(%(status)s),不能再处理。") % {"status": lead.get_status_display()}
        )


def _check_lead_advisor(advisor, lead, on):
    if advisor is None:
        return
    if lead.street_id is None or advisor.street_id != lead.street_id:
        raise ValidationError({"advisor": _("核实顾问必须是线索所在街镇的顾问。")})
    if not advisor.is_active_on(on):
        raise ValidationError(
            {"advisor": _("%(name)s 不是在岗顾问,不能负责。") % {"name": advisor.name}}
        )


@transaction.atomic
def place_lead(*, actor, lead, committee, advisor=None):
    """Bureau staff place a lead (an unplaceable row, or a misplaced one) in a committee."""
    _bureau_only(actor)
    lead = _lead_for_update(actor, lead)
    _require_open(lead)
    visible_or_404(Committee.objects, actor, committee)
    today = timezone.localdate()
    lead.committee = committee
    lead.street_id = committee.street_id
    lead.placed_on = today
    if advisor is not None:
        visible_or_404(Advisor.objects, actor, advisor)
        _check_lead_advisor(advisor, lead, today)
        lead.advisor = advisor
    else:
        lead.advisor_id = committee_advisors(lead.district_id, today).get(committee.pk)
    lead.save()
    LeadFact.objects.filter(lead=lead).update(street_id=committee.street_id)
    return lead


@transaction.atomic
def assign_lead(*, actor, lead, advisor):
    """A street manager (or bureau staff) puts a lead in an advisor's charge."""
    require_role(
        actor, (Role.STREET_MANAGER, Role.BUREAU), _("只有街镇管理员或区民政局可以分派线索。")
    )
    lead = _lead_for_update(actor, lead)
    _require_open(lead)
    if advisor is None:
        raise ValidationError({"advisor": _("请选择顾问。")})
    visible_or_404(Advisor.objects, actor, advisor)
    _check_lead_advisor(advisor, lead, timezone.localdate())
    lead.advisor = advisor
    lead.save(update_fields=["advisor", "updated_at"])
    return lead


@transaction.atomic
def record_lead_visit(*, actor, lead, advisor, visited_on, method, result=None, needs=(), **fields):
    """Record the visit of a lead: an ordinary `Visit` (with `lead` set), and the needs it
    raised (`Need` rows of the lead). A counted visit moves the lead to 已走访."""
    from cases.choices import NeedSource, Urgency
    from cases.models import Need
    from visits import services as visit_services
    from visits.choices import FAILED_RESULTS, VisitResult
    from visits.models import Visit, VisitNeed, policy_for

    require_role(
        actor, (Role.STREET_MANAGER, Role.BUREAU, Role.ADVISOR), _("您的账号不能登记走访。")
    )
    result = result or VisitResult.COMPLETED
    unknown = sorted(set(fields) - set(visit_services.VISIT_FIELDS))
    if unknown:
        raise TypeError(f"record_lead_visit() got unexpected fields {', '.join(unknown)}")
    lead = _lead_for_update(actor, lead)
    _require_open(lead)
    if lead.committee_id is None:
        raise ValidationError(_("线索尚未定位到居委,请先由区民政局分派。"))
    policy = policy_for(lead.district_id)
    visit_services._check_date(actor, visited_on, policy)
    if visited_on < lead.found_on:
        raise ValidationError({"visited_on": _("走访日期不能早于线索发现日期。")})
    # The visit rule's own check of the visiting advisor (self, or of the lead's street,
    # active on the day): a lead has a street as a person does.
    visit_services._check_advisor(actor, advisor, lead, visited_on)
    needs = [need for need in needs if (need.get("description") or "").strip()]
    if needs and result in FAILED_RESULTS:
        raise ValidationError({"result": _("未成功的走访不能登记发现的需求。")})
    fields["result"] = result
    visit_services._clear_checks_of_failed(fields)
    visit = Visit(
        lead=lead,
        advisor=advisor,
        visited_on=visited_on,
        method=method,
        recorded_by=actor,
        **fields,
    )
    visit.findings = (visit.findings or "").strip()
    visit.full_clean(exclude=["visit_number", "followed_up_by", "recipient"])
    visit.save()
    for index, draft in enumerate(needs, start=1):
        need = Need(
            lead=lead,
            category=draft.get("category"),
            description=(draft.get("description") or "").strip(),
            source=NeedSource.DATA_LEAD,
            found_on=visited_on,
            urgency=draft.get("urgency") or Urgency.NORMAL,
            advisor=advisor,
        )
        try:
            need.full_clean(exclude=["need_number", "recipient"])
        except ValidationError as error:
            raise ValidationError(
                {"needs": [_("第%(n)d项需求:%(m)s") % {"n": index, "m": m} for m in error.messages]}
            ) from error
        need.save()
        VisitNeed.objects.create(visit=visit, need=need)
    if result not in FAILED_RESULTS:
        first = lead.first_visited_on
        lead.first_visited_on = min(first, visited_on) if first else visited_on
        if lead.status == LeadStatus.PENDING:
            lead.status = LeadStatus.VISITED
        lead.save(update_fields=["first_visited_on", "status", "updated_at"])
    return visit


@transaction.atomic
def enrol_lead(
    *,
    actor,
    lead,
    gender,
    categories,
    key_groups=(),
    current_from=None,
    **fields,
):
    """纳入: put the lead's person on the register (`cases.services.register_recipient`)
    with at least one category; the lead's visits, needs and facts move to the new file."""
    from cases import services as case_services
    from cases.models import Need
    from visits.models import Visit

    lead = _lead_for_update(actor, lead)
    _require_open(lead)
    if lead.status != LeadStatus.VISITED:
        raise ValidationError(_("请先登记一次成功的走访,核实情况后再纳入。"))
    if not categories:
        raise ValidationError({"categories": _("纳入时请至少选择一个救助类别。")})
    fields.setdefault("address", lead.address)
    fields.setdefault("phone", lead.phone)
    fields.setdefault("advisor", lead.advisor)
    recipient = case_services.register_recipient(
        actor=actor,
        committee=lead.committee,
        name=lead.name,
        gender=gender,
        id_number=lead.plain_id_number(),
        categories=categories,
        key_groups=key_groups,
        current_from=current_from,
        **fields,
    )
    Visit.objects.filter(lead=lead, recipient__isnull=True).update(recipient=recipient)
    # The lead's visits are now the person's (an UPDATE: no hooks): their month summaries.
    from visits import summaries

    summaries.refresh_people([recipient.pk])
    Need.objects.filter(lead=lead, recipient__isnull=True).update(recipient=recipient)
    LeadFact.objects.filter(lead=lead).update(recipient=recipient, street=recipient.street_id)
    from visits.services import complete_follow_ups

    complete_follow_ups(recipient)
    # The lead keeps its own number and history; its ID number now lives on the file (one
    # person, one record), so the lead lets go of it.
    lead.status = LeadStatus.ENROLLED
    lead.recipient = recipient
    lead.closed_on = timezone.localdate()
    lead.closed_by = actor
    lead.id_number = ""
    lead.save()
    ensure_still_visible(lead, actor)
    return recipient


@transaction.atomic
def close_lead(*, actor, lead, status, reason, on=None):
    """不符合 (after a successful visit) or 无法联系 (after at least one attempt), with a reason."""
    from visits.models import Visit

    lead = _lead_for_update(actor, lead)
    _require_open(lead)
    if status not in CLOSING_STATUSES:
        raise ValidationError({"status": _("请选择“不符合”或“无法联系”。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写原因。")})
    if status == LeadStatus.INELIGIBLE and lead.status != LeadStatus.VISITED:
        raise ValidationError(_("请先登记一次成功的走访,核实后再认定不符合。"))
    if status == LeadStatus.UNREACHABLE and not Visit.objects.kept().filter(lead=lead).exists():
        raise ValidationError(_("请先登记至少一次联系尝试(如无人在家),再认定无法联系。"))
    if actor.is_advisor and (lead.advisor is None or lead.advisor.user_id != actor.pk):
        from visits.services import own_advisor

        own = own_advisor(actor)
        if own is None or own.street_id != lead.street_id:
            raise PermissionDenied(_("您不能办结这条线索。"))
    lead.status = status
    lead.close_reason = reason[:300]
    lead.closed_on = on or timezone.localdate()
    lead.closed_by = actor
    lead.save()
    return lead


@transaction.atomic
def acknowledge_fact(*, actor, fact):
    """The advisor (or a keeper) has seen a 情况变化 and checked it."""
    fact = visible_or_404(LeadFact.objects, actor, fact)
    fact = LeadFact.objects.select_for_update().get(pk=fact.pk)
    if not fact.changes_situation or fact.acknowledged_at:
        return fact
    fact.acknowledged_at = timezone.now()
    fact.acknowledged_by = actor
    fact.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return fact


def hand_over_leads(from_advisor, to_advisor):
    """Move an advisor's open leads with the hand-over of their people (cases.services)."""
    return Lead.objects.filter(advisor=from_advisor, status__in=OPEN_LEAD_STATUSES).update(
        advisor=to_advisor, updated_at=timezone.now()
    )


def open_lead_count(advisor):
    return Lead.objects.filter(advisor=advisor, status__in=OPEN_LEAD_STATUSES).count()


def overdue_q(today):
    """Open leads older than the setting (LEAD_VISIT_DAYS, 15 by default)."""
    return Q(
        status__in=OPEN_LEAD_STATUSES,
        found_on__lt=today - datetime.timedelta(days=settings.LEAD_VISIT_DAYS),
    )


def discard_stale_lists(now=None):
    """Lists never mapped are not kept: a day after the upload their file is dropped and they
    are marked 已放弃 (the bureau uploads again if it still wants them)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.LEAD_UPLOAD_KEEP_HOURS)
    return LeadUpload.objects.filter(state=LeadUpload.State.MAPPING, uploaded_at__lt=cutoff).update(
        state=LeadUpload.State.DISCARDED, content=None
    )


def anonymise_closed_leads(today=None):
    """Clear what identifies a lead closed as 不符合 or 无法联系 more than a year ago (the
    setting LEAD_RETENTION_DAYS), and its facts' content. Counts and dates stay."""
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=settings.LEAD_RETENTION_DAYS)
    due = Lead.objects.filter(
        status__in=CLOSING_STATUSES, closed_on__lt=cutoff, anonymised_at__isnull=True
    )
    now = timezone.now()
    count = 0
    for lead in due.iterator(chunk_size=500):
        lead.name = _("(已匿名)")
        lead.id_number = ""
        lead.phone = ""
        lead.address = ""
        lead.close_reason = ""
        lead.anonymised_at = now
        lead.save()
        lead.name_initials = ""
        Lead.objects.filter(pk=lead.pk).update(name_initials="")
        LeadFact.objects.filter(lead=lead, recipient__isnull=True).update(facts={})
        count += 1
    return count
