"""The month summaries of the visit rule (C9), kept in the same transaction as every write.

`PersonMonth` holds, for each person and each month in which they are a current recipient
for at least one day (from their first period's month up to the month in progress), what
`visits.coverage.computed_month` says of that month: the days current, due or not, the first
counted visit, the advisor responsible on the month's last day, and the person's current
street and committee. `CommitteeMonth` adds them up per committee. The pages read these
(hundreds of rows) instead of computing C9 over every period, visit and charge.

One definition: the rows are written by `INSERT INTO ... SELECT` whose SELECT is the
compiled SQL of `coverage.computed_month` over the people concerned, one statement per district
(its `VisitPolicy`) for a run of months, so nothing passes through Python and the summary
cannot disagree with the rule.

Kept up to date:
- by signals, in the write's transaction: a visit saved or deleted (the months of its old and
  new date, its old and new person), a current period (the months of its old and new range),
  a charge of a responsible advisor (the months whose last day it may cover), a person moved
  to another committee (their rows follow them), a person deleted (their committee's
  rollups), a district's policy (the whole district);
- by the bulk writes that bypass signals (`bulk_create`, `QuerySet.update`): each calls
  `refresh_people` once with every person it touched (`record_charges`, the list of current
  recipients, the register's exit, the enrolment of a lead, the demo);
- by `deferred()`: inside it, the hooks only note the people and months they touch, and
  they are refreshed once when it ends (an import of a thousand visits refreshes once);
- by `ensure_month`: a month's rows are made for everybody when the month begins (the daily
  job `visit_summaries`, and lazily by the first read or write of the month, so no figure is
  wrong at midnight on the 1st); `SummaryMonth` marks the months built (every month up to
  the latest marked one is complete);
- by `rebuild()` (`manage.py rebuild_summaries`) after a load that held the hooks off
  (`suspended()`), e.g. the benchmark's data set or the demo.

`differences()` rebuilds into the same tables inside a transaction it rolls back and says
what the kept tables have that a rebuild would not, and the other way round: the test of
the summaries, and `rebuild_summaries --check`.
"""

import datetime
import threading
from contextlib import contextmanager

from django.db import IntegrityError, connection, router, transaction
from django.db.models import Count, DateField, F, Max, Min, Q, Value
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from visits.models import CommitteeMonth, PersonMonth, SummaryMonth, Visit, VisitPolicy

# Months written by one INSERT ... SELECT (a UNION ALL of one SELECT per month).
MONTHS_PER_STATEMENT = 24
# People per statement when a refresh names them (SQLite takes at most 32766 parameters).
PEOPLE_PER_STATEMENT = 5000

COMMITTEE_COLUMNS = {
    "c_committee": "committee_id",
    "c_month": "month",
    "c_street": "street_id",
    "c_due": "due",
    "c_visited": "visited",
}
PERSON_COLUMNS = {
    "s_recipient": "recipient_id",
    "s_month": "month",
    "s_street": "street_id",
    "s_committee": "committee_id",
    "s_days": "days",
    "s_due": "due",
    "s_visit": "first_visit_on",
    "s_advisor": "advisor_id",
}


# Months -----------------------------------------------------------------------------------------


def _first(day):
    return day.replace(day=1)


def _next(first):
    return (first + datetime.timedelta(days=32)).replace(day=1)


def months_from(start, end):
    """The first days of the months from the month of `start` to that of `end`, inclusive."""
    months, first, end = [], _first(start), _first(end)
    while first <= end:
        months.append(first)
        first = _next(first)
    return months


def this_month():
    return _first(timezone.localdate())


