"""The demo's monthly visits (定期联系走访, 每月至少1次), for `manage.py seed_demo`.

Twelve calendar months of visits, the month in progress included (up to today), for the
people who were current recipients in each month (by their periods), as the advisors'
year would have left them, gaps and all:

- Most people are visited once a month, some twice (a phone call after the home visit),
  by their responsible advisor when that advisor was active on the day, else by another
  advisor of the committee point, else by the street station (a point without advisors).
  Most visits are 上门走访; phone calls, 来站 and 视频 by the person's habits (the young
  more by phone, the old and those living alone at home). Visits fall on working days.
- Most committees are covered 95-100%; in streets at every third place in code order one
  committee is poorly covered (60-75% of its due people) for its last months (an
  overloaded point). The people of an advisor who left wait to be handed over and are
  often missed. People current for part of a month only (not due) are visited half the time.
- About 3% of the attempts fail (无人在家, 拒访): recorded, not counted; most are followed
  by a successful retry a few days later, some are all the month has.
- About one advisor in twenty logs late: several days after the visit, sometimes in the
  next month's first days; a visit entered after the late-entry window (or by an advisor
  without a login) is recorded by the street manager, as a paper record would be. A visit
  whose recording time is still to come is not there yet.
- Quick checks are mostly 正常; 需关注/有风险 follow the person's hardship and groups
  (health for 重残/大病, mood for 独居老人) and stay much the same from month to month;
  the findings say what the checks found. About 8% of the visits require a follow-up by a
  date; the person's next successful visit completes it (as `visits.services` does), so
  the open ones are the recent ones, some of them overdue.
- The month in progress: only visits up to today; the demo advisor login of each street's
  first committee (`advisor_<code>`) keeps a third of their due people (at least three) still
  to visit this month and missed one to three last month, so their desk has work to show.

Deterministic: every choice comes from a `random.Random` seeded with a committee or street
code, and dates are counted back from `today`. Idempotent: a street gets visits only while
it has none (a street seeded before visits existed gets them on the next run). Written in
bulk (`demo_cases.BATCH`), so `Visit.save()` is skipped: the numbers (ZF + street code + 7
digits, continuing after the highest in use) are made here, in date order, and the
follow-ups are completed by inserting the completing visit first.
"""

import datetime
import random
import zlib
from collections import defaultdict
from contextlib import contextmanager

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from advisors.models import Advisor
from cases.choices import HardshipLevel
from cases.models import CurrentPeriod, Recipient, RecipientKeyGroup
from changning_aid.demo_cases import BATCH, Counter, first_free, load_staff, pick
from stations.models import Committee, Street
from visits import summaries
from visits.choices import CheckLevel, VisitMethod, VisitResult
from visits.models import VISIT_NUMBER_PREFIX, Visit, policy_for

MONTHS = 12

# Per person and month: a committee's chance of a miss (95-100% covered), the extra chance
# when the responsible advisor is no longer active (waiting to be handed over) and when the
# street station stands in for a point without advisors.
COMMITTEE_MISS = (0.0, 0.03)
WAITING_MISS = 0.35
STREET_STATION_MISS = 0.06
# Poorly covered committees: one in the streets at these places (0-based, code order), for
# its last 4-9 months, missing this share of its due people each month.
POOR_STREET_EVERY, POOR_STREET_AT = 3, 1
POOR_MONTHS = (4, 9)
POOR_MISS = (0.23, 0.34)
# People current for part of a month only (not due) get a visit this often.
NOT_DUE_VISIT = 0.5
FAILED_SHARE = 0.03
RETRY_SHARE = 0.7
FAILED_ONLY_WHEN_MISSED = 0.12
SECOND_VISIT_SHARE = 0.1
NO_TIME_SHARE = 0.06
# One advisor in twenty of those in charge of people (at least one a street, never the demo
# login's) logs visits several days late.
LATE_LOGGER_SHARE = 0.05
LATE_DAYS = (4, 12)

