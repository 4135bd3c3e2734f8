"""Polling one pair: both nodes concurrently, then each direction's heartbeat. No Django here."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from monitor.probe.node import NodeProbe
from monitor.readings import NodeReading, PairReadings, Reach, plain

# Shared by every poll in the process: probes block on sockets, not on the CPU.
_POOL = ThreadPoolExecutor(max_workers=128, thread_name_prefix="probe")


HEARTBEAT_WAIT = 0.3  # seconds a replica may take to show this poll's heartbeat
HEARTBEAT_PATIENCE = 1.5  # the longest a late heartbeat is waited for, at long poll intervals
STALE_MARGIN = 0.2
# A row held up by one lost packet comes one TCP retransmission later: Linux waits at least 200 ms plus the
# round trip (two transits), then the row travels again (a third). 0.3 s and four transits cover it.
RETRANSMIT = 0.3
RETRANSMIT_TRANSITS = 4


def heartbeat_wait(interval: float, limit: float = HEARTBEAT_WAIT) -> float:
    """How long a replica may take to show this poll's heartbeat before it counts as late."""
    return max(0.05, min(limit, interval * 0.3))


def heartbeat_patience(interval: float, wait: float, transit: float = 0.0) -> float:
    """How long to keep asking for this poll's heartbeat once it is late, before the link counts as cut.

    A row that comes late but comes means a slow replica or a busy machine, not a cut link. With 1,000 pairs
    polled every 5 s on a 2-core machine, about one poll in 150 saw its row more than 0.5 s late, and each of
    them flipped its pair to `link-cut`. A third of the interval, so that a 1 s poll still shows a cut within
    about a second.

    On a slow link a lost packet holds the row up by a retransmission, which grows with the round trip:
    `transit` (the shortest time the replica's rows took to show lately) stretches the patience to cover one,
    up to 0.7 of the interval. On a WAN of 80 ms ± 20 ms each way with 1% loss, 0.3 s flipped a 1 s pair to
    `link-cut` for one poll in a 20-minute soak; on a LAN the transit is milliseconds and changes next to nothing.
    """
    patience = max(wait, min(HEARTBEAT_PATIENCE, interval * 0.3))
    after_a_loss = min(RETRANSMIT + RETRANSMIT_TRANSITS * transit, HEARTBEAT_PATIENCE, interval * 0.7)
    return max(patience, after_a_loss)


def heartbeat_stale_after(wait: float) -> float:
    """A heartbeat that did not arrive within the wait, and is older than this, means a silent link.

    Tied to the wait, not to the poll interval: re-polls of an unsettled pair write heartbeats more
    often, and a fixed one-second bound would let a cut hide behind their fresh rows.
    """
    return wait + STALE_MARGIN


def probe_pair(
    name: str, topology: str, primary: NodeProbe, secondary: NodeProbe, *,
    interval: float = 1.0, lag_warning: float = 5.0, wait_limit: float = HEARTBEAT_WAIT,
) -> PairReadings:
    # Phase 1: each node's own view, and the monitor's heartbeat written on each source.
    # Concurrent, so that a hung node costs its own timeout and never delays the other.
    # The primary is read in this thread: one hand-off per poll fewer, at a thousand pairs that counts.
    f_s = _POOL.submit(secondary.read)
    readings = {"primary": primary.read()}
    readings["secondary"] = f_s.result()
    probes = {"primary": primary, "secondary": secondary}

    # Phase 2: on each replica, the source's heartbeat row (waiting briefly for this poll's write).
    directions = [("primary", "secondary")]
    if topology == "bidirectional":
        directions.append(("secondary", "primary"))
    wait = heartbeat_wait(interval, wait_limit)
    calls = []
    for source, replica in directions:
        if readings[replica].reach is Reach.OK and not readings[replica].parse_error:
            src = probes[source]
            # A replica whose threads are not both running cannot show this poll's row: do not wait.
            flowing = any(c.io_running == "Yes" and c.sql_running == "Yes" for c in readings[replica].channels)
            patience = heartbeat_patience(interval, wait, probes[replica].transit)
            calls.append((replica, probes[replica].read_peer_heartbeat, src.target.origin, src.last_write_ts,
                          patience if flowing else 0))
    # Both directions wait side by side: the last one in this thread, the others in the pool.
    futures = [(replica, _POOL.submit(fn, *args)) for replica, fn, *args in calls[:-1]]
    for replica, fn, *args in calls[-1:]:
        readings[replica] = replace(readings[replica], peer_heartbeat=fn(*args))
    for replica, future in futures:
        readings[replica] = replace(readings[replica], peer_heartbeat=future.result())
    return PairReadings(
        name=name, topology=topology, primary=readings["primary"], secondary=readings["secondary"],
        poll_interval=interval, lag_warning=lag_warning, heartbeat_stale=heartbeat_stale_after(wait),
    )


def reading_dict(reading: NodeReading) -> dict:
    return plain(reading)
