"""The benchmarks' data sets: Shanghai's divisions, registered people and lead lists, fast.

Everything is made up and deterministic (seeded `random.Random`): the same scale gives the
same people, the same ID numbers and the same lists on every machine and every run, so
figures from two runs compare. A data set is planned in memory (`plan_people`,
`plan_lists`: no database) and written by `build_divisions` and `build_recipients` into the
current database, in bulk and with the audit triggers held off (`audit.loading`): a load
of made-up people is nobody's change.

- the divisions are the real ones, `data/shanghai_divisions.csv` (the NBS file the project
  ships), imported through `stations.divisions` as an administrator would;
- the registered people (`Recipient`) are spread over the committees, each with a valid and
  distinct ID number (GB 11643 check character), encrypted with its lookup hash as the
  application stores it, a file number, an address unique in its district and a phone;
- the lead lists are uploaded by the bureau of `UPLOADER_DISTRICT` (长宁区) and mix the
  outcomes of `MIX`; a second list from another source repeats `OVERLAP` of the first.
  Each list knows the counts its rows must give (`LeadList.expected`).

`prepare` is the command line's part (`python -m benchmarks.data --scale shanghai`, run by
`benchmarks.run` with DATABASE_URL naming the benchmark's own PostgreSQL database): it
creates that database, migrates it, builds the data set unless the one there is already
this one (`--rebuild` forces it), and writes the lists as files beside a manifest.
"""

import argparse
import csv
import datetime
import functools
import io
import json
import random
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
DIVISIONS_FILE = DATA_DIR / "shanghai_divisions.csv"
# Bump on any change to what a seed gives (even the order of the random draws), so that a
# database and lists built before are built again, never mixed with the new ones.
DATA_VERSION = 3
SEED = 20230301
UPLOADER_DISTRICT = "310105"  # 长宁区: its bureau uploads the lead lists
BATCH_SIZE = 5000


@dataclass(frozen=True)
class Scale:
    name: str
    districts: tuple  # district codes of the divisions file; () for all of them
    streets_per_district: int | None  # the first streets of each district; None for all
    recipients: int
    list_rows: int
    description: str


SCALES = {
    "smoke": Scale("smoke", (UPLOADER_DISTRICT,), 2, 400, 300, "长宁区2个街镇,400人,名单300行"),
    "changning": Scale(
        "changning", (UPLOADER_DISTRICT,), None, 32_000, 10_000, "长宁区,3.2万人,一年走访,名单1万行"
    ),
    "shanghai": Scale(
        "shanghai", (), None, 300_000, 100_000, "上海全市,30万人,两年走访,名单10万行"
    ),
}
DEFAULT_SCALE = "shanghai"

# What the rows of a list are: registered people (matched), new people with a committee
# code of the uploader's district, new people whose address is a registered person's,
# invalid rows and new people that cannot be placed. Shares of the list's rows.
MIX = (
    ("matched", 0.40),
    ("new_code", 0.45),
    ("new_address", 0.05),
    ("invalid", 0.05),
    ("unplaceable", 0.05),
)
OVERLAP = 0.30  # the share of the second list's rows that the first list has too

HEADERS = ["姓名", "身份证号", "居委代码", "地址", "联系电话", "情况说明"]
MAPPING = {
    "name": "姓名",
    "id_number": "身份证号",
    "committee_code": "居委代码",
    "address": "地址",
    "phone": "联系电话",
}
FACT_COLUMNS = ["情况说明"]
OUTCOMES = ("matched", "new_lead", "merged", "duplicate", "invalid", "unplaceable")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志文斌辉鹏宇浩凯俊峰海燕雪"
    "梅琳晶婷慧丹玲春芬凤林佳欣怡子轩梓涵一诺宏德福荣根宝珍娣妹龙"
)
# Born in Shanghai (its districts' codes) mostly, else in a neighbouring province.
OTHER_AREAS = ("320102", "320583", "330106", "340104", "370102", "410105", "420106", "510107")
EARLIEST_BIRTH = datetime.date(1930, 1, 1)
BIRTH_SPAN_DAYS = (datetime.date(2008, 12, 31) - EARLIEST_BIRTH).days
DISABILITY_FACTS = (
    "持残疾人证 一级 肢体",
    "持残疾人证 二级 肢体",
    "持残疾人证 二级 视力",
    "持残疾人证 三级 听力",
    "持残疾人证 四级 精神",
    "持残疾人证 三级 智力",
)