METHOD_HABITS = {
    # Old people, those living alone or severely disabled: at home.
    "home": (
        (VisitMethod.HOME, 82),
        (VisitMethod.PHONE, 13),
        (VisitMethod.STATION, 2),
        (VisitMethod.VIDEO, 3),
    ),
    "usual": (
        (VisitMethod.HOME, 68),
        (VisitMethod.PHONE, 20),
        (VisitMethod.STATION, 8),
        (VisitMethod.VIDEO, 4),
    ),
    # Working age, often out at work: more calls and video.
    "busy": (
        (VisitMethod.HOME, 52),
        (VisitMethod.PHONE, 28),
        (VisitMethod.STATION, 11),
        (VisitMethod.VIDEO, 9),
    ),
}

CHECKS = ("living", "health", "housing", "mood")

OPENINGS = {
    VisitMethod.HOME: (
        "上门走访，本人在家，精神状态较好。",
        "入户看望，家中收拾得比较整洁。",
        "上门了解近况，本人生活能自理。",
        "上门走访，与本人和家属交谈约半小时。",
        "入户走访，告知本月救助金已按时发放。",
        "上门看望，本人正在做饭，交谈中了解近况。",
        "上门走访，查看居住环境，了解日常开支情况。",
    ),
    VisitMethod.PHONE: (
        "电话联系本人，询问近况。",
        "电话回访，本人表示近期一切照旧。",
        "电话联系家属，了解本人近期情况。",
        "电话联系，提醒按时复诊取药。",
    ),
    VisitMethod.STATION: (
        "本人来站咨询政策，顺便了解近况。",
        "本人来服务点领取慰问物资，交谈中了解近况。",
        "来站办理材料，当面了解家庭情况。",
    ),
    VisitMethod.VIDEO: (
        "视频联系本人，气色尚可。",
        "视频通话，本人在家，查看了屋内情况。",
        "与本人视频联系，了解近期生活。",
    ),
}
RETRY_OPENING = "前次上门未遇，今日再次上门。"
CALM_NOTES = (
    "近期生活平稳，暂无新的困难。",
    "按时服药，身体情况稳定。",
    "子女每周来看望，照顾较好。",
    "表示对目前的救助和服务满意。",
    "邻里关系融洽，社区活动偶尔参加。",
    "暂无新的需求，已告知有事随时联系。",
)
CHECK_NOTES = {
    ("living", CheckLevel.ATTENTION): (
        "收入仍较紧张，日常开支需精打细算。",
        "家中冰箱损坏，暂未修理。",
        "近期医药开支较多，生活费偏紧。",
    ),
    ("living", CheckLevel.RISK): (
        "家中存粮不多，生活较困难，需尽快帮扶。",
        "拖欠水电燃气费用，生活难以为继。",
    ),
    ("health", CheckLevel.ATTENTION): (
        "血压偏高，已提醒按时服药。",
        "腿脚不便，近期外出较少。",
        "慢性病需长期服药，定期复查。",
    ),
    ("health", CheckLevel.RISK): (
        "近期病情加重，行动困难，需安排就医。",
        "本人跌倒过一次，身边缺人照看。",
    ),
    ("housing", CheckLevel.ATTENTION): (
        "卫生间地面湿滑，建议加装扶手。",
        "楼道堆物较多，已提醒清理。",
        "房屋墙面渗水，居住较潮湿。",
    ),
    ("housing", CheckLevel.RISK): (
        "家中电线老化，存在安全隐患。",
        "燃气灶使用不规范，已现场提醒。",
    ),
    ("mood", CheckLevel.ATTENTION): (
        "独居较孤单，希望多来聊聊。",
        "近来情绪有些低落，话不多。",
        "为家中琐事烦心，睡眠不好。",
    ),
    ("mood", CheckLevel.RISK): (
        "情绪明显低落，流露消极想法，需要心理疏导。",
        "与家人矛盾激烈，情绪不稳定。",
    ),
}
FAILED_FINDINGS = {
    VisitResult.NOBODY_HOME: (
        "上门无人应答，电话未接通，改日再访。",
        "敲门无人在家，邻居称外出就医。",
        "上门未遇，已在门上留联系卡。",
        "上门无人，电话联系称在外地子女家。",
    ),
    VisitResult.REFUSED: (
        "本人不愿开门，表示不需要打扰。",
        "家属称本人在休息，谢绝走访。",
        "本人情绪较大，拒绝交谈，改日再访。",
    ),
}
FOLLOW_UP_NOTES = {
    "living": ("协助申请临时救助", "联系爱心企业送生活物资", "帮助报名社区助餐"),
    "health": ("协助预约门诊复查", "了解医疗救助报销进度", "联系家庭医生上门"),
    "housing": ("联系物业排查电线安全", "申请适老化改造加装扶手", "督促清理楼道堆物"),
    "mood": ("联系社工开展心理疏导", "安排志愿者定期上门陪伴"),
    "": ("回访了解救助申请办理结果", "送达政策告知单并讲解", "核实家庭收入变化情况"),
}


