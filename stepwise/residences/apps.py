from django.apps import AppConfig


class ResidencesConfig(AppConfig):
    name = "stepwise.residences"
    label = "residences"
    verbose_name = "Sober living residences"

    def ready(self) -> None:
        from stepwise.residences import hooks

        hooks.register()
