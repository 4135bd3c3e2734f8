"""What a user of emergency access does, step by step through the panel's pages (emergency tests).

The `demo_vault` fixture (tests/conftest.py) gives the pair and the demo vault's users and secrets.
"""

from __future__ import annotations

import re

from django.test import Client


def urls(pair) -> dict[str, str]:
    base = f"/emergency/{pair.pk}/"
    return {"home": base, "login": base + "login/", "logout": base + "logout/", "reveal": base + "reveal/{}/"}


def log_in(client: Client, pair, username: str, password: str, code: str = "", **extra):
    return client.post(urls(pair)["login"], {"username": username, "password": password, "code": code}, **extra)


def account_id(html: str, resource: str, login: str) -> int:
    """The id of the row showing resource/login, read from the page as the user sees it."""
    for row in re.findall(r'<tr data-account="(\d+)">(.*?)</tr>', html, re.S):
        if resource in row[1] and f"<td>{login}</td>" in row[1]:
            return int(row[0])
    raise AssertionError(f"{resource}/{login} is not on the page")


def reveal_scenario(client: Client, pair, demo) -> str:
    """Log in, search, reveal one password, log out; returns the page text of the reveal."""
    u = urls(pair)
    page = client.get(u["login"])
    assert page.status_code == 200
    assert "Read-only emergency access" in page.content.decode()
    assert f"secondary <code>{pair.node('secondary').address}</code>" in page.content.decode()
    assert "Changes are not possible" in page.content.decode()
    assert log_in(client, pair, "alice", demo.passwords["alice"]).status_code == 302
    found = client.get(u["home"], {"q": "firewall"}).content.decode()
    assert "firewall-hq" in found and "db-prod-eu" not in found and "payroll" not in found
    shown = client.post(u["reveal"].format(account_id(found, "firewall-hq", "admin")))
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    assert client.post(u["logout"]).status_code == 302
    assert client.get(u["home"]).status_code == 302  # logged out: back to the login page
    return shown.content.decode()

