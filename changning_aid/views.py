"""The landing page: each role starts where its work is."""

from django.shortcuts import redirect

from accounts.choices import Role


def home(request):
    """Send the user to the page of their role."""
    user = request.user
    if user.role == Role.BUREAU or (user.role == Role.STREET_MANAGER and user.street_id):
        # Where the district (or the manager's street) stands this month (supervision).
        return redirect("supervision:dashboard")
    if user.role == Role.ADVISOR:
        # The advisor's daily work: who is due this month, and logging visits.
        return redirect("visits:desk")
    if user.role == Role.AUDIT_ADMIN:
        # The audit administrator reads the audit trail and nothing else (三员分立).
        return redirect("audit:change_trail")
    return redirect("stations:overview")
