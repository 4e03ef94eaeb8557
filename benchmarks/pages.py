"""The page benchmark: how long the pages of issue 9 take, server-side, for each role.

Every page is requested through Django's test client (`django.test.Client`, logged in with
`force_login`) in this process, as the three logins of `benchmarks.users.bench_users()`:
bureau staff of 长宁区, the manager of its busiest street and that street's busiest advisor.
A page is measured for each role that may open it (`PAGES`); a role the page refuses is
left out, not measured. What the pages show is picked from the data, deterministically
(`pick_subjects`): the manager's street, the person in the advisor's charge with the most
visits (their name, `name_initials` and `id_tail` as stored, nothing decrypted), last month
and last month's year.

Each page: `WARM_UP` requests first for each role (the second one counts the queries, with
`CaptureQueriesContext` on the default connection), then `repeat` timed rounds of one
request per role (`time.perf_counter`, the test client's own work included). Every answer
must be 200: any other (a redirect, a refusal, an error) is a failure of the run
(`Section.failures`) and the page is left out of the results for that role. The medians
and 95th percentiles are set against the targets of issue 9 (`TARGET_P50_MS`,
`TARGET_P95_MS`, and a street manager's page no slower than the bureau's same page, both
timed in the same rounds); the table marks the pages that miss them, the run does not fail
on them. `compare_queries` checks the query counts against a run at another scale.

The benchmark's process runs with DEBUG off and the production settings: HTTPS (the client
asks over https), `ALLOWED_HOSTS` (the client's `testserver` is let in for the run) and the
second factor of `OTP_REQUIRED_ROLES`: a login of such a role is given an authenticator and
a session verified with it, as after a login with its code.
"""

import math
import os
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks import Section
from benchmarks.run import _cell, _width

BUREAU = "bureau"
STREET_MANAGER = "street_manager"
ADVISOR = "advisor"
ROLES = (BUREAU, STREET_MANAGER, ADVISOR)
ROLE_LABELS = {BUREAU: "区民政局", STREET_MANAGER: "街镇管理员", ADVISOR: "社区救助顾问"}
EVERYONE = ROLES
KEEPERS = (BUREAU, STREET_MANAGER)

WARM_UP = 2
TARGET_P50_MS = 150
TARGET_P95_MS = 300
# A street manager's median counts as slower than the bureau's when it is more than this
# much above it: a few per cent, or a few milliseconds on a fast page, either way is the
# noise of a shared machine (a 25 ms page measured 23.6 and 25.8 ms on two runs).
SLOWER_MARGIN = 1.05
SLOWER_MARGIN_MS = 5
DEVICE_NAME = "基准测试验证器"


@dataclass(frozen=True)
class Subjects:
    """What the pages are asked about (see `pick_subjects`)."""

    street_code: str
    street_name: str
    recipient_pk: int | None
    file_number: str
    name: str
    initials: str
    id_tail: str
    month: str  # a period key: 2026-11
    year: str  # 2026


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    roles: tuple
    needs_person: bool = False

    def url(self, subjects):
        return _URLS[self.key](subjects)


def _recipients(query):
    return reverse("cases:recipients") + "?" + urlencode({"q": query})


_URLS = {
    "dashboard": lambda s: reverse("supervision:dashboard"),
    "street": lambda s: reverse("stations:street_detail", kwargs={"code": s.street_code}),
    "compliance_month": lambda s: reverse("supervision:compliance") + f"?period={s.month}",
    "compliance_year": lambda s: reverse("supervision:compliance") + f"?period={s.year}",
    "matrix": lambda s: reverse("visits:matrix") + f"?street={s.street_code}",
    "desk": lambda s: reverse("visits:desk"),
    "recipient": lambda s: reverse("cases:recipient_detail", kwargs={"pk": s.recipient_pk}),
    "search_name": lambda s: _recipients(s.name),
    "search_initials": lambda s: _recipients(s.initials),
    "search_id_tail": lambda s: _recipients(s.id_tail),
    "roster": lambda s: reverse("advisors:roster"),
    "needs": lambda s: reverse("cases:needs"),
    "resources": lambda s: reverse("cases:resources"),
    "services": lambda s: reverse("cases:services"),
    "leads": lambda s: reverse("cases:leads"),
}

# Who may open each page, as its view decides: the dashboard and the compliance page are
# the bureau's and a street manager's (supervision.dashboard.scope_for), the desk is the
# advisor's own (visits.desk_views); the rest are open to all three, each in their scope.
PAGES = (
    Page("dashboard", "督导考核看板", KEEPERS),
    Page("street", "街镇主页", EVERYONE),
    Page("compliance_month", "达标情况·月", KEEPERS),
    Page("compliance_year", "达标情况·年", KEEPERS),
    Page("matrix", "走访矩阵(街镇)", EVERYONE),
    Page("desk", "走访工作台", (ADVISOR,)),
    Page("recipient", "困难人员档案", EVERYONE, needs_person=True),
    Page("search_name", "按姓名查找", EVERYONE, needs_person=True),
    Page("search_initials", "按拼音首字母查找", EVERYONE, needs_person=True),
    Page("search_id_tail", "按身份证号后4位查找", EVERYONE, needs_person=True),
    Page("roster", "人员清单(顾问)", EVERYONE),
    Page("needs", "需求清单", EVERYONE),
    Page("resources", "资源清单", EVERYONE),
    Page("services", "服务清单", EVERYONE),
    Page("leads", "政策找人线索", EVERYONE),
)
PAGE_LABELS = {page.key: page.label for page in PAGES}


