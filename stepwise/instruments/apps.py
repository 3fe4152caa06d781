from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    name = "stepwise.instruments"
    label = "instruments"
    verbose_name = "Assessments and placement"

    def ready(self) -> None:
        from stepwise.instruments import panels

        panels.register()
