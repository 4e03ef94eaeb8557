"""The benchmark data set's working network: advisors, charges, periods, visits, services.

`build_network(scale)` runs after `data.build_divisions` and `data.build_recipients` and
fills the current database with what a year or two of work leaves behind, deterministic
(its own seeded `random.Random`, reading the people in primary-key order):

- **advisors**: one or two per committee point (serving it as their primary station) and
  two or three per street station; 95% filed, most with uniform and badge;
- **charges**: every registered person in the charge of an advisor of their committee
  (`Recipient.advisor` and an open `AdvisorCharge`);
- **current periods**: two people in three are current recipients today (an open period
  that began before the window or in it), one in seven was current for a while inside the
  window (a closed period), the rest never in the window;
- **visits**: for each month of the window (`Scale.months`, ending with the month in
  progress, whose visits stop yesterday) and each person current on its 15th, one visit
  with `VISITED_SHARE`'s chance (a second one sometimes), by the person's advisor, of the
  methods and results of `METHODS` and `RESULTS`;
- **service records** (`Scale.services`), **needs** (`Scale.needs`), the street and
  committee **resources** and each street's **trainings**.

The big tables are written with PostgreSQL's COPY (batches of `bulk_create` on SQLite, for
the smoke test), in one transaction with the audit triggers held off (`audit.loading`).
The summaries the application keeps (if any) are rebuilt afterwards by the caller.
"""

import datetime
import io
import json
import random
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

SEED = 20230302
COPY_BATCH = 100_000
VISITED_SHARE = 0.93
SECOND_VISIT_SHARE = 0.05
# (value, cumulative share)
METHODS = (("home", 0.70), ("phone", 0.90), ("station", 0.98), ("video", 1.0))
RESULTS = (("completed", 0.95), ("nobody_home", 0.99), ("refused", 1.0))
NEED_CATEGORIES = ("living", "medical", "education", "housing", "employment", "psychological")
NEED_STATUSES = (("to_assess", 0.2), ("to_link", 0.35), ("linked", 0.6), ("resolved", 1.0))
SERVICE_ITEMS = ("publicity", "discovery", "investigation", "linking", "care", "support_system")
COMMITTEE_TASKS = ("home_visit", "needs_screening", "policy_guidance", "daily_contact")
STREET_TASKS = ("policy_answer", "application_intake", "resource_link")
RESOURCE_TYPES = ("policy", "fund", "project", "organisation", "enterprise", "volunteering")


@dataclass(frozen=True)
class NetworkSize:
    months: int  # the window of visits and services, ending with the month in progress
    services: int
    needs: int
    resources_per_street: int


SIZES = {
    "smoke": NetworkSize(months=3, services=600, needs=120, resources_per_street=4),
    "changning": NetworkSize(months=12, services=60_000, needs=9_000, resources_per_street=15),
    "shanghai": NetworkSize(months=24, services=1_000_000, needs=90_000, resources_per_street=15),
}


def window(size, today=None):
    """(first day of the window, today): `size.months` months ending with this month."""
    from visits.coverage import months_ending

    today = today or timezone.localdate()
    return months_ending(today, size.months)[0], today


def _pick_cumulative(value, table):
    for choice, bound in table:
        if value < bound:
            return choice
    return table[-1][0]


# Writing many rows ---------------------------------------------------------------------------


