"""The bureau extends the lists of assistance categories and key groups for its district."""

import pytest
from django.urls import reverse

from accounts.choices import Role
from cases.models import AssistanceCategory, KeyGroup
from stations.tests.factories import make_district, make_street, make_user

pytestmark = pytest.mark.django_db

URL = reverse("cases:vocabularies")


def add(client, kind, name, order=50):
    return client.post(URL, {"list": kind, f"{kind}-name": name, f"{kind}-order": order})


def test_the_bureau_adds_an_entry_that_its_streets_are_offered(client, two_streets):
    client.force_login(two_streets.bureau)
    response = add(client, "category", " 残疾人 家庭 ")
    assert response.status_code == 302
    entry = AssistanceCategory.objects.get(name="残疾人 家庭")
    assert entry.district == two_streets.district

    client.force_login(two_streets.manager_a)
    form = client.get(reverse("cases:recipient_create")).content.decode()
    assert "残疾人 家庭" in form and "低保" in form

    xuhui = make_district("310104", "徐汇区")
    make_street(xuhui, "天平路街道", "310104003")
    other_bureau = make_user("bureau_xuhui", Role.BUREAU, district=xuhui)
    assert entry not in AssistanceCategory.objects.visible_to(other_bureau)
    assert AssistanceCategory.objects.visible_to(other_bureau).filter(name="低保").exists()


def test_a_name_already_in_the_list_is_refused_and_nothing_is_added(client, two_streets):
    client.force_login(two_streets.bureau)
    before = KeyGroup.objects.count()
    body = add(client, "key_group", "独居老人").content.decode()
    assert "“独居老人”已经在列表中" in body
    assert add(client, "key_group", "").status_code == 200
    assert KeyGroup.objects.count() == before


def test_a_stopped_entry_is_no_longer_offered_but_stays_listed(client, two_streets):
    client.force_login(two_streets.bureau)
    add(client, "key_group", "失独老人")
    entry = KeyGroup.objects.get(name="失独老人")
    client.post(URL, {"list": "key_group", "pk": entry.pk, "action": "stop"})
    entry.refresh_from_db()
    assert entry.is_active is False
    assert "已停用" in client.get(URL).content.decode()
    client.force_login(two_streets.manager_a)
    assert "失独老人" not in client.get(reverse("cases:recipient_create")).content.decode()


def test_built_in_entries_cannot_be_stopped(client, two_streets):
    client.force_login(two_streets.bureau)
    builtin = AssistanceCategory.objects.get(name="低保", district=None)
    response = client.post(
        URL, {"list": "category", "pk": builtin.pk, "action": "stop"}, follow=True
    )
    assert "内置项目不能停用" in response.content.decode()
    builtin.refresh_from_db()
    assert builtin.is_active is True


def test_only_bureau_staff_keep_the_lists(client, two_streets):
    for who in ("manager_a", "advisor_a", "sysadmin"):
        client.force_login(getattr(two_streets, who))
        assert client.get(URL).status_code == 403
        assert add(client, "category", "街镇自加").status_code == 403
    assert not AssistanceCategory.objects.filter(name="街镇自加").exists()
