"""Service evaluation (服务评议): the public rating page, the QR code poster, satisfaction."""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import segno
import zxingcpp
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import satisfaction
from cases.choices import EvaluationSource, Rating
from cases.models import Evaluation
from cases.satisfaction import Period, Satisfaction
from cases.tests.factories import id_number
from stations.choices import StationStatus
from stations.models import Station
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_street,
    street_station,
)

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
SATISFIED, FAIRLY, DISSATISFIED = Rating.SATISFIED, Rating.FAIRLY_SATISFIED, Rating.DISSATISFIED


@pytest.fixture(autouse=True)
def empty_cache():
    """The flood counters live in the cache: every test starts and ends without any."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def point_a(two_streets):
    point = committee_point(two_streets.committees_a[0])
    point.address = "华阳路街道华一小区3号"
    point.phone = "021-6251 0000"
    point.save()
    return point


def public_url(station):
    return reverse("public_evaluation:evaluate", args=[station.pk])


def rate(client, station, rating=SATISFIED, comment="", ip="203.0.113.10", **extra):
    return client.post(
        public_url(station), {"rating": rating, "comment": comment}, REMOTE_ADDR=ip, **extra
    )


def make_evaluation(station, rating, *, at=None, comment="", source=EvaluationSource.PUBLIC):
    """An evaluation of `station`, made at `at` (an aware datetime; now by default)."""
    evaluation = Evaluation.objects.create(
        station=station, rating=rating, comment=comment, source=source
    )
    if at is not None:
        Evaluation.objects.filter(pk=evaluation.pk).update(created_at=at)
    return evaluation


def at(*args):
    """A moment in Asia/Shanghai."""
    return datetime.datetime(*args, tzinfo=SHANGHAI)


# The public page ------------------------------------------------------------------------------


def test_public_page_opens_without_login_and_shows_the_station(client, point_a):
    response = client.get(public_url(point_a))

    assert response.status_code == 200
    body = response.content.decode()
    assert point_a.name in body  # the standard name
    assert "华阳路街道华一小区3号" in body and "021-6251 0000" in body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    for label in ("满意", "基本满意", "不满意"):
        assert f'<span class="evaluate-choice__face">{label}</span>' in body
    assert 'name="csrfmiddlewaretoken"' in body
    # No script at all, and the page is never cached (in-app browsers keep pages long).
    assert "<script" not in body
    assert "no-store" in response["Cache-Control"]


def test_a_rating_is_saved_with_csrf_and_the_person_is_thanked(point_a):
    browser = Client(enforce_csrf_checks=True)
    browser.get(public_url(point_a))
    token = browser.cookies["csrftoken"].value

    response = browser.post(
        public_url(point_a),
        {
            "rating": FAIRLY,
            "comment": "  顾问很耐心\r\n就是等了一会儿  ",
            "csrfmiddlewaretoken": token,
        },
        REMOTE_ADDR="203.0.113.10",
    )

    assert response.status_code == 302
    assert response["Location"] == public_url(point_a) + "?done=1"
    evaluation = Evaluation.objects.get()
    assert evaluation.station == point_a
    assert evaluation.rating == FAIRLY
    assert evaluation.comment == "顾问很耐心\n就是等了一会儿"
    assert evaluation.source == EvaluationSource.PUBLIC
    assert evaluation.entered_by is None and evaluation.service is None
    thanks = browser.get(response["Location"])
    assert thanks.status_code == 200
    assert "感谢您的评议" in thanks.content.decode()
    assert point_a.name in thanks.content.decode()


def test_a_post_without_the_csrf_token_is_refused(point_a):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(public_url(point_a), {"rating": SATISFIED})
    assert response.status_code == 403
    assert not Evaluation.objects.exists()


def test_the_rating_keeps_nothing_about_the_person(client, point_a):
    rate(client, point_a, comment="很好", HTTP_USER_AGENT="MicroMessenger/8.0", ip="203.0.113.10")
    [row] = Evaluation.objects.values()
    assert "203.0.113.10" not in str(row) and "MicroMessenger" not in str(row)


@pytest.mark.parametrize("status", [StationStatus.PLANNING, StationStatus.SUSPENDED])
def test_only_running_stations_can_be_rated(client, point_a, status):
    Station.objects.filter(pk=point_a.pk).update(status=status)
    assert client.get(public_url(point_a)).status_code == 404
    assert rate(client, point_a).status_code == 404
    assert client.get(public_url(point_a) + "?done=1").status_code == 404
    assert not Evaluation.objects.exists()


def test_a_missing_station_is_404(client, point_a):
    missing = Station.objects.order_by("-pk").first().pk + 1
    assert client.get(reverse("public_evaluation:evaluate", args=[missing])).status_code == 404


def test_a_rating_must_be_chosen(client, point_a):
    response = client.post(public_url(point_a), {"rating": "", "comment": "没选"})
    assert response.status_code == 200
    assert "请选择“满意”“基本满意”或“不满意”" in response.content.decode()
    assert client.post(public_url(point_a), {"rating": "excellent"}).status_code == 200
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize(
    "comment", ["abc\x00def", "响铃\x07", "\x1b[31m红字", "反转\u202e文字", "a\x7fb", "tab\tbed"]
)
def test_control_characters_are_refused(client, point_a, comment):
    response = rate(client, point_a, comment=comment)
    assert response.status_code == 200
    assert "控制字符" in response.content.decode()
    assert not Evaluation.objects.exists()


def test_a_comment_of_500_characters_with_line_breaks_fits_and_501_does_not(client, point_a):
    # A browser sends each line break as CR LF; it counts as one character, as typed.
    assert rate(client, point_a, comment="好\r\n" * 250).status_code == 302
    assert len(Evaluation.objects.get().comment) == 499  # the last line break is trimmed
    response = rate(client, point_a, comment="好" * 501, ip="203.0.113.11")
    assert response.status_code == 200
    assert "最多 500 个字" in response.content.decode()
    assert Evaluation.objects.count() == 1


def test_an_id_number_typed_into_a_comment_is_masked(client, point_a):
    number = id_number()
    assert rate(client, point_a, comment=f"我的身份证{number}请回电").status_code == 302
    comment = Evaluation.objects.get().comment
    assert number not in comment
    assert comment == f"我的身份证{number[:6]}********{number[-4:]}请回电"


def test_a_robot_filling_the_hidden_field_is_thanked_and_ignored(client, point_a):
    response = client.post(
        public_url(point_a), {"rating": SATISFIED, "comment": "buy now", "website": "http://x"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?done=1")
    assert not Evaluation.objects.exists()


# Flood limits ---------------------------------------------------------------------------------


def test_one_client_rates_a_station_n_times_an_hour_then_gets_429(client, point_a, settings):
    settings.EVALUATION_LIMIT_PER_STATION_HOUR = 3
    for _ in range(3):
        assert rate(client, point_a).status_code == 302

    refused = rate(client, point_a, rating=DISSATISFIED)

    assert refused.status_code == 429
    assert "您刚刚已经评议过这个站点" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert Evaluation.objects.count() == 3
    assert not Evaluation.objects.filter(rating=DISSATISFIED).exists()
    # Another client is not held back, nor is the same client at another station.
    assert rate(client, point_a, ip="198.51.100.7").status_code == 302
    assert rate(client, street_station(point_a.street)).status_code == 302
    assert Evaluation.objects.count() == 5


def test_one_client_rates_m_times_a_day_over_all_stations(client, two_streets, settings):
    settings.EVALUATION_LIMIT_PER_DAY = 4
    stations = [
        committee_point(two_streets.committees_a[0]),
        committee_point(two_streets.committees_a[1]),
        committee_point(two_streets.committees_b[0]),
        street_station(two_streets.street_a),
        street_station(two_streets.street_b),
    ]
    for station in stations[:4]:
        assert rate(client, station).status_code == 302

    refused = rate(client, stations[4])

    assert refused.status_code == 429
    assert "您今天提交的评议已达上限" in refused.content.decode()
    assert Evaluation.objects.count() == 4
    assert rate(client, stations[4], ip="198.51.100.7").status_code == 302


def test_a_station_takes_at_most_so_many_ratings_an_hour_from_everyone(client, point_a, settings):
    settings.EVALUATION_LIMIT_STATION_HOUR = 3
    for number in range(3):
        assert rate(client, point_a, ip=f"198.51.100.{number + 1}").status_code == 302
    refused = rate(client, point_a, ip="198.51.100.99")
    assert refused.status_code == 429
    assert "这个站点此刻收到的评议过多" in refused.content.decode()
    assert Evaluation.objects.count() == 3


def test_a_refused_client_does_not_use_up_what_the_station_allows_everyone(
    client, point_a, settings
):
    settings.EVALUATION_LIMIT_PER_STATION_HOUR = 2
    settings.EVALUATION_LIMIT_STATION_HOUR = 4
    for _ in range(10):
        rate(client, point_a)  # 2 saved, 8 refused
    assert rate(client, point_a, ip="198.51.100.1").status_code == 302
    assert rate(client, point_a, ip="198.51.100.2").status_code == 302
    assert Evaluation.objects.count() == 4


def test_forwarded_addresses_count_only_from_trusted_proxies(client, point_a, settings):
    settings.EVALUATION_LIMIT_PER_STATION_HOUR = 1
    # Not behind a trusted proxy: a forged X-Forwarded-For does not make a new client.
    assert rate(client, point_a, HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 302
    assert rate(client, point_a, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429
    # Behind the trusted proxy, each client is counted apart.
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    for client_address in ("1.1.1.1", "2.2.2.2"):
        response = rate(client, point_a, ip="10.0.0.1", HTTP_X_FORWARDED_FOR=client_address)
        assert response.status_code == 302
    assert rate(client, point_a, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429
    assert Evaluation.objects.count() == 3


def test_an_ipv6_client_is_its_64_network(client, point_a, settings):
    settings.EVALUATION_LIMIT_PER_STATION_HOUR = 1
    assert rate(client, point_a, ip="2001:db8:1:2::10").status_code == 302
    assert rate(client, point_a, ip="2001:db8:1:2:ffff::1").status_code == 429
    assert rate(client, point_a, ip="2001:db8:1:3::10").status_code == 302


def test_the_limits_hold_with_the_database_cache_of_several_processes(client, point_a, settings):
    """The database cache (CACHE_URL=dbcache://...) has no incr of its own: it stores each
    sum again with its default timeout of 5 minutes. A counter lasts its whole window all the
    same, or a client who waits 5 minutes would start afresh."""
    from django.core.management import call_command

    from cases import throttle

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "evaluation_test_cache",
        }
    }
    call_command("createcachetable", verbosity=0)
    settings.EVALUATION_LIMIT_PER_STATION_HOUR = 2
    assert rate(client, point_a).status_code == 302
    assert rate(client, point_a).status_code == 302
    assert rate(client, point_a).status_code == 429
    assert Evaluation.objects.count() == 2

    start_of_an_hour = 1_800_000_000.0  # 2027-01-15 08:00 UTC, a whole hour ahead
    assert throttle.count("probe", throttle.HOUR, now=start_of_an_hour) == 1
    assert throttle.count("probe", throttle.HOUR, now=start_of_an_hour) == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, expires FROM evaluation_test_cache")
        expiries = {key: expires for key, expires in cursor.fetchall()}
    [expires] = [value for key, value in expiries.items() if ":probe:" in key]
    if isinstance(expires, str):  # SQLite returns the text it stored
        expires = datetime.datetime.fromisoformat(expires)
    if timezone.is_naive(expires):
        expires = expires.replace(tzinfo=datetime.UTC)
    assert expires - timezone.now() > datetime.timedelta(minutes=59)


def test_the_cache_never_holds_the_address_itself(client, point_a):
    rate(client, point_a, ip="203.0.113.77")
    keys = list(cache._cache.keys())  # LocMemCache, the tests' cache
    assert keys and not any("203.0.113.77" in key for key in keys)


@pytest.mark.postgres
def test_the_audit_record_of_a_public_rating_holds_no_address(client, point_a):
    from audit.tracking import tracking_for

    assert rate(client, point_a, ip="203.0.113.10").status_code == 302
    [event] = tracking_for(Evaluation).event_model.objects.all()
    assert event.pgh_context.get("ip") is None
    assert "203.0.113.10" not in str(event.pgh_context)


# The QR code poster ---------------------------------------------------------------------------


class QrCollector(HTMLParser):
    """The QR code figure's data-url and the path of its dark modules."""

    def __init__(self):
        super().__init__()
        self.data_url = None
        self.view_box = None
        self.dark_paths = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure" and attrs.get("data-testid") == "qr-code":
            self.data_url = attrs["data-url"]
        elif tag == "svg" and "qr-poster__svg" in (attrs.get("class") or ""):
            self.view_box = attrs.get("viewbox")
        elif tag == "path" and attrs.get("stroke") == "#000":
            self.dark_paths.append(attrs["d"])


def matrix_from_path(path, size):
    """Read segno's SVG path of dark modules back into rows of 0/1.

    The path draws each run of dark modules as a horizontal line one module thick along the
    middle of its row: `M x y` and `m dx dy` move, `h n` draws n modules to the right.
    """
    matrix = [[0] * size for _ in range(size)]
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([^MmHh]*)", path):
        values = [float(value) for value in re.findall(r"-?\d+(?:\.\d+)?", numbers)]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            for column in range(int(x), int(x + values[0])):
                matrix[int(y)][column] = 1
            x += values[0]
        else:
            raise AssertionError(f"unexpected path command {command}")
    return matrix


def qr_matrix(url, border=4):
    code = segno.make_qr(url, error="m")
    return [[int(bool(module)) for module in row] for row in code.matrix_iter(border=border)]


def test_the_qr_code_encodes_the_absolute_url_of_the_public_page(login, two_streets, point_a):
    response = login(two_streets.bureau).get(reverse("cases:evaluation_qr", args=[point_a.pk]))

    assert response.status_code == 200
    expected_url = f"http://testserver/public/evaluate/{point_a.pk}/"
    collector = QrCollector()
    collector.feed(response.content.decode())
    assert collector.data_url == expected_url
    assert expected_url in response.content.decode()  # printed under the code, too
    expected = qr_matrix(expected_url)
    size = len(expected)
    assert collector.view_box == f"0 0 {size} {size}"
    [path] = collector.dark_paths
    assert matrix_from_path(path, size) == expected
    # The code is for this station's page and no other.
    assert matrix_from_path(path, size) != qr_matrix(expected_url.replace(str(point_a.pk), "1"))
    assert point_a.name in response.content.decode()


def test_a_qr_reader_decodes_the_posters_code_to_the_url(login, two_streets, point_a):
    """A real QR reader (zxing-cpp) decodes the poster's modules to the page's address."""
    response = login(two_streets.bureau).get(reverse("cases:evaluation_qr", args=[point_a.pk]))
    collector = QrCollector()
    collector.feed(response.content.decode())
    size = int(collector.view_box.split()[-1])
    [path] = collector.dark_paths
    scale = 4
    lines = []
    for row in matrix_from_path(path, size):
        line = bytes(0 if dark else 255 for dark in row for _ in range(scale))
        lines.extend([line] * scale)
    image = memoryview(b"".join(lines)).cast("B", (size * scale, size * scale))

    decoded = [barcode.text for barcode in zxingcpp.read_barcodes(image)]

    assert decoded == [f"http://testserver/public/evaluate/{point_a.pk}/"]


def test_the_qr_code_uses_the_public_address_when_one_is_set(login, two_streets, point_a, settings):
    settings.PUBLIC_BASE_URL = "https://jiuzhu.example.gov.cn"
    response = login(two_streets.manager_a).get(reverse("cases:evaluation_qr", args=[point_a.pk]))
    collector = QrCollector()
    collector.feed(response.content.decode())
    expected_url = f"https://jiuzhu.example.gov.cn/public/evaluate/{point_a.pk}/"
    assert collector.data_url == expected_url
    [path] = collector.dark_paths
    assert matrix_from_path(path, len(qr_matrix(expected_url))) == qr_matrix(expected_url)
    assert 'data-testid="qr-host-warning"' not in response.content.decode()


def test_an_intranet_address_is_pointed_out_before_printing(login, two_streets, point_a, settings):
    settings.ALLOWED_HOSTS = ["10.8.0.5", "testserver"]
    url = reverse("cases:evaluation_qr", args=[point_a.pk])
    client = login(two_streets.bureau)
    assert 'data-testid="qr-host-warning"' in client.get(url, HTTP_HOST="10.8.0.5").content.decode()
    settings.ALLOWED_HOSTS = ["jiuzhu.example.gov.cn"]
    public = client.get(url, HTTP_HOST="jiuzhu.example.gov.cn").content.decode()
    assert 'data-testid="qr-host-warning"' not in public


def test_the_poster_comes_in_a4_and_a5(login, two_streets, point_a):
    url = reverse("cases:evaluation_qr", args=[point_a.pk])
    client = login(two_streets.bureau)
    assert 'class="qr-page qr-page--a4"' in client.get(url).content.decode()
    assert 'class="qr-page qr-page--a5"' in client.get(url, {"size": "a5"}).content.decode()
    assert 'class="qr-page qr-page--a4"' in client.get(url, {"size": "x"}).content.decode()


def test_a_station_not_yet_running_gets_its_poster_with_a_warning(login, two_streets, point_a):
    Station.objects.filter(pk=point_a.pk).update(status=StationStatus.PLANNING)
    response = login(two_streets.manager_a).get(reverse("cases:evaluation_qr", args=[point_a.pk]))
    assert response.status_code == 200
    assert "评议页面只对运行中的站点开放" in response.content.decode()


def test_the_qr_page_is_scoped_to_the_stations_the_user_sees(client, login, two_streets):
    point_a1 = committee_point(two_streets.committees_a[0])
    point_a2 = committee_point(two_streets.committees_a[1])
    point_b = committee_point(two_streets.committees_b[0])

    def status(user, station):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client.get(reverse("cases:evaluation_qr", args=[station.pk])).status_code

    assert status(two_streets.bureau, point_b) == 200
    assert status(two_streets.manager_a, point_a2) == 200
    assert status(two_streets.manager_a, point_b) == 404
    assert status(two_streets.manager_b, point_a1) == 404
    assert status(two_streets.advisor_a, point_a1) == 200
    assert status(two_streets.advisor_a, point_a2) == 404  # not a station they serve
    assert status(two_streets.sysadmin, point_a1) == 403
    assert status(None, point_a1) == 302
    # Out of scope: no trace of the other street's station on the answer.
    client.force_login(two_streets.manager_b)
    body = client.get(reverse("cases:evaluation_qr", args=[point_a1.pk])).content.decode()
    assert point_a1.name not in body


# Satisfaction figures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((3, 1, 1), Decimal("80.0")),
        ((0, 0, 0), None),
        ((0, 0, 4), Decimal("0.0")),
        ((2, 2, 0), Decimal("100.0")),
        ((1, 1, 1), Decimal("66.7")),
        ((1999, 0, 1), Decimal("99.9")),
        ((1, 0, 1999), Decimal("0.1")),
    ],
)
def test_satisfaction_is_satisfied_and_fairly_satisfied_over_all(counts, expected):
    figure = Satisfaction(*counts)
    assert figure.percentage == expected
    assert figure.total == sum(counts)


