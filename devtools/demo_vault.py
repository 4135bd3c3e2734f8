"""The sandbox's demo vault: schema, accounts for emergency access, a few users, resources, secrets."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from django.conf import settings

from devtools.sandbox import SandboxError, SandboxPair
from devtools.sandbox.pair import EMERGENCY_USER
from emergency import vault
from emergency.models import Access
from monitor.models import Pair

WRITER_USER = "hapanel_audit"
RESOURCES = {
    # resource: (address, [(login, notes)], users granted)
    "db-prod-eu": ("10.0.1.15:3306", [("root", "break-glass only"), ("app", "the web shop")], ["alice", "bob"]),
    "firewall-hq": ("fw1.hq.example", [("admin", "web console")], ["alice"]),
    "payroll": ("payroll.example", [("svc-payroll", "")], ["bob"]),
}


@dataclass
class DemoVault:
    passwords: dict[str, str] = field(default_factory=dict)
    totp: dict[str, str] = field(default_factory=dict)
    secrets: dict[tuple[str, str], str] = field(default_factory=dict)

    def login_line(self, url: str) -> str:
        return f"demo emergency login at {url}: user alice, password {self.passwords['alice']}"


def configure(sandbox: SandboxPair, pair: Pair) -> Access:
    """Schema on the primary (replicated), the emergency accounts on both nodes, and the pair's Access row."""
    schema = settings.VAULT_SCHEMA
    if not sandbox.emergency_password:
        raise SandboxError("this sandbox predates emergency access: `manage.py sandbox down` then `up`")
    conn = sandbox.admin("primary")
    try:
        vault.init(conn, schema)
    finally:
        conn.close()
    q = vault.quote(schema)
    writer = secrets.token_urlsafe(18)
    clients = sandbox.client_hosts  # where the panel connects from: loopback, or the network lab's subnet
    account = f"'{WRITER_USER}'@'{clients}'"
    # As the setup assistant makes them: the audit writer on both nodes, so the roles can swap (the secondary's
    # read_only keeps it from writing there), each node's accounts its own, not replicated.
    _replicated(sandbox, schema, "audit")  # a table grant needs its table, which reaches the secondary by replication
    for role in ("primary", "secondary"):  # the sandbox grants `vault`; another schema name needs its grant
        sandbox.sql(role, "SET sql_log_bin = 0",
                    f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{writer}' REQUIRE SSL",
                    f"ALTER USER {account} IDENTIFIED BY '{writer}'",
                    f"GRANT SELECT, INSERT ON {q}.audit TO {account}",
                    f"GRANT SELECT ON {q}.* TO '{EMERGENCY_USER}'@'{clients}'")
    access, _ = Access.objects.get_or_create(pair=pair)
    access.schema, access.reader_user, access.writer_user = schema, EMERGENCY_USER, WRITER_USER
    access.set_passwords(sandbox.emergency_password, writer)
    access.save()
    return access


def _replicated(sandbox: SandboxPair, schema: str, table: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not sandbox.sql("secondary", "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                       f"'{schema}' AND TABLE_NAME = '{table}'")[0]["n"]:
        if time.monotonic() > deadline:
            raise SandboxError(f"{schema}.{table} did not reach the secondary within {timeout:.0f} s")
        time.sleep(0.05)


def seed(sandbox: SandboxPair, pair: Pair) -> DemoVault:
    """Idempotent: users get fresh passwords each time; the returned DemoVault holds them in clear."""
    access = configure(sandbox, pair)
    demo = DemoVault()
    conn = sandbox.admin("primary")
    try:
        for user in ("alice", "bob"):
            demo.passwords[user] = secrets.token_urlsafe(9)
            secret = vault.useradd(conn, access.schema, user, demo.passwords[user], totp=user == "bob")
            if secret:
                demo.totp[user] = secret
        for resource, (address, accounts, users) in RESOURCES.items():
            for login, notes in accounts:
                demo.secrets[(resource, login)] = secrets.token_urlsafe(15)
                vault.secret_add(conn, access.schema, resource, login, demo.secrets[(resource, login)], notes,
                                 address)
            for user in users:
                vault.grant(conn, access.schema, user, resource)
    finally:
        conn.close()
    return demo


@dataclass
class SandboxVault:
    """The sandbox's vault as `vault` administers it without a DSN (see emergency.local_vault)."""

    sandbox: SandboxPair

    def admin(self):
        return self.sandbox.admin("primary")

    def init(self, pair: Pair, demo: bool) -> str:
        lines = []
        if demo:
            lines.append(seed(self.sandbox, pair).login_line(f"{settings.SITE_URL}/emergency/"))
        else:
            configure(self.sandbox, pair)
        lines.append(f"vault {settings.VAULT_SCHEMA} ready on the sandbox primary")
        return "\n".join(lines)


def sandbox_vault(pair: Pair) -> SandboxVault | None:
    """The sandbox's vault when `pair` is the running sandbox pair."""
    sandbox = SandboxPair(settings.SANDBOX_DIR, settings.SANDBOX_PORT)
    ports = {n.port for n in pair.nodes.all()}
    return SandboxVault(sandbox) if sandbox.state and ports == {sandbox.primary.port, sandbox.secondary.port} else None
