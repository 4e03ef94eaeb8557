"""Checklists 2-4 in and out (`cases.checklist_io`): export, empty template, import, preview.

Only the keepers of a street's lists (bureau staff and street managers) export and import
them: the export of anyone else answers 404, as every export of the project does; the
import pages and the template answer a Chinese 403 page. Everything is scoped: the export
through `visible_to` (and the list's own filters), the import through the importers' scope.
"""

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from cases import checklist_io, recipient_io
from cases.checklist_forms import NeedFilterForm, ResourceFilterForm, ServiceFilterForm
from cases.forms import RecipientFilterForm
from cases.models import Need, Recipient, Resource, ServiceRecord
from cases.views.checklists import (
    can_keep,
    filter_needs,
    filter_resources,
    filter_services,
)
from cases.views.recipients import filter_recipients
from changning_aid import exports, imports
from changning_aid.pages import forbidden

# Per list: the importer, the rows, the list's filter form and filter, the titles.
LISTS = {
    "needs": {
        "importer": checklist_io.NEEDS,
        "model": Need,
        "filter_form": NeedFilterForm,
        "filter": lambda rows, data, today: filter_needs(rows, data),
    },
    "resources": {
        "importer": checklist_io.RESOURCES,
        "model": Resource,
        "filter_form": ResourceFilterForm,
        "filter": filter_resources,
    },
    "services": {
        "importer": checklist_io.SERVICES,
        "model": ServiceRecord,
        "filter_form": ServiceFilterForm,
        "filter": lambda rows, data, today: filter_services(rows, data),
    },
    # The register of people in hardship (cases.recipient_io), with the person list's filters.
    "recipients": {
        "importer": recipient_io.RECIPIENTS,
        "model": Recipient,
        "filter_form": RecipientFilterForm,
        "filter": filter_recipients,
    },
}


def _list(checklist):
    try:
        return LISTS[checklist]
    except KeyError:
        raise Http404 from None


def _urls(checklist, pk=None):
    urls = {
        "list": reverse(f"cases:{checklist}"),
        "upload": reverse(f"cases:{checklist}_import"),
        "template": reverse(f"cases:{checklist}_template"),
        "export": reverse(f"cases:{checklist}_export"),
    }
    urls["done"] = urls["list"]
    if pk is not None:
        urls["preview"] = reverse(f"cases:{checklist}_import_preview", args=[pk])
    return urls


def _not_keeper(request, checklist):
    importer = _list(checklist)["importer"]
    return forbidden(
        request,
        _("只有街镇管理员和区民政局可以导入%(list)s。") % {"list": importer.list_name},
        back_url=reverse(f"cases:{checklist}"),
    )


def _filter_params(form):
    if not form.is_valid():
        return {}
    return {
        name: form.data[name]
        for name, value in form.cleaned_data.items()
        if value not in ("", None) and name in form.data
    }


@exports.export_view
def checklist_export(request, checklist):
    """Export a checklist of the user's scope, with the list's filters, as Excel or CSV."""
    from django.utils import timezone

    user = request.user
    item = _list(checklist)
    if not can_keep(user):
        raise Http404
    importer = item["importer"]
    form = item["filter_form"](request.GET, user=user)
    rows = item["model"].objects.all()
    street = user.street if user.is_street_manager else None
    if form.is_valid():
        rows = item["filter"](rows, form.cleaned_data, timezone.localdate())
        street = street or form.cleaned_data.get("street") or None
    params = _filter_params(form)
    back_url = reverse(f"cases:{checklist}")
    if params:
        from urllib.parse import urlencode

        back_url += "?" + urlencode(params)
    return exports.export_page(
        request,
        queryset=rows,
        spec=importer.spec,
        title=_("导出%(name)s") % {"name": importer.spec.name},
        back_url=back_url,
        street=street,
        extra_context={"hidden_fields": params},
    )


