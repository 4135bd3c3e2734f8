"""Failover and rejoin end to end on the real sandbox pair: the test is the operator, running each generated block
on the node it names and pressing each step's Check on the page; a real worker polls, drains the emergency audit and
delivers alerts to real receivers. `systemctl stop` stands for the sandbox's own stop of a node."""

from __future__ import annotations

import threading
import time

import pymysql
import pytest
from django.urls import reverse

from emergency.models import OutboxEvent
from emergency.outbox import outbox_backlog
from monitor.models import Node
from pairs.repair.models import Repair
from pairs.repair.procedure import SQL
from pairs.repair.switchover import DEMOTED, POSITION
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
    read = ""  # what the last look returned: a position a later block waits for
    for block in procedure(repair).step(key).blocks:
        role = roles[block.host]
        if block.kind == SQL:
            rows = sandbox.sql(role, *(line.rstrip(";").replace(POSITION, read) for line in block.lines))
            read = str(next(iter(rows[0].values()))) if rows else read
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


class Writer(threading.Thread):
    """An application inserting rows, one after the other, into whichever node it is pointed at; a refused insert
    (the node is read-only) is retried until a node takes it. `acknowledged` holds the ids a node committed."""

    def __init__(self, sandbox, password: str, base: int) -> None:
        super().__init__(daemon=True)
        self.sandbox, self.password, self.next_id = sandbox, password, base
        self.target, self.stop, self.acknowledged, self.refused = "primary", threading.Event(), [], 0

    def run(self) -> None:
        while not self.stop.is_set():
            spec = self.sandbox.node(self.target)
            try:
                conn = pymysql.connect(host="127.0.0.1", port=spec.port, user="hapanel_app", password=self.password,
                                       autocommit=True, connect_timeout=2, read_timeout=2, ssl_disabled=True)
                with conn, conn.cursor() as cur:
                    cur.execute("INSERT INTO hapanel_sandbox.drill VALUES (%s, 'written', %s)",
                                (self.next_id, self.target))
                self.acknowledged.append(self.next_id)
                self.next_id += 1
            except pymysql.MySQLError:
                self.refused += 1  # read-only, or not there: the same row again shortly
                time.sleep(0.02)


def test_a_planned_switchover_loses_no_write(restored, sandbox_pair, polling_alert_worker, receivers, admin_client):
    sandbox, pair = restored, sandbox_pair
    started = time.monotonic()
    channels_for(receivers)
    for role in ("primary", "secondary"):  # an application's account: read_only applies to it
        sandbox.sql(role, "SET sql_log_bin = 0", "CREATE USER IF NOT EXISTS 'hapanel_app'@'%' IDENTIFIED BY 'app-pw'",
                    "GRANT INSERT, SELECT ON hapanel_sandbox.* TO 'hapanel_app'@'%'")
    wait_status(pair.pk, "Alive", "Alive")
    old_primary, old_secondary = pair.node("primary").address, pair.node("secondary").address
    page = admin_client.get(reverse("pair", args=[pair.pk])).content.decode()
    assert "Planned switchover</a>" in page

    writer = Writer(sandbox, "app-pw", base=7_000_000 + int(time.time()) % 1_000_000 * 10)
    writer.start()
    try:
        wait_for(lambda: len(writer.acknowledged) >= 20, 10, "the application to write on the primary")
        repair = _open(admin_client, sandbox, pair, "switchover")
        roles = {"promoted": "secondary", DEMOTED: "primary"}
        _step(admin_client, sandbox, repair, "read-only", roles, before="not yet")
        wait_for(lambda: writer.refused > 0, 10, "the read-only primary to refuse the application's insert")
        _step(admin_client, sandbox, repair, "caught-up", roles)
        _step(admin_client, sandbox, repair, "writable", roles)
        writer.target = "secondary"  # the applications are pointed at the new primary
        assert admin_client.post(reverse("repair-confirm", args=[pair.pk, repair.pk, "point-applications"])
                                 ).status_code == 302
        assert _check(admin_client, repair, "point-applications") == "done"
        assert admin_client.post(reverse("swap-roles", args=[pair.pk, repair.pk])).status_code == 302
        assert _check(admin_client, repair, "swap-roles") == "done"
        _step(admin_client, sandbox, repair, "replicate", roles)
        _step(admin_client, sandbox, repair, "verify", roles)
        count = len(writer.acknowledged)
        wait_for(lambda: len(writer.acknowledged) >= count + 20, 10, "the application to write on the new primary")
    finally:
        writer.stop.set()
        writer.join(5)
    wait_status(pair.pk, "Alive", "Alive", timeout=20)
    assert {n.role: n.address for n in Node.objects.filter(pair=pair)} == {"primary": old_secondary,
                                                                          "secondary": old_primary}
    ids = writer.acknowledged
    low, high = min(ids), max(ids)

    def on(role: str) -> list[int]:
        return [r["id"] for r in sandbox.sql(role, f"SELECT id FROM hapanel_sandbox.drill WHERE id BETWEEN {low} "
                                                   f"AND {high} ORDER BY id")]
    wait_for(lambda: on("primary") == ids and on("secondary") == ids, 15, "every row on both nodes")
    nodes = {r["node"] for r in sandbox.sql("secondary", "SELECT DISTINCT node FROM hapanel_sandbox.drill WHERE id "
                                                          f"BETWEEN {low} AND {high}")}
    assert nodes == {"primary", "secondary"}  # written on the old primary, then on the new one
    receivers.http.wait(1, '"roles-changed"')
    assert time.monotonic() - started < 90
