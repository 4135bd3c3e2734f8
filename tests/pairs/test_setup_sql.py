"""The pure parts of pairs: the setup generator, the SHOW GRANTS reader, PEM checks, host rules."""

from __future__ import annotations

import io
import zipfile

import pytest

from monitor import server_sql
from pairs import grants, pem, setup_sql
from pairs.setup_sql import MARIADB, MYSQL_80, MYSQL_84, Passwords, Server, SetupInput, plan
from pairs.validators import host_problem, normalise_known_as
from tests.factories import cert_and_key

PASSWORDS = Passwords("repl-pw", "mon-pw", "emerg-pw", "audit-pw", "admin-pw")


def setup(flavour: str = MARIADB, topology: str = "bidirectional", **extra) -> SetupInput:
    return SetupInput(flavour, topology, Server("primary", "db1", 3306, ("db1.example.com", "10.0.0.1"), 1),
                      Server("secondary", "db2", 3307, ("10.0.0.2",), 2), **extra)


def node(flavour=MARIADB, topology="bidirectional", role="primary", **extra):
    return next(n for n in plan(setup(flavour, topology, **extra), PASSWORDS).nodes if n.role == role)


def test_mariadb_server_options():
    options = node().options.splitlines()
    assert options[0] == "[mariadbd]"
    for line in ["server_id = 1", "log_bin = mysql-bin", "binlog_format = ROW", "gtid_domain_id = 1",
                 "gtid_strict_mode = ON", "log_slave_updates = ON", "slave_net_timeout = 3",
                 "ssl_ca = /etc/mysql/tls/ca.pem", "ssl_cert = /etc/mysql/tls/server-cert.pem",
                 "ssl_key = /etc/mysql/tls/server-key.pem", "auto_increment_increment = 2",
                 "auto_increment_offset = 1"]:
        assert line in options
    assert "auto_increment_offset = 2" in node(role="secondary").options


@pytest.mark.parametrize("flavour", [MYSQL_80, MYSQL_84])
def test_mysql_server_options(flavour):
    options = node(flavour).options.splitlines()
    assert options[0] == "[mysqld]"
    for line in ["gtid_mode = ON", "enforce_gtid_consistency = ON", "log_replica_updates = ON",
                 "replica_net_timeout = 3", "binlog_format = ROW"]:
        assert line in options
    assert not any(line.startswith(("slave_net_timeout", "gtid_strict_mode")) for line in options)


def test_one_way_pair_has_no_auto_increment_and_a_read_only_secondary():
    assert "auto_increment" not in node(topology="one-way").options
    assert "read_only = ON" in node(topology="one-way", role="secondary").options


def test_mariadb_replication_statements():
    stmts = node(role="secondary").replication
    assert stmts == [
        "CHANGE MASTER TO MASTER_HOST='db1', MASTER_PORT=3306, MASTER_USER='hapanel_repl', "
        "MASTER_PASSWORD='repl-pw', MASTER_SSL=1, MASTER_SSL_CA='/etc/mysql/tls/ca.pem', "
        "MASTER_SSL_VERIFY_SERVER_CERT=1, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, "
        "MASTER_HEARTBEAT_PERIOD=1",
        "START SLAVE",
    ]
    assert "MASTER_HOST='db2', MASTER_PORT=3307" in node(role="primary").replication[0]


@pytest.mark.parametrize("flavour", [MYSQL_80, MYSQL_84])
def test_mysql_replication_statements(flavour):
    change, start = node(flavour, role="secondary").replication
    assert change.startswith("CHANGE REPLICATION SOURCE TO SOURCE_HOST='db1', SOURCE_PORT=3306")
    for option in ["SOURCE_SSL=1", "SOURCE_SSL_VERIFY_SERVER_CERT=1", "SOURCE_AUTO_POSITION=1",
                   "SOURCE_CONNECT_RETRY=1", "SOURCE_HEARTBEAT_PERIOD=1"]:
        assert option in change
    assert "MASTER" not in change and start == "START REPLICA"


def test_one_way_pair_replicates_one_direction_only():
    assert node(topology="one-way", role="primary").replication == []
    assert node(topology="one-way", role="secondary").replication


