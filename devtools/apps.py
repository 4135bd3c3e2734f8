from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """The sandbox pair and the demo vault: installed in development and tests only."""

    name = "devtools"

    def ready(self) -> None:
        from devtools.demo_vault import sandbox_vault
        from emergency import local_vault

        local_vault.register(sandbox_vault)
