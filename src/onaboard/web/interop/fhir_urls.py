"""The FHIR endpoints under /fhir/ (application/fhir+json)."""

from django.urls import path

from onaboard.web.interop import fhir_views

app_name = "fhir"
urlpatterns = [
    path("", fhir_views.transaction, name="transaction"),
    path("metadata", fhir_views.metadata, name="metadata"),
    path("Patient/<uuid:patient_id>/$everything", fhir_views.patient_everything, name="everything"),
]