# Planning (no database) -----------------------------------------------------------------


def division_rows(scale):
    """The rows of the divisions file that `scale` loads, ordered by committee code."""
    with DIVISIONS_FILE.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    if scale.districts:
        rows = [row for row in rows if row["district_code"] in scale.districts]
    if scale.streets_per_district is not None:
        kept = set()
        for district in sorted({row["district_code"] for row in rows}):
            streets = sorted({r["street_code"] for r in rows if r["district_code"] == district})
            kept.update(streets[: scale.streets_per_district])
        rows = [row for row in rows if row["street_code"] in kept]
    return sorted(rows, key=lambda row: row["committee_code"])


@dataclass(slots=True)
class Person:
    id_number: str
    name: str
    male: bool
    district_code: str
    street_code: str
    committee_code: str
    address: str
    phone: str
    file_number: str = ""
    household_size: int = 1


class IdNumbers:
    """Valid, distinct ID numbers (GB 11643), from one random stream and one `used` set."""

    def __init__(self, rng, areas, used=None):
        self.rng = rng
        self.areas = areas
        self.used = set() if used is None else used

    def new(self):
        from changning_aid.sensitive.idnumbers import check_character

        random_ = self.rng.random
        while True:
            area = _pick(random_, self.areas)
            if random_() < 0.15:
                area = _pick(random_, OTHER_AREAS)
            born = _BIRTH_DATES[int(random_() * BIRTH_SPAN_DAYS)]
            first_17 = f"{area}{born}{int(random_() * 1000):03d}"
            if first_17 not in self.used:
                self.used.add(first_17)
                return first_17 + check_character(first_17)


def _pick(random_, items):
    """One of `items` (quicker than `Random.choice`, as deterministic)."""
    return items[int(random_() * len(items))]


_BIRTH_DATES = [
    f"{EARLIEST_BIRTH + datetime.timedelta(days=day):%Y%m%d}" for day in range(BIRTH_SPAN_DAYS)
]


def _name(rng):
    random_ = rng.random
    count = 1 if random_() < 0.3 else 2
    given = "".join(_pick(random_, GIVEN) for _ in range(count))
    return _pick(random_, SURNAMES) + given


def _phone(rng):
    random_ = rng.random
    return f"1{_pick(random_, '3578')}{int(random_() * 10**9):09d}" if random_() < 0.8 else ""


def _short(committee_name):
    for suffix in ("居委会", "村委会"):
        if committee_name.endswith(suffix):
            return committee_name[: -len(suffix)]
    return committee_name


def _address(row, serial):
    """An address in a committee, unique there for each `serial`."""
    building, room = divmod(serial, 24)
    floor, door = divmod(room, 4)
    place = f"{row['street_name']}{_short(row['committee_name'])}"
    return f"{place}{building + 1}号{floor + 1}0{door + 1}室"


@dataclass
class PeoplePlan:
    """The registered people of a scale, and what a list needs to know about them."""

    scale: Scale
    rows: list  # the divisions rows
    people: list  # [Person]
    used: set  # the first 17 characters of every ID number given out

    @functools.cached_property
    def uploader_committees(self):
        return [row for row in self.rows if row["district_code"] == UPLOADER_DISTRICT]

    @functools.cached_property
    def unique_uploader_addresses(self):
        """Addresses of registered people of the uploader's district that only one has."""
        seen = {}
        for person in self.people:
            if person.district_code == UPLOADER_DISTRICT:
                seen[person.address] = seen.get(person.address, 0) + 1
        return [address for address, count in seen.items() if count == 1]

    @functools.cached_property
    def other_district_code(self):
        """A committee code of another district (from the file, loaded or not)."""
        with DIVISIONS_FILE.open(encoding="utf-8-sig", newline="") as file:
            for row in csv.DictReader(file):
                if row["district_code"] != UPLOADER_DISTRICT:
                    return row["committee_code"]
        raise ValueError("the divisions file has no other district")


