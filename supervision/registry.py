"""The rules the pages show, by id, and what a page needs to show them for a user.

Pages never compute a rule: they take it from `RULES` by its id, measure it over the user's
scope (`Rule.scope_for`) with `evaluate` or `evaluate_by_street`, and list its offenders
through `listed_offenders`, so that a rule added here shows on every page that lists rules.
"""

from django.utils import timezone

from stations import selectors
from supervision.rules import C1, C2
from supervision.staffing_rules import C5, C6, C7, C8, C11, STAFFING_MINIMUM, DatedRule

# In the order the pages show them: the network (C1, C2), then staffing and training.
RULES = {rule.id: rule for rule in (C1, C2, C5, C6, C7, C8, C11)}

# The rules judged street by street in the overview's table of streets (C1 and C2 have
# their own columns there).
STREET_TABLE_RULE_IDS = ("C5", "C6", "C7", "C8", "C11")


def rules_shown_to(user, ids=None):
    """The rules (of `ids`, by default all) whose figures `user` may see.

    The system administrator keeps the network, not people: rules that count advisors
    are not shown to them (their scope holds no advisor, so the figures would be empty).
    """
    rules = [RULES[rule_id] for rule_id in (ids or RULES)]
    if user.is_system_admin:
        rules = [rule for rule in rules if rule.row_kind != "advisor"]
    return rules


def evaluate(rule, scope, on=None):
    """`rule` over `scope`: a dated rule on day `on` (today by default), a status rule now."""
    if isinstance(rule, DatedRule):
        return rule.evaluate(scope, on or timezone.localdate())
    return rule.evaluate(scope)


def evaluate_by_street(rule, scope, on=None):
    """`rule`'s figure for each street of `scope` (one query): {street pk: RuleResult}."""
    if isinstance(rule, DatedRule):
        return rule.evaluate_by_street(scope, on or timezone.localdate())
    return rule.evaluate_by_street(scope)


def listed_offenders(rule, offenders):
    """A rule's offending rows with what a listing shows of them, still one query.

    Streets come with their street station, committees with their committee point,
    stations with their divisions and advisors with their street.
    """
    kind = rule.row_kind
    if kind == "street":
        return selectors.with_street_station(offenders)
    if kind == "committee":
        return selectors.with_committee_point(offenders)
    if kind == "station":
        return offenders.select_related("district", "street", "committee")
    return offenders.select_related("street")


def label_offenders(rule, rows):
    """Evaluate a page of `rule`'s offending rows and give each what the offender table shows.

    Status labels for the badge partial, and for stations the minimum of active advisors
    for their kind (`staffing_minimum`).
    """
    rows = selectors.add_status_labels(rows)
    if rule.row_kind == "station":
        for row in rows:
            row.staffing_minimum = STAFFING_MINIMUM.get(row.kind)
    return rows
