"""The app's URLs plus the load test's bare view (bench/load_settings.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from onaboard.web.config.urls import urlpatterns as app_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    """A constant response: no database, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *app_urlpatterns]
