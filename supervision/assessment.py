"""The annual assessment of the streets (社会救助绩效考核): plans, scoring and the frozen snapshot.

A district's plan for a year (`AssessmentPlan`) gives each rule C1–C12 a weight and a way
of scoring it, and lists the manual items (宣传、品牌、创新 by default) the bureau scores by
hand. L1 is advice and is never scored.

Scoring (decisions):

- a rate rule (按比例计分) scores weight × min(figure / target, 1), the figure being the
  street's covered / total of the engine (the exact fraction, not the rounded percentage);
  so it never exceeds the weight;
- a yes/no rule (达标得分) scores the whole weight when the rule passes, else 0;
- a street with nothing to judge for a rule (total 0: no current recipient, no order …)
  gets the full weight under both modes: nothing was breached (the engine says the same:
  such a figure passes);
- scores are kept to 2 decimals (half up); the total is the rules' scores plus the manual
  scores; the rank orders the totals from the highest, and equal totals share a rank
  (1, 1, 3).

Until a plan is saved, a year is scored with the default plan (`DEFAULT_WEIGHTS`,
`DEFAULT_YES_NO`, `DEFAULT_ITEMS`); the first save of the plan, of the manual scores or the
close writes it.

While the year is open the scorecard is computed live, from the engine (`engine.evaluate`
for the calendar year, judged today or on 31 December once it is over). Closing the year
(`close_year`) freezes the whole scorecard in an `AssessmentSnapshot`; from then on the
scorecard is read from the snapshot only, and neither the plan nor the manual scores can be
changed. Reopening a closed year is not offered: a published score is final.

Who: bureau staff of the district set the plan, score, close and export; a street manager
reads the closed (published) scorecard's row of their own street only (404 before it is
closed). Every function runs a fixed number of queries whatever the number of streets.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stations.models import Street
from supervision import engine
from supervision.models import (
    AssessmentIndicator,
    AssessmentManualItem,
    AssessmentManualScore,
    AssessmentPlan,
    AssessmentScoring,
    AssessmentSnapshot,
)

RULE_IDS = [rule_id for rule_id, rule in engine.ENGINE_RULES.items() if rule.kind != engine.ADVICE]
DEFAULT_WEIGHTS = {
    "C1": 10,
    "C2": 10,
    "C3": 5,
    "C4": 5,
    "C5": 5,
    "C6": 5,
    "C7": 5,
    "C8": 5,
    "C9": 20,
    "C10": 10,
    "C11": 5,
    "C12": 10,
    # 政策找人 is weighed by the bureau in its plan when it wants to: 0 until then.
    "P1": 0,
}
DEFAULT_YES_NO = {"C1", "C8"}
DEFAULT_ITEMS = [
    (gettext_lazy("宣传"), 2),
    (gettext_lazy("品牌"), 2),
    (gettext_lazy("创新"), 1),
]
FIRST_YEAR = 2000
MAX_WEIGHT = Decimal("1000")
CENT = Decimal("0.01")


def quantize(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def shown(value):
    """A score as text for the page and the snapshot: 8.00 → "8", 7.50 → "7.5"."""
    text = f"{quantize(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Scoring ------------------------------------------------------------------------------------


def rule_score(weight, scoring, covered, total, target):
    """The score of one rule for one street (see the module)."""
    weight = Decimal(weight)
    if not total:
        return quantize(weight)
    if scoring == AssessmentScoring.YES_NO:
        return quantize(weight if covered * 100 >= target * total else 0)
    if not target:
        return quantize(weight)
    share = min(Decimal(covered) * 100 / (Decimal(target) * total), Decimal(1))
    return quantize(weight * share)


def ranks(totals):
    """Competition ranks of `totals` (highest first; equal totals share a rank: 1, 1, 3)."""
    ordered = sorted(totals, reverse=True)
    return [ordered.index(total) + 1 for total in totals]


# The plan -----------------------------------------------------------------------------------


@dataclass
class Indicator:
    rule_id: str
    weight: Decimal
    scoring: str

    @property
    def rule(self):
        return engine.ENGINE_RULES[self.rule_id]


@dataclass
class Item:
    pk: int | None
    name: str
    max_score: Decimal


@dataclass
class Plan:
    """A year's plan as scored: saved (`saved` is the row) or the defaults."""

    district: object
    year: int
    indicators: list
    items: list
    saved: AssessmentPlan | None = None
    snapshot: AssessmentSnapshot | None = None
    scores: dict = field(default_factory=dict)  # (item pk, street pk) -> AssessmentManualScore

    @property
    def closed(self):
        return self.snapshot is not None

    @property
    def rule_total(self):
        return sum((i.weight for i in self.indicators), Decimal(0))

    @property
    def manual_total(self):
        return sum((i.max_score for i in self.items), Decimal(0))

    @property
    def total(self):
        return self.rule_total + self.manual_total


