"""Questionnaires (/outcomes/): the patient's HIT-6 and MIDAS, and staff reading a patient's and entering them from
the paper form; clinicians' decisions to continue or stop treatment."""

from django.urls import path

from onaboard.web.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("", views.questionnaires, name="questionnaires"),
    path("hit6/", views.hit6, name="hit6"),
    path("midas/", views.midas, name="midas"),
    path("patients/<uuid:patient_id>/", views.patient_questionnaires, name="patient_questionnaires"),
    path(
        "patients/<uuid:patient_id>/hit6/",
        views.patient_answers,
        {"instrument": "hit6"},
        name="patient_hit6",
    ),
    path(
        "patients/<uuid:patient_id>/midas/",
        views.patient_answers,
        {"instrument": "midas"},
        name="patient_midas",
    ),
    path("patients/<uuid:patient_id>/treatment/", views.treatment_decisions, name="treatment_decisions"),
    path(
        "patients/<uuid:patient_id>/treatment/decide/",
        views.treatment_decision_record,
        name="treatment_decision_record",
    ),
]
