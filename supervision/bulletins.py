"""The bureau's progress bulletins (通报): generated from the compliance engine for a period,
edited as a draft, published, printed and exported to .docx.

- `generate(actor=, period_text=)`: bureau staff only, one bulletin per district and period.
  The engine's result (`supervision.engine.evaluate`) is frozen into `Bulletin.data` at that
  moment: each street's value and verdict of the rules of the table (`TABLE_RULES`), whether
  it passed every rule, and its overdue orders. Commendations (表彰: streets passing every
  rule, advisors with a confirmed recognition of the period's year) and criticisms (通报批评:
  streets whose visit rate is below `CRITICISM_VISIT_RATE`, or with overdue orders) are
  proposed as lines of text the bureau can change.
- `edit(...)`: a draft's title, introduction, commendations and criticisms.
- `publish(...)`: 草稿 → 已发布, with who and when; nothing changes afterwards.
- `write_docx(bulletin)`: the .docx (title, introduction, per-street table, commendations,
  criticisms), read from the frozen data only.
"""

import io

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from advisors.models import Nomination
from supervision import engine
from supervision.models import Bulletin, BulletinStatus, RectificationOrder

# The rules of the bulletin's table, in the order of the notice's work: coverage, staffing,
# visits, training, rectification.
TABLE_RULES = ("C1", "C2", "C5", "C6", "C9", "C8", "C12")
# A street whose monthly visit rate (C9) is below this percentage is proposed for criticism.
CRITICISM_VISIT_RATE = 90
MAX_LINES = 50
MAX_LINE_LENGTH = 500


def _check_bureau(actor, district=None):
    if not (actor.is_bureau and actor.district_id):
        raise PermissionDenied(_("只有区民政局工作人员可以编制通报。"))
    if district is not None and actor.district_id != district.pk:
        raise PermissionDenied(_("只能编制本区的通报。"))


def default_title(district, period):
    return _("%(district)s社区救助顾问服务站点建设工作通报(%(period)s)") % {
        "district": district.name,
        "period": period.label,
    }


def default_introduction(district, period):
    return _(
        "根据社区救助顾问服务站点建设工作要求,区民政局对各街镇%(period)s的服务站点覆盖、"
        "顾问配备、走访、培训和限期整改情况进行了统计,现将有关情况通报如下。"
    ) % {"period": period.label}


# Generating ---------------------------------------------------------------------------------


def _figures(outcomes):
    return {rule_id: outcomes[rule_id].as_json(with_offenders=False) for rule_id in TABLE_RULES}


def snapshot(district, period, today=None):
    """What a bulletin freezes of the engine's result for `district` and `period`."""
    today = today or timezone.localdate()
    # The construction rules of the notice (C1–C12) decide the proposals; the advice L1 and
    # the indicator P1 (政策找人, weighted only if the bureau chooses to) do not.
    judged = [
        rid
        for rid, rule in engine.ENGINE_RULES.items()
        if rule.kind != engine.ADVICE and rid != "P1"
    ]
    result = engine.evaluate(district, period, rule_ids=judged, today=today, street_offenders=False)
    overdue = dict(
        RectificationOrder.objects.for_district(district.pk)
        .overdue(result.judged_on)
        .order_by()
        .values_list("street__code")
        .annotate(n=Count("pk"))
    )
    streets = []
    for row in result.streets:
        failed = [rid for rid, outcome in row.outcomes.items() if not outcome.passed]
        streets.append(
            {
                "code": row.street.code,
                "name": row.street.name,
                "rules": _figures(row.outcomes),
                "failed": failed,
                "overdue_orders": overdue.get(row.street.code, 0),
            }
        )
    return {
        "period": period.key,
        "period_label": str(period.label),
        "period_first": period.first.isoformat(),
        "period_last": period.last.isoformat(),
        "judged_on": result.judged_on.isoformat(),
        "rules": [
            {
                "id": rid,
                "title": str(engine.ENGINE_RULES[rid].title),
                "target": engine.ENGINE_RULES[rid].target,
            }
            for rid in TABLE_RULES
        ],
        "streets": streets,
        "district": {
            "code": district.code,
            "name": district.name,
            "rules": _figures(result.outcomes),
        },
    }


def proposed_commendations(district, period, data):
    lines = [
        _("%(street)s:各项建设指标全部达标。") % {"street": street["name"]}
        for street in data["streets"]
        if not street["failed"]
    ]
    nominations = (
        Nomination.objects.for_district(district.pk)
        .confirmed()
        .filter(year=period.first.year)
        .select_related("advisor__street")
        .order_by("title", "advisor__street__code", "advisor__name")
    )
    lines += [
        _("%(street)s社区救助顾问%(name)s:%(label)s。")
        % {"street": n.advisor.street.name, "name": n.advisor.name, "label": n.label}
        for n in nominations
    ]
    return lines


def proposed_criticisms(data):
    lines = []
    for street in data["streets"]:
        reasons = []
        c9 = street["rules"]["C9"]
        if c9["value"] is not None and c9["value"] < CRITICISM_VISIT_RATE:
            reasons.append(
                _("每月走访完成率%(value).1f%%,低于%(limit)d%%")
                % {"value": c9["value"], "limit": CRITICISM_VISIT_RATE}
            )
        if street["overdue_orders"]:
            reasons.append(_("%(n)d件限期整改逾期未办结") % {"n": street["overdue_orders"]})
        if reasons:
            lines.append(
                _("%(street)s:%(reasons)s,予以通报批评,请限期整改。")
                % {"street": street["name"], "reasons": ";".join(reasons)}
            )
    return lines


