"""`manage.py compliance --period 2026-10 [--json] [--district CODE] [--street CODE]`.

Every rule (C1–C12 and the advice L1) for the district and the period, as the engine
(`supervision.engine`) judges it: with `--json`, the whole result for other bureau systems
to read; without, a table in Chinese.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from stations.models import Street
from supervision import engine


class Command(BaseCommand):
    help = "按规则 C1–C12、指标 P1 和建议 L1 计算一个区(或街镇)在某统计期的合规情况。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--period",
            default=None,
            help="统计期:2026-10(月)、2026Q3(季度)或 2026(年);默认本月。",
        )
        parser.add_argument("--district", default=None, help="区代码;只有一个区时可省略。")
        parser.add_argument("--street", default=None, help="街镇代码:只算这个街镇。")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出全部结果。")

    def handle(self, *args, **options):
        today = timezone.localdate()
        try:
            period = engine.parse_period(options["period"] or f"{today:%Y-%m}")
            district = engine.single_district(options["district"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if not period.has_started(today):
            raise CommandError("统计期尚未开始。")
        street = None
        if options["street"]:
            street = Street.objects.filter(district=district, code=options["street"]).first()
            if street is None:
                raise CommandError(f"{district.name}没有代码为 {options['street']} 的街镇。")
        result = engine.evaluate(district, period, street=street, today=today)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{district.name} {period.label}(判定日 {result.judged_on})")
        for rule_id, outcome in result.outcomes.items():
            value = "—" if outcome.value is None else f"{outcome.value}%"
            state = (
                "建议"
                if outcome.rule.kind == engine.ADVICE
                else ("达标" if outcome.passed else "未达标")
            )
            self.stdout.write(
                f"{rule_id:<4}{outcome.rule.title}:{outcome.covered}/{outcome.total} "
                f"{value} {state}"
            )
