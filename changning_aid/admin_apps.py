from django.contrib.admin.apps import AdminConfig


class ChangningAdminConfig(AdminConfig):
    """Django's admin, on a site whose access follows the user's role, not `is_staff`."""

    default_site = "changning_aid.admin.ChangningAdminSite"