def _parts(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Hooks held off or gathered ---------------------------------------------------------------------

_state = threading.local()


def _pending():
    return getattr(_state, "pending", None)


def _suspended():
    return getattr(_state, "suspended", 0) > 0


@contextmanager
def deferred():
    """Refresh once at the end what the writes inside touch (not at each write).

    Use it inside the writes' transaction: the refresh runs as the block ends, before the
    commit. Nested blocks join the outermost one; nothing is refreshed when the block fails
    (its transaction rolls back anyway).
    """
    if _pending() is not None or _suspended():
        yield
        return
    _state.pending = {"all": set(), "months": {}, "committees": set()}
    try:
        yield
        pending = _state.pending
    finally:
        _state.pending = None
    everything = pending["all"]
    if everything:
        refresh_people(sorted(everything))
    by_months = {}
    for recipient_id, months in pending["months"].items():
        if recipient_id not in everything:
            by_months.setdefault(frozenset(months), []).append(recipient_id)
    if by_months:
        # One refresh for all of them, over every month any of them touched (a superset of
        # a person's months recomputes the same rows).
        ids = [pk for ids in by_months.values() for pk in ids]
        months = set().union(*by_months)
        refresh_people(ids, months=sorted(months))
    if pending["committees"]:
        # People deleted inside the block: their rows went with them, their committees' stay.
        _refresh_committees(pending["committees"])


@contextmanager
def suspended():
    """Hold the hooks off (a bulk load): the caller must `rebuild()` before the end of its
    transaction, or the summaries are stale."""
    _state.suspended = getattr(_state, "suspended", 0) + 1
    try:
        yield
    finally:
        _state.suspended -= 1


# Building rows --------------------------------------------------------------------------------


def _policies(district_ids):
    """{district id: VisitPolicy} (the saved one or the defaults) in one query."""
    saved = {p.district_id: p for p in VisitPolicy.objects.filter(district__in=district_ids)}
    return {pk: saved.get(pk) or VisitPolicy(district_id=pk) for pk in district_ids}


def _month_select(people, first, policy):
    """The PersonMonth rows of `people` for the month starting `first`, as a queryset of
    values named like PERSON_COLUMNS: coverage's own expressions (one definition)."""
    from visits.coverage import _in_months, computed_month

    rows = computed_month(_in_months(people.order_by(), [first]), first, policy, "m")
    return rows.values(
        s_recipient=F("pk"),
        s_month=Value(first, output_field=DateField()),
        s_street=F("street_id"),
        s_committee=F("committee_id"),
        s_days=F("m_days"),
        s_due=F("m_due"),
        s_visit=F("m_visit"),
        s_advisor=F("m_advisor"),
    )


def _compiled(queryset):
    """(sql, params, the value names in the order of the SELECT) of a values queryset."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    return sql, list(params), [alias for _expression, _sql, alias in compiler.select]


def _insert(model, names, columns, selects):
    """INSERT INTO the model's table the rows of `selects` ([(sql, params)], UNION ALL) whose
    columns are the value `names`, mapped to the table's columns by `columns`: one statement."""
    if not selects:
        return
    quote = connection.ops.quote_name
    target = ", ".join(quote(columns[name]) for name in names)
    sql = " UNION ALL ".join(select for select, _params in selects)
    params = [param for _select, select_params in selects for param in select_params]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({target}) {sql}", params)


# The month a SELECT is compiled for once, then bound to each real month (its first and last
# days are the only dates among the parameters; no data is dated in January 1900).
TEMPLATE_FIRST = datetime.date(1900, 1, 1)
TEMPLATE_LAST = datetime.date(1900, 1, 31)


def _bind(params, first):
    """The parameters of the template month's SELECT for the month starting `first`."""
    last = _next(first) - datetime.timedelta(days=1)
    bound, found = [], 0
    for param in params:
        for template, day in ((TEMPLATE_FIRST, first), (TEMPLATE_LAST, last)):
            if param == template:
                param, found = day, found + 1
                break
            if param == template.isoformat():
                param, found = day.isoformat(), found + 1
                break
        bound.append(param)
    if not found:
        raise AssertionError("the month's dates were not found among the parameters")
    return bound


def _write_months(people, months, policy):
    """Insert the rows of `people` (a Recipient queryset of one district) for `months`: the
    SELECT of coverage's expressions compiled once, bound to each month, a UNION ALL of
    MONTHS_PER_STATEMENT months per statement."""
    sql, params, names = _compiled(_month_select(people, TEMPLATE_FIRST, policy))
    for part in _parts(months, MONTHS_PER_STATEMENT):
        _insert(PersonMonth, names, PERSON_COLUMNS, [(sql, _bind(params, first)) for first in part])


def _refresh_committees(committee_ids=None, months=None, streets=None):
    """Recompute the CommitteeMonth rows of `committee_ids` (or of the committees of
    `streets`, or all) in `months` (or all) from PersonMonth. Two queries."""
    rollups = CommitteeMonth.objects.all()
    persons = PersonMonth.objects.all()
    if committee_ids is not None:
        committee_ids = sorted(set(committee_ids) - {None})
        if not committee_ids:
            return
        rollups = rollups.filter(committee__in=committee_ids)
        persons = persons.filter(committee__in=committee_ids)
    if streets is not None:
        rollups = rollups.filter(street__in=streets)
        persons = persons.filter(street__in=streets)
    if months is not None:
        months = sorted(set(months))
        if not months:
            return
        rollups = rollups.filter(month__in=months)
        persons = persons.filter(month__in=months)
    rollups.delete()
    grouped = (
        persons.order_by()
        .values("committee_id", "month", "street_id")
        .annotate(
            c_due=Count("pk", filter=Q(due=True)),
            c_visited=Count("pk", filter=Q(due=True, first_visit_on__isnull=False)),
        )
        .values(
            c_committee=F("committee_id"),
            c_month=F("month"),
            c_street=F("street_id"),
            c_due=F("c_due"),
            c_visited=F("c_visited"),
        )
    )
    sql, params, names = _compiled(grouped)
    _insert(CommitteeMonth, names, COMMITTEE_COLUMNS, [(sql, params)])


def _people():
    from cases.models import Recipient

    return Recipient.objects.all()


# The service ----------------------------------------------------------------------------------


def refresh_people(recipient_ids, months=None, *, new=False):
    """Recompute the PersonMonth rows of these people (all their months, or only `months`),
    then the CommitteeMonth rows those rows touch (old and new committees).

    `recipient_ids`: ids, or a queryset of people. A fixed number of queries per district
    and run of MONTHS_PER_STATEMENT months (per PEOPLE_PER_STATEMENT people). `new`: the
    people were just created, so they have no rows yet to look up and remove (looking up
    5,000 people's rows read the whole table: 0.8 s per 5,000 people at Shanghai scale)."""
    if _suspended():
        return
    if hasattr(recipient_ids, "values_list"):
        recipient_ids = recipient_ids.values_list("pk", flat=True)
    ids = sorted({pk for pk in recipient_ids if pk is not None})
    if not ids:
        return
    if months is not None:
        months = sorted({_first(month) for month in months})
        if not months:
            return
    pending = _pending()
    if pending is not None:
        if months is None:
            pending["all"].update(ids)
        else:
            for pk in ids:
                pending["months"].setdefault(pk, set()).update(months)
        return
    with transaction.atomic(using=router.db_for_write(PersonMonth)):
        current = this_month()
        ensure_month(current)
        if months is not None:
            months = [month for month in months if month <= current]
            if not months:
                return
        for part in _parts(ids, PEOPLE_PER_STATEMENT):
            _refresh_part(part, months, current, new)


def _refresh_part(ids, months, current, new=False):
    people = _people().filter(pk__in=ids)
    districts = {}
    earliest = None
    for district_id, committee_id, first in (
        people.order_by()
        .values_list("street__district_id", "committee_id")
        .annotate(first=Min("periods__starts_on"))
    ):
        districts.setdefault(district_id, set()).add(committee_id)
        if first is not None and (earliest is None or first < earliest):
            earliest = first
    touched = set()
    if not new:
        old = PersonMonth.objects.filter(recipient__in=ids)
        if months is not None:
            old = old.filter(month__in=months)
        touched = set(old.order_by().values_list("committee_id", "month").distinct())
        old.delete()
    if months is None:
        months = months_from(earliest, current) if earliest and earliest <= current else []
    if months:
        policies = _policies(list(districts))
        for district_id in districts:
            _write_months(
                people.filter(street__district=district_id), months, policies[district_id]
            )
    committees = {committee for committee, _month in touched}
    for committee_ids in districts.values():
        committees |= committee_ids
    _refresh_committees(committees, {month for _c, month in touched} | set(months))


def refresh_district(district_id):
    """Recompute every row of a district's people (after a change of its policy)."""
    if _suspended():
        return
    from cases.models import Recipient
    from stations.models import Street

    district_id = getattr(district_id, "pk", district_id)
    with transaction.atomic(using=router.db_for_write(PersonMonth)):
        current = this_month()
        ensure_month(current)
        people = Recipient.objects.filter(street__district=district_id)
        old = PersonMonth.objects.filter(recipient__in=people.values("pk"))
        old.delete()
        earliest = people.aggregate(first=Min("periods__starts_on"))["first"]
        if earliest is not None and earliest <= current:
            policy = _policies([district_id])[district_id]
            _write_months(people, months_from(earliest, current), policy)
        _refresh_committees(streets=Street.objects.filter(district=district_id).values("pk"))


def _build_months(months):
    """Rows of every person for `months` (rows of those months replaced)."""
    from cases.models import Recipient

    months = sorted(set(months))
    old = PersonMonth.objects.filter(month__in=months)
    old.delete()
    district_ids = list(
        Recipient.objects.order_by()
        .filter(periods__isnull=False)
        .values_list("street__district_id", flat=True)
        .distinct()
    )
    policies = _policies(district_ids)
    for district_id in district_ids:
        _write_months(
            Recipient.objects.filter(street__district=district_id), months, policies[district_id]
        )
    _refresh_committees(months=months)


def rebuild():
    """Recompute both tables from the base tables (every month up to this one)."""
    with transaction.atomic(using=router.db_for_write(PersonMonth)):
        from cases.models import CurrentPeriod

        current = this_month()
        for model in (PersonMonth, CommitteeMonth, SummaryMonth):
            rows = model.objects.all()
            rows.delete()
        earliest = CurrentPeriod.objects.aggregate(first=Min("starts_on"))["first"]
        months = months_from(earliest, current) if earliest and earliest <= current else []
        if months:
            _build_months(months)
        SummaryMonth.objects.create(month=current)


def ensure_month(first=None):
    """Make sure everybody's rows of the month starting `first` (this month by default) exist.

    The rows of every month up to the latest one built (`SummaryMonth`) are complete: each
    write refreshes its people over all their months up to the month in progress. Only time
    makes a month incomplete: when it begins, nobody has its row yet. So this builds the
    months after the latest one built, up to `first`, and marks `first` built (everything,
    when nothing ever was). Idempotent: one query when `first` is built already; a second
    request building the same month at the same time waits for the first, then finds it
    built. Returns whether it built anything."""
    first = _first(first or this_month())
    if SummaryMonth.objects.filter(month__gte=first).exists():
        return False
    with transaction.atomic(using=router.db_for_write(PersonMonth)):
        latest = SummaryMonth.objects.aggregate(latest=Max("month"))["latest"]
        try:
            with transaction.atomic(using=router.db_for_write(PersonMonth)):
                SummaryMonth.objects.create(month=first)
        except IntegrityError:
            return False
        if latest is None:
            rebuild()
            SummaryMonth.objects.get_or_create(month=first)
        elif latest < first:
            _build_months(months_from(_next(latest), first))
    return True


# Checking ---------------------------------------------------------------------------------------

PERSON_FIELDS = list(PERSON_COLUMNS.values())
COMMITTEE_FIELDS = ["committee_id", "month", "street_id", "due", "visited"]


def differences(limit=20):
    """What the kept tables hold that a rebuild from the base tables would not, and the other
    way round: {"person_months": [...], "committee_months": [...]}, each a list of
    ("多余" | "缺少", row values) (at most `limit` of each kind); empty lists when they agree.

    Rebuilds inside a transaction it rolls back: nothing is written. The comparison runs in
    the database (a temporary copy of the kept rows, EXCEPT both ways)."""
    quote = connection.ops.quote_name
    tables = {
        "person_months": (PersonMonth._meta.db_table, PERSON_FIELDS),
        "committee_months": (CommitteeMonth._meta.db_table, COMMITTEE_FIELDS),
    }
    found = {name: [] for name in tables}
    with transaction.atomic(using=router.db_for_write(PersonMonth)):
        with connection.cursor() as cursor:
            for table, fields in tables.values():
                columns = ", ".join(quote(field) for field in fields)
                cursor.execute(f"DROP TABLE IF EXISTS {quote('kept_' + table)}")
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {quote('kept_' + table)} AS "
                    f"SELECT {columns} FROM {quote(table)}"
                )
            rebuild()
            for name, (table, fields) in tables.items():
                columns = ", ".join(quote(field) for field in fields)
                kept, fresh = quote("kept_" + table), quote(table)
                for label, first, second in (("多余", kept, fresh), ("缺少", fresh, kept)):
                    cursor.execute(
                        f"SELECT {columns} FROM {first} EXCEPT SELECT {columns} FROM {second}"
                    )
                    found[name].extend((label, row) for row in cursor.fetchmany(limit))
                cursor.execute(f"DROP TABLE {kept}")
        transaction.set_rollback(True)
    return found