def checklist_template(request, checklist):
    """The empty template of a checklist (headers, how to fill it in, the codes)."""
    user = request.user
    importer = _list(checklist)["importer"]
    if not can_keep(user):
        return _not_keeper(request, checklist)
    response = HttpResponse(
        checklist_io.template_workbook(importer, user),
        content_type=exports.CONTENT_TYPES[exports.XLSX],
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _("%(name)s-导入模板.xlsx") % {"name": importer.spec.name}
    )
    patch_cache_control(response, no_store=True, private=True)
    return response


def checklist_import(request, checklist):
    """Choose a file of a checklist; it is kept for its preview, nothing is written yet."""
    user = request.user
    importer = _list(checklist)["importer"]
    if not can_keep(user):
        return _not_keeper(request, checklist)
    return imports.upload_page(
        request,
        importer,
        template_name="cases/io_import.html",
        preview_url=lambda pk: reverse(f"cases:{checklist}_import_preview", args=[pk]),
        context={
            "checklist": checklist,
            "urls": _urls(checklist),
            "street": user.street if user.is_street_manager else None,
            "rules": RULES[checklist],
        },
    )


def checklist_import_preview(request, checklist, pk):
    """What a kept file would create and change, and its errors; POST confirms it."""
    user = request.user
    importer = _list(checklist)["importer"]
    if not can_keep(user):
        raise Http404
    return imports.preview_page(
        request,
        importer,
        pk,
        template_name="cases/io_preview.html",
        urls=_urls(checklist, pk),
        context={"checklist": checklist, "urls": _urls(checklist, pk)},
    )


# What the import page tells about each list's columns (the rules of `cases.checklist_io`).
RULES = {
    "needs": [
        _lazy(
            "按需求编号匹配:需求编号留空的行为新增需求(编号由系统生成);有编号的行修改该需求,未修改的行不会变化。"
        ),
        _lazy(
            "档案号指明困难人员,须是您管理范围内的人员;需求建立后不能改为其他人员。姓名、街镇、居委、责任顾问供阅读,导入时不读取。"
        ),
        _lazy(
            "状态按流程变化:待评估→待对接→已对接→已解决/无法解决;办结须填写办结日期,无法解决须在办结情况中说明原因。新增需求可直接设为待对接、已解决或无法解决。"
        ),
        _lazy("对接资源请在需求页面办理,导入时不能修改“对接资源编号”。"),
    ],
    "resources": [
        _lazy(
            "按资源编号匹配:资源编号留空的行为新增资源(编号由系统生成);有编号的行修改该资源,未修改的行不会变化。"
        ),
        _lazy(
            "覆盖范围为全区、街镇或居委:全区资源由区民政局维护;街镇资源填写街镇(街镇管理员可留空);居委资源填写居委代码。覆盖范围建立后不能通过导入修改。"
        ),
        _lazy("政策类资源必须填写政策依据(文件号)。"),
    ],
    "services": [
        _lazy("每行一条服务记录,服务编号留空;已登记的服务记录原样保留即可,不能通过导入修改。"),
        _lazy(
            "站点代码、顾问编号、档案号、需求编号、资源编号须在您的管理范围内;服务顾问须在该站点服务,并在服务日期在岗。"
        ),
        _lazy(
            "个人服务填写档案号,集体活动不填档案号而填写参加人数。服务任务须是该站点类型的任务。"
        ),
    ],
    "recipients": [
        _lazy(
            "按档案号匹配:档案号留空的行为新登记的人员(档案号由系统生成);有档案号的行修改该人员,未修改的行不会变化。"
        ),
        _lazy(
            "身份证号和联系电话在导出文件中是遮盖的,原样保留即为不修改;新登记的人员须填写完整的18位身份证号。一人只能有一份档案,已建档的身份证号不能再次登记。"
        ),
        _lazy(
            "居委代码须在您的管理范围内;救助类别、重点人群用“、”分隔;责任顾问须是本街镇在岗顾问。"
        ),
        _lazy(
            "现有救助对象期间写成 2025-01-01~2025-06-30；2026-03-01~,"
            "修改后将替换该人员的全部期间,期间不能重叠。"
        ),
        _lazy("状态可由在册改为已退出(须填写退出日期和退出原因);重新在册请在档案页面办理。"),
    ],
}
