from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = "服务站点网络"