# Hooks ----------------------------------------------------------------------------------------


def _stash(instance, fields):
    """The stored values of `fields` of the row being saved (None for a new row)."""
    if instance.pk is None:
        return None
    return type(instance)._base_manager.filter(pk=instance.pk).values(*fields).first()


def _affects(update_fields, fields):
    return update_fields is None or bool(set(update_fields) & set(fields))


VISIT_FIELDS = ("recipient_id", "visited_on", "withdrawn_at", "result", "method")


def _visit_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or _suspended() or not _affects(update_fields, VISIT_FIELDS + ("recipient",)):
        instance._summary_before = False
        return
    instance._summary_before = _stash(instance, VISIT_FIELDS)


def _visit_post_save(sender, instance, created=False, raw=False, **kwargs):
    before = getattr(instance, "_summary_before", None)
    instance._summary_before = None
    if raw or before is False:
        return
    after = {name: getattr(instance, name) for name in VISIT_FIELDS}
    if before == after:
        return
    people = {after["recipient_id"]}
    months = {after["visited_on"]}
    if before:
        people.add(before["recipient_id"])
        months.add(before["visited_on"])
    refresh_people(people, months=[m for m in months if m is not None])


def _visit_post_delete(sender, instance, **kwargs):
    if instance.recipient_id and instance.visited_on:
        refresh_people([instance.recipient_id], months=[instance.visited_on])