def plan_people(scale):
    """The registered people of `scale`: deterministic, valid and distinct ID numbers."""
    rows = division_rows(scale)
    rng = random.Random(SEED)
    areas = sorted({row["district_code"] for row in rows}) or [UPLOADER_DISTRICT]
    numbers = IdNumbers(rng, areas)
    serials = {}  # committee code -> people so far
    files = {}  # street code -> file numbers so far
    people = []
    for _ in range(scale.recipients):
        row = _pick(rng.random, rows)
        code = row["committee_code"]
        serial = serials.get(code, 0)
        serials[code] = serial + 1
        sequence = files.get(row["street_code"], 0) + 1
        files[row["street_code"]] = sequence
        number = numbers.new()
        people.append(
            Person(
                id_number=number,
                name=_name(rng),
                male=int(number[16]) % 2 == 1,
                district_code=row["district_code"],
                street_code=row["street_code"],
                committee_code=code,
                address=_address(row, serial),
                phone=_phone(rng),
                file_number=f"DA{row['street_code']}{sequence:06d}",
                household_size=_pick(rng.random, (1, 1, 1, 2, 2, 3, 4)),
            )
        )
    return PeoplePlan(scale=scale, rows=rows, people=people, used=numbers.used)


@dataclass
class LeadList:
    """One list as a department sends it, and the counts its processing must report."""

    name: str
    source: str
    rows: list  # [{header: text}]
    kinds: list  # what each row was planted as (MIX names)
    expected: dict = field(default_factory=dict)  # outcome -> rows

    def csv_bytes(self):
        return csv_bytes(self.rows)

    def xlsx_bytes(self):
        return xlsx_bytes(self.rows)


def _counts(total):
    counts = {kind: int(total * share) for kind, share in MIX}
    counts["new_code"] += total - sum(counts.values())
    return counts


# What each planted kind of row gives the first time a source sends it, and when the
# person already came from another source (the second list's overlap).
FIRST_OUTCOME = {
    "matched": "matched",
    "new_code": "new_lead",
    "new_address": "new_lead",
    "invalid": "invalid",
    "unplaceable": "unplaceable",
}
REPEATED_OUTCOME = {
    "matched": "matched",
    "new_code": "merged",
    "new_address": "merged",
    "invalid": "invalid",
    "unplaceable": "merged",
}


def _expected(kinds, outcomes):
    expected = dict.fromkeys(OUTCOMES, 0)
    for kind in kinds:
        expected[outcomes[kind]] += 1
    return expected


class _ListMaker:
    def __init__(self, plan, rng, fact, used):
        self.plan = plan
        self.rng = rng
        self.fact = fact
        # `used` holds the registered people's numbers: a new person is never one of them.
        self.numbers = IdNumbers(rng, [UPLOADER_DISTRICT], used)
        self.codes = [row["committee_code"] for row in plan.uploader_committees]
        self.serial = 0

    def _new_person_row(self, code, address):
        number = self.numbers.new()
        return self._row(_name(self.rng), number, code, address)

    def _row(self, name, number, code, address):
        return {
            "姓名": name,
            "身份证号": number,
            "居委代码": code,
            "地址": address,
            "联系电话": _phone(self.rng),
            "情况说明": self.fact(self.rng),
        }

    def _unknown_address(self):
        self.serial += 1
        return f"长宁区待核路{self.serial}弄{self.rng.randrange(1, 40)}号"

    def rows(self, counts, registered):
        """Rows of each kind in `counts`, shuffled; `registered` are people to match."""
        rng = self.rng
        made = []
        for person in registered:
            code = person.committee_code if person.district_code == UPLOADER_DISTRICT else ""
            made.append(("matched", self._row(person.name, person.id_number, code, person.address)))
        for _ in range(counts["new_code"]):
            code = rng.choice(self.codes)
            made.append(("new_code", self._new_person_row(code, self._unknown_address())))
        addresses = self.plan.unique_uploader_addresses
        for _ in range(counts["new_address"]):
            made.append(("new_address", self._new_person_row("", rng.choice(addresses))))
        for index in range(counts["invalid"]):
            made.append(("invalid", self._invalid_row(index)))
        for index in range(counts["unplaceable"]):
            if index % 4 == 3:
                row = self._new_person_row("", "")
            elif index % 4 == 2:
                row = self._new_person_row(self.plan.other_district_code, self._unknown_address())
            else:
                row = self._new_person_row("", self._unknown_address())
            made.append(("unplaceable", row))
        rng.shuffle(made)
        return made

    def _invalid_row(self, index):
        row = self._new_person_row(self.rng.choice(self.codes), self._unknown_address())
        number = row["身份证号"]
        variant = index % 6
        if variant in (0, 1):  # a typing error: the check character is wrong
            wrong = "0123456789X".replace(number[17], "")
            row["身份证号"] = number[:17] + self.rng.choice(wrong)
        elif variant == 2:  # an old 15-digit number
            row["身份证号"] = number[:6] + number[8:17]
        elif variant == 3:  # copied from a masked export
            row["身份证号"] = f"{number[:6]}********{number[-4:]}"
        elif variant == 4:
            row["身份证号"] = ""
        else:
            row["姓名"] = ""
        return row


