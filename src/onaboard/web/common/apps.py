from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "onaboard.web.common"
    label = "common"
