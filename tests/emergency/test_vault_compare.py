"""Vault consistency on the real sandbox pair with the demo vault: equal copies raise nothing; a row changed on the
secondary alone (the test acts as a rogue operator, with sql_log_bin=0) is a warning with its key for admins and
a plain note for users of the emergency page; put back, the warning is cleared. A writer busy on the primary
during comparisons is never taken for drift, and a comparison writes nothing on either server."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from devtools.sandbox import SandboxPair
from emergency import vault_compare
from emergency.models import Drill, VaultComparison
from monitor.models import PairRisk
from monitor.vocabulary import RiskCode
from tests.emergency_steps import plain, urls
from tests.services import wait_for

ROGUE_NOTES = "changed on the secondary only"


def _account(sandbox: SandboxPair, resource: str = "firewall-hq", login: str = "admin") -> dict:
    return sandbox.sql("primary", "SELECT a.id, a.notes FROM vault.accounts a JOIN vault.resources r"
                                  f" ON r.id = a.resource_id WHERE r.name = '{resource}' AND a.login = '{login}'")[0]


@contextmanager
def rogue_change(sandbox: SandboxPair) -> Iterator[int]:
    """One vault row changed on the secondary only, as an operator writing there with binary logging off would;
    put back in any case. Yields the row's id."""
    row = _account(sandbox)
    sandbox.sql("secondary", "SET sql_log_bin = 0",
                f"UPDATE vault.accounts SET notes = '{ROGUE_NOTES}' WHERE id = {row['id']}")
    try:
        yield row["id"]
    finally:
        restore(sandbox, row)


def restore(sandbox: SandboxPair, row: dict) -> None:
    sandbox.sql("secondary", "SET sql_log_bin = 0",
                f"UPDATE vault.accounts SET notes = '{row['notes']}' WHERE id = {row['id']}")


def _drift(pair_id: int) -> list[PairRisk]:
    return list(PairRisk.objects.filter(pair_id=pair_id, code=RiskCode.VAULT_DRIFT).order_by("id"))


def _section(client: Client, pair) -> str:
    page = client.get(f"/pairs/{pair.pk}/").content.decode()
    found = re.search(r'<section class="vault-copy" id="vault-copy">(.*?)</section>', page, re.S)
    assert found, "the pair page has no vault copy section"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())  # as read: inline tags add no space


def _emergency_text(pair) -> str:
    """The emergency login page as a user sees it, during a drill."""
    Drill.objects.get_or_create(pair=pair, defaults={"opened_by": "test", "until": timezone.now() +
                                                     dt.timedelta(minutes=10)})
    page = Client().get(urls(pair)["login"])
    assert page.status_code == 200
    return plain(page.content.decode())


def test_equal_then_drift_then_put_right(demo_vault, healthy, admin_client, viewer_client):
    pair, _ = demo_vault
    assert vault_compare.compare_pair(pair.pk) == "equal"
    result = VaultComparison.objects.get(pair=pair)
    assert result.outcome == "equal" and result.account == "hapanel_emergency"
    assert result.position == healthy.sql("primary", "SELECT @@gtid_binlog_pos AS p")[0]["p"]
    assert [t["table"] for t in result.tables] == ["users", "resources", "accounts", "grants"]
    assert all(t["rows"] > 0 and t["differing"] == 0 for t in result.tables)
    assert _drift(pair.pk) == []
    assert _section(admin_client, pair).startswith("Vault copy on the secondary Equal to the primary's: every row "
                                                   "of users, resources, accounts, grants")
    assert "may differ" not in _emergency_text(pair)

    with rogue_change(healthy) as row_id:
        assert vault_compare.compare_pair(pair.pk) == "differs"
        [risk] = _drift(pair.pk)
        assert risk.cleared_at is None and risk.subject == "secondary" and risk.severity == "warning"
        assert risk.summary.startswith(f"the copy of the vault on the secondary differs from the primary in 1 row "
                                       f"of accounts (id={row_id})")
        assert risk.evidence["accounts"] == f"1 row: id={row_id}"
        assert f'--where="id IN ({row_id})" vault accounts' in risk.remediation
        assert ROGUE_NOTES not in str(risk.__dict__)  # keys only, never the rows' values
        admin_view = _section(admin_client, pair)
        assert f"accounts: 1 row differs, keys id={row_id}" in admin_view
        assert "Differs from the primary's" in admin_view
        viewer_view = _section(viewer_client, pair)
        assert "accounts: 1 row differs" in viewer_view and f"id={row_id}" not in viewer_view
        assert "Compare vault copies" not in viewer_view
        assert vault_compare.USER_NOTE in _emergency_text(pair)
        # Found again: the same episode, no news.
        assert vault_compare.compare_pair(pair.pk) == "differs"
        assert [r.pk for r in _drift(pair.pk)] == [risk.pk]

    assert vault_compare.compare_pair(pair.pk) == "equal"
    [risk] = _drift(pair.pk)
    assert risk.cleared_at is not None
    assert "may differ" not in _emergency_text(pair)