def default_indicators():
    return [
        Indicator(
            rule_id,
            Decimal(DEFAULT_WEIGHTS.get(rule_id, 5)),
            AssessmentScoring.YES_NO if rule_id in DEFAULT_YES_NO else AssessmentScoring.RATE,
        )
        for rule_id in RULE_IDS
    ]


def check_year(year, today=None):
    """404 for a year that cannot be assessed (before 2000 or not started yet)."""
    today = today or timezone.localdate()
    if not FIRST_YEAR <= int(year) <= today.year:
        raise Http404(_("没有该年度的绩效考核。"))
    return int(year)


def load_plan(district, year, *, with_scores=True):
    """The plan of `district` for `year` (the defaults when none is saved), in 4 queries."""
    saved = (
        AssessmentPlan.objects.filter(district=district, year=year)
        .select_related("snapshot", "snapshot__closed_by")
        .first()
    )
    if saved is None:
        return Plan(
            district,
            year,
            default_indicators(),
            [Item(None, str(name), Decimal(m)) for name, m in DEFAULT_ITEMS],
        )
    stored = {row.rule_id: row for row in AssessmentIndicator.objects.filter(plan=saved)}
    indicators = [
        Indicator(rule_id, stored[rule_id].weight, stored[rule_id].scoring)
        if rule_id in stored
        else Indicator(rule_id, Decimal(0), AssessmentScoring.RATE)
        for rule_id in RULE_IDS
    ]
    items = [Item(row.pk, row.name, row.max_score) for row in saved.items.order_by("pk")]
    snapshot = getattr(saved, "snapshot", None) if _has_snapshot(saved) else None
    plan = Plan(district, year, indicators, items, saved=saved, snapshot=snapshot)
    if with_scores and snapshot is None:
        plan.scores = {
            (row.item_id, row.street_id): row
            for row in AssessmentManualScore.objects.filter(item__plan=saved)
        }
    return plan


def _has_snapshot(saved):
    try:
        saved.snapshot  # noqa: B018 (joined by select_related)
    except AssessmentSnapshot.DoesNotExist:
        return False
    return True


def years(district, today=None):
    """The years listed for a district: those with a plan, this year and last, newest first,
    each with its plan row (or None) and whether it is closed."""
    today = today or timezone.localdate()
    plans = {
        row.year: row
        for row in AssessmentPlan.objects.filter(district=district).select_related(
            "snapshot", "snapshot__closed_by"
        )
    }
    listed = sorted({*plans, today.year, today.year - 1}, reverse=True)
    return [
        {
            "year": year,
            "plan": plans.get(year),
            "snapshot": plans[year].snapshot
            if year in plans and _has_snapshot(plans[year])
            else None,
        }
        for year in listed
        if year >= FIRST_YEAR
    ]


def _require_bureau(actor, district):
    if not (actor.is_bureau and actor.district_id == district.pk):
        raise PermissionDenied(_("只有本区民政局工作人员可以管理绩效考核。"))


def _refuse_closed(plan):
    if plan.closed:
        raise ValidationError(_("该年度考核已关闭并公布,不能再修改。"))


@transaction.atomic
def saved_plan(actor, district, year):
    """The plan row of the year, written with the defaults when there is none yet."""
    _require_bureau(actor, district)
    plan, created = AssessmentPlan.objects.get_or_create(
        district=district, year=year, defaults={"created_by": actor}
    )
    if created:
        AssessmentIndicator.objects.bulk_create(
            AssessmentIndicator(plan=plan, rule_id=i.rule_id, weight=i.weight, scoring=i.scoring)
            for i in default_indicators()
        )
        AssessmentManualItem.objects.bulk_create(
            AssessmentManualItem(plan=plan, name=str(name), max_score=Decimal(m))
            for name, m in DEFAULT_ITEMS
        )
    return plan


def _decimal(text, key, errors, *, label):
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        errors[key] = _("%(label)s应为数字。") % {"label": label}
        return None
    if not value.is_finite():
        errors[key] = _("%(label)s应为数字。") % {"label": label}
        return None
    if value < 0:
        errors[key] = _("%(label)s不能小于0。") % {"label": label}
        return None
    if value > MAX_WEIGHT:
        errors[key] = _("%(label)s不能超过%(max)s。") % {"label": label, "max": MAX_WEIGHT}
        return None
    if value != value.quantize(CENT):
        errors[key] = _("%(label)s最多保留两位小数。") % {"label": label}
        return None
    return value


