"""The crash watcher: a closed idle connection triggers one poll; a pair being polled triggers none, and its
poll runs as soon as the poll in flight is done."""

from __future__ import annotations

import socket
import threading
import time

from tests.services import wait_for
from tests.waiting import wait_status


def test_closed_idle_connection_triggers_once_and_busy_pair_never():
    from monitor.watch import Watcher

    fired: list[int] = []
    lock = threading.Lock()

    def on_closed(pair_ids: list[int]) -> None:
        with lock:
            fired.extend(pair_ids)

    watcher = Watcher(on_closed, tick=0.01)
    idle_server, idle_client = socket.socketpair()
    busy_server, busy_client = socket.socketpair()
    watcher.watch(1, [idle_client])
    watcher.watch(2, [busy_client])
    wait_for(lambda: watcher._thread is not None and watcher._thread.is_alive(), 2, "the watcher thread")

    watcher.unwatch(2)  # pair 2 starts a poll: its socket now carries answers
    busy_server.sendall(b"answer")
    idle_server.close()  # pair 1's server went away
    wait_for(lambda: fired == [1], 2, "one trigger for the closed connection")
    watcher.watch(2, [])  # the poll of pair 2 ends without a kept connection
    busy_server.close()
    assert fired == [1]


def test_the_watchers_poll_of_a_pair_in_flight_runs_once_that_poll_is_done(worker, sandbox_pair, healthy):
    """The poll in flight may have read the primary just before it died; giving up would leave the crash to
    the next regular poll, a whole interval later."""
    from monitor import coordination, scheduling, tasks

    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    client = coordination.redis()
    client.set(coordination.key("lock", pid), "a poll in flight", px=1200)  # as a long batch holds it
    released = time.time() + 1.2
    tasks._request_polls([pid])

    def urgent_polls() -> list[float]:
        raw = client.lrange(coordination.key("lag", pid), 0, -1)
        return [float(s.split(b":")[0]) for s in raw if s.endswith(b":x")]

    polls = wait_for(urgent_polls, 5, "the watcher's poll to run once the pair's lock is free")
    assert min(polls) >= released - 0.1, "the watcher's poll ran while another poll held the pair"

    # Both workers' watchers see a crash: when the poll in flight is itself urgent, one is enough.
    before = len(urgent_polls())
    client.set(coordination.key("lock", pid), scheduling.URGENT_TOKEN + "other", px=300)
    asked = time.time()
    tasks._request_polls([pid])
    wait_for(lambda: time.time() > asked + scheduling.URGENT_FOR, scheduling.URGENT_FOR + 1,
             "the urgent window to pass", interval=0.2)
    assert len(urgent_polls()) == before, "a second urgent poll ran behind an urgent one"
