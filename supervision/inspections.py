"""Writes of the bureau's inspections (督导检查): the inspection with its scored checklist,
and the findings with their photos and files. Pages come here.

Only bureau staff record inspections, of the streets (and their stations) of their own
district; street managers read their street's and advisors none (`Inspection.objects.
visible_to`). Every service takes the acting user by keyword; a row outside the actor's
scope is treated as not existing (`Http404`), a role that may not write gets
`PermissionDenied`, and a bad value a `ValidationError` with a Chinese message, keyed by
field, that changes nothing (files already stored are deleted again).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.choices import Role
from changning_aid.scoping import ensure_still_visible
from changning_aid.writes import require_role, visible_or_404
from stations.models import Station, Street
from supervision import attachments
from supervision.models import (
    ITEM_MAX_SCORE,
    CheckItem,
    Finding,
    FindingAttachment,
    Inspection,
    InspectionItem,
    Severity,
)

INSPECTORS = (Role.BUREAU,)


def can_record(user):
    """Who records inspections and findings: bureau staff."""
    return user.is_authenticated and user.is_bureau


def _clean_scores(scores):
    """`scores` ({item: {"score": n, "remark": text}}) checked; the InspectionItems to save."""
    rows, errors = [], {}
    for item, entry in (scores or {}).items():
        if item not in CheckItem.values:
            errors.setdefault("items", []).append(_("未知的检查项目。"))
            continue
        score, remark = entry.get("score"), (entry.get("remark") or "").strip()
        max_score = entry.get("max_score") or ITEM_MAX_SCORE
        label = CheckItem(item).label
        if score is None:
            if remark:
                errors[f"score_{item}"] = _("请为“%(item)s”评分,或清除说明。") % {"item": label}
            continue
        if not isinstance(score, int) or not 0 <= score <= max_score:
            errors[f"score_{item}"] = _("“%(item)s”的得分应在 0 到 %(max)s 分之间。") % {
                "item": label,
                "max": max_score,
            }
            continue
        rows.append(InspectionItem(item=item, score=score, max_score=max_score, remark=remark))
    if not rows and not errors:
        errors["items"] = _("请至少为一个检查项目评分。")
    if errors:
        raise ValidationError(errors)
    return rows


@transaction.atomic
def record_inspection(
    *,
    actor,
    street,
    inspected_on,
    inspectors,
    scores,
    station=None,
    announced=False,
    summary="",
):
    """Record a 督导检查 of `street` (or of `station`, one of its stations) with its checklist.

    `scores` maps a `CheckItem` to {"score": 0..10, "remark": text}; items left out were not
    checked and count neither in the total nor in the full marks. At least one is scored.
    """
    require_role(actor, INSPECTORS, _("只有区民政局可以登记督导检查。"))
    visible_or_404(Street.objects, actor, street)
    if station is not None:
        visible_or_404(Station.objects, actor, station)
    errors = {}
    try:
        items = _clean_scores(scores)
    except ValidationError as error:
        errors.update(error.message_dict)
        items = []
    inspection = Inspection(
        street=street,
        station=station,
        inspected_on=inspected_on,
        inspectors=" ".join((inspectors or "").split()),
        announced=bool(announced),
        summary=(summary or "").strip(),
        recorded_by=actor,
    )
    if not inspection.inspectors:
        errors["inspectors"] = [_("请填写检查人员。")]
    try:
        inspection.full_clean(exclude=["inspectors"] if "inspectors" in errors else None)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    inspection.save()
    for row in items:
        row.inspection = inspection
    InspectionItem.objects.bulk_create(items)
    ensure_still_visible(inspection, actor)
    return inspection


@transaction.atomic
def add_finding(*, actor, inspection, description, severity=Severity.GENERAL, item="", files=()):
    """Record what `inspection` found wrong, with its photos or files (checked first)."""
    require_role(actor, INSPECTORS, _("只有区民政局可以登记检查发现的问题。"))
    visible_or_404(Inspection.objects, actor, inspection)
    checked = attachments.check_attachments(files)
    finding = Finding(
        inspection=inspection,
        item=item or "",
        description=(description or "").strip(),
        severity=severity,
        recorded_by=actor,
    )
    if not finding.description:
        raise ValidationError({"description": _("请填写问题描述。")})
    finding.full_clean()
    stored = []
    try:
        finding.save()
        for upload in checked:
            stored.append(
                attachments.store(FindingAttachment, upload, uploaded_by=actor, finding=finding)
            )
        ensure_still_visible(finding, actor)
    except BaseException:
        attachments.discard_files(stored)
        raise
    return finding


def with_totals(inspections):
    """Inspections annotated with their checklist's total (`total_score`, `full_score`) and
    the number of their findings (`finding_count`): three subqueries, no query per row."""

    def summed(field):
        rows = (
            InspectionItem.objects.filter(inspection=OuterRef("pk"))
            .order_by()
            .values("inspection")
            .annotate(n=Sum(field))
            .values("n")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    findings = (
        Finding.objects.filter(inspection=OuterRef("pk"))
        .order_by()
        .values("inspection")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return inspections.annotate(
        total_score=summed("score"),
        full_score=summed("max_score"),
        finding_count=Coalesce(Subquery(findings, output_field=IntegerField()), 0),
    )
