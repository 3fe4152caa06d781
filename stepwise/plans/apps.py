from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "stepwise.plans"
    label = "plans"
    verbose_name = "Treatment plans"

    def ready(self) -> None:
        from stepwise.plans import hooks

        hooks.register()
