"""The locust users of the load and fault tests: the three roles of `mix`, each a `Visitor`.

Run by `benchmarks.load.run` and `benchmarks.load.fault` (not by hand, though it can be):

    LOAD_PLAN=plan.json locust -f benchmarks/load/locustfile.py --headless -u 50 -r 10 \
        -t 60s --host http://127.0.0.1:8000 --json-file out/load

The environment says what to read and where to write:

- LOAD_PLAN: the plan `benchmarks.load.setup` wrote (logins, password, pages);
- LOAD_RUN_ID: the run's mark in the findings of the visits it logs (default `load`);
- LOAD_VISITS: a file that gets a JSON line per quick visit posted, with its outcome;
- LOAD_EVENTS: a file that gets a JSON line per request (the fault test reads when each
  failed, and whether an error answer was the Chinese error page).

Each simulated user takes the next login of its role from the plan (round and round), logs
in, then clicks (`Visitor.step`) with a pause to read each page (`mix.THINK_SECONDS`).
Everything the users do is in `workload`, which the tests run against the app itself;
this file only ties it to locust's HTTP client and its statistics.
"""

import itertools
import json
import os
import sys
from pathlib import Path

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.load import mix, workload  # noqa: E402 - after the project's folder is on the path

RUN_ID = os.environ.get("LOAD_RUN_ID", "load")
_plan = None
_turns = {role: itertools.count() for role in mix.ROLES}
_serials = itertools.count(1)
_logs = {}


def plan():
    global _plan
    if _plan is None:
        with open(os.environ["LOAD_PLAN"], encoding="utf-8") as plan_file:
            _plan = json.load(plan_file)
    return _plan


def next_login(role):
    logins = [login for login in plan()["logins"] if login["role"] == role]
    if not logins:
        raise RuntimeError(f"测试计划中没有{mix.ROLE_LABELS[role]}的账号")
    return logins[next(_turns[role]) % len(logins)]


def _log(variable, record):
    """Append `record` as a JSON line to the file named by the environment variable."""
    path = os.environ.get(variable)
    if not path:
        return
    if variable not in _logs:
        _logs[variable] = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
    _logs[variable].write(json.dumps(record, ensure_ascii=False) + "\n")


@events.request.add_listener
def log_request(
    request_type, name, response_time, response_length, response=None, exception=None, **kwargs
):
    if not os.environ.get("LOAD_EVENTS"):
        return
    status = getattr(response, "status_code", 0) or 0
    start = kwargs.get("start_time")
    _log(
        "LOAD_EVENTS",
        {
            "start": start,
            "end": (start or 0) + response_time / 1000,
            "method": request_type,
            "name": name,
            "status": status,
            "failed": exception is not None,
            "error": str(exception) if exception is not None else "",
            "error_page": status >= 500 and workload.ERROR_PAGE_MARK in (response.text or ""),
        },
    )


def log_visit(record):
    _log("LOAD_VISITS", record)


class LoadUser(HttpUser):
    """A simulated user of `role` (the concrete classes below)."""

    abstract = True
    role = None
    wait_time = between(*mix.THINK_SECONDS)

    def on_start(self):
        self.visitor = workload.Visitor(
            next_login(self.role),
            plan(),
            self.http,
            run_id=RUN_ID,
            serial=next(_serials),
            on_visit=log_visit,
        )
        self.visitor.log_in()

    def http(self, method, path, *, name, data=None, headers=None, expect):
        """`workload`'s HTTP: one request, counted as failed when `expect` finds fault."""
        with self.client.request(
            method,
            path,
            name=name,
            data=data,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            error = getattr(response, "error", None)
            reply = workload.Reply(
                status=response.status_code or 0,
                text=response.text or "",
                location=response.headers.get("Location", ""),
                error=str(error) if error else "",
            )
            problem = expect(reply)
            if problem:
                response.failure(problem)
            else:
                response.success()
        return reply

    @task
    def click(self):
        self.visitor.step()


class BureauUser(LoadUser):
    role = mix.BUREAU
    weight = mix.ROLE_WEIGHTS[mix.BUREAU]


class StreetManagerUser(LoadUser):
    role = mix.STREET_MANAGER
    weight = mix.ROLE_WEIGHTS[mix.STREET_MANAGER]


class AdvisorUser(LoadUser):
    role = mix.ADVISOR
    weight = mix.ROLE_WEIGHTS[mix.ADVISOR]
