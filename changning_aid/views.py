"""The landing page: each role starts where its work is."""

from django.shortcuts import redirect

from accounts.choices import Role


def home(request):
    """Send the user to the page of their role."""
    user = request.user
    if user.role == Role.STREET_MANAGER and user.street_id:
        return redirect("stations:street_detail", code=user.street.code)
    if user.role == Role.ADVISOR:
        return redirect("stations:my_stations")
    if user.role == Role.AUDIT_ADMIN:
        # The audit administrator reads the audit trail and nothing else (三员分立).
        return redirect("audit:change_trail")
    return redirect("stations:overview")
