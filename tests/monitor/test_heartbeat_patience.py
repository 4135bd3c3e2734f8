"""A heartbeat that arrives late but arrives is a slow replica, not a cut link (real sandbox, real delay)."""

from __future__ import annotations

import time

import pytest

from monitor.evaluate import evaluate
from monitor.probe.node import NodeProbe
from monitor.probe.pair import HEARTBEAT_WAIT, heartbeat_patience, heartbeat_wait, probe_pair
from tests.factories import node_target


def test_patience_follows_the_interval():
    assert heartbeat_patience(1.0, heartbeat_wait(1.0)) == HEARTBEAT_WAIT  # a cut still shows within a second
    assert heartbeat_patience(2.0, heartbeat_wait(2.0)) == 0.6
    assert heartbeat_patience(5.0, heartbeat_wait(5.0)) == 1.5
    assert heartbeat_patience(60.0, heartbeat_wait(60.0)) == 1.5


@pytest.mark.parametrize(("interval", "transit", "patience"), [
    (1.0, 0.0, 0.3),      # nothing measured yet
    (1.0, 0.004, 0.316),  # a LAN: a lost packet is sent again within the usual patience
    (1.0, 0.07, 0.58),    # 80 ms each way: a lost tail segment is sent again ~0.4 s after it, then crosses again
    (1.0, 0.2, 0.7),      # a very slow link: at most 0.7 of the interval, so a cut still shows within the next one
    (5.0, 0.07, 1.5),     # long intervals wait their own 1.5 s anyway
    (60.0, 1.0, 1.5),     # never more than HEARTBEAT_PATIENCE
])
def test_patience_covers_one_retransmission_on_a_slow_link(interval, transit, patience):
    assert heartbeat_patience(interval, heartbeat_wait(interval), transit) == pytest.approx(patience)


def test_a_late_heartbeat_at_a_long_interval_is_not_a_cut(healthy):
    before = healthy.replica_status("secondary")
    # MASTER_DELAY holds each event until a whole second after the source ran it: written just after a second
    # begins, the monitor's row shows on the secondary about 0.95 s later, past the 0.3 s wait.
    # The sandbox's own CHANGE MASTER: a bare one would also reset the heartbeat period to its default.
    change = healthy.change_master_sql(healthy.node("secondary"))
    healthy.sql("secondary", "STOP SLAVE", f"{change}, MASTER_DELAY = 1", "START SLAVE")
    try:
        healthy.wait_replicating()
        primary = NodeProbe(node_target(healthy, "primary"))
        secondary = NodeProbe(node_target(healthy, "secondary"))
        time.sleep(1.05 - time.time() % 1)  # aligns the write with the start of a second (see above)
        readings = probe_pair("p", "bidirectional", primary, secondary, interval=5.0)
        arrived = readings.secondary.peer_heartbeat
        assert arrived.caught_up, arrived
        assert arrived.age > heartbeat_wait(5.0), f"the row was not late ({arrived.age} s): the test proves nothing"
        health = evaluate(readings)
        assert (str(health.ha.status), health.ha.cause) == ("Alive", "ok"), health.ha.summary
    finally:
        healthy.sql("secondary", "STOP SLAVE", f"{change}, MASTER_DELAY = 0", "START SLAVE")
        healthy.wait_replicating()
    after = healthy.replica_status("secondary")
    for setting in ("Slave_heartbeat_period", "SQL_Delay", "Connect_Retry", "Master_SSL_Verify_Server_Cert"):
        assert after[setting] == before[setting], setting
