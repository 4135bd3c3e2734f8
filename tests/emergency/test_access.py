"""Emergency access rules against the real pair: read-only account, lockout, TOTP replay, idle end,
audit-before-answer, no secret in any log, and no need for Redis."""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import time

import pymysql
import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings

from emergency import auth
from emergency.models import Drill, OutboxEvent
from hapanel.roles import ADMIN, add_to_role
from monitor.probe.target import tls_context
from monitor.targets import target_for
from tests.emergency_steps import account_id, log_in, plain, reveal_scenario, urls


@pytest.fixture
def drill(demo_vault, admin_client):
    """Emergency access opened for a drill by an admin, through the panel (primary stays healthy)."""
    pair, demo = demo_vault
    assert admin_client.post(f"/emergency/{pair.pk}/drill/", {"minutes": 10}).status_code == 302
    return pair, demo


def test_a_drill_length_that_is_no_number_is_refused(demo_vault, admin_client):
    pair, _ = demo_vault
    for minutes in ("abc", "²", "1e3", "-5"):
        assert admin_client.post(f"/emergency/{pair.pk}/drill/", {"minutes": minutes}).status_code == 400, minutes
    assert not Drill.objects.filter(pair=pair).exists()
    # A number too long for int() is simply past the cap: the longest drill.
    assert admin_client.post(f"/emergency/{pair.pk}/drill/", {"minutes": "9" * 5000}).status_code == 302
    drill = Drill.objects.get(pair=pair)
    assert 239 * 60 < (drill.until - drill.opened_at).total_seconds() <= 240 * 60


def ops(pair) -> list[str]:
    return list(OutboxEvent.objects.filter(pair=pair).values_list("operation", flat=True))


def test_a_drill_is_opened_by_an_admin_only_and_audited(demo_vault, viewer, viewer_client):
    pair, _ = demo_vault
    assert viewer_client.post(f"/emergency/{pair.pk}/drill/", {"minutes": 10}).status_code == 403
    assert Client().get(urls(pair)["login"]).status_code == 403  # still closed
    add_to_role(viewer, ADMIN)
    assert viewer_client.post(f"/emergency/{pair.pk}/drill/", {"minutes": 10}).status_code == 302
    page = Client().get(urls(pair)["login"])
    assert page.status_code == 200
    assert "An emergency drill is running, opened by victor, until" in plain(page.content.decode())
    assert ops(pair) == ["drill-open"] and Drill.objects.get().opened_by == viewer.username


def test_the_emergency_account_cannot_write_the_secondary(demo_vault, healthy):
    pair, _ = demo_vault
    node = pair.node("secondary")
    conn = pymysql.connect(host=node.host, port=node.port, user="hapanel_emergency",
                           password=healthy.emergency_password, ssl=tls_context(target_for(node, pair)))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM vault.accounts")
            assert cur.fetchone()[0] == 4
            for stmt in ("INSERT INTO vault.audit (event_id, at, username, operation, origin) "
                         "VALUES (UUID(), NOW(), 'x', 'forged', 'emergency')",
                         "UPDATE vault.users SET active = 0", "CREATE TABLE vault.t (i INT)"):
                with pytest.raises(pymysql.err.OperationalError) as refused:
                    cur.execute(stmt)
                assert refused.value.args[0] in (1142, 1044), refused.value
    finally:
        conn.close()


def test_lockout_after_five_failures_per_user_and_per_address(drill):
    pair, demo = drill
    client = Client()
    for _ in range(5):
        assert log_in(client, pair, "alice", "wrong").status_code == 401
    page = log_in(client, pair, "alice", demo.passwords["alice"], REMOTE_ADDR="10.9.9.9")
    assert page.status_code == 401 and "Too many failed attempts" in page.content.decode()
    assert log_in(client, pair, "bob", demo.passwords["bob"], code="000000").status_code == 401  # address locked
    assert "Too many failed attempts" in log_in(client, pair, "bob", "x").content.decode()
    assert ops(pair).count("login-failed") == 8
    # Unknown users get the same answer as a wrong password.
    other = log_in(Client(), pair, "nobody", "x", REMOTE_ADDR="10.1.1.1").content.decode()
    assert "Wrong user name, password or code." in other


