from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    label = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alerts.tasks import queue_notifications, queue_risk_notifications, queue_role_change_notifications
        from monitor.signals import risks_changed, roles_changed, transitions_recorded

        transitions_recorded.connect(queue_notifications, dispatch_uid="alerts.queue_notifications")
        risks_changed.connect(queue_risk_notifications, dispatch_uid="alerts.queue_risk_notifications")
        roles_changed.connect(queue_role_change_notifications, dispatch_uid="alerts.queue_role_change_notifications")
