"""The history of each person's responsible advisor (`AdvisorCharge`), kept with every change.

Every write that changes `Recipient.advisor` calls `record_charges` in the same transaction
(the register, edits, the hand-over, the register's import, the demo), so that the open
charge of a person always names the advisor of the register and the closed ones say who
was responsible before. A month's miss belongs to the advisor responsible on the month's
last day (DOMAIN.md C9); `responsible_on` is that lookup as a subquery.

Decisions:
- A change takes effect on the day it is made (`on`, today by default): the previous
  charge ends the day before. Several changes on one day keep only the last (a charge
  never has zero days).
- A person without an advisor has no open charge: a miss of a month whose last day falls
  in such a gap belongs to nobody (the pages list it as 未指定责任顾问).
"""

import datetime

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from cases.models import AdvisorCharge


def record_charges(recipients, advisor_id, on=None):
    """Make `advisor_id` (or None) the responsible advisor of `recipients` from day `on`.

    `recipients` is a queryset of `Recipient` (or a list of their ids). A fixed number of
    queries whatever the number of people: those already in the charge of `advisor_id`
    are left as they are.
    """
    on = on or timezone.localdate()
    from visits import summaries

    # The hooks of the deletions below only note the people: one refresh at the end.
    with summaries.deferred():
        recipient_ids = (
            recipients.values("pk") if hasattr(recipients, "values") else list(recipients)
        )
        changing = AdvisorCharge.objects.filter(recipient__in=recipient_ids, ends_on__isnull=True)
        if advisor_id is not None:
            changing = changing.exclude(advisor_id=advisor_id)
        # A charge that started today (or later) is replaced outright; an older one ends yesterday.
        changing.filter(starts_on__gte=on).delete()
        changing.filter(starts_on__lt=on).update(ends_on=on - datetime.timedelta(days=1))
        if advisor_id is not None:
            from cases.models import Recipient

            holders = AdvisorCharge.objects.filter(ends_on__isnull=True, advisor_id=advisor_id)
            new = Recipient.objects.filter(pk__in=recipient_ids).exclude(
                pk__in=holders.values("recipient")
            )
            AdvisorCharge.objects.bulk_create(
                AdvisorCharge(recipient_id=pk, advisor_id=advisor_id, starts_on=on)
                for pk in new.values_list("pk", flat=True)
            )
        # The month summaries (C9): the months whose last day is on or after `on` changed hands.
        months = summaries.months_from(on, summaries.this_month())
        summaries.refresh_people(recipient_ids, months=months)


def responsible_on(day, recipient_ref="pk"):
    """A subquery: the id of the advisor responsible for the outer person on `day`."""
    charges = AdvisorCharge.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day),
        recipient=OuterRef(recipient_ref),
        starts_on__lte=day,
    ).order_by("-starts_on")
    return Subquery(charges.values("advisor")[:1])


def out_of_step():
    """The people whose open charge does not name their advisor of the register (none when
    every write went through `record_charges`; the tests check it after every kind of write)."""
    from django.db.models import Exists

    from cases.models import Recipient

    open_charge = AdvisorCharge.objects.filter(recipient=OuterRef("pk"), ends_on__isnull=True)
    return Recipient.objects.filter(
        (Q(advisor__isnull=False) & ~Exists(open_charge.filter(advisor=OuterRef("advisor"))))
        | (Q(advisor__isnull=True) & Exists(open_charge))
    )
