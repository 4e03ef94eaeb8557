from django.apps import AppConfig


class AdvisorsConfig(AppConfig):
    name = "advisors"
    verbose_name = "社区救助顾问"
