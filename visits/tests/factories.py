"""Factories for visits (on top of the cases, advisors and stations factories)."""

from visits.choices import VisitMethod, VisitResult
from visits.models import Visit


def make_visit(recipient, advisor, visited_on, **fields):
    """A kept visit of `advisor` to `recipient` on `visited_on` (走访完成, 上门走访 by default)."""
    fields.setdefault("method", VisitMethod.HOME)
    fields.setdefault("result", VisitResult.COMPLETED)
    return Visit.objects.create(
        recipient=recipient, advisor=advisor, visited_on=visited_on, **fields
    )
