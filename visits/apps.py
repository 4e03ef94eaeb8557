from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = "走访"

    def ready(self):
        # The month summaries follow every write of what they are computed from.
        from visits import summaries

        summaries.connect()
