"""The setup assistant's generator: server options and SQL for both nodes of a pair. Pure: no Django, no I/O.

Steps, in the order an admin applies them on each node:
  1. server options (a cnf snippet; restart the server), 2. accounts, 3. heartbeat schema,
  4. replication (CHANGE MASTER / CHANGE REPLICATION SOURCE and START) on each replica,
  5. the vault schema, on the primary once replication runs, then the audit writer's grant on each node.
Accounts, grants and the heartbeat schema are made with sql_log_bin=0 on each node, so that neither
replicates them to the other and both GTID histories start empty (and a grant can never stop the other
node's replication for want of its account). The vault schema is the one thing that replicates: the
secondary must hold the same vault, and the writer's grant on its table waits for the table to exist.
"""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from dataclasses import dataclass, field

from monitor import server_sql
from monitor.vault_sql import quote as vault_quote
from monitor.vault_sql import tables as vault_tables
from pairs.validators import monitor_user_problem

MARIADB, MYSQL_80, MYSQL_84 = "mariadb", "mysql-8.0", "mysql-8.4"
FLAVOURS = [(MARIADB, "MariaDB 10.5.9 or later"), (MYSQL_80, "MySQL 8.0 (8.0.26 or later)"), (MYSQL_84, "MySQL 8.4")]
STEPS = server_sql.SETUP_STEPS
# Where each step runs and whether it replicates: the header of its block and of its file.
WHERE = {
    "server-options": "this node's server options; restart the server after adding them",
    "accounts": "run on this node; not replicated (sql_log_bin = 0): each node gets its own copy",
    "heartbeat": "run on this node; not replicated (sql_log_bin = 0): each node gets its own copy",
    "replication": "run on this node once both nodes have steps 1 to 3",
    "vault": "run on the primary once step 4 runs on both nodes, then on the secondary once the schema has "
             "replicated there: the schema replicates, the audit writer's grant (sql_log_bin = 0) does not",
}
REPL_USER, EMERGENCY_USER = "hapanel_repl", "hapanel_emergency"
AUDIT_USER, VAULT_ADMIN_USER = "hapanel_audit", "hapanel_vault_admin"
# The vault admin creates the schema and writes it (vault init, useradd, secret-add, grant, audit):
# REFERENCES for the foreign keys MySQL 8 checks, nothing outside the schema.
VAULT_ADMIN_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES"
_IDENT = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


@dataclass(frozen=True)
class Server:
    role: str  # primary | secondary
    host: str  # where the panel and the other node reach it
    port: int
    known_as: tuple[str, ...] = ()  # the other names and addresses it connects from (slave_hosts)
    server_id: int = 1


@dataclass(frozen=True)
class SetupInput:
    flavour: str
    topology: str  # one-way | bidirectional
    primary: Server
    secondary: Server
    tls: bool = True
    tls_dir: str = "/etc/mysql/tls"  # on each server: ca.pem, server-cert.pem, server-key.pem
    monitor_user: str = "hapanel_monitor"
    monitor_from: str = "%"  # the panel's address, as a MySQL host pattern
    heartbeat_schema: str = "hapanel_monitor"
    vault_schema: str = "vault"
    emergency_from: str = "%"
    vault_admin: bool = False  # also create the account behind HAPANEL_VAULT_ADMIN_DSN, on the primary
    # The pair replicates already: its replication accounts and step 4 are left out. A second account of the
    # same name with a narrower host would take the replica's next login, and a new password there (or a new
    # CHANGE MASTER) would stop a working link.
    replicating: bool = False

    def __post_init__(self) -> None:
        if self.flavour not in dict(FLAVOURS):
            raise ValueError(f"unknown flavour {self.flavour!r}")
        for name in (self.heartbeat_schema, self.vault_schema):
            if not _IDENT.match(name):
                raise ValueError(f"{name!r} is not a plain identifier (letters, digits, _ and $)")
        if problem := monitor_user_problem(self.monitor_user):  # the pair form's own rule: any name it took
            raise ValueError(problem)


