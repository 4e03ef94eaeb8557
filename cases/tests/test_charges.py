"""The history of responsible advisors stays in step with the register, whichever door a
change comes through: the register's pages and services, the hand-over and the import."""

import datetime

import pytest

from advisors.tests.factories import make_advisor
from cases import services
from cases.charges import out_of_step, record_charges
from cases.models import AdvisorCharge, Recipient
from cases.tests.factories import make_recipient
from cases.tests.test_checklist_io import confirm, edit_xlsx, upload
from cases.tests.test_recipient_io import export, new_person
from cases.tests.test_recipient_io import world as world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_every_door_keeps_the_charges_in_step(client, world):  # noqa: F811
    manager = world["manager_a"]
    successor = make_advisor(world["street_a"], [world["point_a"]], name="乙顾问")
    assert not out_of_step().exists()
    # The register's edit page.
    client.force_login(manager)
    services.update_recipient(actor=manager, recipient=world["li"], advisor=successor)
    # The hand-over.
    services.hand_over(actor=manager, from_advisor=world["adv_a"], to_advisor=successor)
    assert Recipient.objects.get(pk=world["wang"].pk).advisor == successor
    # The register's import: a new person in the first advisor's charge, and an existing
    # person given back to them.
    world["adv_a"].refresh_from_db()
    row = new_person(world, 责任顾问编号=world["adv_a"].advisor_number)
    content = edit_xlsx(
        export(client),
        {(world["li"].file_number, "责任顾问编号"): world["adv_a"].advisor_number},
        append=[row],
    )
    confirm(client, upload(client, "recipients", content))
    newcomer = Recipient.objects.get(name="孙丽华")
    assert newcomer.advisor == world["adv_a"]
    assert Recipient.objects.get(pk=world["li"].pk).advisor == world["adv_a"]
    assert not out_of_step().exists()
    # Taking the advisor away closes the charge.
    services.update_recipient(actor=manager, recipient=newcomer, advisor=None)
    assert not AdvisorCharge.objects.filter(recipient=newcomer, ends_on__isnull=True).exists()
    assert not out_of_step().exists()


def test_a_write_that_skips_the_history_is_caught(world):  # noqa: F811
    Recipient.objects.filter(pk=world["wang"].pk).update(advisor=None)
    assert list(out_of_step()) == [world["wang"]]


def test_record_charges_runs_a_fixed_number_of_queries(world, django_assert_max_num_queries):  # noqa: F811
    successor = make_advisor(world["street_a"], [world["point_a"]])
    people = [make_recipient(world["committees_a"][0], advisor=world["adv_a"]) for _ in range(30)]
    with django_assert_max_num_queries(5):
        record_charges(
            Recipient.objects.filter(pk__in=[p.pk for p in people]),
            successor.pk,
            on=datetime.date(2030, 1, 1),
        )
    assert AdvisorCharge.objects.filter(advisor=successor).count() == 30
