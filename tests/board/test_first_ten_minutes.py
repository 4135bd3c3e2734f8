"""A new admin's first ten minutes, in a real browser: from an empty panel to a watched pair and an alert received.

Everything the admin does goes through the pages (login, alert channels, routing, the pair form, Test connection,
the setup assistant, Verify); the operator beside them runs the assistant's SQL on the servers and crashes the
primary. The parts are real: `runserver`, a Celery worker with beat on Redis, the sandbox's two MariaDB nodes, an
SMTP server and a webhook receiver, Debian's Chromium. Each step fails on a stumble a new admin met before:
Test connection calling a replicating node unconfigured without saying why, a saved pair looking stale, the
assistant swapping the monitor password under a working pair, notices shown twice, a test alert sent twice, a pair
page that needs a reload.
"""

from __future__ import annotations

import os
import re
import signal
from contextlib import contextmanager

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from devtools.sandbox import SandboxPair
from monitor.models import Pair
from tests.assistant_steps import statements
from tests.browser import web_server
from tests.receivers import worker_env
from tests.services import wait_for
from tests.workers import Worker

LIVE = 20_000  # ms: a status change reaches the page within a poll, a pair-page refresh (3 s) and a worker's start


@pytest.fixture
def server(transactional_db, receivers):
    # The web process and the worker share one environment, as in a deployment: the same mail server.
    with web_server("first-ten-minutes-runserver", env=worker_env(receivers)) as url:
        yield url


@pytest.fixture
def operator_accounts(healthy: SandboxPair):
    """The accounts the operator's SQL adds to the shared sandbox, dropped afterwards: a replication account for
    the panel's address with a new password would refuse the nodes' next reconnect in the tests that follow."""
    before = {role: _accounts(healthy, role) for role in ("primary", "secondary")}
    yield
    for role, had in before.items():
        if healthy.running(role):
            added = _accounts(healthy, role) - had
            healthy.sql(role, "SET sql_log_bin = 0", *[f"DROP USER '{u}'@'{h}'" for u, h in added])


def _accounts(nodes: SandboxPair, role: str) -> set[tuple[str, str]]:
    return {(r["User"], r["Host"]) for r in nodes.sql(role, "SELECT User, Host FROM mysql.user")}


