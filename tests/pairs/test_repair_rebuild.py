"""The rebuild's generated steps, from tables: each flavour, version, method and topology gets its own words."""

from __future__ import annotations

import subprocess

import pytest

from pairs.repair.procedure import SHELL, SOURCE, SQL, TARGET, TRANSFER
from pairs.repair.rebuild import BACKUP, CLONE, DUMP, REPL_PASSWORD, Hosts, RebuildInput, method_problem, rebuild
from pairs.setup_sql import MARIADB, MYSQL_80, MYSQL_84, Server, SetupInput


def _setup(flavour: str = MARIADB, topology: str = "one-way", tls: bool = True) -> SetupInput:
    return SetupInput(flavour=flavour, topology=topology, tls=tls,
                      primary=Server("primary", "db1.example", 3306, ("10.0.0.1",)),
                      secondary=Server("secondary", "db2.example", 3307, ("10.0.0.2",)))


def _text(procedure, key: str, host: str | None = None) -> str:
    step = procedure.step(key)
    return "".join(b.text for b in step.blocks if host is None or b.host == host)


def _all(procedure) -> str:
    return "".join(b.text for s in procedure.steps for b in s.blocks)


STEPS = [
    # (flavour, version, method, topology, the steps' keys in order)
    (MARIADB, (10, 11, 6), BACKUP, "one-way",
     ["stop-target", "copy-source", "restore", "position", "replicate", "verify"]),
    (MARIADB, (10, 11, 6), DUMP, "bidirectional",
     ["stop-target", "copy-source", "restore", "position", "replicate", "reverse", "verify"]),
    (MYSQL_80, (8, 0, 36), CLONE, "one-way", ["copy-source", "restore", "position", "replicate", "verify"]),
    (MYSQL_84, (8, 4, 2), DUMP, "bidirectional",
     ["stop-target", "copy-source", "restore", "position", "replicate", "reverse", "verify"]),
]


@pytest.mark.parametrize(("flavour", "version", "method", "topology", "keys"), STEPS)
def test_every_step_has_a_check_that_says_what_it_proves(flavour, version, method, topology, keys):
    procedure = rebuild(RebuildInput(_setup(flavour, topology), version, method=method))
    assert [s.key for s in procedure.steps] == keys
    assert procedure.steps[-1].check == "verify"
    assert all(s.check and s.proves and s.does for s in procedure.steps)
    assert procedure.title == "Rebuild the secondary from the primary"


MARIADB_TEXTS = [
    # (method, step, host, what the text holds)
    (BACKUP, "stop-target", TARGET, "systemctl stop mariadb"),
    (BACKUP, "copy-source", SOURCE, "mariabackup --backup --target-dir=/var/backups/hapanel-rebuild"),
    (BACKUP, "copy-source", SOURCE, "mariabackup --prepare --target-dir=/var/backups/hapanel-rebuild"),
    (BACKUP, "copy-source", TRANSFER, "rsync -a --delete /var/backups/hapanel-rebuild/ db2.example:"),
    (BACKUP, "restore", TARGET, "find /var/lib/mysql -mindepth 1 -delete"),
    (BACKUP, "restore", TARGET, "mariabackup --copy-back --target-dir=/var/backups/hapanel-rebuild "
                                "--datadir=/var/lib/mysql"),
    (BACKUP, "restore", TARGET, "chown -R mysql:mysql /var/lib/mysql"),
    (BACKUP, "position", TARGET, "awk '{print $3}' /var/backups/hapanel-rebuild/*_binlog_info"),
    (BACKUP, "position", TARGET, "RESET MASTER; SET GLOBAL gtid_slave_pos = '$pos'; "
                                 "SET GLOBAL gtid_binlog_state = '$state';\"\n"),
    (BACKUP, "position", TARGET, 'own=$(mariadb -N -e "SELECT @@GLOBAL.gtid_binlog_state")'),
    (BACKUP, "replicate", TARGET, "CHANGE MASTER TO MASTER_HOST='db1.example', MASTER_PORT=3306, "
                                  f"MASTER_USER='hapanel_repl', MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_SSL=1, "
                                  "MASTER_SSL_CA='/etc/mysql/tls/ca.pem', MASTER_SSL_VERIFY_SERVER_CERT=1, "
                                  "MASTER_USE_GTID=slave_pos"),
    (BACKUP, "replicate", TARGET, "START SLAVE;"),
    (DUMP, "copy-source", SOURCE, "mariadb-dump --all-databases --single-transaction --gtid --master-data=2 "
                                  "--routines --events --triggers --flush-privileges > "
                                  "/var/backups/hapanel-rebuild/hapanel-rebuild.sql"),
    (DUMP, "restore", TARGET, "mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db"),
    (DUMP, "restore", TARGET, "mariadb --init-command='SET sql_log_bin = 0' < "
                              "/var/backups/hapanel-rebuild/hapanel-rebuild.sql"),
    (DUMP, "position", TARGET, "s/^-- SET GLOBAL gtid_slave_pos='\\(.*\\)';$/\\1/p"),
]


