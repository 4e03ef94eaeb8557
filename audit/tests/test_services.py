"""record_access: one access record per sensitive reading, with who, where and what."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory

from audit.choices import AccessAction
from audit.models import AccessRecord
from audit.services import record_access
from stations.tests.factories import committee_point


def _request(user, path="/cases/recipients/7/", ip="10.1.2.3"):
    request = RequestFactory().get(path, REMOTE_ADDR=ip)
    request.user = user
    return request


@pytest.mark.django_db
def test_opening_a_sensitive_record_adds_one_access_record(two_streets):
    point = committee_point(two_streets.committees_a[0])
    request = _request(two_streets.manager_a)

    record = record_access(
        request=request, action=AccessAction.VIEW_SENSITIVE, obj=point, detail="查看"
    )

    assert AccessRecord.objects.count() == 1
    record.refresh_from_db()
    assert record.user == two_streets.manager_a
    assert record.ip == "10.1.2.3"
    assert record.action == AccessAction.VIEW_SENSITIVE
    assert record.object_type == ContentType.objects.get_for_model(point)
    assert record.object_id == str(point.pk)
    assert record.object_repr == point.name
    assert record.street == two_streets.street_a
    assert record.district == two_streets.district
    assert record.path == "/cases/recipients/7/"
    assert record.detail == "查看"
    assert record.at is not None


@pytest.mark.django_db
def test_an_export_names_its_street_and_purpose(two_streets):
    record = record_access(
        request=_request(two_streets.bureau, "/cases/export/?street=310105002"),
        action=AccessAction.EXPORT,
        street=two_streets.street_b,
        detail="用途:季度核对",
    )
    assert record.object_type is None and record.object_id == ""
    assert record.street == two_streets.street_b
    assert record.district == two_streets.district
    assert record.detail == "用途:季度核对"


@pytest.mark.django_db
def test_a_record_without_a_place_falls_back_on_the_users_district(two_streets):
    record = record_access(request=_request(two_streets.bureau), action=AccessAction.EXPORT)
    assert record.district == two_streets.district and record.street is None


@pytest.mark.django_db
def test_access_records_are_read_by_the_audit_administrator_and_the_district_only(two_streets):
    from accounts.choices import Role
    from stations.tests.factories import make_district, make_street, make_user

    other = make_street(make_district("310104", "徐汇区"), "天平路街道", "310104003")
    record_access(request=_request(two_streets.bureau), action=AccessAction.REVEAL, obj=other)
    record_access(
        request=_request(two_streets.bureau), action=AccessAction.REVEAL, obj=two_streets.street_a
    )
    auditor = make_user("auditor_t", Role.AUDIT_ADMIN)
    assert AccessRecord.objects.visible_to(auditor).count() == 2
    assert list(
        AccessRecord.objects.visible_to(two_streets.bureau).values_list("street", flat=True)
    ) == [two_streets.street_a.pk]
    for who in ("sysadmin", "manager_a", "advisor_a"):
        assert not AccessRecord.objects.visible_to(getattr(two_streets, who)).exists()
