"""The pair page's "Check emergency accounts": the proofs of `vault init` on both nodes of the real pair, per
node and per account, with the setup assistant's step that is missing; admins only; nothing written."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.test import Client, override_settings

from devtools.sandbox import SandboxPair
from emergency.models import Access
from tests.factories import recorded, save
from tests.services import free_port

WRITER = "'hapanel_audit'@'127.%'"  # the sandbox's audit writer (devtools/demo_vault.py)


def _check_from_the_pair_page(client: Client, pair) -> str:
    """Presses the button the pair page offers; returns the result page as text."""
    page = client.get(f"/pairs/{pair.pk}/").content.decode()
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*id="emergency-check"', page)
    assert form and "Check emergency accounts" in page, "the pair page offers no account check"
    response = client.post(form.group(1))
    assert response.status_code == 200
    return response.content.decode()


def _lines(html: str) -> dict[tuple[str, str], str]:
    """(node, account) -> what the page says of it."""
    out: dict[tuple[str, str], str] = {}
    for role in ("primary", "secondary"):
        node = re.search(rf'<section class="account-node" id="accounts-{role}">(.*?)</section>', html, re.S)
        assert node, f"no {role} on the page"
        for account, text in re.findall(r'<dd class="account-\w+" data-account="([^"]+)">(.*?)</dd>', node.group(1),
                                         re.S):
            words = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", text)).split())
            out[(role, account)] = f"{out.get((role, account), '')} {words}".strip()
    return out


def _untouched(nodes: SandboxPair) -> dict[str, tuple]:
    """What a write would change on each node: its binary log position and the audit table's rows."""
    return {role: (nodes.sql(role, "SELECT @@gtid_binlog_pos AS pos")[0]["pos"],
                   nodes.sql(role, "SELECT COUNT(*) AS n FROM vault.audit")[0]["n"])
            for role in ("primary", "secondary")}


def test_the_check_proves_the_accounts_and_names_the_missing_step(demo_vault, healthy, admin_client):
    pair, _ = demo_vault
    writer_password = Access.objects.get(pair=pair).writer_password()
    # The audit writer on the secondary as the assistant's steps 2 and 5 make it (sql_log_bin = 0: each node
    # its own), to put back after the test took it away.
    step_2 = ["SET sql_log_bin = 0", f"CREATE USER IF NOT EXISTS {WRITER} IDENTIFIED BY '{writer_password}' "
              "REQUIRE SSL"]
    step_5 = ["SET sql_log_bin = 0", f"GRANT SELECT, INSERT ON vault.audit TO {WRITER}"]
    try:
        before = _untouched(healthy)
        lines = _lines(_check_from_the_pair_page(admin_client, pair))
        assert sorted(lines) == [(role, account) for role in ("primary", "secondary")
                                 for account in ("audit writer", "reader")]
        for (role, account), text in lines.items():
            assert text.startswith("passed"), (role, account, text)
        assert "reads every vault table (users, resources, accounts, grants, audit) and is refused an INSERT" in \
            lines[("secondary", "reader")]
        assert _untouched(healthy) == before  # no row, no binary log event, no GTID on either node

        # The grant of step 5 missing on the secondary.
        healthy.sql("secondary", "SET sql_log_bin = 0", f"REVOKE INSERT ON vault.audit FROM {WRITER}")
        lines = _lines(_check_from_the_pair_page(admin_client, pair))
        assert lines[("secondary", "audit writer")] == (
            "failed: hapanel_audit may not INSERT into vault.audit — missing step “5. Vault schema” of the setup "
            "assistant on the secondary")
        assert [k for k, text in lines.items() if not text.startswith("passed")] == [("secondary", "audit writer")]

        # No audit writer on the secondary at all: step 2 makes the account.
        healthy.sql("secondary", "SET sql_log_bin = 0", f"DROP USER {WRITER}")
        html = _check_from_the_pair_page(admin_client, pair)
        lines = _lines(html)
        text = lines[("secondary", "audit writer")]
        assert text.startswith("failed: hapanel_audit cannot log in (auth): Access denied")
        assert text.endswith("missing step “2. Accounts” of the setup assistant on the secondary")
        assert [k for k, text in lines.items() if not text.startswith("passed")] == [("secondary", "audit writer")]
        assert writer_password not in html
        assert _untouched(healthy) == before
    finally:
        healthy.sql("secondary", *step_2, *step_5)


@pytest.fixture
def configured(db):
    """A pair with emergency access configured whose nodes refuse every connection (nothing listens)."""
    pair = save(recorded("check-pair", "alive"))
    pair.nodes.update(host="127.0.0.1", port=free_port())
    access = Access.objects.create(pair=pair)
    access.set_passwords("reader-secret-1", "writer-secret-2")
    access.save()
    return pair


@pytest.mark.parametrize("persona, status", [("anonymous", 302), ("outsider", 403), ("viewer", 403), ("admin", 200)])
def test_only_admins_check_the_emergency_accounts(configured, request, persona, status):
    client = request.getfixturevalue(f"{persona}_client")
    url = f"/emergency/{configured.pk}/check-accounts/"
    for response in (client.get(url), client.post(url)):
        assert response.status_code == status
        if status == 302:
            assert response["Location"].startswith("/login/")
    offered = 'id="emergency-check"' in client.get(f"/pairs/{configured.pk}/").content.decode()
    assert offered == (persona == "admin")


def test_a_node_that_refuses_is_said_per_account_and_the_button_is_rate_limited(configured, admin, flush_redis):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    url = f"/emergency/{configured.pk}/check-accounts/"
    assert client.post(url).status_code == 403  # no CSRF token
    page = client.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    with override_settings(CHECKS_PER_MINUTE=2):
        for _ in range(2):
            html = client.post(url, {"csrfmiddlewaretoken": token}).content.decode()
            lines = _lines(html)
            assert len(lines) == 4 and all(text.startswith("failed: ") and "cannot log in (refused)" in text
                                           for text in lines.values())
            assert "reader-secret-1" not in html and "writer-secret-2" not in html
        refused = client.post(url, {"csrfmiddlewaretoken": token})
        assert refused.status_code == 429 and "at most 2 a minute" in refused.content.decode()
