"""`manage.py seed_demo`: the Changning demo network and its logins, for development and tests.

Loads 长宁区's 10 streets/towns and 189 committees from the division file shipped with the
project (through `import_divisions`, the same door as any other division file), brings most
stations into service with plausible addresses, phones and hours, and creates one login per
role. It then staffs the network: about 330 advisors (2-4 at each street station, 1-2 at
most committee points), their filing, this year's and last year's professional trainings
with attendance, and a few volunteers per street. Later issues add their demo data here:
the people in hardship and the four checklists (`demo_cases`), twelve months of monthly
visits with their gaps (`demo_visits`), other departments' lists matched with the register
and the leads they gave (政策找人, `demo_leads`).

The people are made so that every staffing rule has rows that pass and rows to show: a few
running committee points have no advisor (C6), one street station keeps a single advisor on
duty after the other left (C5), a few advisors wait to be filed (C7), two streets held no
professional training this year (C8), a few advisors lack a uniform or a badge (C11); one
advisor left, one other's filing was revoked. The first committee point of every street is
always staffed: its login, `advisor_<committee code>`, is the one the README and the tests
use. Each committee point with advisors has an advisor login linked to its first advisor
(`Advisor.user`); a point without advisors has none.

The demo is deterministic: every choice follows from the division codes, never from chance
(dates are counted back from today where they must be in the past or in this year). It is
idempotent and leaves what people changed alone: a station gets its demo details only
while it is as the division import left it (no address yet), a login is only created,
never reset, and a street gets its demo advisors, trainings and volunteers only while it
has none of each. A second run therefore creates and changes nothing, and says so.
"""

import csv
import datetime
import hashlib
import tempfile
import zlib
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from advisors.choices import (
    Background,
    FilingAction,
    FilingStatus,
    Gender,
    OrganiserLevel,
    Skill,
    SocialWorkLevel,
    TrainingKind,
)
from advisors.models import (
    ADVISOR_NUMBER_PREFIX,
    Advisor,
    AdvisorStation,
    FilingEvent,
    Training,
    TrainingAttendance,
    Volunteer,
    active_q,
)
from audit.loading import triggers_held_off
from changning_aid import demo_cases, demo_leads, demo_visits, pinyin
from stations.choices import StationKind, StationStatus
from stations.models import Committee, District, Station, Street
from stations.naming import committee_short_name
from visits import summaries

DIVISIONS_FILE = Path(settings.BASE_DIR) / "stations" / "data" / "changning_divisions.csv"

# `--small` keeps this many streets/towns, the first ones by code.
SMALL_STREET_COUNT = 2

# Every 23rd committee point in code order is not (yet) in service, so that coverage (C2)
# has offending rows to show; never the first committee of a street, whose point and
# advisor the later demo data and tests lean on.
INACTIVE_POINT_EVERY = 23

# Street stations (by position in code order) whose facilities fall short of C4.
SMALL_WORKSPACE_STREET = 3
NO_INTERNET_STREET = 8

# Committee points (by position in code order) whose plaque is not the standard one (C3).
NONSTANDARD_SIGNBOARD_EVERY = 47
NO_LOGO_EVERY = 61

# Roads of 长宁区, for demo addresses.
ROADS = (
    "长宁路",
    "愚园路",
    "江苏路",
    "延安西路",
    "新华路",
    "番禺路",
    "定西路",
    "天山路",
    "仙霞路",
    "虹桥路",
    "古北路",
    "哈密路",
    "剑河路",
    "金钟路",
    "协和路",
    "茅台路",
    "娄山关路",
    "威宁路",
    "水城路",
    "中山西路",
    "安顺路",
    "昭化路",
    "安化路",
    "宣化路",
    "万航渡路",
    "凯旋路",
    "武夷路",
    "法华镇路",
    "淮阴路",
    "平塘路",
    "福泉路",
    "广顺路",
    "紫云路",
    "遵义路",
    "芙蓉江路",
    "北渔路",
    "天山西路",
    "泉口路",
)

OFFICE_HOURS = "周一至周五 8:30-17:00"
STREET_STATION_HOURS = "周一至周五 8:30-17:00，周六 9:00-12:00"

# The fields a station's demo details fill in.
DETAIL_FIELDS = (
    "status",
    "address",
    "phone",
    "opening_hours",
    "signboard_name",
    "has_unified_logo",
    "workspace_m2",
    "desk_sets",
    "computers",
    "has_internet",
    "has_consultation_zone",
    "has_service_zone",
)


def demo_number(code, purpose, modulo):
    """A number in [0, modulo) that depends only on a division code and what it is for."""
    return zlib.crc32(f"{purpose}:{code}".encode()) % modulo


def demo_phone(code):
    """A Shanghai landline: 021 and eight digits starting with 6."""
    return f"021-6{demo_number(code, 'phone', 10_000_000):07d}"


def guidance_details(station):
    district = station.district
    road = ROADS[demo_number(district.code, "road", len(ROADS))]
    number = demo_number(district.code, "number", 900) + 100
    return {
        "status": StationStatus.RUNNING,
        "address": f"{district.name}{road}{number}号 {district.name}民政局",
        "phone": demo_phone(district.code),
        "opening_hours": OFFICE_HOURS,
        "signboard_name": station.name,
        "has_unified_logo": True,
    }


