"""Crash watcher: a thread that notices when a server closes a kept, idle monitor connection.

A killed or stopped mariadbd closes its sockets at once; the kept connection becomes readable
(EOF) long before the next poll would look. The watcher then asks for an immediate poll of that
pair, which is how a crash is seen in milliseconds rather than at the next tick.
"""

from __future__ import annotations

import logging
import selectors
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Watcher:
    def __init__(self, on_closed: Callable[[list[int]], None], tick: float = 0.05) -> None:
        self.on_closed = on_closed
        self.tick = tick
        self._lock = threading.Lock()
        # Changes are queued and applied by the watcher thread itself: a selector is not thread-safe,
        # and applying only the changes keeps a poll's cost independent of how many pairs are watched.
        self._changes: dict[int, list] = {}  # pair id -> sockets to watch now ([] = stop watching)
        self._thread: threading.Thread | None = None

    def watch(self, pair_id: int, sockets: list) -> None:
        with self._lock:
            self._changes[pair_id] = [s for s in sockets if s is not None]
            self._ensure_running()

    def unwatch(self, pair_id: int) -> None:
        with self._lock:
            self._changes[pair_id] = []

    def _ensure_running(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="hapanel-watch", daemon=True)
            self._thread.start()

    def _apply(self, sel: selectors.BaseSelector, watched: dict[int, list]) -> None:
        with self._lock:
            changes, self._changes = self._changes, {}
        for pair_id, sockets in changes.items():
            for sock in watched.pop(pair_id, []):
                try:
                    sel.unregister(sock)
                except (KeyError, ValueError, OSError):
                    pass
            kept = []
            for sock in sockets:
                try:
                    if sock.fileno() >= 0:
                        sel.register(sock, selectors.EVENT_READ, pair_id)
                        kept.append(sock)
                except (KeyError, ValueError, OSError):
                    continue
            if kept:
                watched[pair_id] = kept

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        watched: dict[int, list] = {}
        while True:
            self._apply(sel, watched)
            if not watched:
                threading.Event().wait(self.tick)
                continue
            try:
                events = sel.select(self.tick)
            except (OSError, ValueError):  # a socket was closed under us: start afresh
                sel.close()
                sel, stale = selectors.DefaultSelector(), watched
                watched = {}
                with self._lock:
                    for pair_id, sockets in stale.items():
                        self._changes.setdefault(pair_id, sockets)
                continue
            fired = {key.data for key, _ in events}
            with self._lock:
                # A pair with a change pending is being polled right now: its sockets are readable
                # because they carry the poll's own answers, not because the server went away.
                fired -= self._changes.keys()
            if not fired:
                continue
            for pair_id in fired:
                self.unwatch(pair_id)  # one trigger per closure; the next poll re-arms it
            try:
                # All at once: a crashed server closes the connections of every pair it serves.
                self.on_closed(sorted(fired))
            except Exception:  # noqa: BLE001 (the watcher must outlive a broker hiccup)
                log.exception("could not request an immediate poll of pairs %s", sorted(fired))
