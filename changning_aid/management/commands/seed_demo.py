"""`manage.py seed_demo`: the Changning demo network and its logins, for development and tests.

Loads 长宁区's 10 streets/towns and 189 committees from the division file shipped with the
project (through `import_divisions`, the same door as any other division file), brings most
stations into service with plausible addresses, phones and hours, and creates one login per
role. Later issues add their demo data here.

The demo is deterministic: every choice follows from the division codes, never from chance.
It is idempotent and leaves what people changed alone: a station gets its demo details only
while it is as the division import left it (no address yet), and a login is only created,
never reset. A second run therefore creates and changes nothing, and says so.
"""

import csv
import tempfile
import zlib
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.choices import Role
from accounts.models import User
from stations.choices import StationKind, StationStatus
from stations.models import Committee, District, Station, Street
from stations.naming import committee_short_name

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


def committee_point_details(station, position, first_of_street):
    """A 居委服务点 in its committee's office; `position` is 1-based, in code order."""
    committee = station.committee
    if committee_point_is_active(position, first_of_street):
        status = StationStatus.RUNNING
    elif (position // INACTIVE_POINT_EVERY) % 2:
        status = StationStatus.PLANNING
    else:
        status = StationStatus.SUSPENDED
    road = ROADS[demo_number(committee.code, "road", len(ROADS))]
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


class Command(BaseCommand):
    help = (
        "生成长宁区演示数据：导入长宁区区划（10个街镇、189个居委），启用大部分站点并填写演示资料，"
        "创建各角色的演示账号。可重复运行；只在 DEBUG 开启时可用。"
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
            stations_filled = self.fill_stations(district_codes)
            users_created, users_released = self.create_users(
                district_codes, street_codes, committee_codes
            )

        if stations_filled or users_created or users_released:
            released = (
                f"{users_released} 个演示账号不再要求首次登录修改密码。" if users_released else ""
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"演示数据已生成：填写了 {stations_filled} 个站点的演示资料，"
                    f"新建了 {users_created} 个账号。{released}"
                )
            )
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

    def fill_stations(self, district_codes):
        """Demo details for the stations that are still as the division import left them."""
        stations = list(
            Station.objects.filter(
                district__code__in=district_codes,
                kind__in=[StationKind.GUIDANCE, StationKind.STREET, StationKind.COMMITTEE],
            )
            .select_related("district", "street", "committee")
            .order_by("district__code", "street__code", "committee__code")
        )
        street_positions = {}
        committee_positions = {}
        first_committees = set()
        for district_code in district_codes:
            streets = Street.objects.filter(district__code=district_code).order_by("code")
            for position, street_id in enumerate(streets.values_list("pk", flat=True)):
                street_positions[street_id] = position
            committees = Committee.objects.filter(street__district__code=district_code)
            seen_streets = set()
            for position, (committee_id, street_id) in enumerate(
                committees.order_by("code").values_list("pk", "street_id"), start=1
            ):
                committee_positions[committee_id] = position
                if street_id not in seen_streets:
                    seen_streets.add(street_id)
                    first_committees.add(committee_id)

        changed = []
        for station in stations:
            if station.address:
                continue
            if station.kind == StationKind.GUIDANCE:
                details = guidance_details(station)
            elif station.kind == StationKind.STREET:
                details = street_station_details(station, street_positions[station.street_id])
            else:
                details = committee_point_details(
                    station,
                    committee_positions[station.committee_id],
                    station.committee_id in first_committees,
                )
            for field, value in details.items():
                setattr(station, field, value)
            changed.append(station)
        # bulk_update skips Station.save(); the standard names are already the import's.
        Station.objects.bulk_update(changed, DETAIL_FIELDS, batch_size=500)
        return len(changed)

    def create_users(self, district_codes, street_codes, committee_codes):
        """One login per role; those that exist already are left as they are.

        Demo logins use the published demo password and are not asked to change it at their
        first login (`must_change_password`), as real new logins are. Returns the number of
        logins created and the number of older demo logins released from that request.
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
        points = {
            station.committee.code: station
            for station in Station.objects.filter(
                kind=StationKind.COMMITTEE, committee__code__in=committee_codes
            ).select_related("committee")
        }
        for code in committee_codes:
            wanted.append(
                User(
                    username=f"advisor_{code}",
                    full_name=f"{committee_short_name(points[code].committee.name)}顾问",
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
                Through(user_id=user_id, station_id=points[username.removeprefix("advisor_")].pk)
                for username, user_id in User.objects.filter(username__in=new_advisors).values_list(
                    "username", "pk"
                )
            ],
            batch_size=500,
        )
        released = self.release_demo_logins(existing)
        return len(new_users), released

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
            (f"advisor_{committee_codes[0]}", "社区救助顾问（其余以 advisor_<居委代码> 登录）"),
        ]
        width = max(len(username) for username, _role in logins)
        self.stdout.write("")
        self.stdout.write("演示账号（密码均为 DEMO_PASSWORD）：")
        for username, role in logins:
            self.stdout.write(f"  {username.ljust(width)}  {role}")
        self.stdout.write(f"  密码: {password}")
