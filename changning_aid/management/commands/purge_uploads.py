"""Delete uploaded import files left unconfirmed longer than UPLOAD_RETENTION_SECONDS.

Run it every few minutes (cron, a systemd timer); each new upload purges as well.
"""

from django.core.management.base import BaseCommand

from changning_aid.uploads import purge_expired_uploads


class Command(BaseCommand):
    help = "Delete uploaded import files left unconfirmed for more than an hour."

    def handle(self, *args, **options):
        deleted = purge_expired_uploads()
        self.stdout.write(f"已删除 {deleted} 个超时未确认的上传文件。")