@pytest.mark.parametrize(("method", "key", "host", "expected"), MARIADB_TEXTS)
def test_mariadb_texts(method, key, host, expected):
    assert expected in _text(rebuild(RebuildInput(_setup(), (10, 11, 6), method=method)), key, host)


MYSQL_TEXTS = [
    # (flavour, version, method, step, what the text holds, what it must not hold)
    (MYSQL_80, (8, 0, 17), CLONE, "restore", "CLONE INSTANCE FROM 'hapanel_clone'@'db1.example':3306 IDENTIFIED BY",
     "RESET MASTER"),
    (MYSQL_80, (8, 0, 17), CLONE, "restore", "SET GLOBAL clone_valid_donor_list = 'db1.example:3306'", ""),
    (MYSQL_80, (8, 0, 17), CLONE, "restore", "SET GLOBAL clone_ssl_ca = '/etc/mysql/tls/ca.pem'", ""),
    (MYSQL_80, (8, 0, 17), CLONE, "copy-source", "GRANT BACKUP_ADMIN ON *.* TO 'hapanel_clone'@'db2.example'", ""),
    (MYSQL_80, (8, 0, 17), CLONE, "replicate", "CHANGE MASTER TO MASTER_HOST='db1.example'", "SOURCE_"),
    (MYSQL_80, (8, 0, 17), CLONE, "replicate", "MASTER_AUTO_POSITION=1", "START REPLICA"),
    (MYSQL_80, (8, 0, 17), CLONE, "replicate", "DROP USER IF EXISTS 'hapanel_clone'@'db2.example'", ""),
    (MYSQL_80, (8, 0, 23), DUMP, "replicate", "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db1.example'", "MASTER_"),
    (MYSQL_80, (8, 0, 23), DUMP, "replicate", "SOURCE_AUTO_POSITION=1", ""),
    (MYSQL_80, (8, 0, 23), DUMP, "replicate", "START REPLICA;", "START SLAVE"),
    (MYSQL_80, (8, 0, 23), DUMP, "copy-source", "mysqldump --all-databases --single-transaction "
                                                "--set-gtid-purged=ON --master-data=2", "--source-data"),
    (MYSQL_80, (8, 0, 26), DUMP, "copy-source", "--set-gtid-purged=ON --source-data=2", "--master-data"),
    (MYSQL_80, (8, 0, 36), DUMP, "restore", 'mysql -e "RESET MASTER"', "RESET BINARY LOGS"),
    (MYSQL_80, (8, 0, 36), DUMP, "restore", "mysqld --initialize-insecure --user=mysql --datadir=/var/lib/mysql", ""),
    (MYSQL_84, (8, 4, 0), DUMP, "restore", 'mysql -e "RESET BINARY LOGS AND GTIDS"', "RESET MASTER"),
    (MYSQL_84, (8, 4, 0), DUMP, "replicate", "SOURCE_SSL=1, SOURCE_SSL_CA='/etc/mysql/tls/ca.pem', "
                                             "SOURCE_SSL_VERIFY_SERVER_CERT=1, SOURCE_AUTO_POSITION=1", ""),
    (MYSQL_84, (8, 4, 0), DUMP, "stop-target", "systemctl stop mysql", "mariadb"),
    (MYSQL_84, (8, 4, 0), DUMP, "position", "SELECT @@GLOBAL.gtid_executed", "gtid_slave_pos"),
]


