"""The network pages, seen as anonymous, out-of-scope and in-scope users (STYLE #12, #13)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import Role
from stations.choices import SERVICE_ITEMS, StationKind, StationStatus
from stations.models import Station
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    make_user,
    street_station,
)
from stations.validators import credit_code_check_character

FIRST17 = "52310105MJ1234567"
VALID_CODE = FIRST17 + credit_code_check_character(FIRST17)
STREET_B_NAMES = ("江苏路街道", "曹家堰")


def page(response):
    return response.content.decode()


def by_testid(response, name):
    """The text of the element marked data-testid=`name`."""
    match = re.search(rf'data-testid="{name}">([^<]*)<', page(response))
    assert match, f"no data-testid={name} in the page"
    return match.group(1).strip()


def section(response, start, end):
    """The part of the page from marker `start` up to marker `end`."""
    html = page(response)
    assert start in html
    return html[html.index(start) : html.index(end, html.index(start))]


def set_status(station, status):
    station.status = status
    station.save()


def add_streets(district, count, committees_each, first=101):
    """`count` more streets of `district` with `committees_each` committees, mixed statuses."""
    statuses = [StationStatus.RUNNING, StationStatus.PLANNING, StationStatus.SUSPENDED]
    for n in range(first, first + count):
        street = make_street(district, f"扩展{n}街道", f"{district.code}{n:03d}")
        for m in range(1, committees_each + 1):
            make_committee(
                street,
                f"扩展{n}-{m}居委会",
                f"{street.code}{m:03d}",
                status=statuses[(n + m) % 3],
            )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def urls(two_streets):
    point_a = committee_point(two_streets.committees_a[0])
    return {
        "overview": reverse("stations:overview"),
        "street_a": reverse("stations:street_detail", args=["310105001"]),
        "street_b": reverse("stations:street_detail", args=["310105002"]),
        "point_a": reverse("stations:station_detail", args=[point_a.pk]),
        "point_a2": reverse(
            "stations:station_detail", args=[committee_point(two_streets.committees_a[1]).pk]
        ),
        "point_b": reverse(
            "stations:station_detail", args=[committee_point(two_streets.committees_b[0]).pk]
        ),
        "edit_a": reverse("stations:station_edit", args=[point_a.pk]),
        "edit_b": reverse(
            "stations:station_edit", args=[committee_point(two_streets.committees_b[0]).pk]
        ),
        "my": reverse("stations:my_stations"),
    }


# ---- Anonymous ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["overview", "street_a", "point_a", "edit_a", "my"], ids=lambda name: name
)
def test_anonymous_is_sent_to_login(client, urls, name):
    response = client.get(urls[name])

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={urls[name]}"


def test_anonymous_post_to_edit_changes_nothing(client, two_streets, urls):
    response = client.post(urls["edit_a"], {"status": "suspended", "address": "x"})

    assert response.status_code == 302
    assert committee_point(two_streets.committees_a[0]).status == StationStatus.RUNNING


# ---- Overview -------------------------------------------------------------------------


def test_overview_shows_the_district_counts_and_coverage(two_streets, login):
    response = login(two_streets.bureau).get(reverse("stations:overview"))

    assert response.status_code == 200
    assert by_testid(response, "street-count") == "2"
    assert by_testid(response, "committee-point-count") == "3"
    assert by_testid(response, "active-point-count") == "3"
    assert by_testid(response, "rule-C1-percentage") == "100.0"
    assert by_testid(response, "rule-C2-percentage") == "100.0"
    html = page(response)
    for name in ("华阳路街道", "江苏路街道", "长宁区华阳路街道社区救助顾问服务站"):
        assert name in html
    assert "合计" in html


def test_overview_counts_only_active_points_as_coverage(two_streets, login):
    set_status(committee_point(two_streets.committees_a[1]), StationStatus.PLANNING)

    response = login(two_streets.bureau).get(reverse("stations:overview"))

    assert by_testid(response, "committee-point-count") == "3"
    assert by_testid(response, "active-point-count") == "2"
    assert by_testid(response, "rule-C2-percentage") == "66.7"
    row_a = section(response, ">华阳路街道</a>", "</tr>")
    # 2 committees, 2 points, 1 active, 50%.
    assert re.findall(r'class="num">(\d+)<', row_a) == ["2", "2", "1"]
    assert "50%" in row_a
    assert "未达标" in page(response)


def test_c2_lists_committees_without_an_active_point(two_streets, login):
    set_status(committee_point(two_streets.committees_a[1]), StationStatus.SUSPENDED)
    committee_point(two_streets.committees_b[0]).delete()

    response = login(two_streets.bureau).get(reverse("stations:overview") + "?rule=C2")

    offenders = section(response, 'id="offenders"', "各街镇服务站点")
    assert "华二居委会" in offenders
    assert "暂停" in offenders
    assert "曹家堰居委会" in offenders
    assert "尚未设立" in offenders
    assert "华一居委会" not in offenders
    assert "共 2 条" in offenders


def test_c1_lists_streets_without_an_active_street_station(two_streets, login):
    set_status(street_station(two_streets.street_b), StationStatus.PLANNING)

    response = login(two_streets.bureau).get(reverse("stations:overview") + "?rule=C1")

    assert by_testid(response, "rule-C1-percentage") == "50.0"
    offenders = section(response, 'id="offenders"', "各街镇服务站点")
    assert "江苏路街道" in offenders
    assert "筹建" in offenders
    assert "华阳路街道" not in offenders


def test_overview_without_offenders_says_so(two_streets, login):
    response = login(two_streets.bureau).get(reverse("stations:overview") + "?rule=C2")

    assert "已全部覆盖" in section(response, 'id="offenders"', "各街镇服务站点")


def test_overview_of_bureau_staff_stops_at_their_district(two_streets, login):
    other = make_district("310106", "静安区")
    make_committee(make_street(other, "江宁路街道", "310106001"), "蒋家巷居委会", "310106001001")

    response = login(two_streets.bureau).get(reverse("stations:overview"))

    assert "江宁路街道" not in page(response)
    assert "静安区" not in page(response)
    assert by_testid(response, "street-count") == "2"


def test_system_administrator_sees_every_district_grouped(two_streets, login):
    other = make_district("310106", "静安区")
    make_committee(make_street(other, "江宁路街道", "310106001"), "蒋家巷居委会", "310106001001")

    response = login(two_streets.sysadmin).get(reverse("stations:overview"))

    html = page(response)
    assert html.index("长宁区小计") < html.index("江宁路街道") < html.index("静安区小计")
    assert by_testid(response, "street-count") == "3"
    assert by_testid(response, "committee-point-count") == "4"


def test_street_manager_is_sent_to_their_own_street(two_streets, login):
    response = login(two_streets.manager_b).get(reverse("stations:overview"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("stations:street_detail", args=["310105002"])
    html = page(response)
    assert "曹家堰居委会" in html
    assert "华阳路街道" not in html
    assert "华一居委会" not in html


def test_advisor_is_sent_to_their_stations(two_streets, login):
    response = login(two_streets.advisor_a).get(reverse("stations:overview"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("stations:my_stations")
    assert "华阳路街道华一居委社区救助顾问服务点" in page(response)
    assert "曹家堰" not in page(response)


def test_audit_administrator_has_no_network(two_streets, login):
    auditor = make_user("auditor", Role.AUDIT_ADMIN)

    response = login(auditor).get(reverse("stations:overview"))

    assert response.status_code == 403
    assert "无权查看服务网络" in page(response)
    assert "华阳路街道" not in page(response)


def test_overview_runs_a_fixed_number_of_queries(two_streets, login):
    # One offender at least, so that the offender page is read in both cases.
    set_status(committee_point(two_streets.committees_a[1]), StationStatus.PLANNING)
    client = login(two_streets.bureau)
    url = reverse("stations:overview")
    few = count_queries(client, url), count_queries(client, url + "?rule=C2")

    add_streets(two_streets.district, count=10, committees_each=6)
    many = count_queries(client, url), count_queries(client, url + "?rule=C2")

    assert few == many
    assert by_testid(client.get(url), "street-count") == "12"


# ---- Street page ---------------------------------------------------------------------


def test_street_page_lists_committees_points_and_street_station(two_streets, login, urls):
    point = committee_point(two_streets.committees_a[0])
    point.address = "华阳路112弄1号"
    point.phone = "021-62520001"
    point.save()

    response = login(two_streets.manager_a).get(urls["street_a"])

    assert response.status_code == 200
    html = page(response)
    for text in (
        "长宁区华阳路街道社区救助顾问服务站",
        "华一居委会",
        "华二居委会",
        "华阳路街道华一居委社区救助顾问服务点",
        "华阳路112弄1号",
        "021-62520001",
    ):
        assert text in html
    assert by_testid(response, "committee-count") == "2"
    assert by_testid(response, "committee-point-count") == "2"
    for name in STREET_B_NAMES:
        assert name not in html


def test_street_page_of_another_street_is_404(two_streets, login, urls):
    client = login(two_streets.manager_a)

    assert client.get(urls["street_b"]).status_code == 404
    assert client.get(reverse("stations:street_detail", args=["999999999"])).status_code == 404


def test_street_page_filters_committees_without_an_active_point(two_streets, login, urls):
    set_status(committee_point(two_streets.committees_a[1]), StationStatus.PLANNING)

    response = login(two_streets.manager_a).get(urls["street_a"] + "?rule=C2")

    committees = section(response, 'id="committees"', "</table>")
    assert "华二居委会" in committees
    assert "华一居委会" not in committees
    assert by_testid(response, "active-point-count") == "1"
    assert by_testid(response, "rule-C2-percentage") == "50.0"


def test_advisor_sees_only_their_own_points_on_their_street(two_streets, login, urls):
    client = login(two_streets.advisor_a)

    response = client.get(urls["street_a"])

    html = page(response)
    assert "华一居委会" in html
    assert "华二居委会" not in html
    assert "覆盖率" not in html  # figures over stations they cannot see would mislead
    assert client.get(urls["street_b"]).status_code == 404


def test_bureau_staff_open_every_street_of_their_district(two_streets, login, urls):
    client = login(two_streets.bureau)

    assert "曹家堰居委会" in page(client.get(urls["street_b"]))
    assert "华二居委会" in page(client.get(urls["street_a"]))


def test_street_page_runs_a_fixed_number_of_queries(two_streets, login, urls):
    set_status(committee_point(two_streets.committees_a[1]), StationStatus.PLANNING)
    client = login(two_streets.manager_a)
    few = (
        count_queries(client, urls["street_a"]),
        count_queries(client, urls["street_a"] + "?rule=C2"),
    )

    for m in range(3, 15):
        make_committee(
            two_streets.street_a,
            f"华阳{m}居委会",
            f"310105001{m:03d}",
            status=StationStatus.SUSPENDED if m % 2 else StationStatus.RUNNING,
        )
    many = (
        count_queries(client, urls["street_a"]),
        count_queries(client, urls["street_a"] + "?rule=C2"),
    )

    assert few == many


# ---- Station page --------------------------------------------------------------------


def test_station_page_shows_all_details(two_streets, login):
    station = street_station(two_streets.street_a)
    station.address = "长宁区华阳路街道社区事务受理服务中心"
    station.phone = "021-62512345"
    station.opening_hours = "周一至周六 8:30-17:00"
    station.signboard_name = station.name
    station.has_unified_logo = True
    station.workspace_m2 = 36
    station.desk_sets = 3
    station.computers = 2
    station.has_internet = True
    station.has_consultation_zone = True
    station.save()

    response = login(two_streets.manager_a).get(station.get_absolute_url())

    html = page(response)
    for text in (
        "长宁区华阳路街道社区救助顾问服务站",
        "街镇服务站",
        "运行",
        "021-62512345",
        "周一至周六 8:30-17:00",
        "一致",
        "已使用",
        "36 m²",
        "3 套",
        "2 台",
        "咨询区",
        "政策解答",  # the street station's tasks
        *SERVICE_ITEMS,
    ):
        assert str(text) in html, text
    assert "不一致" not in html
    assert "编辑站点信息" in html


def test_station_page_of_a_professional_point_shows_its_organisation(two_streets, login):
    point = Station.objects.create(
        kind=StationKind.PROFESSIONAL,
        district=two_streets.district,
        street=two_streets.street_a,
        organisation_name="乐群社工服务社",
        organisation_credit_code=VALID_CODE,
        signboard_name="乐群救助顾问站",
    )

    response = login(two_streets.bureau).get(point.get_absolute_url())

    html = page(response)
    assert "华阳路街道乐群社工服务社社区救助顾问专业服务点" in html
    assert VALID_CODE in html
    assert "不一致" in html
    assert "筹建" in html


def test_station_pages_outside_the_scope_are_404(two_streets, login, urls):
    assert login(two_streets.manager_a).get(urls["point_b"]).status_code == 404
    assert login(two_streets.advisor_a).get(urls["point_b"]).status_code == 404
    # An advisor sees the points they serve, not their street's other points.
    assert login(two_streets.advisor_a).get(urls["point_a2"]).status_code == 404
    assert login(two_streets.advisor_a).get(urls["point_a"]).status_code == 200
    missing = reverse("stations:station_detail", args=[999999])
    assert login(two_streets.bureau).get(missing).status_code == 404


def test_bureau_staff_cannot_open_another_districts_station(two_streets, login):
    other = make_district("310106", "静安区")
    station = street_station(make_street(other, "江宁路街道", "310106001"))

    client = login(two_streets.bureau)

    assert client.get(station.get_absolute_url()).status_code == 404
    assert (
        client.post(
            reverse("stations:station_edit", args=[station.pk]), {"status": "suspended"}
        ).status_code
        == 404
    )


def test_advisor_reads_their_station_without_an_edit_button(two_streets, login, urls):
    response = login(two_streets.advisor_a).get(urls["point_a"])

    assert "华阳路街道华一居委社区救助顾问服务点" in page(response)
    assert "编辑站点信息" not in page(response)


# ---- Station edit --------------------------------------------------------------------


def point_form(station, **changes):
    data = {
        "status": station.status,
        "address": station.address,
        "phone": station.phone,
        "opening_hours": station.opening_hours,
        "signboard_name": station.signboard_name,
    }
    if station.has_unified_logo:
        data["has_unified_logo"] = "on"
    return data | changes


def test_street_manager_keeps_their_points_details(two_streets, login, urls):
    point = committee_point(two_streets.committees_a[0])
    client = login(two_streets.manager_a)

    response = client.post(
        urls["edit_a"],
        point_form(
            point,
            status="suspended",
            address="华阳路112弄1号",
            phone="021-62520001",
            opening_hours="周一至周五 9:00-17:00",
            signboard_name="华阳路街道华一居委社区救助顾问服务点",
            has_unified_logo="on",
        ),
        follow=True,
    )

    point.refresh_from_db()
    assert point.status == StationStatus.SUSPENDED
    assert point.address == "华阳路112弄1号"
    assert point.phone == "021-62520001"
    assert point.opening_hours == "周一至周五 9:00-17:00"
    assert point.has_standard_signboard
    assert response.redirect_chain[-1][0] == point.get_absolute_url()
    assert "站点信息已保存" in page(response)


def test_the_standard_name_is_not_editable(two_streets, login, urls):
    point = committee_point(two_streets.committees_a[0])
    client = login(two_streets.manager_a)

    form_page = page(client.get(urls["edit_a"]))
    client.post(urls["edit_a"], point_form(point, name="随便起的名字", address="新地址"))

    assert 'name="name"' not in form_page
    assert 'name="status"' in form_page
    point.refresh_from_db()
    assert point.name == "华阳路街道华一居委社区救助顾问服务点"
    assert point.address == "新地址"


def test_committee_point_form_has_no_facilities_or_organisation(two_streets, login, urls):
    form_page = page(login(two_streets.manager_a).get(urls["edit_a"]))

    assert 'name="workspace_m2"' not in form_page
    assert 'name="organisation_credit_code"' not in form_page


def test_bureau_keeps_a_street_stations_facilities(two_streets, login):
    station = street_station(two_streets.street_b)
    client = login(two_streets.bureau)
    url = reverse("stations:station_edit", args=[station.pk])

    assert 'name="workspace_m2"' in page(client.get(url))
    client.post(
        url,
        point_form(
            station,
            workspace_m2="25.5",
            desk_sets="2",
            computers="1",
            has_internet="on",
            has_service_zone="on",
        ),
    )

    station.refresh_from_db()
    assert str(station.workspace_m2) == "25.5"
    assert (station.desk_sets, station.computers) == (2, 1)
    assert station.has_internet and station.has_service_zone
    assert not station.has_consultation_zone


def test_negative_facilities_are_refused_in_chinese(two_streets, login):
    station = street_station(two_streets.street_a)
    url = reverse("stations:station_edit", args=[station.pk])

    response = login(two_streets.manager_a).post(
        url, point_form(station, workspace_m2="-3", address="改了的地址")
    )

    assert response.status_code == 200
    assert "站点信息未保存" in page(response)
    station.refresh_from_db()
    assert station.workspace_m2 is None
    assert station.address == ""


@pytest.fixture
def professional_point(two_streets):
    return Station.objects.create(
        kind=StationKind.PROFESSIONAL,
        district=two_streets.district,
        street=two_streets.street_a,
        organisation_name="乐群社工服务社",
        organisation_credit_code=VALID_CODE,
        status=StationStatus.RUNNING,
    )


def test_a_bad_credit_code_is_explained_and_changes_nothing(two_streets, login, professional_point):
    url = reverse("stations:station_edit", args=[professional_point.pk])
    wrong = VALID_CODE[:17] + ("0" if VALID_CODE[17] != "0" else "1")

    response = login(two_streets.manager_a).post(
        url,
        point_form(
            professional_point,
            status="suspended",
            address="新地址",
            organisation_name="乐群社工服务中心",
            organisation_credit_code=wrong,
        ),
    )

    assert response.status_code == 200
    html = page(response)
    assert "统一社会信用代码校验位不正确" in html
    assert "站点信息未保存" in html
    # The heading keeps the saved name and status while the form shows what was typed.
    assert "华阳路街道乐群社工服务社社区救助顾问专业服务点" in html
    professional_point.refresh_from_db()
    assert professional_point.organisation_credit_code == VALID_CODE
    assert professional_point.organisation_name == "乐群社工服务社"
    assert professional_point.status == StationStatus.RUNNING
    assert professional_point.address == ""


def test_a_short_credit_code_says_how_long_it_should_be(two_streets, login, professional_point):
    url = reverse("stations:station_edit", args=[professional_point.pk])

    response = login(two_streets.bureau).post(
        url,
        point_form(professional_point, organisation_name="乐群", organisation_credit_code="123"),
    )

    assert "统一社会信用代码应为18位,当前为3位。" in page(response)
    professional_point.refresh_from_db()
    assert professional_point.organisation_credit_code == VALID_CODE


def test_a_new_organisation_name_renames_the_point(two_streets, login, professional_point):
    url = reverse("stations:station_edit", args=[professional_point.pk])
    other17 = "52310105MJ7654321"

    login(two_streets.manager_a).post(
        url,
        point_form(
            professional_point,
            organisation_name="乐群社工服务中心",
            organisation_credit_code=(other17 + credit_code_check_character(other17)).lower(),
        ),
    )

    professional_point.refresh_from_db()
    assert professional_point.name == "华阳路街道乐群社工服务中心社区救助顾问专业服务点"
    assert professional_point.organisation_credit_code == other17 + credit_code_check_character(
        other17
    )


def test_editing_another_streets_station_is_404_and_changes_nothing(two_streets, login, urls):
    point_b = committee_point(two_streets.committees_b[0])
    client = login(two_streets.manager_a)

    assert client.get(urls["edit_b"]).status_code == 404
    response = client.post(urls["edit_b"], point_form(point_b, status="suspended", address="x"))

    assert response.status_code == 404
    point_b.refresh_from_db()
    assert point_b.status == StationStatus.RUNNING
    assert point_b.address == ""


def test_advisor_cannot_edit_their_station(two_streets, login, urls):
    point = committee_point(two_streets.committees_a[0])
    client = login(two_streets.advisor_a)

    assert client.get(urls["edit_a"]).status_code == 403
    response = client.post(urls["edit_a"], point_form(point, status="suspended"))

    assert response.status_code == 403
    assert "只有街镇管理员和区民政局可以修改" in page(response)
    point.refresh_from_db()
    assert point.status == StationStatus.RUNNING
    assert client.post(urls["edit_b"], {"status": "suspended"}).status_code == 404


# ---- My stations ---------------------------------------------------------------------


def test_advisor_sees_the_stations_they_serve(two_streets, login, urls):
    response = login(two_streets.advisor_b).get(urls["my"])

    html = page(response)
    assert "江苏路街道曹家堰居委社区救助顾问服务点" in html
    assert "华一居委" not in html
    assert "华阳路街道" not in html


def test_advisor_without_stations_is_told_what_to_do(two_streets, login, urls):
    newcomer = make_user("newcomer", Role.ADVISOR)

    response = login(newcomer).get(urls["my"])

    assert "您还没有登记服务的站点" in page(response)
    assert "华一居委" not in page(response)


def test_my_stations_sends_other_roles_home(two_streets, login, urls):
    response = login(two_streets.manager_a).get(urls["my"])

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


# ---- Layout and account pages --------------------------------------------------------


def test_pages_show_who_is_logged_in_and_how_to_leave(two_streets, login, urls):
    two_streets.manager_a.full_name = "李建国"
    two_streets.manager_a.save()

    html = page(login(two_streets.manager_a).get(urls["street_a"]))

    assert "李建国" in html
    assert "街镇管理员" in html
    assert f'action="{reverse("logout")}"' in html
    assert 'method="post"' in html
    assert reverse("password_change") in html
    assert 'aria-current="page">本街镇<' in html.replace("\n", "")
    assert "后台管理" not in html


def test_logout_is_a_post(two_streets, login):
    client = login(two_streets.bureau)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("stations:overview")).status_code == 302


def test_login_page_is_chinese_and_logs_in(client, two_streets):
    two_streets.bureau.set_password("Changning-2023")
    two_streets.bureau.save()

    html = page(client.get(reverse("login")))
    response = client.post(
        reverse("login"), {"username": "bureau_t", "password": "Changning-2023"}, follow=True
    )

    assert "工作人员登录" in html and "用户名" in html and "密码" in html
    # Bureau staff land on the supervision dashboard.
    assert response.redirect_chain[-1][0] == reverse("supervision:dashboard")


def test_a_wrong_password_is_explained(client, two_streets):
    response = client.post(reverse("login"), {"username": "bureau_t", "password": "wrong"})

    assert response.status_code == 200
    assert "请输入一个正确的" in page(response)  # Django's own message, in Chinese
    assert 'value="bureau_t"' in page(response)


def test_password_change_pages_are_chinese(two_streets, login):
    client = login(two_streets.manager_a)

    assert "修改密码" in page(client.get(reverse("password_change")))
    assert "密码已修改" in page(client.get(reverse("password_change_done")))
