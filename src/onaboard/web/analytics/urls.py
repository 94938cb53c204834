from django.urls import path

from onaboard.web.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.cohort_report, name="cohort"),
    path("cohort.html", views.cohort_report_html, name="cohort_html"),
    path("cohort.pdf", views.cohort_report_pdf, name="cohort_pdf"),
]
