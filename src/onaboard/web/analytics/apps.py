from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "onaboard.web.analytics"
    label = "analytics"
