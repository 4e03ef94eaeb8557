"""Writes to the advisor registry, its filing and its training. Pages, admin and imports come here.

Every service takes the acting user (`actor`) by keyword. A row outside the actor's scope is
treated as if it did not exist (`Http404`); a role that may not take a step gets
`PermissionDenied`; a bad value raises `ValidationError` with a Chinese message and changes
nothing. After saving, each service checks again that the row is inside the actor's scope,
in the same transaction, so that a write can never land outside it.

Decision: an advisor's login (`Advisor.user`) works only while the advisor is active
(`Advisor.is_active_on`). When an advisor leaves on or before today (`advisor_leave`) or
their filing is revoked (`revoke_filing`), the linked login is deactivated in the same
transaction, through accounts' own deactivation path
(`accounts.services.deactivate_advisor_login`), so the login records when it was stopped
and the audit trail who stopped it, as when an administrator deactivates a login; a
refused step leaves both as they were. A leave dated in the future leaves the login
working until the day before: from the day of the leave the login is refused at the login
page with the reason, and an open session is ended at its next request with the same
reason (`accounts.advisor_duty`), so no scheduled job is needed; the login then stays
active in the account pages until its administrator deactivates it. The same rule refuses
a login whose advisor has not started yet. A login linked to no advisor keeps working:
logins may be made before the advisor is registered. A login linked to an advisor must be
an advisor login of the actor's area.

Volunteers (社区志愿者) are kept like advisors: by the street manager of their street and by
bureau staff of their district, through `register_volunteer`, `update_volunteer` and
`end_volunteer`.
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from accounts.services import deactivate_advisor_login
from advisors.choices import FilingAction, FilingStatus, OrganiserLevel
from advisors.models import (
    Advisor,
    AdvisorStation,
    FilingEvent,
    Training,
    TrainingAttendance,
    Volunteer,
)
from changning_aid.scoping import ensure_still_visible
from changning_aid.writes import apply_changes, require_role, visible_or_404
from notifications import hooks as notification_hooks
from stations.models import Station, Street

# Roles that keep the registry (register, edit, stations, leave, trainings, attendance).
KEEPER_ROLES = (Role.STREET_MANAGER, Role.BUREAU)

# What `update_advisor` may change: never the street, the number or the filing.
EDITABLE_FIELDS = (
    "name",
    "gender",
    "mobile",
    "background",
    "social_work_level",
    "certificate_number",
    "skills",
    "uniform_issued_on",
    "badge_issued_on",
    "star_year",
    "backbone_year",
    "started_on",
    "user",
)


def _check_login(actor, changes):
    """A login linked to an advisor must be an advisor login the actor sees (their area's)."""
    user = changes.get("user")
    if user is None:
        return
    if (
        getattr(user, "role", None) != Role.ADVISOR
        or not User.objects.visible_to(actor).filter(pk=user.pk).exists()
    ):
        raise ValidationError({"user": _("只能关联本辖区社区救助顾问的登录账号。")})


def _stop_login(actor, advisor):
    """Deactivate the advisor's login, if it has one still active (see the module docstring)."""
    if advisor.user_id and advisor.user.is_active:
        deactivate_advisor_login(actor=actor, account=advisor.user)


def _record(advisor, actor, action, *, reason="", filing_number=""):
    return FilingEvent.objects.create(
        advisor=advisor, action=action, by=actor, reason=reason, filing_number=filing_number
    )


@transaction.atomic
def register_advisor(*, actor, street, **fields):
    """Register an advisor of `street` (待备案); the advisor number is generated.

    A street manager registers in their own street, bureau staff in any street of their
    district. Stations are set afterwards with `set_advisor_stations`.
    """
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以登记顾问。"))
    visible_or_404(Street.objects, actor, street)
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS) - {"left_on", "leave_reason"})
    if unknown:
        raise TypeError(f"register_advisor() got unexpected fields {', '.join(unknown)}")
    _check_login(actor, fields)
    advisor = Advisor(street=street, filing_status=FilingStatus.PENDING, **fields)
    advisor.full_clean(exclude=["advisor_number"])
    advisor.save()
    ensure_still_visible(advisor, actor)
    return advisor


