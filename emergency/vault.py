"""The vault schema in the monitored MySQL and the admin operations on it (run on the primary only).

Every function takes an open PyMySQL connection (autocommit, DictCursor) and the schema name; the
caller decides where it points. Emergency access never calls these: it only reads (see reader.py).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pyotp
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from emergency import crypto
from monitor.vault_sql import AUDIT_COLUMNS, quote, tables

if TYPE_CHECKING:
    import pymysql  # loaded when a connection is made, not with the URLconf


def run(conn: pymysql.Connection, sql: str, args: tuple | list | None = None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def init(conn: pymysql.Connection, schema: str) -> None:
    for stmt in tables(schema):
        run(conn, stmt)


def insert_audit(conn: pymysql.Connection, schema: str, rows: list[tuple]) -> int:
    """Idempotent by event id: a retry or a second drainer inserts nothing twice."""
    cols = ", ".join(AUDIT_COLUMNS)
    marks = ", ".join(["%s"] * len(AUDIT_COLUMNS))
    with conn.cursor() as cur:
        return cur.executemany(f"INSERT IGNORE INTO {quote(schema)}.audit ({cols}) VALUES ({marks})", rows) or 0


def _audit(conn: pymysql.Connection, schema: str, operation: str, username: str, resource: str = "",
           account: str = "") -> None:
    insert_audit(conn, schema, [(str(uuid.uuid4()), timezone.now().replace(tzinfo=None), username, operation,
                                 resource, account, "", "", "primary", "vault command")])


def useradd(conn: pymysql.Connection, schema: str, username: str, password: str, totp: bool = False) -> str:
    """Adds (or resets) a vault user; returns the new TOTP secret when asked for one."""
    secret = pyotp.random_base32() if totp else ""
    run(conn, f"INSERT INTO {quote(schema)}.users (username, password_hash, active, totp_secret)"
              " VALUES (%s, %s, 1, %s) ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash),"
              " active = 1, totp_secret = VALUES(totp_secret)",
        (username, make_password(password), crypto.encrypt(secret) if secret else None))
    _audit(conn, schema, "user-add", username)
    return secret


def passwd(conn: pymysql.Connection, schema: str, username: str, password: str) -> bool:
    with conn.cursor() as cur:
        hit = cur.execute(f"UPDATE {quote(schema)}.users SET password_hash = %s WHERE username = %s",
                          (make_password(password), username))
    if hit:
        _audit(conn, schema, "password-change", username)
    return bool(hit)


def secret_add(conn: pymysql.Connection, schema: str, resource: str, login: str, secret: str,
               notes: str = "", address: str = "") -> None:
    s = quote(schema)
    run(conn, f"INSERT INTO {s}.resources (name, address) VALUES (%s, %s)"
              " ON DUPLICATE KEY UPDATE address = IF(VALUES(address) = '', address, VALUES(address))",
        (resource, address))
    run(conn, f"INSERT INTO {s}.accounts (resource_id, login, secret, notes)"
              f" SELECT id, %s, %s, %s FROM {s}.resources WHERE name = %s"
              " ON DUPLICATE KEY UPDATE secret = VALUES(secret), notes = VALUES(notes)",
        (login, crypto.encrypt(secret), notes, resource))
    _audit(conn, schema, "secret-add", "vault command", resource, login)


def grant(conn: pymysql.Connection, schema: str, username: str, resource: str) -> bool:
    s = quote(schema)
    with conn.cursor() as cur:
        hit = cur.execute(f"INSERT IGNORE INTO {s}.grants (user_id, resource_id) SELECT u.id, r.id"
                          f" FROM {s}.users u, {s}.resources r WHERE u.username = %s AND r.name = %s",
                          (username, resource))
    if hit:
        _audit(conn, schema, "grant", username, resource)
    return bool(hit)


def audit(conn: pymysql.Connection, schema: str, limit: int = 50) -> list[dict]:
    return run(conn, f"SELECT {', '.join(AUDIT_COLUMNS)} FROM {quote(schema)}.audit ORDER BY at DESC LIMIT %s",
               (limit,))