# What the pages show ---------------------------------------------------------------------


def pick_person(advisor_user, street):
    """The person in the advisor's charge with the most visits (ties: the lowest pk); without
    an advisor or a charge, the street's first person. None when the street has nobody."""
    from advisors.models import Advisor
    from cases.models import Recipient

    advisor = Advisor.objects.filter(user=advisor_user).first() if advisor_user else None
    if advisor is not None:
        person = (
            Recipient.objects.filter(advisor=advisor)
            .annotate(visit_count=Count("visits"))
            .order_by("-visit_count", "pk")
            .first()
        )
        if person is not None:
            return person
    return Recipient.objects.filter(street=street).order_by("pk").first()


def pick_subjects(users, today=None):
    """The street, person, search texts and periods the pages are asked about."""
    from visits.coverage import current_month, shift_month

    street = users[STREET_MANAGER].street
    person = pick_person(users.get(ADVISOR), street)
    last_month = shift_month(current_month(today), -1)
    return Subjects(
        street_code=street.code,
        street_name=street.name,
        recipient_pk=person.pk if person else None,
        file_number=person.file_number if person else "",
        name=person.name if person else "",
        initials=person.name_initials.split("|")[0] if person else "",
        id_tail=person.id_tail if person else "",
        month=f"{last_month:%Y-%m}",
        year=f"{last_month:%Y}",
    )


# Measuring ------------------------------------------------------------------------------


def logged_in_client(user):
    """A test client logged in as `user`, past the second factor when the role needs it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.second_factor import new_secret, requires_second_factor

    client = Client(raise_request_exception=False)
    client.force_login(user)
    if requires_second_factor(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(
                user=user, name=DEVICE_NAME, key=new_secret(), confirmed=True
            )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def percentile(values, share):
    """The nearest-rank percentile of `values` (share 0.95 for the 95th)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


class PageFailed(Exception):
    """A page answered something other than 200; the message (Chinese) says what."""


def _get(client, url):
    response = client.get(url, secure=True)
    if response.status_code != 200:
        answer = f"状态 {response.status_code}"
        if response.status_code in (301, 302, 303, 307, 308):
            answer += f",转向 {response.get('Location', '')}"
        if getattr(response, "exc_info", None):
            error = response.exc_info[1]
            answer += f",异常 {type(error).__name__}: {error}"
        raise PageFailed(answer)
    return response


@dataclass
class PageResult:
    page: Page
    role: str
    url: str
    p50_ms: float
    p95_ms: float
    queries: int

    @property
    def name(self):
        return f"{self.page.key}.{self.role}"

    def as_json(self):
        return {
            "role": self.role,
            "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1),
            "queries": self.queries,
        }


def count_queries(client, url):
    """The queries of one request of `url`, after the warm-up ones; PageFailed."""
    for _ in range(WARM_UP - 1):
        _get(client, url)
    with CaptureQueriesContext(connection) as captured:
        _get(client, url)
    # Now: the next request empties the connection's log that `captured` reads from.
    return len(captured.captured_queries)


def timed_ms(client, url):
    started = time.perf_counter()
    _get(client, url)
    return (time.perf_counter() - started) * 1000


def _refusal(page, role, url, failure):
    return f"页面 {page.key}.{role}({page.label},{ROLE_LABELS[role]})打不开:{url} 应答 {failure}。"


def measure_pages(users, subjects, repeat=20, pages=PAGES):
    """([PageResult], failures): every page of `pages` for every role that may open it.

    The roles that open a page are timed in turn, one request each per round, so that the
    speed of a shared machine, which drifts over a run, weighs on each alike: a street
    manager's page is set against the bureau's measured at the same moments. The results
    are listed role by role, the pages in `pages` order.
    """
    clients = {role: logged_in_client(users[role]) for role in ROLES if users.get(role)}
    results = []
    failures = []
    for page in pages:
        if page.needs_person and subjects.recipient_pk is None:
            continue
        url = page.url(subjects)
        queries = {}
        times = {}
        for role in ROLES:
            if role not in clients or role not in page.roles:
                continue
            try:
                queries[role] = count_queries(clients[role], url)
                times[role] = []
            except PageFailed as failure:
                failures.append(_refusal(page, role, url, failure))
        for _ in range(repeat):
            for role, role_times in list(times.items()):
                try:
                    role_times.append(timed_ms(clients[role], url))
                except PageFailed as failure:
                    failures.append(_refusal(page, role, url, failure))
                    del times[role]
        results += [
            PageResult(
                page,
                role,
                url,
                statistics.median(role_times),
                percentile(role_times, 0.95),
                queries[role],
            )
            for role, role_times in times.items()
        ]
    results.sort(key=lambda result: ROLES.index(result.role))
    return results, failures


