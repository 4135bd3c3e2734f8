"""The crash scenario in headless Chromium against a real `runserver`: log in, search, reveal, copy,
the password hidden again, log out; the outbox holds exactly those events."""

from __future__ import annotations

import pytest

from emergency.models import OutboxEvent
from tests.browser import web_server


@pytest.fixture
def server(transactional_db):
    with web_server("emergency-runserver", {"HAPANEL_EMERGENCY_REVEAL_SECONDS": "2"}) as url:
        yield url


def test_crash_scenario_in_a_real_browser(server, demo_vault, healthy, browser):
    from playwright.sync_api import expect

    pair, demo = demo_vault
    secret = demo.secrets[("db-prod-eu", "root")]
    secondary = pair.node("secondary").address
    healthy.fault("crash-primary")
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(server + "/emergency/")
    expect(page.locator("#em-banner")).to_contain_text("The main vault server does not answer")
    expect(page.locator("#em-banner")).to_contain_text("read-only")
    expect(page.locator("#em-banner")).not_to_contain_text(secondary)
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", demo.passwords["alice"])
    page.click("button[type=submit]")
    page.fill("input[name=q]", "prod")
    page.click(".em-search button")
    row = page.locator("tr", has=page.locator("td", has_text="break-glass only"))
    expect(page.locator(".em-accounts tbody tr")).to_have_count(2)
    row.locator("button", has_text="Reveal").click()
    expect(row.locator(".em-value")).to_have_text(secret)
    row.locator(".em-copy").click()
    expect(row.locator(".em-copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    expect(row.locator(".em-countdown")).to_have_text("1")  # counts down from 2
    expect(row.locator(".em-value")).to_have_count(0, timeout=5000)  # hidden again after 2 s here
    expect(row.locator("button", has_text="Reveal")).to_be_visible()
    assert secret not in page.content()
    page.click(".em-logout button")
    expect(page.locator("input[name=password]")).to_be_visible()
    events = list(OutboxEvent.objects.filter(pair=pair).values_list("operation", "username", "account"))
    assert events == [("login", "alice", ""), ("password-retrieval", "alice", "root"), ("logout", "alice", "")]