def test_an_admin_compares_from_the_pair_page(demo_vault, healthy, admin, flush_redis):
    pair, _ = demo_vault
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    page = client.get(f"/pairs/{pair.pk}/").content.decode()
    assert "Not compared yet: the copies are compared every 1 d 0 h" in plain(page)
    form = re.search(r'<form method="post" action="([^"]+)" class="vault-compare"', page)
    assert form, "no Compare vault copies button for an admin"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(form.group(1)).status_code == 403  # no CSRF token
    with rogue_change(healthy) as row_id, override_settings(CHECKS_PER_MINUTE=1):
        done = client.post(form.group(1), {"csrfmiddlewaretoken": token}, follow=True)
        assert done.redirect_chain[-1][0].endswith(f"/pairs/{pair.pk}/#vault-copy")
        text = plain(done.content.decode())
        assert "The copies of the vault were compared" in text and f"keys id={row_id}" in text
        refused = client.post(form.group(1), {"csrfmiddlewaretoken": token})
        assert refused.status_code == 429 and "at most 1 a minute" in refused.content.decode()


@pytest.mark.parametrize("persona, status", [("anonymous", 302), ("outsider", 403), ("viewer", 403)])
def test_only_admins_compare(demo_vault, request, persona, status):
    pair, _ = demo_vault
    client = request.getfixturevalue(f"{persona}_client")
    assert client.post(f"/emergency/{pair.pk}/compare-vault/").status_code == status
    assert not VaultComparison.objects.filter(pair=pair).exists()


def test_get_is_not_a_comparison(demo_vault, admin_client):
    pair, _ = demo_vault
    assert admin_client.get(f"/emergency/{pair.pk}/compare-vault/").status_code == 405


def test_a_busy_primary_is_not_drift(demo_vault, healthy):
    """A thread inserts and updates vault rows on the primary throughout; ten comparisons run meanwhile, rows
    caught in flight settled in one of them at least. None reports drift."""
    pair, _ = demo_vault
    stop, written, errors = threading.Event(), [0], []
    row = _account(healthy, "db-prod-eu", "app")

    def writer() -> None:
        conn = healthy.admin("primary")
        try:
            with conn.cursor() as cur:
                while not stop.is_set():
                    n = written[0]
                    cur.execute("INSERT INTO vault.resources (name, address) VALUES (%s, 'busy')", (f"busy-{n}",))
                    cur.execute("UPDATE vault.accounts SET notes = %s WHERE id = %s", (f"busy {n}", row["id"]))
                    written[0] += 1
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=writer, daemon=True)
    outcomes: list[tuple[str, int, str]] = []

    def compared() -> bool:
        vault_compare.compare_pair(pair.pk)
        c = VaultComparison.objects.get(pair=pair)
        outcomes.append((c.outcome, c.rounds, c.error))
        return len(outcomes) >= 10 and any(rounds for _, rounds, _ in outcomes)
    thread.start()
    try:
        wait_for(compared, 60, "ten comparisons, one at least meeting rows in flight")
        wait_for(lambda: written[0] > 50, 10, "the writer at work")
    finally:
        stop.set()
        thread.join(10)
        healthy.sql("primary", "DELETE FROM vault.resources WHERE address = 'busy'",
                    f"UPDATE vault.accounts SET notes = '{row['notes']}' WHERE id = {row['id']}")
    assert errors == []
    assert [o for o in outcomes if o[0] != "equal"] == [], outcomes
    assert _drift(pair.pk) == []