PERIOD_FIELDS = ("recipient_id", "starts_on", "ends_on")


def _period_pre_save(sender, instance, raw=False, **kwargs):
    instance._summary_before = None if raw or _suspended() else _stash(instance, PERIOD_FIELDS)


def _span_months(ranges):
    """The months from the earliest start to the latest end (None: to this month)."""
    current = this_month()
    starts = [start for start, _end in ranges if start is not None]
    if not starts:
        return []
    ends = [end for _start, end in ranges]
    end = current if any(e is None for e in ends) else min(max(ends), current)
    return months_from(min(starts), end) if min(starts) <= end else []


def _period_post_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_summary_before", None)
    ranges = [(instance.starts_on, instance.ends_on)]
    people = {instance.recipient_id}
    if before:
        if (before["starts_on"], before["ends_on"], before["recipient_id"]) == (
            instance.starts_on,
            instance.ends_on,
            instance.recipient_id,
        ):
            return
        ranges.append((before["starts_on"], before["ends_on"]))
        people.add(before["recipient_id"])
    refresh_people(people, months=_span_months(ranges))


def _period_post_delete(sender, instance, **kwargs):
    refresh_people(
        [instance.recipient_id], months=_span_months([(instance.starts_on, instance.ends_on)])
    )


CHARGE_FIELDS = ("recipient_id", "advisor_id", "starts_on", "ends_on")


