"""Factories for inspections, findings, rectification orders and their files.

They write rows directly (not through the services), so that a test can build an order
issued, extended or closed on any past date.
"""

import datetime
import io

from django.utils import timezone

from supervision import attachments
from supervision.models import (
    CheckItem,
    EvidenceFile,
    Finding,
    FindingAttachment,
    Inspection,
    InspectionItem,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    RectificationOrder,
    Severity,
)

# The smallest files of each accepted kind that pass the content checks.
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes():
    """A minimal Word document (the part list is what the check reads)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def make_inspection(street, *, by, inspected_on=None, station=None, announced=False, scores=None):
    """An inspection of `street` recorded by `by` (bureau staff), with scored items."""
    inspection = Inspection.objects.create(
        street=street,
        station=station,
        inspected_on=inspected_on or timezone.localdate(),
        inspectors="张伟、李娜",
        announced=announced,
        recorded_by=by,
    )
    for item, score in (scores or {CheckItem.SITE: 8, CheckItem.SIGNAGE: 6}).items():
        InspectionItem.objects.create(inspection=inspection, item=item, score=score)
    return inspection


def make_finding(inspection, description="标牌未使用统一标识", *, severity=Severity.GENERAL):
    return Finding.objects.create(
        inspection=inspection,
        item=CheckItem.SIGNAGE,
        description=description,
        severity=severity,
        recorded_by=inspection.recorded_by,
    )


def stored_file(model, *, by, name="现场照片.png", content=PNG_BYTES, **parent):
    checked = attachments.CheckedFile(
        name=name, content_type=attachments.ACCEPTED_TYPES[name.rsplit(".", 1)[1]], content=content
    )
    return attachments.store(model, checked, uploaded_by=by, **parent)


def make_finding_file(finding, **kwargs):
    return stored_file(FindingAttachment, by=finding.recorded_by, finding=finding, **kwargs)


def make_order(
    street,
    *,
    by,
    deadline,
    issued_on=None,
    original_deadline=None,
    status=OrderStatus.OPEN,
    closed_by=None,
    closed_on=None,
    finding=None,
    problem="站点标牌不规范",
):
    """An order to `street` issued by `by`; closed when `closed_on` is given."""
    original_deadline = original_deadline or deadline
    if issued_on is None:
        latest = min(original_deadline, closed_on or original_deadline, timezone.localdate())
        issued_on = latest - datetime.timedelta(days=14)
    if closed_on is not None:
        status = OrderStatus.CLOSED
        closed_by = closed_by or by
    order = RectificationOrder.objects.create(
        street=street,
        finding=finding,
        problem=problem,
        issued_on=issued_on,
        issued_by=by,
        original_deadline=original_deadline,
        deadline=deadline,
        status=status,
        closed_by=closed_by,
        closed_on=closed_on,
    )
    OrderEvent.objects.create(
        order=order,
        kind=OrderEventKind.ISSUED,
        actor=by,
        at=timezone.make_aware(datetime.datetime.combine(issued_on, datetime.time(9))),
        deadline_after=original_deadline,
    )
    return order


def make_answer(order, *, by, comment="已更换标牌", with_file=True):
    event = OrderEvent.objects.create(
        order=order, kind=OrderEventKind.ANSWERED, actor=by, comment=comment
    )
    if with_file:
        stored_file(EvidenceFile, by=by, name="整改后.png", event=event)
    order.status = OrderStatus.ANSWERED
    order.save(update_fields=["status"])
    return event


def make_oversight(street, *, bureau, manager):
    """An inspection of `street` with a finding and its photo, turned into an order that the
    street's `manager` answered with an evidence file: one row of every supervision model."""
    inspection = make_inspection(street, by=bureau)
    finding = make_finding(inspection, f"{street.name}标牌不规范")
    make_finding_file(finding)
    order = make_order(
        street,
        by=bureau,
        deadline=timezone.localdate() + datetime.timedelta(days=30),
        finding=finding,
        problem=finding.description,
    )
    make_answer(order, by=manager)
    return order
