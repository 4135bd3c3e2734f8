"""Emergency access on a pair set up from the setup assistant's output alone: two bare MariaDB nodes, the
generated blocks applied as an admin would, `manage.py vault` with the generated vault admin account, then
the primary crashes, a user reads a secret from the secondary, and the audit reaches the primary once."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.test import Client

from emergency import connect
from emergency.models import OutboxEvent
from emergency.outbox import drain, outbox_backlog
from monitor import poller as monitor
from tests.assistant_steps import generated, grants_of, restart_with, shown_passwords, statements
from tests.emergency_steps import account_id, log_in, urls, vault
from tests.services import wait_for


def test_a_pair_set_up_from_the_assistant_alone_serves_and_audits_emergency_access(admin_client, fresh_nodes):
    nodes = fresh_nodes
    pair, files = generated(admin_client, nodes, "assisted", primary_server_id="21", secondary_server_id="22",
                            vault_admin="on")
    passwords = shown_passwords(files["README.txt"])
    for role in ("primary", "secondary"):
        restart_with(nodes, role, files[f"{role}/01-server-options.cnf"])
        for step in ("02-accounts", "03-heartbeat"):
            nodes.sql(role, *statements(files[f"{role}/{step}.sql"]))
    for role in ("primary", "secondary"):
        nodes.sql(role, *statements(files[f"{role}/04-replication.sql"]))

    port = nodes.primary.port
    env = {"HAPANEL_VAULT_ADMIN_DSN": f"mysql://hapanel_vault_admin:{passwords['hapanel_vault_admin']}"
                                      f"@127.0.0.1:{port}",
           "HAPANEL_VAULT_READER_PASSWORD": passwords["hapanel_emergency"],
           "HAPANEL_VAULT_WRITER_PASSWORD": passwords["hapanel_audit"]}

    # Step 5 not applied yet: the admin creates the schema, but the audit writer has no grant on it.
    with pytest.raises(CommandError) as refused:
        vault("--pair", "assisted", "init", **env)
    lines = str(refused.value).splitlines()[1:]
    assert lines == [f"{role}: hapanel_audit may not INSERT into vault.audit: apply step “5. Vault schema” "
                     f"of the setup assistant on the {role}" for role in ("primary", "secondary")]

    # Step 5 on the primary, and no writer account on the secondary: named, with the step that creates it.
    nodes.sql("primary", *statements(files["primary/05-vault.sql"]))
    nodes.sql("secondary", "SET sql_log_bin = 0", "DROP USER 'hapanel_audit'@'127.0.0.1'")
    with pytest.raises(CommandError) as refused:
        vault("--pair", "assisted", "init", **env)
    lines = str(refused.value).splitlines()[1:]
    assert len(lines) == 1 and lines[0].startswith("secondary: hapanel_audit cannot log in (auth): Access denied")
    assert lines[0].endswith("apply step “2. Accounts” of the setup assistant on the secondary")
    assert passwords["hapanel_audit"] not in str(refused.value)

    for step in ("02-accounts", "05-vault"):
        nodes.sql("secondary", *statements(files[f"secondary/{step}.sql"]))
    assert "ready, checked on both nodes" in vault("--pair", "assisted", "init", **env)
    for role in ("primary", "secondary"):
        assert grants_of(nodes, role, "'hapanel_emergency'@'127.0.0.1'") == ["GRANT SELECT ON `vault`.*"]

    vault("--pair", "assisted", "useradd", "erin", "--password-env", "PW", PW="erin-pw-7", **env)
    vault("--pair", "assisted", "secret-add", "switch-core", "admin", "--secret-env", "SECRET",
          SECRET="core-secret-9f3", **env)
    vault("--pair", "assisted", "grant", "erin", "switch-core", **env)
    wait_for(lambda: nodes.sql("secondary", "SELECT COUNT(*) AS n FROM vault.grants")[0]["n"] == 1, 10,
             "the vault to replicate to the secondary")

    nodes.fault("crash-primary")
    connect.forget_reach()

    def primary_down() -> bool:
        monitor.poll(pair)
        pair.refresh_from_db()
        return (pair.ha_status, pair.ha_cause) == ("Failed", "primary-down")

    try:
        wait_for(primary_down, 30, "a real poll to find the primary down")
    finally:
        monitor.forget(pair.pk)

    user, u = Client(), urls(pair)
    assert log_in(user, pair, "erin", "erin-pw-7").status_code == 302
    found = user.get(u["home"], {"q": "switch"}).content.decode()
    shown = user.post(u["reveal"].format(account_id(found, "switch-core", "admin")))
    assert shown.status_code == 200 and "core-secret-9f3" in shown.content.decode()
    assert user.post(u["logout"]).status_code == 302
    assert drain(pair) == 0 and outbox_backlog(pair)[0] == 3  # the primary is down: the events wait

    nodes.start_node("primary")
    assert drain(pair) == 3 and drain(pair) == 0
    ids = [str(i) for i in OutboxEvent.objects.filter(pair=pair).order_by("id").values_list("event_id", flat=True)]
    marks = ", ".join(f"'{i}'" for i in ids)
    rows = nodes.sql("primary", f"SELECT event_id, operation, username, resource, account FROM vault.audit "
                                f"WHERE event_id IN ({marks}) ORDER BY at")
    assert [(r["operation"], r["username"]) for r in rows] == [
        ("login", "erin"), ("password-retrieval", "erin"), ("logout", "erin")]
    assert [r["event_id"] for r in rows] == ids and (rows[1]["resource"], rows[1]["account"]) == (
        "switch-core", "admin")
