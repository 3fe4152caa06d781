from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "stepwise.scheduling"
    label = "scheduling"
    verbose_name = "Schedules and attendance"

    def ready(self) -> None:
        from stepwise.scheduling import hooks

        hooks.register()