@transaction.atomic
def update_advisor(*, actor, advisor, **changes):
    """Change an advisor's details (`EDITABLE_FIELDS`); the street and filing do not change here."""
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以修改顾问信息。"))
    visible_or_404(Advisor.objects, actor, advisor)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"update_advisor() cannot change {', '.join(unknown)}")
    if "user" in changes and changes["user"] is not None and changes["user"].pk != advisor.user_id:
        _check_login(actor, changes)
    apply_changes(advisor, changes)
    advisor.save(update_fields=[*changes, "updated_at"])
    ensure_still_visible(advisor, actor)
    return advisor


@transaction.atomic
def set_advisor_stations(*, actor, advisor, stations, primary):
    """Set the stations an advisor serves, `primary` among them, all in the advisor's street.

    When the advisor has a login, the login serves the same stations (that is what it sees).
    """
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以设置服务站点。"))
    visible_or_404(Advisor.objects, actor, advisor)
    stations = list(dict.fromkeys(stations))
    for station in stations:
        visible_or_404(Station.objects, actor, station)
    if not stations:
        raise ValidationError({"stations": _("请至少选择一个服务站点。")})
    if primary not in stations:
        raise ValidationError({"primary": _("主要服务站点必须是所选站点之一。")})
    outside = [s.name for s in stations if s.street_id != advisor.street_id]
    if outside:
        raise ValidationError(
            {"stations": _("以下站点不在顾问所属街镇内:%s。") % "、".join(outside)}
        )
    AdvisorStation.objects.filter(advisor=advisor).exclude(station__in=stations).delete()
    existing = {link.station_id: link for link in AdvisorStation.objects.filter(advisor=advisor)}
    # The old primary first loses its flag, so the one-primary constraint holds throughout.
    AdvisorStation.objects.filter(advisor=advisor, is_primary=True).exclude(station=primary).update(
        is_primary=False
    )
    for station in stations:
        link = existing.get(station.pk) or AdvisorStation(advisor=advisor, station=station)
        link.is_primary = station == primary
        link.full_clean()
        link.save()
    if advisor.user_id:
        advisor.user.stations.set(stations)
    # A change of stations is a change of the roster (checklist 1, rule C10).
    advisor.save(update_fields=["updated_at"])
    ensure_still_visible(advisor, actor)
    return advisor


@transaction.atomic
def advisor_leave(*, actor, advisor, left_on, reason):
    """Record that an advisor leaves on `left_on`: not active from that day on; nothing deleted.

    A leave on or before today deactivates the advisor's login now; a later one lets it work
    until the day before `left_on` (see the module docstring).
    """
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以办理离岗。"))
    visible_or_404(Advisor.objects, actor, advisor)
    if advisor.left_on:
        raise ValidationError({"left_on": _("该顾问已于%s离岗。") % advisor.left_on})
    if left_on is None:
        raise ValidationError({"left_on": _("请填写离岗日期。")})
    apply_changes(advisor, {"left_on": left_on, "leave_reason": (reason or "").strip()})
    advisor.save(update_fields=["left_on", "leave_reason", "updated_at"])
    if advisor.left_on <= timezone.localdate():
        _stop_login(actor, advisor)
    ensure_still_visible(advisor, actor)
    return advisor


@transaction.atomic
def submit_for_filing(*, actor, advisor):
    """A street manager submits a 待备案 advisor of their street to the bureau for filing."""
    require_role(actor, (Role.STREET_MANAGER,), _("只有街镇管理员可以提交备案。"))
    visible_or_404(Advisor.objects, actor, advisor)
    if advisor.filing_status != FilingStatus.PENDING:
        raise ValidationError(_("只有待备案的顾问可以提交备案。"))
    if advisor.filing_submitted_at:
        raise ValidationError(_("该顾问已提交备案,等待区民政局审核。"))
    advisor.filing_submitted_at = timezone.now()
    advisor.save(update_fields=["filing_submitted_at", "updated_at"])
    _record(advisor, actor, FilingAction.SUBMIT)
    ensure_still_visible(advisor, actor)
    return advisor


