from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "stepwise.notes"
    label = "notes"
    verbose_name = "Clinical notes"

    def ready(self) -> None:
        from stepwise.notes import panels
        from stepwise.notes.services.group import entries_follow_attendance
        from stepwise.scheduling.services.attendance import register_attendance_guard

        panels.register()
        register_attendance_guard("notes.group_entries", entries_follow_attendance)
