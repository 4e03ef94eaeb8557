from django.apps import AppConfig


class ChangningAidConfig(AppConfig):
    name = "changning_aid"
    verbose_name = "长宁区社区救助顾问"
