"""`manage.py rebuild_summaries`: recompute the month summaries of the visit rule (C9).

Run it after a load that held the hooks off (`visits.summaries.suspended`), or to repair.
`--check` writes nothing: it rebuilds inside a transaction it rolls back and lists what
the kept tables hold that a rebuild would not, and the other way round (exit code 1 when
they differ).
"""

from django.core.management.base import BaseCommand, CommandError

from visits import summaries
from visits.models import CommitteeMonth, PersonMonth

TABLES = {"person_months": "对象月度汇总", "committee_months": "居委月度汇总"}


class Command(BaseCommand):
    help = (
        "按走访、现有救助对象期间和责任顾问记录重新计算每月走访汇总(C9)。"
        "加 --check 只核对、不写入:列出现有汇总与重新计算结果的差异。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="只核对现有汇总是否与重新计算的结果一致,不写入;不一致时以状态码 1 退出。",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=20,
            help="--check 时每张表每类差异最多列出的行数(默认 20)。",
        )

    def handle(self, *args, check=False, limit=20, **options):
        if not check:
            summaries.rebuild()
            self.stdout.write(
                self.style.SUCCESS(
                    f"已重新计算走访汇总:对象月度 {PersonMonth.objects.count()} 行,"
                    f"居委月度 {CommitteeMonth.objects.count()} 行。"
                )
            )
            return
        found = summaries.differences(limit=limit)
        if not any(found.values()):
            self.stdout.write(self.style.SUCCESS("走访汇总与按原始记录重新计算的结果一致。"))
            return
        for name, rows in found.items():
            for kind, values in rows:
                self.stdout.write(f"{TABLES[name]} {kind}:{values}")
        raise CommandError("走访汇总与重新计算的结果不一致:请运行 manage.py rebuild_summaries。")