@dataclass(frozen=True)
class Passwords:
    replication: str
    monitor: str
    emergency: str
    audit: str
    vault_admin: str

    @classmethod
    def generate(cls) -> Passwords:
        return cls(*(secrets.token_urlsafe(24) for _ in range(5)))


@dataclass
class NodePlan:
    role: str
    address: str
    options: str
    accounts: list[str] = field(default_factory=list)
    heartbeat: list[str] = field(default_factory=list)
    replication: list[str] = field(default_factory=list)
    vault: list[str] = field(default_factory=list)

    def step(self, key: str) -> str:
        """The step's text as the admin runs it, headed by where it runs (a comment: pastes and files alike)."""
        if key == "server-options":
            return f"# {self.role} ({self.address}): {WHERE[key]}\n{self.options}"
        statements = getattr(self, key)
        if not statements:
            return ""
        return f"-- {self.role} ({self.address}): {WHERE[key]}\n" + "".join(f"{stmt};\n" for stmt in statements)

    def rendered(self) -> list[dict]:
        """The non-empty steps as {key, title, where, text}, in order."""
        return [{"key": key, "title": title, "where": WHERE[key], "text": self.step(key)}
                for key, title in STEPS if self.step(key)]


@dataclass
class Plan:
    setup: SetupInput
    passwords: Passwords
    nodes: list[NodePlan]
    notes: list[str]

    def files(self) -> dict[str, str]:
        out = {"README.txt": self.readme()}
        for node in self.nodes:
            for number, (key, _title) in enumerate(STEPS, start=1):
                text = node.step(key)
                if text:
                    suffix = "cnf" if key == "server-options" else "sql"
                    out[f"{node.role}/{number:02d}-{key}.{suffix}"] = text
        return out

    def readme(self) -> str:
        lines = [f"hapanel setup for a {self.setup.topology} pair ({dict(FLAVOURS)[self.setup.flavour]})", ""]
        lines += [f"{node.role}: {node.address}" for node in self.nodes]
        lines += ["", "Apply, on each node, the files in order: 01 (then restart the server), 02, 03, 04;",
                  "then 05 on the primary once replication runs, and 05 on the secondary once the vault schema",
                  "has replicated there.", ""]
        lines += [f"- {note}" for note in self.notes]
        lines += ["", "Generated passwords (shown once; keep them in the vault):",
                  *([] if self.setup.replicating else [f"  {REPL_USER}: {self.passwords.replication}"]),
                  f"  {self.setup.monitor_user}: {self.passwords.monitor}",
                  f"  {EMERGENCY_USER}: {self.passwords.emergency}",
                  f"  {AUDIT_USER}: {self.passwords.audit}"]
        if self.setup.vault_admin:
            lines.append(f"  {VAULT_ADMIN_USER}: {self.passwords.vault_admin}")
        return "\n".join([*lines, ""])

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in self.files().items():
                archive.writestr(f"hapanel-setup/{name}", text)
        return buffer.getvalue()


