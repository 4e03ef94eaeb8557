"""What every app shares in the database: uploaded files waiting for their confirmation."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit

# The deploy check of the encryption keys is registered with the models of this app.
from changning_aid.sensitive import checks as _sensitive_checks  # noqa: F401


def upload_retention():
    """How long an unconfirmed upload is kept (UPLOAD_RETENTION_SECONDS, one hour by default)."""
    return timedelta(seconds=settings.UPLOAD_RETENTION_SECONDS)


class PendingUploadQuerySet(models.QuerySet):
    """An upload is its uploader's alone, and only until it expires."""

    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(uploaded_by=user).current()

    def current(self, now=None):
        return self.filter(uploaded_at__gte=(now or timezone.now()) - upload_retention())

    def expired(self, now=None):
        return self.filter(uploaded_at__lt=(now or timezone.now()) - upload_retention())


# The file's bytes never go into the audit trail: they are deleted within the hour.
@audit.track(exclude=["content"], district=None, street=None)
class PendingUpload(models.Model):
    """A file uploaded for an import, kept between its preview and its confirmation.

    Every browser import of the project stores its file here (`changning_aid.uploads`):
    in the database, so that any app server can confirm what another previewed, and not
    longer than needed: the row is deleted when the import is confirmed, and an upload
    left unconfirmed is deleted after UPLOAD_RETENTION_SECONDS (an hour) by `purge_uploads`
    and by the next upload of anyone. `kind` names the import (`stations.division_import`);
    `subject_type`/`subject_id` the record the import keeps about itself, if any.
    """

    kind = models.CharField(_("导入类型"), max_length=50)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="pending_uploads",
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    content = models.BinaryField(_("文件内容"))
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    subject_type = models.ForeignKey(
        "contenttypes.ContentType",
        verbose_name=_("对应记录类型"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    subject_id = models.CharField(_("对应记录编号"), max_length=64, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now, db_index=True)

    objects = PendingUploadQuerySet.as_manager()

    class Meta:
        verbose_name = _("待确认的上传文件")
        verbose_name_plural = _("待确认的上传文件")
        ordering = ["-uploaded_at"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="pending_upload_subject")
        ]

    def __str__(self):
        return self.file_name

    @property
    def expires_at(self):
        return self.uploaded_at + upload_retention()
