from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "stepwise.recovery"
    label = "recovery"
    verbose_name = "Relapse, drug screens and aftercare"
