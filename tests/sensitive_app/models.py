"""The test-only person: an ID number, a personal phone, a street and a stable key."""

from django.db import models
from django.urls import reverse

import audit
from changning_aid.scoping import ScopedQuerySet
from changning_aid.sensitive.fields import (
    EncryptedIdNumberField,
    IdNumberHashField,
    PersonalPhoneField,
)


class PersonQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"
    station_lookup = "station"


@audit.track(masked=["id_number", "id_number_hash", "phone"])
class Person(models.Model):
    """A person of a street, as a recipient of a later issue will be (test-only)."""

    street = models.ForeignKey(
        "stations.Street", verbose_name="街镇", on_delete=models.PROTECT, related_name="+"
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name="服务站点",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    file_number = models.CharField("档案号", max_length=30, unique=True)
    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedIdNumberField("身份证号", blank=True)
    id_number_hash = IdNumberHashField(source="id_number", unique=True)
    phone = PersonalPhoneField("联系电话", blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "测试人员"
        verbose_name_plural = "测试人员"
        ordering = ["file_number"]

    def __str__(self):
        return f"{self.name}({self.id_number})"

    def get_absolute_url(self):
        return reverse("sensitive_app:person_list")
