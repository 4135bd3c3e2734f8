"""Stored settings the probe cannot use, written straight into the database as a careless admin or an old
release might have: the pair shows Unknown with the reason, within one interval, and the others poll on."""

from __future__ import annotations

from monitor import causes, poller
from monitor.models import Node, Pair
from monitor.vocabulary import Cause
from tests.waiting import wait_status

BOM = "\ufeff"


def _break_ca(pair: Pair) -> None:
    """The CA of both nodes as Windows Notepad saves a file: a byte-order mark first, and a note in a non-ASCII
    language after (one node alone would leave HA Alive, seen through the other node's replica threads)."""
    for node in Node.objects.filter(pair=pair):
        Node.objects.filter(pk=node.pk).update(ca_cert=BOM + node.ca_cert + "\nZertifikat für Größe\n")


def _pair_page(client, pair: Pair) -> str:
    response = client.get(pair.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_a_ca_certificate_with_a_byte_order_mark_shows_unknown_with_the_reason(sandbox_pair, viewer_client):
    _break_ca(sandbox_pair)
    result = poller.poll(Pair.objects.get(pk=sandbox_pair.pk))
    assert result.health.ha.status == "Unknown"
    ha, ha_cause, repl, _ = wait_status(sandbox_pair.pk, "Unknown", timeout=1)
    assert ha_cause == "monitor-tls-failure" and repl == "Unknown"
    pair = Pair.objects.get(pk=sandbox_pair.pk)
    assert "non-ASCII" in pair.readings["primary"]["error"]
    assert "non-ASCII" in _pair_page(viewer_client, pair)


def test_any_failure_of_one_pair_is_recorded_and_the_rest_of_the_batch_is_polled(sandbox_pair, healthy,
                                                                                 viewer_client):
    from devtools.registry import register

    broken = register(healthy, name="broken")
    # A monitor password encrypted with a key this panel does not have: decrypting it raises.
    Node.objects.filter(pair=broken, role="secondary").update(monitor_password_enc="gAAAAA-not-a-fernet-token")
    for _ in range(2):  # the second poll goes the same way: no traceback loop, the same recorded reason
        results = poller.poll_many(list(poller.load([sandbox_pair.pk, broken.pk]).values()))
        assert results[sandbox_pair.pk].health.ha.status == "Alive"
        assert results[broken.pk].health.ha.status == "Unknown"
    pair = Pair.objects.get(pk=broken.pk)
    assert (pair.ha_status, pair.ha_cause, pair.repl_status, pair.repl_cause) == (
        "Unknown", "poll-error", "Unknown", "poll-error")
    assert "The monitor could not poll this pair (ValueError: stored password cannot be decrypted" in pair.ha_summary
    assert pair.health["ha"]["remediation"] == causes.remediation(Cause.POLL_ERROR, {})
    page = _pair_page(viewer_client, pair)
    assert "could not poll this pair" in page and "enter each node&#x27;s monitor password" in page
    assert "The worker&#x27;s log (`celery -A hapanel worker`" in page  # the runbook's own checks, not the node's log


def test_the_worker_shows_it_within_one_interval(worker, sandbox_pair):
    wait_status(sandbox_pair.pk, "Alive", "Alive")
    _break_ca(sandbox_pair)
    # One interval (1 s) and the worker's own latency; the staleness bound is 5 s.
    wait_status(sandbox_pair.pk, "Unknown", cause="monitor-tls-failure", timeout=3)