@pytest.mark.parametrize(
    ("code", "start", "end", "label"),
    [
        ("2026-03", datetime.date(2026, 3, 1), datetime.date(2026, 3, 31), "2026年3月"),
        ("2024-2", datetime.date(2024, 2, 1), datetime.date(2024, 2, 29), "2024年2月"),
        ("2026Q1", datetime.date(2026, 1, 1), datetime.date(2026, 3, 31), "2026年第一季度"),
        ("2026q4", datetime.date(2026, 10, 1), datetime.date(2026, 12, 31), "2026年第四季度"),
        ("2026", datetime.date(2026, 1, 1), datetime.date(2026, 12, 31), "2026年"),
    ],
)
def test_periods_are_months_quarters_and_years(code, start, end, label):
    period = Period.parse(code)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert Period.parse(period.code) == period


@pytest.mark.parametrize(
    "code",
    ["", "2026-13", "2026-00", "2026Q5", "2026Q0", "26", "9999", "0001-01", "2026-3-1", "明年"],
)
def test_an_unknown_period_is_refused(code):
    with pytest.raises(ValueError):
        Period.parse(code)


def test_the_period_includes_both_end_days_in_shanghai_dates(two_streets, point_a):
    inside = [
        at(2026, 3, 1, 0, 0, 0),
        at(2026, 3, 15, 12, 0),
        at(2026, 3, 31, 23, 59, 59),
        # 2026-03-31 20:00 in Shanghai is still the 31st though it is noon in UTC.
        datetime.datetime(2026, 3, 31, 12, 0, tzinfo=datetime.UTC),
    ]
    outside = [
        at(2026, 2, 28, 23, 59, 59),
        at(2026, 4, 1, 0, 0, 0),
        # 2026-03-31 16:00 UTC is 2026-04-01 00:00 in Shanghai.
        datetime.datetime(2026, 3, 31, 16, 0, tzinfo=datetime.UTC),
    ]
    for moment in inside:
        make_evaluation(point_a, SATISFIED, at=moment)
    for moment in outside:
        make_evaluation(point_a, DISSATISFIED, at=moment)

    march = satisfaction.overall(Evaluation.objects.all(), Period.parse("2026-03"))
    assert (march.satisfied, march.dissatisfied) == (4, 0)
    first_quarter = satisfaction.overall(Evaluation.objects.all(), Period.parse("2026Q1"))
    assert (first_quarter.total, first_quarter.dissatisfied) == (5, 1)
    year = satisfaction.overall(Evaluation.objects.all(), Period.parse("2026"))
    assert year.total == 7 and year.percentage == Decimal("57.1")