@pytest.mark.parametrize(("flavour", "version", "method", "key", "expected", "absent"), MYSQL_TEXTS)
def test_mysql_texts(flavour, version, method, key, expected, absent):
    text = _text(rebuild(RebuildInput(_setup(flavour), version, method=method)), key)
    assert expected in text
    if absent:
        assert absent not in text


def test_bidirectional_pairs_get_the_reverse_account_from_the_setup_assistant():
    procedure = rebuild(RebuildInput(_setup(topology="bidirectional"), (10, 11, 6)))
    on_target = _text(procedure, "reverse", TARGET)
    # The rebuilt secondary is the primary's source again: the account for every name the primary connects from.
    for host in ("db1.example", "10.0.0.1"):
        assert (f"CREATE USER IF NOT EXISTS 'hapanel_repl'@'{host}' IDENTIFIED BY '{REPL_PASSWORD}' REQUIRE SSL"
                in on_target)
    assert on_target.startswith("SET sql_log_bin = 0;") and on_target.endswith("SET sql_log_bin = 1;\n")
    assert _text(procedure, "reverse", SOURCE) == (
        "STOP SLAVE;\nSET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos;\nSTART SLAVE;\n")
    mysql = rebuild(RebuildInput(_setup(MYSQL_84, "bidirectional"), (8, 4, 0), method=DUMP))
    assert _text(mysql, "reverse", SOURCE) == "START REPLICA;\n"
    assert "reverse" not in [s.key for s in rebuild(RebuildInput(_setup(), (10, 11, 6))).steps]


def test_the_other_way_round_rebuilds_the_primary_from_the_secondary():
    procedure = rebuild(RebuildInput(_setup(), (10, 11, 6), target="primary",
                                     hosts=Hosts(service="mariadb@vault", datadir="/srv/mysql")))
    assert procedure.title == "Rebuild the primary from the secondary"
    assert "systemctl stop mariadb@vault" in _text(procedure, "stop-target", TARGET)
    assert procedure.step("stop-target").blocks[0].where == "On the primary's host (db1.example), as root"
    assert "MASTER_HOST='db2.example', MASTER_PORT=3307" in _text(procedure, "replicate", TARGET)
    assert "rsync -a --delete /var/backups/hapanel-rebuild/ db1.example:" in _text(procedure, "copy-source")
    assert "--datadir=/srv/mysql" in _text(procedure, "restore")


def test_option_files_come_first_on_every_tool():
    hosts = Hosts(source_defaults="/etc/hapanel/src.cnf", target_defaults="/etc/hapanel/dst.cnf")
    backup = rebuild(RebuildInput(_setup(), (10, 11, 6), hosts=hosts))
    assert "mariabackup --defaults-file=/etc/hapanel/src.cnf --backup" in _text(backup, "copy-source")
    assert "mariabackup --defaults-file=/etc/hapanel/dst.cnf --copy-back" in _text(backup, "restore")
    assert 'mariadb --defaults-file=/etc/hapanel/dst.cnf -e "RESET MASTER' in _text(backup, "position")
    dump = rebuild(RebuildInput(_setup(), (10, 11, 6), method=DUMP, hosts=hosts))
    assert "mariadb-dump --defaults-file=/etc/hapanel/src.cnf --all-databases" in _text(dump, "copy-source")
    assert "mariadb-install-db --defaults-file=/etc/hapanel/dst.cnf --user=mysql" in _text(dump, "restore")


