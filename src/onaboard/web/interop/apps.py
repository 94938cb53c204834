from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "onaboard.web.interop"
    label = "interop"