@contextmanager
def frozen(worker: Worker):
    """The worker stopped (SIGSTOP) and let go again: it polls a new pair within half a second of its saving,
    faster than a page renders, so the saved page is looked at while the worker cannot poll yet."""
    os.killpg(worker.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(worker.proc.pid, signal.SIGCONT)


def notice(page: Page, text: str):
    """The page's notices holding `text`: there must be exactly one."""
    found = page.locator("ul.messages li", has_text=text)
    expect(found).to_have_count(1)
    return found


def test_a_new_admin_goes_from_an_empty_panel_to_an_alive_pair_and_a_received_alert(
        server, admin, healthy, operator_accounts, receivers, polling_alert_worker, browser, output_dir):
    nodes, hook, smtp = healthy, receivers.http, receivers.smtp
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    shot = iter(range(1, 100))

    def screenshot(name: str) -> None:
        page.screenshot(path=str(output_dir / f"first-ten-minutes-{next(shot):02d}-{name}.png"), full_page=True)

    # ---- log in to an empty panel ---------------------------------------------------------------------------
    page.goto(f"{server}/")
    expect(page).to_have_url(f"{server}/login/?next=/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", f"pw-{admin.username}")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server}/")
    expect(page.locator("table.board")).to_contain_text("No pairs yet.")

    # ---- alert channels: the mail server in use, notices once, one test message ------------------------------
    page.click("header nav >> text=Alerts")
    page.click("p.tabs >> text=Channels")
    expect(page.locator("main table")).to_contain_text("No channels yet: nobody is alerted.")
    page.click("text=Add a channel")
    page.select_option("#id_kind", "email")
    mail_note = page.locator("fieldset[data-kind=email] .note")
    expect(mail_note).to_be_visible()
    expect(mail_note).to_contain_text(f"127.0.0.1:{smtp.port}")  # where the worker will really send
    page.fill("#id_name", "ops-mail")
    page.fill("#id_email_recipients", "ops@example.com")
    page.click("form.channel-form button")
    expect(page).to_have_url(f"{server}/alerts/channels/")
    notice(page, "Channel “ops-mail” saved.")

    page.click("text=Add a channel")
    page.select_option("#id_kind", "webhook")
    expect(page.locator("fieldset[data-kind=email]")).to_be_hidden()
    page.fill("#id_name", "ops-hook")
    page.fill("#id_webhook_url", hook.url)
    page.fill("#id_webhook_secret", "hook-secret")
    page.click("form.channel-form button")
    notice(page, "Channel “ops-hook” saved.")

    def send_test(channel: str) -> None:  # the notice it leads to is awaited by the caller
        page.locator("tr", has=page.locator("a", has_text=channel)).get_by_role("button", name="Send test").click()

    send_test("ops-hook")
    notice(page, "Test to “ops-hook”: sent")
    assert len(hook.wait(1, "Test alert")) == 1
    send_test("ops-mail")
    notice(page, f"Test to “ops-mail” (via the mail server 127.0.0.1:{smtp.port}): sent")
    assert smtp.wait(1, "Test alert")[0].headers["rcpt_tos"] == ["ops@example.com"]
    expect(page.locator("ul.messages li")).to_have_count(1)  # the earlier notices went with their page
    screenshot("channels")

    # Routing: a new channel already hears every event of every pair; the admin keeps the webhook to the
    # failures of High Availability and their end.
    page.click("p.tabs >> text=Routing")
    expect(page.locator("main table thead")).to_contain_text("ops-hook")
    for event in ("High Availability Failed", "High Availability Alive"):
        expect(page.get_by_role("checkbox", name=f"{event} → ops-hook")).to_be_checked()
    for box in page.get_by_role("checkbox", name=re.compile(r" → ops-hook$")).all():
        if not box.get_attribute("aria-label").startswith("High Availability "):
            box.uncheck()
    page.click("text=Save routing for all pairs")
    notice(page, "Routing for all pairs saved")

    # ---- the pair form: Test connection explains "Known as" ----------------------------------------------
    page.click("header nav >> text=Add pair")
    expect(page).to_have_url(f"{server}/pairs/new/")
    page.fill("#id_name", "vault-db")
    for spec in nodes.nodes():
        role = spec.role
        page.fill(f"#id_{role}-host", spec.monitor_ip)
        page.fill(f"#id_{role}-port", str(spec.port))
        expect(page.locator(f"#id_{role}-monitor_user")).to_have_value("hapanel_monitor")
        page.fill(f"#id_{role}-monitor_password", nodes.monitor_password)
        expect(page.locator(f"#id_{role}-tls_mode")).to_have_value("verify-identity")
        page.set_input_files(f"#id_{role}-ca_cert_file", str(nodes.ca_file))

    def test_connection() -> None:
        page.click("text=Test connection")
        for role in ("primary", "secondary"):
            expect(page.locator(f"#test-result .node-check-{role}")).to_contain_text("Heartbeat schema",
                                                                                   timeout=15_000)

    test_connection()
    # The replicas reach each other on their replication addresses, which the admin has not entered: the line
    # beside "IO Yes, SQL Yes" says so and what to do, instead of a bare "not configured".
    for spec in nodes.nodes():
        peer = nodes.peer(spec)
        check = page.locator(f"#test-result .node-check-{spec.role}")
        expect(check).to_contain_text(f"from {peer.repl_ip}:{peer.port}: IO Yes, SQL Yes")
        expect(check.locator("ul.problems li")).to_have_text(
            f"replication from the other node is not configured: this node replicates from {peer.repl_ip}:"
            f"{peer.port}, which is not the other node's address as entered; if it is that node under another "
            "name or address, add it to the other node's “Known as”")
    screenshot("test-connection-known-as")

    for spec in nodes.nodes():
        page.fill(f"#id_{spec.role}-known_as", spec.repl_ip)
    test_connection()
    for spec in nodes.nodes():
        check = page.locator(f"#test-result .node-check-{spec.role}")
        expect(check.locator("h3 .ok")).to_have_text("all green")
        expect(check).to_contain_text("(the other node): IO Yes, SQL Yes")
        expect(check.locator("ul.problems")).to_have_count(0)
    assert page.url == f"{server}/pairs/new/"  # nothing saved yet

    # ---- Save: waiting for the first poll, then Alive/Alive without a reload -------------------------------
    with frozen(polling_alert_worker):
        page.click("button.primary")
        page.wait_for_url(f"{server}/pairs/*/")
        notice(page, "Pair “vault-db” saved.")
        lines = page.locator("#pair-live table.status-lines td.line")
        expect(lines.nth(0)).to_have_text("High Availability Status: Unknown")
        causes = page.locator("#pair-live table.status-lines td.cause")
        for i in range(2):
            expect(causes.nth(i)).to_contain_text("Waiting for the first poll")
            expect(causes.nth(i)).to_contain_text("not-polled")
        live = page.locator("#pair-live")
        expect(live).not_to_contain_text("monitor-stale")
        expect(live).not_to_contain_text("The statuses are not being refreshed")
        expect(live.locator("section.runbook").first).to_contain_text("Nothing to do while the monitor runs")
        expect(page.locator(".banner")).to_have_count(0)  # the worker ran a moment ago: no "monitor is down"
        screenshot("saved-waiting")
        page.evaluate("window.__noReload = true")  # gone if the page were reloaded
    pair_url = page.url
    pair_id = int(pair_url.rstrip("/").rsplit("/", 1)[1])

    expect(lines.nth(0)).to_have_text("High Availability Status: Alive", timeout=LIVE)
    expect(lines.nth(1)).to_have_text("Replication Status: Alive", timeout=LIVE)
    expect(live).to_contain_text("fresh")
    expect(live.locator("section.runbook")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True, "the pair page was reloaded instead of updated by htmx"
    screenshot("alive")

    # ---- the primary crashes: the pair page turns Failed by itself, the webhook is told once ----------------
    nodes.fault("crash-primary")
    expect(lines.nth(0)).to_have_text("High Availability Status: Failed", timeout=LIVE)
    expect(causes.nth(0)).to_contain_text("primary-down")
    assert page.evaluate("window.__noReload") is True, "the pair page was reloaded instead of updated by htmx"
    failed = hook.wait(1, "High Availability Failed")
    assert [(m["pair"], m["new"], m["cause"]) for m in hook.json() if m["event"] != "test"] == [
        ("vault-db", "Failed", "primary-down")]
    screenshot("failed")
    nodes.heal()
    expect(lines.nth(0)).to_have_text("High Availability Status: Alive", timeout=LIVE)
    hook.wait(1, "High Availability Alive")
    assert len(failed) == 1 and len(hook.messages("High Availability Failed")) == 1
    assert len(hook.messages("Test alert")) == 1, "the test message was sent more than once"
    assert page.evaluate("window.__noReload") is True

    # ---- the setup assistant: reading its SQL changes nothing the panel monitors with ------------------------
    page.click(".pair-actions >> text=Setup assistant")
    expect(page).to_have_url(f"{pair_url}setup/")
    expect(page.locator("form.setup-options")).not_to_contain_text("monitor password")  # nothing to store here
    # The panel saw this pair replicate: the assistant leaves its replication alone unless told otherwise.
    expect(page.locator("#id_replicating")).to_be_checked()
    page.fill("#id_tls_dir", str(nodes.pki))
    generated_at = timezone.now()
    page.click("form.setup-options button.primary")
    expect(page.locator("#passwords")).to_contain_text("hapanel_monitor: ")
    expect(page.get_by_text("narrow it to the panel's address")).to_have_count(1)  # each note once
    accounts = {role: page.locator(f"pre#{role}-accounts").inner_text() for role in ("primary", "secondary")}
    screenshot("assistant")

    # While the admin reads, the worker keeps polling with the password the pair was saved with.
    wait_for(lambda: Pair.objects.get(pk=pair_id).last_checked > generated_at, 10, "a poll after the generation")
    page.goto(pair_url)
    expect(lines.nth(0)).to_have_text("High Availability Status: Alive")
    expect(lines.nth(1)).to_have_text("Replication Status: Alive")
    generation = page.locator("section.pair-changes .change", has_text="setup generated for mariadb")
    expect(generation).to_have_count(1)
    expect(generation.locator("table.diff")).to_have_count(0)  # no setting changed, the password included

    # The operator runs step 2 (the accounts) on each node. On a pair already replicating, the monitor account the
    # panel logs in with exists for 127.% and keeps its password: the new one, made for '%', never matches a login
    # from here. Verify says so, and offers no button that would store it.
    for role, sql in accounts.items():
        assert "hapanel_repl" not in sql  # no second replication account to take the replica's next login
        nodes.sql(role, *statements(sql))
    for role in ("primary", "secondary"):  # each replica logs in again, as after any restart of a node
        nodes.sql(role, "STOP SLAVE IO_THREAD", "START SLAVE IO_THREAD")
    page.click(".pair-actions >> text=Verify")
    page.click("text=Run verify")
    expect(page.locator("p.ok")).to_have_text("The pair is set up: both statuses are Alive.", timeout=15_000)
    new_password = page.locator("section.generated-password")
    expect(new_password).to_contain_text("The panel keeps monitoring with its password")
    for role in ("Primary", "Secondary"):
        expect(new_password.locator("li", has_text=f"{role}: it does not log in (auth)")).to_have_count(1)
    expect(page.get_by_role("button", name="Store the new monitor password in the panel")).to_have_count(0)
    screenshot("verified")
    page.goto(pair_url)
    expect(lines.nth(0)).to_have_text("High Availability Status: Alive")
    expect(lines.nth(1)).to_have_text("Replication Status: Alive")

    # ---- the notification log: the failure and the recovery, once per channel ------------------------------
    page.click("header nav >> text=Alerts")
    log = page.locator("main table tbody")
    for channel in ("ops-hook", "ops-mail"):  # the mail channel kept every route a new channel gets
        expect(log.locator("tr", has_text="High Availability Failed").filter(has_text=channel)).to_have_count(1)
        expect(log.locator("tr", has_text="High Availability Alive").filter(has_text=channel)).to_have_count(1)
    assert len(smtp.messages("High Availability Failed")) == 1
    expect(page.locator("main p.st-failed")).to_have_count(0)  # no channel is failing
    screenshot("notifications")
