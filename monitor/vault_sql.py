"""The emergency vault's schema as SQL on the monitored servers: the one source for `manage.py vault init`
(emergency) and the setup assistant's step 5 (pairs), which build on this app. Pure: no Django, no I/O.
"""

from __future__ import annotations

import re

TABLES = ("users", "resources", "accounts", "grants", "audit")
AUDIT_COLUMNS = ("event_id", "at", "username", "operation", "resource", "account", "served_by", "client_addr",
                 "origin", "detail")


def tables(schema: str) -> list[str]:
    s = quote(schema)
    return [
        f"CREATE DATABASE IF NOT EXISTS {s}",
        f"CREATE TABLE IF NOT EXISTS {s}.users (id INT AUTO_INCREMENT PRIMARY KEY,"
        " username VARCHAR(150) NOT NULL UNIQUE, password_hash VARCHAR(255) NOT NULL,"
        " active TINYINT(1) NOT NULL DEFAULT 1, totp_secret VARCHAR(255) NULL) ENGINE=InnoDB",
        f"CREATE TABLE IF NOT EXISTS {s}.resources (id INT AUTO_INCREMENT PRIMARY KEY,"
        " name VARCHAR(200) NOT NULL UNIQUE, address VARCHAR(255) NOT NULL DEFAULT '') ENGINE=InnoDB",
        f"CREATE TABLE IF NOT EXISTS {s}.accounts (id INT AUTO_INCREMENT PRIMARY KEY,"
        " resource_id INT NOT NULL, login VARCHAR(200) NOT NULL, secret TEXT NOT NULL, notes TEXT,"
        " UNIQUE KEY (resource_id, login), FOREIGN KEY (resource_id) REFERENCES resources (id)) ENGINE=InnoDB",
        f"CREATE TABLE IF NOT EXISTS {s}.grants (user_id INT NOT NULL, resource_id INT NOT NULL,"
        " PRIMARY KEY (user_id, resource_id), FOREIGN KEY (user_id) REFERENCES users (id),"
        " FOREIGN KEY (resource_id) REFERENCES resources (id)) ENGINE=InnoDB",
        f"CREATE TABLE IF NOT EXISTS {s}.audit (event_id CHAR(36) NOT NULL PRIMARY KEY, at DATETIME(6) NOT NULL,"
        " username VARCHAR(150) NOT NULL, operation VARCHAR(40) NOT NULL, resource VARCHAR(200) NOT NULL DEFAULT '',"
        " account VARCHAR(200) NOT NULL DEFAULT '', served_by VARCHAR(260) NOT NULL DEFAULT '',"
        " client_addr VARCHAR(64) NOT NULL DEFAULT '', origin VARCHAR(20) NOT NULL,"
        " detail VARCHAR(200) NOT NULL DEFAULT '', KEY (at)) ENGINE=InnoDB",
    ]


def quote(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_$]{1,64}", name):
        raise ValueError(f"{name!r} is not a plain MySQL identifier")
    return f"`{name}`"
