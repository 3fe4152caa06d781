from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "stepwise.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from stepwise.accounts import signals  # noqa: F401  (audits sign-in and sign-out)
