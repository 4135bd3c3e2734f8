from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """The sandbox pair and the demo vault: installed in development and tests only."""

    name = "devtools"

    def ready(self) -> None:
        from emergency import local_vault

        local_vault.register(_sandbox_vault)


def _sandbox_vault(pair):
    from devtools.demo_vault import sandbox_vault  # the driver and the sandbox load when `vault` asks

    return sandbox_vault(pair)
