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
