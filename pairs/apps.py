from django.apps import AppConfig


class PairsConfig(AppConfig):
    name = "pairs"
    label = "config"
    default_auto_field = "django.db.models.BigAutoField"
