from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "stepwise.core"
    label = "core"
    verbose_name = "Stepwise core"

    def ready(self) -> None:
        from stepwise.core import checks  # noqa: F401  (registers system checks)