def test_accounts_are_least_privilege():
    primary, secondary = node(role="primary").accounts, node(role="secondary").accounts
    assert primary[0] == "SET sql_log_bin = 0" and primary[-1] == "SET sql_log_bin = 1"
    # The replication account on the primary is for the secondary's addresses only.
    assert "GRANT REPLICATION SLAVE ON *.* TO 'hapanel_repl'@'db2'" in primary
    assert "GRANT REPLICATION SLAVE ON *.* TO 'hapanel_repl'@'10.0.0.2'" in primary
    assert not any("'hapanel_repl'@'db1" in s for s in primary)
    assert "GRANT SLAVE MONITOR ON *.* TO 'hapanel_monitor'@'%'" in primary
    assert "GRANT SELECT, INSERT, UPDATE ON `hapanel_monitor`.* TO 'hapanel_monitor'@'%'" in primary
    # Emergency access on both nodes, so that roles can swap: the reader SELECTs the vault; the audit
    # writer is created here and granted in step 5, once its table exists.
    for stmts in (primary, secondary):
        assert "GRANT SELECT ON `vault`.* TO 'hapanel_emergency'@'%'" in stmts
        assert "CREATE USER IF NOT EXISTS 'hapanel_audit'@'%' IDENTIFIED BY 'audit-pw' REQUIRE SSL" in stmts
        assert not any("GRANT" in s and "hapanel_audit" in s for s in stmts)
    assert not any("hapanel_vault_admin" in s for s in primary + secondary)  # only when asked for
    assert all("REQUIRE SSL" in s for s in primary + secondary if s.startswith("CREATE USER"))
    assert "GRANT REPLICATION CLIENT ON *.* TO 'hapanel_monitor'@'%'" in node(MYSQL_84).accounts


def test_one_way_secondary_has_no_replication_account():
    assert not any("hapanel_repl" in s for s in node(topology="one-way", role="secondary").accounts)


@pytest.mark.parametrize("flavour", [MARIADB, MYSQL_80, MYSQL_84])
def test_a_pair_that_replicates_already_keeps_its_replication(flavour):
    generated = plan(setup(flavour, replicating=True), PASSWORDS)
    for n in generated.nodes:
        # No second replication account to shadow the running one, no CHANGE MASTER, no START: the link is
        # left as it runs; the monitor, the heartbeat and emergency access are made as for a new pair.
        assert not any("hapanel_repl" in s for s in n.accounts), n.accounts
        assert n.replication == [] and not n.step("replication")
        assert any("hapanel_monitor" in s for s in n.accounts) and n.heartbeat and n.vault
    files = generated.files()
    assert not any(name.endswith("04-replication.sql") for name in files)
    assert "repl-pw" not in files["README.txt"]
    assert "replicates already" in files["README.txt"]


def test_heartbeat_ddl_and_grants_are_the_monitors_own():
    """One source for the assistant, the sandbox and the docker example: monitor/server_sql.py."""
    plan_node = node()
    assert plan_node.heartbeat[1:3] == server_sql.heartbeat_ddl("hapanel_monitor")
    assert plan_node.heartbeat[1] == "CREATE DATABASE IF NOT EXISTS `hapanel_monitor`"
    grants_ = server_sql.monitor_grants("'hapanel_monitor'@'%'", "hapanel_monitor", mysql=False)
    assert all(g in plan_node.accounts for g in grants_), plan_node.accounts


def test_tls_off_drops_ssl_and_warns():
    result = plan(setup(tls=False), PASSWORDS)
    assert "ssl_ca" not in result.nodes[0].options and "MASTER_SSL" not in result.nodes[1].replication[0]
    assert result.notes[0].startswith("TLS is off")


def test_quotes_are_escaped_and_identifiers_checked():
    text = plan(setup(), Passwords("it's", "a\\b", "c", "d", "e")).nodes[0]
    assert "IDENTIFIED BY 'it''s'" in text.accounts[1]
    assert any("IDENTIFIED BY 'a\\\\b'" in statement for statement in text.accounts)
    with pytest.raises(ValueError):
        setup(vault_schema="x`; DROP")
    with pytest.raises(ValueError):
        setup("oracle")


def test_generated_passwords_are_long_and_distinct():
    a, b = Passwords.generate(), Passwords.generate()
    assert len({a.replication, a.monitor, a.emergency, a.audit, a.vault_admin, b.monitor}) == 6
    assert len(a.monitor) >= 32


