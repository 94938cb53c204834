from django.contrib.auth import views as auth_views
from django.urls import path

from onaboard.web.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("two-step/", views.otp_device_detail, name="otp_device_detail"),
    path("two-step/confirm/", views.otp_device_confirm, name="otp_device_confirm"),
    path("two-step/remove/", views.otp_device_remove, name="otp_device_remove"),
    path("portal/close/", views.portal_close, name="portal_close"),
    path("patients/<uuid:external_id>/portal/close/", views.patient_portal_close, name="patient_portal_close"),
]
