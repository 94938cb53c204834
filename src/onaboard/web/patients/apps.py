from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "onaboard.web.patients"
    label = "patients"
