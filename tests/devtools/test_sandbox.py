"""The sandbox pair is real: both directions replicate over verified TLS, and every drill works."""

from __future__ import annotations

import random

import pytest

from devtools.sandbox import FAULTS, SandboxPair
from tests.services import wait_for


def _threads(sandbox: SandboxPair, role: str) -> dict:
    return sandbox.replica_status(role)


def test_both_directions_replicate_over_verified_tls(sandbox: SandboxPair):
    for role, source in (("primary", sandbox.secondary), ("secondary", sandbox.primary)):
        row = _threads(sandbox, role)
        assert (row["Slave_IO_Running"], row["Slave_SQL_Running"]) == ("Yes", "Yes"), row
        assert row["Master_SSL_Allowed"] == "Yes" and row["Master_SSL_Verify_Server_Cert"] == "Yes"
        assert (row["Master_Host"], row["Master_Port"]) == (source.repl_ip, source.port)
        assert row["Using_Gtid"] == "Slave_Pos"
    # The replication account accepts nothing but TLS, so a running IO thread proves TLS is in use.
    grants = sandbox.sql("primary", "SHOW CREATE USER 'hapanel_repl'@'127.%'")
    assert "REQUIRE SSL" in next(iter(grants[0].values()))
    ciphers = sandbox.sql("primary", "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'")
    assert int(ciphers[0]["Value"]) >= 1


def test_a_row_written_on_each_node_arrives_on_the_other(sandbox: SandboxPair):
    for writer, reader in (("primary", "secondary"), ("secondary", "primary")):
        key = random.randint(1, 9_999_999)
        sandbox.sql(writer, f"INSERT INTO hapanel_sandbox.drill VALUES ({key}, 'written on {writer}', '{writer}')")
        rows = wait_for(
            lambda r=reader, k=key: sandbox.sql(r, f"SELECT note FROM hapanel_sandbox.drill WHERE id = {k}"),
            10, f"row {key} written on the {writer} to reach the {reader}",
        )
        assert rows[0]["note"] == f"written on {writer}"


def test_monitor_account_has_least_privilege(sandbox: SandboxPair):
    grants = [next(iter(r.values())) for r in sandbox.sql("primary", "SHOW GRANTS FOR 'hapanel_monitor'@'127.%'")]
    assert any("SLAVE MONITOR" in g for g in grants), grants
    assert any("`hapanel_monitor`.*" in g for g in grants), grants
    assert not any("ALL PRIVILEGES" in g or "SUPER" in g for g in grants), grants


def test_sandbox_up_again_reports_the_running_pair(sandbox: SandboxPair):
    again = SandboxPair(sandbox.folder, sandbox.primary.port)
    assert again.up().startswith("sandbox pair already running")
    assert again.pid("primary") == sandbox.pid("primary")


def _secondary_is(sandbox: SandboxPair, io: str | None = None, sql: str | None = None, errno: int | None = None):
    def check():
        row = _threads(sandbox, "secondary")
        return (
            (io is None or row["Slave_IO_Running"] == io)
            and (sql is None or row["Slave_SQL_Running"] == sql)
            and (errno is None or row["Last_SQL_Errno"] == errno)
        )
    return check


EFFECTS = {
    # fault: (what SHOW SLAVE STATUS on the secondary shows, how long it may take)
    "crash-primary": ({"io": "Connecting", "sql": "Yes"}, 5),
    "stop-primary": ({"io": "Connecting", "sql": "Yes"}, 5),
    "hang-primary": ({"io": "Connecting"}, 15),  # after slave_net_timeout (3 s)
    "cut-link": ({"io": "Connecting"}, 15),
    "break-replication": ({"io": "Yes", "sql": "No", "errno": 1062}, 10),
    "stop-io": ({"io": "No", "sql": "Yes"}, 5),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_fault_shows_in_slave_status_and_heals(healthy: SandboxPair, fault: str):
    expect, timeout = EFFECTS[fault]
    message = healthy.fault(fault)
    assert message
    wait_for(_secondary_is(healthy, **expect), timeout, f"{fault} to show {expect} on the secondary")
    healed = healthy.heal()
    assert "replicate again" in healed
    for role in ("primary", "secondary"):
        row = _threads(healthy, role)
        assert (row["Slave_IO_Running"], row["Slave_SQL_Running"]) == ("Yes", "Yes"), (role, row)
    assert healthy.faults == []


def test_cut_link_one_direction_leaves_the_other_flowing(healthy: SandboxPair):
    healthy.fault("cut-link", direction="to-secondary")
    key = random.randint(10_000_000, 19_999_999)
    healthy.sql("secondary", f"INSERT INTO hapanel_sandbox.drill VALUES ({key}, 'up', 'secondary')")
    wait_for(lambda: healthy.sql("primary", f"SELECT 1 FROM hapanel_sandbox.drill WHERE id = {key}"),
             10, "secondary → primary to keep flowing while primary → secondary is cut")
    key2 = key + 1
    healthy.sql("primary", f"INSERT INTO hapanel_sandbox.drill VALUES ({key2}, 'held', 'primary')")
    wait_for(_secondary_is(healthy, io="Connecting"), 15, "the secondary's IO thread to notice the cut")
    assert healthy.sql("secondary", f"SELECT 1 FROM hapanel_sandbox.drill WHERE id = {key2}") == []
    healthy.heal()
    wait_for(lambda: healthy.sql("secondary", f"SELECT 1 FROM hapanel_sandbox.drill WHERE id = {key2}"),
             10, "the held row to arrive after the heal")