def test_totp_is_required_and_a_replayed_code_is_refused(drill):
    import pyotp

    pair, demo = drill
    client = Client()
    assert log_in(client, pair, "bob", demo.passwords["bob"]).status_code == 401
    code = pyotp.TOTP(demo.totp["bob"]).now()
    assert log_in(client, pair, "bob", demo.passwords["bob"], code).status_code == 302
    client.post(urls(pair)["logout"])
    assert log_in(client, pair, "bob", demo.passwords["bob"], code).status_code == 401
    details = list(OutboxEvent.objects.filter(operation="login-failed").values_list("detail", flat=True))
    assert details == ["wrong or replayed code", "wrong or replayed code"]


def test_the_session_ends_after_fifteen_idle_minutes(drill):
    pair, demo = drill
    client = Client()
    log_in(client, pair, "alice", demo.passwords["alice"])
    session = client.session
    session["emergency"]["seen"] = time.time() - 15 * 60 - 1
    session.save()
    assert client.get(urls(pair)["home"]).status_code == 302
    assert OutboxEvent.objects.filter(operation="logout").get().detail == "session ended after idle time"


def test_no_secret_shown_when_the_audit_cannot_be_recorded(drill):
    pair, demo = drill
    client = Client()
    log_in(client, pair, "alice", demo.passwords["alice"])
    page = client.get(urls(pair)["home"]).content.decode()
    target = account_id(page, "db-prod-eu", "root")
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE emergency_outboxevent RENAME TO emergency_outboxevent_gone")
    try:
        for headers in ({}, {"X-Emergency-Fetch": "1"}):
            shown = client.post(urls(pair)["reveal"].format(target), headers=headers)
            assert shown.status_code == 503
            assert "could not be recorded" in shown.content.decode()
            assert demo.secrets[("db-prod-eu", "root")] not in shown.content.decode()
    finally:
        with connection.cursor() as cur:
            cur.execute("ALTER TABLE emergency_outboxevent_gone RENAME TO emergency_outboxevent")
    assert client.post(urls(pair)["reveal"].format(target)).status_code == 200


def test_a_resource_not_granted_cannot_be_revealed(drill):
    pair, demo = drill
    bob = Client()
    import pyotp

    log_in(bob, pair, "bob", demo.passwords["bob"], pyotp.TOTP(demo.totp["bob"]).now())
    payroll = account_id(bob.get(urls(pair)["home"]).content.decode(), "payroll", "svc-payroll")
    alice = Client()
    log_in(alice, pair, "alice", demo.passwords["alice"])
    assert alice.post(urls(pair)["reveal"].format(payroll)).status_code == 404
    assert alice.get(urls(pair)["reveal"].format(payroll)).status_code == 405  # reveal is POST only
    assert "password-retrieval" not in ops(pair)
    refused = OutboxEvent.objects.get(operation="password-retrieval-refused")  # audited before the refusal
    assert refused.username == "alice" and str(payroll) in refused.detail


def test_the_secret_is_never_logged(drill, caplog, capfd):
    pair, demo = drill
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own loggers stop at INFO otherwise
    with override_settings(DEBUG=True):  # SQL logging too
        client = Client()
        log_in(client, pair, "alice", demo.passwords["alice"])
        target = account_id(client.get(urls(pair)["home"]).content.decode(), "db-prod-eu", "app")
        shown = client.post(urls(pair)["reveal"].format(target), headers={"X-Emergency-Fetch": "1"})
        client.post(urls(pair)["logout"])
    secret = demo.secrets[("db-prod-eu", "app")]
    assert secret in shown.content.decode()
    out, err = capfd.readouterr()
    assert any("emergency" in r.name for r in caplog.records), "the retrieval itself was not logged"
    assert any(r.name == "django.db.backends" for r in caplog.records), "SQL was not captured"
    assert secret not in caplog.text and secret not in out and secret not in err
    assert demo.passwords["alice"] not in caplog.text + out + err


DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_login_and_reveal_work_with_redis_unreachable(demo_vault, healthy):
    pair, demo = demo_vault
    healthy.fault("crash-primary")
    dead = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS,
                        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    with override_settings(CACHES=dead, REDIS_URL=DEAD_REDIS, CELERY_BROKER_URL=DEAD_REDIS):
        with pytest.raises(Exception, match="(?i)connect"):
            caches["default"].get("proof that the cache is really gone")
        text = reveal_scenario(Client(), pair, demo)
    assert demo.secrets[("firewall-hq", "admin")] in text
    assert ops(pair) == ["login", "password-retrieval", "logout"]


