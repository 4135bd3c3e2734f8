"""What each sandbox node is: its my.cnf, its accounts and schemas, and where it replicates from.

Plain text and statements built from a node's spec; `pair.py` writes them, starts the servers and runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor import server_sql

MONITOR_USER = "hapanel_monitor"
REPL_USER = "hapanel_repl"
HEARTBEAT_SCHEMA = "hapanel_monitor"
DRILL_SCHEMA = "hapanel_sandbox"
EMERGENCY_USER = "hapanel_emergency"  # emergency access: SELECT on the vault schema, nothing else
VAULT_SCHEMA = "vault"


@dataclass(frozen=True)
class NodeSpec:
    role: str
    server_id: int
    port: int
    repl_ip: str  # the address replication (and only replication) uses
    folder: Path
    monitor_ip: str = "127.0.0.1"  # the address the panel reaches the node at

    @property
    def cnf(self) -> Path:
        return self.folder / "my.cnf"

    @property
    def socket(self) -> Path:
        return self.folder / "mysqld.sock"

    @property
    def error_log(self) -> Path:
        return self.folder / "error.log"


@dataclass(frozen=True)
class ServerOptions:
    """What the pair's mode says about every node's configuration."""

    user: str | None  # the system user mariadbd drops to, None when it runs as the caller
    hosts: bool  # network lab: one address per node, in its own namespace
    replicate: bool
    tuned: bool  # the fast-detection settings hapanel recommends, or the server defaults
    pki: Path


def cnf(spec: NodeSpec, opts: ServerOptions) -> str:
    lines = [
        "[mariadbd]",
        f"user = {opts.user}" if opts.user else "",
        f"datadir = {spec.folder / 'data'}",
        f"socket = {spec.socket}",
        f"pid-file = {spec.folder / 'mysqld.pid'}",
        f"log-error = {spec.error_log}",
        f"tmpdir = {spec.folder / 'tmp'}",  # own tmpdir: two bootstraps at once collide in /tmp
        f"port = {spec.port}",
        f"bind-address = {spec.monitor_ip if opts.hosts else '127.0.0.1,' + spec.repl_ip}",
        "skip-name-resolve",
        *_replication_options(spec, opts),
        "innodb_buffer_pool_size = 32M",
        "innodb_log_file_size = 16M",
        "performance_schema = OFF",
        "max_connections = 1200",  # the scale benchmark points hundreds of pairs at one node
        "thread_cache_size = 200",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def _replication_options(spec: NodeSpec, opts: ServerOptions) -> list[str]:
    if not opts.replicate:
        return []
    net_timeout = 3 if opts.tuned else 60
    return [
        f"server_id = {spec.server_id}",
        f"gtid_domain_id = {spec.server_id}",
        "log_bin = mysql-bin",
        "binlog_format = ROW",
        "log_slave_updates = ON",
        "gtid_strict_mode = ON",
        "auto_increment_increment = 2",
        f"auto_increment_offset = {spec.server_id}",
        f"slave_net_timeout = {net_timeout}",
        f"ssl_ca = {opts.pki / 'ca.pem'}",
        f"ssl_cert = {opts.pki / 'server-cert.pem'}",
        f"ssl_key = {opts.pki / 'server-key.pem'}",
    ]


def bootstrap_statements(state: dict, client_hosts: str) -> list[str]:
    """Accounts and schemas, kept out of the binary log so both GTID states start empty."""
    mon, repl, emergency = state["monitor_password"], state["repl_password"], state["emergency_password"]
    return [
        "SET sql_log_bin = 0",
        f"CREATE USER '{REPL_USER}'@'{client_hosts}' IDENTIFIED BY '{repl}' REQUIRE SSL",
        f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'{client_hosts}'",
        f"CREATE USER '{MONITOR_USER}'@'{client_hosts}' IDENTIFIED BY '{mon}'",
        *server_sql.heartbeat_ddl(HEARTBEAT_SCHEMA),
        *server_sql.monitor_grants(f"'{MONITOR_USER}'@'{client_hosts}'", HEARTBEAT_SCHEMA, mysql=False),
        f"CREATE USER '{EMERGENCY_USER}'@'{client_hosts}' IDENTIFIED BY '{emergency}' REQUIRE SSL",
        f"GRANT SELECT ON `{VAULT_SCHEMA}`.* TO '{EMERGENCY_USER}'@'{client_hosts}'",
        f"CREATE DATABASE {DRILL_SCHEMA}",
        f"CREATE TABLE {DRILL_SCHEMA}.drill (id INT PRIMARY KEY, note VARCHAR(200), node VARCHAR(20))",
    ]


def change_master(source: NodeSpec, repl_password: str, ca_file: Path, tuned: bool) -> str:
    """The replica's CHANGE MASTER TO `source`: verified TLS, GTID, and the retry and heartbeat of the mode."""
    retry = 1 if tuned else 60
    heartbeat = ", MASTER_HEARTBEAT_PERIOD=1" if tuned else ""
    return (
        f"CHANGE MASTER TO MASTER_HOST='{source.repl_ip}', MASTER_PORT={source.port}, "
        f"MASTER_USER='{REPL_USER}', MASTER_PASSWORD='{repl_password}', "
        f"MASTER_SSL=1, MASTER_SSL_CA='{ca_file}', MASTER_SSL_VERIFY_SERVER_CERT=1, "
        f"MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY={retry}{heartbeat}"
    )
