from django.urls import path

from onaboard.web.patients import views

app_name = "patients"
urlpatterns = [
    path("new/", views.new, name="new"),
    path("<uuid:external_id>/", views.detail, name="detail"),
    path("<uuid:external_id>/billing/", views.billing, name="billing"),
    path("<uuid:external_id>/edit/", views.edit, name="edit"),
    path("<uuid:external_id>/safety/", views.safety_edit, name="safety_edit"),
    path("<uuid:external_id>/other-toxins/new/", views.other_toxin_new, name="other_toxin_new"),
    path("<uuid:external_id>/preventives/new/", views.preventive_new, name="preventive_new"),
    path("<uuid:external_id>/preventives/<uuid:trial_id>/", views.preventive_edit, name="preventive_edit"),
]
