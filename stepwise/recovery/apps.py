from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "stepwise.recovery"
    label = "recovery"
    verbose_name = "Relapse, drug screens and aftercare"

    def ready(self) -> None:
        from stepwise.recovery import hooks

        hooks.register()
