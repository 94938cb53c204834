"""The FHIR endpoints under /fhir/ (application/fhir+json)."""

from django.urls import path  # noqa: F401 - views are added with the endpoints

app_name = "fhir"
urlpatterns: list = []
