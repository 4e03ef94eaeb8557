"""Request hygiene that every view relies on."""

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _


class RejectNullCharactersMiddleware:
    """Refuse a request whose address parameters carry NUL characters.

    Filters and searches read `request.GET` directly; PostgreSQL refuses NUL in text, so such
    a value would end in a server error deep inside a query. Forms already refuse NUL in
    posted fields (Django's ProhibitNullCharactersValidator); this covers the query string
    once for every page, present and future.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return HttpResponseBadRequest(
                    _("请求参数中含有不允许的控制字符,请检查后重试。"),
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
