from django.urls import path

from onaboard.web.coverage import views

app_name = "coverage"
urlpatterns = [
    path("prices/", views.prices, name="prices"),
    path("patients/<uuid:patient_id>/", views.patient_coverage, name="patient"),
    path("patients/<uuid:patient_id>/insurance/", views.insurance_edit, name="insurance_edit"),
    path("patients/<uuid:patient_id>/prior-authorisations/new/", views.authorisation_new, name="authorisation_new"),
    path(
        "patients/<uuid:patient_id>/prior-authorisations/<uuid:authorisation_id>/",
        views.authorisation_edit,
        name="authorisation_edit",
    ),
    path("patients/<uuid:patient_id>/documents/<slug:kind>.pdf", views.document, name="document"),
]