def test_figures_per_station_street_and_district_from_one_query(two_streets, point_a):
    point_a2 = committee_point(two_streets.committees_a[1])
    station_b = street_station(two_streets.street_b)
    day = at(2026, 3, 10, 10, 0)
    for rating in (SATISFIED, SATISFIED, SATISFIED, FAIRLY, DISSATISFIED):
        make_evaluation(point_a, rating, at=day)
    make_evaluation(point_a2, DISSATISFIED, at=day)
    make_evaluation(station_b, FAIRLY, at=day, source=EvaluationSource.STAFF)
    make_evaluation(station_b, SATISFIED, at=at(2026, 4, 1, 9, 0))  # next month
    period = Period.parse("2026-03")

    with CaptureQueriesContext(connection) as queries:
        result = satisfaction.breakdown(Evaluation.objects.all(), period)
    assert len(queries) == 1

    assert result.for_station(point_a.pk).percentage == Decimal("80.0")
    assert result.for_station(point_a2.pk).percentage == Decimal("0.0")
    assert result.for_station(street_station(two_streets.street_a).pk).percentage is None
    assert result.for_street(two_streets.street_a.pk) == Satisfaction(3, 1, 2)
    assert result.for_street(two_streets.street_a.pk).percentage == Decimal("66.7")
    assert result.for_street(two_streets.street_b.pk).percentage == Decimal("100.0")
    assert result.total == Satisfaction(3, 2, 2)
    # The single-level functions agree, each in one query.
    evaluations = Evaluation.objects.all()
    assert satisfaction.by_street(evaluations, period) == result.streets
    assert satisfaction.by_station(evaluations, period) == result.stations
    assert satisfaction.overall(evaluations, period) == result.total
    street_b_only = Evaluation.objects.for_street(two_streets.street_b.pk)
    assert satisfaction.overall(street_b_only, period) == Satisfaction(0, 1, 0)


