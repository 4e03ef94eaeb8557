"""Forms of the bureau's pages for other departments' lists (政策找人 线索名单).

The forms check what was typed and offer only the district's sources; the views write
through `cases.leads` (`create_source`, `receive_list`, `process_upload`), which check the
role and the scope again and give the domain's Chinese errors.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import ScopedChoiceField
from cases import leads
from cases.choices import LeadField
from cases.lead_models import LeadSource
from changning_aid.uploads import CSV, ImportFileField, check_upload, max_upload_bytes

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The fields a list's columns map to, required first (as `leads.check_mapping` wants them).
MAPPED_FIELDS = [
    LeadField.NAME,
    LeadField.ID_NUMBER,
    LeadField.COMMITTEE_CODE,
    LeadField.ADDRESS,
    LeadField.PHONE,
]
REQUIRED_FIELDS = (LeadField.NAME, LeadField.ID_NUMBER)


def csv_as_utf8(content):
    """A CSV's bytes in UTF-8: as they are, or transcoded from GB18030 (what Excel's
    "CSV" saves on a Chinese Windows, the usual form of other departments' lists).

    Bytes that are neither (or binary) are returned unchanged, for the upload check to
    refuse with its own message.
    """
    try:
        content.decode("utf-8-sig")
        return content
    except UnicodeDecodeError:
        pass
    if b"\x00" in content or content.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return content
    try:
        return content.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError:
        return content


class LeadListFileField(ImportFileField):
    """A list as .xlsx or CSV, checked like every import (`check_upload`); a CSV saved in
    GB18030 is taken too, transcoded to UTF-8 before the check."""

    def clean(self, data, initial=None):
        uploaded = forms.FileField.clean(self, data, initial)
        if not uploaded:
            return uploaded
        name = uploaded.name or ""
        # Past the size limit the file is refused by `check_upload` without being read.
        if name.lower().endswith(f".{CSV}") and (uploaded.size or 0) <= max_upload_bytes():
            content = b"".join(uploaded.chunks())
            converted = csv_as_utf8(content)
            if converted is not content:
                uploaded = SimpleUploadedFile(name, converted)
        return check_upload(uploaded, formats=self.formats)


class LeadSourceForm(forms.ModelForm):
    """A department whose lists the bureau receives: its name and what it provides."""

    class Meta:
        model = LeadSource
        fields = ["name", "department", "description", "is_active"]

    def __init__(self, *args, creating=False, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            # A new source is in use; it is set aside later, on its edit page.
            del self.fields["is_active"]


class SourceChoiceField(ScopedChoiceField):
    def label_from_instance(self, obj):
        if obj.department:
            return f"{obj.name}({obj.department})"
        return obj.name


class LeadUploadForm(forms.Form):
    """The source of a list (chosen, or typed in as a new one), its date and its file."""

    source = SourceChoiceField(
        label=_("来源"),
        queryset=LeadSource.objects.none(),
        required=False,
        empty_label=_("— 请选择 —"),
    )
    new_source = forms.CharField(
        label=_("或新来源名称"),
        max_length=60,
        required=False,
        help_text=_("首次收到某部门的名单时,在此填写来源名称,例如:区残联·残疾人证。"),
    )
    received_on = forms.DateField(
        label=_("名单日期"), widget=DATE_WIDGET, help_text=_("来源部门提供名单的日期。")
    )
    file = LeadListFileField(label=_("名单文件"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = LeadSource.objects.visible_to(user).filter(is_active=True)
        self.fields["received_on"].initial = timezone.localdate()

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        if received_on > timezone.localdate():
            raise ValidationError(_("名单日期不能晚于今天。"))
        return received_on

    def clean(self):
        cleaned = super().clean()
        source = cleaned.get("source")
        new_source = (cleaned.get("new_source") or "").strip()
        cleaned["new_source"] = new_source
        if "source" in self.errors or "new_source" in self.errors:
            return cleaned
        if source is None and not new_source:
            self.add_error("source", _("请选择来源,或填写新来源名称。"))
        elif source is not None and new_source:
            self.add_error("new_source", _("已选择来源时不要再填写新来源名称;二者只填其一。"))
        return cleaned


class LeadMappingForm(forms.Form):
    """Which column of the list is which field, and which columns are facts (情况列).

    Built for the list's `headers`; cleans to `mapping` ({field: header}) and
    `fact_columns` through `leads.check_mapping`, whose Chinese errors it shows.
    """

    def __init__(self, *args, headers, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = list(headers)
        options = [(header, header) for header in self.headers]
        for lead_field in MAPPED_FIELDS:
            required = lead_field in REQUIRED_FIELDS
            self.fields[self.field_name(lead_field)] = forms.ChoiceField(
                label=lead_field.label,
                choices=[("", _("— 请选择 —") if required else _("— 名单中没有 —")), *options],
                required=False,
            )
        self.fields["fact_columns"] = forms.MultipleChoiceField(
            label=_("情况列"),
            choices=options,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_("作为该来源的情况记录保存的列(如残疾等级、自付金额),最多 %(n)s 列。")
            % {"n": leads.MAX_FACT_COLUMNS},
        )

    @staticmethod
    def field_name(lead_field):
        return f"column_{lead_field.value}"

    def field_rows(self):
        """The selects of the mapped fields, in order (for the template)."""
        return [self[self.field_name(lead_field)] for lead_field in MAPPED_FIELDS]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        mapping = {
            lead_field.value: cleaned.get(self.field_name(lead_field)) or ""
            for lead_field in MAPPED_FIELDS
        }
        try:
            cleaned["mapping"], cleaned["facts"] = leads.check_mapping(
                mapping, cleaned.get("fact_columns") or [], self.headers
            )
        except ValidationError as error:
            for message in error.messages:
                self.add_error(None, message)
        return cleaned

    @classmethod
    def initial_for(cls, mapping, fact_columns, headers):
        """The form's initial values from a (suggested) mapping: only headers of this list."""
        initial = {
            cls.field_name(LeadField(key)): header
            for key, header in mapping.items()
            if key in LeadField.values and header in headers
        }
        initial["fact_columns"] = [header for header in fact_columns if header in headers]
        return initial
