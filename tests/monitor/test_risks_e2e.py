"""Warnings before failures on the real sandbox pair: each warning is made to show on a real node, found by a
real checkup of both nodes, and cleared by the first checkup after the server is put right. The panel only
reads; the test changes the servers, and puts every setting back."""

from __future__ import annotations

from monitor import poller
from monitor.models import Pair, PairRisk
from monitor.vocabulary import Cause, RiskCode
from tests import risk_steps as steps
from tests.services import wait_for

DOWN = f"{RiskCode.BINLOG_PURGED}:primary→secondary"
HORIZON = f"{RiskCode.BINLOG_HORIZON}:primary→secondary"


def _durable(sandbox):
    """The sandbox runs MariaDB's default sync_binlog=0: made durable first, so the test sees one change."""
    return steps.setting(sandbox, "primary", "sync_binlog", 1), steps.setting(sandbox, "secondary", "sync_binlog", 1)


def test_sync_binlog_off_is_raised_and_cleared(sandbox_pair, healthy):
    first, second = _durable(healthy)
    with first, second:
        key = f"{RiskCode.DURABILITY}:primary"
        assert key not in steps.open_risks(sandbox_pair.pk)
        with steps.setting(healthy, "primary", "sync_binlog", 0):
            risk = steps.open_risks(sandbox_pair.pk)[key]
            assert risk.summary.startswith("the primary is not crash-safe: sync_binlog = 0")
            assert "SET GLOBAL sync_binlog = 1" in risk.remediation and "[mariadbd]" in risk.remediation
        assert key not in steps.open_risks(sandbox_pair.pk)
    episodes = PairRisk.objects.filter(pair=sandbox_pair, key=key)
    assert episodes.count() == 1 and episodes.get().cleared_at is not None


def test_colliding_auto_increment_offsets(sandbox_pair, healthy):
    key = f"{RiskCode.AUTO_INCREMENT}:pair"
    assert key not in steps.open_risks(sandbox_pair.pk)
    with steps.setting(healthy, "secondary", "auto_increment_offset", 1):
        risk = steps.open_risks(sandbox_pair.pk)[key]
        assert "the primary uses 2/1, the secondary 2/1" in risk.summary
    assert key not in steps.open_risks(sandbox_pair.pk)


def test_a_short_binlog_expiry(sandbox_pair, healthy):
    assert HORIZON not in steps.open_risks(sandbox_pair.pk)
    with steps.setting(healthy, "primary", "binlog_expire_logs_seconds", 3600):
        risk = steps.open_risks(sandbox_pair.pk)[HORIZON]
        assert risk.summary.startswith("the primary purges binary logs after 1 h 0 min")
    assert HORIZON not in steps.open_risks(sandbox_pair.pk)


def test_a_replica_away_counts_down_and_a_purged_log_says_rebuild(sandbox_pair, healthy):
    pid = sandbox_pair.pk
    with steps.setting(healthy, "primary", "binlog_expire_logs_seconds", 3 * 86400), \
            steps.secondary_stopped(healthy):
        poller.poll(Pair.objects.get(pk=pid))  # the regular poll records the stopped replica (Failed)
        risk = steps.open_risks(pid)[HORIZON]
        assert "the secondary has been away" in risk.summary and "left before it can no longer catch up" in \
            risk.summary, risk.summary
        assert DOWN not in steps.open_risks(pid)
        healthy.sql("primary", "INSERT INTO hapanel_sandbox.drill VALUES (9101, 'purged while away', 'primary')")
        steps.purge_all_but_newest(healthy, "primary")
        purged = steps.open_risks(pid)[DOWN]
        assert purged.severity == "critical" and "has purged binary logs the secondary still needs" in purged.summary
        assert "mariabackup" in purged.remediation
        # The replica asks for what is gone: the regular status has a cause of its own for it.
        healthy.sql("secondary", "START SLAVE")
        wait_for(lambda: healthy.replica_status("secondary").get("Last_IO_Errno") == 1236, 10, "error 1236")
        result = poller.poll(Pair.objects.get(pk=pid))
        assert result.health.replication.cause == Cause.BINLOG_MISSING
        # The rebuild, in short: the missed row written by hand, the replica resumed from the primary's position.
        healthy.sql("secondary", "SET sql_log_bin = 0",
                    "INSERT INTO hapanel_sandbox.drill VALUES (9101, 'purged while away', 'primary')")
    healthy.sql("primary", "DELETE FROM hapanel_sandbox.drill WHERE id = 9101")
    assert DOWN not in steps.open_risks(pid)
    assert [r.cleared_at is not None for r in PairRisk.objects.filter(pair_id=pid, key=DOWN)] == [True]


def test_a_missing_grant_is_said_and_named(sandbox_pair, healthy):
    with steps.monitor_without(healthy, "primary", "BINLOG MONITOR"):
        risk = steps.open_risks(sandbox_pair.pk)[DOWN]
        assert risk.severity == "unknown" and "cannot see the primary's binary logs" in risk.summary
        assert "GRANT BINLOG MONITOR ON *.*" in risk.remediation
    assert DOWN not in steps.open_risks(sandbox_pair.pk)


def test_an_errant_write_on_the_secondary(sandbox_pair, healthy):
    Pair.objects.filter(pk=sandbox_pair.pk).update(topology=Pair.ONE_WAY)
    key = f"{RiskCode.ERRANT_TRANSACTIONS}:secondary"
    assert key not in steps.open_risks(sandbox_pair.pk)
    try:
        with steps.primary_stopped(healthy):
            healthy.sql("secondary", "INSERT INTO hapanel_sandbox.drill VALUES (9102, 'errant', 'secondary')")
            gtid = steps.value(healthy, "secondary", "gtid_binlog_pos").split(",")[-1]
            risk = steps.open_risks(sandbox_pair.pk)[key]
            assert gtid.startswith("2-2-") and gtid in risk.summary and gtid in risk.remediation
        wait_for(lambda: healthy.sql("primary", "SELECT COUNT(*) AS n FROM hapanel_sandbox.drill WHERE id = 9102")
                 [0]["n"] == 1, 10, "the primary to fetch the secondary's write")
        assert key not in steps.open_risks(sandbox_pair.pk)
    finally:
        healthy.sql("primary", "DELETE FROM hapanel_sandbox.drill WHERE id = 9102")
