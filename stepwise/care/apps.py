from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "stepwise.care"
    label = "care"
    verbose_name = "Care continuum"
