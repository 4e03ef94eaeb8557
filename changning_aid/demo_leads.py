"""The demo's 政策找人 (leads from other departments' lists), for `manage.py seed_demo`.

Three departments send the bureau a list, each received and processed through the real
services (`cases.leads.receive_list` and `process_upload`, as the bureau's demo login), so
that the matching, the report and the remembered column mapping are the application's own:

- 区残联·残疾人证 (an .xlsx of newly issued disability certificates, received about six
  weeks ago): its leads are overdue where nobody has been yet;
- 区医保局·高额医疗费用 (a GB18030 .csv of high out-of-pocket medical costs, three weeks
  ago), with other headers and a phone column; some rows give no committee code, only the
  address of a household already on the register (placed by the address);
- 区老龄办·独居老人 (an .xlsx of old people living alone, five days ago): new leads.

Each list is realistic in size (about 150 to 250 rows; a third with `--small`) and mixes
what real lists hold: people new to the register (most rows), people already on it (their
file gets the fact, flagged 情况变化 for their advisor, among them some people of each
street's demo advisor login), people named by two lists (one lead, ranked higher), a row
repeated, invalid rows (a wrong check digit, no name, a short number) and a few rows that
cannot be placed (no committee code and an unknown address, or another district's code).
The first committee of each street (the demo advisor logins' `advisor_<code>`) always
gets new leads from the lists: two overdue from the disability list, four new from the
elderly one.

Then, without `--small`, leads move along their path through the services
(`record_lead_visit`, `enrol_lead`, `close_lead`, as the street managers entering the
advisors' visits): some visited (a few raising needs), a few enrolled (纳入, current from
the day they were enrolled), a few closed as 不符合 or, after failed attempts, 无法联系;
the demo advisor logins' own leads are left waiting, so that their desk has them to show.
`--small` stops after the lists: the tests' small demo keeps its visits as `demo_visits`
made them.

Deterministic: every choice comes from a `random.Random` seeded with the district code,
and every date is counted back from `today` (the lists are processed "as of" their day,
so their leads are found on that day). Idempotent: a district gets the demo lists only
while it has none of the demo sources.
"""

import csv
import datetime
import io
import random
from dataclasses import dataclass

from django.db.models import F

from accounts.choices import Role
from accounts.models import User
from cases import leads as lead_services
from cases.choices import Gender, HardshipLevel, LeadStatus, NeedCategory, Urgency
from cases.lead_models import Lead, LeadFact, LeadSource, LeadUpload
from cases.models import AssistanceCategory, KeyGroup, Recipient, RecipientStatus
from changning_aid.demo_cases import Counter, demo_id_number, demo_name, on_day_at, stamp
from stations.models import Committee, Street
from visits.choices import VisitMethod, VisitResult
from visits.models import Visit


@dataclass(frozen=True)
class DemoSource:
    """One department's list: its headers, the mapping the bureau sets, and its people."""

    name: str
    department: str
    description: str
    file_name: str
    file_format: str
    headers: tuple
    mapping: dict
    fact_columns: tuple
    received_days_ago: int
    # The bureau processes a list a few days after receiving it: its leads are found then.
    processed_after: int
    rows: int
    ages: tuple
    # How many new leads the first committee of each street gets from the list.
    demo_committee_leads: int
    key_group: str
    category: str


