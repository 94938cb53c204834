from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "onaboard.web.clinic"
    label = "clinic"
