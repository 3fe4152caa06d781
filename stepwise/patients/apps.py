from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "stepwise.patients"
    label = "patients"
    verbose_name = "Patients"
