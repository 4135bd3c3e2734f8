"""The small repair end to end on the real sandbox pair: the test is the operator who breaks the secondary's SQL
thread on one row, opens the small repair from the pair page, reads the row on both nodes there, runs the
generated statements on the secondary and follows each check to Alive/Alive with the real worker polling.

The operator's table is its own (not the vault), readable by the monitor account when the operator grants it
SELECT; it is removed after each test, and the sandbox must replicate afterwards.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from pairs.repair.models import Repair, RepairEvent
from pairs.repair.skip_service import procedure
from tests.services import wait_for
from tests.waiting import wait_status

TABLE = "hapanel_sandbox.skip_drill"
MONITOR = "'hapanel_monitor'@'127.%'"


def _caught_up(sandbox) -> bool:
    """The secondary has applied everything the primary logged in the primary's domain."""
    primary = sandbox.sql("primary", "SELECT @@gtid_binlog_pos AS p")[0]["p"]
    domain = [g for g in primary.split(",") if g.startswith("1-")]
    return bool(sandbox.sql("secondary", f"SELECT MASTER_GTID_WAIT('{','.join(domain)}', 0.2) AS w")[0]["w"] == 0)


def _restore(sandbox) -> None:
    """Whatever a test left (a replica stopped on this table's rows), the secondary applies the rest idempotently,
    then the table and its grant go on the primary and the drop replicates to the secondary."""
    if sandbox.replica_status("secondary").get("Slave_SQL_Running") != "Yes":
        sandbox.sql("secondary", "STOP SLAVE", "SET GLOBAL slave_exec_mode = 'IDEMPOTENT'", "START SLAVE")
        wait_for(lambda: _caught_up(sandbox), 15, "the secondary to apply the rest idempotently")
        sandbox.sql("secondary", "STOP SLAVE", "SET GLOBAL slave_exec_mode = 'STRICT'", "START SLAVE")
    if "skip_drill" in str(sandbox.sql("primary", f"SHOW GRANTS FOR {MONITOR}")):
        sandbox.sql("primary", f"REVOKE SELECT ON {TABLE} FROM {MONITOR}")
    sandbox.sql("primary", f"DROP TABLE IF EXISTS {TABLE}")
    sandbox.wait_replicating(timeout=15)
    wait_for(lambda: not sandbox.sql("secondary", "SELECT 1 FROM information_schema.tables WHERE table_schema = "
                                                  "'hapanel_sandbox' AND table_name = 'skip_drill'"),
             15, "the drop of the operator's table to replicate to the secondary")


@pytest.fixture
def skippable(healthy, sandbox_pair):
    """The sandbox pair with the operator's table on both nodes, SELECT granted to the monitor account."""
    healthy.sql("primary", f"CREATE TABLE {TABLE} (id INT PRIMARY KEY, name VARCHAR(40) UNIQUE, note VARCHAR(100))",
                f"GRANT SELECT ON {TABLE} TO {MONITOR}")
    wait_for(lambda: "skip_drill" in str(healthy.sql("secondary", "SHOW GRANTS FOR 'hapanel_monitor'@'127.%'")), 10,
             "the grant to replicate to the secondary")
    try:
        yield healthy, sandbox_pair
    finally:
        _restore(healthy)
    # The sandbox replicates again, both ways, without the table.
    assert all(r.get("Slave_SQL_Running") == "Yes" for r in (healthy.replica_status(n) for n in ("primary",
                                                                                                "secondary")))


