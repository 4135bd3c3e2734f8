"""In a real browser: the board follows a real primary crash and its healing without a reload.

The real web server (runserver in a subprocess), a real Celery worker polling the real sandbox pair, and
Debian's Chromium driven by Playwright. A screenshot of each state is saved under the test output.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hapanel.roles import VIEWER
from tests.browser import web_server
from tests.factories import make_user


@pytest.fixture
def server(transactional_db):
    with web_server("status-runserver") as url:
        yield url


def test_board_follows_a_primary_crash_without_reload(server, worker, sandbox_pair, healthy, output_dir, browser):
    make_user("ops", VIEWER, password="wall-screen-password")
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    page.goto(f"{server}/")
    expect(page).to_have_url(f"{server}/login/?next=/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "wall-screen-password")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server}/")

    pair_page = browser.new_page()  # the pair's own page beside the board, its own login
    pair_page.goto(f"{server}/pairs/{sandbox_pair.pk}/")
    pair_page.fill("#id_username", "ops")
    pair_page.fill("#id_password", "wall-screen-password")
    pair_page.click("button[type=submit]")
    expect(pair_page).to_have_url(f"{server}/pairs/{sandbox_pair.pk}/")
    pair_lines = pair_page.locator("#pair-live table.status-lines td.line")
    expect(pair_lines.nth(0)).to_contain_text("Alive", timeout=30_000)
    pair_page.evaluate("window.__noReload = true")

    row = page.locator('tbody[data-pair="sandbox"]')
    lines = row.locator("td.line")
    expect(lines.nth(0)).to_have_text("High Availability Status: Alive", timeout=30_000)
    expect(lines.nth(1)).to_have_text("Replication Status: Alive", timeout=10_000)
    expect(row.locator("td.checked")).to_contain_text("fresh")
    page.screenshot(path=str(output_dir / "status-1-alive.png"), full_page=True)

    page.evaluate("window.__noReload = true")  # gone if the page were reloaded
    healthy.fault("crash-primary")
    expect(lines.nth(0)).to_have_text("High Availability Status: Failed", timeout=30_000)
    expect(row.locator("td.cause").first).to_contain_text("is down")
    expect(row.locator("td.cause").first).to_contain_text("primary-down")
    assert page.evaluate("window.__noReload") is True, "the page was reloaded instead of updated by htmx"
    page.screenshot(path=str(output_dir / "status-2-failed.png"), full_page=True)
    expect(pair_lines.nth(0)).to_contain_text("Failed", timeout=15_000)  # the pair page is live too
    assert pair_page.evaluate("window.__noReload") is True, "the pair page was reloaded instead of updated"
    pair_page.close()

    healthy.heal()
    expect(lines.nth(0)).to_have_text("High Availability Status: Alive", timeout=60_000)
    expect(lines.nth(1)).to_have_text("Replication Status: Alive", timeout=30_000)
    assert page.evaluate("window.__noReload") is True
    page.screenshot(path=str(output_dir / "status-3-healed.png"), full_page=True)

    page.goto(f"{server}/pairs/{sandbox_pair.pk}/")
    expect(page.locator("h2", has_text="Transitions")).to_be_visible()
    expect(page.locator("table.transitions")).to_contain_text("Alive → Failed")
    page.screenshot(path=str(output_dir / "status-4-pair.png"), full_page=True)
