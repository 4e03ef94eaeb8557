"""The scheduled jobs of the register, run daily by cron or a systemd timer.

Today one job: people who left the register more than RECIPIENT_RETENTION_YEARS years ago
(default 5) are anonymised (`cases.services.anonymise_expired`): name, ID number, phone and
address are cleared, counts and history stay. Safe to run twice: a second run finds
nothing left to do.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from cases import services


class Command(BaseCommand):
    help = (
        "定时任务:将退出登记满保存期限(RECIPIENT_RETENTION_YEARS 年)的困难人员匿名化。可重复运行。"
    )

    def handle(self, *args, **options):
        today = timezone.localdate()
        years = settings.RECIPIENT_RETENTION_YEARS
        count = services.anonymise_expired(today)
        if count:
            self.stdout.write(
                f"{today:%Y-%m-%d}:已将 {count} 名退出登记满 {years} 年的困难人员匿名化"
                "(姓名、身份证号、电话、地址已清除,统计和历史记录保留)。"
            )
        else:
            self.stdout.write(
                f"{today:%Y-%m-%d}:没有需要匿名化的困难人员"
                f"(退出登记满 {years} 年且尚未匿名化的为 0 人)。"
            )
        self.stdout.write("定时任务已完成。")
