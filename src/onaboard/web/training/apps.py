from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "onaboard.web.training"
    label = "training"
