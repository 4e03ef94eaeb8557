"""The daily jobs of the project: one registry, one entry point (`manage.py run_scheduled`).

A job is a function `job(today) -> str` that does one day's work as of `today` and returns
a one-line Chinese summary of what it did. It registers itself with `@daily_job(name)` in
its app's `jobs.py` (found by `registered_jobs`, like `admin.py`)::

    from changning_aid.scheduled import daily_job

    @daily_job("visit_misses")
    def notify_visit_misses(today):
        ...
        return "已通知 3 个街镇的上月漏访情况。"

`run_scheduled` runs every registered job once a day, each in its own transaction, and
carries on after a job that fails. Every job must be safe to run twice on the same day (a
second run finds nothing left to do), and should catch up when a day was missed (look at
a window of days, not at one day only), since cron may skip a day or run twice.
"""

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules

# Job name -> function, in the order the jobs registered.
JOBS = {}


def daily_job(name):
    """Register the decorated function `job(today) -> str` as the daily job `name`."""

    def register(function):
        known = JOBS.get(name)
        if known is not None and (known.__module__, known.__qualname__) != (
            function.__module__,
            function.__qualname__,
        ):
            raise ImproperlyConfigured(
                f"daily job {name!r} registered twice: {known.__module__}.{known.__qualname__} "
                f"and {function.__module__}.{function.__qualname__}"
            )
        JOBS[name] = function
        return function

    return register


def registered_jobs():
    """Every daily job of the project (each app's `jobs` module imported), by name."""
    autodiscover_modules("jobs")
    return dict(JOBS)
