"""The rebuild assistant end to end: a broken secondary of the real sandbox pair, rebuilt by an admin who runs the
generated commands and statements step by step, with each step's check run from the page before and after.

The test is the operator: it runs each shell block with bash and each SQL block as root on the node it names.
Two things stand in for what a real host has: `systemctl stop/start` are the sandbox's own stop and start of the
node (with the options `systemctl set-environment MYSQLD_OPTS=...` gives), and the copy between the hosts is
skipped (both nodes share this machine, so the copy is already there).
"""

from __future__ import annotations

import shlex
import subprocess
import time

import pytest
from django.urls import reverse

from monitor.models import Node
from pairs.repair.models import Repair, RepairEvent
from pairs.repair.procedure import SQL, TRANSFER
from pairs.repair.rebuild import REPL_PASSWORD
from pairs.repair.service import procedure
from tests.services import wait_for
from tests.waiting import wait_status


@pytest.fixture
def rebuildable(healthy, sandbox_pair):
    """The sandbox pair registered by its replication addresses (so that the generated CHANGE MASTER is the
    sandbox's own); a rebuild that failed half-way leaves the sandbox started afresh for the next test."""
    for spec in healthy.nodes():
        Node.objects.filter(pair=sandbox_pair, role=spec.role).update(host=spec.repl_ip, known_as="127.0.0.1")
    yield healthy, sandbox_pair
    try:
        if not healthy.running("secondary"):
            healthy.start_node("secondary")
        healthy.wait_replicating(timeout=10)
        healthy.sql("secondary", "SET sql_log_bin = 0", "DROP USER IF EXISTS 'hapanel_repl'@'127.0.0.1'",
                    "DROP USER IF EXISTS 'hapanel_repl'@'127.0.0.2'")
    except Exception:  # noqa: BLE001 (whatever broke: the next test gets a sandbox that works)
        healthy.down()
        healthy.up()


def _tools_file(sandbox, role: str, folder) -> str:
    """An option file for the tools on a node's host: its server options and the root login over its socket."""
    spec = sandbox.node(role)
    path = folder / f"{role}-tools.cnf"
    path.write_text(f"!include {spec.cnf}\n[client]\nsocket = {spec.socket}\nuser = root\n")
    return str(path)