# The satisfaction page ------------------------------------------------------------------------


def rows(body, attribute):
    """{data attribute value: row text} for the rows of the satisfaction table."""
    found = {}
    for key, row in re.findall(rf'<tr {attribute}="([^"]+)">(.*?)</tr>', body, re.S):
        found[key] = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    return found


def test_bureau_sees_each_street_and_can_open_one(login, two_streets, point_a):
    today = timezone.localdate()
    now = timezone.now()
    for rating in (SATISFIED, SATISFIED, SATISFIED, FAIRLY, DISSATISFIED):
        make_evaluation(point_a, rating, at=now)
    client = login(two_streets.bureau)

    response = client.get(reverse("cases:satisfaction"))

    assert response.status_code == 200
    body = response.content.decode()
    streets = rows(body, "data-street")
    assert streets[two_streets.street_a.code] == "华阳路街道 3 1 1 5 80.0%"
    assert streets[two_streets.street_b.code] == "江苏路街道 0 0 0 0 暂无评议"
    assert f"{today.year}年{today.month}月满意率" in body
    assert f"?period={today:%Y-%m}&amp;street={two_streets.street_a.code}" in body

    street_page = client.get(
        reverse("cases:satisfaction"), {"street": two_streets.street_a.code}
    ).content.decode()
    stations = rows(street_page, "data-station")
    assert stations[str(point_a.pk)] == f"{point_a.name} 3 1 1 5 80.0%"
    point_a2 = committee_point(two_streets.committees_a[1])
    assert stations[str(point_a2.pk)].endswith("0 0 0 0 暂无评议")
    assert "江苏路街道" not in street_page.split("<main", 1)[1]