def test_older_mariadb_tools_keep_their_mysql_names():
    dump = rebuild(RebuildInput(_setup(), (10, 4, 30), method=DUMP))
    assert "mysqldump --all-databases" in _text(dump, "copy-source")
    assert "mysql_install_db --user=mysql" in _text(dump, "restore")


@pytest.mark.parametrize("method", [BACKUP, DUMP])
def test_a_bidirectional_pair_s_node_starts_read_only_until_its_history_is_set(method):
    """The monitor writes its heartbeat on both nodes of a bidirectional pair: not on the copy before its GTID
    history is set."""
    procedure = rebuild(RebuildInput(_setup(topology="bidirectional"), (10, 11, 6), method=method))
    restore = _text(procedure, "restore")
    assert ('systemctl set-environment MYSQLD_OPTS="--read-only"\nsystemctl start mariadb\n'
            "systemctl unset-environment MYSQLD_OPTS\n") in restore
    assert _text(procedure, "position").rstrip().endswith("SET GLOBAL read_only = OFF;\"")
    one_way = rebuild(RebuildInput(_setup(), (10, 11, 6), method=method))
    assert "read-only" not in _text(one_way, "restore") and "read_only" not in _text(one_way, "position")
    mysql = rebuild(RebuildInput(_setup(MYSQL_84, "bidirectional"), (8, 4, 0), method=DUMP))
    assert "MYSQLD_OPTS" not in _text(mysql, "restore")


def test_a_pair_without_tls_is_told_so_and_gets_no_ssl_options():
    procedure = rebuild(RebuildInput(_setup(tls=False), (10, 11, 6)))
    assert "MASTER_SSL" not in _text(procedure, "replicate")
    assert "no TLS" in procedure.step("replicate").does


@pytest.mark.parametrize(("flavour", "version", "method", "problem"), [
    (MYSQL_80, (8, 0, 36), BACKUP, "mariabackup copies MariaDB only: use the clone plugin or mysqldump for MySQL"),
    (MYSQL_80, (8, 0, 16), CLONE, "the clone plugin needs MySQL 8.0.17 or later"),
    (MARIADB, (10, 11, 6), CLONE, "the clone plugin needs MySQL 8.0.17 or later"),
    (MARIADB, (10, 11, 6), "rsync", "unknown method 'rsync'"),
    (MYSQL_80, (8, 0, 17), CLONE, ""),
    (MARIADB, (10, 11, 6), DUMP, ""),
])
def test_methods_each_server_allows(flavour, version, method, problem):
    assert method_problem(flavour, version, method) == problem
    if problem:
        with pytest.raises(ValueError, match=problem):
            RebuildInput(_setup(flavour), version, method=method)


@pytest.mark.parametrize("bad", ["relative/dir", "/with space", "/it's", "/", "/a;rm -rf /", "$HOME"])
def test_host_paths_that_would_break_the_commands_are_refused(bad):
    with pytest.raises(ValueError, match="datadir must be an absolute path"):
        Hosts(datadir=bad)


@pytest.mark.parametrize(("flavour", "version", "method", "topology"), [s[:4] for s in STEPS])
def test_every_shell_block_parses_and_every_sql_statement_ends(flavour, version, method, topology):
    """bash -n reads each generated shell block as a shell would; SQL lines end with a semicolon."""
    procedure = rebuild(RebuildInput(_setup(flavour, topology), version, method=method))
    for step in procedure.steps:
        for block in step.blocks:
            if block.kind == SHELL:
                out = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True)
                assert out.returncode == 0, (step.key, block.text, out.stderr)
            else:
                assert block.kind == SQL
                assert all(line.endswith(";") for line in block.lines), (step.key, block.text)
    assert "mariabackup" not in _all(procedure) or flavour == MARIADB
