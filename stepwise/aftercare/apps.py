from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "stepwise.aftercare"
    label = "aftercare"
    verbose_name = "Aftercare plans and check-ins"

    def ready(self) -> None:
        from stepwise.aftercare import hooks

        hooks.register()
