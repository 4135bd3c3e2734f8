"""The panel's front door and its production settings: login throttling, the client address behind proxies,
idle sessions, the Content-Security-Policy in a real browser, and `check --deploy` with the documented settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from playwright.sync_api import expect

from alerts.models import Channel
from hapanel import checks
from hapanel.client_address import client_address
from hapanel.middleware import SEEN_KEY
from hapanel.roles import ADMIN, VIEWER
from monitor.models import Pair
from tests.browser import web_server
from tests.factories import make_user, recorded, save
from tests.services import wait_for

LOCKED = "Too many failed logins"


def log_in(client: Client, username: str, password: str, **extra: str) -> str:
    return client.post("/login/", {"username": username, "password": password}, **extra).content.decode() or "ok"


def logged_in(client: Client) -> bool:
    return client.get("/").status_code == 200


# ---- throttling ---------------------------------------------------------------------------------------------


@override_settings(LOGIN_LOCKOUT_FAILURES=3)
def test_a_user_is_locked_after_failures_even_with_the_right_password(db, flush_redis):
    make_user("alice", VIEWER)
    client = Client()
    for _ in range(3):
        assert "Wrong username or password" in log_in(client, "alice", "guess")
    assert LOCKED in log_in(client, "alice", "pw-alice")
    assert not logged_in(client)
    # Another user from the same address is not locked by alice's count.
    make_user("bob", VIEWER)
    log_in(client, "bob", "pw-bob")
    assert logged_in(client)


@override_settings(LOGIN_LOCKOUT_FAILURES=2, LOGIN_LOCKOUT_MINUTES=2 / 60)
def test_attempts_while_locked_do_not_extend_the_lock(db, flush_redis):
    make_user("alice", VIEWER)
    client = Client()
    for _ in range(2):
        log_in(client, "alice", "guess")
    key = cache.make_key(f"login-fail:addr:{'127.0.0.1'}")
    ttl = redis.Redis.from_url(settings.REDIS_URL).pttl(key)
    assert LOCKED in log_in(client, "alice", "guess")
    assert redis.Redis.from_url(settings.REDIS_URL).pttl(key) <= ttl
    # Keep knocking with the right password: the lock still ends when its window does.
    wait_for(lambda: LOCKED not in log_in(client, "alice", "pw-alice") and logged_in(client), 5,
             "the lock to end while locked attempts keep coming")


def test_logins_still_work_while_the_cache_is_down(db):
    from tests.services import free_port

    make_user("alice", VIEWER)
    down = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    with override_settings(CACHES=down):
        client = Client()
        assert "Wrong username or password" in log_in(client, "alice", "guess")
        log_in(client, "alice", "pw-alice")
        assert logged_in(client)


@override_settings(LOGIN_ADDRESS_FAILURES=3, TRUSTED_PROXIES=["10.0.0.0/24"])
def test_an_address_is_locked_across_user_names_behind_a_trusted_proxy(db, flush_redis):
    make_user("alice", VIEWER)
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    for name in ("a", "b", "c"):
        log_in(Client(), name, "guess", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    assert LOCKED in log_in(Client(), "alice", "pw-alice", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    # Another client behind the same proxy is another address; a forged left entry changes nothing.
    other = Client()
    log_in(other, "alice", "pw-alice", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7", **proxy)
    assert logged_in(other)


@override_settings(TRUSTED_PROXIES=["10.0.0.1", "10.1.0.0/16", "::1"])
@pytest.mark.parametrize("remote, forwarded, expected", [
    ("192.0.2.1", "203.0.113.9", "192.0.2.1"),  # not a proxy: its header is the client's own word
    ("10.0.0.1", "203.0.113.9", "203.0.113.9"),
    ("10.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the forged left entry is not read
    ("10.0.0.1", "203.0.113.9, 10.1.2.3", "203.0.113.9"),  # two trusted proxies in a row
    ("10.0.0.1", "10.1.2.3", "10.1.2.3"),  # only proxies: the farthest one
    ("10.0.0.1", "", "10.0.0.1"),
    ("10.0.0.1", "not-an-address", "10.0.0.1"),
    ("::1", "[2001:db8::7]:4711", "2001:db8::7"),
    ("10.0.0.1", "198.51.100.2:5000", "198.51.100.2"),
])
def test_the_client_address_is_read_from_the_right_through_trusted_proxies(remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


# ---- idle sessions ----------------------------------------------------------------------------------------------


def _seen(client: Client, ago: float) -> None:
    session = client.session
    session[SEEN_KEY] = time.time() - ago
    session.save()


@override_settings(SESSION_IDLE_MINUTES=10)
def test_an_idle_session_ends_and_a_polling_board_keeps_it(viewer_client):
    assert logged_in(viewer_client)
    _seen(viewer_client, 10 * 60 - 5)  # nearly idle: the wall screen's board refresh comes in time
    assert viewer_client.get("/board/", headers={"HX-Request": "true"}).status_code == 200
    assert time.time() - viewer_client.session[SEEN_KEY] < 5
    assert logged_in(viewer_client)
    _seen(viewer_client, 10 * 60 + 1)
    response = viewer_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not logged_in(viewer_client)


# ---- settings that fail at start-up ---------------------------------------------------------------------------

# The production settings docs/configuration.md documents, behind an HTTPS reverse proxy.
PRODUCTION = {
    "DEBUG": "0", "HAPANEL_DEVELOPMENT": "0", "DJANGO_SETTINGS_MODULE": "hapanel.settings",
    "SECRET_KEY": "x7Hq-9vTz_2LmN4pR8sW1yB6cF0gJ3kD5hV2nM7qX9tZ4wE8rY1uI6oP3aS0dG5",
    "HAPANEL_ENCRYPTION_KEY": "YvQmB3o0l6t2k8x0y4Zq7c1v5n9m3b7g2h6j0k4l8p0=",
    "HAPANEL_VAULT_KEY": "k1:" + "A" * 43 + "=", "ALLOWED_HOSTS": "hapanel.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://hapanel.example.com", "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "SECURE_SSL_REDIRECT": "1", "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("HAPANEL_", "SECURE_", "DJANGO_"))}
    full.update({**PRODUCTION, **env})
    full = {k: v for k, v in full.items() if v is not None and v != "<unset>"}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=settings.BASE_DIR, env=full, capture_output=True, text=True, timeout=60)


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = check_deploy()
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_a_missing_vault_key_fails_at_start_up_outside_development():
    result = check_deploy(HAPANEL_VAULT_KEY="<unset>")
    assert result.returncode != 0 and "hapanel.E001" in result.stderr and "HAPANEL_VAULT_KEY" in result.stderr


@override_settings(HEARTBEAT_SCHEMA="hb`; DROP DATABASE vault; --")
def test_a_heartbeat_schema_that_is_not_an_identifier_is_a_system_check_error():
    assert [e.id for e in checks.required_settings()] == ["hapanel.E002"]


@override_settings(TRUSTED_PROXIES=["10.0.0.2", "proxy.example.com"])
def test_a_trusted_proxy_that_is_no_address_is_a_system_check_error():
    assert [e.id for e in checks.required_settings()] == ["hapanel.E003"]


# ---- the Content-Security-Policy, in a real browser ----------------------------------------------------------


def test_every_page_carries_the_policy(viewer_client):
    policy = viewer_client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy


@pytest.fixture
def server(transactional_db):
    with web_server("csp-runserver") as url:
        yield url


def test_the_pages_run_under_the_policy_in_chromium(server, browser, output_dir):
    make_user("root", ADMIN, password="admin-password-for-csp")
    pair = save(recorded("csp-pair", "primary-down"))
    channel = Channel.objects.create(kind=Channel.WEBHOOK, name="csp hook", config={"url": "http://127.0.0.1:9/"})
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server}/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "admin-password-for-csp")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    with page.expect_request(lambda r: "/board/" in r.url, timeout=10_000):
        pass  # htmx, loaded from static/, refreshes the board: scripts from 'self' run
    for path in ("/transitions/", f"/pairs/{pair.pk}/", "/pairs/new/", f"/pairs/{pair.pk}/edit/",
                 f"/pairs/{pair.pk}/setup/", f"/pairs/{pair.pk}/verify/"):
        response = page.goto(server + path)
        assert response is not None and response.status == 200, path
    page.goto(f"{server}/pairs/{pair.pk}/edit/")
    with page.expect_response(lambda r: "/pairs/test-connection/" in r.url, timeout=15_000):
        page.click("text=Test connection")
    page.screenshot(path=str(output_dir / "csp-test-connection.png"), full_page=True)
    _channel_form_shows_the_chosen_kind(page, server, channel)
    _routes_follow_the_chosen_pair(page, server, pair)
    assert violations == []


def _channel_form_shows_the_chosen_kind(page, server: str, channel: Channel) -> None:
    """static/alerts/channel_form.js runs: only the chosen kind's fieldset is shown, and it follows the choice."""
    for path, kind in (("/alerts/channels/new/", Channel.EMAIL), (f"/alerts/channels/{channel.pk}/", channel.kind)):
        response = page.goto(server + path)
        assert response is not None and response.status == 200, path
        expect(page.locator(f"fieldset[data-kind={kind}]")).to_be_visible()
        expect(page.locator(f"fieldset[data-kind]:not([data-kind={kind}])")).to_have_count(3)
        for other in page.locator(f"fieldset[data-kind]:not([data-kind={kind}])").all():
            expect(other).to_be_hidden()
    page.select_option("#id_kind", Channel.SNMP)
    expect(page.locator("fieldset[data-kind=snmp]")).to_be_visible()
    expect(page.locator(f"fieldset[data-kind={channel.kind}]")).to_be_hidden()