def _slower_than_bureau(result, by_name):
    if result.role != STREET_MANAGER:
        return None
    bureau = by_name.get(f"{result.page.key}.{BUREAU}")
    allowed = max(bureau.p50_ms * SLOWER_MARGIN, bureau.p50_ms + SLOWER_MARGIN_MS) if bureau else 0
    if bureau is None or result.p50_ms <= allowed:
        return None
    return bureau


def verdict(result, by_name):
    """The target column of `result`: 达到, or what it misses."""
    missed = []
    if result.p50_ms > TARGET_P50_MS:
        missed.append(f"中位数超过{TARGET_P50_MS}")
    if result.p95_ms > TARGET_P95_MS:
        missed.append(f"P95超过{TARGET_P95_MS}")
    bureau = _slower_than_bureau(result, by_name)
    if bureau is not None:
        missed.append(f"慢于区民政局({bureau.p50_ms:.1f})")
    return "未达到:" + "、".join(missed) if missed else "达到"


def table(results):
    """The results as lines of a table (Chinese headers, aligned), targets marked."""
    by_name = {result.name: result for result in results}
    headers = ["页面", "角色", "中位数ms", "P95ms", "查询数", "目标"]
    rows = [
        [
            f"{result.page.label} {result.page.key}",
            ROLE_LABELS[result.role],
            f"{result.p50_ms:.1f}",
            f"{result.p95_ms:.1f}",
            result.queries,
            verdict(result, by_name),
        ]
        for result in results
    ]
    widths = [max(_width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    left = {0, 1, 5}
    return [
        "  ".join(_cell(value, widths[i], left=i in left) for i, value in enumerate(row)).rstrip()
        for row in [headers, *rows]
    ]


def summary(results, subjects):
    """The lines after the table: what was asked and how many pages miss the targets."""
    by_name = {result.name: result for result in results}
    missed = [result for result in results if verdict(result, by_name) != "达到"]
    lines = [
        f"页面测量对象:街镇 {subjects.street_name}({subjects.street_code}),"
        f"困难人员档案 {subjects.file_number or '无'},"
        f"查找 “{subjects.name}”/“{subjects.initials}”/“{subjects.id_tail}”,"
        f"统计期 {subjects.month} 和 {subjects.year}。",
        f"目标:每个页面中位数 ≤{TARGET_P50_MS} ms、P95 ≤{TARGET_P95_MS} ms,街镇管理员的页面"
        f"不慢于区民政局的同一页面;{len(results)} 项中"
        + (f"{len(missed)} 项未达到。" if missed else "全部达到。"),
    ]
    if hasattr(os, "getloadavg"):
        lines.append(f"机器负载(1分钟平均):{os.getloadavg()[0]:.1f},CPU {os.cpu_count()} 个。")
    return lines


def run(repeat=20):
    """Measure every page for every role (see the module): a `benchmarks.Section`."""
    from benchmarks.users import bench_users

    section = Section()
    users = bench_users()
    if users.get(ADVISOR) is None:
        section.failures.append("数据集中没有社区救助顾问:顾问的页面没有测量。")
    subjects = pick_subjects(users)
    if subjects.recipient_pk is None:
        section.failures.append(
            f"街镇 {subjects.street_name} 没有困难人员:人员档案和查找页面没有测量。"
        )
    hosts = list(settings.ALLOWED_HOSTS)
    with override_settings(ALLOWED_HOSTS=[*hosts, "testserver"]):
        results, failures = measure_pages(users, subjects, repeat)
    section.failures += failures
    section.pages = {result.name: result.as_json() for result in results}
    section.lines = table(results) + summary(results, subjects)
    return section


def compare_queries(pages, other_document):
    """Failures (Chinese) for the pages whose query count differs from `other_document`'s.

    `other_document` is a results document of another scale (`benchmarks/results/*.json`);
    pages that only one of the two measured are not compared.
    """
    other_pages = (other_document or {}).get("pages") or {}
    scale = (other_document or {}).get("scale") or "另一"
    failures = []
    for name, figures in pages.items():
        other = other_pages.get(name)
        if other is None or other.get("queries") == figures["queries"]:
            continue
        key, _dot, role = name.partition(".")
        label = PAGE_LABELS.get(key, key)
        failures.append(
            f"页面 {name}({label},{ROLE_LABELS.get(role, role)})的查询数为 "
            f"{figures['queries']},在 {scale} 规模下为 {other.get('queries')}:"
            "查询数应与数据量无关。"
        )
    return failures
