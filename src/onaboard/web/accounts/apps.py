from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "onaboard.web.accounts"
    label = "accounts"

    def ready(self) -> None:
        from onaboard.web.accounts import signals  # noqa: F401 (connects the receivers)
