"""The setup assistant end to end: its output, applied to two fresh MariaDB nodes, gives Alive/Alive."""

from __future__ import annotations

import html
import re

from monitor.models import Node
from tests.assistant_steps import generated, grants_of, restart_with, shown_passwords, statements
from tests.services import wait_for


def visible(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_generated_setup_gives_alive_alive(admin_client, fresh_nodes):
    pair, files = generated(admin_client, fresh_nodes, "fresh", typed=False, primary_server_id="11",
                            secondary_server_id="12")
    new_password = shown_passwords(files["README.txt"])["hapanel_monitor"]

    def stored() -> set[str]:
        return {node.get_password() for node in Node.objects.filter(pair=pair)}

    # Before anything is applied, verify names the first missing step of each node, and the new monitor
    # password cannot be stored: it does not work yet.
    missing = visible(admin_client.post(f"/pairs/{pair.pk}/verify/"))
    assert "Primary, step “Connection”: the monitor cannot connect (tls): SSL is required" in missing
    assert "The panel keeps monitoring with its password" in missing and "Store the new monitor" not in missing
    refused = visible(admin_client.post(f"/pairs/{pair.pk}/store-password/", follow=True))
    assert "The new monitor password was not stored: on the primary, it does not log in (tls)" in refused
    assert stored() == {"not-yet"}

    for role in ("primary", "secondary"):
        restart_with(fresh_nodes, role, files[f"{role}/01-server-options.cnf"])
        fresh_nodes.sql(role, *statements(files[f"{role}/02-accounts.sql"]))
        fresh_nodes.sql(role, *statements(files[f"{role}/03-heartbeat.sql"]))

    # The accounts exist: the panel's own password is refused, the new one logs in; storing it is the admin's step.
    page = visible(admin_client.post(f"/pairs/{pair.pk}/verify/"))
    assert "Primary, step “Connection”: the monitor cannot connect (auth)" in page
    assert "The monitor password of the setup generated here logs in on both nodes" in page
    assert stored() == {"not-yet"}
    done = visible(admin_client.post(f"/pairs/{pair.pk}/store-password/", follow=True))
    assert "The new monitor password is stored" in done and stored() == {new_password}

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
    assert "Check emergency accounts on the pair page proves the reader and the audit writer" in page  # what next
    pair.refresh_from_db()
    assert (pair.ha_status, pair.repl_status) == ("Alive", "Alive")
    for role in ("primary", "secondary"):
        row = fresh_nodes.replica_status(role)
        assert row["Master_SSL_Verify_Server_Cert"] == "Yes" and float(row["Slave_heartbeat_period"]) == 1.0
        assert row["Connect_Retry"] == 1 and row["Using_Gtid"] == "Slave_Pos"

    # Step 5: the vault schema from the primary, replicated; then the audit writer's grant on each node.
    fresh_nodes.sql("primary", *statements(files["primary/05-vault.sql"]))
    wait_for(lambda: fresh_nodes.sql("secondary", "SHOW TABLES IN vault LIKE 'audit'"), 10,
             "the vault schema to replicate")
    fresh_nodes.sql("secondary", *statements(files["secondary/05-vault.sql"]))
    for role in ("primary", "secondary"):
        assert grants_of(fresh_nodes, role, "'hapanel_emergency'@'127.0.0.1'") == ["GRANT SELECT ON `vault`.*"]
        assert grants_of(fresh_nodes, role, "'hapanel_audit'@'127.0.0.1'") == ["GRANT INSERT ON `vault`.`audit`"]
