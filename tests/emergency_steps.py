"""What a user of emergency access does, step by step through the panel's pages (emergency tests).

The `demo_vault` fixture (tests/conftest.py) gives the pair and the demo vault's users and secrets.
"""

from __future__ import annotations

import os
import re
from io import StringIO

from django.core.management import call_command
from django.test import Client


def plain(html: str) -> str:
    """The page's words as a user reads them: tags dropped, white space folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def closed_text(client: Client, pair) -> str:
    """The closed page as a user sees it (403, or 503 when the copy cannot be read), checked for the words
    users must never be shown: addresses and server error text."""
    page = client.get(urls(pair)["login"])
    assert page.status_code in (403, 503), page.status_code
    assert "no-store" in page["Cache-Control"]
    text = page.content.decode()
    for word in (pair.node("secondary").address, pair.node("primary").address, "Access denied", "hapanel_",
                 f":{pair.node('primary').port}"):
        assert word not in text, word
    return text


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
    text = page.content.decode()
    assert "passwords granted to you, read-only" in text and "Nothing can be changed here" in text
    assert 'id="em-copy-age"' in text  # how old the copy is, known or not
    # Words for users: no server addresses, no cause codes.
    for word in (pair.node("secondary").address, pair.node("primary").address, pair.ha_cause):
        assert word not in text
    assert log_in(client, pair, "alice", demo.passwords["alice"]).status_code == 302
    found = client.get(u["home"], {"q": "firewall"}).content.decode()
    assert "firewall-hq" in found and "db-prod-eu" not in found and "payroll" not in found
    shown = client.post(u["reveal"].format(account_id(found, "firewall-hq", "admin")))
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    assert client.post(u["logout"]).status_code == 302
    assert client.get(u["home"]).status_code == 302  # logged out: back to the login page
    return shown.content.decode()



def vault(*args: str, **env: str) -> str:
    """`manage.py vault <args>` with these environment variables set for the call; returns what it printed."""
    out = StringIO()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        call_command("vault", *args, stdout=out)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return out.getvalue()
