import functools

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "审计"

    def ready(self):
        _record_management_commands()


def _record_management_commands():
    """Give every management command an audit context: no user, the command's name.

    Commands are a door to the data like pages are (`import_divisions`, `createsuperuser`,
    `seed_demo`...); Django has no hook around them, so `BaseCommand.execute` is wrapped
    once, here. Commands run inside a request or another command add to that context.
    """
    from django.core.management.base import BaseCommand

    from audit.context import audit_context

    if getattr(BaseCommand.execute, "audit_context", False):
        return
    execute = BaseCommand.execute

    @functools.wraps(execute)
    def execute_with_context(self, *args, **options):
        command = type(self).__module__.rsplit(".", 1)[-1]
        with audit_context(command=command):
            return execute(self, *args, **options)

    execute_with_context.audit_context = True
    BaseCommand.execute = execute_with_context