def _charge_pre_save(sender, instance, raw=False, **kwargs):
    instance._summary_before = None if raw or _suspended() else _stash(instance, CHARGE_FIELDS)


def _charge_months(starts_on):
    """The months whose last day may be covered from `starts_on` on, up to this month."""
    current = this_month()
    return months_from(starts_on, current) if starts_on and starts_on <= current else []


def _charge_post_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_summary_before", None)
    people = {instance.recipient_id}
    since = instance.starts_on
    if before:
        people.add(before["recipient_id"])
        if before["starts_on"] != instance.starts_on or before["recipient_id"] != (
            instance.recipient_id
        ):
            since = min(before["starts_on"], instance.starts_on)
        elif before["advisor_id"] == instance.advisor_id and (
            before["ends_on"] == instance.ends_on
        ):
            return
        elif before["advisor_id"] == instance.advisor_id:
            # Only the end moved: the days between the two ends changed hands.
            ends = [end for end in (before["ends_on"], instance.ends_on) if end is not None]
            since = min(ends) + datetime.timedelta(days=1)
    refresh_people(people, months=_charge_months(since))


def _charge_post_delete(sender, instance, **kwargs):
    refresh_people([instance.recipient_id], months=_charge_months(instance.starts_on))


def _recipient_post_save(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    """A person moved to another committee: their rows follow them (coverage counts a person
    in their current committee and street in every month)."""
    if raw or created or _suspended():
        return
    if not _affects(update_fields, ("committee", "committee_id", "street", "street_id")):
        return
    moved = PersonMonth.objects.filter(recipient=instance.pk).exclude(
        committee=instance.committee_id, street=instance.street_id
    )
    before = list(moved.order_by().values_list("committee_id", "month").distinct())
    if not before:
        return
    if _pending() is not None:
        refresh_people([instance.pk])
        return
    with transaction.atomic(using=router.db_for_write(PersonMonth)):
        moved.update(committee=instance.committee_id, street=instance.street_id)
        _refresh_committees(
            {committee for committee, _month in before} | {instance.committee_id},
            {month for _committee, month in before}
            | set(
                PersonMonth.objects.filter(recipient=instance.pk).values_list("month", flat=True)
            ),
        )


def _recipient_post_delete(sender, instance, **kwargs):
    if _suspended():
        return
    pending = _pending()
    if pending is not None:
        pending["committees"].add(instance.committee_id)
    else:
        _refresh_committees([instance.committee_id])


POLICY_FIELDS = ("due_days", "excluded_methods")


def _policy_pre_save(sender, instance, raw=False, **kwargs):
    if raw or _suspended():
        instance._summary_before = False
        return
    before = _stash(instance, POLICY_FIELDS)
    if before is None:
        defaults = VisitPolicy()
        before = {name: getattr(defaults, name) for name in POLICY_FIELDS}
    instance._summary_before = before


def _same_policy(before, policy):
    return before["due_days"] == policy.due_days and sorted(
        before["excluded_methods"] or ()
    ) == sorted(policy.excluded_methods or ())


def _policy_post_save(sender, instance, raw=False, **kwargs):
    before = getattr(instance, "_summary_before", None)
    if raw or before is False or (before and _same_policy(before, instance)):
        return
    refresh_district(instance.district_id)


def _policy_post_delete(sender, instance, **kwargs):
    defaults = VisitPolicy()
    before = {name: getattr(instance, name) for name in POLICY_FIELDS}
    if not _same_policy(before, defaults):
        refresh_district(instance.district_id)


def connect():
    """Connect the hooks (from `VisitsConfig.ready`)."""
    from cases.models import AdvisorCharge, CurrentPeriod, Recipient

    hooks = [
        (pre_save, Visit, _visit_pre_save),
        (post_save, Visit, _visit_post_save),
        (post_delete, Visit, _visit_post_delete),
        (pre_save, CurrentPeriod, _period_pre_save),
        (post_save, CurrentPeriod, _period_post_save),
        (post_delete, CurrentPeriod, _period_post_delete),
        (pre_save, AdvisorCharge, _charge_pre_save),
        (post_save, AdvisorCharge, _charge_post_save),
        (post_delete, AdvisorCharge, _charge_post_delete),
        (post_save, Recipient, _recipient_post_save),
        (post_delete, Recipient, _recipient_post_delete),
        (pre_save, VisitPolicy, _policy_pre_save),
        (post_save, VisitPolicy, _policy_post_save),
        (post_delete, VisitPolicy, _policy_post_delete),
    ]
    for signal, model, receiver in hooks:
        signal.connect(receiver, sender=model, dispatch_uid=f"summaries.{receiver.__name__}")
