"""In a real browser against a real `runserver`: an admin compares the vault copies of the real sandbox pair from
the pair page, sees them equal, then, with a row changed on the secondary alone, sees which row differs; a vault
user on the emergency page is told in plain words that the copy may differ."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from emergency import vault_compare
from emergency.models import Drill
from hapanel.roles import ADMIN
from tests.browser import web_server
from tests.emergency.test_vault_compare import rogue_change
from tests.factories import make_user


@pytest.fixture
def server(transactional_db):
    with web_server("vault-compare-runserver") as url:
        yield url


def test_an_admin_compares_and_a_user_is_told(server, demo_vault, healthy, browser):
    pair, _ = demo_vault
    make_user("boss", ADMIN, password="admin-password-1")
    page = browser.new_page()
    page.goto(f"{server}/pairs/{pair.pk}/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "admin-password-1")
    page.click("button[type=submit]")
    section = page.locator("#vault-copy")
    expect(section).to_contain_text("Not compared yet")
    section.get_by_role("button", name="Compare vault copies").click()
    expect(page.locator("#vault-outcome")).to_contain_text("Equal to the primary's: every row of users, resources, "
                                                           "accounts, grants")

    Drill.objects.create(pair=pair, opened_by="boss", until=timezone.now() + dt.timedelta(minutes=10))
    user = browser.new_page()
    user.goto(f"{server}/emergency/{pair.pk}/login/")
    expect(user.locator("#em-banner")).to_be_visible()
    expect(user.locator("#em-copy-differs")).to_have_count(0)

    with rogue_change(healthy) as row_id:
        page.locator("#vault-copy").get_by_role("button", name="Compare vault copies").click()
        expect(page.locator("#vault-outcome")).to_contain_text("Differs from the primary's")
        expect(page.locator('#vault-differing li[data-table="accounts"]')).to_contain_text(
            f"1 row differs, keys id={row_id}")
        expect(page.locator("#warnings")).to_contain_text("the copy of the vault on the secondary differs")
        user.reload()
        expect(user.locator("#em-copy-differs")).to_have_text(vault_compare.USER_NOTE)
    page.locator("#vault-copy").get_by_role("button", name="Compare vault copies").click()
    expect(page.locator("#vault-outcome")).to_contain_text("Equal")
    user.reload()
    expect(user.locator("#em-copy-differs")).to_have_count(0)
