"""Finding advisors on the roster by pinyin initials (zxm: 张晓明), every reading counted."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisors import services
from advisors.choices import Background, FilingStatus, Gender
from advisors.models import Advisor
from advisors.tests.factories import make_advisor
from changning_aid import pinyin
from stations.tests.factories import committee_point, make_two_streets

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = make_two_streets()
    point_a = committee_point(world["committees_a"][0])
    point_b = committee_point(world["committees_b"][0])
    world["point_a"] = point_a
    for name, mobile in (
        ("张晓明", "13812345678"),
        ("曾晓明", "13900001111"),
        ("单丽", ""),
        ("李四", "13700002222"),
    ):
        make_advisor(world["street_a"], [point_a], name=name, mobile=mobile)
    # Same initials as 张晓明, in the other street: never found by street A's manager.
    make_advisor(world["street_b"], [point_b], name="周小梅", mobile="13600003333")
    return world


def found(client, q):
    """The advisor names the roster lists for the search `q`."""
    response = client.get(reverse("advisors:roster"), {"q": q})
    assert response.status_code == 200
    body = response.content.decode()
    names = ("张晓明", "曾晓明", "单丽", "李四", "周小梅")
    return {name for name in names if f">{name}</a>" in body}


def test_initials_find_names_and_every_reading_of_a_heteronym(client, world):
    client.force_login(world["manager_a"])
    assert found(client, "zxm") == {"张晓明", "曾晓明"}  # 曾 read zēng
    assert found(client, "cxm") == {"曾晓明"}  # 曾 read céng
    assert found(client, "dl") == {"单丽"}  # 单 read dān
    assert found(client, "sl") == {"单丽"}  # 单 read shàn, as a surname
    assert found(client, "ls") == {"李四"}
    assert found(client, "xm") == {"张晓明", "曾晓明"}  # part of the initials, like 晓明
    assert found(client, "zz") == set()


def test_initials_search_ignores_case_and_spaces(client, world):
    client.force_login(world["manager_a"])
    assert found(client, "ZXM") == {"张晓明", "曾晓明"}
    assert found(client, "Sl") == {"单丽"}
    assert found(client, " z x m ") == {"张晓明", "曾晓明"}


def test_chinese_and_digits_still_search_names_and_phones(client, world):
    client.force_login(world["manager_a"])
    assert found(client, "晓明") == {"张晓明", "曾晓明"}
    assert found(client, "单") == {"单丽"}
    assert found(client, "1390000") == {"曾晓明"}
    assert found(client, "5678") == {"张晓明"}


def test_bureau_finds_the_initials_in_every_street_of_the_district(client, world):
    client.force_login(world["bureau"])
    assert found(client, "zxm") == {"张晓明", "曾晓明", "周小梅"}


def test_the_initials_follow_a_renamed_advisor(client, world):
    advisor = Advisor.objects.get(name="李四")
    services.update_advisor(actor=world["manager_a"], advisor=advisor, name="欧阳乐")
    client.force_login(world["manager_a"])
    assert found(client, "ls") == set()
    response = client.get(reverse("advisors:roster"), {"q": "oyy"})  # 乐 read yuè
    assert ">欧阳乐</a>" in response.content.decode()
    response = client.get(reverse("advisors:roster"), {"q": "oyl"})  # 乐 read lè
    assert ">欧阳乐</a>" in response.content.decode()


def test_a_search_runs_a_fixed_number_of_queries(client, world):
    client.force_login(world["bureau"])
    url = reverse("advisors:roster")
    client.get(url, {"q": "zxm"})  # warm up
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, {"q": "zxm"}).status_code == 200
    for number in range(60):
        make_advisor(world["street_a"], [world["point_a"]], name=f"张晓明{number}")
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, {"q": "zxm"})
    assert "共 63 名顾问" in response.content.decode()  # 60 + 张晓明, 曾晓明, 周小梅
    assert len(small) == len(large)


def test_the_migration_fills_the_initials_of_advisors_registered_before_it(world):
    Advisor.objects.bulk_create(
        [
            Advisor(
                advisor_number="GW3101050019999",
                street=world["street_a"],
                name="曾单",
                gender=Gender.MALE,
                background=Background.OTHER,
                started_on=datetime.date(2024, 1, 1),
                filing_status=FilingStatus.PENDING,
            )
        ]
    )
    assert Advisor.objects.get(name="曾单").name_initials == ""  # bulk writes skip save()
    migration = importlib.import_module("advisors.migrations.0002_advisor_name_initials")
    migration.fill_name_initials(apps, connection.schema_editor())
    initials = Advisor.objects.get(name="曾单").name_initials.split(pinyin.SEPARATOR)
    assert {"cd", "zd", "cs", "zs", "cc", "zc"} == set(initials)


def test_initials_of_names():
    assert pinyin.name_initials("张晓明") == ["zxm"]
    assert set(pinyin.name_initials("曾晓明")) == {"zxm", "cxm"}
    assert set(pinyin.name_initials("单丽")) == {"dl", "sl", "cl"}
    # Punctuation of minority names is skipped; Latin letters (full-width too) count.
    assert pinyin.name_initials("阿卜杜·买买提")[0] == "abdmmt"
    assert pinyin.name_initials("Ａnna李") == ["annal"]
    assert pinyin.name_initials("") == pinyin.name_initials("·") == []


def test_initials_are_capped_but_keep_every_reading_of_the_surname():
    name = "单曾乐长行查覃仇解朴区"  # 11 heteronyms: thousands of combinations
    combinations = pinyin.name_initials(name)
    assert len(combinations) <= pinyin.MAX_COMBINATIONS
    assert len(pinyin.initials_text(name)) <= pinyin.MAX_LENGTH
    assert {combination[0] for combination in combinations} == {"d", "s", "c"}
    long_name = "单" * 50
    assert len(pinyin.initials_text(long_name)) <= pinyin.MAX_LENGTH


def test_only_latin_letters_are_an_initials_search():
    assert pinyin.initials_query("ZxM") == "zxm"
    assert pinyin.initials_query("ｚｘｍ") == "zxm"
    assert pinyin.initials_query("张") == ""
    assert pinyin.initials_query("138") == ""
    assert pinyin.initials_query("z1") == ""
