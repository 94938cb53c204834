"""The patient portal (/portal/): today's diary, earlier days and the history; staff entering a patient's day."""

from __future__ import annotations

from datetime import date

from django.urls import path, register_converter

from onaboard.web.diary import views


class DiaryDateConverter:
    """A ``YYYY-MM-DD`` day in a path; a day that does not exist (2026-02-30) matches nothing, so it is a 404."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> date:
        return date.fromisoformat(value)  # ValueError: no match

    def to_url(self, value: date | str) -> str:
        return value.isoformat() if isinstance(value, date) else value


register_converter(DiaryDateConverter, "diary_date")

app_name = "diary"
urlpatterns = [
    path("", views.today, name="today"),
    path("diary/", views.history, name="history"),
    path("diary/<diary_date:day>/", views.edit, name="edit"),
    path("patients/<uuid:patient_id>/diary/<diary_date:day>/", views.patient_day, name="patient_day"),
]