@transaction.atomic
def update_plan(*, actor, district, year, indicators, items, new_items=()):
    """Set the weights and modes of the rules and the manual items of a year's plan.

    `indicators`: {rule id: (weight text, scoring)}; `items`: {item pk: (name, max text)};
    `new_items`: [(name, max text)] (blank names skipped). Nothing is saved when any value
    is wrong: a ValidationError keyed `weight_<rule>`, `scoring_<rule>`, `item_<pk>_name`,
    `item_<pk>_max`, `new_name`, `new_max`.
    """
    _require_bureau(actor, district)
    current = load_plan(district, year, with_scores=False)
    _refuse_closed(current)
    plan = saved_plan(actor, district, year)
    errors, weights, modes = {}, {}, {}
    for rule_id in RULE_IDS:
        weight_text, scoring = indicators.get(rule_id, ("", ""))
        weights[rule_id] = _decimal(
            weight_text, f"weight_{rule_id}", errors, label=_("%(rule)s分值") % {"rule": rule_id}
        )
        if scoring not in AssessmentScoring.values:
            errors[f"scoring_{rule_id}"] = _("请选择计分方式。")
        modes[rule_id] = scoring
    stored_items = {row.pk: row for row in AssessmentManualItem.objects.filter(plan=plan)}
    names, item_values = set(), {}
    for pk, (name, max_text) in items.items():
        if pk not in stored_items:
            raise Http404
        name = " ".join(str(name).split())
        if not name:
            errors[f"item_{pk}_name"] = _("请填写项目名称。")
        elif name in names:
            errors[f"item_{pk}_name"] = _("项目名称“%(name)s”重复。") % {"name": name}
        names.add(name)
        item_values[pk] = (
            name,
            _decimal(max_text, f"item_{pk}_max", errors, label=_("满分")),
        )
    added = []
    for name, max_text in new_items:
        name = " ".join(str(name).split())
        if not name and not str(max_text).strip():
            continue
        if not name:
            errors["new_name"] = _("请填写新增项目的名称。")
            continue
        if name in names:
            errors["new_name"] = _("项目名称“%(name)s”重复。") % {"name": name}
        names.add(name)
        added.append((name, _decimal(max_text, "new_max", errors, label=_("新增项目满分"))))
    if errors:
        raise ValidationError(errors)
    for row in AssessmentIndicator.objects.filter(plan=plan):
        row.weight, row.scoring = weights[row.rule_id], modes[row.rule_id]
        row.save(update_fields=["weight", "scoring"])
    missing = set(RULE_IDS) - set(
        AssessmentIndicator.objects.filter(plan=plan).values_list("rule_id", flat=True)
    )
    for rule_id in sorted(missing):
        AssessmentIndicator.objects.create(
            plan=plan, rule_id=rule_id, weight=weights[rule_id], scoring=modes[rule_id]
        )
    for pk, (name, max_score) in item_values.items():
        row = stored_items[pk]
        if (row.name, row.max_score) != (name, max_score):
            row.name, row.max_score = name, max_score
            row.save(update_fields=["name", "max_score"])
    try:
        with transaction.atomic():
            for name, max_score in added:
                AssessmentManualItem.objects.create(plan=plan, name=name, max_score=max_score)
    except IntegrityError as error:
        raise ValidationError({"new_name": _("项目名称重复。")}) from error
    over = AssessmentManualScore.objects.filter(item__plan=plan).select_related("item")
    for score in over:
        if score.score > score.item.max_score:
            raise ValidationError(
                {
                    f"item_{score.item_id}_max": _(
                        "已有街镇在“%(name)s”得分%(score)s,满分不能低于该分数。"
                    )
                    % {"name": score.item.name, "score": shown(score.score)}
                }
            )
    return plan


@transaction.atomic
def set_manual_scores(*, actor, district, year, scores):
    """Score the streets on the manual items: `scores` {(item pk, street pk): (score text, note)}.

    A blank score removes the street's score on that item. A score must be between 0 and
    the item's maximum; nothing is saved when any is wrong (ValidationError keyed
    `score_<item>_<street>`).
    """
    _require_bureau(actor, district)
    _refuse_closed(load_plan(district, year, with_scores=False))
    plan = saved_plan(actor, district, year)
    items = {row.pk: row for row in AssessmentManualItem.objects.filter(plan=plan)}
    streets = {row.pk: row for row in Street.objects.filter(district=district)}
    stored = {
        (row.item_id, row.street_id): row
        for row in AssessmentManualScore.objects.filter(item__plan=plan)
    }
    errors, changes = {}, []
    for (item_pk, street_pk), (text, note) in scores.items():
        if item_pk not in items or street_pk not in streets:
            raise Http404
        item, key = items[item_pk], f"score_{item_pk}_{street_pk}"
        note = str(note or "").strip()[:500]
        if not str(text).strip():
            changes.append((item_pk, street_pk, None, note))
            continue
        label = _("%(street)s“%(item)s”得分") % {
            "street": streets[street_pk].name,
            "item": item.name,
        }
        value = _decimal(text, key, errors, label=label)
        if value is not None and value > item.max_score:
            errors[key] = _("%(label)s不能超过满分%(max)s分。") % {
                "label": label,
                "max": shown(item.max_score),
            }
            continue
        changes.append((item_pk, street_pk, value, note))
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    for item_pk, street_pk, value, note in changes:
        row = stored.get((item_pk, street_pk))
        if value is None:
            if row is not None:
                row.delete()
            continue
        if row is None:
            AssessmentManualScore.objects.create(
                item_id=item_pk,
                street_id=street_pk,
                score=value,
                note=note,
                scored_by=actor,
                scored_at=now,
            )
        elif (row.score, row.note) != (value, note):
            row.score, row.note, row.scored_by, row.scored_at = value, note, actor, now
            row.save(update_fields=["score", "note", "scored_by", "scored_at"])
    return plan