def _q(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def _account(user: str, host: str) -> str:
    return f"{_q(user)}@{_q(host)}"


def address(server: Server) -> str:
    """host:port as the panel writes a node's address (monitor.models.Node.address): an IPv6 host in brackets."""
    return f"[{server.host}]:{server.port}" if ":" in server.host else f"{server.host}:{server.port}"


def _is_mysql(setup: SetupInput) -> bool:
    return setup.flavour != MARIADB


def sources(setup: SetupInput) -> list[Server]:
    return [setup.primary, setup.secondary] if setup.topology == "bidirectional" else [setup.primary]


def replicas(setup: SetupInput) -> list[Server]:
    return [setup.secondary, setup.primary] if setup.topology == "bidirectional" else [setup.secondary]


def peer(setup: SetupInput, server: Server) -> Server:
    return setup.secondary if server.role == "primary" else setup.primary


def server_options(setup: SetupInput, server: Server) -> str:
    mysql = _is_mysql(setup)
    lines = ["[mysqld]" if mysql else "[mariadbd]", f"server_id = {server.server_id}", "log_bin = mysql-bin"]
    if setup.flavour == MYSQL_84:
        lines.append("# binlog_format is deprecated in 8.4 but still honoured; ROW is what replication needs")
    lines.append("binlog_format = ROW")
    if mysql:
        lines += ["gtid_mode = ON", "enforce_gtid_consistency = ON", "log_replica_updates = ON",
                  "replica_net_timeout = 3"]
    else:
        lines += [f"gtid_domain_id = {server.server_id}", "gtid_strict_mode = ON", "log_slave_updates = ON",
                  "slave_net_timeout = 3"]
    if setup.tls:
        lines += [f"ssl_ca = {setup.tls_dir}/ca.pem", f"ssl_cert = {setup.tls_dir}/server-cert.pem",
                  f"ssl_key = {setup.tls_dir}/server-key.pem"]
    if setup.topology == "bidirectional":
        # Both nodes take writes: interleave AUTO_INCREMENT values so they never collide.
        lines += ["auto_increment_increment = 2", f"auto_increment_offset = {1 if server.role == 'primary' else 2}"]
    elif server.role == "secondary":
        lines.append("read_only = ON")
    return "\n".join(lines) + "\n"


def accounts(setup: SetupInput, server: Server, passwords: Passwords) -> list[str]:
    ssl = " REQUIRE SSL" if setup.tls else ""
    out = ["SET sql_log_bin = 0"]
    if server in sources(setup) and not setup.replicating:
        out += replication_accounts(setup, server, passwords.replication)
    monitor = _account(setup.monitor_user, setup.monitor_from)
    out += [f"CREATE USER IF NOT EXISTS {monitor} IDENTIFIED BY {_q(passwords.monitor)}{ssl}",
            *server_sql.monitor_grants(monitor, setup.heartbeat_schema, _is_mysql(setup))]
    # Emergency access on both nodes, so that either may serve it once the roles swap. The reader may
    # SELECT the vault; the audit writer gets INSERT on the audit table in step 5, once the table exists
    # (a table grant needs its table).
    schema = vault_quote(setup.vault_schema)
    reader, writer = _account(EMERGENCY_USER, setup.emergency_from), _account(AUDIT_USER, setup.monitor_from)
    out += [f"CREATE USER IF NOT EXISTS {reader} IDENTIFIED BY {_q(passwords.emergency)}{ssl}",
            f"GRANT SELECT ON {schema}.* TO {reader}",
            f"CREATE USER IF NOT EXISTS {writer} IDENTIFIED BY {_q(passwords.audit)}{ssl}"]
    if setup.vault_admin and server.role == "primary":
        admin = _account(VAULT_ADMIN_USER, setup.monitor_from)
        out += [f"CREATE USER IF NOT EXISTS {admin} IDENTIFIED BY {_q(passwords.vault_admin)}{ssl}",
                f"GRANT {VAULT_ADMIN_PRIVILEGES} ON {schema}.* TO {admin}"]
    return [*out, "SET sql_log_bin = 1"]


def replication_accounts(setup: SetupInput, source: Server, password: str) -> list[str]:
    """The account its replica logs in with, on a source: one per name or address the replica connects from."""
    ssl = " REQUIRE SSL" if setup.tls else ""
    out = []
    replica = peer(setup, source)
    for host in dict.fromkeys([replica.host, *replica.known_as]):
        account = _account(REPL_USER, host)
        out += [f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {_q(password)}{ssl}",
                f"GRANT REPLICATION SLAVE ON *.* TO {account}"]
    return out


def vault(setup: SetupInput, server: Server) -> list[str]:
    """The vault schema (on the primary, replicated on purpose) and the audit writer's grant (each node)."""
    writer = _account(AUDIT_USER, setup.monitor_from)
    # The drain inserts with INSERT IGNORE by event id: duplicates are skipped by the primary key, so
    # INSERT alone is enough; the writer reads nothing, least of all the secrets.
    grant = ["SET sql_log_bin = 0", f"GRANT INSERT ON {vault_quote(setup.vault_schema)}.`audit` TO {writer}",
             "SET sql_log_bin = 1"]
    if server.role != "primary":
        return grant
    return ["SET sql_log_bin = 1", *vault_tables(setup.vault_schema), *grant]


def heartbeat(setup: SetupInput) -> list[str]:
    return ["SET sql_log_bin = 0", *server_sql.heartbeat_ddl(setup.heartbeat_schema), "SET sql_log_bin = 1"]


def replication(setup: SetupInput, replica: Server, passwords: Passwords) -> list[str]:
    source = peer(setup, replica)
    word = "SOURCE" if _is_mysql(setup) else "MASTER"
    options = [f"{word}_HOST={_q(source.host)}", f"{word}_PORT={source.port}", f"{word}_USER={_q(REPL_USER)}",
               f"{word}_PASSWORD={_q(passwords.replication)}"]
    if setup.tls:
        options += [f"{word}_SSL=1", f"{word}_SSL_CA={_q(setup.tls_dir + '/ca.pem')}",
                    f"{word}_SSL_VERIFY_SERVER_CERT=1"]
    options += ["SOURCE_AUTO_POSITION=1" if _is_mysql(setup) else "MASTER_USE_GTID=slave_pos",
                f"{word}_CONNECT_RETRY=1", f"{word}_HEARTBEAT_PERIOD=1"]
    if _is_mysql(setup):
        return [f"CHANGE REPLICATION SOURCE TO {', '.join(options)}", "START REPLICA"]
    return [f"CHANGE MASTER TO {', '.join(options)}", "START SLAVE"]


def plan(setup: SetupInput, passwords: Passwords) -> Plan:
    nodes = []
    for server in (setup.primary, setup.secondary):
        nodes.append(NodePlan(
            role=server.role, address=address(server), options=server_options(setup, server),
            accounts=accounts(setup, server, passwords), heartbeat=heartbeat(setup),
            replication=(replication(setup, server, passwords)
                         if server in replicas(setup) and not setup.replicating else []),
            vault=vault(setup, server),
        ))
    return Plan(setup, passwords, nodes, notes(setup))


def notes(setup: SetupInput) -> list[str]:
    out = [
        "This pair replicates already: the replication account and step 4 are left out, and its replication "
        "stays as it is (a new account or password there would stop the running link)." if setup.replicating else
        "Start the secondary from a copy of the primary's data (the guide's Replication.zip step) before step 4, "
        "or start both empty.",
        f"Each server's certificate must name the address the other node uses for it "
        f"({setup.primary.host} and {setup.secondary.host}): replication verifies it.",
        f"The monitor account is created for '{setup.monitor_from}': narrow it to the panel's address.",
        f"Emergency access: {EMERGENCY_USER} can only SELECT the vault schema {setup.vault_schema}, and "
        f"{AUDIT_USER} can only INSERT into {setup.vault_schema}.audit; both exist on both nodes. Give them to "
        f"`manage.py vault init` as HAPANEL_VAULT_READER_PASSWORD and HAPANEL_VAULT_WRITER_PASSWORD: it checks "
        "both accounts on both nodes.",
    ]
    if setup.vault_admin:
        out.append(f"The vault admin ({VAULT_ADMIN_USER}, on the primary) is the account of "
                   f"HAPANEL_VAULT_ADMIN_DSN=mysql://{VAULT_ADMIN_USER}:<its password>@{address(setup.primary)}; "
                   f"it may create and write {setup.vault_schema} only.")
    else:
        out.append("HAPANEL_VAULT_ADMIN_DSN needs an account of the primary that may create and write the vault "
                   "schema: tick “vault admin account” to have one generated.")
    if not setup.tls:
        out.insert(0, "TLS is off: passwords and replicated data cross the network in clear text.")
    if setup.flavour == MARIADB:
        out.append("SLAVE MONITOR exists from MariaDB 10.5.9: on older 10.5 releases grant REPLICATION CLIENT.")
        out.append("BINLOG MONITOR lets the monitor list the binary logs, for the binlog horizon warning; before "
                   "MariaDB 10.5.2 grant REPLICATION CLIENT instead.")
    return out