@transaction.atomic
def file_advisor(*, actor, advisor, filing_number, filed_on):
    """Bureau staff file a submitted advisor: 已备案, with the filing number and date."""
    require_role(actor, (Role.BUREAU,), _("只有区民政局可以办理备案。"))
    visible_or_404(Advisor.objects, actor, advisor)
    if advisor.filing_status != FilingStatus.PENDING or not advisor.filing_submitted_at:
        raise ValidationError(_("只有已提交的待备案顾问可以备案。"))
    filing_number = (filing_number or "").strip()
    if filing_number and Advisor.objects.filter(filing_number=filing_number).exists():
        raise ValidationError({"filing_number": _("备案编号已被使用。")})
    apply_changes(
        advisor,
        {
            "filing_status": FilingStatus.FILED,
            "filing_number": filing_number,
            "filed_on": filed_on,
        },
    )
    advisor.save(update_fields=["filing_status", "filing_number", "filed_on", "updated_at"])
    _record(advisor, actor, FilingAction.FILE, filing_number=advisor.filing_number)
    ensure_still_visible(advisor, actor)
    notification_hooks.filing_decided(advisor, actor)
    return advisor


@transaction.atomic
def send_back(*, actor, advisor, reason):
    """Bureau staff send a submission back to the street (待备案), with the reason."""
    require_role(actor, (Role.BUREAU,), _("只有区民政局可以退回备案。"))
    visible_or_404(Advisor.objects, actor, advisor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("退回时请填写原因。")})
    if advisor.filing_status != FilingStatus.PENDING or not advisor.filing_submitted_at:
        raise ValidationError(_("只有已提交的待备案顾问可以退回。"))
    advisor.filing_submitted_at = None
    advisor.save(update_fields=["filing_submitted_at", "updated_at"])
    _record(advisor, actor, FilingAction.SEND_BACK, reason=reason)
    ensure_still_visible(advisor, actor)
    notification_hooks.filing_decided(advisor, actor)
    return advisor


@transaction.atomic
def revoke_filing(*, actor, advisor, reason):
    """Bureau staff revoke an advisor's filing (已注销): no longer active, history kept.

    The advisor's login is deactivated with it (see the module docstring).
    """
    require_role(actor, (Role.BUREAU,), _("只有区民政局可以注销备案。"))
    visible_or_404(Advisor.objects, actor, advisor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("注销时请填写原因。")})
    if advisor.filing_status == FilingStatus.REVOKED:
        raise ValidationError(_("该顾问的备案已注销。"))
    advisor.filing_status = FilingStatus.REVOKED
    advisor.filing_submitted_at = None
    advisor.save(update_fields=["filing_status", "filing_submitted_at", "updated_at"])
    _record(advisor, actor, FilingAction.REVOKE, reason=reason)
    _stop_login(actor, advisor)
    ensure_still_visible(advisor, actor)
    notification_hooks.filing_decided(advisor, actor)
    return advisor


@transaction.atomic
def record_training(*, actor, date, title, hours, kind, street=None, trainer="", place=""):
    """Record a training: a street manager's is their street's; bureau staff record a
    district training (`street=None`) or one of a street of their district."""
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以登记培训。"))
    if actor.role == Role.STREET_MANAGER:
        street = street or actor.street
    if street is not None:
        visible_or_404(Street.objects, actor, street)
        level, district = OrganiserLevel.STREET, street.district
    else:
        level, district = OrganiserLevel.DISTRICT, actor.district
    training = Training(
        organiser_level=level,
        district=district,
        street=street,
        date=date,
        title=title,
        hours=hours,
        kind=kind,
        trainer=trainer,
        place=place,
    )
    training.full_clean()
    training.save()
    ensure_still_visible(training, actor)
    return training


