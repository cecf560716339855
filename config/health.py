"""GET /healthz: the app server answers, for nginx, a load balancer or a monitor, and the floor
that bench/scale.py measures every other page against. No database, no session, no template:
it says the process lives and routes requests, not that the database is up."""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