def generate(*, actor, period_text, today=None):
    """A new draft bulletin of the actor's district for the period written `period_text`."""
    _check_bureau(actor)
    today = today or timezone.localdate()
    try:
        period = engine.parse_period(period_text)
    except ValueError as error:
        raise ValidationError({"period": str(error)}) from error
    if not period.has_started(today):
        raise ValidationError({"period": _("统计期尚未开始,不能生成通报。")})
    district = actor.district
    if Bulletin.objects.filter(district=district, period=period.key).exists():
        raise ValidationError({"period": _("该统计期的通报已经生成,请在原通报上修改。")})
    data = snapshot(district, period, today)
    try:
        with transaction.atomic():
            return Bulletin.objects.create(
                district=district,
                period=period.key,
                title=default_title(district, period),
                introduction=default_introduction(district, period),
                data=data,
                commendations=proposed_commendations(district, period, data),
                criticisms=proposed_criticisms(data),
                created_by=actor,
            )
    except IntegrityError as error:
        raise ValidationError({"period": _("该统计期的通报已经生成,请在原通报上修改。")}) from error


# Editing and publishing ---------------------------------------------------------------------


def split_lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _check_draft(actor, bulletin):
    _check_bureau(actor, bulletin.district)
    if not bulletin.is_draft:
        raise PermissionDenied(_("通报已发布,不能再修改。"))


def edit(*, actor, bulletin, title, introduction, commendations, criticisms):
    """Change a draft; `commendations` and `criticisms` are lists of lines."""
    _check_draft(actor, bulletin)
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("请填写标题。")
    elif len(title) > 200:
        errors["title"] = _("标题不能超过200个字。")
    introduction = (introduction or "").strip()
    if len(introduction) > 5000:
        errors["introduction"] = _("导语不能超过5000个字。")
    for field, lines in (("commendations", commendations), ("criticisms", criticisms)):
        if len(lines) > MAX_LINES:
            errors[field] = _("最多%(n)d条。") % {"n": MAX_LINES}
        elif any(len(line) > MAX_LINE_LENGTH for line in lines):
            errors[field] = _("每条不能超过%(n)d个字。") % {"n": MAX_LINE_LENGTH}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        _check_draft(actor, locked)
        locked.title = title
        locked.introduction = introduction
        locked.commendations = list(commendations)
        locked.criticisms = list(criticisms)
        locked.save()
    return locked


def publish(*, actor, bulletin):
    """草稿 → 已发布: the street managers of the district see it from now on."""
    _check_draft(actor, bulletin)
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        _check_draft(actor, locked)
        locked.status = BulletinStatus.PUBLISHED
        locked.published_by = actor
        locked.published_at = timezone.now()
        locked.save()
    return locked


# Reading ------------------------------------------------------------------------------------


def cell_text(figure):
    """A rule's figure as the table shows it: `50.0% 未达标`, `— 达标` when nothing to judge."""
    value = "—" if figure["value"] is None else f"{figure['value']:.1f}%"
    return f"{value} {_('达标') if figure['passed'] else _('未达标')}"


def table(data):
    """(headers, rows) of the per-street table; the district's total as the last row."""
    headers = [_("街镇")] + [f"{rule['id']} {rule['title']}" for rule in data["rules"]]
    rows = []
    for street in [*data["streets"], {**data["district"], "name": _("全区合计"), "total": True}]:
        rows.append(
            {
                "name": street["name"],
                "total": street.get("total", False),
                "cells": [
                    {
                        "figure": street["rules"][rule["id"]],
                        "text": cell_text(street["rules"][rule["id"]]),
                    }
                    for rule in data["rules"]
                ],
            }
        )
    return headers, rows


def write_docx(bulletin):
    """The bulletin as a .docx (bytes), from its frozen data."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    for margin in ("left_margin", "right_margin"):
        setattr(section, margin, Mm(18))
    normal = document.styles["Normal"]
    normal.font.size = Pt(11)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")

    document.add_heading(bulletin.title, level=0)
    document.add_paragraph(
        _("统计期:%(period)s(判定日 %(day)s)")
        % {"period": bulletin.data["period_label"], "day": bulletin.data["judged_on"]}
    )
    for paragraph in split_lines(bulletin.introduction):
        document.add_paragraph(paragraph)

    document.add_heading(_("一、各街镇建设情况"), level=1)
    headers, rows = table(bulletin.data)
    grid = document.add_table(rows=1, cols=len(headers))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, headers, strict=True):
        cell.text = text
    for row in rows:
        cells = grid.add_row().cells
        cells[0].text = row["name"]
        for cell, figure in zip(cells[1:], row["cells"], strict=True):
            cell.text = figure["text"]

    for heading, lines in (
        (_("二、表彰"), bulletin.commendations),
        (_("三、通报批评"), bulletin.criticisms),
    ):
        document.add_heading(heading, level=1)
        for line in lines or [_("无。")]:
            document.add_paragraph(line, style="List Bullet")

    status = (
        _("区民政局 %(day)s 发布")
        % {"day": f"{timezone.localtime(bulletin.published_at):%Y-%m-%d}"}
        if bulletin.published_at
        else _("草稿,未发布")
    )
    document.add_paragraph(status)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
