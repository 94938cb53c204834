from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InjectionsConfig(AppConfig):
    name = "onaboard.web.injections"
    label = "injections"
    verbose_name = _("Injection sessions")
