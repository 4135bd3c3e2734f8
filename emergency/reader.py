"""Reads of the secondary's copy of the vault, with the SELECT-only account. No writes, ever."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emergency.vault import quote, run

if TYPE_CHECKING:
    import pymysql  # loaded when a connection is made, not with the URLconf


def find_user(conn: pymysql.Connection, schema: str, username: str) -> dict | None:
    rows = run(conn, f"SELECT id, username, password_hash, active, totp_secret FROM {quote(schema)}.users"
                     " WHERE username = %s", (username,))
    return rows[0] if rows else None


def granted(conn: pymysql.Connection, schema: str, user_id: int, search: str = "") -> list[dict]:
    """The accounts of every resource granted to the user, optionally filtered by a search word."""
    s = quote(schema)
    like = f"%{search.strip()}%"
    return run(conn, f"SELECT a.id, r.name AS resource, r.address, a.login, a.notes FROM {s}.grants g"
                     f" JOIN {s}.resources r ON r.id = g.resource_id JOIN {s}.accounts a ON a.resource_id = r.id"
                     " WHERE g.user_id = %s AND (r.name LIKE %s OR r.address LIKE %s OR a.login LIKE %s"
                     " OR a.notes LIKE %s) ORDER BY r.name, a.login", (user_id, like, like, like, like))


def account(conn: pymysql.Connection, schema: str, user_id: int, account_id: int) -> dict | None:
    """One account with its encrypted secret, only when the user is granted its resource."""
    s = quote(schema)
    rows = run(conn, f"SELECT a.id, r.name AS resource, a.login, a.secret FROM {s}.accounts a"
                     f" JOIN {s}.resources r ON r.id = a.resource_id"
                     f" JOIN {s}.grants g ON g.resource_id = r.id AND g.user_id = %s WHERE a.id = %s",
               (user_id, account_id))
    return rows[0] if rows else None
