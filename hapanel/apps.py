from django.apps import AppConfig


class HapanelConfig(AppConfig):
    name = "hapanel"
    verbose_name = "hapanel"

    def ready(self) -> None:
        from hapanel import checks  # noqa: F401 (registers the system checks)
