"""The advisor pages, driven through the browser's requests (client.get / client.post)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisors.choices import Background, FilingAction, FilingStatus, Gender
from advisors.models import Advisor, AdvisorStation, FilingEvent, Training, TrainingAttendance
from advisors.tests.factories import make_advisor, make_training
from stations.choices import StationKind
from stations.models import Station
from stations.tests.factories import committee_point, make_two_streets

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = make_two_streets()
    world["point_a"] = committee_point(world["committees_a"][0])
    world["point_b"] = committee_point(world["committees_b"][0])
    world["station_a"] = Station.objects.get(kind=StationKind.STREET, street=world["street_a"])
    return world


def register_payload(world, **overrides):
    data = {
        "name": "张晓明",
        "gender": Gender.MALE,
        "mobile": "13812345678",
        "background": Background.COMMITTEE_CADRE,
        "social_work_level": "none",
        "certificate_number": "",
        "skills": ["resources", "needs"],
        "started_on": "2024-03-01",
        "stations": [world["point_a"].pk, world["station_a"].pk],
        "primary": world["point_a"].pk,
    }
    data.update(overrides)
    return data


def test_street_manager_registers_submits_and_records_training(client, world):
    client.force_login(world["manager_a"])
    response = client.post(reverse("advisors:create"), register_payload(world))
    advisor = Advisor.objects.get(name="张晓明")
    assert response.status_code == 302
    assert response["Location"] == reverse("advisors:detail", args=[advisor.pk])
    assert advisor.street == world["street_a"]
    assert advisor.filing_status == FilingStatus.PENDING
    assert advisor.skills == ["resources", "needs"]
    assert advisor.primary_station == world["point_a"]
    assert advisor.stations.count() == 2

    page = client.get(reverse("advisors:detail", args=[advisor.pk]))
    body = page.content.decode()
    assert "13812345678" in body  # the full phone on the advisor's own page
    assert "提交备案" in body

    response = client.post(reverse("advisors:submit", args=[advisor.pk]))
    assert response.status_code == 302
    advisor.refresh_from_db()
    assert advisor.filing_submitted_at is not None
    assert FilingEvent.objects.get(advisor=advisor).action == FilingAction.SUBMIT

    today = datetime.date.today()
    response = client.post(
        reverse("advisors:training_create"),
        {"date": today.isoformat(), "title": "救助政策培训", "hours": "2", "kind": "professional"},
    )
    training = Training.objects.get(title="救助政策培训")
    assert training.street == world["street_a"]
    assert response["Location"] == reverse("advisors:training_detail", args=[training.pk])
    assert "救助政策培训" in client.get(reverse("advisors:trainings")).content.decode()

    response = client.post(
        reverse("advisors:training_detail", args=[training.pk]),
        {"attendance-advisor": advisor.pk, "attendance-attended": "on", "attendance-remark": "好"},
    )
    assert response.status_code == 302
    attendance = TrainingAttendance.objects.get(training=training, advisor=advisor)
    assert attendance.attended and attendance.remark == "好"
    body = client.get(reverse("advisors:detail", args=[advisor.pk])).content.decode()
    assert "救助政策培训" in body


def test_register_shows_chinese_errors_and_writes_nothing(client, world):
    client.force_login(world["manager_a"])
    response = client.post(
        reverse("advisors:create"),
        register_payload(world, name="", primary=world["point_b"].pk, stations=[]),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "请至少选择一个服务站点" in body
    assert not Advisor.objects.exists()


def test_edit_changes_details_and_stations(client, world):
    advisor = make_advisor(world["street_a"], [world["point_a"]], mobile="13900001111")
    client.force_login(world["manager_a"])
    url = reverse("advisors:edit", args=[advisor.pk])
    assert client.get(url).status_code == 200
    payload = register_payload(
        world, name="改名", stations=[world["station_a"].pk], primary=world["station_a"].pk
    )
    response = client.post(url, payload)
    assert response.status_code == 302
    advisor.refresh_from_db()
    assert advisor.name == "改名"
    assert list(advisor.stations.all()) == [world["station_a"]]


def test_bureau_files_sends_back_and_revokes(client, world):
    advisor = make_advisor(
        world["street_a"], [world["point_a"]], filing_status=FilingStatus.PENDING
    )
    client.force_login(world["manager_a"])
    client.post(reverse("advisors:submit", args=[advisor.pk]))
    client.force_login(world["bureau"])
    queue = client.get(reverse("advisors:filing_queue")).content.decode()
    assert advisor.name in queue

    response = client.post(
        reverse("advisors:send_back", args=[advisor.pk]), {"back-reason": "材料不全"}
    )
    assert response.status_code == 302
    advisor.refresh_from_db()
    assert advisor.filing_submitted_at is None
    assert advisor.name not in client.get(reverse("advisors:filing_queue")).content.decode()
    body = client.get(reverse("advisors:detail", args=[advisor.pk])).content.decode()
    assert "材料不全" in body and "退回" in body

    client.force_login(world["manager_a"])
    client.post(reverse("advisors:submit", args=[advisor.pk]))
    client.force_login(world["bureau"])
    response = client.post(reverse("advisors:file", args=[advisor.pk]), {"file-filed_on": ""})
    assert response.status_code == 200  # missing number and date: shown back
    advisor.refresh_from_db()
    assert advisor.filing_status == FilingStatus.PENDING
    response = client.post(
        reverse("advisors:file", args=[advisor.pk]),
        {"file-filing_number": "CN-2024-001", "file-filed_on": "2024-04-01"},
    )
    assert response.status_code == 302
    advisor.refresh_from_db()
    assert advisor.filing_status == FilingStatus.FILED
    assert advisor.filing_number == "CN-2024-001"

    response = client.post(reverse("advisors:revoke", args=[advisor.pk]), {"revoke-reason": " "})
    assert response.status_code == 200
    response = client.post(reverse("advisors:revoke", args=[advisor.pk]), {"revoke-reason": "调离"})
    advisor.refresh_from_db()
    assert advisor.filing_status == FilingStatus.REVOKED
    actions = list(advisor.filing_events.values_list("action", flat=True))
    assert actions == ["submit", "send_back", "submit", "file", "revoke"]


def test_street_manager_cannot_file(client, world):
    advisor = make_advisor(
        world["street_a"], [world["point_a"]], filing_status=FilingStatus.PENDING
    )
    client.force_login(world["manager_a"])
    client.post(reverse("advisors:submit", args=[advisor.pk]))
    response = client.post(
        reverse("advisors:file", args=[advisor.pk]),
        {"file-filing_number": "X1", "file-filed_on": "2024-04-01"},
    )
    assert response.status_code == 403
    advisor.refresh_from_db()
    assert advisor.filing_status == FilingStatus.PENDING


def test_leave(client, world):
    advisor = make_advisor(world["street_a"], [world["point_a"]])
    client.force_login(world["manager_a"])
    response = client.post(
        reverse("advisors:leave", args=[advisor.pk]),
        {"leave-left_on": "2020-01-01", "leave-reason": "退休"},
    )
    assert response.status_code == 200  # before the start date
    response = client.post(
        reverse("advisors:leave", args=[advisor.pk]),
        {"leave-left_on": "2024-06-30", "leave-reason": "退休"},
    )
    assert response.status_code == 302
    advisor.refresh_from_db()
    assert advisor.left_on == datetime.date(2024, 6, 30)
    roster = client.get(reverse("advisors:roster"), {"state": "left"}).content.decode()
    assert advisor.name in roster
    roster = client.get(reverse("advisors:roster"), {"state": "active"}).content.decode()
    assert advisor.name not in roster


def test_roster_masks_phones_filters_and_searches(client, world):
    one = make_advisor(world["street_a"], [world["point_a"]], name="甲顾问", mobile="13812345678")
    two = make_advisor(
        world["street_a"],
        [world["station_a"]],
        name="乙顾问",
        background=Background.STREET_STAFF,
        filing_status=FilingStatus.PENDING,
    )
    client.force_login(world["manager_a"])
    body = client.get(reverse("advisors:roster")).content.decode()
    assert "138****5678" in body and "13812345678" not in body
    assert one.name in body and two.name in body
    body = client.get(reverse("advisors:roster"), {"q": "5678"}).content.decode()
    assert one.name in body and two.name not in body
    body = client.get(reverse("advisors:roster"), {"q": "乙"}).content.decode()
    assert two.name in body and one.name not in body
    body = client.get(reverse("advisors:roster"), {"station": world["point_a"].pk}).content
    assert one.name in body.decode() and two.name not in body.decode()
    body = client.get(reverse("advisors:roster"), {"filing_status": "pending"}).content.decode()
    assert two.name in body and one.name not in body
    body = client.get(reverse("advisors:roster"), {"background": "street_staff"}).content
    assert two.name in body.decode() and one.name not in body.decode()


def test_two_streets_scope(client, world):
    mine = make_advisor(world["street_a"], [world["point_a"]], name="本街顾问")
    other = make_advisor(
        world["street_b"], [world["point_b"]], name="他街顾问", filing_status=FilingStatus.PENDING
    )
    other_training = make_training(street=world["street_b"], date=datetime.date.today())
    client.force_login(world["manager_a"])
    roster = client.get(reverse("advisors:roster")).content.decode()
    assert mine.name in roster and other.name not in roster
    for name in ("detail", "edit"):
        assert client.get(reverse(f"advisors:{name}", args=[other.pk])).status_code == 404
    for name in ("submit", "file", "send_back", "revoke", "leave", "edit"):
        response = client.post(
            reverse(f"advisors:{name}", args=[other.pk]), {"leave-left_on": "2024-06-30"}
        )
        assert response.status_code == 404, name
    other.refresh_from_db()
    assert other.filing_submitted_at is None and other.left_on is None
    assert not FilingEvent.objects.exists()
    url = reverse("advisors:training_detail", args=[other_training.pk])
    assert client.get(url).status_code == 404
    assert "他街" not in client.get(reverse("advisors:trainings")).content.decode()

    # Registering into another street's station, or attending with another street's advisor.
    response = client.post(
        reverse("advisors:create"),
        register_payload(world, stations=[world["point_b"].pk], primary=world["point_b"].pk),
    )
    assert response.status_code == 200
    assert not Advisor.objects.filter(name="张晓明").exists()
    training = make_training(street=world["street_a"], date=datetime.date.today())
    response = client.post(
        reverse("advisors:training_detail", args=[training.pk]),
        {"attendance-advisor": other.pk, "attendance-attended": "on"},
    )
    assert response.status_code == 200
    assert not TrainingAttendance.objects.exists()

    # Bureau staff see both streets.
    client.force_login(world["bureau"])
    roster = client.get(reverse("advisors:roster")).content.decode()
    assert mine.name in roster and other.name in roster


def test_district_training_is_shared_with_streets(client, world):
    training = make_training(district=world["district"], date=datetime.date.today(), title="区培")
    client.force_login(world["manager_a"])
    assert "区培" in client.get(reverse("advisors:trainings")).content.decode()
    assert client.get(reverse("advisors:training_detail", args=[training.pk])).status_code == 200


def test_scores_and_remarks_show_on_the_training_and_on_the_advisor(client, world):
    from decimal import Decimal

    advisor = make_advisor(world["street_a"], name="成绩顾问")
    training = make_training(street=world["street_a"], date=datetime.date.today(), title="考核培训")
    TrainingAttendance.objects.create(
        training=training, advisor=advisor, attended=True, score=Decimal("92.5"), remark="结业"
    )
    client.force_login(world["manager_a"])
    for url in (
        reverse("advisors:training_detail", args=[training.pk]),
        reverse("advisors:detail", args=[advisor.pk]),
    ):
        body = client.get(url).content.decode()
        assert "成绩" in body and "92.5" in body and "结业" in body


def _bulk_advisors(world, count):
    start = Advisor.objects.count()
    advisors = Advisor.objects.bulk_create(
        Advisor(
            advisor_number=f"GW{world['street_a'].code}{start + i + 1:04d}",
            street=world["street_a"],
            name=f"批量{start + i}",
            gender=Gender.FEMALE,
            mobile="13800000000",
            background=Background.COMMUNITY_WORKER,
            started_on=datetime.date(2023, 1, 1),
            filing_status=FilingStatus.PENDING,
            filing_submitted_at="2024-01-01T00:00:00+08:00",
        )
        for i in range(count)
    )
    if connection.features.can_return_rows_from_bulk_insert:
        created = advisors
    else:
        created = Advisor.objects.filter(name__startswith="批量").order_by("pk")[start:]
    AdvisorStation.objects.bulk_create(
        AdvisorStation(advisor=advisor, station=world["point_a"], is_primary=True)
        for advisor in created
    )


@pytest.mark.parametrize("url_name", ["advisors:roster", "advisors:filing_queue"])
def test_lists_run_a_fixed_number_of_queries(client, world, url_name):
    user = world["bureau"]
    client.force_login(user)
    _bulk_advisors(world, 10)
    client.get(reverse(url_name))  # warm up (session, caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    _bulk_advisors(world, 190)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse(url_name)).status_code == 200
    assert len(small) == len(large), [q["sql"] for q in large]


def test_roles_without_personal_data_get_403(client, world):
    make_advisor(world["street_a"], [world["point_a"]], name="甲顾问")
    client.force_login(world["sysadmin"])
    for name in ("roster", "trainings", "create", "filing_queue", "training_create"):
        assert client.get(reverse(f"advisors:{name}")).status_code == 403, name
