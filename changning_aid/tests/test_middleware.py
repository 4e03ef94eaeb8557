"""NUL characters in a query string are refused before any view or database sees them."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["q=%00", "street=310105001%00", "page=1&q=a%00b", "%00=1"])
def test_null_characters_in_filters_get_a_clear_400(client, two_streets, query):
    response = client.get(f"{reverse('public:directory')}?{query}")
    assert response.status_code == 400
    assert "不允许的控制字符" in response.content.decode()


@pytest.mark.django_db
def test_ordinary_filters_still_work(client, two_streets):
    response = client.get(reverse("public:directory"), {"q": "华一"})
    assert response.status_code == 200
    assert "华阳路街道华一居委社区救助顾问服务点" in response.content.decode()
