from changning_aid.exports import Column, ExportSpec
from tests.sensitive_app.models import Person

PERSON_EXPORT = ExportSpec(
    model=Person,
    name="测试人员",
    key=Column("档案号", "file_number"),
    columns=[
        Column("姓名", "name"),
        Column("街镇", "street.name"),
        Column("身份证号", "id_number"),
        Column("联系电话", "phone"),
        Column("备注", "note"),
    ],
    related=["street"],
)
