"""The exchange pages (/exchange/): downloads, the diary CSV upload, calendar feeds and the patient's own data."""

from django.urls import path, register_converter

from onaboard.web.interop import views


class CsvKindConverter:
    """The CSV files besides the diary: ``preventives`` or ``sessions``."""

    regex = "preventives|sessions"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CsvKindConverter, "csv_kind")

app_name = "interop"
urlpatterns = [
    path("patients/<uuid:external_id>/", views.patient_exchange, name="patient"),
    path("patients/<uuid:external_id>/fhir.json", views.patient_fhir, name="patient_fhir"),
    path("patients/<uuid:external_id>/diary.csv", views.patient_csv, name="patient_diary_csv"),
    path("patients/<uuid:external_id>/<csv_kind:kind>.csv", views.patient_csv, name="patient_csv"),
    path("mine/", views.my_data, name="my_data"),
    path("mine/fhir.json", views.my_fhir, name="my_fhir"),
    path("mine/diary.csv", views.my_csv, name="my_diary_csv"),
    path("mine/<csv_kind:kind>.csv", views.my_csv, name="my_csv"),
    path("calendar/", views.clinician_calendar, name="calendar"),
    path("calendar/<str:secret>.ics", views.feed, name="feed"),
]