# The scorecard ------------------------------------------------------------------------------


def compute(plan, today=None):
    """The live scorecard of an open year (see the module); the snapshot's shape."""
    today = today or timezone.localdate()
    period = engine.parse_period(str(plan.year))
    compliance = engine.evaluate(
        plan.district, period, today=today, rule_ids=RULE_IDS, street_offenders=False
    )
    streets = []
    for street in compliance.streets:
        rules = {}
        for indicator in plan.indicators:
            outcome = street.outcomes[indicator.rule_id]
            score = rule_score(
                indicator.weight,
                indicator.scoring,
                outcome.covered,
                outcome.total,
                indicator.rule.target,
            )
            rules[indicator.rule_id] = {
                "covered": outcome.covered,
                "total": outcome.total,
                "value": str(outcome.value) if outcome.value is not None else None,
                "passed": outcome.passed,
                "score": shown(score),
            }
        manual = {}
        for item in plan.items:
            row = plan.scores.get((item.pk, street.street.pk))
            manual[str(item.pk)] = {
                "score": shown(row.score) if row else None,
                "note": row.note if row else "",
            }
        rule_total = sum((Decimal(r["score"]) for r in rules.values()), Decimal(0))
        manual_total = sum(
            (Decimal(m["score"]) for m in manual.values() if m["score"] is not None), Decimal(0)
        )
        streets.append(
            {
                "code": street.street.code,
                "name": street.street.name,
                "rules": rules,
                "manual": manual,
                "rule_total": shown(rule_total),
                "manual_total": shown(manual_total),
                "total": shown(rule_total + manual_total),
            }
        )
    for street, rank in zip(streets, ranks([Decimal(s["total"]) for s in streets]), strict=True):
        street["rank"] = rank
    streets.sort(key=lambda s: (s["rank"], s["code"]))
    return {
        "year": plan.year,
        "judged_on": compliance.judged_on.isoformat(),
        "indicators": [
            {
                "rule": i.rule_id,
                "title": str(i.rule.title),
                "weight": shown(i.weight),
                "scoring": i.scoring,
                "target": i.rule.target,
            }
            for i in plan.indicators
        ],
        "items": [
            {"id": str(item.pk), "name": item.name, "max_score": shown(item.max_score)}
            for item in plan.items
        ],
        "max_total": shown(plan.total),
        "streets": streets,
    }


def scorecard(plan, today=None):
    """The year's scorecard: the frozen snapshot once closed, else computed live."""
    if plan.closed:
        return plan.snapshot.data
    return compute(plan, today)


def street_rows(card, street):
    """The rows of `card` a street manager may read: their own street's only."""
    return [row for row in card["streets"] if row["code"] == street.code]


@transaction.atomic
def close_year(*, actor, district, year, today=None):
    """Freeze the year's scorecard as computed now; the year cannot be reopened."""
    _require_bureau(actor, district)
    today = today or timezone.localdate()
    check_year(year, today)
    row = saved_plan(actor, district, year)
    AssessmentPlan.objects.select_for_update().filter(pk=row.pk).first()
    plan = load_plan(district, year)
    if plan.closed:
        raise ValidationError(_("该年度考核已于 %(when)s 关闭。") % {"when": _when(plan.snapshot)})
    data = compute(plan, today)
    data["closed_on"] = today.isoformat()
    return AssessmentSnapshot.objects.create(
        plan=row, data=data, closed_by=actor, closed_at=timezone.now()
    )


def _when(snapshot):
    return timezone.localtime(snapshot.closed_at).strftime("%Y-%m-%d %H:%M")


def in_progress(year, today=None):
    today = today or timezone.localdate()
    return datetime.date(year, 12, 31) >= today
