from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "onaboard.web.audit"
    label = "audit"

    def ready(self) -> None:
        from onaboard.web.audit.admin_trail import install

        install()
