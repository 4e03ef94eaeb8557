"""Pages of the annual assessment (绩效考核): the years, a year's scorecard, the plan, the
manual scores, closing the year and the export (see `supervision.assessment`).

Bureau staff of a district do everything for their district. A street manager reads the
closed (published) scorecards of their district, and of each only their own street's row;
an open year answers 404 to them. Any other role gets the 403 page. A year outside
2000..this year answers 404 to everyone, before anything else.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _

from audit.choices import AccessAction
from audit.services import record_access
from changning_aid import exports
from changning_aid.pages import add_service_errors, forbidden
from stations.models import Street
from supervision import assessment
from supervision.models import AssessmentScoring

# Who ----------------------------------------------------------------------------------------


def _reader(request):
    """(district, street) the user reads: (district, None) for bureau staff, (district, street)
    for a street manager, None for anyone else."""
    user = request.user
    if user.is_bureau and user.district_id:
        return user.district, None
    if user.is_street_manager and user.street_id:
        return user.street.district, user.street
    return None


def _bureau_only(request):
    user = request.user
    if user.is_bureau and user.district_id:
        return None
    return forbidden(request, _("只有区民政局工作人员可以管理绩效考核。"))


def _year(year):
    return assessment.check_year(year)


# The years ----------------------------------------------------------------------------------


def assessment_list(request):
    reader = _reader(request)
    if reader is None:
        return forbidden(request, _("您的账号无权查看绩效考核。"))
    district, street = reader
    rows = assessment.years(district)
    if street is not None:
        rows = [row for row in rows if row["snapshot"] is not None]
    return render(
        request,
        "supervision/assessment_list.html",
        {"rows": rows, "is_bureau": street is None, "street": street},
    )


# The scorecard ------------------------------------------------------------------------------


def _read_card(request, year):
    """(plan, card, street) for the user, or a response (403 / 404 raised)."""
    reader = _reader(request)
    if reader is None:
        return None, None, None, forbidden(request, _("您的账号无权查看绩效考核。"))
    district, street = reader
    plan = assessment.load_plan(district, year)
    if street is not None:
        if not plan.closed:
            raise Http404(_("该年度考核尚未公布。"))
        card = dict(plan.snapshot.data)
        card["streets"] = assessment.street_rows(card, street)
        return plan, card, street, None
    return plan, assessment.scorecard(plan), None, None


def _table(card, year):
    """The scorecard's rows with their cells in column order (templates cannot index)."""
    rows = []
    for row in card["streets"]:
        cells = []
        for indicator in card["indicators"]:
            figure = row["rules"][indicator["rule"]]
            cells.append(
                {
                    "indicator": indicator,
                    "figure": figure,
                    "url": reverse("supervision:compliance")
                    + "?"
                    + urlencode(
                        {"period": str(year), "rule": indicator["rule"], "street": row["code"]}
                    ),
                }
            )
        manual = [{"item": item, **row["manual"][item["id"]]} for item in card["items"]]
        rows.append({"row": row, "cells": cells, "manual": manual})
    return rows


def scorecard_view(request, year):
    year = _year(year)
    if request.method != "GET":
        return HttpResponse(status=405)
    plan, card, street, refusal = _read_card(request, year)
    if refusal:
        return refusal
    return render(
        request,
        "supervision/assessment_scorecard.html",
        {
            "year": year,
            "plan": plan,
            "card": card,
            "rows": _table(card, year),
            "street": street,
            "is_bureau": street is None,
            "in_progress": assessment.in_progress(year),
            "scoring": AssessmentScoring,
        },
    )


# The plan -----------------------------------------------------------------------------------