def test_the_district_view_lists_the_district_level_stations_too(login, two_streets):
    guidance = Station.objects.get(district=two_streets.district, street__isnull=True)
    make_evaluation(guidance, SATISFIED)
    make_evaluation(guidance, DISSATISFIED)
    body = login(two_streets.bureau).get(reverse("cases:satisfaction")).content.decode()
    assert rows(body, "data-station")[str(guidance.pk)] == f"{guidance.name} 1 0 1 2 50.0%"
    assert "合计 1 0 1 2 50.0%" in " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_a_street_manager_sees_their_stations_only(login, two_streets, point_a):
    station_b = committee_point(two_streets.committees_b[0])
    make_evaluation(point_a, SATISFIED, comment="华一的顾问很热心")
    make_evaluation(station_b, DISSATISFIED, comment="曹家堰等太久")

    client = login(two_streets.manager_a)
    body = client.get(reverse("cases:satisfaction")).content.decode()

    stations = rows(body, "data-station")
    assert str(point_a.pk) in stations and str(station_b.pk) not in stations
    assert "华一的顾问很热心" in body
    assert "曹家堰" not in body and "江苏路街道" not in body
    assert (
        client.get(reverse("cases:satisfaction"), {"street": two_streets.street_b.code}).status_code
        == 404
    )
    manager_b = login(two_streets.manager_b).get(reverse("cases:satisfaction")).content.decode()
    assert "曹家堰等太久" in manager_b and "华一的顾问很热心" not in manager_b


