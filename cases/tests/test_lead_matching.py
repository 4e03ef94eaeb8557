"""Matching a department's list with the register (政策找人): what each row becomes."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError

from advisors.tests.factories import make_advisor
from cases import leads as lead_services
from cases.choices import LeadRowOutcome, LeadStatus
from cases.lead_models import Lead, LeadFact
from cases.tests.factories import id_number, make_recipient
from cases.tests.lead_factories import make_source, upload_list
from stations.tests.factories import committee_point, make_two_streets

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    world = make_two_streets()
    world["advisor_a1"] = make_advisor(
        world["street_a"], [committee_point(world["committees_a"][0])], user=world["advisor_a"]
    )
    return world


def row(name, number, code="", address="", note=""):
    return [name, number, code, address, note]


def outcomes(upload):
    return [outcome for _line, outcome, _ref, _reason in upload.report]


def test_new_person_with_committee_code_becomes_a_lead_for_the_point_advisor(w):
    number = id_number()
    source = make_source(w["district"])
    upload = upload_list(
        w["bureau"], source, [row("王新", number, "310105001001", "华阳路1号", "二级肢体残疾")]
    )
    lead = Lead.objects.get()
    assert outcomes(upload) == [LeadRowOutcome.NEW_LEAD]
    assert (upload.rows_total, upload.rows_new) == (1, 1)
    assert lead.committee == w["committees_a"][0]
    assert lead.street == w["street_a"]
    assert lead.advisor == w["advisor_a1"]
    assert lead.status == LeadStatus.PENDING
    assert lead.id_tail == number[-4:]
    assert lead.facts.get().facts == {"情况说明": "二级肢体残疾"}
    assert upload.content is None  # the file is not kept
    # The mapping is remembered for the next upload from the source.
    source.refresh_from_db()
    assert source.mapping["id_number"] == "身份证号"
    assert source.fact_columns == ["情况说明"]


def test_the_same_list_twice_creates_nothing_new(w):
    source = make_source(w["district"])
    rows = [row("王新", id_number(), "310105001001", "", "二级肢体残疾")]
    upload_list(w["bureau"], source, rows)
    second = upload_list(w["bureau"], source, rows)
    assert Lead.objects.count() == 1
    assert LeadFact.objects.count() == 1
    assert outcomes(second) == [LeadRowOutcome.DUPLICATE]
    assert second.rows_new == 0


def test_the_same_person_in_two_sources_is_one_lead_ranked_higher(w):
    number = id_number()
    other = id_number()
    disability = make_source(w["district"], "区残联·残疾人证")
    medical = make_source(w["district"], "区医保局·高额医疗费用")
    upload_list(
        w["bureau"],
        disability,
        [row("王新", number, "310105001001", "", "二级"), row("李单", other, "310105001001")],
    )
    upload = upload_list(w["bureau"], medical, [row("王新", number, "", "", "自付8万元")])
    assert outcomes(upload) == [LeadRowOutcome.MERGED]
    assert Lead.objects.count() == 2
    lead = Lead.objects.get(id_tail=number[-4:])
    assert lead.source_count == 2
    assert lead.facts.count() == 2
    # Ranked first: more sources name them.
    assert list(Lead.objects.values_list("pk", flat=True))[0] == lead.pk


def test_invalid_id_numbers_are_reported_not_guessed_and_valid_rows_still_go_in(w):
    good = id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    source = make_source(w["district"])
    upload = upload_list(
        w["bureau"],
        source,
        [
            row("坏号", bad, "310105001001"),
            row("", id_number(), "310105001001"),
            row("好", good, "310105001001"),
        ],
    )
    assert outcomes(upload) == [
        LeadRowOutcome.INVALID,
        LeadRowOutcome.INVALID,
        LeadRowOutcome.NEW_LEAD,
    ]
    assert upload.rows_invalid == 2
    assert "校验位" in upload.report[0][3]
    assert upload.report[1][3] == "姓名为空"
    assert upload.report[0][0] == 2  # Excel row numbers: headers are row 1
    assert Lead.objects.get().id_tail == good[-4:]
    assert bad not in str(upload.report)


def test_an_address_that_matches_no_committee_waits_for_the_bureau(w):
    source = make_source(w["district"])
    upload = upload_list(w["bureau"], source, [row("无址", id_number(), "", "天山路999号")])
    lead = Lead.objects.get()
    assert outcomes(upload) == [LeadRowOutcome.UNPLACEABLE]
    assert upload.rows_unplaceable == 1
    assert lead.committee is None and lead.street is None and lead.advisor is None
    # Street managers do not see an unplaced lead; bureau staff do, and place it.
    assert not Lead.objects.visible_to(w["manager_a"]).exists()
    lead_services.place_lead(actor=w["bureau"], lead=lead, committee=w["committees_a"][0])
    lead.refresh_from_db()
    assert lead.street == w["street_a"] and lead.advisor == w["advisor_a1"]
    assert Lead.objects.visible_to(w["manager_a"]).get() == lead
    assert lead.facts.get().street == w["street_a"]


def test_an_address_already_on_the_register_places_the_lead(w):
    make_recipient(w["committees_a"][1], address="华阳路88弄3号")
    source = make_source(w["district"])
    upload_list(w["bureau"], source, [row("同址", id_number(), "", "华阳路88弄3号")])
    assert Lead.objects.get().committee == w["committees_a"][1]


def test_a_committee_code_of_another_district_is_not_used(w):
    source = make_source(w["district"])
    upload = upload_list(w["bureau"], source, [row("外区", id_number(), "310104001001")])
    assert outcomes(upload) == [LeadRowOutcome.UNPLACEABLE]
    assert "310104001001" in upload.report[0][3]


def test_a_registered_person_gets_the_fact_on_file_flagged_as_changed(w):
    person = make_recipient(w["committees_a"][0], advisor=w["advisor_a1"])
    number = person.plain_id_number()
    source = make_source(w["district"], "区卫健委·大病")
    upload = upload_list(w["bureau"], source, [row(person.name, number, "", "", "确诊恶性肿瘤")])
    assert outcomes(upload) == [LeadRowOutcome.MATCHED]
    assert upload.report[0][2] == person.file_number
    assert not Lead.objects.exists()
    fact = person.source_facts.get()
    assert fact.changes_situation and fact.acknowledged_at is None
    assert fact.street == w["street_a"]
    assert LeadFact.objects.visible_to(w["advisor_a"]).flagged().get() == fact
    assert not LeadFact.objects.visible_to(w["manager_b"]).exists()
    # Said again, it is nothing new; said differently, it is a change again.
    again = upload_list(w["bureau"], source, [row(person.name, number, "", "", "确诊恶性肿瘤")])
    assert outcomes(again) == [LeadRowOutcome.DUPLICATE]
    changed = upload_list(w["bureau"], source, [row(person.name, number, "", "", "肿瘤复发")])
    assert outcomes(changed) == [LeadRowOutcome.MATCHED]
    assert person.source_facts.flagged().count() == 2


def test_only_bureau_staff_upload(w):
    source = make_source(w["district"])
    with pytest.raises(Exception) as caught:
        upload_list(w["manager_a"], source, [row("王新", id_number(), "310105001001")])
    assert caught.type.__name__ in ("PermissionDenied", "Http404")


def test_mapping_needs_name_and_id_number(w):
    with pytest.raises(ValidationError) as caught:
        lead_services.check_mapping({"name": "姓名"}, [], ["姓名", "证件号码"])
    assert "身份证号" in str(caught.value)


def test_lead_path_visit_then_enrol_moves_visits_and_needs(w):
    from cases.models import AssistanceCategory
    from visits.choices import VisitMethod, VisitResult
    from visits.models import Visit

    source = make_source(w["district"])
    upload_list(w["bureau"], source, [row("王新", id_number(male=True), "310105001001")])
    lead = Lead.objects.get()
    today = datetime.date.today()
    failed = lead_services.record_lead_visit(
        actor=w["advisor_a"],
        lead=lead,
        advisor=w["advisor_a1"],
        visited_on=today,
        method=VisitMethod.HOME,
        result=VisitResult.NOBODY_HOME,
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.PENDING and failed.lead == lead
    lead_services.record_lead_visit(
        actor=w["advisor_a"],
        lead=lead,
        advisor=w["advisor_a1"],
        visited_on=today,
        method=VisitMethod.HOME,
        findings="独居,行动不便",
        needs=[{"category": "care", "description": "需要助餐"}],
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VISITED and lead.first_visited_on == today
    assert lead.needs.count() == 1
    category = AssistanceCategory.objects.filter(district__isnull=True).first()
    recipient = lead_services.enrol_lead(
        actor=w["advisor_a"], lead=lead, gender="male", categories=[category]
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ENROLLED and lead.recipient == recipient
    assert Visit.objects.filter(recipient=recipient).count() == 2
    assert recipient.needs.count() == 1
    assert recipient.advisor == w["advisor_a1"]
    assert list(recipient.categories.all()) == [category]


def test_a_list_never_processed_loses_its_file_after_a_day(w):
    from django.core.management import call_command
    from django.utils import timezone

    from cases.lead_models import LeadUpload
    from cases.tests.lead_factories import csv_bytes

    source = make_source(w["district"])
    kept, stale = (
        lead_services.receive_list(
            actor=w["bureau"],
            source=source,
            received_on=datetime.date(2026, 11, 2),
            file_name="名单.csv",
            file_format="csv",
            content=csv_bytes([row("王新", id_number(), "310105001001")]),
        )
        for _ in range(2)
    )
    LeadUpload.objects.filter(pk=stale.pk).update(
        uploaded_at=timezone.now() - datetime.timedelta(hours=25)
    )
    call_command("run_scheduled", stdout=io.StringIO())
    stale.refresh_from_db()
    kept.refresh_from_db()
    assert stale.state == LeadUpload.State.DISCARDED and stale.content is None
    assert kept.state == LeadUpload.State.MAPPING and kept.content is not None
