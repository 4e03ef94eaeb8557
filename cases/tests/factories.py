"""Factories for people in hardship and the checklists (on top of stations' and advisors')."""

import datetime
import itertools

from cases.charges import record_charges
from cases.choices import AreaLevel, Gender, NeedCategory, NeedSource, ResourceType, Urgency
from cases.models import CurrentPeriod, Need, Recipient, Resource
from changning_aid.sensitive.idnumbers import check_character

_serials = itertools.count(1)


def id_number(birth=datetime.date(1960, 5, 17), *, male=False, area="310105"):
    """A valid 18-character ID number, different at each call."""
    serial = next(_serials) % 500
    sequence = serial * 2 + (1 if male else 0)
    first_17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first_17 + check_character(first_17)


def make_recipient(
    committee,
    *,
    name=None,
    male=False,
    current_from=None,
    advisor=None,
    charged_from=None,
    **fields,
):
    """A registered person of `committee`; a current recipient from `current_from` if given."""
    recipient = Recipient.objects.create(
        committee=committee,
        street=committee.street,
        name=name or f"困难人员{next(_serials)}",
        gender=Gender.MALE if male else Gender.FEMALE,
        id_number=fields.pop("id_number", None) or id_number(male=male),
        advisor=advisor,
        **fields,
    )
    if current_from is not None:
        CurrentPeriod.objects.create(recipient=recipient, starts_on=current_from)
    if advisor is not None:
        # As the register's services do: the charge history names the advisor from today
        # (or from `charged_from`, for tests of past months).
        record_charges([recipient.pk], advisor.pk, on=charged_from or current_from)
    return recipient


def make_need(recipient, *, status="to_assess", found_on=datetime.date(2026, 1, 5), **fields):
    fields.setdefault("category", NeedCategory.MEDICAL)
    fields.setdefault("description", "需要医疗费用帮助")
    fields.setdefault("source", NeedSource.VISIT)
    fields.setdefault("urgency", Urgency.NORMAL)
    fields.setdefault("advisor", recipient.advisor)
    if status in ("resolved", "unresolvable"):
        fields.setdefault("closed_on", found_on)
        fields.setdefault("outcome", "已办结")
    return Need.objects.create(recipient=recipient, status=status, found_on=found_on, **fields)


def make_resource(*, district=None, street=None, committee=None, **fields):
    """A district-wide resource (`district`), or one of a street or of a committee."""
    if committee is not None:
        level, street = AreaLevel.COMMITTEE, committee.street
    elif street is not None:
        level = AreaLevel.STREET
    else:
        level = AreaLevel.DISTRICT
    fields.setdefault("name", f"资源{next(_serials)}")
    fields.setdefault("resource_type", ResourceType.PROJECT)
    return Resource.objects.create(
        area_level=level,
        district=district or street.district,
        street=street,
        committee=committee,
        **fields,
    )
