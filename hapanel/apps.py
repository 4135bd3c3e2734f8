from django.apps import AppConfig


class HapanelConfig(AppConfig):
    name = "hapanel"
    verbose_name = "hapanel"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from hapanel import checks  # noqa: F401 (registers the system checks)
        from hapanel.middleware import mark_seen

        user_logged_in.connect(mark_seen, dispatch_uid="hapanel-session-seen")
