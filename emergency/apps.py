from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "emergency"
    label = "emergency"
    default_auto_field = "django.db.models.BigAutoField"
