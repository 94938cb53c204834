"""Injection sessions and side effects, under /sessions/."""

from django.urls import path

from onaboard.web.injections import views

app_name = "injections"
urlpatterns = [
    path("patients/<uuid:patient_id>/new/", views.session_new, name="session_new"),
    path("patients/<uuid:patient_id>/book/", views.first_session_book, name="first_session_book"),
    path("side-effects/report/", views.report_side_effect, name="report_side_effect"),
    path("side-effects/<uuid:side_effect_id>/", views.side_effect_detail, name="side_effect_detail"),
    path("side-effects/<uuid:side_effect_id>/review/", views.side_effect_review, name="side_effect_review"),
    path("<uuid:session_id>/", views.session_detail, name="session_detail"),
    path("<uuid:session_id>/record/", views.session_record, name="session_record"),
    path("<uuid:session_id>/book/", views.session_book, name="session_book"),
    path("<uuid:session_id>/cancel/", views.session_cancel, name="session_cancel"),
    path("<uuid:session_id>/entered-in-error/", views.session_in_error, name="session_in_error"),
]