def _writes(sandbox: SandboxPair) -> dict[str, tuple]:
    """What any write would move on each node: the binary log's GTID position and file offset, and InnoDB's
    counts of rows inserted, updated and deleted."""
    out = {}
    for role in ("primary", "secondary"):
        pos = sandbox.sql(role, "SELECT @@gtid_binlog_pos AS p")[0]["p"]
        offset = sandbox.sql(role, "SHOW MASTER STATUS")[0]["Position"]
        counts = {r["Variable_name"]: r["Value"] for r in sandbox.sql(
            role, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_rows_inserted', 'Innodb_rows_updated',"
                  " 'Innodb_rows_deleted')")}
        out[role] = (pos, offset, counts)
    return out


def test_a_comparison_writes_nothing_on_the_servers(demo_vault, healthy):
    """No worker runs here, so no heartbeat either: nothing else writes while the comparisons run."""
    pair, _ = demo_vault
    wait_for(lambda: _writes(healthy)["secondary"][0] == _writes(healthy)["primary"][0], 10,
             "the secondary to have applied everything")
    with rogue_change(healthy):
        before = _writes(healthy)
        assert vault_compare.compare_pair(pair.pk) == "differs"  # the settling rounds ran too
        assert VaultComparison.objects.get(pair=pair).rounds >= 1
        assert _writes(healthy) == before
    before = _writes(healthy)
    assert vault_compare.compare_pair(pair.pk) == "equal"
    assert _writes(healthy) == before


def test_a_secondary_that_does_not_catch_up_is_an_error_not_a_verdict(demo_vault, healthy):
    pair, _ = demo_vault
    with rogue_change(healthy):
        assert vault_compare.compare_pair(pair.pk) == "differs"
        healthy.sql("secondary", "STOP SLAVE SQL_THREAD")
        try:
            healthy.sql("primary", "UPDATE vault.users SET active = active")  # no row changes, a GTID all the same
            healthy.sql("primary", "INSERT INTO vault.resources (name) VALUES ('while-stopped')")
            assert vault_compare.compare_pair(pair.pk, wait=1.0) == "error"
        finally:
            healthy.sql("secondary", "START SLAVE SQL_THREAD")
            healthy.sql("primary", "DELETE FROM vault.resources WHERE name = 'while-stopped'")
        c = VaultComparison.objects.get(pair=pair)
        assert re.fullmatch(r"the secondary did not reach the position [0-9,-]+ within 1 s", c.error), c.error
        [risk] = _drift(pair.pk)
        assert risk.cleared_at is None  # a comparison that could not run judged nothing


def test_a_pair_without_emergency_access_or_with_nodes_that_refuse_says_why(db):
    from emergency.models import Access
    from tests.factories import recorded, save
    from tests.services import free_port

    pair = save(recorded("unconfigured", "alive"))
    pair.nodes.update(host="127.0.0.1", port=free_port())
    assert vault_compare.due_pairs() == []  # nothing to compare with: not scheduled
    assert vault_compare.compare_pair(pair.pk) == "error"
    assert VaultComparison.objects.get(pair=pair).error == vault_compare.NOT_CONFIGURED

    access = Access.objects.create(pair=pair)
    access.set_passwords("reader-secret-1", "writer-secret-2")
    access.save()
    assert vault_compare.due_pairs() == []  # compared a moment ago, if in vain: due again in a day
    assert vault_compare.due_pairs(timezone.now() + dt.timedelta(days=1, seconds=1)) == [pair.pk]
    assert vault_compare.compare_pair(pair.pk) == "error"
    c = VaultComparison.objects.get(pair=pair)
    assert c.error.startswith("cannot connect to the primary as hapanel_emergency: refused"), c.error
    assert "reader-secret-1" not in c.error
    assert _drift(pair.pk) == []


def test_a_schema_without_the_vault_is_an_error_not_drift(demo_vault):
    pair, _ = demo_vault
    pair.emergency.schema = "not_the_vault"
    pair.emergency.save()
    assert vault_compare.compare_pair(pair.pk) == "error"
    assert VaultComparison.objects.get(pair=pair).error == (
        "neither node has any of the vault's tables (users, resources, accounts, grants) in the schema not_the_vault "
        "that the reader can see: has `manage.py vault init` run?")
    assert _drift(pair.pk) == []
