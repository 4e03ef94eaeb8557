from django.apps import AppConfig


class SensitiveAppConfig(AppConfig):
    name = "tests.sensitive_app"
    label = "sensitive_app"
    verbose_name = "测试:敏感字段"
