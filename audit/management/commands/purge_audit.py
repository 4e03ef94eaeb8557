"""Delete audit records older than the retention period (AUDIT_RETENTION_DAYS, ≥ 180 days)."""

from django.core.management.base import BaseCommand, CommandError

from audit.services import purge_expired, retention_days


class Command(BaseCommand):
    help = "删除超过保存期的审计记录(默认 AUDIT_RETENTION_DAYS 天,不少于180天);更新的记录一律保留。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="只删除早于这么多天的记录;不能少于保存期。",
        )

    def handle(self, *args, older_than_days=None, **options):
        try:
            deleted = purge_expired(older_than_days=older_than_days)
        except ValueError as error:
            raise CommandError(str(error)) from error
        days = older_than_days or retention_days()
        total = sum(deleted.values())
        self.stdout.write(f"已删除 {days} 天以前的审计记录 {total} 条。")
        for label, count in sorted(deleted.items()):
            self.stdout.write(f"  {label}: {count}")