def test_the_bureau_cannot_open_a_street_of_another_district(login, two_streets):
    other = make_street(make_district_xuhui(), "天平路街道", "310104003")
    response = login(two_streets.bureau).get(reverse("cases:satisfaction"), {"street": other.code})
    assert response.status_code == 404


def make_district_xuhui():
    from stations.tests.factories import make_district

    return make_district("310104", "徐汇区")


def test_advisors_and_the_system_administrator_do_not_see_the_page(login, two_streets):
    for user in (two_streets.advisor_a, two_streets.sysadmin):
        assert login(user).get(reverse("cases:satisfaction")).status_code == 403


def test_the_page_counts_the_chosen_period_only(login, two_streets, point_a):
    make_evaluation(point_a, SATISFIED, at=at(2025, 12, 31, 23, 0))
    make_evaluation(point_a, DISSATISFIED, at=at(2026, 1, 1, 0, 30))
    client = login(two_streets.manager_a)

    december = client.get(reverse("cases:satisfaction"), {"period": "2025-12"}).content.decode()
    assert rows(december, "data-station")[str(point_a.pk)].endswith("1 0 0 1 100.0%")
    first_quarter = client.get(reverse("cases:satisfaction"), {"period": "2026Q1"}).content.decode()
    assert rows(first_quarter, "data-station")[str(point_a.pk)].endswith("0 0 1 1 0.0%")
    assert "2026年第一季度满意率" in first_quarter