@contextmanager
def stamped_as_given(model, name):
    """Within the block, the `auto_now` field `name` of `model` keeps the value it is given:
    a bulk insert of the demo's past rows writes their own times instead of now."""
    field = model._meta.get_field(name)
    field.auto_now = False
    try:
        yield
    finally:
        field.auto_now = True


def month_starts(today, count=MONTHS):
    """The first days of the last `count` calendar months, the month in progress last."""
    first = today.replace(day=1)
    months = [first]
    for _number in range(count - 1):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        months.append(first)
    return months[::-1]


def month_end(first):
    return (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def late_loggers(people, advisor_numbers, login_advisor):
    """The advisors of a street who log late: a share of those in charge of its people."""
    in_charge = {person.advisor_id for person in people} - {None, login_advisor}
    ranked = sorted(
        (advisor for advisor in in_charge if advisor in advisor_numbers),
        key=lambda advisor: zlib.crc32(f"demo-late:{advisor_numbers[advisor]}".encode()),
    )
    return set(ranked[: max(1, round(LATE_LOGGER_SHARE * len(ranked)))])


def active_on(advisor, day):
    """Whether a `load_staff` advisor tuple is active on `day` (DOMAIN.md "Active")."""
    return not advisor[3] and advisor[1] <= day and (advisor[2] is None or advisor[2] > day)


class Person:
    """A person current in at least one of the months, and their visits as they are drawn."""

    __slots__ = ("pk", "committee_id", "advisor_id", "age", "hardship", "groups", "periods")
    __slots__ += ("habit", "checks", "visits")

    def __init__(self, pk, committee_id, advisor_id, birth_date, hardship, today):
        self.pk = pk
        self.committee_id = committee_id
        self.advisor_id = advisor_id
        self.age = (today - birth_date).days // 365 if birth_date else 60
        self.hardship = hardship
        self.groups = set()
        self.periods = []
        self.visits = []

    def spans(self, first, last):
        """The person's current days within first..last, as (start, end) pairs."""
        spans = []
        for starts_on, ends_on in self.periods:
            start = max(starts_on, first)
            end = last if ends_on is None else min(ends_on, last)
            if start <= end:
                spans.append((start, end))
        return spans

    def settle(self, rng):
        """The person's habits and usual state, drawn once."""
        if self.age >= 75 or "独居老人" in self.groups or "重残" in self.groups:
            self.habit = "home"
        elif 18 <= self.age < 60:
            self.habit = "busy"
        else:
            self.habit = "usual"
        attention, risk = {
            HardshipLevel.LOW: (0.025, 0.002),
            HardshipLevel.HIGH: (0.14, 0.03),
        }.get(self.hardship, (0.055, 0.008))
        self.checks = {}
        for check in CHECKS:
            more_attention = more_risk = 0.0
            if check == "health" and ({"重残", "大病"} & self.groups or self.age >= 80):
                more_attention, more_risk = 0.15, 0.03
            elif check == "mood" and "独居老人" in self.groups:
                more_attention, more_risk = 0.1, 0.015
            elif check == "housing" and self.age >= 70:
                more_attention = 0.04
            roll = rng.random()
            if roll < risk + more_risk:
                self.checks[check] = CheckLevel.RISK
            elif roll < risk + more_risk + attention + more_attention:
                self.checks[check] = CheckLevel.ATTENTION
            else:
                self.checks[check] = CheckLevel.NORMAL


class StreetVisits:
    """One street's visits, drawn committee by committee and written in bulk."""

    def __init__(self, street, staff, policy, today, now, manager_id):
        self.street = street
        self.street_station, self.points = staff
        self.policy = policy
        self.today = today
        self.now = now
        self.months = month_starts(today)
        self.late_loggers = set()
        self.manager_id = manager_id
        self.workdays = {}

    # Days ------------------------------------------------------------------------------------

    def working_days(self, spans):
        """The working days within `spans` (any day of them if none is a working day)."""
        key = tuple(spans)
        if key not in self.workdays:
            days = []
            for start, end in spans:
                day = start
                while day <= end:
                    days.append(day)
                    day += datetime.timedelta(days=1)
            working = [day for day in days if day.weekday() < 5]
            self.workdays[key] = working or days
        return self.workdays[key]

    # Who visits ------------------------------------------------------------------------------

    def visitor(self, rng, person, day):
        """The advisor tuple who visits `person` on `day`: the responsible advisor if active,
        another of the point's, else the street station's; None when nobody is on duty."""
        point = self.points.get(person.committee_id)
        if point is not None:
            advisor = point.on_duty(rng, day, prefer=person.advisor_id)
            if advisor is not None:
                return advisor
        if self.street_station is not None:
            return self.street_station.on_duty(rng, day)
        return None

    def responsible_inactive(self, person, day):
        point = self.points.get(person.committee_id)
        if person.advisor_id is None or point is None:
            return False
        for advisor in point.advisors:
            if advisor[0] == person.advisor_id:
                return not active_on(advisor, day)
        return False

    def point_has_nobody(self, person, day):
        point = self.points.get(person.committee_id)
        return point is None or not any(active_on(advisor, day) for advisor in point.advisors)

    # One visit ---------------------------------------------------------------------------------

    def recording(self, rng, advisor, day, time):
        """When the visit was entered and by whom: (recorded_at, recorded_by id)."""
        moment = datetime.datetime.combine(day, time or datetime.time(16, 0))
        if advisor[0] in self.late_loggers and rng.random() < 0.75:
            later = day + datetime.timedelta(days=rng.randint(*LATE_DAYS))
            moment = datetime.datetime.combine(
                later, datetime.time(rng.randint(17, 21), rng.randrange(60))
            )
        elif rng.random() < 0.2:
            later = day + datetime.timedelta(days=1)
            while later.weekday() >= 5:
                later += datetime.timedelta(days=1)
            moment = datetime.datetime.combine(
                later, datetime.time(rng.randint(8, 9), rng.randrange(60))
            )
        else:
            moment += datetime.timedelta(minutes=rng.randint(20, 240))
        recorded_at = timezone.make_aware(moment)
        recorded_by = advisor[4]
        if recorded_by is None or day < self.policy.earliest_entry(moment.date()):
            # Entered by the street manager: an advisor without a login, or too late for
            # the advisor's own entry window.
            recorded_by = self.manager_id
        return recorded_at, recorded_by

    def visit_time(self, rng, method):
        if rng.random() < NO_TIME_SHARE:
            return None
        if method == VisitMethod.HOME:
            hour = rng.choice((9, 9, 10, 10, 11, 14, 14, 15, 15, 16))
        else:
            hour = rng.randint(9, 16)
        return datetime.time(hour, rng.randrange(0, 60, 5))

    def quick_checks(self, rng, person, method):
        """The person's usual state, a little better or worse this time."""
        checks = {}
        for check in CHECKS:
            level = person.checks[check]
            roll = rng.random()
            if level == CheckLevel.NORMAL:
                if roll < 0.02:
                    level = CheckLevel.ATTENTION
            elif roll < 0.1:
                level = CheckLevel.NORMAL if level == CheckLevel.ATTENTION else CheckLevel.ATTENTION
            checks[check] = level
        if method in (VisitMethod.PHONE, VisitMethod.STATION):
            checks["housing"] = ""  # not seen on the phone nor at the station
        return checks

    def visit(self, rng, person, advisor, day, *, method=None, failed=None, retry=False):
        """A drawn visit, or None when it is not recorded yet (its recording is to come)."""
        if day > self.today:
            return None
        if failed:
            method = VisitMethod.HOME
        elif method is None:
            method = pick(rng, METHOD_HABITS[person.habit])
        time = self.visit_time(rng, method)
        recorded_at, recorded_by = self.recording(rng, advisor, day, time)
        if recorded_at > self.now:
            return None
        visit = Visit(
            recipient_id=person.pk,
            advisor_id=advisor[0],
            visited_on=day,
            visited_at=time,
            method=method,
            recorded_by_id=recorded_by,
            recorded_at=recorded_at,
        )
        if failed:
            visit.result = failed
            texts = FAILED_FINDINGS[failed]
            visit.findings = texts[rng.randrange(len(texts))]
        else:
            checks = self.quick_checks(rng, person, method)
            for check, level in checks.items():
                setattr(visit, check, level)
            visit.findings = self.findings(rng, method, checks, retry)
            self.maybe_follow_up(rng, visit, checks)
        person.visits.append(visit)
        return visit

    def findings(self, rng, method, checks, retry):
        openings = OPENINGS[method]
        text = RETRY_OPENING if retry else openings[rng.randrange(len(openings))]
        notes = [
            CHECK_NOTES[(check, level)]
            for check, level in checks.items()
            if level in (CheckLevel.ATTENTION, CheckLevel.RISK)
        ]
        for choices in notes[:2]:
            text += choices[rng.randrange(len(choices))]
        if not notes and rng.random() < 0.7:
            text += CALM_NOTES[rng.randrange(len(CALM_NOTES))]
        return text

    def maybe_follow_up(self, rng, visit, checks):
        risky = [check for check, level in checks.items() if level == CheckLevel.RISK]
        attention = [check for check, level in checks.items() if level == CheckLevel.ATTENTION]
        chance = 0.045 + (0.3 if risky else 0.07 if attention else 0.0)
        if rng.random() >= chance:
            return
        about = (risky or attention or [""])[0]
        notes = FOLLOW_UP_NOTES[about]
        visit.follow_up_required = True
        visit.follow_up_by = visit.visited_on + datetime.timedelta(
            days=rng.choice((3, 7, 7, 10, 14, 14, 21))
        )
        visit.follow_up_note = notes[rng.randrange(len(notes))]

    # A person's month ----------------------------------------------------------------------------

    def person_month(self, rng, person, spans, *, due, miss_chance, forced_miss, pending):
        """The visits of one person in one month."""
        days = self.working_days(spans)
        if not due and rng.random() >= NOT_DUE_VISIT:
            return
        day = days[rng.randrange(len(days))]
        if pending:
            return
        missed = forced_miss or (due and rng.random() < miss_chance)
        advisor = self.visitor(rng, person, day)
        if advisor is None:
            return
        if missed:
            if rng.random() < FAILED_ONLY_WHEN_MISSED:
                failed = VisitResult.NOBODY_HOME if rng.random() < 0.7 else VisitResult.REFUSED
                self.visit(rng, person, advisor, day, failed=failed)
            return
        if rng.random() < FAILED_SHARE:
            failed = VisitResult.NOBODY_HOME if rng.random() < 0.7 else VisitResult.REFUSED
            self.visit(rng, person, advisor, day, failed=failed)
            if rng.random() >= RETRY_SHARE:
                return
            later = [other for other in days if 1 <= (other - day).days <= 8]
            if not later:
                return
            day = later[rng.randrange(len(later))]
            advisor = self.visitor(rng, person, day)
            if advisor is None:
                return
            self.visit(rng, person, advisor, day, method=VisitMethod.HOME, retry=True)
        else:
            self.visit(rng, person, advisor, day)
        if rng.random() < SECOND_VISIT_SHARE:
            later = [other for other in days if (other - day).days >= 4]
            if later:
                day = later[rng.randrange(len(later))]
                advisor = self.visitor(rng, person, day)
                if advisor is not None:
                    method = VisitMethod.PHONE if rng.random() < 0.6 else None
                    self.visit(rng, person, advisor, day, method=method)

    # A committee -------------------------------------------------------------------------------

    def committee_visits(self, committee, people, *, poor, login_advisor):
        rng = random.Random(f"demo-visits:{committee.code}")
        for person in people:
            person.settle(rng)
        miss_chance = rng.uniform(*COMMITTEE_MISS)
        poor_months = rng.randint(*POOR_MONTHS) if poor else 0
        count = len(self.months)
        for index, first in enumerate(self.months):
            last = month_end(first)
            rows = []
            for person in people:
                spans = person.spans(first, last)
                if spans:
                    days = sum((end - start).days + 1 for start, end in spans)
                    rows.append((person, spans, days >= self.policy.due_days))
            due = [row[0].pk for row in rows if row[2]]
            forced, pending = set(), set()
            if index >= count - poor_months and due:
                share = rng.uniform(*POOR_MISS)
                forced.update(rng.sample(due, max(1, round(share * len(due)))))
            if login_advisor is not None:
                theirs = sorted(
                    row[0].pk for row in rows if row[2] and row[0].advisor_id == login_advisor
                )
                if index == count - 2 and theirs:
                    missed = 1 if len(theirs) < 12 else min(3, len(theirs) // 12)
                    forced.update(theirs[::-1][:missed])
                if index == count - 1:
                    pending.update(theirs[: max(3, len(theirs) // 3)])
            for person, spans, is_due in rows:
                middle = first + datetime.timedelta(days=14)
                chance = miss_chance
                if index == count - 2 and person.advisor_id == login_advisor:
                    chance = 0.0  # the demo login's misses of last month are those above
                elif self.responsible_inactive(person, middle):
                    chance += WAITING_MISS
                elif self.point_has_nobody(person, middle):
                    chance += STREET_STATION_MISS
                self.person_month(
                    rng,
                    person,
                    spans,
                    due=is_due,
                    miss_chance=chance,
                    forced_miss=person.pk in forced,
                    pending=person.pk in pending,
                )

    # Writing -------------------------------------------------------------------------------------

    def complete_follow_ups(self, people):
        """Each follow-up is completed by the person's next successful visit (on a later day),
        as `visits.services.record_visit` does; returns the visits in insertion layers: a
        completing visit is written before those it completes."""
        layers = defaultdict(list)
        for person in people:
            visits = sorted(
                person.visits, key=lambda v: (v.visited_on, v.visited_at or datetime.time())
            )
            completer = {}
            for position, visit in enumerate(visits):
                if not visit.follow_up_required:
                    continue
                for later in visits[position + 1 :]:
                    if (
                        later.visited_on > visit.visited_on
                        and later.result == VisitResult.COMPLETED
                    ):
                        completer[id(visit)] = later
                        later.findings += f"上次跟进事项（{visit.follow_up_note}）已落实。"
                        break
            level = {}
            for visit in reversed(visits):
                after = completer.get(id(visit))
                visit._demo_completer = after
                level[id(visit)] = 0 if after is None else level[id(after)] + 1
                layers[level[id(visit)]].append(visit)
        return [layers[number] for number in sorted(layers)]

    def write(self, people, counts):
        layers = self.complete_follow_ups(people)
        visits = [visit for layer in layers for visit in layer]
        if not visits:
            return
        visits.sort(
            key=lambda v: (
                v.visited_on,
                v.visited_at or datetime.time(),
                v.recorded_at,
                v.recipient_id,
            )
        )
        prefix = f"{VISIT_NUMBER_PREFIX}{self.street.code}"
        sequence = first_free(Visit, "visit_number", prefix, 7)
        for visit in visits:
            visit.visit_number = f"{prefix}{sequence:07d}"
            sequence += 1
        # A visit was last changed when it was entered, or when a later visit completed its
        # follow-up; written as it is, not stamped with now (no UPDATE after the insert).
        with stamped_as_given(Visit, "updated_at"):
            for layer in layers:
                for visit in layer:
                    completer = visit._demo_completer
                    visit.updated_at = visit.recorded_at
                    if completer is not None:
                        visit.followed_up_by_id = completer.pk
                        visit.updated_at = max(visit.recorded_at, completer.recorded_at)
                Visit.objects.bulk_create(layer, batch_size=BATCH)
        counts.add("visits", len(visits))
        counts.add("failed", sum(v.result != VisitResult.COMPLETED for v in visits))
        counts.add("follow_ups", sum(v.follow_up_required for v in visits))
        counts.add(
            "follow_ups_open",
            sum(v.follow_up_required and v.followed_up_by_id is None for v in visits),
        )
        counts.add(
            "late", sum((v.recorded_at.date() - v.visited_on).days >= LATE_DAYS[0] for v in visits)
        )


def load_people(streets, first, today):
    """The people of `streets` current on some day of first..today, by committee."""
    periods = CurrentPeriod.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=first), starts_on__lte=today
    )
    rows = (
        Recipient.objects.filter(street__in=streets)
        .filter(Exists(periods.filter(recipient=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "committee_id", "advisor_id", "birth_date", "hardship_level")
    )
    people = {
        pk: Person(pk, committee_id, advisor_id, birth_date, hardship, today)
        for pk, committee_id, advisor_id, birth_date, hardship in rows
    }
    for recipient_id, starts_on, ends_on in (
        periods.filter(recipient__street__in=streets)
        .order_by("recipient", "starts_on")
        .values_list("recipient_id", "starts_on", "ends_on")
    ):
        if recipient_id in people:
            people[recipient_id].periods.append((starts_on, ends_on))
    for recipient_id, name in RecipientKeyGroup.objects.filter(
        recipient__street__in=streets
    ).values_list("recipient_id", "key_group__name"):
        if recipient_id in people:
            people[recipient_id].groups.add(name)
    by_committee = defaultdict(list)
    for person in people.values():
        by_committee[person.committee_id].append(person)
    return by_committee


def poor_committee(committees, people_of, today):
    """The street's poorly covered committee: not its first (the demo login's), the first
    by a code hash with at least three current people, else the one with the most."""
    candidates = sorted(
        committees[1:], key=lambda c: zlib.crc32(f"demo-poor-visits:{c.code}".encode())
    )
    current = {
        committee.pk: sum(
            1 for person in people_of.get(committee.pk, ()) if person.spans(today, today)
        )
        for committee in candidates
    }
    for committee in candidates:
        if current[committee.pk] >= 3:
            return committee
    return max(candidates, key=lambda c: current[c.pk], default=None)


def seed_visits(*, street_codes, positions, today, now=None):
    """Twelve months of visits for the streets of `street_codes` that have none; the counts."""
    counts = Counter()
    now = now or timezone.now()
    streets = [
        street
        for street in Street.objects.filter(code__in=street_codes).order_by("code")
        if not Visit.objects.filter(recipient__street=street).exists()
    ]
    if not streets:
        return counts
    months = month_starts(today)
    people_of = load_people(streets, months[0], today)
    street_station, points = load_staff(streets, today)
    advisor_numbers = dict(
        Advisor.objects.filter(street__in=streets).values_list("pk", "advisor_number")
    )
    managers = dict(
        User.objects.filter(role=Role.STREET_MANAGER, street__in=streets).values_list(
            "street", "pk"
        )
    )
    committees_of = defaultdict(list)
    for committee in Committee.objects.filter(street__in=streets).order_by("code"):
        committees_of[committee.street_id].append(committee)
    policies = {}
    for street in streets:
        if street.district_id not in policies:
            policies[street.district_id] = policy_for(street.district_id)
        position = positions.streets.get(street.pk, 0)
        work = StreetVisits(
            street,
            (street_station.get(street.pk), points),
            policies[street.district_id],
            today,
            now,
            managers.get(street.pk),
        )
        committees = committees_of[street.pk]
        street_people = [
            person for committee in committees for person in people_of.get(committee.pk, ())
        ]
        # The advisor behind the demo login of the street's first committee, `advisor_<code>`.
        first_point = points.get(committees[0].pk) if committees else None
        login_advisor = None
        if first_point is not None:
            login_advisor = next(
                (advisor[0] for advisor in first_point.advisors if advisor[4] is not None), None
            )
        work.late_loggers = late_loggers(street_people, advisor_numbers, login_advisor)
        poor = None
        if position % POOR_STREET_EVERY == POOR_STREET_AT:
            poor = poor_committee(committees, people_of, today)
        for number, committee in enumerate(committees):
            work.committee_visits(
                committee,
                people_of.get(committee.pk, []),
                poor=committee == poor,
                login_advisor=login_advisor if number == 0 else None,
            )
        work.write(street_people, counts)
        if poor is not None:
            counts.setdefault("poor_committees", []).append(poor.name)
    # Written in bulk (no hooks): the month summaries (C9) of the streets' people.
    summaries.refresh_people(Recipient.objects.filter(street__in=streets))
    return counts
