"""Factories for advisors, their stations, filing and trainings (on top of stations' factories)."""

import datetime
import itertools
from decimal import Decimal

from advisors.choices import Background, FilingStatus, Gender, OrganiserLevel, TrainingKind
from advisors.models import Advisor, AdvisorStation, Training, TrainingAttendance

_names = itertools.count(1)
_filing_numbers = itertools.count(1)


def make_advisor(
    street,
    stations=(),
    *,
    name=None,
    started_on=datetime.date(2023, 1, 1),
    filing_status=FilingStatus.FILED,
    **fields,
):
    """An advisor of `street` serving `stations` (the first is primary); filed by default."""
    name = name or f"顾问{next(_names)}"
    if filing_status == FilingStatus.FILED:
        fields.setdefault("filing_number", f"CN-BA-{next(_filing_numbers):05d}")
        fields.setdefault("filed_on", started_on)
    fields.setdefault("gender", Gender.FEMALE)
    fields.setdefault("background", Background.COMMUNITY_WORKER)
    advisor = Advisor.objects.create(
        street=street, name=name, started_on=started_on, filing_status=filing_status, **fields
    )
    for index, station in enumerate(stations):
        AdvisorStation.objects.create(advisor=advisor, station=station, is_primary=index == 0)
    return advisor


def make_training(
    *,
    street=None,
    district=None,
    date,
    kind=TrainingKind.PROFESSIONAL,
    attendees=(),
    absentees=(),
    title="救助政策专业培训",
):
    """A street training (`street`) or a district one (`district`), with its attendance."""
    training = Training.objects.create(
        organiser_level=OrganiserLevel.STREET if street else OrganiserLevel.DISTRICT,
        district=street.district if street else district,
        street=street,
        date=date,
        title=title,
        hours=Decimal("2.0"),
        kind=kind,
    )
    for advisor in attendees:
        TrainingAttendance.objects.create(training=training, advisor=advisor, attended=True)
    for advisor in absentees:
        TrainingAttendance.objects.create(training=training, advisor=advisor, attended=False)
    return training