def test_zip_holds_every_step_and_the_readme():
    archive = zipfile.ZipFile(io.BytesIO(plan(setup(topology="one-way"), PASSWORDS).zip_bytes()))
    assert sorted(archive.namelist()) == [
        "hapanel-setup/README.txt", "hapanel-setup/primary/01-server-options.cnf",
        "hapanel-setup/primary/02-accounts.sql", "hapanel-setup/primary/03-heartbeat.sql",
        "hapanel-setup/primary/05-vault.sql", "hapanel-setup/secondary/01-server-options.cnf",
        "hapanel-setup/secondary/02-accounts.sql",
        "hapanel-setup/secondary/03-heartbeat.sql", "hapanel-setup/secondary/04-replication.sql",
        "hapanel-setup/secondary/05-vault.sql"]
    readme = archive.read("hapanel-setup/README.txt").decode()
    assert "hapanel_monitor: mon-pw" in readme and "hapanel_audit: audit-pw" in readme
    assert "admin-pw" not in readme  # no vault admin asked for, none created
    assert archive.read("hapanel-setup/primary/02-accounts.sql").decode().startswith(
        "-- primary (db1:3306): run on this node; not replicated (sql_log_bin = 0)")
    assert archive.read("hapanel-setup/primary/05-vault.sql").decode().startswith(
        "-- primary (db1:3306): run on the primary once step 4 runs on both nodes, then on the secondary")
    assert setup_sql.STEPS[0] == ("server-options", "1. Server options")


@pytest.mark.parametrize("flavour", [MARIADB, MYSQL_80, MYSQL_84])
def test_vault_schema_replicates_from_the_primary_and_the_audit_writers_grant_does_not(flavour):
    from monitor.vault_sql import tables

    stmts = node(flavour).vault
    # The schema replicates (the secondary holds the same vault); the grant is each node's own, so that it
    # can never stop replication on a node lacking the account.
    grant = ["SET sql_log_bin = 0", "GRANT INSERT ON `vault`.`audit` TO 'hapanel_audit'@'%'", "SET sql_log_bin = 1"]
    assert stmts == ["SET sql_log_bin = 1", *tables("vault"), *grant]
    # INSERT alone: the drain's INSERT IGNORE skips a duplicate event id by the primary key, reading nothing.
    assert node(flavour, role="secondary").vault == grant
    assert node(flavour, vault_schema="pw_vault").vault[-2].startswith("GRANT INSERT ON `pw_vault`.`audit`")


@pytest.mark.parametrize("flavour", [MARIADB, MYSQL_80, MYSQL_84])
def test_vault_admin_is_optional_and_on_the_primary_only(flavour):
    primary = node(flavour, vault_admin=True, monitor_from="10.0.0.9").accounts
    assert "CREATE USER IF NOT EXISTS 'hapanel_vault_admin'@'10.0.0.9' IDENTIFIED BY 'admin-pw' REQUIRE SSL" in primary
    assert ("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON `vault`.* "
            "TO 'hapanel_vault_admin'@'10.0.0.9'") in primary
    assert primary[0] == "SET sql_log_bin = 0" and primary[-1] == "SET sql_log_bin = 1"
    assert not any("hapanel_vault_admin" in s for s in node(flavour, vault_admin=True, role="secondary").accounts)
    result = plan(setup(flavour, vault_admin=True), PASSWORDS)
    assert "hapanel_vault_admin: admin-pw" in result.readme()
    assert any("HAPANEL_VAULT_ADMIN_DSN=mysql://hapanel_vault_admin:<its password>@db1:3306" in n
               for n in result.notes)


# ---- SHOW GRANTS --------------------------------------------------------------------------------------------

