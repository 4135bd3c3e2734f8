"""A real Celery worker on Redis polls the real sandbox pair; each fault ends in the right statuses."""

from __future__ import annotations

import pytest

from monitor.models import Transition
from tests.waiting import flips, wait_status

# fault, HA cause, HA, replication status while broken
FAULTS = [
    ("crash-primary", "primary-down", "Failed", "Unknown"),
    ("stop-primary", "primary-down", "Failed", "Unknown"),
    ("cut-link", "link-cut", "Failed", "Alive"),
    ("break-replication", "apply-error", "Alive", "Failed"),
    ("stop-io", "stopped-by-operator", "Failed", "Alive"),
]


@pytest.mark.parametrize("fault,cause,ha,repl", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_flips_once_and_heals(worker, sandbox_pair, healthy, fault, cause, ha, repl):
    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    before_ha, before_repl = len(flips(pid, "ha")), len(flips(pid, "replication"))
    healthy.fault(fault)
    wait_status(pid, ha, repl, cause)
    healthy.heal()
    wait_status(pid, "Alive", "Alive")
    ha_flips, repl_flips = flips(pid, "ha")[before_ha:], flips(pid, "replication")[before_repl:]
    if ha == "Failed":
        assert ha_flips == [("Alive", "Failed", cause), ("Failed", "Alive", "ok")]
    else:
        assert ha_flips == []
    if repl != "Alive":
        assert [f[:2] for f in repl_flips] == [("Alive", repl), (repl, "Alive")]
    else:
        assert repl_flips == []


def test_hung_primary_is_failed_after_the_replica_gives_up(worker, sandbox_pair, healthy):
    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    healthy.fault("hang-primary")
    _, cause, repl, _ = wait_status(pid, "Failed", cause="primary-hung", timeout=20)
    assert repl == "Unknown"  # the primary, a replica too in a bidirectional pair, cannot be read
    healthy.heal()
    wait_status(pid, "Alive", "Alive")
    assert flips(pid, "ha") == [("Unknown", "Alive", "ok"), ("Alive", "Failed", "primary-hung"),
                                ("Failed", "Alive", "ok")]


def test_one_direction_cut_is_a_link_cut(worker, sandbox_pair, healthy):
    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    healthy.fault("cut-link", direction="to-secondary")
    wait_status(pid, "Failed", "Alive", cause="link-cut")
    evidence = Transition.objects.filter(pair_id=pid, kind="ha", new_status="Failed").get().evidence
    assert "secondary" in str(evidence)
    healthy.heal()
    wait_status(pid, "Alive", "Alive")


@pytest.mark.parametrize("mistake,cause", [("password", "monitor-auth-failure"), ("ca", "monitor-tls-failure")])
def test_monitor_misconfigured_is_unknown_not_failed(worker, sandbox_pair, healthy, mistake, cause):
    from devtools.sandbox.certs import make_ca
    from monitor.models import Node

    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    for node in Node.objects.filter(pair_id=pid):
        good = (node.monitor_password_enc, node.ca_cert)
        if mistake == "password":
            node.set_password("not-the-password")
        else:
            node.ca_cert = make_ca("some other CA")[0].decode()
        node.save()
    wait_status(pid, "Unknown", "Unknown", cause=cause)
    for node in Node.objects.filter(pair_id=pid):
        node.monitor_password_enc, node.ca_cert = good
        node.save()
    wait_status(pid, "Alive", "Alive")
    assert [f[:2] for f in flips(pid, "ha")] == [("Unknown", "Alive"), ("Alive", "Unknown"), ("Unknown", "Alive")]
