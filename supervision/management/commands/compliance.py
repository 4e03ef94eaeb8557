"""`manage.py compliance --period 2026-10 [--json] [--district CODE | --all-districts]
[--street CODE]`.

Every rule (C1–C12 and the advice L1) for the district and the period, as the engine
(`supervision.engine`) judges it: with `--json`, the whole result for other bureau systems
to read; without, a table in Chinese. `--all-districts` judges every district in turn (the
city-wide run: each district with its own visit policy and its own L1 median); its JSON is
`{"period", "period_first", "period_last", "judged_on", "districts": [...]}`, one entry per
district in code order, each what `--json` prints for that district alone. The city's JSON
is written on one line: every offender of the city, megabytes that Python's encoder took
longer to indent (1.6 s) than the engine took to judge them; one district's is indented.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from stations.models import District, Street
from supervision import engine


class Command(BaseCommand):
    help = "按规则 C1–C12、指标 P1 和建议 L1 计算一个区(或街镇、或全市各区)在某统计期的合规情况。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--period",
            default=None,
            help="统计期:2026-10(月)、2026Q3(季度)或 2026(年);默认本月。",
        )
        parser.add_argument("--district", default=None, help="区代码;只有一个区时可省略。")
        parser.add_argument(
            "--all-districts",
            action="store_true",
            help="全市:逐区计算系统中的所有区(不能与 --district、--street 同用)。",
        )
        parser.add_argument("--street", default=None, help="街镇代码:只算这个街镇。")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出全部结果。")

    def handle(self, *args, **options):
        today = timezone.localdate()
        if options["all_districts"] and (options["district"] or options["street"]):
            raise CommandError("--all-districts 不能与 --district 或 --street 同用。")
        try:
            period = engine.parse_period(options["period"] or f"{today:%Y-%m}")
            if not options["all_districts"]:
                district = engine.single_district(options["district"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if not period.has_started(today):
            raise CommandError("统计期尚未开始。")
        if options["all_districts"]:
            districts = list(District.objects.order_by("code"))
            if not districts:
                raise CommandError("系统中还没有区。")
            # L1's counts of current recipients are read for the whole city at once.
            counts = engine.city_current_counts()
            results = [
                engine.evaluate(row, period, today=today, current_counts=counts)
                for row in districts
            ]
            if options["json"]:
                document = {
                    "period": period.key,
                    "period_first": period.first.isoformat(),
                    "period_last": period.last.isoformat(),
                    "judged_on": period.judging_day(today).isoformat(),
                    "districts": [result.as_json() for result in results],
                }
                self.stdout.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
                return
            for result in results:
                self._write_table(result, period)
            return
        street = None
        if options["street"]:
            street = Street.objects.filter(district=district, code=options["street"]).first()
            if street is None:
                raise CommandError(f"{district.name}没有代码为 {options['street']} 的街镇。")
        result = engine.evaluate(district, period, street=street, today=today)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
            return
        self._write_table(result, period)

    def _write_table(self, result, period):
        self.stdout.write(f"{result.district.name} {period.label}(判定日 {result.judged_on})")
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
