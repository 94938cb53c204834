from django.apps import AppConfig


class DiaryConfig(AppConfig):
    name = "onaboard.web.diary"
    label = "diary"
