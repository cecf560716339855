"""Control characters in the address or the headers: refused before any view or session reads
them (PostgreSQL refuses NUL in a query, a 500 otherwise). Bodies are checked field by field
by the forms and the API's serializers; this covers what reaches views around them: query
strings (filters, search, ordering, pages), headers such as Idempotency-Key and Authorization,
and cookies (a session key is looked up in the database)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from inventory.text import header_problem, shown, text_problem

API_PREFIX = "/api/"
INVALID = _("Some fields are not valid.")


def _query_problem(request):
    for name, values in request.GET.lists():
        for text in (name, *values):
            if problem := text_problem(text):
                return shown(name), problem
    return None


def _header_problem(request):
    for key, value in request.META.items():
        if key.startswith("HTTP_") and key != "HTTP_COOKIE" and header_problem(value):
            name = "-".join(part.capitalize() for part in key[5:].split("_"))
            return name, header_problem(value)
    return None


class RefuseControlCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A cookie holding control characters was not set by us: forget it (a session cookie
        # so damaged means no session) rather than lock its holder out with errors.
        for name, value in list(request.COOKIES.items()):
            if header_problem(name) or header_problem(value):
                del request.COOKIES[name]
        refused = _query_problem(request) or _header_problem(request)
        if refused is None:
            return self.get_response(request)
        with translation.override(translation.get_language_from_request(request)):
            return self._refusal(request, *refused)

    def _refusal(self, request, name: str, problem):
        if request.path_info.startswith(API_PREFIX):
            body = {"code": "invalid", "detail": str(INVALID), "fields": {name: [str(problem)]}}
            return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
        context = {"parameter": name, "problem": problem}
        return render(request, "control_characters.html", context, status=400)
