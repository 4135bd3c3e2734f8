"""A real browser against a real `runserver`: an admin adds a pair; a viewer is refused; CSRF holds."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import web_server
from tests.factories import ADMIN_URLS


@pytest.fixture
def server(transactional_db):
    with web_server("config-runserver") as url:
        yield url


def login(browser, url: str, username: str):
    page = browser.new_context().new_page()
    page.goto(url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def fill_node(page, role: str, spec, password: str, ca_path) -> None:
    page.fill(f"#id_{role}-host", "127.0.0.1")
    page.fill(f"#id_{role}-port", str(spec.port))
    page.fill(f"#id_{role}-known_as", f"{spec.repl_ip}, localhost")
    page.fill(f"#id_{role}-monitor_password", password)
    page.select_option(f"#id_{role}-tls_mode", "verify-identity")
    page.set_input_files(f"#id_{role}-ca_cert_file", str(ca_path))


def test_admin_adds_a_pair_and_sees_it_on_the_status_page(server, admin, browser, sandbox, output_dir):
    page = login(browser, server, admin.username)
    page.goto(server + "/pairs/new/")
    page.fill("#id_name", "browser-pair")
    for role in ("primary", "secondary"):
        fill_node(page, role, sandbox.node(role), sandbox.monitor_password, sandbox.ca_file)
    page.select_option("#id_primary-tls_mode", "off")
    expect(page.locator(".tls-off-warning")).to_be_visible()  # the warning shows as soon as TLS is off
    page.select_option("#id_primary-tls_mode", "verify-identity")
    expect(page.locator(".tls-off-warning")).to_be_hidden()

    page.click("text=Test connection")  # htmx: the report arrives in place, the form stays
    expect(page.locator("#test-result .node-check-primary")).to_contain_text("all green", timeout=15000)
    expect(page.locator("#test-result .node-check-secondary")).to_contain_text("all green")
    assert page.url == server + "/pairs/new/"
    page.screenshot(path=str(output_dir / "config-pair-form.png"), full_page=True)

    page.click("button.primary")
    page.wait_for_url(f"{server}/pairs/*/")
    page.goto(server + "/")
    expect(page.locator("main")).to_contain_text("browser-pair")


def test_viewer_gets_403_everywhere_and_csrf_is_enforced(server, viewer, admin, browser):
    from monitor.models import Pair

    pair = Pair.objects.create(name="existing")
    viewer_page = login(browser, server, viewer.username)
    token = next(c["value"] for c in viewer_page.context.cookies() if c["name"] == "csrftoken")
    for method, path in ADMIN_URLS:
        url = server + path.format(id=pair.pk)
        if method == "get":
            assert viewer_page.goto(url).status == 403, url
        else:  # with a valid token: refused for the role, not for CSRF
            response = viewer_page.request.post(url, form={"csrfmiddlewaretoken": token}, headers={"Referer": url})
            assert response.status == 403 and "CSRF" not in response.text(), url

    admin_page = login(browser, server, admin.username)
    response = admin_page.request.post(server + f"/pairs/{pair.pk}/pause/", headers={"Referer": server + "/"})
    assert response.status == 403 and "CSRF" in response.text()
    assert not Pair.objects.get(pk=pair.pk).paused
