"""`make backup`: a dump of the PostgreSQL database into backups/ (changning_aid.backups)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from changning_aid.backups import BackupError, dump


class Command(BaseCommand):
    help = "Write a PostgreSQL dump (pg_dump custom format) of DATABASE_URL into a folder."
    # A backup must run whatever state the project's checks find the database in.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            dest="folder",
            default=str(settings.BASE_DIR / "backups"),
            help="The folder the dump goes to (default: backups/ beside manage.py).",
        )

    def handle(self, *args, folder, **options):
        try:
            path = dump(folder)
        except BackupError as error:
            raise CommandError(f"备份失败:{error}") from error
        size = path.stat().st_size
        self.stdout.write(f"已备份到 {path}({size / 1024 / 1024:.1f} MB)。")
        self.stdout.write("附件(MEDIA_ROOT 或 MEDIA_STORAGE)不在其中,请随存储一起备份。")
