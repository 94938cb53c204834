from django.urls import path

from onaboard.web.training import views

app_name = "training"
urlpatterns = [
    path("", views.course, name="course"),
    path("modules/<slug:module_id>/", views.module_detail, name="module"),
    path("modules/<slug:module_id>/quiz/", views.quiz_start, name="quiz_start"),
    path("quiz/<uuid:attempt_id>/", views.quiz, name="quiz"),
    path("sites/", views.site_trainer, name="site_trainer"),
    path("sites/<uuid:attempt_id>/", views.site_attempt, name="site_attempt"),
    path("cases/", views.cases, name="cases"),
    path("cases/<uuid:attempt_id>/", views.case, name="case"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<uuid:live_session_id>/", views.session_detail, name="session"),
    path("sessions/<uuid:live_session_id>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<uuid:live_session_id>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<uuid:live_session_id>/enrol/", views.session_enrol, name="session_enrol"),
    path("sessions/<uuid:live_session_id>/leave/", views.session_leave, name="session_leave"),
    path("sessions/<uuid:live_session_id>/attendance/", views.session_attendance, name="session_attendance"),
    path("supervised/", views.supervised_log, name="supervised_log"),
    path("trainees/", views.trainees, name="trainees"),
    path("trainees/<uuid:trainee_id>/", views.trainee_detail, name="trainee"),
    path("certificate/", views.certificate, name="certificate"),
    path("certificate/<uuid:certificate_id>.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("verify/", views.verify, name="verify"),
]
