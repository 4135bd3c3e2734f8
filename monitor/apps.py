from django.apps import AppConfig


class MonitorConfig(AppConfig):
    name = "monitor"
    # The label under which existing databases hold the pairs, nodes and transitions (tables `status_*`,
    # their migration history): kept so that a panel upgrades in place.
    label = "status"
    verbose_name = "Monitor"
    default_auto_field = "django.db.models.BigAutoField"
