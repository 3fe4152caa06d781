from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "stepwise.intake"
    label = "intake"
    verbose_name = "Admissions line"

    def ready(self) -> None:
        from stepwise.intake import panels

        panels.register()