class PlanForm(forms.Form):
    """A weight and a mode per rule, each manual item's name and maximum, and one new item."""

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        for indicator in plan.indicators:
            self.fields[f"weight_{indicator.rule_id}"] = forms.CharField(
                label=_("%(rule)s 分值") % {"rule": indicator.rule_id},
                initial=assessment.shown(indicator.weight),
                required=False,
            )
            self.fields[f"scoring_{indicator.rule_id}"] = forms.ChoiceField(
                label=_("%(rule)s 计分方式") % {"rule": indicator.rule_id},
                choices=AssessmentScoring.choices,
                initial=indicator.scoring,
                required=False,
            )
        for item in plan.items:
            if item.pk is None:
                continue
            self.fields[f"item_{item.pk}_name"] = forms.CharField(
                label=_("项目名称"), initial=item.name, max_length=50, required=False
            )
            self.fields[f"item_{item.pk}_max"] = forms.CharField(
                label=_("满分"), initial=assessment.shown(item.max_score), required=False
            )
        self.fields["new_name"] = forms.CharField(
            label=_("新增项目名称"), max_length=50, required=False
        )
        self.fields["new_max"] = forms.CharField(label=_("新增项目满分"), required=False)

    def rule_rows(self):
        return [
            (i, self[f"weight_{i.rule_id}"], self[f"scoring_{i.rule_id}"])
            for i in self.plan.indicators
        ]

    def item_rows(self):
        return [
            (item, self[f"item_{item.pk}_name"], self[f"item_{item.pk}_max"])
            for item in self.plan.items
            if item.pk is not None
        ]


