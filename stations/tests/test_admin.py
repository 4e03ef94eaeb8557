"""The Django admin is scoped like every page: bureau staff see and change their district only."""

import pytest
from django.urls import reverse

from accounts.choices import Role
from stations.choices import StationStatus
from stations.models import Station
from stations.tests.factories import (
    make_committee,
    make_district,
    make_street,
    make_user,
    street_station,
)


@pytest.fixture
def two_districts(two_streets):
    xuhui = make_district("310104", "徐汇区")
    tianping = make_street(xuhui, "天平路街道", "310104003")
    make_committee(tianping, "建襄居委会", "310104003001")
    two_streets.xuhui = xuhui
    two_streets.tianping = tianping
    return two_streets


@pytest.mark.django_db
def test_bureau_changelist_lists_own_district_stations_only(client, two_districts):
    client.force_login(two_districts.bureau)
    response = client.get(reverse("admin:stations_station_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "华阳路街道华一居委社区救助顾问服务点" in body
    assert "江苏路街道曹家堰居委社区救助顾问服务点" in body
    assert "天平路街道" not in body  # neither in rows nor in the street filter
    assert "徐汇区" not in body


@pytest.mark.django_db
def test_bureau_admin_search_does_not_reach_other_district(client, two_districts):
    client.force_login(two_districts.bureau)
    response = client.get(reverse("admin:stations_station_changelist"), {"q": "建襄"})
    assert "建襄居委" not in response.content.decode()
    assert response.context["cl"].result_count == 0


@pytest.mark.django_db
def test_bureau_opening_other_district_station_in_admin_is_404(client, two_districts):
    client.force_login(two_districts.bureau)
    other = street_station(two_districts.tianping)
    url = reverse("admin:stations_station_change", args=[other.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"status": StationStatus.SUSPENDED})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == StationStatus.RUNNING


@pytest.mark.django_db
def test_bureau_changes_own_station_in_admin(client, two_districts):
    client.force_login(two_districts.bureau)
    station = street_station(two_districts.street_a)
    url = reverse("admin:stations_station_change", args=[station.pk])
    data = {
        "kind": station.kind,
        "district": station.district_id,
        "street": station.street_id,
        "committee": "",
        "status": StationStatus.SUSPENDED,
        "address": "长宁区华阳路112号",
        "phone": "021-62520000",
        "opening_hours": "周一至周五 9:00-17:00",
        "signboard_name": station.name,
        "has_unified_logo": "on",
        "organisation_name": "",
        "organisation_credit_code": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    station.refresh_from_db()
    assert station.status == StationStatus.SUSPENDED
    assert station.address == "长宁区华阳路112号"


@pytest.mark.django_db
def test_admin_refuses_to_move_a_station_out_of_scope(client, two_districts):
    """The street/district choices offered are the user's own; another district's is refused."""
    client.force_login(two_districts.bureau)
    station = street_station(two_districts.street_a)
    url = reverse("admin:stations_station_change", args=[station.pk])
    response = client.post(
        url,
        {
            "kind": station.kind,
            "district": two_districts.xuhui.pk,
            "street": two_districts.tianping.pk,
            "status": StationStatus.RUNNING,
        },
    )
    assert response.status_code == 200  # the form is shown again with its errors
    station.refresh_from_db()
    assert station.district == two_districts.district
    assert station.street == two_districts.street_a


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["manager_a", "advisor_a"])
def test_street_roles_have_no_admin(client, two_streets, who):
    client.force_login(getattr(two_streets, who))
    assert client.get(reverse("admin:index")).status_code == 404
    station = Station.objects.filter(street=two_streets.street_a).first()
    url = reverse("admin:stations_station_change", args=[station.pk])
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_audit_administrator_has_no_admin(client, two_streets):
    client.force_login(make_user("auditor", Role.AUDIT_ADMIN))
    assert client.get(reverse("admin:index")).status_code == 404


@pytest.mark.django_db
def test_bureau_sees_own_district_users_only(client, two_districts):
    make_user("manager_xuhui", Role.STREET_MANAGER, street=two_districts.tianping)
    client.force_login(two_districts.bureau)
    response = client.get(reverse("admin:accounts_user_changelist"))
    body = response.content.decode()
    assert "manager_a" in body and "advisor_b" in body
    assert "manager_xuhui" not in body
    assert "sysadmin_t" not in body


@pytest.mark.django_db
def test_bureau_cannot_change_accounts_in_admin(client, two_streets):
    """Accounts are the system administrator's (三员分立)."""
    client.force_login(two_streets.bureau)
    url = reverse("admin:accounts_user_change", args=[two_streets.manager_a.pk])
    response = client.post(url, {"username": "renamed", "role": Role.STREET_MANAGER})
    assert response.status_code == 403
    two_streets.manager_a.refresh_from_db()
    assert two_streets.manager_a.username == "manager_a"


@pytest.mark.django_db
def test_accounts_are_managed_on_their_pages_not_in_the_admin(client, two_streets):
    """The admin shows accounts read-only; its password form would bypass the forced change."""
    client.force_login(two_streets.sysadmin)
    url = reverse("admin:auth_user_password_change", args=[two_streets.manager_a.pk])
    response = client.post(url, {"password1": "Xy-zz-1234567", "password2": "Xy-zz-1234567"})
    assert response.status_code == 403
    two_streets.manager_a.refresh_from_db()
    assert two_streets.manager_a.check_password("pw-for-tests-only")
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403
