from django.apps import AppConfig


class InjectionsConfig(AppConfig):
    name = "onaboard.web.injections"
    label = "injections"
    verbose_name = "Injection sessions"