def plan_edit(request, year):
    year = _year(year)
    refusal = _bureau_only(request)
    if refusal:
        return refusal
    district = request.user.district
    plan = assessment.load_plan(district, year, with_scores=False)
    if plan.closed:
        return forbidden(
            request,
            _("该年度考核已关闭并公布,不能再修改考核方案。"),
            back_url=reverse("supervision:assessment_scorecard", args=[year]),
        )
    if plan.saved is None:
        # The plan (defaults) is written when first opened, so that its items have ids.
        assessment.saved_plan(request.user, district, year)
        plan = assessment.load_plan(district, year, with_scores=False)
    form = PlanForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assessment.update_plan(
                actor=request.user,
                district=district,
                year=year,
                indicators={
                    i.rule_id: (data[f"weight_{i.rule_id}"], data[f"scoring_{i.rule_id}"])
                    for i in plan.indicators
                },
                items={
                    item.pk: (data[f"item_{item.pk}_name"], data[f"item_{item.pk}_max"])
                    for item in plan.items
                    if item.pk is not None
                },
                new_items=[(data["new_name"], data["new_max"])],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return forbidden(request, str(error))
        else:
            return redirect("supervision:assessment_scorecard", year)
    return render(
        request,
        "supervision/assessment_plan.html",
        {"year": year, "plan": plan, "form": form},
    )


# Manual scores ------------------------------------------------------------------------------


class ManualForm(forms.Form):
    """A score and a note per manual item and street."""

    def __init__(self, *args, plan, streets, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan, self.streets = plan, streets
        for item in plan.items:
            for street in streets:
                score = plan.scores.get((item.pk, street.pk))
                self.fields[f"score_{item.pk}_{street.pk}"] = forms.CharField(
                    label=_("%(street)s %(item)s得分") % {"street": street.name, "item": item.name},
                    initial=assessment.shown(score.score) if score else "",
                    required=False,
                    max_length=20,
                )
                self.fields[f"note_{item.pk}_{street.pk}"] = forms.CharField(
                    label=_("评分说明"),
                    initial=score.note if score else "",
                    required=False,
                    max_length=500,
                )

    def table(self):
        return [
            {
                "street": street,
                "cells": [
                    (
                        item,
                        self[f"score_{item.pk}_{street.pk}"],
                        self[f"note_{item.pk}_{street.pk}"],
                    )
                    for item in self.plan.items
                ],
            }
            for street in self.streets
        ]


def manual_edit(request, year):
    year = _year(year)
    refusal = _bureau_only(request)
    if refusal:
        return refusal
    district = request.user.district
    plan = assessment.load_plan(district, year)
    if plan.closed:
        return forbidden(
            request,
            _("该年度考核已关闭并公布,不能再修改评分。"),
            back_url=reverse("supervision:assessment_scorecard", args=[year]),
        )
    if plan.saved is None:
        # The items get their rows (and ids) with the plan, written on first use.
        assessment.saved_plan(request.user, district, year)
        plan = assessment.load_plan(district, year)
    streets = list(Street.objects.visible_to(request.user).order_by("code"))
    form = ManualForm(request.POST or None, plan=plan, streets=streets)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assessment.set_manual_scores(
                actor=request.user,
                district=district,
                year=year,
                scores={
                    (item.pk, street.pk): (
                        data[f"score_{item.pk}_{street.pk}"],
                        data[f"note_{item.pk}_{street.pk}"],
                    )
                    for item in plan.items
                    for street in streets
                },
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("supervision:assessment_scorecard", year)
    return render(
        request,
        "supervision/assessment_manual.html",
        {"year": year, "plan": plan, "form": form},
    )


# Closing ------------------------------------------------------------------------------------


def close_view(request, year):
    year = _year(year)
    refusal = _bureau_only(request)
    if refusal:
        return refusal
    district = request.user.district
    plan = assessment.load_plan(district, year, with_scores=False)
    error = ""
    if request.method == "POST" and not plan.closed:
        if request.POST.get("confirm") != "yes":
            error = _("请勾选确认后再关闭考核。")
        else:
            try:
                assessment.close_year(actor=request.user, district=district, year=year)
            except ValidationError as refusal_error:
                error = " ".join(refusal_error.messages)
            else:
                return redirect("supervision:assessment_scorecard", year)
    return render(
        request,
        "supervision/assessment_close.html",
        {
            "year": year,
            "plan": plan,
            "error": error,
            "in_progress": assessment.in_progress(year),
        },
        status=400 if error else 200,
    )


# Export -------------------------------------------------------------------------------------


class _Sheet:
    """What `exports.write_xlsx` / `write_csv` read of a spec: its name and headers."""

    def __init__(self, name, headers):
        self.name, self.headers = name, headers


def sheet_table(card):
    """The export's headers and rows: one row per street (rank, street, rule scores, manual
    scores, totals); every rule's figure next to its score."""
    headers = [_("名次"), _("街镇代码"), _("街镇")]
    for indicator in card["indicators"]:
        headers += [
            _("%(rule)s %(title)s 指标值(%%)")
            % {"rule": indicator["rule"], "title": indicator["title"]},
            _("%(rule)s 得分(满分%(weight)s)")
            % {"rule": indicator["rule"], "weight": indicator["weight"]},
        ]
    for item in card["items"]:
        headers += [
            _("%(name)s 得分(满分%(max)s)") % {"name": item["name"], "max": item["max_score"]},
            _("%(name)s 评分说明") % {"name": item["name"]},
        ]
    headers += [_("规则得分"), _("人工评分"), _("总分(满分%(max)s)") % {"max": card["max_total"]}]
    rows = []
    for row in card["streets"]:
        cells = [row["rank"], row["code"], row["name"]]
        for indicator in card["indicators"]:
            figure = row["rules"][indicator["rule"]]
            value = figure["value"]
            cells += [float(value) if value is not None else "", float(figure["score"])]
        for item in card["items"]:
            manual = row["manual"][item["id"]]
            cells += [
                float(manual["score"]) if manual["score"] is not None else "",
                manual["note"],
            ]
        cells += [float(row["rule_total"]), float(row["manual_total"]), float(row["total"])]
        rows.append([exports.neutralise(c) if isinstance(c, str) else c for c in cells])
    return headers, rows


@exports.export_view
def export_view(request, year):
    year = _year(year)
    plan, card, street, refusal = _read_card(request, year)
    if refusal:
        return refusal
    form = exports.ExportForm(
        request.GET if "purpose" in request.GET or "format" in request.GET else None
    )
    if request.GET.get("full") == "1":
        raise Http404
    title = _("%(year)s年度绩效考核结果") % {"year": year}
    if not (form.is_bound and form.is_valid()):
        return render(
            request,
            "exports/export_form.html",
            {
                "form": form,
                "title": title,
                "back_url": reverse("supervision:assessment_scorecard", args=[year]),
                "row_count": len(card["streets"]),
                "offer_full": False,
            },
        )
    purpose = form.cleaned_data["purpose"]
    file_format = form.cleaned_data["format"]
    now = timezone.now()
    headers, rows = sheet_table(card)
    status = (
        _("已关闭公布")
        if plan.closed
        else _("未关闭,按 %(day)s 数据实时计算") % {"day": card["judged_on"]}
    )
    head = [exports.neutralise(exports.banner(request.user, now, purpose) + " " + status)]
    sheet = _Sheet(title, headers)
    writer = exports.write_xlsx if file_format == exports.XLSX else exports.write_csv
    content = writer(sheet, head, rows)
    record_access(
        request=request,
        action=AccessAction.EXPORT,
        street=street,
        detail=_("%(name)s:%(purpose)s") % {"name": title, "purpose": purpose},
    )
    file_name = f"{title}-{timezone.localtime(now):%Y%m%d-%H%M%S}.{file_format}"
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[file_format])
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    patch_cache_control(response, no_store=True, private=True)
    return response