def _copy_text(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


class TableWriter:
    """Rows of one model written fast: COPY on PostgreSQL, `bulk_create` elsewhere.

    `columns` are the attribute names each row gives (a tuple in that order); every other
    concrete field but the primary key takes its default (`auto_now` fields: now), once.
    """

    def __init__(self, model, columns):
        self.model = model
        self.columns = list(columns)
        now = timezone.now()
        self.fixed = {}
        for field in model._meta.concrete_fields:
            if field.primary_key or field.attname in self.columns:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                self.fixed[field.attname] = now
            elif field.has_default():
                self.fixed[field.attname] = field.get_default()
            elif field.null:
                self.fixed[field.attname] = None
            elif field.get_internal_type() in ("CharField", "TextField"):
                self.fixed[field.attname] = ""
            else:
                raise ValueError(f"{model.__name__}.{field.attname} needs a value")
        self.rows = []
        self.written = 0

    def add(self, row):
        self.rows.append(row)
        if len(self.rows) >= COPY_BATCH:
            self.flush()

    def flush(self):
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            self._copy()
        else:
            self.model.objects.bulk_create(
                [
                    self.model(**self.fixed, **dict(zip(self.columns, row, strict=True)))
                    for row in self.rows
                ],
                batch_size=500,
            )
        self.written += len(self.rows)
        self.rows = []

    def _copy(self):
        opts = self.model._meta
        names = self.columns + list(self.fixed)
        db_columns = [opts.get_field(name).column for name in names]
        fixed = "\t".join(_copy_text(value) for value in self.fixed.values())
        lines = io.StringIO()
        for row in self.rows:
            lines.write("\t".join(map(_copy_text, row)))
            if self.fixed:
                lines.write("\t")
                lines.write(fixed)
            lines.write("\n")
        lines.seek(0)
        quote = connection.ops.quote_name
        statement = "COPY {} ({}) FROM STDIN".format(
            quote(opts.db_table), ", ".join(quote(column) for column in db_columns)
        )
        with connection.cursor() as cursor:
            cursor.copy_expert(statement, lines)


# The network ---------------------------------------------------------------------------------


@dataclass
class Built:
    advisors: int = 0
    periods: int = 0
    current: int = 0
    visits: int = 0
    services: int = 0
    needs: int = 0
    resources: int = 0
    trainings: int = 0
    running_stations: int = 0

    def as_json(self):
        return dict(self.__dict__)


def build_network(scale_name, today=None):
    """Fill the current database (divisions and people already there); a `Built` count."""
    from audit.loading import triggers_held_off

    size = SIZES[scale_name]
    rng = random.Random(SEED)
    start, today = window(size, today)
    built = Built()
    with transaction.atomic(), triggers_held_off():
        _stations(built)
        advisors = _advisors(rng, today, built)
        people = _charges(advisors, today)
        current = _periods(rng, people, start, today, built)
        _visits(rng, people, current, start, today, built)
        _services(rng, people, advisors, start, today, size, built)
        _needs(rng, people, start, today, size, built)
        _resources(rng, size, today, built)
        _trainings(start, today, built)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return built


# The share of the street stations and committee points that are running, signboard, logo
# and (street stations) facilities in order: the rest stay 筹建, so C1-C6 find offenders.
RUNNING_SHARE = 0.98
STATION_BATCH = 5000  # ids per statement (SQLite takes at most 32766 parameters)


def _stations(built):
    """Open most stations as a street would have by now (the divisions import creates them
    筹建 and bare): a few statements, whatever the number of stations."""
    from decimal import Decimal

    from django.db.models import F

    from stations.choices import StationKind, StationStatus
    from stations.models import Station

    rng = random.Random(SEED + 2)  # its own draws: the people and visits stay the same
    stations = Station.objects.filter(kind__in=[StationKind.STREET, StationKind.COMMITTEE])
    ids = sorted(stations.values_list("pk", flat=True))
    running = sorted(rng.sample(ids, round(len(ids) * RUNNING_SHARE)))
    for part in range(0, len(running), STATION_BATCH):
        chosen = Station.objects.filter(pk__in=running[part : part + STATION_BATCH])
        chosen.update(
            status=StationStatus.RUNNING,
            signboard_name=F("name"),
            has_unified_logo=True,
            opening_hours="周一至周五 9:00-17:00",
        )
        chosen.filter(kind=StationKind.STREET).update(
            workspace_m2=Decimal("36.0"),
            desk_sets=3,
            computers=2,
            has_internet=True,
            has_consultation_zone=True,
            has_service_zone=True,
        )
    built.running_stations = len(running)


def _advisors(rng, today, built):
    """Advisors for every committee point and street station; {committee id: [advisors]}."""
    from advisors.choices import Background, FilingStatus
    from advisors.models import Advisor, AdvisorStation
    from benchmarks import data
    from cases.choices import Gender
    from changning_aid import pinyin
    from stations.choices import StationKind
    from stations.models import Station

    stations = list(
        Station.objects.filter(kind__in=[StationKind.STREET, StationKind.COMMITTEE])
        .order_by("street__code", "kind", "committee__code")
        .values_list("pk", "kind", "street_id", "street__code", "committee_id")
    )
    sequences = {}
    planned = []  # (Advisor, station id, committee id)
    for station_id, kind, street_id, street_code, committee_id in stations:
        count = rng.choice((1, 1, 2)) if kind == StationKind.COMMITTEE else rng.choice((2, 3))
        for _ in range(count):
            sequence = sequences.get(street_code, 0) + 1
            sequences[street_code] = sequence
            name = data._name(rng)
            filed = rng.random() < 0.95
            started = today - datetime.timedelta(days=rng.randrange(400, 3000))
            equipped = rng.random() < 0.97
            planned.append(
                (
                    Advisor(
                        advisor_number=f"GW{street_code}{sequence:04d}",
                        street_id=street_id,
                        name=name,
                        name_initials=pinyin.initials_text(name),
                        gender=Gender.MALE if rng.random() < 0.4 else Gender.FEMALE,
                        mobile=f"13{rng.randrange(10**8, 10**9)}",
                        background=(
                            Background.COMMITTEE_CADRE
                            if kind == StationKind.COMMITTEE
                            else Background.STREET_STAFF
                        ),
                        started_on=started,
                        filing_status=FilingStatus.FILED if filed else FilingStatus.PENDING,
                        filing_number=f"BA{street_code}{sequence:04d}" if filed else "",
                        filed_on=started + datetime.timedelta(days=30) if filed else None,
                        uniform_issued_on=started if equipped else None,
                        badge_issued_on=started if equipped else None,
                    ),
                    station_id,
                    committee_id,
                )
            )
    Advisor.objects.bulk_create([advisor for advisor, _s, _c in planned], batch_size=2000)
    AdvisorStation.objects.bulk_create(
        [
            AdvisorStation(advisor=advisor, station_id=station_id, is_primary=True)
            for advisor, station_id, _c in planned
        ],
        batch_size=5000,
    )
    built.advisors = len(planned)
    by_committee = {}
    by_street = {}
    for advisor, station_id, committee_id in planned:
        entry = (advisor.pk, station_id)
        if committee_id is not None:
            by_committee.setdefault(committee_id, []).append(entry)
        by_street.setdefault(advisor.street_id, []).append(entry)
    return {"committee": by_committee, "street": by_street}


@dataclass(slots=True)
class Person:
    pk: int
    street_id: int
    committee_id: int
    advisor_id: int
    station_id: int


def _charges(advisors, today):
    """Each person in the charge of an advisor of their committee: [Person], by pk."""
    from cases.models import AdvisorCharge, Recipient

    people = []
    by_committee = advisors["committee"]
    for pk, street_id, committee_id in Recipient.objects.order_by("pk").values_list(
        "pk", "street_id", "committee_id"
    ):
        choices = by_committee.get(committee_id) or advisors["street"][street_id]
        advisor_id, station_id = choices[pk % len(choices)]
        people.append(Person(pk, street_id, committee_id, advisor_id, station_id))
    since = today - datetime.timedelta(days=1000)
    writer = TableWriter(AdvisorCharge, ("recipient_id", "advisor_id", "starts_on"))
    for person in people:
        writer.add((person.pk, person.advisor_id, since))
    writer.flush()
    _set_advisors(people)
    return people


def _set_advisors(people):
    """Recipient.advisor = the charge's advisor, in one statement per database."""
    from cases.models import AdvisorCharge, Recipient

    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        people_table = quote(Recipient._meta.db_table)
        charges_table = quote(AdvisorCharge._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {people_table} SET advisor_id = c.advisor_id FROM {charges_table} c "
                f"WHERE c.recipient_id = {people_table}.id AND c.ends_on IS NULL"
            )
        return
    from django.db.models import OuterRef, Subquery

    Recipient.objects.update(
        advisor=Subquery(
            AdvisorCharge.objects.filter(recipient=OuterRef("pk"), ends_on__isnull=True).values(
                "advisor"
            )[:1]
        )
    )


def _periods(rng, people, start, today, built):
    """The current periods; [(first day, last day or None)] per person (None: never)."""
    from cases.models import CurrentPeriod

    span = (today - start).days
    writer = TableWriter(CurrentPeriod, ("recipient_id", "starts_on", "ends_on"))
    current = []
    for person in people:
        draw = rng.random()
        if draw < 0.67:
            if rng.random() < 0.85:
                begins = start - datetime.timedelta(days=rng.randrange(1, 2000))
            else:
                begins = start + datetime.timedelta(days=rng.randrange(0, max(span - 20, 1)))
            period = (begins, None)
            built.current += 1
        elif draw < 0.81:
            begins = start - datetime.timedelta(days=rng.randrange(0, 400))
            ends = start + datetime.timedelta(days=rng.randrange(10, max(span - 10, 11)))
            period = (begins, min(ends, today - datetime.timedelta(days=1)))
        else:
            current.append(None)
            continue
        writer.add((person.pk, *period))
        current.append(period)
    writer.flush()
    built.periods = writer.written
    return current


def _months(start, today):
    """(first day, last day) of each month from the month of `start` to that of `today`."""
    from visits.coverage import month_bounds, shift_month

    first = start.replace(day=1)
    while first <= today:
        yield month_bounds(first)
        first = shift_month(first, 1)


def _visits(rng, people, current, start, today, built):
    from visits.models import Visit

    writer = TableWriter(
        Visit,
        (
            "visit_number",
            "recipient_id",
            "advisor_id",
            "visited_on",
            "method",
            "result",
            "recorded_at",
        ),
    )
    sequences = {}
    street_codes = _street_codes()
    random_ = rng.random
    yesterday = today - datetime.timedelta(days=1)
    for first, last in _months(start, today):
        last = min(last, yesterday)
        if last < first:
            continue
        days = (last - first).days + 1
        middle = first.replace(day=min(15, days))
        for person, period in zip(people, current, strict=True):
            if period is None or period[0] > middle or (period[1] and period[1] < middle):
                continue
            if random_() >= VISITED_SHARE:
                continue
            count = 2 if random_() < SECOND_VISIT_SHARE else 1
            for _ in range(count):
                day = first + datetime.timedelta(days=int(random_() * days))
                code = street_codes[person.street_id]
                sequence = sequences.get(code, 0) + 1
                sequences[code] = sequence
                recorded = datetime.datetime.combine(day, datetime.time(18), tzinfo=datetime.UTC)
                writer.add(
                    (
                        f"ZF{code}{sequence:07d}",
                        person.pk,
                        person.advisor_id,
                        day,
                        _pick_cumulative(random_(), METHODS),
                        _pick_cumulative(random_(), RESULTS),
                        recorded,
                    )
                )
    writer.flush()
    built.visits = writer.written


def _street_codes():
    from stations.models import Street

    return dict(Street.objects.values_list("pk", "code"))


def _services(rng, people, advisors, start, today, size, built):
    from cases.models import ServiceRecord

    writer = TableWriter(
        ServiceRecord,
        (
            "record_number",
            "date",
            "advisor_id",
            "station_id",
            "recipient_id",
            "head_count",
            "item",
            "task",
            "content",
        ),
    )
    span = max((today - start).days, 1)
    street_codes = _street_codes()
    street_stations = advisors["street"]
    sequences = {}
    random_ = rng.random
    for _ in range(size.services):
        person = people[int(random_() * len(people))]
        day = start + datetime.timedelta(days=int(random_() * span))
        code = street_codes[person.street_id]
        sequence = sequences.get(code, 0) + 1
        sequences[code] = sequence
        if random_() < 0.9:
            advisor_id, station_id = person.advisor_id, person.station_id
            recipient_id, head_count = person.pk, None
            task = COMMITTEE_TASKS[int(random_() * len(COMMITTEE_TASKS))]
        else:
            choices = street_stations[person.street_id]
            advisor_id, station_id = choices[int(random_() * len(choices))]
            recipient_id, head_count = None, 5 + int(random_() * 40)
            task = STREET_TASKS[int(random_() * len(STREET_TASKS))]
        writer.add(
            (
                f"FW{code}{sequence:07d}",
                day,
                advisor_id,
                station_id,
                recipient_id,
                head_count,
                SERVICE_ITEMS[int(random_() * len(SERVICE_ITEMS))],
                task,
                "入户了解近况,宣传救助政策",
            )
        )
    writer.flush()
    built.services = writer.written


def _needs(rng, people, start, today, size, built):
    from cases.models import Need

    writer = TableWriter(
        Need,
        (
            "need_number",
            "recipient_id",
            "advisor_id",
            "category",
            "description",
            "source",
            "found_on",
            "urgency",
            "status",
            "closed_on",
        ),
    )
    span = max((today - start).days, 1)
    street_codes = _street_codes()
    sequences = {}
    random_ = rng.random
    for _ in range(size.needs):
        person = people[int(random_() * len(people))]
        found = start + datetime.timedelta(days=int(random_() * span))
        status = _pick_cumulative(random_(), NEED_STATUSES)
        closed = None
        if status == "resolved":
            closed = min(found + datetime.timedelta(days=5 + int(random_() * 60)), today)
        code = street_codes[person.street_id]
        sequence = sequences.get(code, 0) + 1
        sequences[code] = sequence
        writer.add(
            (
                f"XQ{code}{sequence:06d}",
                person.pk,
                person.advisor_id,
                NEED_CATEGORIES[int(random_() * len(NEED_CATEGORIES))],
                "走访中发现的困难,需协调解决",
                "visit",
                found,
                "urgent" if random_() < 0.1 else "normal",
                status,
                closed,
            )
        )
    writer.flush()
    built.needs = writer.written


def _resources(rng, size, today, built):
    from cases.models import Resource
    from stations.models import Street

    writer = TableWriter(
        Resource,
        (
            "resource_number",
            "name",
            "resource_type",
            "provider",
            "area_level",
            "district_id",
            "street_id",
            "valid_from",
        ),
    )
    for street_id, code, district_id, name in Street.objects.order_by("code").values_list(
        "pk", "code", "district_id", "name"
    ):
        for sequence in range(1, size.resources_per_street + 1):
            kind = RESOURCE_TYPES[int(rng.random() * len(RESOURCE_TYPES))]
            writer.add(
                (
                    f"ZY{code}{sequence:05d}",
                    f"{name}救助资源{sequence}",
                    kind,
                    f"{name}社区服务中心",
                    "street",
                    district_id,
                    street_id,
                    today - datetime.timedelta(days=365),
                )
            )
    writer.flush()
    built.resources = writer.written


def _trainings(start, today, built):
    from advisors.models import Training
    from stations.models import Street

    writer = TableWriter(
        Training,
        ("organiser_level", "district_id", "street_id", "date", "title", "hours", "kind"),
    )
    for street_id, district_id in Street.objects.order_by("code").values_list("pk", "district_id"):
        for first, _last in _months(start, today):
            if first.month in (3, 9):
                day = first.replace(day=12)
                if day <= today:
                    writer.add(
                        (
                            "street",
                            district_id,
                            street_id,
                            day,
                            "社区救助顾问专业培训",
                            3,
                            "professional",
                        )
                    )
    writer.flush()
    built.trainings = writer.written
