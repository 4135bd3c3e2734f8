"""Applying the setup assistant's output to bare nodes as an admin would (pairs and emergency tests)."""

from __future__ import annotations

import io
import zipfile

from django.test import Client

from devtools.sandbox import SandboxPair, process
from monitor.models import Pair
from tests.factories import pair_data


def generated(admin_client: Client, nodes: SandboxPair, name: str, typed: bool = True,
              **options: str) -> tuple[Pair, dict[str, str]]:
    """The nodes registered as pair `name`, and the assistant's .zip generated for it: {file name: text}.
    `typed`: the admin also types the generated monitor password into the pair's form at once, for tests that
    apply the SQL before anything polls; else the panel keeps "not-yet" until Verify's store step."""
    node = {"host": "127.0.0.1", "monitor_password": "not-yet", "tls_mode": "verify-identity",
            "ca_cert": nodes.ca_file.read_text()}
    data = pair_data(name, primary={**node, "port": str(nodes.primary.port)},
                     secondary={**node, "port": str(nodes.secondary.port)})
    assert admin_client.post("/pairs/new/", data).status_code == 302
    pair = Pair.objects.get(name=name)
    form = {"flavour": "mariadb", "tls_dir": str(nodes.pki), "monitor_from": "127.0.0.1", "vault_schema": "vault",
            "emergency_from": "127.0.0.1", **options}
    assert admin_client.post(f"/pairs/{pair.pk}/setup/", form).status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(admin_client.get(f"/pairs/{pair.pk}/setup.zip").content))
    files = {name.removeprefix("hapanel-setup/"): archive.read(name).decode() for name in archive.namelist()}
    if typed:
        monitor = shown_passwords(files["README.txt"])["hapanel_monitor"]
        edited = {**data, "primary-monitor_password": monitor, "secondary-monitor_password": monitor}
        assert admin_client.post(f"/pairs/{pair.pk}/edit/", edited).status_code == 302
    return pair, files


def shown_passwords(readme: str) -> dict[str, str]:
    """The generated passwords as the README lists them: {account: password}."""
    shown = readme.split("Generated passwords", 1)[1].splitlines()[1:]
    return dict(line.strip().split(": ", 1) for line in shown if ": " in line)


def statements(sql: str) -> list[str]:
    """A generated block as the statements an admin's client sends one by one."""
    return [s.strip() for s in sql.split(";\n") if s.strip()]


def restart_with(nodes: SandboxPair, role: str, options: str) -> None:
    """The generated server options added to the node's configuration, and the server restarted on them."""
    spec = nodes.node(role)
    process.stop(nodes.pid(role), str(spec.cnf))
    spec.cnf.write_text(spec.cnf.read_text() + options)
    nodes.start_node(role)


def grants_of(nodes: SandboxPair, role: str, account: str) -> list[str]:
    """The account's grants on the node, past its USAGE line, without the account: `GRANT … ON …`."""
    rows = nodes.sql(role, f"SHOW GRANTS FOR {account}")
    return [next(iter(row.values())).split(" TO ")[0] for row in rows][1:]