SOURCES = (
    DemoSource(
        name="区残联·残疾人证",
        department="长宁区残疾人联合会",
        description="每月新办、换领残疾人证的人员名单",
        file_name="残疾人证新办换领名单.xlsx",
        file_format="xlsx",
        headers=(
            "序号",
            "姓名",
            "身份证号",
            "居委代码",
            "居住地址",
            "残疾类别",
            "残疾等级",
            "发证日期",
        ),
        mapping={
            "name": "姓名",
            "id_number": "身份证号",
            "committee_code": "居委代码",
            "address": "居住地址",
        },
        fact_columns=("残疾类别", "残疾等级", "发证日期"),
        received_days_ago=41,
        processed_after=2,
        rows=240,
        ages=(8, 88),
        demo_committee_leads=2,
        key_group="重残",
        category="低收入",
    ),
    DemoSource(
        name="区医保局·高额医疗费用",
        department="长宁区医疗保障局",
        description="年度个人自付医疗费用较高的参保人员",
        file_name="高额医疗费用人员.csv",
        file_format="csv",
        headers=(
            "姓名",
            "公民身份号码",
            "联系电话",
            "居住地址",
            "居委编码",
            "年度自付费用(元)",
            "主要诊断",
        ),
        mapping={
            "name": "姓名",
            "id_number": "公民身份号码",
            "phone": "联系电话",
            "address": "居住地址",
            "committee_code": "居委编码",
        },
        fact_columns=("年度自付费用(元)", "主要诊断"),
        received_days_ago=23,
        processed_after=2,
        rows=180,
        ages=(35, 85),
        demo_committee_leads=1,
        key_group="大病",
        category="支出型贫困",
    ),
    DemoSource(
        name="区老龄办·独居老人",
        department="长宁区老龄工作委员会办公室",
        description="独居老人关爱名单(季度更新)",
        file_name="独居老人名单.xlsx",
        file_format="xlsx",
        headers=("姓名", "身份证号码", "居委代码", "地址", "子女情况", "健康状况"),
        mapping={
            "name": "姓名",
            "id_number": "身份证号码",
            "committee_code": "居委代码",
            "address": "地址",
        },
        fact_columns=("子女情况", "健康状况"),
        received_days_ago=5,
        processed_after=2,
        rows=160,
        ages=(70, 95),
        demo_committee_leads=4,
        key_group="独居老人",
        category="特困供养",
    ),
)
SMALL_SHARE = 3  # `--small`: a third of the rows

# Of a list's rows: people already on the register, invalid rows, unplaceable rows.
REGISTERED_SHARE = 0.07
INVALID_ROWS = 4
UNPLACEABLE_ROWS = 3
# People named by two lists: (first list, second list, how many).
SHARED = ((0, 1, 12), (0, 2, 8), (1, 2, 5))
# Rows of the medical list without a committee code, at a registered household's address.
SAME_ADDRESS_ROWS = 3
OTHER_DISTRICT_CODE = "310104003002"

DISABILITY_KINDS = ("肢体", "肢体", "视力", "听力", "言语", "智力", "精神", "多重")
DISABILITY_LEVELS = ("一级", "二级", "二级", "三级", "三级", "四级")
DIAGNOSES = (
    "肺恶性肿瘤",
    "尿毒症(维持性血液透析)",
    "脑梗死后遗症",
    "冠心病支架术后",
    "急性白血病",
    "乳腺恶性肿瘤",
    "肝硬化失代偿期",
    "帕金森病",
    "结肠恶性肿瘤",
    "股骨颈骨折术后",
)
CHILDREN = ("无子女", "子女在外省市", "子女在国外", "子女在本市,很少探望", "子女已故")
HEALTH = (
    "基本自理",
    "基本自理",
    "行动不便,需要助餐",
    "患高血压、糖尿病",
    "轻度认知障碍",
    "术后康复中",
    "听力下降,独自出行困难",
)
UNKNOWN_ROADS = ("天山路", "遵义路", "茅台路", "玉屏南路")

NEEDS = {
    0: (
        (NeedCategory.CARE, "行动不便,需要居家照护,协助申请长护险评估", Urgency.SOON),
        (NeedCategory.LIVING, "残疾人生活补贴尚未申领,需协助办理", Urgency.NORMAL),
    ),
    1: (
        (NeedCategory.MEDICAL, "自付医疗费用负担重,了解支出型贫困生活救助", Urgency.SOON),
        (NeedCategory.MEDICAL, "需要协助办理医疗救助和大病保险二次报销", Urgency.NORMAL),
    ),
    2: (
        (NeedCategory.CARE, "独居高龄,需要社区助餐服务", Urgency.NORMAL),
        (NeedCategory.LIVING, "需要安装独居老人紧急呼叫设备", Urgency.SOON),
    ),
}
FINDINGS = {
    0: "上门核实:残疾人证已领取,本人在家,了解家庭收入和照护情况。",
    1: "上门核实:本人术后在家休养,家属陪同,了解医疗费用和家庭收入情况。",
    2: "上门核实:本人独居,生活基本自理,了解子女联系和日常起居情况。",
}
INELIGIBLE_REASONS = (
    "家庭收入超过低收入认定标准,已告知可申请的其他帮扶政策",
    "已由子女照料,本人表示暂无救助需求",
    "经核实已享受工伤保险待遇,生活有保障",
    "本人表示暂不需要帮助,已留下顾问联系方式",
)
UNREACHABLE_REASON = "两次上门无人应答,电话无法接通,居委反映本人长期不在本市居住"


