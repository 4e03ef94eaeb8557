"""Error pages speak Chinese, also with DEBUG off."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_out_of_scope_404_page_is_in_chinese(client, two_streets, settings):
    settings.DEBUG = False
    client.force_login(two_streets.manager_a)
    response = client.get(reverse("stations:street_detail", args=[two_streets.street_b.code]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body
    assert "不在您的管理范围内" in body
    assert "江苏路街道" not in body


@pytest.mark.django_db
def test_a_form_sent_without_its_security_token_is_refused_in_chinese(two_streets, settings):
    from django.test import Client

    from stations.tests.factories import committee_point

    settings.DEBUG = False
    point = committee_point(two_streets.committees_a[0])
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("public_evaluation:evaluate", args=[point.pk]), {"rating": "satisfied"}
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "页面已过期" in body
    assert point.evaluations.count() == 0