def _disability_fact(rng):
    return rng.choice(DISABILITY_FACTS)


def _medical_fact(rng):
    return f"年度自付医疗费用{rng.randrange(30, 400) * 100}元"


def plan_lists(plan, rows=None):
    """The first list (区残联), the second (区医保局, repeating `OVERLAP` of the first), and
    the first uploaded again: `[first, second, first_again]`, deterministic."""
    total = rows or plan.scale.list_rows
    rng = random.Random(SEED + 1)
    registered = plan.people
    used = set(plan.used)  # planning lists again gives the same lists

    first_maker = _ListMaker(plan, rng, _disability_fact, used)
    counts = _counts(total)
    chosen = rng.sample(range(len(registered)), counts["matched"])
    first = first_maker.rows(counts, [registered[i] for i in chosen])

    second_maker = _ListMaker(plan, rng, _medical_fact, used)
    repeated = rng.sample(range(len(first)), round(total * OVERLAP))
    counts = _counts(total - len(repeated))
    taken = set(chosen)
    others = [i for i in range(len(registered)) if i not in taken]
    matched = [registered[i] for i in rng.sample(others, counts["matched"])]
    fresh = second_maker.rows(counts, matched)
    again = [(first[i][0], {**first[i][1], "情况说明": _medical_fact(rng)}) for i in repeated]
    mixed = [("repeated", pair) for pair in again] + [("fresh", pair) for pair in fresh]
    rng.shuffle(mixed)

    first_list = LeadList(
        name="first_list",
        source="区残联·残疾人证",
        rows=[row for _kind, row in first],
        kinds=[kind for kind, _row in first],
        expected=_expected([kind for kind, _row in first], FIRST_OUTCOME),
    )
    second_expected = dict.fromkeys(OUTCOMES, 0)
    for origin, (kind, _row) in mixed:
        outcomes = REPEATED_OUTCOME if origin == "repeated" else FIRST_OUTCOME
        second_expected[outcomes[kind]] += 1
    second_list = LeadList(
        name="second_list",
        source="区医保局·高额医疗费用",
        rows=[row for _origin, (_kind, row) in mixed],
        kinds=[kind for _origin, (kind, _row) in mixed],
        expected=second_expected,
    )
    again_expected = dict.fromkeys(OUTCOMES, 0)
    again_expected["invalid"] = first_list.expected["invalid"]
    again_expected["duplicate"] = total - again_expected["invalid"]
    first_again = LeadList(
        name="first_list_again",
        source=first_list.source,
        rows=first_list.rows,
        kinds=first_list.kinds,
        expected=again_expected,
    )
    return [first_list, second_list, first_again]


