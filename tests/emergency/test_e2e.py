"""Emergency access against the real sandbox pair: primary crashed or link cut, a user reads a password
from the secondary, and every audit event reaches the primary's audit table exactly once."""

from __future__ import annotations

from emergency import connect, vault
from emergency.models import OutboxEvent
from emergency.outbox import drain, outbox_backlog
from monitor import poller as monitor
from tests.emergency_steps import closed_text, log_in, reveal_scenario
from tests.services import wait_for


def audit_rows(sandbox, role: str, ids: list[str]) -> list[dict]:
    marks = ", ".join(f"'{i}'" for i in ids)
    return sandbox.sql(role, f"SELECT event_id, operation, username, resource, account, served_by, origin "
                             f"FROM vault.audit WHERE event_id IN ({marks}) ORDER BY at")


def assert_delivered_once(sandbox, pair) -> None:
    events = list(OutboxEvent.objects.filter(pair=pair).order_by("id"))
    ids = [str(e.event_id) for e in events]
    assert drain(pair) == 3
    assert outbox_backlog(pair) == (0, None)
    assert drain(pair) == 0  # nothing left; and a second drainer replaying the same rows adds nothing:
    conn = connect.primary_writer(pair.emergency)
    vault.insert_audit(conn, "vault", [(i, e.at.replace(tzinfo=None), e.username, e.operation, "", "", "", "",
                                        "emergency", "") for i, e in zip(ids, events, strict=True)])
    conn.close()
    on_primary = audit_rows(sandbox, "primary", ids)
    assert [r["event_id"] for r in on_primary] == ids
    assert [r["operation"] for r in on_primary] == ["login", "password-retrieval", "logout"]
    assert on_primary[1]["resource"] == "firewall-hq" and on_primary[1]["account"] == "admin"
    assert {r["served_by"] for r in on_primary} == {pair.node("secondary").address}
    assert {r["origin"] for r in on_primary} == {"emergency"}
    wait_for(lambda: [r["event_id"] for r in audit_rows(sandbox, "secondary", ids)] == ids, 20,
             "the audit rows to replicate to the secondary")


def outbox_ops(pair) -> list[tuple[str, str, bool]]:
    return [(e.operation, e.username, e.delivered is None) for e in OutboxEvent.objects.filter(pair=pair)]


def test_primary_crashed_user_reads_from_secondary_and_audit_reaches_primary(demo_vault, healthy, anonymous_client):
    pair, demo = demo_vault
    healthy.fault("crash-primary")
    text = reveal_scenario(anonymous_client, pair, demo)
    assert demo.secrets[("firewall-hq", "admin")] in text
    assert "The main vault server does not answer" in text
    assert outbox_ops(pair) == [("login", "alice", True), ("password-retrieval", "alice", True),
                                ("logout", "alice", True)]
    assert drain(pair) == 0  # the primary is down: the events wait
    count, oldest = outbox_backlog(pair)
    assert count == 3 and oldest == OutboxEvent.objects.order_by("at").first().at
    healthy.heal()
    assert_delivered_once(healthy, pair)


def test_link_cut_opens_access_through_failed_ha_and_audit_arrives_after_heal(demo_vault, healthy, anonymous_client):
    pair, demo = demo_vault
    healthy.fault("cut-link")

    def failed() -> bool:
        monitor.poll(pair)
        pair.refresh_from_db()
        return pair.ha_status == "Failed"

    wait_for(failed, 20, "a real poll to find the pair's HA status Failed")
    text = reveal_scenario(anonymous_client, pair, demo)
    assert demo.secrets[("firewall-hq", "admin")] in text
    assert "The connection between the two sites is cut" in text
    assert [op for op, _, undelivered in outbox_ops(pair) if undelivered] == [
        "login", "password-retrieval", "logout"]
    healthy.heal()
    assert_delivered_once(healthy, pair)


def test_primary_healthy_the_page_refuses_and_points_to_the_primary(demo_vault, anonymous_client):
    pair, demo = demo_vault
    text = closed_text(anonymous_client, pair)
    assert "Use the main vault" in text and "The main vault server is working" in text
    assert "use the vault as usual" in text  # no web address set for the vault: none invented
    assert log_in(anonymous_client, pair, "alice", demo.passwords["alice"]).status_code == 403
    assert OutboxEvent.objects.count() == 0


def test_the_real_worker_drains_the_outbox_once_the_primary_is_back(worker, demo_vault, healthy, anonymous_client):
    pair, demo = demo_vault
    healthy.fault("crash-primary")
    assert demo.secrets[("firewall-hq", "admin")] in reveal_scenario(anonymous_client, pair, demo)
    assert outbox_backlog(pair)[0] == 3
    healthy.heal()
    wait_for(lambda: outbox_backlog(pair)[0] == 0, 30, "the worker's beat-scheduled drain to deliver the outbox")
    ids = [str(i) for i in OutboxEvent.objects.filter(pair=pair).values_list("event_id", flat=True)]
    assert len(audit_rows(healthy, "primary", ids)) == 3