def street_station_details(station, position):
    """A 街镇服务站 in its 社区事务受理服务中心; `position` is the street's place in code order."""
    street = station.street
    road = ROADS[demo_number(street.code, "road", len(ROADS))]
    number = demo_number(street.code, "number", 1200) + 1
    return {
        "status": StationStatus.RUNNING,
        "address": f"{station.district.name}{road}{number}号 {street.name}社区事务受理服务中心",
        "phone": demo_phone(street.code),
        "opening_hours": STREET_STATION_HOURS,
        "signboard_name": station.name,
        "has_unified_logo": True,
        "workspace_m2": 16 if position == SMALL_WORKSPACE_STREET else 30 + 5 * (position % 6),
        "desk_sets": 2 + position % 3,
        "computers": 1 + position % 3,
        "has_internet": position != NO_INTERNET_STREET,
        "has_consultation_zone": True,
        "has_service_zone": position % 4 != 2,
    }


def committee_point_is_active(position, first_of_street):
    """Whether the committee point at `position` (1-based, code order) is in service."""
    return first_of_street or position % INACTIVE_POINT_EVERY != 0


def committee_roads(code):
    """The road of a committee's office (and point), then two roads near it, where its
    people live."""
    at = demo_number(code, "road", len(ROADS))
    return tuple(ROADS[(at + step) % len(ROADS)] for step in (0, 1, -1))