@transaction.atomic
def record_attendance(*, actor, training, advisor, attended, score=None, remark=""):
    """Record whether `advisor` attended `training` (once per advisor; a second call updates).

    A street manager records their own advisors, at their street's trainings or the
    district's; bureau staff any advisor of their district.
    """
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以登记培训出勤。"))
    visible_or_404(Training.objects, actor, training)
    visible_or_404(Advisor.objects, actor, advisor)
    attendance = TrainingAttendance.objects.filter(training=training, advisor=advisor).first()
    attendance = attendance or TrainingAttendance(training=training, advisor=advisor)
    attendance.attended = attended
    attendance.score = score
    attendance.remark = remark
    attendance.full_clean(validate_unique=False)
    attendance.save()
    ensure_still_visible(attendance, actor)
    return attendance


# What `update_volunteer` may change: never the street; the end of service is `end_volunteer`.
VOLUNTEER_EDITABLE_FIELDS = ("name", "phone", "skills", "station", "active_from")

# A phone as people write it: digits, spaces, "-" and brackets, perhaps a leading "+"
# (021-6234 5678, (021)62345678, +86 138 0000 0000).
PHONE_PATTERN = re.compile(r"[+(]?[0-9][0-9 ()\-]{4,28}")


def check_phone(phone):
    """Refuse a phone that is not written as one (an empty phone is allowed)."""
    if phone and not PHONE_PATTERN.fullmatch(phone):
        raise ValidationError(
            _("联系电话只能包含数字、空格、括号、“-”和“+”,请填写完整的号码。"), code="phone"
        )


def _clean_volunteer_values(values):
    """Trim the text a person typed; refuse a phone that is not written as one."""
    cleaned = dict(values)
    for name in ("name", "phone", "skills"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    try:
        check_phone(cleaned.get("phone"))
    except ValidationError as error:
        raise ValidationError({"phone": error.messages}) from error
    return cleaned


def _check_volunteer_station(actor, station):
    if station is not None:
        visible_or_404(Station.objects, actor, station)


@transaction.atomic
def register_volunteer(*, actor, street, name, active_from, phone="", skills="", station=None):
    """Register a 社区志愿者 of `street`, optionally at one of its stations.

    A street manager registers in their own street, bureau staff in any street of their
    district; the station, when given, must be of the same street.
    """
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以登记志愿者。"))
    visible_or_404(Street.objects, actor, street)
    _check_volunteer_station(actor, station)
    values = _clean_volunteer_values(
        {"name": name, "phone": phone, "skills": skills, "active_from": active_from}
    )
    volunteer = Volunteer(street=street, station=station, **values)
    volunteer.full_clean()
    volunteer.save()
    ensure_still_visible(volunteer, actor)
    return volunteer


@transaction.atomic
def update_volunteer(*, actor, volunteer, **changes):
    """Change a volunteer's details (`VOLUNTEER_EDITABLE_FIELDS`); the street does not change."""
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以修改志愿者信息。"))
    visible_or_404(Volunteer.objects, actor, volunteer)
    unknown = sorted(set(changes) - set(VOLUNTEER_EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"update_volunteer() cannot change {', '.join(unknown)}")
    if "station" in changes:
        _check_volunteer_station(actor, changes["station"])
    changes = _clean_volunteer_values(changes)
    apply_changes(volunteer, changes)
    volunteer.save(update_fields=[*changes, "updated_at"])
    ensure_still_visible(volunteer, actor)
    return volunteer


@transaction.atomic
def end_volunteer(*, actor, volunteer, active_to):
    """Record the last day of a volunteer's service; the volunteer and their history stay."""
    require_role(actor, KEEPER_ROLES, _("只有街镇管理员或区民政局可以办理志愿者结束服务。"))
    visible_or_404(Volunteer.objects, actor, volunteer)
    if active_to is None:
        raise ValidationError({"active_to": _("请填写服务结束日期。")})
    if volunteer.active_to:
        raise ValidationError(
            {"active_to": _("该志愿者的服务结束日期已登记为%s。") % volunteer.active_to}
        )
    apply_changes(volunteer, {"active_to": active_to})
    volunteer.save(update_fields=["active_to", "updated_at"])
    ensure_still_visible(volunteer, actor)
    return volunteer
