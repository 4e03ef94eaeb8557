"""The daily job of the month summaries (C9), run by `manage.py run_scheduled`.

- `visit_summaries`: make sure the rows of the month in progress exist for everybody (the
  month begins at midnight on the 1st with nobody written yet). Safe to run twice (the
  second run finds the month built) and it catches up: months missed since the last one
  built are built too (`visits.summaries.ensure_month`). The first read or write of a month
  builds it anyway; the job makes that happen at night.
"""

from django.utils.translation import gettext as _

from changning_aid.scheduled import daily_job
from visits import summaries


@daily_job("visit_summaries")
def build_month_summaries(today):
    """The month of `today` has its summary rows."""
    first = today.replace(day=1)
    label = f"{first.year}年{first.month}月"
    if summaries.ensure_month(first):
        return _("%(day)s:已生成%(month)s的走访汇总。") % {
            "day": f"{today:%Y-%m-%d}",
            "month": label,
        }
    return _("%(day)s:%(month)s的走访汇总已是最新。") % {
        "day": f"{today:%Y-%m-%d}",
        "month": label,
    }