@dataclass
class Person:
    """Someone a list names: new to the register, or already on it (`recipient`)."""

    name: str
    id_number: str
    committee_code: str
    address: str
    phone: str = ""
    recipient: object = None


def seed_leads(*, street_codes, home_roads, today, small):
    """The demo lists of the district of `street_codes`, processed, and (without `small`)
    leads moved along their path; the counts (nothing when the district has them)."""
    counts = Counter()
    streets = list(Street.objects.filter(code__in=street_codes).order_by("code"))
    if not streets:
        return counts
    district = streets[0].district
    names = [source.name for source in SOURCES]
    if LeadSource.objects.filter(district=district, name__in=names).exists():
        return counts
    bureau = User.objects.filter(role=Role.BUREAU, district=district).order_by("pk").first()
    if bureau is None:
        return counts
    rng = random.Random(f"leads:{district.code}")
    committees = list(Committee.objects.filter(street__in=streets).order_by("code"))
    first_committees = {}
    for committee in committees:
        first_committees.setdefault(committee.street_id, committee)
    plan = ListPlan(rng, committees, list(first_committees.values()), home_roads, today, small)
    uploads = []
    for index, source in enumerate(SOURCES):
        uploads.append(process_list(bureau, district, source, plan.rows_of(index), today))
    counts.add("lead_lists", len(uploads))
    counts.add("leads", Lead.objects.filter(district=district).count())
    counts.add("lead_facts", LeadFact.objects.filter(upload__in=uploads).count())
    counts.add("situation_changes", LeadFact.objects.filter(upload__in=uploads).flagged().count())
    if not small:
        moved = move_leads(rng, district, uploads, set(first_committees.values()), today)
        for key, number in moved.items():
            counts.add(key, number)
    return counts