def test_spellings_the_vault_takes_for_one_user_share_one_lockout(drill):
    pair, demo = drill
    client = Client()
    # Each from its own address: only the per-user count can lock here.
    for n, spelling in enumerate(["ALICE", "Alice", "alicé", "ÁLICE", " alice"]):
        assert log_in(client, pair, spelling, "wrong", REMOTE_ADDR=f"10.0.0.{n}").status_code == 401
    page = log_in(client, pair, "alice", demo.passwords["alice"], REMOTE_ADDR="10.0.1.1")
    assert page.status_code == 401
    assert re.search(r"Too many failed attempts .* try again after \d\d:\d\d:\d\d UTC\.", page.content.decode())
    assert log_in(Client(), pair, "bob", "wrong", REMOTE_ADDR="10.0.1.2").status_code == 401  # bob is not locked
    assert "Too many" not in log_in(Client(), pair, "bob", "wrong", REMOTE_ADDR="10.0.1.3").content.decode()


def test_attempts_while_locked_do_not_extend_the_lock(drill):
    pair, _ = drill
    for n in range(5):
        log_in(Client(), pair, "alice", "wrong", REMOTE_ADDR=f"10.0.2.{n}")
    until = auth.locked_until(pair, "alice", "10.0.3.1")
    assert until is not None
    for n in range(3):
        page = log_in(Client(), pair, "ALICE", "wrong", REMOTE_ADDR=f"10.0.3.{n}")
        assert "Too many failed attempts" in page.content.decode()
    assert auth.locked_until(pair, "alice", "10.0.3.9") == until
    assert ops(pair).count("login-failed") == 8  # the refused attempts are still audited


@override_settings(TRUSTED_PROXIES=["10.99.0.0/16"])
def test_behind_a_trusted_proxy_the_lockout_counts_the_users_address(drill):
    pair, demo = drill
    via_proxy = {"REMOTE_ADDR": "10.99.0.1"}
    for n in range(5):
        log_in(Client(), pair, f"nobody{n}", "wrong", HTTP_X_FORWARDED_FOR="192.0.2.7", **via_proxy)
    other = log_in(Client(), pair, "alice", demo.passwords["alice"], HTTP_X_FORWARDED_FOR="192.0.2.8", **via_proxy)
    assert other.status_code == 302  # another user behind the same proxy is not locked out
    locked = log_in(Client(), pair, "bob", "x", HTTP_X_FORWARDED_FOR="192.0.2.7", **via_proxy)
    assert "Too many failed attempts" in locked.content.decode()
    logins = OutboxEvent.objects.exclude(operation="drill-open")
    assert set(logins.values_list("client_addr", flat=True)) == {"192.0.2.7", "192.0.2.8"}


def test_a_locked_audit_table_answers_at_once(drill):
    pair, demo = drill
    client = Client()
    log_in(client, pair, "alice", demo.passwords["alice"])
    target = account_id(client.get(urls(pair)["home"]).content.decode(), "db-prod-eu", "root")
    with _database_write_locked():
        started = time.monotonic()
        shown = client.post(urls(pair)["reveal"].format(target), headers={"X-Emergency-Fetch": "1"})
        took = time.monotonic() - started
    assert shown.status_code == 503 and "could not be recorded" in shown.content.decode()
    assert demo.secrets[("db-prod-eu", "root")] not in shown.content.decode()
    assert took < 5, f"the refusal took {took:.1f} s"
    assert client.post(urls(pair)["reveal"].format(target)).status_code == 200


@contextlib.contextmanager
def _database_write_locked():
    """Another writer of the panel's database holds its write lock, as a long transaction elsewhere would."""
    if connection.vendor == "sqlite":
        other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    import psycopg  # a connection of its own, outside Django's, as another process of the panel would hold

    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                            password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True)
    try:
        other.execute("BEGIN")
        other.execute("LOCK TABLE emergency_outboxevent IN EXCLUSIVE MODE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()
