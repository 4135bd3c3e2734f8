"""Manage the vault on a pair's primary: schema, users, secrets, grants, the audit trail, drills.

The connection: --dsn (or HAPANEL_VAULT_ADMIN_DSN), `mysql://admin:password@host:port`, an account that
may create the schema and write it (the setup assistant's optional vault admin, hapanel_vault_admin),
over TLS with the primary node's settings; in development, the
sandbox pair's root over the primary's unix socket when no DSN is given (see emergency/local_vault.py).
Passwords and secrets are read from the
environment variable named by --*-env, or prompted for: never from the command line.
"""

from __future__ import annotations

import getpass
import os
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.utils import timezone

from emergency import access_check, connect, local_vault, vault
from emergency.models import Access, Drill, OutboxEvent
from emergency.outbox import record_event
from monitor.models import Node, Pair


class Command(BaseCommand):
    help = "Manage the vault on a pair's primary: init, useradd, passwd, secret-add, grant, audit, drill, set-url."

    def add_arguments(self, parser):
        parser.add_argument("--pair", help="pair name (default: the only pair)")
        parser.add_argument("--dsn", default=os.environ.get("HAPANEL_VAULT_ADMIN_DSN", ""),
                            help="mysql://user:password@host:port of an admin account on the primary")
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="create the schema; store the accounts emergency access uses and prove "
                                           "them on both nodes")
        init.add_argument("--reader-user", default="hapanel_emergency", help="SELECT-only account (both nodes)")
        init.add_argument("--reader-password-env", default="HAPANEL_VAULT_READER_PASSWORD")
        init.add_argument("--writer-user", default="hapanel_audit", help="INSERT on <schema>.audit (both nodes)")
        init.add_argument("--writer-password-env", default="HAPANEL_VAULT_WRITER_PASSWORD")
        init.add_argument("--demo", action="store_true", help="sandbox only: seed the demo users and secrets")
        init.add_argument("--web-url", default=None, help="the vault's own web address, shown on the closed page")
        url = sub.add_parser("set-url", help="the vault's own web address, where the closed emergency page "
                                             "sends users ('' to remove it)")
        url.add_argument("web_url")
        user = sub.add_parser("useradd", help="add (or reset) a vault user")
        user.add_argument("username")
        user.add_argument("--password-env", default="")
        user.add_argument("--totp", action="store_true", help="give the user a TOTP secret (printed once)")
        pw = sub.add_parser("passwd", help="set a vault user's password")
        pw.add_argument("username")
        pw.add_argument("--password-env", default="")
        sec = sub.add_parser("secret-add", help="add or replace an account's secret")
        sec.add_argument("resource")
        sec.add_argument("login")
        sec.add_argument("--secret-env", default="")
        sec.add_argument("--notes", default="")
        sec.add_argument("--address", default="")
        grant = sub.add_parser("grant", help="let a user see a resource's accounts")
        grant.add_argument("username")
        grant.add_argument("resource")
        audit = sub.add_parser("audit", help="the primary's audit trail, newest first")
        audit.add_argument("--limit", type=int, default=50)
        drill = sub.add_parser("drill", help="open emergency access for a fire drill (audited)")
        drill.add_argument("--minutes", type=int, default=30)
        drill.add_argument("--by", required=True, help="who opens it (recorded in the audit)")

    def handle(self, *args, action: str, **opts):
        pair = self._pair(opts["pair"])
        if action == "drill":
            return self._drill(pair, opts["minutes"], opts["by"])
        if action == "set-url":
            return self._set_url(pair, opts["web_url"])
        schema = Access.objects.filter(pair=pair).values_list("schema", flat=True).first() or settings.VAULT_SCHEMA
        try:
            if action == "init":
                self._init(pair, opts)
            else:
                self._on_primary(pair, action, schema, opts)
        except pymysql_errors() as exc:
            raise CommandError(_one_line(pair, exc)) from None
        if action == "init" and opts["web_url"] is not None:
            self._set_url(pair, opts["web_url"])
        return None

    def _on_primary(self, pair: Pair, action: str, schema: str, opts: dict) -> None:
        conn = self._connect(pair, opts["dsn"])
        try:
            if action == "useradd":
                totp = vault.useradd(conn, schema, opts["username"], _read(opts["password_env"], "Password"),
                                     opts["totp"])
                self.stdout.write(f"user {opts['username']} added" + (f"; TOTP secret {totp}" if totp else ""))
            elif action == "passwd":
                if not vault.passwd(conn, schema, opts["username"], _read(opts["password_env"], "Password")):
                    raise CommandError(f"no vault user {opts['username']!r}")
                self.stdout.write("password changed")
            elif action == "secret-add":
                vault.secret_add(conn, schema, opts["resource"], opts["login"], _read(opts["secret_env"], "Secret"),
                                 opts["notes"], opts["address"])
                self.stdout.write(f"secret of {opts['login']} on {opts['resource']} stored (encrypted)")
            elif action == "grant":
                if not vault.grant(conn, schema, opts["username"], opts["resource"]):
                    raise CommandError("no such user or resource, or already granted")
                self.stdout.write("granted")
            elif action == "audit":
                for row in vault.audit(conn, schema, opts["limit"]):
                    self.stdout.write(f"{row['at']:%Y-%m-%d %H:%M:%S} {row['origin']:<9} {row['operation']:<20} "
                                      f"{row['username']:<16} {row['resource']}/{row['account']} "
                                      f"via {row['served_by'] or '-'} from {row['client_addr'] or '-'}")
        finally:
            conn.close()

    def _set_url(self, pair: Pair, web_url: str) -> None:
        access = Access.objects.filter(pair=pair).first()
        if access is None:
            raise CommandError(f"emergency access to {pair.name} is not set up: run `vault init` first")
        if web_url:
            try:
                URLValidator(schemes=["http", "https"])(web_url)
            except ValidationError:
                raise CommandError(f"{web_url!r} is not an http(s) address") from None
        access.web_url = web_url
        access.save(update_fields=["web_url"])
        self.stdout.write(f"the closed emergency page of {pair.name} sends users to {web_url}" if web_url
                          else f"the closed emergency page of {pair.name} names no vault address")

    def _pair(self, name: str | None) -> Pair:
        pairs = Pair.objects.filter(name=name) if name else Pair.objects.all()
        if len(pairs) != 1:
            raise CommandError(f"no pair named {name!r}" if name else "several pairs: choose one with --pair")
        return pairs[0]

    def _connect(self, pair: Pair, dsn: str):
        if dsn:
            url = urlparse(dsn)
            node = pair.node(Node.PRIMARY)
            if url.hostname:
                node.host, node.port = url.hostname, url.port or node.port
            return connect.connect(node, pair, unquote(url.username or ""), unquote(url.password or ""), 10.0)
        local = local_vault.for_pair(pair)
        if local is None:
            raise CommandError("give an admin account of the primary with --dsn or HAPANEL_VAULT_ADMIN_DSN")
        return local.admin()

    def _init(self, pair: Pair, opts: dict) -> None:
        local = None if opts["dsn"] else local_vault.for_pair(pair)
        if local is not None:
            self.stdout.write(local.init(pair, opts["demo"]))
            return
        if opts["demo"]:
            raise CommandError("--demo seeds the development sandbox only")
        conn = self._connect(pair, opts["dsn"])
        try:
            vault.init(conn, settings.VAULT_SCHEMA)
        finally:
            conn.close()
        access, _ = Access.objects.get_or_create(pair=pair)
        access.schema, access.reader_user, access.writer_user = (settings.VAULT_SCHEMA, opts["reader_user"],
                                                                 opts["writer_user"])
        access.set_passwords(_read(opts["reader_password_env"], "Reader password"),
                             _read(opts["writer_password_env"], "Writer password"))
        access.save()
        # Stored first, so that the pair page names the accounts; proven next, as emergency access uses them.
        problems = access_check.check(access)
        if problems:
            raise CommandError("emergency access is not ready:\n" + "\n".join(p.line() for p in problems))
        self.stdout.write(f"vault {settings.VAULT_SCHEMA} ready, checked on both nodes: {access.reader_user} "
                          f"reads {access.schema} and may not write it; {access.writer_user} writes "
                          f"{access.schema}.audit and nothing else")

    def _drill(self, pair: Pair, minutes: int, by: str) -> None:
        until = timezone.now() + timezone.timedelta(minutes=max(1, min(minutes, 240)))
        Drill.objects.create(pair=pair, opened_by=by, until=until, reason="vault drill command")
        record_event(pair, OutboxEvent.DRILL, by, detail=f"until {until:%Y-%m-%d %H:%M} UTC")
        self.stdout.write(f"emergency access to {pair.name} open for a drill until {until:%Y-%m-%d %H:%M} UTC")


def pymysql_errors() -> type[Exception]:
    import pymysql  # loaded by the command, not with the URLconf

    return pymysql.MySQLError


def _one_line(pair: Pair, exc: Exception) -> str:
    """A failure of the primary as one line: what failed, where, and the server's or the driver's words."""
    from monitor.probe.errors import classify
    from monitor.readings import Reach

    reach, _, message = classify(exc)
    where = pair.node(Node.PRIMARY).address
    what = {Reach.REFUSED: "is down (connection refused)", Reach.TIMEOUT: "does not answer (timed out)",
            Reach.AUTH: "refused the admin account (the setup assistant's vault admin account, step 2 on the "
                        "primary, is the one for HAPANEL_VAULT_ADMIN_DSN)", Reach.TLS: "failed the TLS handshake"}.get(
        reach, "answered with an error")
    return f"the primary of {pair.name} ({where}) {what}: {message}"


def _read(env_name: str, prompt: str) -> str:
    value = os.environ.get(env_name, "") if env_name else ""
    return value or getpass.getpass(f"{prompt}: ")