def _open(client, pair) -> Repair:
    page = client.get(reverse("pair", args=[pair.pk])).content.decode()
    assert "Compare the row and skip the failing transaction</a>" in page
    assert client.get(reverse("skip-event", args=[pair.pk])).status_code == 200
    response = client.post(reverse("skip-event", args=[pair.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    repair = Repair.objects.get(pair=pair, procedure="skip-event")
    assert response["Location"] == reverse("repair", args=[pair.pk, repair.pk])
    return repair


def _check(client, repair: Repair, step: str) -> tuple[str, str]:
    """Presses the step's Check button (htmx): (the verdict, what the result box says)."""
    response = client.post(reverse("repair-check", args=[repair.pair_id, repair.pk, step]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    verdict = re.search(r"<b>(Done|Not yet|Unknown)</b>", html)
    return (verdict.group(1).lower() if verdict else "none"), html


def _skip(client, sandbox, repair: Repair) -> None:
    """The operator runs step 2's statements on the secondary, then follows the checks to Alive/Alive."""
    assert _check(client, repair, "skip-event")[0] == "not yet"  # still stopped
    (block,) = procedure(repair).step("skip-event").blocks
    sandbox.sql("secondary", *(line.rstrip(";") for line in block.lines))
    wait_for(lambda: _check(client, repair, "skip-event")[0] == "done", 15, "the skip check to say done", 0.3)
    wait_for(lambda: _check(client, repair, "verify")[0] == "done", 20, "the verify check to say done", 0.5)
    for step in ("compare-row", "skip-event", "verify"):
        assert client.post(reverse("repair-confirm", args=[repair.pair_id, repair.pk, step])).status_code == 302
    wait_status(repair.pair_id, "Alive", "Alive", timeout=15)  # the real poller agrees
    actions = list(repair.events.order_by("id").values_list("action", "step", "result"))
    assert actions[0] == (RepairEvent.OPENED, "", "")
    assert {(RepairEvent.CHECKED, s, "done") for s in ("compare-row", "skip-event", "verify")} <= set(actions)
    page = client.get(reverse("pair", args=[repair.pair_id])).content.decode()
    assert "Repair log" in page and "skip-event of the secondary" in page


def test_a_duplicate_key_with_the_same_row_on_both_nodes_is_skipped(skippable, worker, admin_client):
    sandbox, pair = skippable
    wait_status(pair.pk, "Alive", "Alive")
    sandbox.sql("secondary", "SET sql_log_bin = 0", f"INSERT INTO {TABLE} VALUES (424201, 'twin', 'the same row')")
    sandbox.sql("primary", f"INSERT INTO {TABLE} VALUES (424201, 'twin', 'the same row')")
    wait_status(pair.pk, "Alive", "Failed", cause="apply-error")

    repair = _open(admin_client, pair)
    html = unescape(admin_client.get(reverse("repair", args=[pair.pk, repair.pk])).content.decode())
    for role in ("primary", "secondary"):  # the row as each node has it
        section = html.split(f'rows-{role}">', 1)[1].split("</section>", 1)[0]
        assert "<dt>id</dt><dd><code>424201</code>" in section and "the same row" in section
    assert "STOP SLAVE;\nSET GLOBAL sql_slave_skip_counter = 1;\nSTART SLAVE;" in html
    gtid = repair.options["transaction"]["gtid"]
    assert re.fullmatch(r"1-1-\d+", gtid) and f"skip the failing transaction {gtid}" in html

    state, text = _check(admin_client, repair, "compare-row")
    assert state == "done" and "the row is the same on both nodes" in text and "424201" in text
    _skip(admin_client, sandbox, repair)
    assert sandbox.sql("secondary", f"SELECT note FROM {TABLE} WHERE id = 424201") == [{"note": "the same row"}]
    # The failing transaction was skipped, not applied: the secondary logs what it applies, and not that one.
    logged = [e["Info"] for log in sandbox.sql("secondary", "SHOW BINARY LOGS")
              for e in sandbox.sql("secondary", f"SHOW BINLOG EVENTS IN '{log['Log_name']}'")
              if e["Event_type"] == "Gtid"]
    assert f"BEGIN GTID {gtid}" not in logged and any(" GTID 1-1-" in info for info in logged)
    # The transactions after the skipped one replicate.
    sandbox.sql("primary", f"INSERT INTO {TABLE} VALUES (424202, 'after', 'next')")
    wait_for(lambda: sandbox.sql("secondary", f"SELECT id FROM {TABLE} WHERE id = 424202"), 10,
             "the next insert to replicate")


def test_a_missing_row_deleted_on_both_nodes_is_skipped(skippable, worker, admin_client):
    sandbox, pair = skippable
    sandbox.sql("primary", f"INSERT INTO {TABLE} VALUES (424203, 'gone', 'deleted twice')")
    wait_for(lambda: sandbox.sql("secondary", f"SELECT id FROM {TABLE} WHERE id = 424203"), 10, "the row to replicate")
    wait_status(pair.pk, "Alive", "Alive")
    sandbox.sql("secondary", "SET sql_log_bin = 0", f"DELETE FROM {TABLE} WHERE id = 424203")
    sandbox.sql("primary", f"DELETE FROM {TABLE} WHERE id = 424203")
    wait_status(pair.pk, "Alive", "Failed", cause="apply-error")

    repair = _open(admin_client, pair)
    # The key comes from the statement the source logged beside its row event.
    assert (repair.options["lookup"]["columns"], repair.options["lookup"]["values"]) == (["id"], ["424203"])
    html = admin_client.get(reverse("repair", args=[pair.pk, repair.pk])).content.decode()
    assert html.count("<p>No row.</p>") == 2
    assert "mariadb-binlog --base64-output=decode-rows -vv --start-position=" in html
    state, text = _check(admin_client, repair, "compare-row")
    assert state == "done" and "neither node has the row" in text
    _skip(admin_client, sandbox, repair)
    assert sandbox.sql("secondary", f"SELECT id FROM {TABLE} WHERE id = 424203") == []


def test_rows_that_differ_are_not_skipped_and_the_rebuild_is_offered(skippable, admin_client):
    sandbox, pair = skippable
    sandbox.sql("secondary", "SET sql_log_bin = 0", f"INSERT INTO {TABLE} VALUES (424204, 'mine', 'the secondary''s')")
    sandbox.sql("primary", f"INSERT INTO {TABLE} VALUES (424204, 'yours', 'the primary''s')")
    wait_for(lambda: sandbox.replica_status("secondary").get("Last_SQL_Errno") == 1062, 10, "the secondary to stop")
    # No worker here: the panel has not seen the error yet, and the repair reads the nodes itself.
    assert admin_client.post(reverse("skip-event", args=[pair.pk])).status_code == 302
    repair = Repair.objects.get(pair=pair, procedure="skip-event")
    state, text = _check(admin_client, repair, "compare-row")
    assert state == "not yet" and "do not skip: the rows differ" in text
    assert "the primary's" in text and "the secondary's" in text
    html = admin_client.get(reverse("repair", args=[pair.pk, repair.pk])).content.decode()
    assert f'href="{reverse("rebuild", args=[pair.pk])}?target=secondary"' in html


def test_a_table_the_monitor_may_not_read_gets_the_statements_to_run(healthy, sandbox_pair, admin_client):
    sandbox, pair = healthy, sandbox_pair
    try:
        sandbox.sql("secondary", "SET sql_log_bin = 0", "INSERT INTO hapanel_sandbox.drill VALUES (424205, 'a', 'b')")
        sandbox.sql("primary", "INSERT INTO hapanel_sandbox.drill VALUES (424205, 'a', 'b')")
        wait_for(lambda: sandbox.replica_status("secondary").get("Last_SQL_Errno") == 1062, 10, "the secondary to stop")
        assert admin_client.post(reverse("skip-event", args=[pair.pk])).status_code == 302
        repair = Repair.objects.get(pair=pair, procedure="skip-event")
        state, text = _check(admin_client, repair, "compare-row")
        # Without SELECT the monitor sees neither the row nor the key's columns: the operator gets the statements.
        assert state == "unknown" and "may not read hapanel_sandbox.drill" in text
        html = admin_client.get(reverse("repair", args=[pair.pk, repair.pk])).content.decode()
        assert "The monitor account may not read this table" in html
        assert "SHOW KEYS FROM `hapanel_sandbox`.`drill` WHERE Key_name = 'PRIMARY';" in unescape(html)
    finally:
        sandbox.sql("secondary", "SET sql_log_bin = 0", "DELETE FROM hapanel_sandbox.drill WHERE id = 424205",
                    "START SLAVE")
        sandbox.sql("primary", "DELETE FROM hapanel_sandbox.drill WHERE id = 424205")
        sandbox.wait_replicating(timeout=15)


def test_a_duplicate_in_the_vault_never_shows_its_secrets(demo_vault, healthy, admin_client):
    pair, _ = demo_vault
    sandbox, secret = healthy, "pbkdf2_sha256$SKIPTEST-NEVER-SHOWN"
    row = f"INSERT INTO vault.users (id, username, password_hash) VALUES (424206, 'skip-twin', '{secret}')"
    try:
        sandbox.sql("secondary", "SET sql_log_bin = 0", row)
        sandbox.sql("primary", row)
        wait_for(lambda: sandbox.replica_status("secondary").get("Last_SQL_Errno") == 1062, 10, "the secondary to stop")
        assert admin_client.post(reverse("skip-event", args=[pair.pk])).status_code == 302
        repair = Repair.objects.get(pair=pair, procedure="skip-event")
        # The statement the primary logged holds the hash: it found nothing but the key, and is kept nowhere.
        assert repair.options["lookup"]["vault"] and repair.options["lookup"]["values"] == ["424206"]
        _check(admin_client, repair, "compare-row")
        html = unescape(admin_client.get(reverse("repair", args=[pair.pk, repair.pk])).content.decode())
        kept = [str(repair.options), html, *repair.events.values_list("detail", flat=True),
                admin_client.get(reverse("pair", args=[pair.pk])).content.decode()]
        assert not [text[:300] for text in kept if "SKIPTEST-NEVER-SHOWN" in text]
        assert "MD5(`password_hash`) AS `password_hash_md5`" in html and "(a statement on the vault: not shown)" in html
    finally:
        sandbox.sql("secondary", "SET sql_log_bin = 0", "DELETE FROM vault.users WHERE id = 424206", "START SLAVE")
        sandbox.sql("primary", "DELETE FROM vault.users WHERE id = 424206")
        sandbox.wait_replicating(timeout=15)


def test_in_chromium_an_admin_compares_the_row_and_checks_it_from_the_pair_page(skippable, worker, admin, browser,
                                                                                output_dir):
    from playwright.sync_api import expect

    from tests.browser import web_server
    from tests.pairs.test_browser import login

    sandbox, pair = skippable
    sandbox.sql("secondary", "SET sql_log_bin = 0", f"INSERT INTO {TABLE} VALUES (424207, 'seen', 'in a browser')")
    sandbox.sql("primary", f"INSERT INTO {TABLE} VALUES (424207, 'seen', 'in a browser')")
    wait_status(pair.pk, "Alive", "Failed", cause="apply-error")
    with web_server("skip-runserver") as url:
        page = login(browser, url, admin.username)
        page.goto(f"{url}/pairs/{pair.pk}/")
        page.click("text=Compare the row and skip the failing transaction")
        page.click("text=Compare the row and open the repair")  # a POST with the page's CSRF token
        page.wait_for_url(f"{url}/pairs/{pair.pk}/repairs/*/")
        for role in ("primary", "secondary"):
            expect(page.locator(f".rows-{role}")).to_contain_text("in a browser")
        page.locator("#step-compare-row button", has_text="Check").click()  # htmx: the verdict arrives in place
        expect(page.locator("#result-compare-row")).to_contain_text("the row is the same on both nodes",
                                                                    timeout=10000)
        expect(page.locator("#step-skip-event pre")).to_contain_text("SET GLOBAL sql_slave_skip_counter = 1;")
        page.screenshot(path=str(output_dir / "skip-event.png"), full_page=True)
