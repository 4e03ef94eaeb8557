"""`manage.py compliance --all-districts`: the city-wide run, every district in turn."""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command

from advisors.tests.factories import make_advisor
from cases.tests.factories import make_recipient
from stations.tests.factories import make_committee, make_district, make_street, street_station
from visits.choices import VisitMethod
from visits.models import VisitPolicy
from visits.tests.factories import make_visit

D = datetime.date
OCT = "2026-10"


@pytest.fixture
def two_districts(two_streets):
    """长宁区 (phone calls excluded) with two streets; 徐汇区 with one, on the defaults.

    In each district one person is due in October with a phone call only.
    """
    w = two_streets
    VisitPolicy.objects.create(district=w.district, excluded_methods=["phone"])
    xuhui = make_district("310104", "徐汇区")
    x_street = make_street(xuhui, "天平路街道", "310104003")
    x_committee = make_committee(x_street, "天平居委会", "310104003001")
    for committee, street in ((w.committees_a[0], w.street_a), (x_committee, x_street)):
        advisor = make_advisor(street, [street_station(street)])
        person = make_recipient(committee, current_from=D(2026, 1, 1))
        make_visit(person, advisor, D(2026, 10, 9), method=VisitMethod.PHONE)
    w.xuhui, w.x_street = xuhui, x_street
    return w


def run(*args):
    out = io.StringIO()
    call_command("compliance", *args, stdout=out)
    return out.getvalue()


def test_all_districts_gives_each_district_as_the_district_flag_does(two_districts):
    city = json.loads(run("--period", OCT, "--json", "--all-districts"))

    assert (city["period"], city["period_first"], city["period_last"], city["judged_on"]) == (
        OCT,
        "2026-10-01",
        "2026-10-31",
        "2026-10-31",
    )
    assert [entry["district"]["code"] for entry in city["districts"]] == ["310104", "310105"]
    for entry in city["districts"]:
        alone = json.loads(run("--period", OCT, "--json", "--district", entry["district"]["code"]))
        assert entry == alone
    xuhui, changning = city["districts"]
    assert [street["code"] for street in xuhui["streets"]] == [two_districts.x_street.code]
    assert [street["code"] for street in changning["streets"]] == [
        two_districts.street_a.code,
        two_districts.street_b.code,
    ]
    # Each district by its own visit policy: the phone call counts in 徐汇区 only.
    c9 = {e["district"]["code"]: e["district"]["rules"]["C9"] for e in city["districts"]}
    assert (c9["310104"]["covered"], c9["310104"]["total"]) == (1, 1)
    assert (c9["310105"]["covered"], c9["310105"]["total"]) == (0, 1)


def test_all_districts_prints_a_table_for_each_district(two_districts):
    text = run("--period", OCT, "--all-districts")

    xuhui_at, changning_at = text.index("徐汇区 2026年10月"), text.index("长宁区 2026年10月")
    assert xuhui_at < changning_at
    assert text[xuhui_at:changning_at].count("C9  每月走访:1/1 100.0% 达标") == 1
    assert "C9  每月走访:0/1 0.0% 未达标" in text[changning_at:]


def test_all_districts_is_refused_with_a_district_or_a_street(two_districts):
    for extra in (["--district", "310105"], ["--street", two_districts.street_a.code]):
        with pytest.raises(
            CommandError, match="--all-districts 不能与 --district 或 --street 同用"
        ):
            run("--period", OCT, "--all-districts", *extra)
    with pytest.raises(CommandError, match="统计期"):
        run("--period", "2026-13", "--all-districts")


@pytest.mark.django_db
def test_all_districts_without_districts_says_so():
    with pytest.raises(CommandError, match="系统中还没有区"):
        run("--period", OCT, "--all-districts")
