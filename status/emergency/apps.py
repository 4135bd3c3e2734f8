from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "status.emergency"
    label = "emergency"
    default_auto_field = "django.db.models.BigAutoField"