def committee_point_details(station, position, first_of_street):
    """A 居委服务点 in its committee's office; `position` is 1-based, in code order."""
    committee = station.committee
    if committee_point_is_active(position, first_of_street):
        status = StationStatus.RUNNING
    elif (position // INACTIVE_POINT_EVERY) % 2:
        status = StationStatus.PLANNING
    else:
        status = StationStatus.SUSPENDED
    road = committee_roads(committee.code)[0]
    lane = demo_number(committee.code, "lane", 1500) + 1
    if position % NONSTANDARD_SIGNBOARD_EVERY == 0:
        signboard_name = f"{committee.name}救助顾问服务点"
    else:
        signboard_name = station.name
    number = demo_number(committee.code, "number", 60) + 1
    return {
        "status": status,
        "address": f"{station.district.name}{road}{lane}弄{number}号 {committee.name}",
        "phone": demo_phone(committee.code),
        "opening_hours": OFFICE_HOURS,
        "signboard_name": signboard_name,
        "has_unified_logo": position % NO_LOGO_EVERY != 0,
    }


class DivisionPositions(NamedTuple):
    """Where each street and committee stands in code order, which the demo's choices follow.

    `streets`: street id → 0-based place in its district; `committees`: committee id →
    1-based place in its district; `first_committees`: the first committee of each street.
    """

    streets: dict
    committees: dict
    first_committees: set


def division_positions(district_codes):
    streets_at, committees_at, first_committees = {}, {}, set()
    for district_code in district_codes:
        streets = Street.objects.filter(district__code=district_code).order_by("code")
        for position, street_id in enumerate(streets.values_list("pk", flat=True)):
            streets_at[street_id] = position
        committees = Committee.objects.filter(street__district__code=district_code)
        seen_streets = set()
        for position, (committee_id, street_id) in enumerate(
            committees.order_by("code").values_list("pk", "street_id"), start=1
        ):
            committees_at[committee_id] = position
            if street_id not in seen_streets:
                seen_streets.add(street_id)
                first_committees.add(committee_id)
    return DivisionPositions(streets_at, committees_at, first_committees)


# ---- People: advisors, trainings, volunteers ------------------------------------------

# Every 31st committee point in code order runs without any advisor, so that C6 has rows to
# show, and has no advisor login; never the first committee point of a street.
UNSTAFFED_POINT_EVERY = 31

# The street (by position in code order) whose station keeps one advisor on duty after the
# other left (C5).
SHORT_STAFFED_STREET = 7

# Streets (by position) that held no professional training this year, only last year (C8).
NO_TRAINING_STREETS = (6, 8)

# Of the second advisors of committee points, in code order (1-based): the one who left and
# the one whose filing was revoked. Neither has a login.
LEAVING_SECOND_ADVISOR = 7
REVOKED_SECOND_ADVISOR = 19

# Of all advisors in code order (0-based): those waiting to be filed (C7; every other one
# submitted already), and those without a badge or a uniform (C11).
PENDING_EVERY, PENDING_AT = 23, 11
NO_BADGE_EVERY, NO_BADGE_AT = 17, 5
NO_UNIFORM_EVERY, NO_UNIFORM_AT = 29, 3
# Some 曾 and 单 among the surnames for sure: the surnames read differently elsewhere.
ZENG_EVERY, ZENG_AT = 41, 9
SHAN_EVERY, SHAN_AT = 41, 30

# Common surnames of Shanghai, the commonest first (they are drawn from the first part more).
SURNAMES = (
    "张王李陈徐朱周吴沈陆顾刘杨黄钱孙胡金赵郭"
    "何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁任姚卢姜崔钟谭"
    "汪范石廖贾夏方邹孟熊秦邱江尹薛严倪施龚邵万戴汤单"
)
COMMON_SURNAMES = 20
FEMALE_GIVEN = "秀英桂兰丽华美玲敏静燕艳娟婷雯佳颖洁琳霞萍芳莉雪蓉倩怡蕾晨欣悦雅琴慧红梅"
MALE_GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯俊峰建国志文亮晓东海春荣"

MOBILE_PREFIXES = tuple(
    str(prefix)
    for prefix in (130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155)
    + (156, 158, 159, 177, 180, 181, 186, 187, 188, 189)
)

LEAVE_REASON = "退休"
REVOKE_REASON = "本人申请不再担任社区救助顾问，注销备案"
SHORT_STAFFED_LEAVE_REASON = "调往区民政局社会救助科工作"

TRAINERS = (
    "区民政局社会救助科",
    "上海市社会工作者协会讲师",
    "华东政法大学社会工作系讲师",
    "区社会组织服务中心督导",
)
VOLUNTEER_SKILLS = (
    "退休教师，擅长政策宣讲",
    "法律咨询（执业律师）",
    "心理咨询师，心理疏导",
    "助老服务、陪同就医",
    "退休医生，健康咨询",
    "社区党员，入户走访",
    "大学生志愿者，信息录入",
    "家电维修，上门帮扶",
)


def person_number(key, purpose, modulo):
    """Like `demo_number`, mixed better: keys that differ in a digit or two (advisor numbers)
    must still spread evenly over name characters and surnames."""
    digest = hashlib.blake2b(f"{purpose}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % modulo


def demo_mobile(key):
    """A mobile number of the mainland: a common prefix and eight digits, from `key`."""
    prefix = MOBILE_PREFIXES[person_number(key, "mobile-prefix", len(MOBILE_PREFIXES))]
    return f"{prefix}{person_number(key, 'mobile', 100_000_000):08d}"


def demo_name(key, gender, taken, surname=None):
    """A Chinese name for `key`, not in `taken` (which it joins); `surname` when given."""
    given_characters = FEMALE_GIVEN if gender == Gender.FEMALE else MALE_GIVEN
    for attempt in range(100):
        salt = f"{key}/{attempt}"
        if surname is None:
            # Half of the draws from the commonest surnames, half from all of them.
            pool = SURNAMES[:COMMON_SURNAMES] if person_number(salt, "common", 2) else SURNAMES
            family = pool[person_number(salt, "surname", len(pool))]
        else:
            family = surname
        given = given_characters[person_number(salt, "given-1", len(given_characters))]
        if person_number(salt, "given-length", 5):
            given += given_characters[person_number(salt, "given-2", len(given_characters))]
        if family + given not in taken:
            taken.add(family + given)
            return family + given
    raise CommandError(f"无法为 {key} 生成不重复的姓名")


def days_after(day, key, purpose, low, high, *, not_after):
    """A day `low`..`high` days after `day`, chosen by `key`, and not after `not_after`."""
    offset = low + person_number(key, purpose, high - low + 1)
    return min(day + datetime.timedelta(days=offset), not_after)


def this_year_day(today, month, day):
    """A day of this year, never after today (a rule judged today counts it)."""
    return min(datetime.date(today.year, month, day), today)


def advisor_fields(key, index, *, background, today, taken_names):
    """The details of one demo advisor: `key` names them, `index` is their place in code order."""
    gender = Gender.FEMALE if person_number(key, "gender", 10) < 7 else Gender.MALE
    surname = None
    if index % ZENG_EVERY == ZENG_AT:
        surname = "曾"
    elif index % SHAN_EVERY == SHAN_AT:
        surname = "单"
    started_on = min(
        datetime.date(
            2019 + person_number(key, "start-year", 6),
            1 + person_number(key, "start-month", 12),
            1 + person_number(key, "start-day", 28),
        ),
        today - datetime.timedelta(days=90),
    )
    number = person_number(key, "qualification", 100)
    if background == Background.SOCIAL_WORKER:
        level = SocialWorkLevel.SOCIAL_WORKER if number < 50 else SocialWorkLevel.ASSISTANT
    elif number < 28:
        level = SocialWorkLevel.ASSISTANT
    elif number < 38:
        level = SocialWorkLevel.SOCIAL_WORKER
    elif number < 40:
        level = SocialWorkLevel.SENIOR
    else:
        level = SocialWorkLevel.NONE
    certificate_number = ""
    if level != SocialWorkLevel.NONE:
        year = 2012 + person_number(key, "certificate-year", 12)
        certificate_number = f"{year}310{person_number(key, 'certificate', 10_000_000):07d}"
    skills = [
        skill
        for position, skill in enumerate(Skill.values)
        if person_number(key, f"skill-{position}", 5) < 2 or position == index % len(Skill.values)
    ]
    uniform_on = days_after(started_on, key, "uniform", 7, 40, not_after=today)
    badge_on = days_after(started_on, key, "badge", 7, 40, not_after=today)
    return {
        "name": demo_name(key, gender, taken_names, surname),
        "gender": gender,
        "mobile": demo_mobile(key),
        "background": background,
        "social_work_level": level,
        "certificate_number": certificate_number,
        "skills": skills,
        "uniform_issued_on": None if index % NO_UNIFORM_EVERY == NO_UNIFORM_AT else uniform_on,
        "badge_issued_on": None if index % NO_BADGE_EVERY == NO_BADGE_AT else badge_on,
        "star_year": today.year - 1 if index % 43 == 7 else None,
        "backbone_year": today.year - 1 if index % 19 == 2 else None,
        "started_on": started_on,
    }


def point_background(key):
    """At a committee point: mostly 居委干部 or 专职社区工作者, a few social workers."""
    number = person_number(key, "background", 100)
    if number < 46:
        return Background.COMMITTEE_CADRE
    if number < 92:
        return Background.COMMUNITY_WORKER
    if number < 98:
        return Background.SOCIAL_WORKER
    return Background.OTHER


def point_is_staffed(position, first_of_street):
    """Whether the committee point at `position` has advisors (running, and not left empty)."""
    if not committee_point_is_active(position, first_of_street):
        return False
    return first_of_street or position % UNSTAFFED_POINT_EVERY != 0


def plan_advisors(streets, street_stations, points, positions, today):
    """Every demo advisor of `streets` (in code order), as what `seed_advisors` writes.

    `points` maps a street id to its committee points in code order; `positions` holds the
    streets' and committees' places (`division_positions`). Returns a list of dicts: the
    advisor's fields (`fields`), its station, the street, and the username of the login
    linked to it (the first advisor of each staffed committee point) or None. The plan
    depends on the streets given only through their order, so the first streets plan the
    same with `--small` as without.
    """
    plan = []
    taken_names = set()
    seconds = 0
    for street in streets:
        street_position = positions.streets[street.pk]
        # (station, background, is the point's second advisor, login username)
        seats = []
        count = 2 + person_number(street.code, "street-advisors", 3)
        if street_position == SHORT_STAFFED_STREET:
            count = 2
        for number in range(count):
            # Street stations are staffed by the street's social assistance staff; a fourth
            # is a social worker of an organisation the street buys services from.
            background = Background.SOCIAL_WORKER if number == 3 else Background.STREET_STAFF
            seats.append((street_stations[street.pk], background, False, None))
        for point in points.get(street.pk, []):
            position = positions.committees[point.committee_id]
            first = point.committee_id in positions.first_committees
            if not point_is_staffed(position, first):
                continue
            code = point.committee.code
            count = 2 if person_number(code, "point-advisors", 10) < 7 else 1
            for number in range(count):
                key = f"{code}-{number}"
                login = f"advisor_{code}" if number == 0 else None
                seats.append((point, point_background(key), number == 1, login))
        for sequence, (station, background, second, login) in enumerate(seats, start=1):
            index = len(plan)
            advisor_number = f"{ADVISOR_NUMBER_PREFIX}{street.code}{sequence:04d}"
            fields = advisor_fields(
                advisor_number, index, background=background, today=today, taken_names=taken_names
            )
            started_on = fields["started_on"]
            filed_on = days_after(started_on, advisor_number, "filed", 20, 80, not_after=today)
            if index % PENDING_EVERY == PENDING_AT:
                fields["filing_status"] = FilingStatus.PENDING
                submitted = index % 2 == 0
            else:
                fields["filing_status"] = FilingStatus.FILED
                fields["filed_on"] = filed_on
                fields["filing_number"] = f"CN-BA-{filed_on.year}-{street.code[-3:]}-{sequence:04d}"
                submitted = False
            if second:
                seconds += 1
            if second and seconds == LEAVING_SECOND_ADVISOR:
                fields["left_on"] = today - datetime.timedelta(days=45)
                fields["leave_reason"] = LEAVE_REASON
            if second and seconds == REVOKED_SECOND_ADVISOR:
                fields["filing_status"] = FilingStatus.REVOKED
            short_staffed = street_position == SHORT_STAFFED_STREET
            if short_staffed and station.kind == StationKind.STREET and sequence == 2:
                fields["left_on"] = today - datetime.timedelta(days=60)
                fields["leave_reason"] = SHORT_STAFFED_LEAVE_REASON
            plan.append(
                {
                    "street": street,
                    "advisor_number": advisor_number,
                    "fields": fields,
                    "station": station,
                    "login": login,
                    "submitted": submitted,
                }
            )
    return plan


def cases_summary(cases):
    """What `demo_cases.seed_cases` created, in a sentence."""
    return (
        f"困难人员 {cases.get('people', 0)} 人（其中现有救助对象 {cases.get('current', 0)} 人、"
        f"已退出 {cases.get('exited', 0)} 人；责任顾问记录 {cases.get('charges', 0)} 条），"
        f"需求 {cases.get('needs', 0)} 条"
        f"（对接资源 {cases.get('need_links', 0)} 次），资源 {cases.get('resources', 0)} 项，"
        f"服务记录 {cases.get('services', 0)} 条"
        f"（其中集体活动 {cases.get('group_services', 0)} 次），"
        f"服务评议 {cases.get('evaluations', 0)} 条，清单复核 {cases.get('reviews', 0)} 次。"
    )


def visits_summary(visits):
    """What `demo_visits.seed_visits` created, in a sentence."""
    poor = "、".join(visits.get("poor_committees", ()))
    return (
        f"近12个月走访记录 {visits['visits']} 条（其中未成功走访 {visits.get('failed', 0)} 次，"
        f"延后录入 {visits.get('late', 0)} 条；需要跟进 {visits.get('follow_ups', 0)} 条，"
        f"尚未跟进 {visits.get('follow_ups_open', 0)} 条）"
        + (f"，走访覆盖较差的居委：{poor}。" if poor else "。")
    )


def leads_summary(leads):
    """What `demo_leads.seed_leads` created, in a sentence."""
    path = ""
    if leads.get("lead_visits"):
        path = (
            f"；线索走访 {leads['lead_visits']} 次，纳入 {leads.get('leads_enrolled', 0)} 条，"
            f"办结（不符合、无法联系）{leads.get('leads_closed', 0)} 条"
        )
    return (
        f"政策找人：比对部门名单 {leads['lead_lists']} 份，得到线索 {leads.get('leads', 0)} 条，"
        f"在册人员情况变化 {leads.get('situation_changes', 0)} 条{path}。"
    )


class Command(BaseCommand):
    help = (
        "生成长宁区演示数据：导入长宁区区划（10个街镇、189个居委），启用大部分站点并填写演示资料，"
        "创建各角色的演示账号，配备社区救助顾问、专业培训和社区志愿者。"
        "可重复运行；只在 DEBUG 开启时可用。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--small",
            action="store_true",
            help=f"只导入前{SMALL_STREET_COUNT}个街镇（供测试使用）。",
        )

    def handle(self, *args, small, verbosity, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo 只能在开发环境中运行：请设置 DEBUG=on。生产数据库不应写入演示数据。"
            )
        rows = self.division_rows(small=small)
        with transaction.atomic():
            self.import_divisions(rows, verbosity=verbosity)
            district_codes = sorted({row["district_code"] for row in rows})
            street_codes = sorted({row["street_code"] for row in rows})
            committee_codes = sorted({row["committee_code"] for row in rows})
            positions = division_positions(district_codes)
            stations_filled = self.fill_stations(district_codes, positions)
            today = timezone.localdate()
            plan = self.plan_advisors(street_codes, positions, today)
            users_created, users_released = self.create_users(district_codes, street_codes, plan)
            advisors_created = self.seed_advisors(plan)
            trainings_created = self.seed_trainings(district_codes, street_codes, positions, today)
            volunteers_created = self.seed_volunteers(street_codes, positions, today)
            # Tens of thousands of made-up rows: no audit event each (audit.loading), and the
            # month summaries (C9) rebuilt once at the end rather than kept row by row.
            with triggers_held_off(), summaries.suspended():
                cases = demo_cases.seed_cases(
                    street_codes=street_codes,
                    positions=positions,
                    home_roads={code: committee_roads(code) for code in committee_codes},
                    today=today,
                    small=small,
                )
                visits = demo_visits.seed_visits(
                    street_codes=street_codes, positions=positions, today=today
                )
                leads = demo_leads.seed_leads(
                    street_codes=street_codes,
                    home_roads={code: committee_roads(code) for code in committee_codes},
                    today=today,
                    small=small,
                )
            summaries.rebuild()

        created = (
            stations_filled,
            users_created,
            users_released,
            advisors_created,
            trainings_created,
            volunteers_created,
            *cases.values(),
            *visits.values(),
            *leads.values(),
        )
        if any(created):
            released = (
                f"{users_released} 个演示账号不再要求首次登录修改密码。" if users_released else ""
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"演示数据已生成：填写了 {stations_filled} 个站点的演示资料，"
                    f"新建了 {users_created} 个账号、{advisors_created} 名社区救助顾问、"
                    f"{trainings_created} 次培训和 {volunteers_created} 名志愿者。{released}"
                )
            )
            if any(cases.values()):
                self.stdout.write(self.style.SUCCESS(cases_summary(cases)))
            if visits.get("visits"):
                self.stdout.write(self.style.SUCCESS(visits_summary(visits)))
            if leads.get("lead_lists"):
                self.stdout.write(self.style.SUCCESS(leads_summary(leads)))
        else:
            self.stdout.write(self.style.SUCCESS("演示数据已是最新，本次没有新建或修改任何记录。"))
        self.print_logins(street_codes, committee_codes)

    def division_rows(self, *, small):
        """The rows of the shipped division file; with `small`, the first streets' only."""
        with DIVISIONS_FILE.open(encoding="utf-8-sig", newline="") as file:
            rows = list(csv.DictReader(file))
        if small:
            kept = sorted({row["street_code"] for row in rows})[:SMALL_STREET_COUNT]
            rows = [row for row in rows if row["street_code"] in kept]
        return rows

    def import_divisions(self, rows, *, verbosity):
        """Hand the rows to `import_divisions` as a file of the same format."""
        report = StringIO()
        with tempfile.TemporaryDirectory(prefix="seed_demo_") as folder:
            path = Path(folder) / DIVISIONS_FILE.name
            with path.open("w", encoding="utf-8", newline="") as file:
                writer = csv.DictWriter(file, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            call_command("import_divisions", str(path), stdout=report, verbosity=verbosity)
        if verbosity:
            self.stdout.write(report.getvalue().rstrip("\n"))

    def fill_stations(self, district_codes, positions):
        """Demo details for the stations that are still as the division import left them."""
        stations = list(
            Station.objects.filter(
                district__code__in=district_codes,
                kind__in=[StationKind.GUIDANCE, StationKind.STREET, StationKind.COMMITTEE],
            )
            .select_related("district", "street", "committee")
            .order_by("district__code", "street__code", "committee__code")
        )
        changed = []
        for station in stations:
            if station.address:
                continue
            if station.kind == StationKind.GUIDANCE:
                details = guidance_details(station)
            elif station.kind == StationKind.STREET:
                details = street_station_details(station, positions.streets[station.street_id])
            else:
                details = committee_point_details(
                    station,
                    positions.committees[station.committee_id],
                    station.committee_id in positions.first_committees,
                )
            for field, value in details.items():
                setattr(station, field, value)
            changed.append(station)
        # bulk_update skips Station.save(); the standard names are already the import's.
        Station.objects.bulk_update(changed, DETAIL_FIELDS, batch_size=500)
        return len(changed)

    def create_users(self, district_codes, street_codes, plan):
        """One login per role; those that exist already are left as they are.

        An advisor login for each committee point with advisors in the `plan`, serving the
        point; a point without advisors gets none. Demo logins use the published demo
        password and are not asked to change it at their first login
        (`must_change_password`), as real new logins are. Returns the number of logins
        created and the number of older demo logins released from that request.
        """
        district = District.objects.get(code=district_codes[0])
        # One hash for every demo login: hashing is slow on purpose, the demo need not be.
        password = make_password(settings.DEMO_PASSWORD)
        wanted = [
            User(
                username="admin",
                full_name="系统管理员",
                role=Role.SYSTEM_ADMIN,
                is_superuser=True,
                is_staff=True,
            ),
            User(
                username="bureau",
                full_name=f"{district.name}民政局工作人员",
                role=Role.BUREAU,
                district=district,
            ),
            User(username="auditor", full_name="审计管理员", role=Role.AUDIT_ADMIN),
        ]
        for street in Street.objects.filter(code__in=street_codes).order_by("code"):
            wanted.append(
                User(
                    username=f"street_{street.code}",
                    full_name=f"{street.name}管理员",
                    role=Role.STREET_MANAGER,
                    street=street,
                    district_id=street.district_id,
                )
            )
        points = {seat["login"]: seat["station"] for seat in plan if seat["login"]}
        for username, point in points.items():
            wanted.append(
                User(
                    username=username,
                    full_name=f"{committee_short_name(point.committee.name)}顾问",
                    role=Role.ADVISOR,
                )
            )

        existing = set(
            User.objects.filter(username__in=[user.username for user in wanted]).values_list(
                "username", flat=True
            )
        )
        new_users = [user for user in wanted if user.username not in existing]
        for user in new_users:
            user.password = password
            user.must_change_password = False
        User.objects.bulk_create(new_users, batch_size=500)

        # An advisor serves their committee's point.
        new_advisors = [user.username for user in new_users if user.role == Role.ADVISOR]
        Through = User.stations.through
        Through.objects.bulk_create(
            [
                Through(user_id=user_id, station_id=points[username].pk)
                for username, user_id in User.objects.filter(username__in=new_advisors).values_list(
                    "username", "pk"
                )
            ],
            batch_size=500,
        )
        released = self.release_demo_logins(existing)
        return len(new_users), released

    def plan_advisors(self, street_codes, positions, today):
        """The demo advisors of the streets seeded (`plan_advisors` above), in code order."""
        streets = list(
            Street.objects.filter(code__in=street_codes).order_by("district__code", "code")
        )
        stations = Station.objects.filter(
            street__in=streets, kind__in=[StationKind.STREET, StationKind.COMMITTEE]
        ).select_related("committee")
        street_stations, points = {}, {}
        for station in stations.order_by("committee__code"):
            if station.kind == StationKind.STREET:
                street_stations[station.street_id] = station
            else:
                points.setdefault(station.street_id, []).append(station)
        return plan_advisors(streets, street_stations, points, positions, today)

    def seed_advisors(self, plan):
        """The planned advisors of each street that has none yet, with stations and logins.

        Written in bulk: `Advisor.save()` is skipped, so the advisor numbers (GW + street
        code + 4 digits, as `next_advisor_number` makes them) are the plan's, and the
        derived fields are set here. The first advisor of a committee point is linked to
        the point's advisor login, unless that login is linked to someone already.
        """
        streets = {seat["street"].pk for seat in plan}
        staffed = set(
            Advisor.objects.filter(street__in=streets).values_list("street", flat=True).distinct()
        )
        seats = [seat for seat in plan if seat["street"].pk not in staffed]
        if not seats:
            return 0
        usernames = [seat["login"] for seat in seats if seat["login"]]
        logins = dict(
            User.objects.filter(username__in=usernames, role=Role.ADVISOR).values_list(
                "username", "pk"
            )
        )
        linked = set(
            Advisor.objects.filter(user__in=logins.values()).values_list("user", flat=True)
        )
        # `save()` derives the pinyin initials the roster searches by; a bulk write sets them.
        derived = {}
        if any(field.name == "name_initials" for field in Advisor._meta.fields):
            derived = {"name_initials": pinyin.initials_text}
        advisors = []
        for seat in seats:
            user_id = logins.get(seat["login"])
            advisor = Advisor(
                advisor_number=seat["advisor_number"],
                street=seat["street"],
                user_id=user_id if user_id not in linked else None,
                **seat["fields"],
            )
            for field, derive in derived.items():
                setattr(advisor, field, derive(advisor.name))
            if seat["submitted"]:
                advisor.filing_submitted_at = timezone.now()
            advisors.append(advisor)
        Advisor.objects.bulk_create(advisors, batch_size=500)

        numbers = dict(
            Advisor.objects.filter(
                advisor_number__in=[seat["advisor_number"] for seat in seats]
            ).values_list("advisor_number", "pk")
        )
        AdvisorStation.objects.bulk_create(
            [
                AdvisorStation(
                    advisor_id=numbers[seat["advisor_number"]],
                    station=seat["station"],
                    is_primary=True,
                )
                for seat in seats
            ],
            batch_size=500,
        )
        self.record_filing_steps(seats, numbers)
        return len(advisors)

    def record_filing_steps(self, seats, numbers):
        """The filing history a demo advisor page shows: submissions waiting, a revocation."""
        keepers = dict(
            User.objects.filter(
                Q(username="bureau") | Q(username__startswith="street_")
            ).values_list("username", "pk")
        )
        bureau = keepers.get("bureau")
        events = []
        for seat in seats:
            advisor_id = numbers[seat["advisor_number"]]
            manager = keepers.get(f"street_{seat['street'].code}")
            if seat["submitted"] and manager:
                events.append(
                    FilingEvent(advisor_id=advisor_id, action=FilingAction.SUBMIT, by_id=manager)
                )
            if seat["fields"]["filing_status"] == FilingStatus.REVOKED and bureau:
                events.append(
                    FilingEvent(
                        advisor_id=advisor_id,
                        action=FilingAction.REVOKE,
                        by_id=bureau,
                        reason=REVOKE_REASON,
                    )
                )
        FilingEvent.objects.bulk_create(events)

    def seed_trainings(self, district_codes, street_codes, positions, today):
        """Professional trainings with attendance: each street's of last year and this year
        (but for `NO_TRAINING_STREETS` this year), and one district training this year.

        A training is made once, found again by its organiser and title (the title names
        the year); its attendance is written with it, from the advisors on duty that day.
        """
        streets = list(Street.objects.filter(code__in=street_codes).order_by("code"))
        wanted = []
        for street in streets:
            position = positions.streets[street.pk]
            place = f"{street.name}社区事务受理服务中心会议室"
            wanted.append(
                Training(
                    organiser_level=OrganiserLevel.STREET,
                    district_id=street.district_id,
                    street=street,
                    date=datetime.date(today.year - 1, 9, 10 + position),
                    title=f"{today.year - 1}年{street.name}社区救助顾问专业培训",
                    hours=Decimal("3.0"),
                    kind=TrainingKind.PROFESSIONAL,
                    trainer=TRAINERS[person_number(street.code, "trainer-last", len(TRAINERS))],
                    place=place,
                )
            )
            if position in NO_TRAINING_STREETS:
                continue
            wanted.append(
                Training(
                    organiser_level=OrganiserLevel.STREET,
                    district_id=street.district_id,
                    street=street,
                    date=this_year_day(today, 3 + position % 6, 12 + position),
                    title=f"{today.year}年{street.name}社区救助顾问专业培训",
                    hours=Decimal("2.5"),
                    kind=TrainingKind.PROFESSIONAL,
                    trainer=TRAINERS[person_number(street.code, "trainer", len(TRAINERS))],
                    place=place,
                )
            )
        for district in District.objects.filter(code__in=district_codes):
            wanted.append(
                Training(
                    organiser_level=OrganiserLevel.DISTRICT,
                    district=district,
                    street=None,
                    date=this_year_day(today, 6, 18),
                    title=f"{today.year}年{district.name}社区救助顾问专业能力提升培训",
                    hours=Decimal("6.0"),
                    kind=TrainingKind.PROFESSIONAL,
                    trainer=TRAINERS[0],
                    place=f"{district.name}民政局多功能厅",
                )
            )
        existing = set(
            Training.objects.filter(title__in=[training.title for training in wanted]).values_list(
                "district", "street", "title"
            )
        )
        new = [
            training
            for training in wanted
            if (training.district_id, training.street_id, training.title) not in existing
        ]
        if not new:
            return 0
        Training.objects.bulk_create(new)
        keys = {(training.district_id, training.street_id, training.title) for training in new}
        attendances = []
        for training in Training.objects.filter(title__in=[training.title for training in new]):
            if (training.district_id, training.street_id, training.title) in keys:
                attendances.extend(self.attendance_at(training, positions))
        TrainingAttendance.objects.bulk_create(attendances, batch_size=500)
        return len(new)

    def attendance_at(self, training, positions):
        """Who came to `training`: a street's advisors on duty that day, but one in nine;
        at the district's, the first two on duty of each street that trains this year."""
        on_duty = Advisor.objects.filter(active_q(training.date)).order_by(
            "street__code", "advisor_number"
        )
        if training.street_id:
            attendances = []
            for advisor in on_duty.filter(street=training.street_id):
                absent = person_number(advisor.advisor_number, training.title, 9) == 4
                attendances.append(
                    TrainingAttendance(
                        training=training,
                        advisor=advisor,
                        attended=not absent,
                        remark="请假" if absent else "",
                    )
                )
            return attendances
        attendees, per_street = [], {}
        for advisor in on_duty.filter(street__district=training.district_id).select_related(
            "street"
        ):
            if positions.streets.get(advisor.street_id) in NO_TRAINING_STREETS:
                continue
            if per_street.setdefault(advisor.street_id, 0) < 2:
                per_street[advisor.street_id] += 1
                attendees.append(TrainingAttendance(training=training, advisor=advisor))
        return attendees

    def seed_volunteers(self, street_codes, positions, today):
        """A few volunteers in each street that has none: some at its staffed committee
        points, some kept by the street itself; in every other street one has ended."""
        streets = list(Street.objects.filter(code__in=street_codes).order_by("code"))
        with_volunteers = set(
            Volunteer.objects.filter(street__in=streets).values_list("street", flat=True)
        )
        points = {}
        for point in (
            Station.objects.filter(street__in=streets, kind=StationKind.COMMITTEE)
            .select_related("committee")
            .order_by("committee__code")
        ):
            position = positions.committees[point.committee_id]
            if point_is_staffed(position, point.committee_id in positions.first_committees):
                points.setdefault(point.street_id, []).append(point)
        taken_names = set()
        volunteers = []
        for street in streets:
            count = 3 + person_number(street.code, "volunteers", 3)
            street_points = points.get(street.pk, [])
            for number in range(count):
                key = f"{street.code}-volunteer-{number}"
                gender = Gender.FEMALE if person_number(key, "gender", 10) < 6 else Gender.MALE
                name = demo_name(key, gender, taken_names)
                if street.pk in with_volunteers:
                    continue
                active_from = datetime.date(
                    2021 + person_number(key, "from-year", 4),
                    1 + person_number(key, "from-month", 12),
                    1 + person_number(key, "from-day", 28),
                )
                active_from = min(active_from, today - datetime.timedelta(days=120))
                ended = number == count - 1 and positions.streets[street.pk] % 2 == 1
                station = None
                if number % 2 == 0 and street_points:
                    station = street_points[(number * 5) % len(street_points)]
                volunteers.append(
                    Volunteer(
                        street=street,
                        station=station,
                        name=name,
                        phone=demo_mobile(key),
                        skills=VOLUNTEER_SKILLS[
                            person_number(key, "skills", len(VOLUNTEER_SKILLS))
                        ],
                        active_from=active_from,
                        active_to=today - datetime.timedelta(days=30) if ended else None,
                    )
                )
        Volunteer.objects.bulk_create(volunteers)
        return len(volunteers)

    def release_demo_logins(self, usernames):
        """Release demo logins made before the forced password change from having to change.

        Only logins still on the demo password: one that someone reset in the demo keeps
        its temporary password and the request to change it. The demo password is hashed
        once per run, so the logins share a handful of hashes; each is checked once.
        """
        flagged = User.objects.filter(username__in=usernames, must_change_password=True)
        hashes = set(flagged.values_list("password", flat=True))
        demo_hashes = [h for h in hashes if check_password(settings.DEMO_PASSWORD, h)]
        if not demo_hashes:
            return 0
        return flagged.filter(password__in=demo_hashes).update(must_change_password=False)

    def print_logins(self, street_codes, committee_codes):
        password = settings.DEMO_PASSWORD
        logins = [
            ("admin", "系统管理员"),
            ("bureau", "区民政局"),
            ("auditor", "审计管理员"),
            (f"street_{street_codes[0]}", "街镇管理员（其余街镇同样以 street_<街镇代码> 登录）"),
            (
                f"advisor_{committee_codes[0]}",
                "社区救助顾问（其余以 advisor_<居委代码> 登录；未配备顾问的居委服务点没有账号）",
            ),
        ]
        width = max(len(username) for username, _role in logins)
        self.stdout.write("")
        self.stdout.write("演示账号（密码均为 DEMO_PASSWORD）：")
        for username, role in logins:
            self.stdout.write(f"  {username.ljust(width)}  {role}")
        self.stdout.write(f"  密码: {password}")
