from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "onaboard.web.outcomes"
    label = "outcomes"
