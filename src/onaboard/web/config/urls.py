"""Top-level URLs: one include per app, the API under /api/, Django's admin, and the load balancer's health check."""

from django.contrib import admin
from django.urls import include, path

from onaboard.web.common import health
from onaboard.web.config.api import api
from onaboard.web.interop import fhir_views

urlpatterns = [
    path("", include("onaboard.web.clinic.urls")),
    path("accounts/", include("onaboard.web.accounts.urls")),
    path("portal/", include("onaboard.web.diary.urls")),
    path("patients/", include("onaboard.web.patients.urls")),
    path("sessions/", include("onaboard.web.injections.urls")),
    path("outcomes/", include("onaboard.web.outcomes.urls")),
    path("coverage/", include("onaboard.web.coverage.urls")),
    path("exchange/", include("onaboard.web.interop.urls")),
    path("fhir", fhir_views.transaction, name="fhir_base"),  # a FHIR transaction is POSTed to the base address itself
    path("fhir/", include("onaboard.web.interop.fhir_urls")),
    path("training/", include("onaboard.web.training.urls")),
    path("analytics/", include("onaboard.web.analytics.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    # Answered by common.health.HealthCheckMiddleware before the host check where it is installed; this serves the
    # same view wherever it is not.
    path("healthz", health.healthz, name="healthz"),
]
