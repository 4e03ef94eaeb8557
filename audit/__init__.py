"""The audit trail (审计): who changed what, when, from where and why, and who read what.

- Changes: every model of the project is tracked by database triggers (django-pghistory);
  a new model gets tracked with the `audit.track` decorator (see `audit.tracking`).
- Readings of sensitive data: `audit.services.record_access(...)` (see `audit.models`).
- Reading the trail: the audit administrator all of it, bureau staff their district's
  (`audit.scoping`), on the pages under /audit/.
"""

from audit.tracking import track

__all__ = ["track"]
