from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """The sandbox pair and the demo vault: installed in development and tests only."""

    name = "devtools"