def test_a_bad_period_is_explained_and_this_month_shown(login, two_streets):
    response = login(two_streets.manager_a).get(
        reverse("cases:satisfaction"), {"period": "2026-13"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "统计期请按" in body
    today = timezone.localdate()
    assert f"{today.year}年{today.month}月满意率" in body


def test_comments_show_to_staff_with_id_numbers_masked(login, two_streets, point_a):
    number = id_number()
    make_evaluation(point_a, DISSATISFIED, comment=f"身份证{number}", source=EvaluationSource.STAFF)
    body = login(two_streets.manager_a).get(reverse("cases:satisfaction")).content.decode()
    assert number not in body
    assert f"{number[:6]}********{number[-4:]}" in body


def _add_evaluations(stations, count, moment):
    ratings = (SATISFIED, FAIRLY, DISSATISFIED)
    created = Evaluation.objects.bulk_create(
        Evaluation(
            station=stations[n % len(stations)],
            rating=ratings[n % 3],
            comment=f"意见{n}" if n % 2 else "",
            source=EvaluationSource.PUBLIC,
        )
        for n in range(count)
    )
    Evaluation.objects.filter(pk__in=[e.pk for e in created]).update(created_at=moment)


def _queries(client, url, data=None):
    client.get(url, data)  # warm up (session, user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, data).status_code == 200
    return len(queries)


def test_the_district_page_runs_the_same_queries_for_2_or_10_streets_and_10_or_500_ratings(
    login, two_streets
):
    client = login(two_streets.bureau)
    url = reverse("cases:satisfaction")
    moment = timezone.now()
    stations = list(Station.objects.all())
    _add_evaluations(stations, 10, moment)
    small = _queries(client, url)

    district = two_streets.district
    for number in range(8):
        make_street(district, f"新增{number}街道", f"3101059{number:02d}")
    _add_evaluations(list(Station.objects.all()), 490, moment)
    large = _queries(client, url)

    assert small == large
    assert Evaluation.objects.count() == 500


def test_the_street_page_runs_the_same_queries_for_10_or_500_ratings(login, two_streets):
    client = login(two_streets.manager_a)
    url = reverse("cases:satisfaction")
    stations = list(Station.objects.filter(street=two_streets.street_a))
    moment = timezone.now()
    _add_evaluations(stations, 10, moment)
    small = _queries(client, url)
    _add_evaluations(stations, 490, moment)
    large = _queries(client, url)
    assert small == large


def test_a_street_opened_by_the_bureau_runs_the_same_queries_for_3_or_30_stations(
    client, two_streets
):
    url = reverse("cases:satisfaction")
    street = {"street": two_streets.street_a.code}
    client.force_login(two_streets.bureau)
    _add_evaluations(list(Station.objects.filter(street=two_streets.street_a)), 10, timezone.now())
    small = _queries(client, url, street)
    for number in range(27):
        make_committee(two_streets.street_a, f"新增{number}居委会", f"310105001{number + 10:03d}")
    _add_evaluations(list(Station.objects.filter(street=two_streets.street_a)), 490, timezone.now())
    large = _queries(client, url, street)
    assert small == large
    assert Station.objects.filter(street=two_streets.street_a).count() == 30
