"""`make restore FILE=...`: a dump of `make backup` loaded into an empty database."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from changning_aid.backups import BackupError, restore


class Command(BaseCommand):
    help = "Restore a dump written by `make backup` into the database of DATABASE_URL (empty)."
    # The database is empty: there is nothing for the checks to read yet.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .dump file written by `make backup`.")

    def handle(self, *args, file, **options):
        try:
            restore(file)
        except BackupError as error:
            raise CommandError(f"恢复失败:{error}") from error
        name = connection.settings_dict["NAME"]
        self.stdout.write(f"已把 {file} 恢复到数据库 {name}。")
        self.stdout.write(
            "如果程序比备份新,请运行 manage.py migrate;启动前运行 "
            "manage.py check --deploy --fail-level WARNING。"
        )
