"""The upload form of the browser division import."""

from django import forms
from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _

# The city-wide file is about 0.5 MB; anything much larger is not a division file.
MAX_FILE_SIZE = settings.FILE_UPLOAD_MAX_MEMORY_SIZE


class DivisionFileForm(forms.Form):
    """A division file (CSV in UTF-8 or .xlsx) chosen by the system administrator."""

    file = forms.FileField(
        label=_("区划文件"),
        validators=[
            FileExtensionValidator(["csv", "xlsx"], message=_("只能导入 .csv 或 .xlsx 文件。"))
        ],
        help_text=_(
            "国家统计局区划代码格式,表头为 district_code,district_name,street_code,"
            "street_name,committee_code,committee_name;CSV 请使用 UTF-8 编码。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_SIZE:
            raise forms.ValidationError(
                _("文件过大(最大 %(size)s MB)。") % {"size": MAX_FILE_SIZE // (1024 * 1024)}
            )
        return upload
