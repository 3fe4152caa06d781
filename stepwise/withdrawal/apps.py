from django.apps import AppConfig


class WithdrawalConfig(AppConfig):
    name = "stepwise.withdrawal"
    label = "withdrawal"
    verbose_name = "Withdrawal management"

    def ready(self) -> None:
        from stepwise.withdrawal import hooks

        hooks.register()
