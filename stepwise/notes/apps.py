from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "stepwise.notes"
    label = "notes"
    verbose_name = "Clinical notes"

    def ready(self) -> None:
        from stepwise.notes import panels

        panels.register()