def _routes_follow_the_chosen_pair(page, server: str, pair: Pair) -> None:
    """static/alerts/routes.js runs: choosing a pair loads its routes with no button pressed."""
    response = page.goto(f"{server}/alerts/routes/")
    assert response is not None and response.status == 200
    expect(page.get_by_role("button", name="Save routing for all pairs")).to_be_visible()
    page.select_option("select[name=pair]", str(pair.pk))
    page.wait_for_url(f"{server}/alerts/routes/?pair={pair.pk}")
    expect(page.get_by_role("button", name=f"Save routing for {pair.name}")).to_be_visible()
    expect(page.locator("select[name=pair]")).to_have_value(str(pair.pk))


# ---- a fresh machine: what `make run` and `make test` install -----------------------------------------------


def _make_dry_run(target: str) -> str:
    return subprocess.run(["make", "-n", target], cwd=settings.BASE_DIR, capture_output=True, text=True,
                          check=True).stdout


def _packages(target: str) -> set[str]:
    return set(subprocess.run(["scripts/bootstrap.sh", "--packages", target], cwd=settings.BASE_DIR,
                              capture_output=True, text=True, check=True).stdout.split())


def test_make_run_installs_only_what_running_needs():
    assert "bootstrap.sh run" in _make_dry_run("run")
    assert _packages("run") == {"mariadb-server", "redis-server"}
    assert {"chromium", "prometheus", "postgresql", "erlang-snmp", "snmptrapd", "nginx", "mariadb-backup"} \
        <= _packages("test")


def test_make_test_postgresql_role_can_create_the_test_databases():
    import psycopg

    url = next(word.split("=", 1)[1] for word in _make_dry_run("test-postgres").split()
               if word.startswith("DATABASE_URL="))
    with psycopg.connect(url, connect_timeout=5) as conn:
        assert conn.execute("SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)


def test_the_deployment_example_requires_the_vault_key_its_start_up_checks():
    import yaml

    env = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())["x-hapanel-env"]
    assert env["HAPANEL_VAULT_KEY"].startswith("${HAPANEL_VAULT_KEY:?")
