from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "stepwise.privacy"
    label = "privacy"
    verbose_name = "Privacy and audit review"