class ListPlan:
    """The rows of the three lists, from one pool of people (so that lists share some)."""

    def __init__(self, rng, committees, first_committees, home_roads, today, small):
        self.rng = rng
        self.committees = committees
        self.first_committees = first_committees
        self.home_roads = home_roads
        self.today = today
        self.small = small
        self.taken = set()
        self.existing_hashes = set(
            Recipient.objects.exclude(id_number_hash=None).values_list("id_number_hash", flat=True)
        ) | set(Lead.objects.values_list("id_number_hash", flat=True))
        self.registered = self._registered_people()
        self.people = [self._plan_list(index, source) for index, source in enumerate(SOURCES)]
        self._share()

    def size(self, source):
        return source.rows // SMALL_SHARE if self.small else source.rows

    def shared(self, number):
        return max(1, number // SMALL_SHARE) if self.small else number

    def _registered_people(self):
        """People on the register the lists name: two of each demo advisor login's people
        (so that their desk shows 情况变化), and others drawn from the whole register."""
        registered = Recipient.objects.filter(
            committee__in=self.committees, status=RecipientStatus.REGISTERED
        ).select_related("committee")
        demo_people = []
        for committee in self.first_committees:
            demo_people.extend(
                registered.filter(
                    committee=committee, advisor__user__username=f"advisor_{committee.code}"
                ).order_by("file_number")[:2]
            )
        wanted = sum(round(self.size(source) * REGISTERED_SHARE) for source in SOURCES)
        chosen = {person.pk for person in demo_people}
        others = [
            pk
            for pk in registered.order_by("file_number").values_list("pk", flat=True)
            if pk not in chosen
        ]
        drawn = self.rng.sample(others, min(len(others), max(0, wanted - len(demo_people))))
        by_pk = registered.in_bulk(drawn)
        people = demo_people + [by_pk[pk] for pk in drawn]
        for person in people:
            # Their number, as the lists have it (decrypted once).
            person.listed_id_number = person.plain_id_number()
        return people

    def _new_person(self, source, committee):
        low, high = source.ages
        age = self.rng.randint(low, high)
        birth = self.today - datetime.timedelta(days=age * 365 + self.rng.randrange(365))
        male = self.rng.random() < (0.42 if age >= 70 else 0.5)
        gender = Gender.MALE if male else Gender.FEMALE
        number = demo_id_number(self.rng, birth, male, self.taken, self.existing_hashes)
        road = self.home_roads.get(committee.code, UNKNOWN_ROADS)[self.rng.randrange(3)]
        lane = self.rng.randint(1, 1500)
        number_on_lane = self.rng.randint(1, 40)
        room = f"{self.rng.randint(1, 6)}0{self.rng.randint(1, 4)}"
        address = f"长宁区{road}{lane}弄{number_on_lane}号{room}室"
        phone = ""
        if self.rng.random() < 0.8:
            phone = f"13{self.rng.randint(0, 9)}{self.rng.randrange(100_000_000):08d}"
        return Person(
            name=demo_name(self.rng, gender, age),
            id_number=number,
            committee_code=committee.code,
            address=address,
            phone=phone,
        )

    def _plan_list(self, index, source):
        """The people of one list (before the shared ones and the odd rows are added)."""
        size = self.size(source)
        people = []
        for committee in self.first_committees:
            for _number in range(source.demo_committee_leads):
                people.append(self._new_person(source, committee))
        registered = self.registered[index::3]
        for recipient in registered:
            people.append(
                Person(
                    name=recipient.name,
                    id_number=recipient.listed_id_number,
                    committee_code=recipient.committee.code,
                    address=recipient.address,
                    phone=recipient.phone or "",
                    recipient=recipient,
                )
            )
        shared = sum(self.shared(n) for first, second, n in SHARED if index in (first, second))
        while len(people) < size - INVALID_ROWS - UNPLACEABLE_ROWS - shared - 1:
            committee = self.committees[self.rng.randrange(len(self.committees))]
            people.append(self._new_person(source, committee))
        return people

    def _share(self):
        """People named by two lists: new people of the first list, again in the second."""
        for first, second, number in SHARED:
            number = self.shared(number)
            pool = [
                person
                for person in self.people[first]
                if person.recipient is None
                and person.committee_code not in {c.code for c in self.first_committees}
            ]
            for person in self.rng.sample(pool, min(number, len(pool))):
                self.people[second].append(
                    Person(
                        name=person.name,
                        id_number=person.id_number,
                        committee_code=person.committee_code,
                        address=person.address,
                        phone=person.phone,
                    )
                )
        # A registered person in two lists: two facts on their file.
        if self.registered:
            person = self.registered[0]
            for index in (1, 2):
                if person not in self.registered[index::3]:
                    self.people[index].append(
                        Person(
                            name=person.name,
                            id_number=person.listed_id_number,
                            committee_code=person.committee.code,
                            address=person.address,
                            recipient=person,
                        )
                    )
                    break

    def _facts(self, index, received_on):
        rng = self.rng
        if index == 0:
            issued = received_on - datetime.timedelta(days=rng.randint(3, 90))
            return {
                "残疾类别": DISABILITY_KINDS[rng.randrange(len(DISABILITY_KINDS))],
                "残疾等级": DISABILITY_LEVELS[rng.randrange(len(DISABILITY_LEVELS))],
                "发证日期": issued.isoformat(),
            }
        if index == 1:
            return {
                "年度自付费用(元)": str(rng.randrange(30_000, 260_000, 10)),
                "主要诊断": DIAGNOSES[rng.randrange(len(DIAGNOSES))],
            }
        return {
            "子女情况": CHILDREN[rng.randrange(len(CHILDREN))],
            "健康状况": HEALTH[rng.randrange(len(HEALTH))],
        }

    def rows_of(self, index):
        """The rows of list `index` as {header: text}, in the order the file has them."""
        source = SOURCES[index]
        received_on = self.today - datetime.timedelta(days=source.received_days_ago)
        mapping = source.mapping
        rows = []
        for person in self.people[index]:
            row = {
                mapping["name"]: person.name,
                mapping["id_number"]: person.id_number,
                mapping["committee_code"]: person.committee_code,
                mapping["address"]: person.address,
            }
            if "phone" in mapping:
                row[mapping["phone"]] = person.phone
            row.update(self._facts(index, received_on))
            rows.append(row)
        self.rng.shuffle(rows)
        rows.extend(self._odd_rows(index, received_on, rows))
        self.rng.shuffle(rows)
        if "序号" in source.headers:
            for number, row in enumerate(rows, start=1):
                row["序号"] = str(number)
        return rows

    def _odd_rows(self, index, received_on, rows):
        """Invalid rows, rows that cannot be placed, a repeated row, and (the medical list)
        family members at a registered household's address, without a committee code."""
        source = SOURCES[index]
        mapping = source.mapping
        odd = []
        templates = [
            self._new_person(source, self.committees[self.rng.randrange(len(self.committees))])
            for _number in range(INVALID_ROWS + UNPLACEABLE_ROWS)
        ]
        for number, person in enumerate(templates):
            row = {
                mapping["name"]: person.name,
                mapping["id_number"]: person.id_number,
                mapping["committee_code"]: person.committee_code,
                mapping["address"]: person.address,
                **self._facts(index, received_on),
            }
            if number == 0:  # a wrong check digit
                last = person.id_number[-1]
                row[mapping["id_number"]] = person.id_number[:-1] + ("1" if last != "1" else "2")
            elif number == 1:
                row[mapping["name"]] = ""
            elif number == 2:  # the old 15-digit card, cut short
                row[mapping["id_number"]] = person.id_number[:15]
            elif number == 3:
                row[mapping["id_number"]] = ""
            elif number == 4:  # another district's committee
                row[mapping["committee_code"]] = OTHER_DISTRICT_CODE
            else:  # no committee code, an address nobody on the register has
                row[mapping["committee_code"]] = ""
                road = UNKNOWN_ROADS[self.rng.randrange(len(UNKNOWN_ROADS))]
                row[mapping["address"]] = f"长宁区{road}{900 + number}号"
            odd.append(row)
        odd.append(dict(rows[0]))  # the same row twice in one list
        if "phone" in mapping:
            households = [p for p in self.registered if p.address][:SAME_ADDRESS_ROWS]
            for household in households:
                committee = household.committee
                person = self._new_person(source, committee)
                odd.append(
                    {
                        mapping["name"]: person.name,
                        mapping["id_number"]: person.id_number,
                        mapping["committee_code"]: "",
                        mapping["address"]: household.address,
                        mapping["phone"]: person.phone,
                        **self._facts(index, received_on),
                    }
                )
        return odd


def list_file(source, rows):
    """The list as the department sends it: an .xlsx, or a CSV in GB18030 (Excel's 中文)."""
    if source.file_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(source.headers)
        for row in rows:
            writer.writerow([row.get(header, "") for header in source.headers])
        return out.getvalue().encode("gb18030")
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    sheet.append(list(source.headers))
    for row in rows:
        sheet.append([row.get(header, "") for header in source.headers])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def process_list(bureau, district, source, rows, today):
    """Create the source, receive its list and process it, as bureau staff would."""
    lead_source = lead_services.create_source(
        actor=bureau,
        name=source.name,
        department=source.department,
        description=source.description,
    )
    received_on = today - datetime.timedelta(days=source.received_days_ago)
    processed_on = received_on + datetime.timedelta(days=source.processed_after)
    upload = lead_services.receive_list(
        actor=bureau,
        source=lead_source,
        received_on=received_on,
        file_name=source.file_name,
        file_format=source.file_format,
        content=list_file(source, rows),
    )
    upload = lead_services.process_upload(
        actor=bureau,
        upload=upload,
        mapping=dict(source.mapping),
        fact_columns=list(source.fact_columns),
        today=processed_on,
    )
    # When it happened, not when the demo ran.
    LeadUpload.objects.filter(pk=upload.pk).update(
        uploaded_at=stamp(received_on + datetime.timedelta(days=1), 10),
        processed_at=stamp(processed_on, 15),
    )
    LeadFact.objects.filter(upload=upload).update(created_at=stamp(processed_on, 15))
    Lead.objects.filter(first_upload=upload).update(
        created_at=stamp(processed_on, 15), updated_at=stamp(processed_on, 15)
    )
    return upload


# ---- A lead's path ------------------------------------------------------------------------


def workday_after(day, rng, low, high, today):
    """A working day `low`..`high` days after `day`, not after today (None if none)."""
    candidate = day + datetime.timedelta(days=rng.randint(low, high))
    while candidate.weekday() >= 5:
        candidate += datetime.timedelta(days=1)
    return candidate if candidate <= today else None


# How many leads of each list move along their path: (visited and left open, enrolled,
# found ineligible, unreachable after two failed attempts). A few, as a month's work.
PATH_COUNTS = ((10, 3, 4, 3), (7, 2, 2, 2), (4, 0, 0, 0))


def move_leads(rng, district, uploads, first_committees, today):
    """Visits, 纳入 and 办结 of some leads of each list (see the module); the counts."""
    counts = Counter()
    managers = {
        user.street_id: user
        for user in User.objects.filter(
            role=Role.STREET_MANAGER, is_active=True, street__district=district
        ).order_by("pk")
    }
    categories = {
        category.name: category
        for category in AssistanceCategory.objects.filter(district__isnull=True)
    }
    key_groups = {group.name: group for group in KeyGroup.objects.filter(district__isnull=True)}
    for index, upload in enumerate(uploads):
        source = SOURCES[index]
        candidates = [
            lead
            for lead in Lead.objects.filter(first_upload=upload, advisor__isnull=False)
            .exclude(committee__in=first_committees)
            .select_related("advisor", "committee")
            .order_by("lead_number")
            if lead.street_id in managers and lead.advisor.is_active_on(lead.found_on)
        ]
        left_open, enrolled, ineligible, unreachable_count = PATH_COUNTS[index]
        chosen = rng.sample(
            candidates, min(len(candidates), left_open + enrolled + ineligible + unreachable_count)
        )
        for position, lead in enumerate(chosen):
            manager = managers[lead.street_id]
            if position < unreachable_count:
                counts.add("leads_closed", unreachable(rng, manager, lead, today, counts))
                continue
            visit(rng, manager, lead, index, today, counts)
            lead.refresh_from_db()
            if lead.status != LeadStatus.VISITED:
                continue
            position -= unreachable_count
            if position < enrolled:
                category, key_group = categories[source.category], key_groups[source.key_group]
                enrol(rng, manager, lead, category, key_group, today)
                counts.add("leads_enrolled", 1)
            elif position < enrolled + ineligible:
                on = workday_after(lead.first_visited_on, rng, 1, 5, today) or today
                reason = INELIGIBLE_REASONS[rng.randrange(len(INELIGIBLE_REASONS))]
                lead_services.close_lead(
                    actor=manager, lead=lead, status=LeadStatus.INELIGIBLE, reason=reason, on=on
                )
                counts.add("leads_closed", 1)
    # The visits as the day they were made, recorded that evening.
    Visit.objects.filter(lead__district=district).update(
        recorded_at=on_day_at(F("visited_on"), 18, today),
        updated_at=on_day_at(F("visited_on"), 18, today),
    )
    return counts


def visit(rng, manager, lead, index, today, counts):
    """A successful home visit of the lead by its advisor, raising a need half the time."""
    day = workday_after(lead.found_on, rng, 1, 14, today)
    if day is None or not lead.advisor.is_active_on(day):
        return
    needs = []
    if rng.random() < 0.5:
        category, description, urgency = NEEDS[index][rng.randrange(len(NEEDS[index]))]
        needs.append({"category": category, "description": description, "urgency": urgency})
    lead_services.record_lead_visit(
        actor=manager,
        lead=lead,
        advisor=lead.advisor,
        visited_on=day,
        method=VisitMethod.HOME,
        findings=FINDINGS[index],
        needs=needs,
        living="normal",
        health="attention" if index == 1 else "normal",
        housing="normal",
        mood="normal",
    )
    counts.add("lead_visits", 1)
    counts.add("lead_needs", len(needs))


def unreachable(rng, manager, lead, today, counts):
    """Two failed attempts (无人在家), then 无法联系; 0 when there was no time for them."""
    first = workday_after(lead.found_on, rng, 1, 6, today)
    second = first and workday_after(first, rng, 3, 8, today)
    if second is None or not lead.advisor.is_active_on(second):
        return 0
    for day in (first, second):
        lead_services.record_lead_visit(
            actor=manager,
            lead=lead,
            advisor=lead.advisor,
            visited_on=day,
            method=VisitMethod.HOME,
            result=VisitResult.NOBODY_HOME,
            findings="上门无人应答,已在门上留联系卡。",
        )
        counts.add("lead_visits", 1)
    on = workday_after(second, rng, 1, 3, today) or today
    lead_services.close_lead(
        actor=manager, lead=lead, status=LeadStatus.UNREACHABLE, reason=UNREACHABLE_REASON, on=on
    )
    return 1


def enrol(rng, manager, lead, category, key_group, today):
    """纳入: the lead's person on the register, current from the day they were enrolled."""
    on = workday_after(lead.first_visited_on, rng, 1, 6, today) or today
    number = lead.plain_id_number()
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    recipient = lead_services.enrol_lead(
        actor=manager,
        lead=lead,
        gender=gender,
        categories=[category],
        key_groups=[key_group],
        current_from=on,
        household_size=1 if key_group.name == "独居老人" else rng.randint(1, 3),
        hardship_level=HardshipLevel.HIGH if rng.random() < 0.5 else HardshipLevel.MEDIUM,
    )
    Lead.objects.filter(pk=lead.pk).update(closed_on=on)
    Recipient.objects.filter(pk=recipient.pk).update(
        created_at=stamp(on, 16), updated_at=stamp(on, 16)
    )
    return recipient
