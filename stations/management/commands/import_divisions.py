"""`manage.py import_divisions FILE`: bring districts, streets, committees and stations in.

Reads an NBS division file (CSV in UTF-8, or .xlsx) through `stations.divisions`, the same
service as the browser import, and reports in Chinese what it created, renamed and what
the file no longer lists. A file with any bad row changes nothing and names every bad row.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from stations import divisions


class Command(BaseCommand):
    help = _(
        "导入国家统计局区划代码文件(CSV 或 .xlsx,表头 district_code,district_name,street_code,"
        "street_name,committee_code,committee_name),新建或更新区、街镇、居村委及其服务站点。"
        "可重复运行;有错误的文件不会导入任何数据。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("区划文件的路径(.csv 或 .xlsx)"))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("只报告将要新增和变更的内容,不写入数据库。"),
        )

    def handle(self, *args, file, dry_run, verbosity, **options):
        try:
            parsed = divisions.parse(file)
        except OSError as exc:
            raise CommandError(
                _("无法读取文件 %(file)s:%(error)s") % {"file": file, "error": exc.strerror or exc}
            ) from exc
        if parsed.errors:
            lines = [
                _("区划文件 %(file)s 有 %(count)s 处错误,未导入任何数据:")
                % {"file": file, "count": len(parsed.errors)}
            ]
            lines.extend(error.message for error in parsed.errors)
            raise CommandError("\n".join(lines))

        # Plan and write in one transaction, so that what is written is what was planned.
        with transaction.atomic():
            plan = divisions.plan(parsed.rows)
            summary = plan.summary()
            if plan.has_changes and not dry_run:
                divisions.apply(plan)

        if verbosity >= 1:
            for line in divisions.report_lines(summary):
                self.stdout.write(line)
        if not plan.has_changes:
            self.stdout.write(
                self.style.SUCCESS(_("没有变化:数据库中的区划已与文件一致,未写入任何数据。"))
            )
        elif dry_run:
            self.stdout.write(self.style.WARNING(_("试运行(--dry-run):以上变化未写入数据库。")))
        else:
            self.stdout.write(self.style.SUCCESS(_("导入完成。")))
