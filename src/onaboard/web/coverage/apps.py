from django.apps import AppConfig


class CoverageConfig(AppConfig):
    name = "onaboard.web.coverage"
    label = "coverage"
