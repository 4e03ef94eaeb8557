"""Open one charge for every person who already has a responsible advisor, from the day
their file was created: the register kept no earlier history."""

from django.db import migrations
from django.utils import timezone


def open_charges(apps, schema_editor):
    Recipient = apps.get_model("cases", "Recipient")
    AdvisorCharge = apps.get_model("cases", "AdvisorCharge")
    rows = Recipient.objects.exclude(advisor=None).values_list("pk", "advisor_id", "created_at")
    AdvisorCharge.objects.bulk_create(
        (
            AdvisorCharge(recipient_id=pk, advisor_id=advisor_id, starts_on=timezone.localtime(created).date())
            for pk, advisor_id, created in rows.iterator()
        ),
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_advisor_charge")]

    operations = [migrations.RunPython(open_charges, migrations.RunPython.noop)]
