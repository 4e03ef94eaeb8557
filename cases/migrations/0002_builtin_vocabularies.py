"""The built-in assistance categories and key groups (DOMAIN.md); the bureau adds its own."""

from django.db import migrations

CATEGORIES = ["低保", "低收入", "特困供养", "支出型贫困", "临时救助", "其他困难"]
KEY_GROUPS = ["独居老人", "高龄老人", "重残", "大病", "困境儿童", "失业人员", "其他"]


def add_builtins(apps, schema_editor):
    for model_name, names in (("AssistanceCategory", CATEGORIES), ("KeyGroup", KEY_GROUPS)):
        model = apps.get_model("cases", model_name)
        for order, name in enumerate(names, start=1):
            model.objects.get_or_create(district=None, name=name, defaults={"order": order * 10})


def remove_builtins(apps, schema_editor):
    for model_name, names in (("AssistanceCategory", CATEGORIES), ("KeyGroup", KEY_GROUPS)):
        apps.get_model("cases", model_name).objects.filter(district=None, name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(add_builtins, remove_builtins)]
