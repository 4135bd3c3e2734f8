"""The crash watcher: a closed idle connection triggers one poll; a pair being polled triggers none."""

from __future__ import annotations

import socket
import threading

from tests.services import wait_for


def test_closed_idle_connection_triggers_once_and_busy_pair_never():
    from status.watch import Watcher

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
