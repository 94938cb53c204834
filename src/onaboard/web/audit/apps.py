from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "onaboard.web.audit"
    label = "audit"
