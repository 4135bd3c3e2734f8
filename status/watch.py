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
    def __init__(self, on_closed: Callable[[int], None], tick: float = 0.05) -> None:
        self.on_closed = on_closed
        self.tick = tick
        self._lock = threading.Lock()
        self._wanted: dict[int, list] = {}  # pair id -> sockets to watch while the pair is idle
        self._version = 0
        self._thread: threading.Thread | None = None

    def watch(self, pair_id: int, sockets: list) -> None:
        with self._lock:
            self._wanted[pair_id] = [s for s in sockets if s is not None]
            self._version += 1
        self._ensure_running()

    def unwatch(self, pair_id: int) -> None:
        with self._lock:
            if self._wanted.pop(pair_id, None) is not None:
                self._version += 1

    def _ensure_running(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="hapanel-watch", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        seen_version = -1
        while True:
            with self._lock:
                if self._version != seen_version:
                    seen_version = self._version
                    wanted = {id(s): (pid, s) for pid, socks in self._wanted.items() for s in socks}
                else:
                    wanted = None
            if wanted is not None:
                for key in list(sel.get_map().values()):
                    sel.unregister(key.fileobj)
                for pid, sock in wanted.values():
                    try:
                        if sock.fileno() >= 0:
                            sel.register(sock, selectors.EVENT_READ, pid)
                    except (ValueError, OSError, KeyError):
                        continue
            if not sel.get_map():
                threading.Event().wait(self.tick)
                continue
            try:
                events = sel.select(self.tick)
            except (OSError, ValueError):
                seen_version = -1  # a socket was closed under us: rebuild
                continue
            fired = {key.data for key, _ in events}
            for pair_id in fired:
                self.unwatch(pair_id)  # one trigger per closure; the next poll re-arms it
                try:
                    self.on_closed(pair_id)
                except Exception:  # noqa: BLE001 (the watcher must outlive a broker hiccup)
                    log.exception("could not request an immediate poll of pair %s", pair_id)
