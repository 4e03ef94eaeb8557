"""The audit context of a request: the user, the client address and the page."""

from django.db import connection
from pghistory.middleware import HistoryMiddleware

from audit.context import tracking_supported
from changning_aid.net import client_ip


class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's middleware, with the client address read the project's one way.

    The user is followed as it changes during the request (a login), as pghistory's own
    middleware does. On databases without triggers (SQLite) it does nothing.
    """

    def get_context(self, request):
        user = getattr(request, "user", None)
        user_id = (
            user._meta.pk.get_db_prep_value(user.pk, connection)
            if user is not None and hasattr(user, "_meta")
            else None
        )
        return {"user": user_id, "url": request.path, "ip": client_ip(request)}

    def __call__(self, request):
        if not tracking_supported():
            return self.get_response(request)
        return super().__call__(request)
