from django.apps import AppConfig


class ChangningAidConfig(AppConfig):
    name = "changning_aid"
    verbose_name = "长宁区社区救助顾问"

    def ready(self):
        from django.contrib import admin
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts import signals
        from changning_aid.checks import register_checks

        register_checks()
        signals.connect()
        # django-otp registers its devices in the admin unscoped, secrets and all; users
        # bind their own authenticator on their security page instead.
        if admin.site.is_registered(TOTPDevice):
            admin.site.unregister(TOTPDevice)
