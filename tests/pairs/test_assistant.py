"""The setup assistant end to end: its output, applied to two fresh MariaDB nodes, gives Alive/Alive."""

from __future__ import annotations

import html
import io
import re
import zipfile

from devtools.sandbox import SandboxPair, process
from monitor.models import Pair
from tests.factories import pair_data


def statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";\n") if s.strip()]


def visible(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def restart_with(nodes: SandboxPair, role: str, options: str) -> None:
    spec = nodes.node(role)
    process.stop(nodes.pid(role), str(spec.cnf))
    spec.cnf.write_text(spec.cnf.read_text() + options)
    nodes.start_node(role)


def test_generated_setup_gives_alive_alive(admin_client, fresh_nodes):
    ca = fresh_nodes.ca_file.read_text()
    node = {"host": "127.0.0.1", "monitor_password": "not-yet", "tls_mode": "verify-identity", "ca_cert": ca}
    data = pair_data("fresh", primary={**node, "port": str(fresh_nodes.primary.port)},
                     secondary={**node, "port": str(fresh_nodes.secondary.port)})
    assert admin_client.post("/pairs/new/", data).status_code == 302
    pair = Pair.objects.get(name="fresh")

    options = {"flavour": "mariadb", "tls_dir": str(fresh_nodes.pki), "primary_server_id": "11",
               "secondary_server_id": "12", "monitor_from": "127.0.0.1", "vault_schema": "vault",
               "emergency_from": "127.0.0.1", "store_monitor_password": "on"}
    assert admin_client.post(f"/pairs/{pair.pk}/setup/", options).status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(admin_client.get(f"/pairs/{pair.pk}/setup.zip").content))
    files = {name.removeprefix("hapanel-setup/"): archive.read(name).decode() for name in archive.namelist()}

    # Before anything is applied, verify names the first missing step of each node.
    missing = visible(admin_client.post(f"/pairs/{pair.pk}/verify/"))
    assert "Primary, step “Connection”: the monitor cannot connect (tls): SSL is required" in missing

    for role in ("primary", "secondary"):
        restart_with(fresh_nodes, role, files[f"{role}/01-server-options.cnf"])
        fresh_nodes.sql(role, *statements(files[f"{role}/02-accounts.sql"]))
        fresh_nodes.sql(role, *statements(files[f"{role}/03-heartbeat.sql"]))

    # Accounts and heartbeat in place, no replication yet: verify says exactly that.
    missing = visible(admin_client.post(f"/pairs/{pair.pk}/verify/"))
    for role in ("Primary", "Secondary"):
        assert f"{role}, step “4. Replication”: replication from the other node is not configured" in missing
    assert "step “1." not in missing and "step “2." not in missing and "step “3." not in missing

    for role in ("primary", "secondary"):
        fresh_nodes.sql(role, *statements(files[f"{role}/04-replication.sql"]))

    page = visible(admin_client.post(f"/pairs/{pair.pk}/verify/"))
    assert "High Availability Status: Alive / Replication Status: Alive" in page, page
    assert "The pair is set up: both statuses are Alive." in page
    pair.refresh_from_db()
    assert (pair.ha_status, pair.repl_status) == ("Alive", "Alive")
    for role in ("primary", "secondary"):
        row = fresh_nodes.replica_status(role)
        assert row["Master_SSL_Verify_Server_Cert"] == "Yes" and float(row["Slave_heartbeat_period"]) == 1.0
        assert row["Connect_Retry"] == 1 and row["Using_Gtid"] == "Slave_Pos"
    grants = fresh_nodes.sql("secondary", "SHOW GRANTS FOR 'hapanel_emergency'@'127.0.0.1'")
    assert [next(iter(g.values())).split(" TO ")[0] for g in grants][1:] == ["GRANT SELECT ON `vault`.*"]