def csv_bytes(rows, headers=HEADERS):
    """A list as a department's CSV (UTF-8 with BOM, as Excel writes it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(header, "") for header in headers])
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows, headers=HEADERS):
    """The same list as an .xlsx workbook (openpyxl's write-only mode: fast and lean)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header, "") for header in headers])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# Writing into the current database -------------------------------------------------------


def build_divisions(scale):
    """Districts, streets, committees and their stations, through the division import."""
    from django.db import transaction

    from audit.loading import triggers_held_off
    from stations import divisions

    rows = division_rows(scale)
    content = csv_bytes(rows, headers=list(divisions.COLUMNS))
    parsed = divisions.parse(content, "shanghai_divisions.csv")
    if parsed.errors:
        raise ValueError(divisions.error_summary(parsed.errors))
    with transaction.atomic(), triggers_held_off():
        division_plan = divisions.plan(parsed.rows)
        if division_plan.has_changes:
            divisions.apply(division_plan)
    return len(rows)


@functools.lru_cache(maxsize=65536)
def _initials(name):
    from changning_aid import pinyin

    return pinyin.initials_text(name)


def build_recipients(plan, batch_size=BATCH_SIZE):
    """The planned people as `Recipient` rows, in batches, without audit events."""
    from django.db import transaction

    from audit.loading import triggers_held_off
    from cases.choices import Gender
    from cases.models import Recipient
    from changning_aid.sensitive.idnumbers import birth_date_of
    from stations.models import Committee

    places = {
        code: (pk, street)
        for code, pk, street in Committee.objects.values_list("code", "pk", "street")
    }
    with transaction.atomic(), triggers_held_off():
        for start in range(0, len(plan.people), batch_size):
            batch = []
            for person in plan.people[start : start + batch_size]:
                committee, street = places[person.committee_code]
                batch.append(
                    Recipient(
                        file_number=person.file_number,
                        street_id=street,
                        committee_id=committee,
                        name=person.name,
                        name_initials=_initials(person.name),
                        gender=Gender.MALE if person.male else Gender.FEMALE,
                        id_number=person.id_number,
                        id_tail=person.id_number[-4:],
                        birth_date=birth_date_of(person.id_number),
                        phone=person.phone,
                        address=person.address,
                        household_size=person.household_size,
                    )
                )
            Recipient.objects.bulk_create(batch)
    return len(plan.people)


@dataclass
class Dataset:
    """A data set in the current database, with its lists (in memory)."""

    scale: Scale
    plan: PeoplePlan
    lists: list
    built: object = None  # benchmarks.network.Built: the counts of the network


def build(scale, list_rows=None, today=None, lists=True):
    """Build `scale` in the current database (the smoke test's way: no other database);
    `lists=False` leaves the lead lists unplanned (`prepare` writes them to files itself)."""
    from benchmarks.network import build_network
    from visits import summaries

    with summaries.suspended():
        build_divisions(scale)
        plan = plan_people(scale)
        build_recipients(plan)
        built = build_network(scale.name, today=today)
    # The month summaries the pages read, from the base tables, once (the load held the
    # hooks off), then fresh planner statistics for the tables just filled.
    summaries.rebuild()
    analyze(vacuum=True)
    planned = plan_lists(plan, list_rows) if lists else []
    return Dataset(scale=scale, plan=plan, lists=planned, built=built)


def analyze(vacuum=False):
    """ANALYZE on PostgreSQL (autovacuum would come later): plans fit the loaded rows.

    With `vacuum`, outside a transaction (the benchmark's own build), VACUUM as well: it
    sets the visibility map that index-only scans read, as autovacuum would have long
    before anyone opened a page; on freshly loaded tables, without it, the same pages
    measured 20-40 % slower (13 s for the Shanghai data set)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if vacuum and not connection.in_atomic_block:
                cursor.execute("VACUUM (ANALYZE)")
            else:
                cursor.execute("ANALYZE")


# The benchmark's own database (the command line) -----------------------------------------


def fingerprint(scale):
    """What identifies a built data set: a database holding another one is rebuilt."""
    from benchmarks.network import SIZES, window

    marker = {
        "version": DATA_VERSION,
        "seed": SEED,
        "scale": asdict(scale),
        "network": asdict(SIZES[scale.name]),
        # The visits end yesterday: a data set built in another month is built again.
        "window_starts": window(SIZES[scale.name])[0].isoformat(),
        "committees": len(division_rows(scale)),
    }
    return json.loads(json.dumps(marker))  # as read back from JSON (tuples as lists)


def _server_settings(url):
    import environ

    config = environ.Env.db_url_config(url)
    return {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "dbname": config.get("NAME"),
    }


def _admin_connection(url):
    """A connection to the server's maintenance database (to create and drop databases)."""
    import psycopg2

    settings = _server_settings(url)
    last_error = None
    for maintenance in ("postgres", "template1"):
        try:
            connection = psycopg2.connect(**{**settings, "dbname": maintenance})
        except psycopg2.OperationalError as exc:
            last_error = exc
            continue
        connection.autocommit = True
        return connection
    raise last_error


def database_name(url):
    return _server_settings(url)["dbname"]


def recreate_database(url):
    """Drop the benchmark's database (whoever is connected) and create it empty."""
    from psycopg2 import sql

    name = database_name(url)
    connection = _admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def database_exists(url):
    connection = _admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)])
            return cursor.fetchone() is not None
    finally:
        connection.close()


