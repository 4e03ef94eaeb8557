"""The project's one daily entry point: every registered job (`changning_aid.scheduled`).

Run once a day by cron or a systemd timer, e.g. at 6:30::

    30 6 * * * cd /srv/changning_aid && .venv/bin/python manage.py run_scheduled

Each job runs in its own transaction and prints its summary; a job that fails is rolled
back, its error printed, and the others still run; the command then ends with a non-zero
exit code. Every job is safe to run twice: a second run finds nothing left to do.
`--date` runs the jobs as of another day (to catch up), `--job` only the jobs named.

The register's own job is defined here: people who left the register more than
RECIPIENT_RETENTION_YEARS years ago (default 5) are anonymised
(`cases.services.anonymise_expired`): name, ID number, phone and address are cleared,
counts and history stay.
"""

import datetime
import traceback

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import services
from changning_aid.scheduled import daily_job, registered_jobs


@daily_job("anonymise_recipients")
def anonymise_recipients(today):
    """People who left the register long enough ago lose their name, ID number, phone and
    address."""
    years = settings.RECIPIENT_RETENTION_YEARS
    count = services.anonymise_expired(today)
    if count:
        return _(
            "%(day)s:已将 %(count)d 名退出登记满 %(years)d 年的困难人员匿名化"
            "(姓名、身份证号、电话、地址已清除,统计和历史记录保留)。"
        ) % {"day": f"{today:%Y-%m-%d}", "count": count, "years": years}
    return _("%(day)s:没有需要匿名化的困难人员(退出登记满 %(years)d 年且尚未匿名化的为 0 人)。") % {
        "day": f"{today:%Y-%m-%d}",
        "years": years,
    }


class Command(BaseCommand):
    help = _(
        "每日定时任务:依次运行全部已登记的任务(困难人员匿名化、通知提醒等),"
        "每项任务单独提交;某项失败时其余照常运行,最后以非零状态退出。可重复运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help=_("按这一天运行(YYYY-MM-DD),默认今天;用于补跑错过的日子。"),
        )
        parser.add_argument(
            "--job",
            action="append",
            dest="jobs",
            metavar="NAME",
            help=_("只运行这项任务(可重复);默认运行全部。"),
        )

    def handle(self, *args, date=None, jobs=None, **options):
        today = self._day(date)
        available = registered_jobs()
        names = list(available)
        if jobs:
            unknown = sorted(set(jobs) - set(available))
            if unknown:
                raise CommandError(
                    _("没有这项定时任务:%(unknown)s。已有的任务:%(known)s。")
                    % {"unknown": "、".join(unknown), "known": "、".join(available)}
                )
            names = [name for name in available if name in jobs]
        failed = []
        for name in names:
            try:
                with transaction.atomic():
                    summary = available[name](today)
            except Exception as error:
                failed.append(name)
                self.stderr.write(
                    _("[%(name)s] 失败,已回滚:%(error)s") % {"name": name, "error": error}
                )
                self.stderr.write(traceback.format_exc())
            else:
                self.stdout.write(f"[{name}] {summary}")
        if failed:
            raise CommandError(
                _("定时任务结束:%(count)d 项失败(%(names)s),其余已完成。")
                % {"count": len(failed), "names": "、".join(failed)}
            )
        self.stdout.write(_("定时任务已完成。"))

    def _day(self, text):
        if not text:
            return timezone.localdate()
        try:
            return datetime.date.fromisoformat(text)
        except ValueError as error:
            raise CommandError(
                _("日期格式不正确:%(text)s(应为 YYYY-MM-DD)。") % {"text": text}
            ) from error