MARIA_OK = ["GRANT SLAVE MONITOR ON *.* TO `hapanel_monitor`@`127.%` IDENTIFIED BY PASSWORD '*AB'",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON `hapanel_monitor`.* TO `hapanel_monitor`@`127.%`"]


@pytest.mark.parametrize("lines, flavour, version, expected", [
    (MARIA_OK, "mariadb", (10, 11, 6), []),
    (MARIA_OK[1:], "mariadb", (10, 11, 6), ["SLAVE MONITOR"]),
    (["GRANT REPLICATION CLIENT ON *.* TO `m`@`%`", MARIA_OK[1]], "mariadb", (10, 11, 6), ["SLAVE MONITOR"]),
    (["GRANT REPLICATION CLIENT ON *.* TO `m`@`%`", MARIA_OK[1]], "mariadb", (10, 4, 30), []),
    (["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"], "mariadb", (10, 11, 6), []),
    (["GRANT USAGE ON *.* TO `m`@`%`", "GRANT SELECT ON `hapanel\\_monitor`.`heartbeat` TO `m`@`%`"],
     "mysql", (8, 4, 0), ["REPLICATION CLIENT", "INSERT on hapanel_monitor.heartbeat",
                          "UPDATE on hapanel_monitor.heartbeat"]),
    (["GRANT REPLICATION CLIENT ON *.* TO `m`@`%`", "GRANT SELECT, INSERT, UPDATE ON `hapanel%`.* TO `m`@`%`"],
     "mysql", (8, 0, 36), []),
    (["GRANT REPLICATION CLIENT ON *.* TO `m`@`%`", "GRANT SELECT (ts), INSERT, UPDATE (ts, origin) ON "
      "`hapanel_monitor`.`heartbeat` TO `m`@`%`", "GRANT `monitor_role`@`%` TO `m`@`%`"], "mysql", (8, 0, 36), []),
    (["GRANT SELECT, INSERT, UPDATE ON `other`.* TO `m`@`%`", "garbage"], "mysql", (8, 0, 36),
     ["REPLICATION CLIENT", "SELECT on hapanel_monitor.heartbeat", "INSERT on hapanel_monitor.heartbeat",
      "UPDATE on hapanel_monitor.heartbeat"]),
])
def test_missing_privileges_by_name(lines, flavour, version, expected):
    assert grants.missing(lines, flavour, version) == expected


@pytest.mark.parametrize("lines, flavour, version, expected", [
    (MARIA_OK, "mariadb", (10, 11, 6), ["BINLOG MONITOR"]),  # the statuses work; the binlog horizon cannot
    ([MARIA_OK[0], "GRANT BINLOG MONITOR ON *.* TO `hapanel_monitor`@`127.%`"], "mariadb", (10, 11, 6), []),
    (["GRANT BINLOG MONITOR, SLAVE MONITOR ON *.* TO `m`@`%`"], "mariadb", (10, 6, 12), []),
    (["GRANT REPLICATION CLIENT ON *.* TO `m`@`%`"], "mariadb", (10, 4, 30), []),
    (["GRANT SLAVE MONITOR ON *.* TO `m`@`%`"], "mariadb", (10, 5, 1), ["REPLICATION CLIENT"]),
    (["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost`"], "mariadb", (10, 11, 6), []),
    (["GRANT USAGE ON *.* TO `m`@`%`"], "mysql", (8, 4, 0), []),  # REPLICATION CLIENT covers it, asked above
])
def test_privileges_the_warnings_need_are_reported_apart(lines, flavour, version, expected):
    assert grants.missing_for_warnings(lines, flavour, version) == expected


# ---- PEM and host names ---------------------------------------------------------------------------------------

def test_pem_checks():
    cert, key = cert_and_key("node", days=100)
    infos, warnings = pem.check_certificates(cert)
    assert infos[0].subject == "CN=node" and warnings == []
    assert pem.check_certificates(cert_and_key(days=5)[0])[1][0].startswith("This certificate expires in 4 days")
    pem.check_key_matches(cert, key)
    with pytest.raises(pem.PemError, match="does not belong"):
        pem.check_key_matches(cert, cert_and_key()[1])
    with pytest.raises(pem.PemError, match="expired on"):
        pem.check_certificates(cert_and_key(days=-1)[0])
    assert pem.summary("junk") == "(unparseable PEM)" and pem.summary("") == ""


@pytest.mark.parametrize("host, ok", [("db1", True), ("a-b.c", True), ("1.2.3.4", True), ("::1", True),
                                      ("a" * 63, True), ("a" * 64, False), ("a_b", False), ("a-", False),
                                      ("1.2.3.999", False), (".a", False), ("a" * 250 + ".com", False)])
def test_host_rules(host, ok):
    assert (host_problem(host) == "") is ok


def test_known_as_normalised():
    assert normalise_known_as("db1, db2 ,,db1") == ("db1,db2", [])
    assert normalise_known_as("db 1")[1] == ["“db 1”: A host name cannot contain spaces."]