def read_marker():
    """The fingerprint stored on the current database (a comment on it), or None."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        text = (cursor.fetchone() or [None])[0]
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def write_marker(marker):
    from django.db import connection

    with connection.cursor() as cursor:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"COMMENT ON DATABASE {name} IS %s", [json.dumps(marker, sort_keys=True)])


def cache_dir(name):
    """Where the lists of the database `name` are kept between runs (not in the project)."""
    return Path(tempfile.gettempdir()) / "changning_aid_bench" / name


def manifest_path(name):
    return cache_dir(name) / "manifest.json"


def read_manifest(name):
    path = manifest_path(name)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_lists(name, scale, plan, marker):
    """The lists as files (CSV, and the first one as .xlsx too) and their manifest."""
    folder = cache_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    first, second, again = plan_lists(plan)
    files = {}
    for lead_list, formats in ((first, ("csv", "xlsx")), (second, ("csv",))):
        files[lead_list.name] = {}
        for file_format in formats:
            path = folder / f"{lead_list.name}.{file_format}"
            path.write_bytes(getattr(lead_list, f"{file_format}_bytes")())
            files[lead_list.name][file_format] = str(path)
    files[again.name] = files[first.name]  # the same file, uploaded again
    entries = [
        {
            "name": lead_list.name,
            "source": lead_list.source,
            "rows": len(lead_list.rows),
            "expected": lead_list.expected,
            "files": files[lead_list.name],
        }
        for lead_list in (first, second, again)
    ]
    manifest = {
        "fingerprint": marker,
        "district_code": UPLOADER_DISTRICT,
        "mapping": MAPPING,
        "fact_columns": FACT_COLUMNS,
        "lists": entries,
    }
    manifest_path(name).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return manifest


def _built(marker):
    from cases.models import Recipient
    from stations.models import Committee

    return (
        read_marker() == marker
        and Committee.objects.count() == marker["committees"]
        and Recipient.objects.count() == marker["scale"]["recipients"]
    )


def prepare(scale, *, rebuild=False, out=sys.stdout):
    """Make the database DATABASE_URL names hold `scale`'s data set, and its lists' files.

    Reuses the data set there when it is this one (same fingerprint and row counts);
    otherwise, or with `rebuild`, drops and recreates the database first.
    """
    import os

    from django.core.management import call_command
    from django.db import connections

    url = os.environ["DATABASE_URL"]
    name = database_name(url)
    marker = fingerprint(scale)
    reuse = False
    if not rebuild and database_exists(url):
        # Migrations added since the data set was built apply to it as to any database.
        call_command("migrate", interactive=False, verbosity=0)
        reuse = _built(marker)
    if not reuse:
        connections.close_all()
        out.write(f"正在生成基准数据集 {scale.name}({scale.description})到数据库 {name} …\n")
        recreate_database(url)
        call_command("migrate", interactive=False, verbosity=0)
        started = datetime.datetime.now()
        dataset = build(scale, lists=False)
        plan, built = dataset.plan, dataset.built
        write_marker(marker)
        seconds = (datetime.datetime.now() - started).total_seconds()
        out.write(
            f"数据集已生成:{len(plan.people)} 名在册人员(当前救助对象 {built.current}),"
            f"顾问 {built.advisors},走访 {built.visits},服务记录 {built.services},"
            f"需求 {built.needs},用时 {seconds:.0f} 秒。\n"
        )
    else:
        plan = None
        out.write(f"沿用数据库 {name} 中已生成的数据集 {scale.name}。\n")
    manifest = read_manifest(name)
    if plan is not None or manifest is None or manifest.get("fingerprint") != marker:
        manifest = write_lists(name, scale, plan or plan_people(scale), marker)
    return manifest


def main(argv=None):
    import os

    import django

    parser = argparse.ArgumentParser(description="生成基准测试数据集(DATABASE_URL 指向的库)。")
    parser.add_argument("--scale", choices=sorted(SCALES), default=DEFAULT_SCALE)
    parser.add_argument("--rebuild", action="store_true", help="删除并重新生成数据集。")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changning_aid.settings")
    django.setup()
    import psycopg2

    try:
        prepare(SCALES[args.scale], rebuild=args.rebuild)
    except psycopg2.Error as exc:
        name = database_name(os.environ["DATABASE_URL"])
        sys.stderr.write(
            f"无法准备基准数据库 {name}(需要在服务器上建库、删库的权限):{exc}".rstrip() + "\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