def _open(client, sandbox, pair, method: str, tmp_path) -> Repair:
    version = sandbox.sql("primary", "SELECT @@version AS v")[0]["v"]
    response = client.post(reverse("rebuild", args=[pair.pk]), {
        "target": "secondary", "method": method, "flavour": "mariadb", "version": version,
        "tls_dir": str(sandbox.pki), "datadir": str(sandbox.secondary.folder / "data"),
        "backup_dir": str(tmp_path / "copy"), "os_user": "mysql",
        "source_defaults": _tools_file(sandbox, "primary", tmp_path),
        "target_defaults": _tools_file(sandbox, "secondary", tmp_path),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    repair = Repair.objects.get(pair=pair)
    assert response["Location"] == reverse("repair", args=[pair.pk, repair.pk])
    return repair


def _check(client, repair: Repair, step: str) -> str:
    """Presses the step's Check button (htmx) and returns what the result box says."""
    response = client.post(reverse("repair-check", args=[repair.pair_id, repair.pk, step]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="result-{step}"' in html
    return html


def _state(html: str) -> str:
    return "done" if "<b>Done</b>" in html else "not yet" if "<b>Not yet</b>" in html else html


def _run(sandbox, repair: Repair, step_key: str) -> None:
    """Runs the step's blocks as the operator would, on the host each names."""
    step = procedure(repair).step(step_key)
    roles = {"target": repair.target, "source": "primary" if repair.target == "secondary" else "secondary"}
    for block in step.blocks:
        if block.host == TRANSFER:
            continue
        role = roles[block.host]
        if block.kind == SQL:
            sandbox.sql(role, *(line.rstrip(";").replace(REPL_PASSWORD, sandbox.state["repl_password"])
                                for line in block.lines))
            continue
        chunk: list[str] = []
        options: list[str] = []  # what `systemctl set-environment MYSQLD_OPTS=...` gives the next start
        for line in [*block.lines, ""]:
            if line.startswith("systemctl ") or not line:
                if chunk:
                    out = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(chunk)], capture_output=True,
                                         text=True, timeout=60)
                    assert out.returncode == 0, (step_key, chunk, out.stdout[-2000:], out.stderr[-2000:])
                    chunk = []
                if line.startswith("systemctl stop"):
                    sandbox.stop_node(role)
                elif line.startswith("systemctl start"):
                    sandbox.start_node(role, *options)
                elif line.startswith("systemctl set-environment MYSQLD_OPTS="):
                    options = shlex.split(line.split("=", 1)[1])
                elif line.startswith("systemctl unset-environment MYSQLD_OPTS"):
                    options = []
            else:
                chunk.append(line)


def _step(client, sandbox, repair: Repair, key: str, before: str | None) -> None:
    """Check (expecting `before`), run the step, check until done (replication takes a moment to connect), confirm."""
    if before:
        assert _state(_check(client, repair, key)) == before, key
    _run(sandbox, repair, key)
    seen = {}

    def done() -> bool:
        seen["html"] = _check(client, repair, key)
        return _state(seen["html"]) == "done"
    try:
        wait_for(done, 15, f"the check of {key} to say done", interval=0.3)
    except AssertionError as exc:
        # What a failed step leaves behind is the GTID state of both nodes: say it with the check's answer.
        gtids = {role: sandbox.sql(role, "SELECT @@gtid_slave_pos AS slave_pos, @@gtid_binlog_state AS binlog")
                 for role in ("primary", "secondary")}
        raise AssertionError(f"{exc}: {seen.get('html')} {gtids}") from None
    assert client.post(reverse("repair-confirm", args=[repair.pair_id, repair.pk, key])).status_code == 302


def _monitor_wrote_heartbeat_since(sandbox, pair, opened_at: float) -> None:
    """The copy carries the primary's heartbeat row: wait for the monitor's first write after the repair began."""
    key = f"%:{pair.pk}:primary"
    wait_for(lambda: (sandbox.sql("primary", f"SELECT MAX(ts) AS ts FROM hapanel_monitor.heartbeat WHERE origin "
                                              f"LIKE '{key}'")[0]["ts"] or 0) > opened_at, 10,
             "the monitor to write the primary's heartbeat after the repair began")


def _from_the_copy_on(client, sandbox, repair: Repair, pair) -> None:
    """The steps once the secondary is stopped: copy, restore, position, replication, the reverse, verify."""
    _monitor_wrote_heartbeat_since(sandbox, pair, repair.opened_at.timestamp())
    _step(client, sandbox, repair, "copy-source", "done")  # the primary could be copied all along
    _step(client, sandbox, repair, "restore", "not yet")
    _step(client, sandbox, repair, "position", "not yet")
    _step(client, sandbox, repair, "replicate", "not yet")
    _step(client, sandbox, repair, "reverse", None)  # the primary may have reconnected to the copy by itself
    _step(client, sandbox, repair, "verify", None)
    wait_status(pair.pk, "Alive", "Alive", timeout=15)  # the real poller (the worker) agrees
    actions = list(repair.events.order_by("id").values_list("action", "step", "result"))
    assert actions[0] == (RepairEvent.OPENED, "", "")
    assert (RepairEvent.CHECKED, "verify", "done") in actions
    assert {s for a, s, _ in actions if a == RepairEvent.CONFIRMED} == {s.key for s in procedure(repair).steps}
    page = client.get(reverse("pair", args=[pair.pk])).content.decode()
    assert "Repair log" in page and "ran the check" in page and "confirmed done" in page


def test_an_apply_error_rebuilt_with_a_dump(rebuildable, worker, admin_client, tmp_path):
    sandbox, pair = rebuildable
    started = time.monotonic()
    wait_status(pair.pk, "Alive", "Alive")
    # A conflicting row written on the secondary alone: the primary's insert of the same key stops it on 1062.
    sandbox.sql("secondary", "SET sql_log_bin = 0", "INSERT INTO hapanel_sandbox.drill VALUES (424242, 'x', 's')")
    sandbox.sql("primary", "INSERT INTO hapanel_sandbox.drill VALUES (424242, 'the primary''s', 'p')")
    wait_status(pair.pk, "Alive", "Failed", cause="apply-error")
    page = admin_client.get(reverse("pair", args=[pair.pk])).content.decode()
    assert "Rebuild the secondary from the primary</a>" in page

    repair = _open(admin_client, sandbox, pair, "dump", tmp_path)
    assert repair.baseline  # the primary's GTID position when the repair began
    _step(admin_client, sandbox, repair, "stop-target", "not yet")
    _from_the_copy_on(admin_client, sandbox, repair, pair)
    # The secondary holds the primary's row now, not its own conflicting one.
    assert sandbox.sql("secondary", "SELECT note FROM hapanel_sandbox.drill WHERE id = 424242") == [
        {"note": "the primary's"}]
    assert time.monotonic() - started < 60


def test_a_wiped_secondary_rebuilt_with_mariabackup(rebuildable, worker, admin_client, tmp_path):
    sandbox, pair = rebuildable
    started = time.monotonic()
    wait_status(pair.pk, "Alive", "Alive")
    sandbox.sql("primary", "INSERT INTO hapanel_sandbox.drill VALUES (434343, 'before the loss', 'p')")
    # The secondary's disk is lost: its server stopped, its data directory empty.
    sandbox.stop_node("secondary")
    subprocess.run(["find", str(sandbox.secondary.folder / "data"), "-mindepth", "1", "-delete"], check=True)
    wait_status(pair.pk, "Failed", cause="secondary-down")

    repair = _open(admin_client, sandbox, pair, "mariabackup", tmp_path)
    assert _state(_check(admin_client, repair, "stop-target")) == "done"  # it is down already
    _step(admin_client, sandbox, repair, "stop-target", None)
    _from_the_copy_on(admin_client, sandbox, repair, pair)
    assert sandbox.sql("secondary", "SELECT note FROM hapanel_sandbox.drill WHERE id = 434343") == [
        {"note": "before the loss"}]
    assert time.monotonic() - started < 60
