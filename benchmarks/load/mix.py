"""The load's mix: how many simulated users of each role, and what each role does how often.

The proportions follow the working day the notice describes. Advisors are most of the
users and spend it at the desk (走访工作台): they look up a person as they type, log
visits and open a person's file. Street managers watch their street's figures and lists;
bureau staff the district's dashboard and the streets'. Every simulated user reads a page
for a while before the next click (`THINK_SECONDS`), so 50 users are 50 people at work,
not 50 loops as fast as the server answers.

Plain data, read by the locustfile and by the tests: no Django, no locust here.
"""

import random

BUREAU = "bureau"
STREET_MANAGER = "street_manager"
ADVISOR = "advisor"
ROLES = (BUREAU, STREET_MANAGER, ADVISOR)
ROLE_LABELS = {BUREAU: "区民政局", STREET_MANAGER: "街镇管理员", ADVISOR: "社区救助顾问"}

# Users of each role among the simulated ones (locust's user class weights): of 50 users,
# 5 bureau staff, 10 street managers and 35 advisors.
ROLE_WEIGHTS = {BUREAU: 1, STREET_MANAGER: 2, ADVISOR: 7}

# The logins `setup` makes for each role: at least as many as a run of 50 users takes, so
# that no two simulated users share one (bureau logins use their own authenticator, and
# a code may open one login only once).
LOGINS_PER_ROLE = {BUREAU: 10, STREET_MANAGER: 20, ADVISOR: 40}

# Seconds a user reads a page before the next click (uniform between the two).
THINK_SECONDS = (2.0, 5.0)

# The actions of each role and their weights. Every action but `record_visit` opens a page
# (GET); `desk_search` is the desk's live search (a fragment, as desk.js asks for it);
# `record_visit` posts the desk's quick visit form, as desk.js does.
ACTIONS = {
    BUREAU: {
        "dashboard": 3,
        "street": 2,
        "compliance": 1,
        "matrix": 1,
        "search": 2,
        "recipient": 1,
        "roster": 1,
        "needs": 1,
        "services": 1,
        "leads": 1,
    },
    STREET_MANAGER: {
        "dashboard": 3,
        "street": 2,
        "compliance": 1,
        "matrix": 2,
        "search": 2,
        "recipient": 2,
        "roster": 1,
        "needs": 1,
        "resources": 1,
        "services": 1,
    },
    ADVISOR: {
        "desk": 4,
        "desk_search": 4,
        "record_visit": 3,
        "recipient": 2,
        "visits": 1,
        "street": 1,
    },
}

# The actions that write; every other action only reads.
WRITES = frozenset({"record_visit"})


def role_counts(users):
    """How many of `users` simulated users each role gets (about: locust shares out the
    remainder of a number the weights do not divide its own way)."""
    total = sum(ROLE_WEIGHTS.values())
    counts = {role: users * weight // total for role, weight in ROLE_WEIGHTS.items()}
    for role in ROLES[: users - sum(counts.values())]:
        counts[role] += 1
    return counts


def choose_action(role, rng=random):
    """The next action of a user of `role`, drawn by the weights of `ACTIONS`."""
    actions = ACTIONS[role]
    return rng.choices(list(actions), weights=list(actions.values()))[0]


def think_seconds(rng=random):
    return rng.uniform(*THINK_SECONDS)
