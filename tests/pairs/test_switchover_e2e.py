"""Failover and rejoin end to end on the real sandbox pair: the test is the operator, running each generated block
on the node it names and pressing each step's Check on the page; a real worker polls, drains the emergency audit and
delivers alerts to real receivers. `systemctl stop` stands for the sandbox's own stop of a node."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from emergency.models import OutboxEvent
from emergency.outbox import outbox_backlog
from monitor.models import Node
from pairs.repair.models import Repair
from pairs.repair.procedure import SQL
from pairs.repair.switchover import DEMOTED
from pairs.repair.switchover_service import procedure
from tests.emergency_steps import reveal_scenario
from tests.receivers import channels_for
from tests.services import wait_for
from tests.waiting import wait_status


@pytest.fixture
def restored(healthy):
    """Whatever the test left, the sandbox's two nodes run, take writes and replicate both ways afterwards."""
    yield healthy
    for role in ("primary", "secondary"):
        if not healthy.running(role):
            healthy.start_node(role)
    for role in ("primary", "secondary"):
        healthy.sql(role, "SET GLOBAL read_only = OFF", "START SLAVE")
    healthy.wait_replicating(timeout=20)


def _check(client, repair: Repair, step: str) -> str:
    html = client.post(reverse("repair-check", args=[repair.pair_id, repair.pk, step]),
                       HTTP_HX_REQUEST="true").content.decode()
    return "done" if "<b>Done</b>" in html else "not yet" if "<b>Not yet</b>" in html else html


def _run(sandbox, repair: Repair, key: str, roles: dict[str, str]) -> None:
    """The step's blocks, as the operator runs them on the node each names."""
    for block in procedure(repair).step(key).blocks:
        role = roles[block.host]
        if block.kind == SQL:
            sandbox.sql(role, *(line.rstrip(";") for line in block.lines))
        elif any(line.startswith("systemctl stop") for line in block.lines) and sandbox.running(role):
            sandbox.stop_node(role)


def _step(client, sandbox, repair: Repair, key: str, roles: dict[str, str], before: str | None = None) -> None:
    if before:
        assert _check(client, repair, key) == before, key
    _run(sandbox, repair, key, roles)
    seen = {}

    def done() -> bool:
        seen["last"] = _check(client, repair, key)
        return seen["last"] == "done"
    try:
        wait_for(done, 20, f"the check of {key} to say done", interval=0.3)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {seen.get('last')}") from None
    assert client.post(reverse("repair-confirm", args=[repair.pair_id, repair.pk, key])).status_code == 302


def _open(client, sandbox, pair, kind: str) -> Repair:
    version = sandbox.sql("secondary", "SELECT @@version AS v")[0]["v"]
    response = client.post(reverse("switchover", args=[pair.pk, kind]),
                           {"flavour": "mariadb", "version": version, "tls_dir": str(sandbox.pki)})
    assert response.status_code == 302, response.content.decode()[:1500]
    return Repair.objects.get(pair=pair, procedure=kind)


def _audit(sandbox, role: str, ids: list[str]) -> list[str]:
    marks = ", ".join(f"'{i}'" for i in ids)
    return [r["event_id"] for r in sandbox.sql(role, f"SELECT event_id FROM vault.audit WHERE event_id IN ({marks})")]


def test_a_crashed_primary_failed_over_then_rejoined(restored, demo_vault, polling_alert_worker, receivers,
                                                     admin_client, anonymous_client):
    sandbox, (pair, demo) = restored, demo_vault
    started = time.monotonic()
    channels_for(receivers)
    wait_status(pair.pk, "Alive", "Alive")
    old_primary, old_secondary = pair.node("primary").address, pair.node("secondary").address

    sandbox.fault("crash-primary")
    wait_status(pair.pk, "Failed", cause="primary-down")
    page = admin_client.get(reverse("pair", args=[pair.pk])).content.decode()
    assert "Failover: the primary is lost</a>" in page
    # A user reads a password from the secondary while the primary is down: its audit waits in the outbox.
    assert demo.secrets[("firewall-hq", "admin")] in reveal_scenario(anonymous_client, pair, demo)
    assert outbox_backlog(pair)[0] == 3

    failover = _open(admin_client, sandbox, pair, "failover")
    roles = {"promoted": "secondary", DEMOTED: "primary"}  # the sandbox's names of the nodes
    assert _check(admin_client, failover, "confirm-down") == "done"
    for key in ("confirm-down", "fence", "stop-replication", "writable"):
        _step(admin_client, sandbox, failover, key, roles)
    assert _check(admin_client, failover, "point-applications") == "not yet"  # only the admin can tell
    assert admin_client.post(reverse("repair-confirm", args=[pair.pk, failover.pk, "point-applications"])
                             ).status_code == 302
    assert _check(admin_client, failover, "point-applications") == "done"
    assert _check(admin_client, failover, "swap-roles") == "not yet"
    swapped_at = time.time()
    assert admin_client.post(reverse("swap-roles", args=[pair.pk, failover.pk])).status_code == 302
    assert _check(admin_client, failover, "swap-roles") == "done"
    assert pair.node("primary").address == old_secondary

    # The heartbeat and the audit drain follow the new primary.
    key = f"%:{pair.pk}:primary"
    wait_for(lambda: (sandbox.sql("secondary", "SELECT MAX(ts) AS ts FROM hapanel_monitor.heartbeat WHERE origin "
                                               f"LIKE '{key}'")[0]["ts"] or 0) > swapped_at, 15,
             "the monitor to write the primary's heartbeat on the new primary")
    wait_for(lambda: outbox_backlog(pair)[0] == 0, 20, "the drain to deliver the outbox to the new primary")
    ids = [str(i) for i in OutboxEvent.objects.filter(pair=pair).values_list("event_id", flat=True)]
    assert sorted(_audit(sandbox, "secondary", ids)) == sorted(ids)  # once each
    receivers.http.wait(1, '"roles-changed"')

    # The old primary is back: it rejoins as the secondary.
    sandbox.start_node("primary")
    page = admin_client.get(reverse("pair", args=[pair.pk])).content.decode()
    assert "Rejoin the old primary as the secondary</a>" in page
    rejoin = _open(admin_client, sandbox, pair, "rejoin")
    roles = {"promoted": "secondary", DEMOTED: "primary"}
    for key in ("read-only", "errant", "replicate", "verify"):
        _step(admin_client, sandbox, rejoin, key, roles)
    wait_status(pair.pk, "Alive", "Alive", timeout=20)
    assert {n.role: n.address for n in Node.objects.filter(pair=pair)} == {"primary": old_secondary,
                                                                          "secondary": old_primary}
    wait_for(lambda: sorted(_audit(sandbox, "primary", ids)) == sorted(ids), 15,
             "the audit rows to replicate to the old primary")
    assert sorted(_audit(sandbox, "secondary", ids)) == sorted(ids)
    assert len(receivers.http.messages('"roles-changed"')) == 1
    log = admin_client.get(reverse("pair", args=[pair.pk])).content.decode()
    assert "Repair log" in log and "swap-roles" in log and f"primary now <code>{old_secondary}</code>" in log
    assert time.monotonic() - started < 90
