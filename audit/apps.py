import functools

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "审计"

    def ready(self):
        from django.db.backends.signals import connection_created

        _record_management_commands()
        connection_created.connect(_define_trigger_ignore, dispatch_uid="audit_trigger_ignore")


def _define_trigger_ignore(sender, connection, **kwargs):
    """Define `pgtrigger.ignore` ("ignore no trigger") on every new PostgreSQL connection.

    Every audit trigger first asks pgtrigger whether to stand aside, reading that setting in
    a PL/pgSQL block that catches the error of an undefined setting. Undefined, each audited
    row raises and rolls back a subtransaction, and PostgreSQL then rescans every deferred
    foreign-key check queued in the transaction: a transaction writing n audited rows costs
    n² (a list of 100,000 leads took 530 s instead of 45 s). Defined, nothing is raised.
    `pgtrigger.ignore()` (the audit retention purge) still works: it sets the value for its
    statements and leaves it defined.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', false)")


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
