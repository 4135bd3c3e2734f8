"""The audit outbox drain against the real sandbox primary: each pair on its own, every failure named, the
last one shown on the pair page; `vault audit` with the primary down answers in one line."""

from __future__ import annotations

import html
import logging

import pytest
from django.core.management.base import CommandError

from devtools.registry import register
from emergency.models import Access, OutboxEvent
from emergency.outbox import drain, drain_all, outbox_backlog, record_event
from tests.emergency_steps import vault


@pytest.fixture
def broken(demo_vault, healthy):
    """A second pair on the same servers whose emergency access writes a schema with no audit table; named to
    come first, so a drain going through the pairs in order meets it before the sandbox pair."""
    pair, _ = demo_vault
    other = register(healthy, name="aaa-broken")
    access = Access.objects.create(pair=other, schema="vault_gone", writer_user=pair.emergency.writer_user,
                                   writer_password_enc=pair.emergency.writer_password_enc)
    return other, access


def test_one_pairs_failure_never_keeps_another_pairs_events_waiting(demo_vault, broken, admin_client, caplog):
    pair, _ = demo_vault
    other, _ = broken
    caplog.set_level(logging.WARNING, logger="emergency")
    for p in (other, pair):
        record_event(p, OutboxEvent.LOGIN, "alice")
    assert drain_all() == 1
    assert outbox_backlog(pair)[0] == 0 and outbox_backlog(other)[0] == 1
    reason = Access.objects.get(pair=other).drain_error
    assert "hapanel_audit may not write vault_gone.audit" in reason, reason
    assert any(r.levelno == logging.WARNING and reason in r.getMessage() for r in caplog.records)
    page = admin_client.get(other.get_absolute_url()).content.decode()
    assert "1 audit event not yet delivered" in page and "Last delivery failed at" in page
    assert html.escape(reason) in page


def test_each_failure_is_named_and_a_success_clears_it(demo_vault, healthy, admin_client):
    pair, _ = demo_vault
    access = pair.emergency
    record_event(pair, OutboxEvent.LOGIN, "alice")

    def reason() -> str:
        assert drain(pair) == 0
        return Access.objects.get(pk=access.pk).drain_error

    good = access.writer_password()
    access.set_passwords(access.reader_password(), "not the writer's password")
    access.save()
    assert reason().startswith("the audit account hapanel_audit was refused by the primary")
    access.set_passwords(access.reader_password(), good)
    access.save()
    healthy.sql("primary", "SET GLOBAL read_only = 1")
    try:
        assert reason().startswith("the primary is read-only and refuses the audit rows")
    finally:
        healthy.sql("primary", "SET GLOBAL read_only = 0")
    healthy.fault("crash-primary")
    assert reason().startswith("the primary is down: connection refused")
    healthy.heal()
    assert drain(pair) == 1
    assert Access.objects.get(pk=access.pk).drain_error == ""
    assert "Last delivery failed" not in admin_client.get(pair.get_absolute_url()).content.decode()


def test_vault_audit_with_the_primary_down_answers_in_one_line(sandbox_pair, healthy, settings):
    settings.SANDBOX_DIR, settings.SANDBOX_PORT = healthy.folder, healthy.primary.port
    vault("init", "--demo")
    healthy.fault("crash-primary")
    with pytest.raises(CommandError) as failed:
        vault("audit")
    message = str(failed.value)
    assert "\n" not in message and message.startswith("the primary of sandbox (") and "is down" in message
    assert failed.value.__cause__ is None and failed.value.__suppress_context__  # no chained traceback


def test_an_admin_opens_a_drill_from_the_pair_page(demo_vault, admin_client, viewer_client):
    pair, _ = demo_vault
    assert 'id="emergency-drill"' not in viewer_client.get(pair.get_absolute_url()).content.decode()
    page = admin_client.get(pair.get_absolute_url()).content.decode()
    assert 'id="emergency-drill"' in page and f'action="/emergency/{pair.pk}/drill/"' in page
    back = admin_client.post(f"/emergency/{pair.pk}/drill/", {"minutes": 5, "reason": "drill", "back": "pair"})
    assert back.status_code == 302 and back["Location"] == pair.get_absolute_url()
    assert "A drill keeps" in admin_client.get(pair.get_absolute_url()).content.decode()
    assert list(OutboxEvent.objects.values_list("operation", "username")) == [("drill-open", "alice")]
