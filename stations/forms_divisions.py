"""The upload form of the browser division import."""

from django import forms
from django.utils.translation import gettext_lazy as _

from changning_aid.uploads import ImportFileField


class DivisionFileForm(forms.Form):
    """A division file (CSV in UTF-8 or .xlsx) chosen by the system administrator.

    The file is checked by the project's one upload path (`changning_aid.uploads`): its
    extension, its size (UPLOAD_MAX_BYTES) and its content.
    """

    file = ImportFileField(
        label=_("区划文件"),
        help_text=_(
            "国家统计局区划代码格式,表头为 district_code,district_name,street_code,"
            "street_name,committee_code,committee_name;CSV 请使用 UTF-8 编码。"
        ),
    )
